"""Class prototypes in the projection-head space and the prototype contrastive loss of SPCL.

A prototype is the mean of the (L2-normalised) embeddings of the pixels pseudo-labelled as its
class. `PrototypeEstimator` keeps the exact running mean per class, as SePiCo's estimator does:
after seeing n_k pixels of class k, prototype k is their plain mean, however they were batched
(mean_k <- (mean_k * n_k + sum of new) / (n_k + new count)), kept in float64 so it stays exact.

With a momentum it keeps exponential moving prototypes instead (`PrototypeEstimator`), which follow the adapting
features. Its norm (of the exact mean) says how tight a class is: the mean of unit vectors has norm 1 when they all
agree and shrinks as they scatter, so falling norms, or two prototypes drawing together, warn of collapse.

`prototype_contrastive_loss` pulls each embedding towards its class's prototype and away from the
others: cross-entropy of (embedding . normalised prototypes^T / temperature) against the labels.
`rectified` weights a teacher's probabilities by the same similarities (ProDA's rectification).
Both also take other pixel-to-prototype logits: the mutual likelihood score of the probabilistic (Gaussian)
prototypes of `pppc` (SPCL's PROTOTYPES=probabilistic), through `dense_contrastive_loss` and `rectified(logits=)`.
`soft_contrastive_loss` is the contrast for pixels without a trusted label (SPCL's CONTRAST_TARGETS=soft): soft
targets from the teacher's prototype similarities, weighted by its margin from the decision boundary.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F  # noqa: N812

from ..distributed import reduce_sum
from ..metrics import IGNORE_INDEX


def _pixels(embeddings: Tensor, labels: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """(P, D) embeddings and (P,) labels of the pixels to use: labelled and inside `mask`.

    Embeddings come as (N, D, H, W) with labels (N, H, W), or already flat as (P, D) with (P,).
    """
    if embeddings.ndim == 4:
        if labels.shape != embeddings.shape[:1] + embeddings.shape[2:]:
            raise ValueError(f"labels {tuple(labels.shape)} do not fit embeddings {tuple(embeddings.shape)}")
        flat = embeddings.permute(0, 2, 3, 1)  # a view: only the kept pixels are copied below
    elif embeddings.ndim == 2:
        flat = embeddings
        labels = labels.reshape(-1)
        if labels.shape[0] != flat.shape[0]:
            raise ValueError(f"{labels.shape[0]} labels for {flat.shape[0]} embeddings")
    else:
        raise ValueError(f"embeddings must be (N, D, H, W) or (P, D), got {tuple(embeddings.shape)}")
    keep = labels != IGNORE_INDEX
    if mask is not None:
        keep = keep & mask.reshape(keep.shape).bool()
    return flat[keep], labels[keep].long()


class PrototypeEstimator:
    """Running prototypes per class: `mean (K, D)` and pixel `count (K,)`, float64.

    `momentum` 0: the exact running mean of every pixel seen. `momentum` m > 0: exponential moving prototypes,
    p <- normalise(m p + (1 - m) batch mean) for each class present in the update (a class seen for the first time
    starts at its normalised batch mean), so prototypes follow the adapting features and forget the first steps'
    source-like ones; their norm is then 1 and no longer measures how tight a class is. `momentum` may be changed
    between updates (SPCL starts the prototypes with the exact mean of its first pass, then moves them).
    """

    def __init__(self, num_classes: int, dim: int, device: torch.device | str = "cpu", momentum: float = 0.0) -> None:
        self.num_classes = int(num_classes)
        self.dim = int(dim)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"prototype momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.mean = torch.zeros(self.num_classes, self.dim, dtype=torch.float64, device=device)
        self.count = torch.zeros(self.num_classes, dtype=torch.float64, device=device)

    @torch.no_grad()
    def update(self, embeddings: Tensor, labels: Tensor, mask: Tensor | None = None) -> Tensor:
        """Fold in the embeddings of labelled pixels (inside `mask`); returns the pixels added per class."""
        feats, cls = _pixels(embeddings.detach(), labels, mask)
        added = torch.zeros_like(self.count)
        sums = torch.zeros_like(self.mean)
        if cls.numel():
            feats = feats.to(self.mean.device, torch.float64)
            cls = cls.to(self.mean.device)
            if int(cls.max()) >= self.num_classes:
                raise ValueError(f"label {int(cls.max())} out of range for {self.num_classes} classes")
            sums.index_add_(0, cls, feats)
            added.index_add_(0, cls, torch.ones_like(cls, dtype=torch.float64))
        reduce_sum(sums, added)  # under torchrun, in a step: the pixels of every process's batch (`distributed`)
        if not bool(added.any()):
            return added
        total = self.count + added
        if self.momentum > 0:
            present = added > 0
            batch_mean = sums[present] / added[present, None]
            old = self.mean[present]
            first = (self.count[present] == 0)[:, None]
            moved = torch.where(first, batch_mean, self.momentum * old + (1.0 - self.momentum) * batch_mean)
            self.mean[present] = F.normalize(moved, dim=1)
        else:
            seen = total > 0
            self.mean[seen] = (self.mean[seen] * self.count[seen, None] + sums[seen]) / total[seen, None]
        self.count = total
        return added

    @property
    def initialised(self) -> Tensor:
        """(K,) bool: classes with at least one pixel seen (the others have no prototype yet)."""
        return self.count > 0

    def prototypes(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The running means (K, D); zero rows for classes not seen yet."""
        return self.mean.to(dtype)

    def norms(self) -> Tensor:
        """(K,) L2 norm of each prototype: near 1 for a tight class, lower as its embeddings scatter."""
        return self.mean.norm(dim=1).float()

    def similarities(self) -> Tensor:
        """(K, K) cosine similarity between prototypes (0 for unseen classes)."""
        unit = F.normalize(self.mean.float(), dim=1)
        return unit @ unit.T

    def to(self, device: torch.device | str) -> PrototypeEstimator:
        self.mean = self.mean.to(device)
        self.count = self.count.to(device)
        return self

    def state_dict(self) -> dict[str, Tensor]:
        return {"mean": self.mean.detach().cpu().clone(), "count": self.count.detach().cpu().clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        mean, count = state["mean"], state["count"]
        if tuple(mean.shape) != (self.num_classes, self.dim) or tuple(count.shape) != (self.num_classes,):
            raise ValueError(
                f"prototype state of shape {tuple(mean.shape)} does not fit {self.num_classes} classes x {self.dim}"
            )
        self.mean = mean.to(self.mean.device, torch.float64).clone()
        self.count = count.to(self.count.device, torch.float64).clone()


def prototype_logits(embeddings: Tensor, prototypes: Tensor, temperature: float) -> Tensor:
    """(P, K) similarities embedding . prototype / temperature, prototypes L2-normalised first."""
    unit = F.normalize(prototypes.to(embeddings.dtype), dim=1)
    return embeddings @ unit.T / float(temperature)


def dense_prototype_logits(embeddings: Tensor, prototypes: Tensor, temperature: float) -> Tensor:
    """(N, K, H, W) similarities embedding . prototype / temperature of (N, D, H, W) embeddings, prototypes
    L2-normalised first (constants: no gradient reaches them): a 1x1 convolution, no pixel gathered."""
    unit = F.normalize(prototypes.detach().float(), dim=1).to(embeddings.device, embeddings.dtype)
    return F.conv2d(embeddings, unit[:, :, None, None]) / float(temperature)


def rectified(probs: Tensor, embedding: Tensor | None, prototypes: Tensor | None, known: Tensor, temperature: float,
              stride: int, logits: Tensor | None = None) -> Tensor:
    """Probabilities (N, K, H, W) times each pixel's softmax over the classes of embedding . prototype / temperature,
    renormalised (ProDA's online pseudo-label rectification): a pixel the classifier gives to one class but whose
    embedding lies by another class's prototype loses confidence, or changes label. `embedding` is on the
    `stride` grid; classes without a prototype (`known` False) keep a neutral weight of 1 / K. `logits` (N, K, h, w)
    on that grid replace the point similarities (the MLS of probabilistic prototypes, `pppc`)."""
    k = probs.shape[1]
    if logits is None:
        assert embedding is not None and prototypes is not None
        logits = dense_prototype_logits(embedding, prototypes, temperature)
    weight = logits
    known = known.to(weight.device)
    weight = weight.masked_fill(~known[None, :, None, None], float("-inf")).softmax(dim=1)
    weight = weight * (known.sum().to(weight.dtype) / k)  # known classes share what unknown ones leave (1 / K each)
    weight = torch.where(known[None, :, None, None], weight, torch.full_like(weight, 1.0 / k))
    if stride > 1:
        weight = weight.repeat_interleave(stride, dim=2).repeat_interleave(stride, dim=3)
    weight = weight[..., : probs.shape[2], : probs.shape[3]]
    out = probs * weight
    return out / out.sum(dim=1, keepdim=True).clamp_min(1e-12)


def prototype_contrastive_loss(
    embeddings: Tensor,
    labels: Tensor,
    prototypes: Tensor,
    temperature: float,
    mask: Tensor | None = None,
    known: Tensor | None = None,
) -> Tensor:
    """Mean cross-entropy of (embedding . normalised prototypes^T / temperature) against `labels`.

    `embeddings` (N, D, H, W) with `labels` (N, H, W), or (P, D) with (P,); IGNORE_INDEX labels and
    pixels outside `mask` are left out, and so are pixels whose class is not `known` (K,) bool (a
    class without a prototype yet gives no target). Returns 0 (with a graph) when no pixel is left.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if embeddings.ndim == 4:
        return dense_contrastive_loss(dense_prototype_logits(embeddings, prototypes, temperature), labels, mask, known)
    feats, cls = _pixels(embeddings, labels, mask)
    if known is not None and cls.numel():
        keep = known.to(cls.device)[cls]
        feats, cls = feats[keep], cls[keep]
    if cls.numel() == 0:
        return embeddings.sum() * 0.0
    logits = prototype_logits(feats.float(), prototypes.detach().float().to(feats.device), temperature)
    return F.cross_entropy(logits, cls)


def dense_contrastive_loss(logits: Tensor, labels: Tensor, mask: Tensor | None = None,
                           known: Tensor | None = None) -> Tensor:
    """Mean cross-entropy of pixel-to-prototype `logits` (N, K, H, W) against `labels` (N, H, W), without gathering
    pixels: those left out (IGNORE_INDEX, outside `mask`, class not `known`) get IGNORE_INDEX. The (N, D, H, W) case
    of `prototype_contrastive_loss` (logits embedding . prototype / temperature, a 1x1 convolution), and of the
    probabilistic prototypes (logits the MLS, `pppc`). Returns 0 (with a graph) when no pixel is left."""
    target = labels.long()
    keep = target != IGNORE_INDEX
    if mask is not None:
        keep = keep & mask.bool()
    if known is not None:
        keep = keep & known.to(target.device)[target.clamp(max=known.shape[0] - 1)]
    if not bool(keep.any()):
        return logits.sum() * 0.0
    target = torch.where(keep, target, torch.full_like(target, IGNORE_INDEX))
    return F.cross_entropy(logits.float(), target, ignore_index=IGNORE_INDEX)


def margin_weights(probs: Tensor) -> Tensor:
    """(N, H, W) the teacher's margin from its decision boundary, top-1 minus top-2 probability of `probs`
    (N, K, H, W): 0 on the boundary between two classes, 1 for a certain pixel (1 everywhere with one class)."""
    if probs.shape[1] < 2:
        return torch.ones_like(probs[:, 0])
    top = probs.topk(2, dim=1).values
    return top[:, 0] - top[:, 1]


def soft_contrastive_loss(logits: Tensor, teacher_logits: Tensor, weight: Tensor, mask: Tensor,
                          known: Tensor | None = None) -> Tensor:
    """Prototype contrast with soft targets, for the hard pixels the teacher is not sure of (CONTRAST_TARGETS soft).

    Each pixel inside `mask` (N, H, W) bool enters with the target softmax(`teacher_logits`) (N, K, H, W), the
    teacher's embedding . prototype / temperature (or the MLS of probabilistic prototypes), and the loss is the
    mean over those pixels of `weight` x the cross-entropy of the student's `logits` (the same similarities of its
    embedding) against that target. Classes not `known` (no prototype yet) are left out of both softmaxes.

    Why soft targets from prototypes: `dense_contrastive_loss` needs a hard label, and the only one for a hard pixel
    is the classifier's argmax, which below CONF_THRESHOLD is too often wrong to be pulled towards, so those pixels
    got no signal at all. SPCL's premise is that the class clusters of the embedding space move less under a shift
    than the classifier's boundary: the teacher's similarity to the prototypes is the signal that premise trusts,
    and as a distribution it keeps the teacher's doubt (a pixel between two clusters is pulled to both, not
    committed to one), a distillation of the teacher's prototype assignment into the student's embedding.

    Why weights from the margin (`margin_weights`, the classifier's top-1 minus top-2 probability) and not the
    top-1 probability or a threshold: a threshold is a step (full pull at 0.9, none at 0.89); the margin fades
    continuously to 0 at the decision boundary, where neither the classifier nor, often, the prototypes can tell
    the classes apart and a pull would only move the pixel at random (a target near uniform still has gradient);
    the top-1 probability would stay at 1/2 there with two classes. The weight is not renormalised over the batch
    (the sum is over the pixels in `mask`): a batch of ambiguous pixels adds little loss, as it should. Returns 0
    (with a graph) when no pixel is in `mask`.
    """
    keep = mask.bool()
    if not bool(keep.any()):
        return logits.sum() * 0.0
    student = logits.float()
    teacher = teacher_logits.detach().float()
    if known is not None:
        unknown = ~known.to(student.device).bool()[None, :, None, None]
        if bool(unknown.all()):
            return logits.sum() * 0.0
        teacher = teacher.masked_fill(unknown, float("-inf"))
        student = student.masked_fill(unknown, float("-inf"))
    target = teacher.softmax(dim=1)
    log_p = student.log_softmax(dim=1)
    per_pixel = -(target * torch.where(target > 0, log_p, torch.zeros_like(log_p))).sum(dim=1)
    w = weight.detach().float() * keep.float()
    return (w * per_pixel).sum() / keep.sum().float()

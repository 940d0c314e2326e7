"""Probabilistic prototypes for SPCL (PROTOTYPES=probabilistic): PPPC's Gaussian pixel embeddings and
prototypes, compared by the mutual likelihood score.

PPPC ("Reducing semantic ambiguity in domain adaptive semantic segmentation via probabilistic prototypical
pixel contrast", Hao, Liu, Feng and Zhu 2024, arXiv:2409.18543, on SePiCo / DAFormer) models each pixel
embedding as a Gaussian N(mu_i, diag(sigma2_i)) and each class prototype as a Gaussian N(m_k, diag(v_k)), and
measures pixel-to-prototype similarity by the mutual likelihood score of probabilistic face embeddings (PFE,
Shi & Jain 2019).
What is implemented here, per pixel i, class k and embedding dimension d = 1..D:

- **Pixel Gaussian.** mu_i is the model's L2-normalised projection-head embedding; log sigma2_i comes from a
  *variance head* beside the projection head: 1x1 conv - BN - ReLU - 1x1 conv on the same decoder features
  (`VarianceHead`), clamped to [log 1e-4, 0]. Its last layer starts at zero weight and bias log(TEMPERATURE / 2),
  so every variance starts at TEMPERATURE / 2 (see the MLS below for why).
- **Mutual likelihood score** (PFE's eq. 3 without its constant -D/2 log 2 pi, which no softmax sees):

      MLS(i, k) = -1/2 sum_d [ (mu_id - m^_kd)^2 / (sigma2_id + v_kd) + log(sigma2_id + v_kd) ]

  with m^_k = m_k / |m_k| (the unit prototype direction, as PPPC normalises both means). A pixel with a
  high variance scores lower against every prototype, and its scores differ less between classes: it pulls
  less. With all sigma2_id + v_kd equal to t, MLS(i, k) = mu_i . m^_k / t + const(i): the point logits
  mu . m^ / TEMPERATURE of SPCL at t = TEMPERATURE; hence the variances' start at TEMPERATURE / 2 each.
- **Gaussian prototypes** from the teacher's confident easy pixels (as the point prototypes), kept as exact
  running sums over every pixel seen (`GaussianPrototypeEstimator`), precision-weighted per dimension,
  w_id = 1 / sigma2_id:

      m_kd = sum_i w_id mu_id / sum_i w_id
      v_kd = sum_i w_id (sigma2_id + (mu_id - m^_kd)^2) / sum_i w_id

  i.e. the precision-weighted mean of the class's embeddings, and the variance (about the unit direction
  m^_k that the MLS compares with) of the class's Gaussian mixture: the pixels' own variances plus their
  spread. Ambiguous pixels (high variance) move the prototype less.
- **Where the point similarities were used:** the contrastive loss on SPCL's confident hard pixels is the
  cross-entropy of softmax_k MLS(i, k) against the pseudo-label (`prototypes.prototype_contrastive_loss`
  with these logits), and ProDA's rectification weights the teacher's probabilities by softmax_k MLS(i, k)
  of the teacher's embedding and variance (`prototypes.rectified`). The rectified probabilities are SPCL's
  soft targets: their argmax is the ClassMix pseudo-label and their maximum the confidence that selects
  confident pixels and weights the mixed cross-entropy (MIX_WEIGHTING, EASY_WEIGHT), so the variances reach
  those too. SPCL has no other similarity-based term, so there is nowhere else to use it.

Where this differs from the paper (and the authors' code):
- Source-free: the authors' code estimates the prototypes from the EMA model's embeddings of labelled source
  pixels; here they come from the teacher's confident pixels of the partition's easy target blocks (as SPCL's
  point prototypes), and the contrast applies to the confident hard target pixels only.
- MLS sums over the dimensions (PFE's definition); the authors' code averages (`.mean(-1)`) and divides the
  logits by a temperature. Summing, the variances themselves play the temperature's part (above).
- Prototype variance: the paper estimates the prototype as a posterior (precision-weighted mean, variance
  1 / sum 1 / sigma2, which shrinks towards 0 as pixels accumulate and needs a momentum update to stay
  useful); here it is the moment-matched variance of the class's pixels, which does not vanish, so the
  running estimate can stay exact (every pixel counts once, however batched, as for the point prototypes).
- No KL (VIB) regulariser on the pixel Gaussians (the authors weight it 1e-6): sigma2_i + v_k is bounded
  below by the prototype's variance and log sigma2 is clamped, which is what that term guards against.
- The ambiguity-driven crop selection of the paper is not used: SPCL's easy / hard partition chooses
  where the contrast applies (its hard blocks).
- The variance head exists only during adaptation: the adapted checkpoint is the segmentation model
  (inference does not need a variance); the resume state keeps the head (student and EMA teacher).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from ..distributed import reduce_sum
from .prototypes import PrototypeEstimator, _pixels

LOG_VAR_MIN = math.log(1e-4)
LOG_VAR_MAX = 0.0  # variance at most 1 per dimension (a unit embedding's dimensions vary far less)
PROTOTYPE_KINDS = ("point", "probabilistic")


class VarianceHead(nn.Module):
    """Per-pixel log-variance of the embedding: 1x1 conv - BN - ReLU - 1x1 conv to `embedding_dim`, clamped.

    Starts at log(`initial_variance`) everywhere (last layer: zero weight, that bias)."""

    def __init__(self, in_channels: int, embedding_dim: int, initial_variance: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, embedding_dim, 1, bias=False),
            nn.BatchNorm2d(embedding_dim),
            nn.ReLU(inplace=True),
        )
        self.out = nn.Conv2d(embedding_dim, embedding_dim, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.constant_(self.out.bias, math.log(float(initial_variance)))

    def forward(self, features: Tensor) -> Tensor:
        return self.out(self.body(features)).clamp(LOG_VAR_MIN, LOG_VAR_MAX)


def variance_head_for(model: nn.Module, initial_variance: float) -> VarianceHead:
    """A variance head for `model`'s projection head (same input features, same embedding size)."""
    proj = model.projection_head.proj
    return VarianceHead(int(proj[0].in_channels), int(proj[-1].out_channels), initial_variance)


@contextmanager
def _projection_input(model: nn.Module) -> Iterator[list[Tensor]]:
    """Captures what `model.projection_head` is given (the decoder features, on the embedding's grid)."""
    seen: list[Tensor] = []
    handle = model.projection_head.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    try:
        yield seen
    finally:
        handle.remove()


def forward_gaussian(model: nn.Module, head: nn.Module, x: Tensor, embed: bool = True,
                     stride: int = 1) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """(logits, embedding mean, embedding log-variance) of `x`; the last two None when `embed` is False.

    The variance head runs on the features the model's projection head runs on (same pixels, same grid)."""
    if not embed:
        return model(x, False).logits, None, None
    with _projection_input(model) as seen:
        logits, embedding = model(x, True, stride)
    return logits, embedding, head(seen[-1])


def mutual_likelihood_score(mu: Tensor, log_var: Tensor, proto_mean: Tensor, proto_var: Tensor) -> Tensor:
    """(P, K) MLS of P pixel Gaussians (mu (P, D) unit, log_var (P, D)) against K prototypes (mean (K, D),
    normalised here; variance (K, D)); see the module doc."""
    unit = F.normalize(proto_mean.to(mu.dtype), dim=1)
    var = log_var.exp()[:, None, :] + proto_var.to(mu.dtype)[None]  # (P, K, D)
    diff = (mu[:, None, :] - unit[None]) ** 2
    return -0.5 * (diff / var + var.log()).sum(dim=2)


def dense_mutual_likelihood_score(mu: Tensor, log_var: Tensor, proto_mean: Tensor, proto_var: Tensor) -> Tensor:
    """(N, K, H, W) MLS of (N, D, H, W) pixel Gaussians against K prototypes (constants: no gradient reaches them)."""
    unit = F.normalize(proto_mean.detach().float(), dim=1).to(mu.device, mu.dtype)
    pvar = proto_var.detach().to(mu.device, mu.dtype)
    var = log_var.exp()[:, None] + pvar[None, :, :, None, None]  # (N, K, D, H, W)
    diff = (mu[:, None] - unit[None, :, :, None, None]) ** 2
    return -0.5 * (diff / var + var.log()).sum(dim=2)


class GaussianPrototypeEstimator(PrototypeEstimator):
    """Gaussian class prototypes as exact running sums (float64): per class and dimension the precision weight
    `weight` = sum w, `first` = sum w mu, `second` = sum w (sigma2 + mu^2), and the pixel `count`; `mean` (the
    precision-weighted mean, what `prototypes()` gives) and `variance()` follow (module doc)."""

    VARIANCE_FLOOR = 1e-6

    def __init__(self, num_classes: int, dim: int, device: torch.device | str = "cpu") -> None:
        super().__init__(num_classes, dim, device)
        self.weight = torch.zeros(self.num_classes, self.dim, dtype=torch.float64, device=device)
        self.first = torch.zeros_like(self.weight)
        self.second = torch.zeros_like(self.weight)

    @torch.no_grad()
    def update(self, embeddings: Tensor, labels: Tensor, mask: Tensor | None = None,
               log_var: Tensor | None = None) -> Tensor:
        """Fold in labelled pixels' Gaussians (mean `embeddings`, `log_var` alike shaped; returns pixels added
        per class). Without `log_var` every pixel has variance 1: plain means (and spreads + 1)."""
        feats, cls = _pixels(embeddings.detach(), labels, mask)
        added = torch.zeros_like(self.count)
        weight, first, second = (torch.zeros_like(self.weight) for _ in range(3))
        if cls.numel():
            if log_var is None:
                var = torch.ones_like(feats)
            else:
                var, _ = _pixels(log_var.detach(), labels, mask)
                var = var.exp()
            feats = feats.to(self.weight.device, torch.float64)
            var = var.to(self.weight.device, torch.float64)
            cls = cls.to(self.weight.device)
            if int(cls.max()) >= self.num_classes:
                raise ValueError(f"label {int(cls.max())} out of range for {self.num_classes} classes")
            w = 1.0 / var
            weight.index_add_(0, cls, w)
            first.index_add_(0, cls, w * feats)
            second.index_add_(0, cls, w * (var + feats * feats))
            added.index_add_(0, cls, torch.ones_like(cls, dtype=torch.float64))
        reduce_sum(weight, first, second, added)  # under torchrun, in a step: every process's pixels (`distributed`)
        if not bool(added.any()):
            return added
        self.weight += weight
        self.first += first
        self.second += second
        self.count = self.count + added
        seen = self.count > 0
        self.mean = torch.where(seen[:, None], self.first / self.weight.clamp_min(1e-300), torch.zeros_like(self.mean))
        return added

    def variance(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """(K, D) variance of each class's Gaussian about its unit direction (1 for classes not seen yet)."""
        unit = F.normalize(self.mean, dim=1)
        w = self.weight.clamp_min(1e-300)
        var = self.second / w - 2.0 * unit * self.first / w + unit * unit
        var = torch.where(self.initialised[:, None], var.clamp_min(self.VARIANCE_FLOOR), torch.ones_like(var))
        return var.to(dtype)

    def to(self, device: torch.device | str) -> GaussianPrototypeEstimator:
        super().to(device)
        self.weight, self.first, self.second = (t.to(device) for t in (self.weight, self.first, self.second))
        return self

    def state_dict(self) -> dict[str, Tensor]:
        out = super().state_dict()
        out.update({k: getattr(self, k).detach().cpu().clone() for k in ("weight", "first", "second")})
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        for k in ("weight", "first", "second"):
            value = state[k]
            if tuple(value.shape) != (self.num_classes, self.dim):
                raise ValueError(f"Gaussian prototype {k} of shape {tuple(value.shape)} does not fit "
                                 f"{self.num_classes} classes x {self.dim}")
            setattr(self, k, value.to(self.weight.device, torch.float64).clone())

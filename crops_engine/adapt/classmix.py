"""Confidence-weighted ClassMix: paste the pixels of some classes of one block onto another.

ClassMix (Olsson et al. 2021, used by DACS) cuts, along the teacher's pseudo-labels, the pixels of a
random subset of the classes present in a source block and pastes them, image and pseudo-label
alike, onto a destination block: the student sees new context around real objects, and the mixed
label is exact by construction wherever the pseudo-labels are right. In SPCL the source is an easy
block (whose pseudo-labels are trustworthy) and the destination a hard one.

The subset is drawn per block: when a block holds two or more classes, a random non-empty proper
subset (so, with two classes, one of them), never all or none of them; a block holding one class
is pasted whole or not at all, with even odds. So even with two classes the mix is a real mix.

Each mixed pixel's cross-entropy is weighted by how much its pseudo-label can be trusted: the
teacher's confidence on that pixel (`confidence`), or, as in DACS, the share of the mixed block's
pixels whose confidence reaches the threshold (`share`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from ..metrics import IGNORE_INDEX

WEIGHTINGS = ("confidence", "share")


class MixedBatch(NamedTuple):
    """A ClassMix batch: `image (N, C, H, W)`, `valid`, `labels` (IGNORE_INDEX where invalid),
    `weight (N, H, W)` per-pixel loss weight, and `mask` (True where the pixel came from the pasted block)."""

    image: Tensor
    valid: Tensor
    labels: Tensor
    weight: Tensor
    mask: Tensor


def choose_classes(present: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """(K,) bool: a random subset of the `present` (K,) bool classes to paste.

    Two or more present: a uniformly drawn non-empty proper subset; one: it, with probability 1/2;
    none: nothing.
    """
    classes = torch.nonzero(present.cpu()).flatten()
    chosen = torch.zeros(present.shape[0], dtype=torch.bool)
    n = int(classes.numel())
    if n == 0:
        return chosen
    if n == 1:
        if float(torch.rand(1, generator=generator)) < 0.5:
            chosen[classes] = True
        return chosen
    # size uniform in 1..n-1, then that many distinct classes
    size = int(torch.randint(1, n, (1,), generator=generator))
    pick = classes[torch.randperm(n, generator=generator)[:size]]
    chosen[pick] = True
    return chosen


def class_mix_masks(
    labels: Tensor, valid: Tensor, num_classes: int, generator: torch.Generator | None = None
) -> Tensor:
    """(N, H, W) bool paste masks: per block, the valid pixels whose label is in its chosen classes.

    `labels (N, H, W)` are the source blocks' class indices (argmax pseudo-labels; IGNORE_INDEX and
    invalid pixels are never pasted).
    """
    n = labels.shape[0]
    masks = torch.zeros(labels.shape, dtype=torch.bool, device=labels.device)
    usable = valid.bool() & (labels != IGNORE_INDEX)
    for i in range(n):
        present = torch.zeros(num_classes, dtype=torch.bool)
        found = torch.unique(labels[i][usable[i]]).cpu()
        present[found[found < num_classes]] = True
        chosen = choose_classes(present, generator).to(labels.device)
        if bool(chosen.any()):
            masks[i] = usable[i] & chosen[labels[i].clamp(max=num_classes - 1)]
    return masks


def mix(mask: Tensor, pasted: Tensor, base: Tensor) -> Tensor:
    """`pasted` where `mask`, `base` elsewhere; a (N, H, W) mask broadcasts over (N, C, H, W) tensors."""
    m = mask
    if pasted.ndim == 4 and m.ndim == 3:
        m = m.unsqueeze(1)
    return torch.where(m, pasted, base)


def mix_weights(
    confidence: Tensor, valid: Tensor, weighting: str = "confidence", threshold: float = 0.9
) -> Tensor:
    """Per-pixel loss weights (N, H, W) of a mixed batch from its mixed teacher `confidence`.

    `confidence`: the confidence itself; `share`: per block, the share of its valid pixels whose
    confidence reaches `threshold` (DACS). 0 on invalid pixels.
    """
    v = valid.to(confidence.dtype)
    if weighting == "confidence":
        return confidence * v
    if weighting == "share":
        confident = ((confidence >= threshold).to(confidence.dtype) * v).sum(dim=(1, 2))
        share = confident / v.sum(dim=(1, 2)).clamp_min(1.0)
        return share[:, None, None] * v
    raise ValueError(f"weighting {weighting!r} is not one of {', '.join(WEIGHTINGS)}")


def class_mix(
    pasted_image: Tensor,
    pasted_valid: Tensor,
    pasted_labels: Tensor,
    pasted_confidence: Tensor,
    base_image: Tensor,
    base_valid: Tensor,
    base_labels: Tensor,
    base_confidence: Tensor,
    num_classes: int,
    generator: torch.Generator | None = None,
    weighting: str = "confidence",
    threshold: float = 0.9,
) -> MixedBatch:
    """Paste randomly chosen classes of block i of `pasted_*` onto block i of `base_*`.

    Labels are argmax pseudo-labels (class indices, IGNORE_INDEX where invalid), confidences the
    teacher's max probabilities. The mixed labels are IGNORE_INDEX wherever the mixed pixel is invalid.
    """
    mask = class_mix_masks(pasted_labels, pasted_valid, num_classes, generator)
    image = mix(mask, pasted_image, base_image)
    valid = mix(mask, pasted_valid.bool(), base_valid.bool())
    labels = mix(mask, pasted_labels, base_labels)
    labels = torch.where(valid, labels, torch.full_like(labels, IGNORE_INDEX))
    confidence = mix(mask, pasted_confidence, base_confidence)
    weight = mix_weights(confidence, valid, weighting, threshold)
    return MixedBatch(image, valid, labels, weight, mask)


def unmixed(image: Tensor, valid: Tensor, labels: Tensor, confidence: Tensor, weighting: str = "confidence",
            threshold: float = 0.9) -> MixedBatch:
    """The blocks as they are, as a MixedBatch with nothing pasted and the same weights: SPCL without ClassMix."""
    valid = valid.bool()
    labels = torch.where(valid, labels, torch.full_like(labels, IGNORE_INDEX))
    return MixedBatch(image, valid, labels, mix_weights(confidence, valid, weighting, threshold),
                      torch.zeros_like(valid))

"""Segmentation losses: cross-entropy with an ignore label, class weights, soft Dice, and the
per-pixel pieces the adaptation losses are made of (weighted cross-entropy, masked mean, entropy).

Pixels labelled IGNORE_INDEX (255: unlabelled, nodata, padding, no pseudo-label) contribute nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from .commands import declared_choices
from .errors import CropsError
from .metrics import IGNORE_INDEX

CLASS_WEIGHTING = declared_choices("train-source", "CLASS_WEIGHTS")


def balanced_class_weights(pixel_counts: Sequence[int] | np.ndarray, power: float = 0.5) -> np.ndarray:
    """Weight per class ~ frequency ** -power, normalised to a pixel-weighted mean of 1.

    Square-root inverse frequency (power 0.5) lifts rare classes without letting a handful of
    pixels dominate. A class without pixels gets weight 0 (it cannot occur in the loss anyway).
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    if counts.sum() <= 0:
        raise CropsError("No labelled pixel to compute class weights from.")
    freq = counts / counts.sum()
    weights = np.where(freq > 0, np.power(np.where(freq > 0, freq, 1.0), -power), 0.0)
    return weights / (weights * freq).sum()


def dice_loss(logits: Tensor, target: Tensor, ignore_index: int = IGNORE_INDEX, eps: float = 1.0) -> Tensor:
    """1 - mean soft Dice over the classes present in the batch (reference or prediction), labelled pixels only."""
    num_classes = logits.shape[1]
    keep = (target != ignore_index).unsqueeze(1)
    probs = logits.float().softmax(dim=1) * keep
    onehot = F.one_hot(torch.where(keep.squeeze(1), target, 0), num_classes).permute(0, 3, 1, 2) * keep
    dims = (0, 2, 3)
    intersection = (probs * onehot).sum(dims)
    total = probs.sum(dims) + onehot.sum(dims)
    present = onehot.sum(dims) > 0
    dice = (2 * intersection + eps) / (total + eps)
    if not present.any():
        return logits.sum() * 0.0
    return 1.0 - dice[present].mean()


class SegmentationLoss(nn.Module):
    """Cross-entropy (ignore 255, optional class weights) + `dice_weight` x soft Dice.

    A batch without any labelled pixel gives a zero loss that still has a graph, so the
    training step needs no special case.
    """

    def __init__(
        self,
        class_weights: Sequence[float] | np.ndarray | None = None,
        dice_weight: float = 0.0,
        ignore_index: int = IGNORE_INDEX,
    ) -> None:
        super().__init__()
        if dice_weight < 0:
            raise CropsError(f"DICE_WEIGHT must be 0 or more, got {dice_weight}.")
        weight = None if class_weights is None else torch.as_tensor(np.asarray(class_weights), dtype=torch.float32)
        self.register_buffer("weight", weight, persistent=False)
        self.dice_weight = float(dice_weight)
        self.ignore_index = int(ignore_index)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        labelled = target != self.ignore_index
        if not bool(labelled.any()):
            return logits.sum() * 0.0
        loss = F.cross_entropy(logits.float(), target, weight=self.weight, ignore_index=self.ignore_index)
        if self.dice_weight > 0:
            loss = loss + self.dice_weight * dice_loss(logits, target, self.ignore_index)
        return loss


def masked_cross_entropy(logits: Tensor, labels: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean cross-entropy over labelled pixels (IGNORE_INDEX left out), each weighted by `weight (N, H, W)`
    when given (the weighted sum over labelled pixels divided by their count); 0 with a graph when none is."""
    if not bool((labels != IGNORE_INDEX).any()):
        return logits.sum() * 0.0
    if weight is None:
        return F.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX)
    per_pixel = F.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX, reduction="none")
    mask = (labels != IGNORE_INDEX).to(per_pixel.dtype)
    return (per_pixel * weight * mask).sum() / mask.sum()


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of `values` over `mask` (0 with a graph when the mask is empty)."""
    mask = mask.to(values.dtype)
    total = mask.sum()
    if float(total) == 0:
        return values.sum() * 0.0
    return (values * mask).sum() / total


def entropy_map(probs: Tensor) -> Tensor:
    """Per-pixel entropy normalised by log K (0 certain, 1 uniform), (N, H, W)."""
    k = probs.shape[1]
    if k < 2:
        return probs.new_zeros(probs.shape[:1] + probs.shape[2:])
    return -(probs * torch.log(probs.clamp_min(1e-8))).sum(dim=1) / math.log(k)

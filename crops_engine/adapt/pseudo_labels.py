"""Pseudo-labels from a teacher's probabilities: per-class confidence thresholds (class-balanced
self-training), the confidence histogram they come from, and the calibration pass that measures a
model's confidence and class shares on the target before adapting."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from ..distributed import reduce_sum, world
from ..metrics import IGNORE_INDEX
from .target import iterate_probabilities

if TYPE_CHECKING:
    from .method import AdaptationContext


def pseudo_labels(
    probs: Tensor, valid: Tensor, thresholds: Tensor | float = 0.0
) -> tuple[Tensor, Tensor]:
    """(labels (N, H, W) int64, confidence (N, H, W)): argmax where its probability reaches the
    threshold of the predicted class (one value or one per class), IGNORE_INDEX elsewhere and on
    invalid pixels."""
    confidence, labels = probs.max(dim=1)
    if isinstance(thresholds, Tensor) and thresholds.ndim == 1:
        needed = thresholds.to(probs.device, probs.dtype)[labels]
    else:
        needed = torch.as_tensor(float(thresholds), dtype=probs.dtype, device=probs.device)
    keep = valid.bool() & (confidence >= needed)
    return torch.where(keep, labels, torch.full_like(labels, IGNORE_INDEX)), confidence


class ConfidenceHistogram:
    """Per predicted class, a histogram of the max-probability of valid pixels; gives per-class
    thresholds that keep each class's most confident share (class-balanced self-training, CBST)."""

    def __init__(self, num_classes: int, bins: int = 200) -> None:
        self.num_classes = int(num_classes)
        self.bins = int(bins)
        self.counts = torch.zeros(self.num_classes, self.bins, dtype=torch.float64)

    def update(self, probs: Tensor, valid: Tensor) -> None:
        confidence, labels = probs.detach().max(dim=1)
        keep = valid.bool()
        conf = confidence[keep].float().clamp(0.0, 1.0 - 1e-7).cpu()
        cls = labels[keep].cpu()
        b = (conf * self.bins).long()
        flat = torch.bincount(cls * self.bins + b, minlength=self.num_classes * self.bins).double()
        reduce_sum(flat)  # under torchrun, in a step: the confidences of every process's batch (`distributed`)
        self.counts += flat.reshape(self.num_classes, self.bins)

    def reset(self) -> None:
        self.counts.zero_()

    def class_shares(self) -> np.ndarray:
        """Share of valid pixels predicted as each class."""
        per_class = self.counts.sum(dim=1).numpy()
        total = per_class.sum()
        return per_class / total if total > 0 else np.zeros(self.num_classes)

    def thresholds(self, portion: float, cap: float, floor: float = 0.0) -> Tensor:
        """Per class: the confidence above which `portion` of its pixels lie, at most `cap`, at least
        `floor`; a class never predicted gets `cap`."""
        out = torch.full((self.num_classes,), float(cap), dtype=torch.float32)
        edges = torch.arange(self.bins, dtype=torch.float64) / self.bins  # lower edge of each bin
        for k in range(self.num_classes):
            counts = self.counts[k]
            total = float(counts.sum())
            if total <= 0:
                continue
            above = torch.flip(torch.cumsum(torch.flip(counts, [0]), 0), [0])  # pixels in bin b and up
            ok = torch.nonzero(above >= portion * total).flatten()
            value = float(edges[int(ok.max())]) if len(ok) else 0.0
            out[k] = min(max(value, float(floor)), float(cap))
        return out


def calibration_positions(count: int, available: int, seed: int) -> np.ndarray:
    """`count` dataset positions drawn without replacement (all when fewer), sorted, for a seed."""
    rng = np.random.default_rng([int(seed), 7])
    if count <= 0 or count >= available:
        return np.arange(available, dtype=np.int64)
    return np.sort(rng.choice(available, size=int(count), replace=False))


def calibrate(model: nn.Module, context: AdaptationContext, blocks: int) -> tuple[ConfidenceHistogram, np.ndarray]:
    """One pass of `model` over up to `blocks` target blocks: the confidence histogram per predicted
    class and the mean class probabilities over valid pixels (the model's class prior on the target)."""
    k = context.meta.num_classes
    histogram = ConfidenceHistogram(k)
    total = torch.zeros(k, dtype=torch.float64)
    pixels = 0.0
    positions = calibration_positions(blocks, len(context.dataset), context.config.seed)
    batch = context.config.batch_size * world().size  # under torchrun every process calibrates alike, global batch
    for probs, valid in iterate_probabilities(model, context.dataset, positions, batch,
                                              context.device, context.amp, context.progress):
        histogram.update(probs, valid)
        v = valid.unsqueeze(1).to(probs.dtype)
        total += (probs * v).sum(dim=(0, 2, 3)).double().cpu()
        pixels += float(v.sum())
    prior = (total / max(pixels, 1.0)).numpy() if pixels else np.full(k, 1.0 / k)
    return histogram, prior

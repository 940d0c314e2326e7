"""Distribution alignment (as in ReMixMatch): hold the teacher's pseudo-label class distribution at a reference.

Self-training drifts toward the classes it already favours: with pseudo-labels alone, small classes
fade step by step. `DistributionAlignment` multiplies the teacher's probabilities by reference /
running class distribution and renormalises; the running distribution follows the raw predictions of
the batches it sees, the reference is set once (in SPCL: the first teacher's mean prediction on the target).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..distributed import reduce_sum

ALIGNMENT_MOMENTUM = 0.99  # running class distribution of the teacher's predictions (two batches a step)


def log_distribution(progress: Any, class_names: list[str], distribution: Any) -> None:
    """Log the class distribution that DISTRIBUTION_ALIGNMENT holds the predictions at."""
    parts = ", ".join(f"{c} {float(v):.1%}" for c, v in zip(class_names, list(distribution), strict=True))
    progress.log(f"Target class distribution the predictions are held at: {parts}")


def class_distribution(probs: Tensor, valid: Tensor) -> Tensor:
    """Mean class probability (K,) over the valid pixels of (N, K, H, W) probabilities (float64)."""
    weight = valid.to(probs.dtype)[:, None]
    return ((probs * weight).sum(dim=(0, 2, 3)) / weight.sum().clamp_min(1.0)).double()


class DistributionAlignment:
    """`align(probs, valid)`: probabilities times reference / running distribution, renormalised (unchanged
    until `start` gave a reference). Distributions are float64 (K,) on the CPU."""

    def __init__(self, momentum: float = ALIGNMENT_MOMENTUM) -> None:
        self.momentum = float(momentum)
        self.reference: Tensor | None = None
        self.running: Tensor | None = None

    @property
    def active(self) -> bool:
        return self.reference is not None and self.running is not None

    def start(self, reference: Tensor) -> None:
        """Hold the distribution at `reference` (K,), which the running distribution starts from."""
        self.reference = reference.detach().double().cpu().clone()
        self.running = self.reference.clone()

    def align(self, probs: Tensor, valid: Tensor) -> Tensor:
        if self.reference is None or self.running is None:
            return probs
        weight = valid.to(probs.dtype)[:, None]  # class_distribution's sums, of every process's batch under torchrun
        # the running distribution is a statistic, never part of a graph (entropy aligns the student's own probs)
        sums = torch.cat([(probs.detach() * weight).sum(dim=(0, 2, 3)), weight.sum().reshape(1)])
        reduce_sum(sums)
        if float(sums[-1]) > 0:
            batch, m = (sums[:-1] / sums[-1].clamp_min(1.0)).double().cpu(), self.momentum
            self.running = m * self.running + (1 - m) * batch
        ratio = self.reference / self.running.clamp_min(1e-6)
        aligned = probs * ratio.to(probs.device, probs.dtype)[None, :, None, None]
        return aligned / aligned.sum(dim=1, keepdim=True)

    __call__ = align

    def state_tensors(self) -> dict[str, Tensor]:
        if self.reference is None or self.running is None:
            return {}
        return {"reference": self.reference.clone(), "running": self.running.clone()}

    def load_state(self, tensors: dict[str, Tensor]) -> None:
        if "reference" in tensors:
            self.reference = tensors["reference"].double().clone()
            self.running = tensors["running"].double().clone()

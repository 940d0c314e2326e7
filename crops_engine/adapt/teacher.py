"""The mean teacher and the student's views: an EMA of the student, BatchNorm re-estimation on the
target (AdaBN) and the photometric jitter that makes the student's view differ from the teacher's."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..device import autocast
from ..distributed import world
from ..errors import CropsError

RECALIBRATION_BATCHES = 4  # BatchNorm re-estimation batches hold this many times BATCH_SIZE blocks


class EmaTeacher:
    """Exponential moving average of the student: the mean-teacher of self-training and SPCL.

    `update(student, step)` uses momentum min(1 - 1 / (step + 1), momentum): an exact running
    mean over the first steps, then an EMA. Floating-point buffers (BatchNorm statistics) are
    averaged the same way, integer buffers copied. The teacher stays in eval mode, gradient-free.
    """

    def __init__(self, student: nn.Module, momentum: float = 0.999) -> None:
        if not 0.0 <= momentum < 1.0:
            raise CropsError(f"EMA must be in [0, 1), got {momentum}.")
        self.momentum = float(momentum)
        self.model = copy.deepcopy(student).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def momentum_at(self, step: int) -> float:
        return min(1.0 - 1.0 / (step + 1.0), self.momentum)

    @torch.no_grad()
    def update(self, student: nn.Module, step: int) -> None:
        m = self.momentum_at(step)
        for t, s in zip(self.model.parameters(), student.parameters(), strict=True):
            t.mul_(m).add_(s.detach(), alpha=1.0 - m)
        for t, s in zip(self.model.buffers(), student.buffers(), strict=True):
            if t.is_floating_point():
                t.mul_(m).add_(s.detach(), alpha=1.0 - m)
            else:
                t.copy_(s)

    @torch.no_grad()
    def probabilities(self, x: Tensor, amp: bool = True) -> Tensor:
        with autocast(x.device, amp):
            logits = self.model(x).logits
        return logits.float().softmax(dim=1)

    def state_dict(self) -> dict[str, Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.model.load_state_dict(state, strict=True)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[Tensor], amp: bool = False) -> int:
    """Replace every BatchNorm layer's running statistics by their plain average over `batches` (AdaBN).

    The model runs in train mode without gradients; its mode and the layers' momentum are restored.
    Returns the number of batches seen (0 leaves the statistics as they were).
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
              and m.track_running_stats and m.running_mean is not None]
    if not layers:
        return 0
    saved = [(m.momentum, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in layers]
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    model.train()
    seen = 0
    try:
        for x in batches:
            with autocast(x.device, amp):
                model(x)
            seen += 1
    finally:
        for m, (momentum, mean, var, count) in zip(layers, saved, strict=True):
            m.momentum = momentum
            if seen == 0:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
        model.train(was_training)
    return seen


def recalibrate_on_blocks(model: nn.Module, dataset: Any, positions: np.ndarray | None, batch_size: int,
                          device: torch.device, amp: bool, progress: Any) -> int:
    """AdaBN on target blocks: `recalibrate_batchnorm` over the blocks of `dataset` at `positions` (None: all of
    them), so the first pseudo-labels see target, not source, feature statistics. Returns the batches seen.

    Large batches (no gradient is kept): the statistics are averages of per-batch ones, and a batch of a few
    neighbouring blocks underestimates the variance (bench/results/adaptation_notes.md). Near-equal sizes, none
    of a single block where there are two or more: one sample can leave a deep BatchNorm layer one value per
    channel, which train mode refuses.
    """
    positions = np.arange(len(dataset)) if positions is None else np.asarray(positions)
    n = len(positions)
    progress.log(f"Re-estimating BatchNorm statistics on {n} target blocks.")
    size = batch_size * world().size * RECALIBRATION_BATCHES  # the global batch under torchrun
    parts = np.array_split(positions, max(1, min(-(-n // size), n // 2)))

    def batches() -> Iterable[Tensor]:
        for k, part in enumerate(parts):
            progress(k / len(parts), "BatchNorm statistics on the target")
            yield torch.stack([dataset[int(p)]["image"] for p in part]).to(device)

    return recalibrate_batchnorm(model, batches(), amp)


def photometric_jitter(x: Tensor, valid: Tensor, strength: float, generator: torch.Generator) -> Tensor:
    """A strong view for the student: per block and band a random gain (1 +- strength) and offset
    (+- strength, in normalised units) plus pixel noise; invalid pixels stay 0."""
    if strength <= 0:
        return x
    n, c = x.shape[:2]
    gain = 1.0 + strength * (2.0 * torch.rand(n, c, 1, 1, generator=generator) - 1.0)
    offset = strength * (2.0 * torch.rand(n, c, 1, 1, generator=generator) - 1.0)
    noise = 0.5 * strength * torch.randn(x.shape, generator=generator)
    out = x * gain.to(x.device) + offset.to(x.device) + noise.to(x.device)
    return out * valid.unsqueeze(1).to(x.dtype)

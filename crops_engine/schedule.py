"""Optimiser and learning-rate schedule: AdamW with linear warm-up then cosine decay.

The schedule is a pure function of (step, total steps), so a resumed run, or one extended to
more steps, lands at the right place of the curve from the step count alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from .errors import CropsError


def check_optimiser_settings(lr: float, weight_decay: float, warmup: float) -> None:
    """Raise a CropsError for an LR, WEIGHT_DECAY or WARMUP the optimiser and schedule cannot use."""
    if not (lr > 0 and math.isfinite(lr)):
        raise CropsError(f"LR must be a positive number, got {lr}.")
    if weight_decay < 0:
        raise CropsError(f"WEIGHT_DECAY must be 0 or more, got {weight_decay}.")
    if not 0.0 <= warmup < 1.0:
        raise CropsError(f"WARMUP must be a fraction in [0, 1), got {warmup}.")


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_factor: float = 0.01) -> float:
    """LR multiplier at `step` (0-based): linear up to 1 over `warmup_steps`, cosine down to `min_factor`."""
    total_steps = max(int(total_steps), 1)
    warmup_steps = max(min(int(warmup_steps), total_steps - 1), 0)
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    progress = min(max((step - warmup_steps) / max(total_steps - warmup_steps, 1), 0.0), 1.0)
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(
    model: nn.Module | Iterable[nn.Parameter], lr: float, weight_decay: float = 1e-4
) -> torch.optim.AdamW:
    """AdamW over the parameters of `model` (a module, or the parameters themselves, e.g. of several
    models) that require grad; biases and normalisation weights (1-D parameters) get no weight decay."""
    decay, no_decay = [], []
    for p in model.parameters() if isinstance(model, nn.Module) else model:
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": float(weight_decay)},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=float(lr))


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, min_factor: float = 0.01
) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-step LambdaLR over `warmup_cosine`; call `scheduler.step()` after each optimiser step."""

    def factor(step: int) -> float:
        return warmup_cosine(step, total_steps, warmup_steps, min_factor)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def set_schedule_position(scheduler: torch.optim.lr_scheduler.LambdaLR, step: int) -> None:
    """Place the schedule at `step` completed steps (after resuming): the next step uses factor(step)."""
    scheduler.last_epoch = int(step)
    scheduler._step_count = int(step) + 1  # silences the "step before optimizer.step" warning
    lrs = [base * fn(int(step)) for base, fn in zip(scheduler.base_lrs, scheduler.lr_lambdas, strict=True)]
    for group, lr in zip(scheduler.optimizer.param_groups, lrs, strict=True):
        group["lr"] = lr
    scheduler._last_lr = lrs


def default_warmup_steps(total_steps: int, fraction: float = 0.05, cap: int = 500) -> int:
    """Warm-up length: `fraction` of the run, at most `cap` steps, none for tiny runs."""
    return int(min(round(fraction * total_steps), cap)) if total_steps >= 10 else 0

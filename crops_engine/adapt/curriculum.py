"""SPCL's curriculum: which blocks a step draws. The hard batch holds the hard blocks of the batch stream,
or (HARD_SCHEDULE linear) a share of them growing from HARD_START at the first step to all of them at the
last, the rest easy blocks; the easy blocks come from their own deterministic stream (`EasyBlocks`).
On the synthetic suite constant and linear were within noise, so the default keeps the simpler one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

from ..batches import BatchStream
from ..commands import declared_choices
from ..distributed import data_shard
from ..errors import CropsError
from .target import TargetBlocks

HARD_SCHEDULES = declared_choices("adapt-spcl", "HARD_SCHEDULE")


def hard_share(schedule: str, start: float, step: int, total_steps: int) -> float:
    """Share of hard blocks in the hard batch at `step` (0-based) of `total_steps`."""
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        t = step / max(total_steps - 1, 1)
        return float(start + (1.0 - start) * min(max(t, 0.0), 1.0))
    raise CropsError(f"HARD_SCHEDULE {schedule!r} is not one of {', '.join(HARD_SCHEDULES)}.")


def hard_count(share: float, batch_size: int) -> int:
    """Hard blocks in a batch of `batch_size` at a hard `share` (rounded, at least one when the share is > 0)."""
    n = int(np.floor(share * batch_size + 0.5))
    if share > 0:
        n = max(n, 1)
    return min(max(n, 0), batch_size)



class EasyBlocks:
    """The easy blocks as a deterministic stream: sample j of step s depends only on (seed, s, j),
    so a resumed run draws the very blocks an uninterrupted one would.

    A step's `per_step` samples are two halves (the easy batch, then the hard batch's fill). Under torchrun
    (`distributed`) process r of W takes the r-th slice of each half of the single stream's step of
    W x per_step samples, so W processes of BATCH_SIZE b draw the blocks one process of W x b draws."""

    def __init__(self, dataset: TargetBlocks, seed: int, per_step: int) -> None:
        self.stream = BatchStream(dataset, 1, seed=seed, augment=True, shard=(0, 1))
        self.per_step = int(per_step)
        self.rank, self.world_size = data_shard()

    @property
    def _half(self) -> int:
        return max(1, self.per_step // 2)

    def _global_index(self, step: int, part: int, offset: int) -> int:
        """Stream index of sample `offset` (0 .. W x half - 1) of half `part` (0 easy, 1 fill) of `step`."""
        return (step * self.per_step + part * self._half) * self.world_size + offset

    def _index(self, step: int, k: int) -> int:
        part, offset = divmod(k, self._half)
        return self._global_index(step, part, self.rank * self._half + offset)

    def _stack(self, indices: Iterable[int]) -> tuple[Tensor, Tensor]:
        samples = [self.stream.batch(i) for i in indices]
        return torch.cat([s["image"] for s in samples]), torch.cat([s["valid"] for s in samples])

    def draw_fill(self, step: int, offsets: Sequence[int]) -> tuple[Tensor, Tensor]:
        """(images, valid) of the fill half's samples at global `offsets` (0 .. W x per_step / 2 - 1): what one
        process would put at those places, so a curriculum's hard batch is the same on any number of processes."""
        return self._stack(self._global_index(step, 1, int(o)) for o in offsets)

    def draw(self, step: int, first: int, count: int) -> tuple[Tensor, Tensor]:
        """(images (count, C, H, W), valid (count, H, W)): samples first .. first+count-1 of `step`."""
        return self._stack(self._index(step, first + j) for j in range(count))

"""Building a temporal block store: scenes -> a regular series of step composites -> blocks.

The store is a block store (`blocks`) whose T * C features are the series' steps x bands, step-major,
so `images (N, T * C, H, W)` is the C-order view of `(N, T, C, H, W)` (`BlockStore.series` gives that
shape) and every reader of block stores (training, partition, adaptation, evaluation) reads it unchanged.
Beside the block store's own datasets it holds `step_valid (N, T, H, W) uint8`: 1 where the step holds a
real clear observation, 0 where its value was interpolated (or the pixel is never observed / padding),
and the attribute `series` (JSON): the steps (start, end, centre), the days of their centres since the
first step's start, the bands, the scenes per step and the compositing rule.

It streams: each strip of blocks is composited in chunks of a few blocks' columns, one date of one
chunk in memory at a time per step, so memory depends on the block size and the number of steps, not
on the raster's size or its number of dates. Statistics count each pixel of the window once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from ..blocks.writer import _StoreWriter
from .stack import SeriesStack

CHUNK_BYTES = 16 << 20  # series values of one chunk of a strip (T x C x block rows x chunk columns, float32);
# the chunk's working set (composites per step, gap filling) is a few times this
RULE = "max-NDVI of the step's clear observations (NDVI quality mosaic), gaps linearly interpolated in time"


@dataclass
class SeriesStoreWriter(_StoreWriter):
    """`blocks.writer._StoreWriter` for a `SeriesStack`: strips composited chunk by chunk, plus `step_valid`."""

    stack: SeriesStack  # type: ignore[assignment]
    chunk_blocks: int = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        t_count, bs = len(self.stack.steps), self.block_size
        per_column = len(self.stack) * bs * 4 + t_count * bs
        self.chunk_blocks = max(1, CHUNK_BYTES // max(1, per_column * bs))

    def plan_text(self) -> str:
        steps = self.stack.steps
        return (super().plan_text() + f" Series: {len(steps)} steps of {len(self.stack.bands)} bands, "
                f"{steps[0].start} .. {steps[-1].end} (end exclusive); scenes per step: "
                f"{', '.join(map(str, self.stack.scenes_per_step()))}.")

    def block_bytes(self) -> int:
        return super().block_bytes() + len(self.stack.steps) * self.block_size ** 2

    def _create_datasets(self, h5: h5py.File) -> None:
        super()._create_datasets(h5)
        t_count, bs = len(self.stack.steps), self.block_size
        opts: dict[str, Any] = {"compression": self.compression}
        if self.compression == "gzip":
            opts.update(compression_opts=1, shuffle=True)
        self.datasets["step_valid"] = h5.create_dataset(
            "step_valid", (0, t_count, bs, bs), np.uint8, maxshape=(None, t_count, bs, bs),
            chunks=(1, t_count, bs, bs), **opts,
        )

    def chunk_columns(self) -> int:
        return self.chunk_blocks

    def _read(self, x0: int, r: int, width: int, h: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        x, valid = self.stack.read(x0, r, width, h)
        return x, valid, {"step_valid": self.stack.last_observed}

    def _attrs(self) -> dict[str, Any]:
        attrs = super()._attrs()
        stack = self.stack
        attrs["series"] = json.dumps(series_info(stack))
        return attrs


def series_info(stack: SeriesStack) -> dict[str, Any]:
    """What the store's `series` attribute records of the series."""
    return {
        "steps": [s.as_dict() for s in stack.steps],
        "days": [round(d, 3) for d in stack.days],
        "bands": list(stack.bands),
        "scenes_per_step": stack.scenes_per_step(),
        "rule": RULE,
        "step_days": (stack.steps[0].end - stack.steps[0].start).days,  # STEP_DAYS (the last step may differ)
    }

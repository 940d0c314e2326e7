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

from ..blocks.layout import cut
from ..blocks.writer import _StoreWriter
from ..metrics import IGNORE_INDEX
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

    def _write_strip(self, si: int, r: int) -> None:
        """Strip `si` (top row `r`), composited and written a chunk of block columns at a time."""
        xoff, yoff, xsize, ysize = self.window
        bs = self.block_size
        h = min(bs, yoff + ysize - r)
        fresh_rows = h if si == len(self.rows) - 1 else min(self.stride, h)
        for c_first in range(0, len(self.cols), self.chunk_blocks):
            c_last = min(len(self.cols), c_first + self.chunk_blocks)  # exclusive
            x0 = self.cols[c_first]
            x1 = min(self.cols[c_last - 1] + bs, xoff + xsize)
            x, valid = self.stack.read(x0, r, x1 - x0, h)
            observed = self.stack.last_observed
            lab = None
            if self.labels is not None:
                lab = self.labels.read(x0, r, x1 - x0, h)
                lab[~valid] = IGNORE_INDEX
            # statistics and class pixels over the columns this chunk is first to cover (each pixel once)
            fresh_end = (self.cols[c_last] if c_last < len(self.cols) else xoff + xsize) - x0
            self.stats.update(x[:, :fresh_rows, :fresh_end], valid[:fresh_rows, :fresh_end])
            if lab is not None:
                k = len(self.classes)
                counted = lab[:fresh_rows, :fresh_end]
                self.class_pixels += np.bincount(counted[counted != IGNORE_INDEX], minlength=k)[:k]
            keep = []
            for ci in range(c_first, c_last):
                c0 = self.cols[ci] - x0
                useful = (lab[:, c0:c0 + bs] != IGNORE_INDEX).any() if lab is not None else valid[:, c0:c0 + bs].any()
                if useful:
                    keep.append(ci)
                else:
                    self.skipped += 1
            if keep:
                self._check_space(len(keep))
                self._append_chunk(r, x0, keep, x, valid, observed, lab)

    def _append_chunk(self, r: int, x0: int, keep: list[int], x: np.ndarray, valid: np.ndarray,
                      observed: np.ndarray, lab: np.ndarray | None) -> None:
        xoff, yoff = self.window[0], self.window[1]
        bs, k, ds = self.block_size, len(self.classes), self.datasets
        n0, m = ds["images"].shape[0], len(keep)
        for dataset in ds.values():
            dataset.resize(n0 + m, axis=0)
        for j, ci in enumerate(keep):
            c0 = self.cols[ci] - x0
            ds["images"][n0 + j] = cut(x, c0, bs, np.nan)
            ds["valid"][n0 + j] = cut(valid, c0, bs, 0).astype(np.uint8)
            ds["step_valid"][n0 + j] = cut(observed, c0, bs, 0).astype(np.uint8)
            if lab is not None:
                block_labels = cut(lab, c0, bs, IGNORE_INDEX)
                ds["labels"][n0 + j] = block_labels
                ds["class_counts"][n0 + j] = np.bincount(block_labels[block_labels != IGNORE_INDEX], minlength=k)[:k]
        ds["origins"][n0:n0 + m] = np.array([(r, self.cols[ci]) for ci in keep], dtype=np.int64)
        self.cells.extend(((r - yoff) // self.stride, (self.cols[ci] - xoff) // self.stride) for ci in keep)

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

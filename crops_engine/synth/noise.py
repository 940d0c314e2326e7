"""Smooth random fields (value noise) evaluated on any window, and the row stripes work is done in.

The coarse grids are drawn once, so stripes evaluated separately join seamlessly; stripes bound
working memory at any raster size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

STRIPE_PIXELS = 1 << 18  # pixels per row stripe: bounds working memory at any raster size


def interp(grid: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Smoothstep interpolation of a coarse grid at fractional rows `fy` x columns `fx`."""
    def split(f: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        i = np.clip(np.floor(f).astype(np.int64), 0, n - 2)
        t = np.clip(f - i, 0.0, 1.0).astype(np.float32)
        return i, t * t * (3.0 - 2.0 * t)

    iy, ty = split(fy, grid.shape[0])
    ix, tx = split(fx, grid.shape[1])
    lo, hi = int(iy.min()), int(iy.max()) + 2
    g = grid[lo:hi]
    rows = g[:, ix] * (1.0 - tx) + g[:, ix + 1] * tx
    r = iy - lo
    return rows[r] * (1.0 - ty)[:, None] + rows[r + 1] * ty[:, None]


class SmoothNoise:
    """Octaves of value noise (a smooth random field of about unit variance) on any window.

    The coarse grids are drawn once, so row stripes evaluated separately join seamlessly.
    """

    _STD = 0.7429 ** 2  # std of 2-D smoothstep value noise of unit-variance nodes (0.743 per axis)

    def __init__(
        self,
        rng: np.random.Generator,
        height: int,
        width: int,
        scales: Sequence[float],
        decay: float = 0.6,
        stretch: tuple[float, float] = (1.0, 1.0),
        margin: float = 0.0,
    ) -> None:
        weights = [decay**i for i in range(len(scales))]
        norm = math.sqrt(sum(w * w for w in weights)) * math.sqrt(self._STD)
        self._margin = margin
        self._octaves = []
        for scale, weight in zip(scales, weights, strict=True):
            sy, sx = scale * stretch[0], scale * stretch[1]
            shape = (int((height + 2 * margin) / sy) + 3, int((width + 2 * margin) / sx) + 3)
            grid = rng.standard_normal(shape).astype(np.float32)
            self._octaves.append((sy, sx, grid, np.float32(weight / norm)))

    def sample(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The field at pixel-centre rows `ys` x columns `xs`: (len(ys), len(xs)) float32."""
        out = np.zeros((len(ys), len(xs)), dtype=np.float32)
        for sy, sx, grid, weight in self._octaves:
            out += weight * interp(grid, (ys + self._margin) / sy, (xs + self._margin) / sx)
        return out

    def threshold(self, height: int, width: int, share: float) -> float:
        """The level exceeded by about `share` of the pixels (estimated on a sample grid)."""
        step = max(1, min(height, width) // 160)
        sample = self.sample(np.arange(0, height, step) + 0.5, np.arange(0, width, step) + 0.5)
        return float(np.quantile(sample, 1.0 - share)) if share > 0 else float("inf")


def centres(start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype=np.float64) + 0.5


def stripes(height: int, width: int) -> Iterator[tuple[int, int]]:
    rows = max(2, min(height, STRIPE_PIXELS // max(width, 1)))
    rows -= rows % 2  # even, so 20 m pixel pairs never straddle two stripes
    for r0 in range(0, height, rows):
        yield r0, min(height, r0 + rows)

"""Sliding-window tiling and seamless blending of tile predictions, streamed strip by strip.

Tiles of one size cover the raster row-major with a step of `tile - overlap`; the last tile
of each row / column is pulled inside the raster so every tile is full size (a raster smaller
than a tile gets one tile of the raster's size). Each tile's probabilities are weighted by a
window that is 1 in its middle and falls off as a squared cosine over the `overlap` pixels of
every side that borders another tile (sides on the raster's edge keep weight 1); where two
regularly spaced tiles overlap their weights sum to exactly 1, so no seam shows. Every pixel
is normalised by the weights it received, so a prediction that does not depend on its tile
(a per-pixel model) is reproduced exactly.

`StripBlender` keeps only the rows the current row of tiles touches: sum(w * p) and sum(w)
in (K, tile, width) buffers. When the tiles move down, the rows above the new tile row are
final and come out as a `Strip`; memory depends on tile size and raster width, not height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import CropsError


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Tile starts along one axis: 0, stride, 2*stride ..., the last one ending exactly at `length`."""
    if length <= tile:
        return [0]
    return [*range(0, length - tile, stride), length - tile]


def edge_ramp(size: int, overlap: int, taper_start: bool, taper_end: bool) -> np.ndarray:
    """1-D weights: 1, falling as sin^2 over `overlap` pixels at each tapered end (never 0).

    Evaluated at pixel centres, so the ramps of two tiles `size - overlap` apart sum to 1.
    """
    w = np.ones(size, dtype=np.float64)
    n = min(int(overlap), size)
    if n > 0:
        ramp = np.sin(0.5 * math.pi * (np.arange(n) + 0.5) / n) ** 2
        if taper_start:
            w[:n] = np.minimum(w[:n], ramp)
        if taper_end:
            w[size - n:] = np.minimum(w[size - n:], ramp[::-1])
    return w


@dataclass(frozen=True)
class TileLayout:
    """Where the tiles of a `width` x `height` raster go: same-size tiles, overlapping by `overlap`."""

    width: int
    height: int
    tile_width: int
    tile_height: int
    overlap: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]

    @classmethod
    def plan(cls, width: int, height: int, tile_size: int, overlap: int) -> TileLayout:
        if width < 1 or height < 1:
            raise CropsError(f"Cannot tile an empty raster ({width} x {height} pixels).")
        if tile_size < 1:
            raise CropsError(f"TILE_SIZE must be positive; got {tile_size}.")
        if not 0 <= overlap < tile_size:
            raise CropsError(f"OVERLAP must be at least 0 and less than TILE_SIZE ({tile_size}); got {overlap}.")
        tw, th = min(tile_size, width), min(tile_size, height)
        stride = tile_size - overlap
        return cls(width, height, tw, th, overlap,
                   tuple(tile_origins(height, th, stride)), tuple(tile_origins(width, tw, stride)))

    @property
    def tiles(self) -> list[tuple[int, int]]:
        """(row, col) origins of every tile, row-major: the order `StripBlender` needs them in."""
        return [(y, x) for y in self.rows for x in self.cols]

    def __len__(self) -> int:
        return len(self.rows) * len(self.cols)

    def weights(self, y: int, x: int) -> np.ndarray:
        """(tile_height, tile_width) float32 blending window of the tile at (y, x)."""
        wy = edge_ramp(self.tile_height, self.overlap, y > 0, y + self.tile_height < self.height)
        wx = edge_ramp(self.tile_width, self.overlap, x > 0, x + self.tile_width < self.width)
        return np.outer(wy, wx).astype(np.float32)


@dataclass
class Strip:
    """Finished rows [row, row + n) of the raster: blended probabilities (K, n, W) and where they hold."""

    row: int
    probabilities: np.ndarray
    valid: np.ndarray

    @property
    def height(self) -> int:
        return int(self.valid.shape[0])


class StripBlender:
    """Accumulates weighted tile probabilities for the rows in flight and hands back finished strips.

    Feed every tile of `layout.tiles` in order to `add` (with `probabilities=None` for a tile that
    was not predicted, e.g. all nodata); each call returns the strips it finished, `finish` the rest.
    A pixel is valid in a strip where some tile marked it wanted and gave it weight.
    """

    def __init__(self, layout: TileLayout, num_classes: int) -> None:
        self.layout = layout
        self.num_classes = int(num_classes)
        rows, width = layout.tile_height, layout.width
        self._sum = np.zeros((self.num_classes, rows, width), dtype=np.float32)
        self._weight = np.zeros((rows, width), dtype=np.float32)
        self._wanted = np.zeros((rows, width), dtype=bool)
        self._top = 0  # raster row of buffer row 0
        self._next = 0  # index of the next tile expected
        self._tiles = layout.tiles
        self._windows: dict[tuple[bool, bool, bool, bool], np.ndarray] = {}

    def _window(self, y: int, x: int) -> np.ndarray:
        lay = self.layout
        key = (y > 0, y + lay.tile_height < lay.height, x > 0, x + lay.tile_width < lay.width)
        if key not in self._windows:
            self._windows[key] = lay.weights(y, x)
        return self._windows[key]

    def add(self, y: int, x: int, probabilities: np.ndarray | None, wanted: np.ndarray | None) -> list[Strip]:
        """Blend one tile's probabilities (K, th, tw) at origin (y, x); `wanted` (th, tw) marks pixels to output."""
        if self._next >= len(self._tiles) or self._tiles[self._next] != (y, x):
            expected = self._tiles[self._next] if self._next < len(self._tiles) else "none"
            raise ValueError(f"tile {(y, x)} out of order: expected {expected}")
        self._next += 1
        done = self._advance(y) if y > self._top else []
        lay = self.layout
        r0, r1, c1 = y - self._top, y - self._top + lay.tile_height, x + lay.tile_width
        if wanted is not None:
            self._wanted[r0:r1, x:c1] |= wanted
        if probabilities is not None:
            w = self._window(y, x)
            self._sum[:, r0:r1, x:c1] += probabilities * w
            self._weight[r0:r1, x:c1] += w
        return done

    def finish(self) -> list[Strip]:
        """The rows still in flight, once every tile was added."""
        if self._next != len(self._tiles):
            raise ValueError(f"{len(self._tiles) - self._next} tiles were never added")
        return self._advance(self.layout.height)

    def _advance(self, new_top: int) -> list[Strip]:
        """Emit rows [top, new_top) and shift the buffers so buffer row 0 is raster row `new_top`."""
        n = min(new_top, self._top + self.layout.tile_height) - self._top
        if n <= 0:
            return []
        weight = self._weight[:n]
        valid = self._wanted[:n] & (weight > 0)
        probs = self._sum[:, :n] / np.where(weight > 0, weight, np.float32(1.0))
        strip = Strip(self._top, probs, valid.copy())
        for buf in (self._sum, self._weight, self._wanted):
            rest = buf.shape[-2] - n
            buf[..., :rest, :] = buf[..., n:, :]
            buf[..., rest:, :] = 0
        self._top += n
        return [strip]

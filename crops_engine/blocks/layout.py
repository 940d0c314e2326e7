"""Where blocks go: origins on a lattice of `stride` over the pixel window they are cut from.

Origins start at the window's top-left corner; the last row / column of blocks reaches to or past
the window's edge and is padded (invalid, ignore).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import CropsError
from ..extent import Extent, extent_in_crs, parse_extent
from ..raster import Grid


def lattice(start: int, size: int, block_size: int, stride: int) -> list[int]:
    """Block origins along one axis: start, start+stride, ... until a block reaches the end."""
    count = 1 if size <= block_size else math.ceil((size - block_size) / stride) + 1
    return [start + i * stride for i in range(count)]


def resolve_window(grid: Grid, extent: str | Sequence[float] | None) -> tuple[int, int, int, int]:
    """Pixel window (xoff, yoff, xsize, ysize) of an extent (QGIS text, 4 bounds in the grid's CRS,
    or a parsed `Extent`), or the whole grid."""
    if extent is None or (isinstance(extent, str) and not extent.strip()):
        return 0, 0, grid.width, grid.height
    parsed: Extent = parse_extent(extent) if isinstance(extent, str) else _as_extent(extent)
    return grid.pixel_window_of(extent_in_crs(parsed, grid.crs_wkt))


def _as_extent(extent: Sequence[Any]) -> Extent:
    if len(extent) == 4:
        return float(extent[0]), float(extent[1]), float(extent[2]), float(extent[3]), None
    if len(extent) == 5:
        return float(extent[0]), float(extent[1]), float(extent[2]), float(extent[3]), extent[4]
    raise CropsError(f"Extent {extent!r}: give (xmin, ymin, xmax, ymax) or QGIS text 'xmin,xmax,ymin,ymax [EPSG:x]'.")


def cut(strip: np.ndarray, c0: int, bs: int, fill: float) -> np.ndarray:
    """The bs x bs block at column c0 of a strip (..., h, w), padded with `fill` past its edges."""
    part = strip[..., :, c0 : c0 + bs]
    if part.shape[-2:] == (bs, bs):
        return part
    out = np.full(strip.shape[:-2] + (bs, bs), fill, dtype=strip.dtype)
    out[..., : part.shape[-2], : part.shape[-1]] = part
    return out

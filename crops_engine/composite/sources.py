"""Reading a scene or mask on the output grid: directly at a pixel offset when the grids align,
else through a warped GDAL VRT (never a copy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from ..errors import CropsError
from ..extent import extent_in_crs
from ..raster import Grid, open_raster
from .grid import check_north_up


@dataclass(frozen=True)
class GridSource:
    """How to read one raster on the output grid: directly at a pixel offset, or through a VRT."""

    name: str  # the file, for messages
    open_as: str  # a path, or the XML of a warped VRT
    xoff: int = 0  # output pixel (0, 0) in the raster's pixels (direct reads)
    yoff: int = 0
    width: int = 0
    height: int = 0
    alpha: int | None = None  # warped: the VRT's alpha band, > 0 where the raster covers a pixel

    def read(self, ds: gdal.Dataset, bands: Sequence[int], win: tuple[int, int, int, int],
             fill: float, buf: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(array (len(bands), ys, xs), covered) for an output window; (None, None) outside.

        `covered` is None when the raster covers the whole window. `buf` (that shape and the
        raster's type) is filled and returned when the raster covers the window directly.
        """
        xoff, yoff, xs, ys = win
        try:
            if self.alpha is not None:
                arr = ds.ReadAsArray(xoff, yoff, xs, ys, band_list=[*bands, self.alpha])
                arr = arr.reshape(len(bands) + 1, ys, xs)
                covered = arr[-1] > 0
                if not covered.any():
                    return None, None
                return arr[:-1], None if covered.all() else covered
            c0, r0 = xoff + self.xoff, yoff + self.yoff
            a0, b0 = max(c0, 0), max(r0, 0)
            a1, b1 = min(c0 + xs, self.width), min(r0 + ys, self.height)
            if a1 <= a0 or b1 <= b0:
                return None, None
            full = (a0, b0, a1, b1) == (c0, r0, c0 + xs, r0 + ys)
            if full and buf is not None and len(bands) == 1:
                ds.GetRasterBand(bands[0]).ReadAsArray(a0, b0, xs, ys, buf_obj=buf[0])
                return buf, None
            if full and buf is not None:
                ds.ReadAsArray(a0, b0, xs, ys, band_list=list(bands), buf_obj=buf)
                return buf, None
            part = ds.ReadAsArray(a0, b0, a1 - a0, b1 - b0, band_list=list(bands))
            part = part.reshape(len(bands), b1 - b0, a1 - a0)
            if full:
                return part, None
            arr = np.full((len(bands), ys, xs), fill, dtype=part.dtype)
            covered = np.zeros((ys, xs), dtype=bool)
            arr[:, b0 - r0:b1 - r0, a0 - c0:a1 - c0] = part
            covered[b0 - r0:b1 - r0, a0 - c0:a1 - c0] = True
            return arr, covered
        except RuntimeError as exc:
            raise CropsError(f"Cannot read {self.name}: {exc}. Is the file complete?") from None


def aligned_offset(src: Grid, grid: Grid) -> tuple[int, int] | None:
    """Pixel offset of `grid`'s origin in `src` when both share CRS, pixel size and alignment."""
    sgt, ogt = src.geotransform, grid.geotransform
    px, py = abs(sgt[1]), abs(sgt[5])
    if abs(sgt[1] - ogt[1]) > 1e-9 * px or abs(sgt[5] - ogt[5]) > 1e-9 * py:
        return None
    fx, fy = (ogt[0] - sgt[0]) / sgt[1], (ogt[3] - sgt[3]) / sgt[5]
    if abs(fx - round(fx)) > 1e-6 or abs(fy - round(fy)) > 1e-6:
        return None
    if not src.same_crs(grid):
        return None
    return int(round(fx)), int(round(fy))


def open_source(path: Path, grid: Grid, resampling: str, keep_nodata: bool) -> GridSource:
    ds = open_raster(path)
    src = Grid.of(ds)
    check_north_up(src, path)
    offset = aligned_offset(src, grid)
    name = str(path)
    if offset is not None:
        return GridSource(name, name, offset[0], offset[1], src.width, src.height)
    options: dict[str, Any] = {
        "format": "VRT",
        "outputBounds": grid.bounds,
        "width": grid.width,
        "height": grid.height,
        "dstSRS": grid.crs_wkt or None,
        "resampleAlg": resampling,
        "dstAlpha": True,
    }
    if not keep_nodata:
        options["srcNodata"] = "None"
    try:
        vrt = gdal.Warp("", ds, **options)
        xml = vrt.GetMetadata("xml:VRT")[0]
    except (RuntimeError, IndexError, TypeError) as exc:
        raise CropsError(f"Cannot warp {path} to the output grid: {exc}. Does it have a CRS?") from None
    return GridSource(name, xml, alpha=vrt.RasterCount)


def check_mask_covers(mask: Path, scene: Path, scene_grid: Grid) -> None:
    mgrid = Grid.of(open_raster(mask))
    bounds = extent_in_crs((*mgrid.bounds, mgrid.crs_wkt or None), scene_grid.crs_wkt)
    sx, sy = scene_grid.pixel_size
    tol_x, tol_y = 0.5 * abs(sx), 0.5 * abs(sy)
    s = scene_grid.bounds
    if bounds[0] > s[0] + tol_x or bounds[1] > s[1] + tol_y or bounds[2] < s[2] - tol_x or bounds[3] < s[3] - tol_y:
        raise CropsError(
            f"The mask {mask} (extent {tuple(round(v, 3) for v in bounds)}) does not cover its scene {scene} "
            f"(extent {tuple(round(v, 3) for v in s)}); give the mask made for that scene."
        )

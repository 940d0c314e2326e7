"""GeoTIFF reading and writing through GDAL: the one place that knows creation options.

Every raster the engine writes is tiled, compressed, BigTIFF when needed, with band
descriptions and (on `finish`) overviews, so it opens fast in QGIS at any zoom. Streaming
writers bound GDAL's block cache with `gdal_cache` so their memory stays flat.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from osgeo import gdal, osr

from .errors import Cancelled, CropsError

if TYPE_CHECKING:
    from .progress import Progress

gdal.UseExceptions()
osr.UseExceptions()

_NUMPY_TO_GDAL = {
    np.dtype("uint8"): gdal.GDT_Byte,
    np.dtype("uint16"): gdal.GDT_UInt16,
    np.dtype("int16"): gdal.GDT_Int16,
    np.dtype("uint32"): gdal.GDT_UInt32,
    np.dtype("int32"): gdal.GDT_Int32,
    np.dtype("float32"): gdal.GDT_Float32,
    np.dtype("float64"): gdal.GDT_Float64,
}
_GDAL_TO_NUMPY = {v: k for k, v in _NUMPY_TO_GDAL.items()}


def gdal_type(dtype: np.dtype | type) -> int:
    try:
        return _NUMPY_TO_GDAL[np.dtype(dtype)]
    except KeyError:
        raise CropsError(f"Data type {np.dtype(dtype)} cannot be written to GeoTIFF.") from None


def numpy_type(gdal_type_code: int) -> np.dtype:
    try:
        return _GDAL_TO_NUMPY[gdal_type_code]
    except KeyError:
        name = gdal.GetDataTypeName(gdal_type_code)
        raise CropsError(
            f"Raster data type {name} is not supported; convert it to an integer or Float32 type."
        ) from None


@dataclass(frozen=True)
class Grid:
    """A raster grid: size, affine geotransform (GDAL order) and CRS as WKT."""

    width: int
    height: int
    geotransform: tuple[float, float, float, float, float, float]
    crs_wkt: str

    @classmethod
    def of(cls, ds: gdal.Dataset) -> Grid:
        return cls(ds.RasterXSize, ds.RasterYSize, tuple(ds.GetGeoTransform()), ds.GetProjection())

    @property
    def pixel_size(self) -> tuple[float, float]:
        return self.geotransform[1], -self.geotransform[5]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) for a north-up grid."""
        x0, dx, _, y0, _, dy = self.geotransform
        xs = (x0, x0 + dx * self.width)
        ys = (y0, y0 + dy * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    def window(self, xoff: int, yoff: int, xsize: int, ysize: int) -> Grid:
        """The sub-grid of a pixel window."""
        x0, dx, rx, y0, ry, dy = self.geotransform
        gt = (x0 + xoff * dx + yoff * rx, dx, rx, y0 + xoff * ry + yoff * dy, ry, dy)
        return Grid(xsize, ysize, gt, self.crs_wkt)

    def same_crs(self, other: Grid) -> bool:
        a, b = osr.SpatialReference(), osr.SpatialReference()
        if not self.crs_wkt or not other.crs_wkt:
            return self.crs_wkt == other.crs_wkt
        a.ImportFromWkt(self.crs_wkt)
        b.ImportFromWkt(other.crs_wkt)
        return bool(a.IsSame(b))

    def same_as(self, other: Grid, tol: float = 1e-6) -> bool:
        if (self.width, self.height) != (other.width, other.height):
            return False
        scale = max(abs(self.geotransform[1]), abs(self.geotransform[5]), 1e-12)
        if any(abs(a - b) > tol * scale for a, b in zip(self.geotransform, other.geotransform, strict=True)):
            return False
        return self.same_crs(other)

    def pixel_window_of(self, bounds: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """Pixel window (xoff, yoff, xsize, ysize) covering `bounds`, clipped to the grid."""
        x0, dx, _, y0, _, dy = self.geotransform
        xmin, ymin, xmax, ymax = bounds
        c0 = math.floor((xmin - x0) / dx + 1e-9)
        c1 = math.ceil((xmax - x0) / dx - 1e-9)
        r0 = math.floor((ymax - y0) / dy + 1e-9)
        r1 = math.ceil((ymin - y0) / dy - 1e-9)
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(c1, self.width), min(r1, self.height)
        if c1 <= c0 or r1 <= r0:
            raise CropsError(
                f"The area of interest {bounds} does not overlap the raster "
                f"(extent {self.bounds}); draw it over the data or check its CRS."
            )
        return c0, r0, c1 - c0, r1 - r0


# Warnings GDAL gives while opening a file whose end is missing (libtiff: "IO error during reading of
# <tag>; tag ignored"): the dataset opens, but without the tags it lost (a CRS, a colour table).
_DAMAGE_HINTS = ("IO error", "Failed to read", "Read error", "truncated", "Cannot read")
MAX_CHECKED_BLOCKS = 1_000_000


def unreadable(path: str | os.PathLike[str], detail: object) -> CropsError:
    """The CropsError for a raster GDAL cannot read (truncated, damaged or not a raster)."""
    detail = str(detail).replace(f"{path}, ", "").replace(f"{path}: ", "").rstrip(". ")
    return CropsError(
        f"Cannot read raster {path}: {detail}. The file is truncated or damaged (an interrupted copy, download "
        "or write?): copy or re-create it, then run again."
    )


def open_raster(path: str | os.PathLike[str], update: bool = False) -> gdal.Dataset:
    """Open a raster or raise a CropsError that names the file and the problem.

    A file GDAL opens only with read errors, or a GeoTIFF whose image data reaches past the end of the
    file (a copy cut short), is refused here as truncated rather than read with what it lost (its CRS).
    """
    path = str(path)
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise CropsError(f"Raster not found: {path}. Check the path.")
    if not path.startswith("/vsi") and os.path.isdir(path):
        raise CropsError(f"{path} is a folder, not a raster file. Give the raster's file.")
    if not path.startswith("/vsi") and os.path.getsize(path) == 0:
        raise CropsError(f"Raster {path} is an empty file (0 bytes): copy or re-create it, then run again.")
    warnings: list[str] = []

    def collect(err_class: int, err_no: int, message: str) -> None:
        if err_class >= gdal.CE_Warning:
            warnings.append(str(message))

    gdal.PushErrorHandler(collect)
    try:
        ds = gdal.Open(path, gdal.GA_Update if update else gdal.GA_ReadOnly)
    except RuntimeError as exc:
        detail = str(exc).replace(f"`{path}' ", "it is ", 1).rstrip(". ")
        raise CropsError(
            f"Cannot read raster {path}: {detail}. Is the file complete and a raster GDAL can open?"
        ) from None
    finally:
        gdal.PopErrorHandler()
    damage = [w for w in warnings if any(h.lower() in w.lower() for h in _DAMAGE_HINTS)]
    if damage:
        raise unreadable(path, damage[0])
    if ds is None or ds.RasterCount == 0:
        raise CropsError(f"{path} holds no raster bands.")
    _check_complete(ds, path)
    return ds


def _check_complete(ds: gdal.Dataset, path: str) -> None:
    """A CropsError when a GeoTIFF's blocks (tiles or strips) lie past the end of its file."""
    if path.startswith("/vsi") or ds.GetDriver().ShortName != "GTiff":
        return
    size = os.path.getsize(path)
    for b in range(1, ds.RasterCount + 1):
        band = ds.GetRasterBand(b)
        bx, by = band.GetBlockSize()
        nx, ny = -(-ds.RasterXSize // max(bx, 1)), -(-ds.RasterYSize // max(by, 1))
        if nx * ny * ds.RasterCount > MAX_CHECKED_BLOCKS:
            blocks: Iterator[tuple[int, int]] | list[tuple[int, int]] = [(0, 0), (nx - 1, ny - 1)]
        else:
            blocks = ((i, j) for j in range(ny) for i in range(nx))
        for i, j in blocks:
            offset = band.GetMetadataItem(f"BLOCK_OFFSET_{i}_{j}", "TIFF")
            if not offset:  # sparse block, or interleaved by pixel: band 1 holds them all
                continue
            nbytes = band.GetMetadataItem(f"BLOCK_SIZE_{i}_{j}", "TIFF")
            if int(offset) + int(nbytes or 0) > size:
                raise unreadable(
                    path, f"band {b}'s image data reaches byte {int(offset) + int(nbytes or 0)} but the file "
                          f"has {size} bytes"
                )


def band_names(ds: gdal.Dataset) -> list[str]:
    """Band descriptions, `B{n}` where a band has none."""
    return [ds.GetRasterBand(i + 1).GetDescription() or f"B{i + 1}" for i in range(ds.RasterCount)]


CREATION_OPTIONS = (
    "TILED=YES",
    "BLOCKXSIZE=256",
    "BLOCKYSIZE=256",
    "COMPRESS=DEFLATE",
    "ZLEVEL=4",
    "BIGTIFF=IF_SAFER",
    "INTERLEAVE=BAND",
)


def create_geotiff(
    path: str | os.PathLike[str],
    grid: Grid,
    bands: int,
    dtype: np.dtype | type,
    nodata: float | None = None,
    band_descriptions: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
    predictor: bool = True,
) -> gdal.Dataset:
    """Create a tiled, compressed GeoTIFF on `grid`; close it with `finish_geotiff`."""
    dt = np.dtype(dtype)
    options = list(CREATION_OPTIONS)
    if predictor:
        options.append("PREDICTOR=3" if dt.kind == "f" else "PREDICTOR=2")
    if min(grid.width, grid.height) < 256:
        # Small rasters: strips are smaller on disk than mostly-empty 256 x 256 tiles.
        options = [o for o in options if not o.startswith(("TILED", "BLOCK"))]
    driver = gdal.GetDriverByName("GTiff")
    ds = driver.Create(str(path), grid.width, grid.height, bands, gdal_type(dt), options)
    ds.SetGeoTransform(grid.geotransform)
    if grid.crs_wkt:
        ds.SetProjection(grid.crs_wkt)
    for i in range(bands):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if band_descriptions is not None:
            band.SetDescription(band_descriptions[i])
    if metadata:
        ds.SetMetadata({k: str(v) for k, v in metadata.items()})
    return ds


def finish_geotiff(ds: gdal.Dataset, overviews: bool = True, resampling: str = "NEAREST",
                   progress: Progress | None = None) -> None:
    """Build internal overviews (for rasters large enough to need them) and close.

    With `progress` the build reports "Building overviews" and can be cancelled: GDAL aborts when
    its callback says stop, and `Cancelled` is raised (the caller's `atomic_path` removes the file).
    """
    if overviews:
        levels = []
        size = max(ds.RasterXSize, ds.RasterYSize)
        factor = 2
        while size / factor >= 256:
            levels.append(factor)
            factor *= 2
        if levels:
            gdal.SetConfigOption("COMPRESS_OVERVIEW", "DEFLATE")
            _build_overviews(ds, resampling, levels, progress)
    ds.FlushCache()
    ds = None  # noqa: F841 - closing a GDAL dataset is dropping the reference


def _build_overviews(ds: gdal.Dataset, resampling: str, levels: list[int], progress: Progress | None) -> None:
    if progress is None:
        ds.BuildOverviews(resampling, levels)
        return
    cancelled: list[bool] = []

    def callback(complete: float, message: Any, data: Any) -> int:
        try:
            progress(complete, "Building overviews")
        except Cancelled:
            cancelled.append(True)
            return 0  # GDAL stops the build and raises
        return 1

    try:
        ds.BuildOverviews(resampling, levels, callback=callback)
    except RuntimeError:
        if cancelled:
            raise Cancelled() from None
        raise


@contextmanager
def gdal_cache(limit: int, keep_smaller: bool = False) -> Iterator[None]:
    """GDAL's block cache set to `limit` bytes inside the with-block; the previous size is restored after.

    GDAL's default cache (5 % of RAM) fills up with a streamed raster, so memory would grow with its
    size; a limit sized to the blocks in flight keeps it flat. `keep_smaller`: a smaller cache
    already set (e.g. by GDAL_CACHEMAX) is kept, so the limit only ever lowers the cache.
    """
    before = gdal.GetCacheMax()
    if keep_smaller and before > 0:
        limit = min(before, limit)
    gdal.SetCacheMax(int(limit))
    try:
        yield
    finally:
        gdal.SetCacheMax(before)


def set_palette(band: gdal.Band, classes: Sequence[tuple[int, str, str]]) -> None:
    """Colour table and category names for a class-map band: (value, name, '#rrggbb')."""
    table = gdal.ColorTable()
    names: list[str] = []
    top = max((v for v, _, _ in classes), default=0)
    for value in range(top + 1):
        names.append("")
        table.SetColorEntry(value, (0, 0, 0, 0))
    for value, name, colour in classes:
        table.SetColorEntry(int(value), hex_to_rgba(colour))
        names[int(value)] = name
    band.SetRasterColorTable(table)
    band.SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetCategoryNames(names)


def hex_to_rgba(colour: str) -> tuple[int, int, int, int]:
    c = colour.lstrip("#")
    if len(c) not in (6, 8):
        raise CropsError(f"Colour {colour!r} is not #rrggbb.")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    a = int(c[6:8], 16) if len(c) == 8 else 255
    return r, g, b, a


def iter_windows(width: int, height: int, block_x: int, block_y: int) -> Iterator[tuple[int, int, int, int]]:
    """Row-major windows (xoff, yoff, xsize, ysize) covering a raster."""
    for yoff in range(0, height, block_y):
        ysize = min(block_y, height - yoff)
        for xoff in range(0, width, block_x):
            yield xoff, yoff, min(block_x, width - xoff), ysize


def epsg_wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(int(epsg))
    return srs.ExportToWkt()

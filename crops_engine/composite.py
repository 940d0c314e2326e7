"""NDVI quality mosaic: per pixel, all bands of the clear acquisition with the highest NDVI.

The method's first step (Earth Engine's `qualityMosaic('NDVI')`) shows every field at its
peak so source and target images are comparable. The rule, per output pixel:

- an observation is valid when its mask class is not invalid, its red and NIR bands are not
  nodata, the scene covers the pixel (and the pixel is inside the area of interest), and
  NDVI = (NIR - RED) / (NIR + RED) is finite; reflectance = DN * SCALE + OFFSET in float32
  (OFFSET per scene from `BOA_ADD_OFFSET`-style metadata times SCALE, unless given);
- the valid observation with the largest NDVI wins; on a tie the earliest scene wins
  (scenes in acquisition order, strict `>`);
- a pixel with no valid observation is nodata in every band.

It streams: windows aligned to the scenes' own blocks are composited by a small thread pool
(GDAL and numpy release the GIL), each worker holding one window of one date at a time, and
an ordered writer fills a tiled, compressed GeoTIFF under a temporary name. Memory depends on
the window size, not on the raster size or the number of dates. Scenes on another grid are
warped to the output grid through a GDAL VRT (nearest neighbour by default), never copied.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal, ogr, osr

from .aoi import AreaOfInterest, pixels_inside
from .atomic import atomic_path
from .errors import Cancelled, CropsError
from .extent import Extent, extent_in_crs
from .progress import Progress, silent
from .raster import Grid, create_geotiff, finish_geotiff, numpy_type, open_raster
from .scenes import Scene, select_dates
from .styles import write_ramp_style, write_rgb_style

ogr.UseExceptions()

DEFAULT_INVALID_CLASSES: tuple[int, ...] = (0, 1, 3, 8, 9, 10)  # Sen2Cor SCL: no data, saturated, shadow, clouds
QA_NODATA = -9999.0
QA_BANDS = ("max_ndvi", "day_of_year", "valid_observations")
WINDOW_PIXELS = 512 * 512  # target window area when the rasters' blocks are small
GDAL_CACHE_BYTES = 64 * 1024 * 1024  # blocks of the windows in flight (a few MB each)
GDAL_CACHE_MAX_BYTES = 512 * 1024 * 1024
RESAMPLING = ("near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode")


@dataclass(frozen=True)
class CompositeOptions:
    """How to composite; the defaults fit Sen2Cor L2A stacks in the sample data's band order.

    `extent` is (xmin, ymin, xmax, ymax, crs_wkt or None) as `extent.parse_extent` gives it.
    `offset=None` reads each scene's `BOA_ADD_OFFSET`-style metadata (else 0); a number
    overrides it for every scene. `mask_band` takes the cloud mask from that band of each scene
    (left out of the composite) instead of the scenes' companion mask files.
    """

    red_band: int = 3
    nir_band: int = 7
    scale: float = 0.0001
    offset: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    mask_band: int | None = None
    invalid_classes: tuple[int, ...] = DEFAULT_INVALID_CLASSES
    extent: Extent | None = None
    aoi: str | None = None
    target_crs: str | None = None
    resolution: float | None = None
    resampling: str = "near"
    workers: int = 2
    window: int | None = None


# -- grids and CRSs ------------------------------------------------------------------------------

def _srs(text: str, what: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(text)
    except RuntimeError:
        raise CropsError(f"{what}: {text!r} is not a CRS GDAL knows; use e.g. EPSG:32631.") from None
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def _check_north_up(grid: Grid, path: Any) -> None:
    gt = grid.geotransform
    if gt[2] != 0 or gt[4] != 0 or gt[1] <= 0 or gt[5] >= 0:
        raise CropsError(f"{path} has a rotated or flipped geotransform; warp it north-up first (gdalwarp).")


def _crop(grid: Grid, bounds: tuple[float, float, float, float]) -> Grid:
    return grid.window(*grid.pixel_window_of(bounds))


def output_grid(reference: Scene, options: CompositeOptions) -> Grid:
    """The reference scene's grid, or the chosen CRS / resolution, cropped to the extent."""
    ds = open_raster(reference.path)
    ref = Grid.of(ds)
    _check_north_up(ref, reference.path)
    extent = options.extent
    if options.target_crs or options.resolution:
        if options.resolution is not None and options.resolution <= 0:
            raise CropsError(f"RESOLUTION {options.resolution} must be a positive pixel size in CRS units.")
        dst = _srs(options.target_crs, "TARGET_CRS").ExportToWkt() if options.target_crs else ref.crs_wkt
        kwargs: dict[str, Any] = {"format": "VRT", "dstSRS": dst or None}
        if options.resolution:
            kwargs.update(xRes=options.resolution, yRes=options.resolution, targetAlignedPixels=True)
        if extent is not None:
            kwargs["outputBounds"] = extent[:4]
            kwargs["outputBoundsSRS"] = extent[4] or dst
        try:
            vrt = gdal.Warp("", ds, **kwargs)
        except RuntimeError as exc:
            raise CropsError(
                f"Cannot build the output grid ({exc}); check TARGET_CRS, RESOLUTION and EXTENT."
            ) from None
        return Grid.of(vrt)
    if extent is not None:
        return _crop(ref, extent_in_crs(extent, ref.crs_wkt))
    return ref


# -- reading scenes and masks on the output grid --------------------------------------------------

@dataclass(frozen=True)
class _Source:
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


def _aligned_offset(src: Grid, grid: Grid) -> tuple[int, int] | None:
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


def _source(path: Path, grid: Grid, resampling: str, keep_nodata: bool) -> _Source:
    ds = open_raster(path)
    src = Grid.of(ds)
    _check_north_up(src, path)
    offset = _aligned_offset(src, grid)
    name = str(path)
    if offset is not None:
        return _Source(name, name, offset[0], offset[1], src.width, src.height)
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
    return _Source(name, xml, alpha=vrt.RasterCount)


def _overlaps(src: Grid, grid: Grid) -> bool:
    """Whether a raster's footprint meets the output grid (in the output's CRS)."""
    a = extent_in_crs((*src.bounds, src.crs_wkt or None), grid.crs_wkt)
    b = grid.bounds
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _check_mask_covers(mask: Path, scene: Path, scene_grid: Grid) -> None:
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


# -- the plan: everything checked before any output exists -----------------------------------------

@dataclass
class _Plan:
    scenes: list[Scene]
    grid: Grid
    sources: list[_Source]
    masks: list[_Source | None]
    out_bands: list[int]
    descriptions: list[str]
    dtype: np.dtype
    nodata: float
    red_nodata: list[float | None]
    nir_nodata: list[float | None]
    red_offsets: list[float]
    nir_offsets: list[float]
    day_of_year: np.ndarray
    windows: list[tuple[int, int, int, int]]
    aoi: AreaOfInterest | None = None
    invalid: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))


def _band_nodata(ds: gdal.Dataset, band: int) -> float | None:
    return ds.GetRasterBand(band).GetNoDataValue()


def _edges(length: int, step: int, phase: int) -> list[tuple[int, int]]:
    """Spans covering [0, length) whose inner edges fall on multiples of `step` shifted by `phase`."""
    spans, start = [], 0
    stop = step - (phase % step) if phase % step else step
    while start < length:
        stop = min(stop, length)
        spans.append((start, stop - start))
        start, stop = stop, stop + step
    return spans


def _window_layout(plan_grid: Grid, first: _Source, options: CompositeOptions) -> list[tuple[int, int, int, int]]:
    """Windows aligned to the first scene's blocks, so every block is decoded once."""
    if options.window:
        step_x = step_y = int(options.window)
        phase_x = phase_y = 0
    else:
        ds = gdal.Open(first.open_as)
        bx, by = ds.GetRasterBand(1).GetBlockSize()
        if first.alpha is not None:
            bx, by, phase_x, phase_y = 512, 512, 0, 0
        else:
            phase_x, phase_y = first.xoff % bx, first.yoff % by
        if bx >= first.width and first.alpha is None:  # strips: whole rows, several strips a window
            step_x, phase_x = plan_grid.width, 0
            step_y = by * max(1, WINDOW_PIXELS // max(1, plan_grid.width * by))
        else:
            step_x = bx * max(1, round(512 / bx))
            step_y = by * max(1, round(512 / by))
    return [
        (x, y, w, h)
        for y, h in _edges(plan_grid.height, step_y, phase_y)
        for x, w in _edges(plan_grid.width, step_x, phase_x)
    ]


def _plan(scenes: Sequence[Scene], options: CompositeOptions, progress: Progress) -> _Plan:
    if options.workers < 1:
        raise CropsError("workers must be at least 1.")
    if options.resampling not in RESAMPLING:
        raise CropsError(f"Resampling {options.resampling!r} is not one of {', '.join(RESAMPLING)}.")
    if options.scale == 0:
        raise CropsError("SCALE must not be 0; Sentinel-2 L2A DNs use 0.0001.")
    chosen = select_dates(scenes, options.start_date, options.end_date)
    # Open every scene once: band counts, types, band indexes, masks.
    infos = []
    for scene in chosen:
        ds = open_raster(scene.path)
        infos.append((scene, ds.RasterCount, ds.GetRasterBand(1).DataType, ds))
    counts = {n for _, n, _, _ in infos}
    if len(counts) > 1:
        by_count: dict[int, list[str]] = {}
        for scene, n, _, _ in infos:
            by_count.setdefault(n, []).append(scene.path.name)
        detail = "; ".join(f"{n} bands: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                           for n, names in sorted(by_count.items()))
        raise CropsError(f"The scenes have different band counts ({detail}); give scenes with the same bands.")
    bands = counts.pop()
    types = {gdal.GetDataTypeName(t) for _, _, t, _ in infos}
    if len(types) > 1:
        raise CropsError(f"The scenes have different data types ({', '.join(sorted(types))}); convert them to one.")
    checked = (("RED_BAND", options.red_band), ("NIR_BAND", options.nir_band), ("MASK_BAND", options.mask_band))
    for name, value in checked:
        if value is not None and not 1 <= value <= bands:
            raise CropsError(f"{name} {value} is out of range: the scenes have bands 1..{bands}.")
    if options.red_band == options.nir_band:
        raise CropsError(f"RED_BAND and NIR_BAND are both {options.red_band}; NDVI needs two different bands.")
    if options.mask_band in (options.red_band, options.nir_band):
        raise CropsError(f"MASK_BAND {options.mask_band} is also the red or NIR band; pick the mask band.")
    first_ds = infos[0][3]
    dtype = numpy_type(first_ds.GetRasterBand(1).DataType)
    out_bands = [b for b in range(1, bands + 1) if b != options.mask_band]
    descriptions = [first_ds.GetRasterBand(b).GetDescription() or f"B{b}" for b in out_bands]
    nodata = _band_nodata(first_ds, options.red_band)
    if nodata is None:
        nodata = _band_nodata(first_ds, 1)
    if nodata is None:
        nodata = float("nan") if dtype.kind == "f" else 0.0

    grid = output_grid(chosen[0], options)
    aoi = None
    if options.aoi:
        aoi = AreaOfInterest.prepare(options.aoi, grid)
        try:
            grid = _crop(grid, aoi.bounds)
        except CropsError:
            aoi.close()
            raise

    try:
        sources, masks, kept, red_nd, nir_nd, red_off, nir_off = [], [], [], [], [], [], []
        has_mask = []
        for scene, _, _, ds in infos:
            if not _overlaps(Grid.of(ds), grid):
                progress.warn(f"{scene.path.name} does not overlap the output extent; it is left out.")
                continue
            src = _source(scene.path, grid, options.resampling, keep_nodata=True)
            mask = None
            if options.mask_band is None and scene.mask is not None:
                _check_mask_covers(scene.mask, scene.path, Grid.of(ds))
                mask = _source(scene.mask, grid, "near", keep_nodata=False)
            has_mask.append(options.mask_band is not None or mask is not None)
            sources.append(src)
            masks.append(mask)
            kept.append(scene)
            red_nd.append(_band_nodata(ds, options.red_band))
            nir_nd.append(_band_nodata(ds, options.nir_band))
            for band, target in ((options.red_band, red_off), (options.nir_band, nir_off)):
                if options.offset is not None:
                    target.append(float(options.offset))
                else:
                    dn = scene.dn_offset(band)
                    if dn is not None and dn > 0:
                        progress.warn(f"{scene.path.name} declares a positive DN offset {dn:g}; ESA's "
                                      "BOA_ADD_OFFSET is negative (-1000). It is applied as given.")
                    target.append((dn or 0.0) * options.scale)
        if not kept:
            raise CropsError("No scene overlaps the output extent; check EXTENT / MASK against the scenes.")
        if any(has_mask) and not all(has_mask):
            progress.warn("Some scenes have a cloud mask and some do not; the unmasked ones count as all clear.")
        if not any(has_mask):
            progress.log("No cloud mask: every observation with red and NIR data counts as clear.")
        windows = _window_layout(grid, sources[0], options)
        doy = np.array([s.date.timetuple().tm_yday for s in kept], dtype=np.float32)
        invalid = np.array(sorted(set(int(c) for c in options.invalid_classes)), dtype=np.int64)
        return _Plan(kept, grid, sources, masks, out_bands, descriptions, dtype, float(nodata),
                     red_nd, nir_nd, red_off, nir_off, doy, windows, aoi, invalid)
    except BaseException:
        if aoi is not None:
            aoi.close()
        raise


# -- the per-window rule ------------------------------------------------------------------------

def _ndvi_into(red_dn: np.ndarray, nir_dn: np.ndarray, scale: float, red_offset: float, nir_offset: float,
               red: np.ndarray, nir: np.ndarray, out: np.ndarray) -> np.ndarray:
    """NDVI into `out` (float32 buffers `red`, `nir` are overwritten); the one formula of the rule.

    Reflectance is DN * scale + offset in float32; adding a zero offset is skipped (x + 0 == x).
    """
    s = np.float32(scale)
    np.multiply(red_dn, s, out=red, dtype=np.float32)
    if red_offset:
        red += np.float32(red_offset)
    np.multiply(nir_dn, s, out=nir, dtype=np.float32)
    if nir_offset:
        nir += np.float32(nir_offset)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.subtract(nir, red, out=out)
        np.add(nir, red, out=nir)
        np.divide(out, nir, out=out)
    return out


def ndvi(red_dn: np.ndarray, nir_dn: np.ndarray, scale: float, red_offset: float = 0.0,
         nir_offset: float = 0.0) -> np.ndarray:
    """NDVI in float32 on reflectance DN * scale + offset; inf/nan where NIR + RED = 0."""
    shape = np.broadcast(red_dn, nir_dn).shape
    red, nir, out = (np.empty(shape, dtype=np.float32) for _ in range(3))
    return _ndvi_into(red_dn, nir_dn, scale, red_offset, nir_offset, red, nir, out)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


class _Select:
    """`dst[..., m] = src[..., m]` without branches: `dst ^= (dst ^ src) & mask` on the bits.

    `np.copyto(where=)` on a scattered mask is ~10x slower (a branch per element); bit
    selection copies values exactly, whatever their type (float NaN payloads included).
    """

    def __init__(self, shape: tuple[int, int], bands: int) -> None:
        self.shape, self.bands = shape, bands
        self.masks: dict[int, np.ndarray] = {}
        self.scratch: dict[tuple[int, int], np.ndarray] = {}
        self.chosen: np.ndarray | None = None

    def take(self, chosen: np.ndarray) -> None:
        self.chosen = chosen
        self.masks.clear()

    def __call__(self, dst: np.ndarray, src: np.ndarray | int) -> None:
        size = dst.dtype.itemsize
        unsigned = _UNSIGNED[size]
        mask = self.masks.get(size)
        if mask is None:
            mask = self.masks[size] = np.multiply(self.chosen, np.iinfo(unsigned).max, dtype=unsigned)
        key = (size, dst.ndim)
        scratch = self.scratch.get(key)
        if scratch is None:
            scratch = self.scratch[key] = np.empty(dst.shape, dtype=unsigned)
        d = dst.view(unsigned)
        other = src.view(unsigned) if isinstance(src, np.ndarray) else unsigned(src & np.iinfo(unsigned).max)
        np.bitwise_xor(d, other, out=scratch)
        np.bitwise_and(scratch, mask, out=scratch)
        np.bitwise_xor(d, scratch, out=d)


_LOOKUP: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}


def _clear(classes: np.ndarray, invalid: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Pixels whose mask class is not invalid, into `out`; a lookup table for 8/16-bit masks."""
    if classes.dtype in (np.uint8, np.uint16):
        key = (classes.dtype.str, tuple(int(c) for c in invalid))
        lut = _LOOKUP.get(key)
        if lut is None:
            lut = np.ones(np.iinfo(classes.dtype).max + 1, dtype=bool)
            lut[invalid[(invalid >= 0) & (invalid < lut.size)]] = False
            lut = _LOOKUP.setdefault(key, lut)
        return np.take(lut, classes, out=out)
    np.copyto(out, np.isin(classes, invalid, invert=True))
    return out


class _Reader:
    """One thread's open datasets (GDAL datasets are not thread-safe) and its AOI layer."""

    def __init__(self, plan: _Plan) -> None:
        self.scenes = [gdal.Open(s.open_as) for s in plan.sources]
        self.masks = [gdal.Open(m.open_as) if m is not None else None for m in plan.masks]
        self.aoi = plan.aoi.open() if plan.aoi is not None else None

    def close(self) -> None:
        self.scenes, self.masks, self.aoi = [], [], None


@dataclass
class _WindowResult:
    window: tuple[int, int, int, int]
    composite: np.ndarray
    qa: np.ndarray | None
    inside: int
    clear: int
    sample: np.ndarray | None


def _composite_window(plan: _Plan, reader: _Reader, win: tuple[int, int, int, int], want_qa: bool,
                      options: CompositeOptions, rgb: tuple[int, int, int] | None, sample_n: int,
                      cancel: Any) -> _WindowResult:
    """The rule on one window, date by date: one date's bands in memory at a time.

    Buffers are allocated once per window and every step writes into them (numpy work per
    date is then a few passes over the window, small beside decoding the scene's tiles).
    """
    xoff, yoff, xs, ys = win
    shape = (ys, xs)
    out = np.full((len(plan.out_bands), ys, xs), plan.nodata, dtype=plan.dtype)
    inside = pixels_inside(reader.aoi[1], plan.grid, win) if reader.aoi is not None else None
    best = np.full(shape, -np.inf, dtype=np.float32)
    chosen = np.full(shape, -1, dtype=np.int16)
    count = np.zeros(shape, dtype=np.int16)
    if inside is None or inside.any():
        red_nir = [options.red_band, options.nir_band]
        if options.mask_band is not None:
            red_nir.append(options.mask_band)
        valid, test, better = (np.empty(shape, dtype=bool) for _ in range(3))
        fr, fn, v = (np.empty(shape, dtype=np.float32) for _ in range(3))
        rn_buf = np.empty((len(red_nir), ys, xs), dtype=plan.dtype)
        band_buf = np.empty((len(plan.out_bands), ys, xs), dtype=plan.dtype)
        mask_buf: np.ndarray | None = None
        select = _Select(shape, len(plan.out_bands))
        for t, src in enumerate(plan.sources):
            cancel.check()
            mask_src = plan.masks[t]
            if mask_src is not None:
                dtype = numpy_type(reader.masks[t].GetRasterBand(1).DataType)
                if mask_buf is None or mask_buf.dtype != dtype:
                    mask_buf = np.empty((1, ys, xs), dtype=dtype)
                m, covered = mask_src.read(reader.masks[t], [1], win, 0, mask_buf)
                if m is None:
                    continue
                _clear(m[0], plan.invalid, valid)
                if covered is not None:
                    valid &= covered
                if inside is not None:
                    valid &= inside
                if not valid.any():
                    continue
            elif inside is not None:
                np.copyto(valid, inside)
            else:
                valid.fill(True)
            arr, covered = src.read(reader.scenes[t], red_nir, win, plan.nodata, rn_buf)
            if arr is None:
                continue
            red, nir = arr[0], arr[1]
            if covered is not None:
                valid &= covered
            if options.mask_band is not None:
                valid &= _clear(arr[2], plan.invalid, test)
            if plan.red_nodata[t] is not None:
                valid &= np.not_equal(red, plan.red_nodata[t], out=test)
            if plan.nir_nodata[t] is not None:
                valid &= np.not_equal(nir, plan.nir_nodata[t], out=test)
            _ndvi_into(red, nir, options.scale, plan.red_offsets[t], plan.nir_offsets[t], fr, fn, v)
            valid &= np.isfinite(v, out=test)
            count += valid
            np.greater(v, best, out=better)
            better &= valid
            if not better.any():
                continue
            data, _ = src.read(reader.scenes[t], plan.out_bands, win, plan.nodata, band_buf)
            select.take(better)
            select(best, v)
            select(chosen, t)
            select(out, data)
    found = chosen >= 0
    qa = None
    if want_qa:
        qa = np.full((3, ys, xs), QA_NODATA, dtype=np.float32)
        qa[0][found] = best[found]
        qa[1][found] = plan.day_of_year[chosen[found]]
        qa[2] = count
        if inside is not None:
            qa[2][~inside] = QA_NODATA
    sample = None
    if rgb is not None and found.any():
        idx = np.flatnonzero(found)
        idx = idx[:: max(1, len(idx) // max(1, sample_n))]
        sample = np.stack([out[b - 1].reshape(-1)[idx] for b in rgb])
    n_inside = int(inside.sum()) if inside is not None else xs * ys
    return _WindowResult(win, out, qa, n_inside, int(found.sum()), sample)


# -- output --------------------------------------------------------------------------------------

_RGB_NAMES = (("B04", "B4", "RED"), ("B03", "B3", "GREEN"), ("B02", "B2", "BLUE"))


def rgb_bands(descriptions: Sequence[str], red_band: int) -> tuple[int, int, int] | None:
    """Output bands (1-based) for a natural-colour view: by name (B04/B03/B02), else red, red-1, red-2."""
    upper = [d.strip().upper() for d in descriptions]
    found = []
    for names in _RGB_NAMES:
        hit = next((i + 1 for i, d in enumerate(upper) if d in names), None)
        found.append(hit)
    if all(found):
        return found[0], found[1], found[2]
    if red_band >= 3 and red_band <= len(descriptions):
        return red_band, red_band - 1, red_band - 2
    return None


def _stretch(samples: list[np.ndarray], nodata: float) -> list[tuple[float, float]]:
    if not samples:
        return [(0.0, 2000.0)] * 3
    values = np.concatenate(samples, axis=1).astype(np.float64)
    ranges = []
    for row in values:
        row = row[np.isfinite(row) & (row != nodata)]
        if row.size == 0:
            ranges.append((0.0, 2000.0))
            continue
        lo, hi = np.percentile(row, [2, 98])
        ranges.append((float(lo), float(hi if hi > lo else lo + 1)))
    return ranges


def _tile_aligned(windows: Sequence[tuple[int, int, int, int]], block: tuple[int, int], grid: Grid) -> bool:
    """Whether every window covers whole output tiles (then each can be flushed when written)."""
    bx, by = block
    for xoff, yoff, xs, ys in windows:
        if xoff % bx or yoff % by:
            return False
        if (xoff + xs) % bx and xoff + xs != grid.width:
            return False
        if (yoff + ys) % by and yoff + ys != grid.height:
            return False
    return True


def _cache_bytes(grid: Grid, block: tuple[int, int], pixel_bytes: int, flush_each: bool) -> int:
    """GDAL block cache for one run: the windows in flight, plus two output tile rows when
    windows straddle output tiles (so a tile is compressed once, when complete)."""
    need = GDAL_CACHE_BYTES
    if not flush_each:
        tiles_across = -(-grid.width // block[0])
        need += 2 * tiles_across * block[0] * block[1] * pixel_bytes
    return min(need, GDAL_CACHE_MAX_BYTES)


@contextmanager
def _gdal_cache(limit: int) -> Iterator[None]:
    """Bound GDAL's block cache (default 5% of RAM) so memory stays flat; restore it after."""
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(min(before, limit) if before > 0 else limit)
    try:
        yield
    finally:
        gdal.SetCacheMax(before)


def _finish(ds: gdal.Dataset, resampling: str, progress: Progress) -> None:
    """Overviews with progress; cancel stops the build (GDAL aborts when the callback fails)."""
    cancelled = []

    def callback(complete: float, message: Any, data: Any) -> int:
        try:
            progress(complete, "Building overviews")
        except Cancelled:
            cancelled.append(True)
            return 0
        return 1

    try:
        finish_geotiff(ds, overviews=True, resampling=resampling, callback=callback)
    except RuntimeError:
        if cancelled:
            raise Cancelled() from None
        raise


def ndvi_quality_mosaic(
    scenes: Sequence[Scene],
    output: str | os.PathLike[str],
    options: CompositeOptions | None = None,
    output_qa: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Composite `scenes` into `output` (and the QA raster `output_qa`); returns paths and figures.

    Everything is checked before any file is written; on error or cancel no output is left.
    """
    options = options or CompositeOptions()
    progress = progress or silent()
    output = Path(output)
    if output_qa is not None and Path(output_qa).resolve() == output.resolve():
        raise CropsError("OUTPUT and OUTPUT_QA are the same file; give the QA raster its own name.")
    plan = _plan(scenes, options, progress)
    try:
        return _run(plan, output, Path(output_qa) if output_qa else None, options, progress)
    finally:
        if plan.aoi is not None:
            plan.aoi.close()


def _run(plan: _Plan, output: Path, output_qa: Path | None, options: CompositeOptions,
         progress: Progress) -> dict[str, Any]:
    grid, windows = plan.grid, plan.windows
    progress.log(
        f"NDVI quality mosaic of {len(plan.scenes)} scenes ({plan.scenes[0].date} .. {plan.scenes[-1].date}) "
        f"on a {grid.width} x {grid.height} grid, {len(windows)} windows."
    )
    rgb = rgb_bands(plan.descriptions, plan.out_bands.index(options.red_band) + 1)
    sample_n = max(16, 200_000 // max(1, len(windows)))
    metadata = {
        "CROPS_METHOD": "NDVI quality mosaic (max NDVI of clear observations, earliest on ties)",
        "CROPS_DATES": ",".join(s.date.isoformat() for s in plan.scenes),
        "CROPS_RED_BAND": str(options.red_band),
        "CROPS_NIR_BAND": str(options.nir_band),
        "CROPS_SCALE": f"{options.scale:g}",
    }
    local = threading.local()
    readers: list[_Reader] = []
    readers_lock = threading.Lock()

    def reader() -> _Reader:
        r = getattr(local, "reader", None)
        if r is None:
            r = local.reader = _Reader(plan)
            with readers_lock:
                readers.append(r)
        return r

    stop = threading.Event()  # set when the run fails, so the other workers quit at their next date

    class _Check:
        def check(self) -> None:
            if stop.is_set():
                raise Cancelled("Stopped because another window failed.")
            progress.check()

    check = _Check()

    def work(win: tuple[int, int, int, int]) -> _WindowResult:
        return _composite_window(plan, reader(), win, output_qa is not None, options, rgb, sample_n, check)

    windows_progress = progress.sub(0.0, 0.85)
    samples: list[np.ndarray] = []
    inside_total = clear_total = 0
    open_ds: dict[str, gdal.Dataset] = {}
    with ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(output))
        tmp_qa = stack.enter_context(atomic_path(output_qa)) if output_qa is not None else None
        stack.callback(open_ds.clear)  # close outputs before a failed run's files are removed
        stack.callback(lambda: [r.close() for r in readers])
        open_ds["composite"] = create_geotiff(tmp, grid, len(plan.out_bands), plan.dtype, plan.nodata,
                                              plan.descriptions, metadata)
        if tmp_qa is not None:
            open_ds["qa"] = create_geotiff(tmp_qa, grid, 3, np.float32, QA_NODATA, QA_BANDS,
                                           {**metadata, "CROPS_QA": "max NDVI, day of year of the chosen date, "
                                                                    "valid observations"},
                                           predictor=False)  # float predictor: slower and larger here
        out_block = open_ds["composite"].GetRasterBand(1).GetBlockSize()
        flush_each = _tile_aligned(windows, out_block, grid)
        pixel_bytes = len(plan.out_bands) * plan.dtype.itemsize + (12 if tmp_qa is not None else 0)
        stack.enter_context(_gdal_cache(_cache_bytes(grid, out_block, pixel_bytes, flush_each)))
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="crops-qm"))
        pending: deque[Future[_WindowResult]] = deque()
        stack.callback(lambda: [f.cancel() for f in pending])  # on failure: queued windows never start
        stack.callback(stop.set)  # and running ones stop at their next date, before the pool's exit waits
        todo = iter(windows)
        for win in todo:
            pending.append(pool.submit(work, win))
            if len(pending) >= 2 * options.workers:
                break
        done = 0
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(work, nxt))
            xoff, yoff, _, _ = result.window
            ds = open_ds["composite"]
            for i in range(result.composite.shape[0]):
                ds.GetRasterBand(i + 1).WriteArray(result.composite[i], xoff, yoff)
            if "qa" in open_ds and result.qa is not None:
                for i in range(3):
                    open_ds["qa"].GetRasterBand(i + 1).WriteArray(result.qa[i], xoff, yoff)
            if flush_each:  # whole output tiles: compress them now, while the workers read
                for out_ds in open_ds.values():
                    out_ds.FlushCache()
            inside_total += result.inside
            clear_total += result.clear
            if result.sample is not None:
                samples.append(result.sample)
            done += 1
            windows_progress(done / len(windows), f"Window {done}/{len(windows)}")
        _finish(open_ds.pop("composite"), "NEAREST", progress.sub(0.85, 0.97 if tmp_qa is not None else 1.0))
        if rgb is not None:
            write_rgb_style(tmp, *rgb, _stretch(samples, plan.nodata))
        if tmp_qa is not None:
            _finish(open_ds.pop("qa"), "NEAREST", progress.sub(0.97, 1.0))
            write_ramp_style(tmp_qa)
    clear_fraction = clear_total / inside_total if inside_total else 0.0
    progress.metric("clear_fraction", clear_fraction)
    if clear_total == 0:
        progress.warn("No pixel had a clear observation: the composite is all nodata. Check the masks, "
                      "INVALID_CLASSES and the date window.")
    progress(1.0, "Done")
    return {
        "output": str(output),
        "output_qa": str(output_qa) if output_qa is not None else None,
        "scenes": len(plan.scenes),
        "first_date": plan.scenes[0].date.isoformat(),
        "last_date": plan.scenes[-1].date.isoformat(),
        "width": grid.width,
        "height": grid.height,
        "windows": len(windows),
        "clear_fraction": round(clear_fraction, 6),
    }

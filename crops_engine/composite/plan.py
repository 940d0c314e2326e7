"""The plan of a composite: every input checked and opened before any output exists.

The scenes in the date window must share band count and data type; red, NIR and mask bands
must exist and differ. Each scene (and its cloud mask) becomes a `GridSource` on the output grid,
with its red / NIR nodata and reflectance offsets; scenes that miss the output extent are left
out. Windows follow the first scene's blocks, so every block is decoded once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from osgeo import gdal

from ..aoi import AreaOfInterest
from ..errors import CropsError
from ..progress import Progress
from ..raster import Grid, numpy_type, open_raster
from ..scenes import Scene, select_dates
from .grid import crop, output_grid, overlaps
from .options import RESAMPLING, CompositeOptions
from .sources import GridSource, check_mask_covers, open_source

WINDOW_PIXELS = 512 * 512  # target window area when the rasters' blocks are small

Window = tuple[int, int, int, int]  # xoff, yoff, xsize, ysize on the output grid


@dataclass(frozen=True)
class SceneInput:
    """One date as the rule reads it: the scene and its mask on the output grid, nodata and offsets."""

    scene: Scene
    source: GridSource
    mask: GridSource | None
    red_nodata: float | None
    nir_nodata: float | None
    red_offset: float  # added to DN * SCALE to give reflectance
    nir_offset: float


@dataclass
class Plan:
    """What a composite reads and writes; `close` releases the area of interest."""

    options: CompositeOptions
    inputs: list[SceneInput]  # in acquisition order
    grid: Grid
    out_bands: list[int]  # 1-based scene bands written (all but MASK_BAND)
    descriptions: list[str]
    dtype: np.dtype
    nodata: float
    day_of_year: np.ndarray  # per input
    windows: list[Window]
    invalid: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))  # mask classes not clear
    aoi: AreaOfInterest | None = None

    @property
    def scenes(self) -> list[Scene]:
        return [i.scene for i in self.inputs]

    def close(self) -> None:
        if self.aoi is not None:
            self.aoi.close()


def plan_mosaic(scenes: Sequence[Scene], options: CompositeOptions, progress: Progress) -> Plan:
    """Check and open everything a composite of `scenes` needs; raises CropsError naming the problem."""
    _check_options(options)
    chosen = select_dates(scenes, options.start_date, options.end_date)
    datasets = [open_raster(scene.path) for scene in chosen]  # each scene opened once
    bands = _common_bands(chosen, datasets)
    options = resolve_bands(options, chosen, datasets)  # band names (B04, B8A) -> numbers
    _check_bands(options, bands)
    first = datasets[0]
    dtype = numpy_type(first.GetRasterBand(1).DataType)
    out_bands = [b for b in range(1, bands + 1) if b != options.mask_band]
    descriptions = [first.GetRasterBand(b).GetDescription() or f"B{b}" for b in out_bands]
    nodata = _band_nodata(first, options.red_band)
    if nodata is None:
        nodata = _band_nodata(first, 1)
    if nodata is None:
        nodata = float("nan") if dtype.kind == "f" else 0.0

    grid = output_grid(chosen[0], options)
    aoi = None
    if options.aoi:
        aoi = AreaOfInterest.prepare(options.aoi, grid)
        try:
            grid = crop(grid, aoi.bounds)
        except CropsError:
            aoi.close()
            raise
    try:
        inputs = _scene_inputs(chosen, datasets, grid, options, progress)
        windows = window_layout(grid, inputs[0].source, options)
        doy = np.array([i.scene.date.timetuple().tm_yday for i in inputs], dtype=np.float32)
        invalid = np.array(sorted(set(int(c) for c in options.invalid_classes)), dtype=np.int64)
        return Plan(options, inputs, grid, out_bands, descriptions, dtype, float(nodata), doy, windows, invalid, aoi)
    except BaseException:
        if aoi is not None:
            aoi.close()
        raise


def _check_options(options: CompositeOptions) -> None:
    if options.workers < 1:
        raise CropsError("workers must be at least 1.")
    if options.resampling not in RESAMPLING:
        raise CropsError(f"Resampling {options.resampling!r} is not one of {', '.join(RESAMPLING)}.")
    if options.scale == 0:
        raise CropsError("SCALE must not be 0; Sentinel-2 L2A DNs use 0.0001.")


def _common_bands(scenes: list[Scene], datasets: list[gdal.Dataset]) -> int:
    """The band count all scenes share (and share one data type), else a CropsError listing them."""
    counts = {ds.RasterCount for ds in datasets}
    if len(counts) > 1:
        by_count: dict[int, list[str]] = {}
        for scene, ds in zip(scenes, datasets, strict=True):
            by_count.setdefault(ds.RasterCount, []).append(scene.path.name)
        detail = "; ".join(f"{n} bands: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                           for n, names in sorted(by_count.items()))
        raise CropsError(f"The scenes have different band counts ({detail}); give scenes with the same bands.")
    types = {gdal.GetDataTypeName(ds.GetRasterBand(1).DataType) for ds in datasets}
    if len(types) > 1:
        raise CropsError(f"The scenes have different data types ({', '.join(sorted(types))}); convert them to one.")
    return counts.pop()


def _band_key(name: str) -> str:
    """`B4`, `b04` and `B04` compare equal (Sentinel-2 names with or without the leading zero)."""
    key = name.strip().upper()
    return re.sub(r"^B0+(?=\d)", "B", key)


def band_number(value: int | str | None, descriptions: Sequence[str], name: str, where: str) -> int | None:
    """A band given as a 1-based number or a band name (the scene's band description, e.g. `B04`, `B8A`).

    `descriptions` are the bands' descriptions in order ('' where a band has none); `name` is the
    parameter (RED_BAND) and `where` the scene the names come from, both for the error message.
    """
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.lstrip("+-").isdigit():
        return int(text)
    named = [d for d in descriptions if d]
    if not named:
        raise CropsError(f"{name} {text!r} is a band name, but the bands of {where} have no names (descriptions); "
                         f"give the band number instead (1..{len(descriptions)}).")
    matches = [i + 1 for i, d in enumerate(descriptions) if d and _band_key(d) == _band_key(text)]
    if not matches:
        listed = ", ".join(d or f"#{i + 1}" for i, d in enumerate(descriptions))
        raise CropsError(f"{name} {text!r} is not a band of {where}; its bands are {listed} (or give a number, "
                         "1-based).")
    if len(matches) > 1:
        raise CropsError(f"{name} {text!r} names bands {', '.join(map(str, matches))} of {where}; give the band "
                         "number.")
    return matches[0]


def resolve_bands(options: CompositeOptions, scenes: Sequence[Scene], datasets: Sequence[gdal.Dataset]
                  ) -> CompositeOptions:
    """The options with RED_BAND / NIR_BAND / MASK_BAND as numbers; a name must mean one band in every scene."""
    fields = {"red_band": "RED_BAND", "nir_band": "NIR_BAND", "mask_band": "MASK_BAND"}
    if all(not isinstance(getattr(options, f), str) for f in fields):
        return options
    resolved: dict[str, int | None] = {}
    for attr, name in fields.items():
        value = getattr(options, attr)
        numbers = {band_number(value, [ds.GetRasterBand(b + 1).GetDescription() for b in range(ds.RasterCount)],
                               name, scene.path.name) for scene, ds in zip(scenes, datasets, strict=True)}
        if len(numbers) > 1:
            raise CropsError(f"{name} {value!r} is band {' in some scenes and band '.join(map(str, sorted(numbers)))} "
                             "in others; give scenes with one band order, or the band number.")
        resolved[attr] = numbers.pop()
    return replace(options, **resolved)


def _check_bands(options: CompositeOptions, bands: int) -> None:
    checked = (("RED_BAND", options.red_band), ("NIR_BAND", options.nir_band), ("MASK_BAND", options.mask_band))
    for name, value in checked:
        if value is not None and not 1 <= value <= bands:
            raise CropsError(f"{name} {value} is out of range: the scenes have bands 1..{bands}.")
    if options.red_band == options.nir_band:
        raise CropsError(f"RED_BAND and NIR_BAND are both {options.red_band}; NDVI needs two different bands.")
    if options.mask_band in (options.red_band, options.nir_band):
        raise CropsError(f"MASK_BAND {options.mask_band} is also the red or NIR band; pick the mask band.")


def _band_nodata(ds: gdal.Dataset, band: int) -> float | None:
    return ds.GetRasterBand(band).GetNoDataValue()


def _scene_inputs(scenes: list[Scene], datasets: list[gdal.Dataset], grid: Grid, options: CompositeOptions,
                  progress: Progress) -> list[SceneInput]:
    """The scenes that overlap `grid`, as the rule reads them; says how clouds are masked."""
    inputs, has_mask = [], []
    for scene, ds in zip(scenes, datasets, strict=True):
        if not overlaps(Grid.of(ds), grid):
            progress.warn(f"{scene.path.name} does not overlap the output extent; it is left out.")
            continue
        src = open_source(scene.path, grid, options.resampling, keep_nodata=True)
        mask = None
        if options.mask_band is None and scene.mask is not None:
            check_mask_covers(scene.mask, scene.path, Grid.of(ds))
            mask = open_source(scene.mask, grid, "near", keep_nodata=False)
        has_mask.append(options.mask_band is not None or mask is not None)
        red_offset, nir_offset = (_offset(scene, band, options, progress) for band in (options.red_band,
                                                                                       options.nir_band))
        inputs.append(SceneInput(scene, src, mask, _band_nodata(ds, options.red_band),
                                 _band_nodata(ds, options.nir_band), red_offset, nir_offset))
    if not inputs:
        raise CropsError("No scene overlaps the output extent; check EXTENT / MASK against the scenes.")
    if any(has_mask) and not all(has_mask):
        progress.warn("Some scenes have a cloud mask and some do not; the unmasked ones count as all clear.")
    if not any(has_mask):
        progress.log("No cloud mask: every observation with red and NIR data counts as clear.")
    return inputs


def _offset(scene: Scene, band: int, options: CompositeOptions, progress: Progress) -> float:
    """Reflectance offset of a band: OFFSET when given, else the scene's DN offset times SCALE."""
    if options.offset is not None:
        return float(options.offset)
    dn = scene.dn_offset(band)
    if dn is not None and dn > 0:
        progress.warn(f"{scene.path.name} declares a positive DN offset {dn:g}; ESA's "
                      "BOA_ADD_OFFSET is negative (-1000). It is applied as given.")
    return (dn or 0.0) * options.scale


def _edges(length: int, step: int, phase: int) -> list[tuple[int, int]]:
    """Spans covering [0, length) whose inner edges fall on multiples of `step` shifted by `phase`."""
    spans, start = [], 0
    stop = step - (phase % step) if phase % step else step
    while start < length:
        stop = min(stop, length)
        spans.append((start, stop - start))
        start, stop = stop, stop + step
    return spans


def window_layout(plan_grid: Grid, first: GridSource, options: CompositeOptions) -> list[Window]:
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

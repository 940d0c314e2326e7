"""The rule of the NDVI quality mosaic on one window: per pixel, the clear date with the highest NDVI.

An observation is valid when its mask class is not invalid, its red and NIR bands are not nodata,
the scene covers the pixel (inside the area of interest) and its NDVI is finite; the valid
observation with the largest NDVI wins, the earliest on a tie (dates in order, strict `>`).
Buffers are allocated once per window and every step writes into them: numpy work per date is a
few passes over the window, small beside decoding the scene's tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from osgeo import gdal

from ..aoi import pixels_inside
from ..raster import numpy_type
from .options import QA_NODATA
from .plan import Plan, SceneInput, Window


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


class Cancel(Protocol):
    def check(self) -> None: ...


class WindowReader:
    """One thread's open datasets (GDAL datasets are not thread-safe) and its AOI layer."""

    def __init__(self, plan: Plan) -> None:
        self.scenes = [gdal.Open(i.source.open_as) for i in plan.inputs]
        self.masks = [gdal.Open(i.mask.open_as) if i.mask is not None else None for i in plan.inputs]
        self.aoi = plan.aoi.open() if plan.aoi is not None else None

    def close(self) -> None:
        self.scenes, self.masks, self.aoi = [], [], None


@dataclass
class WindowResult:
    window: Window
    composite: np.ndarray
    qa: np.ndarray | None  # max NDVI, day of year, valid observations
    inside: int  # pixels inside the area of interest
    clear: int  # pixels with a clear observation
    sample: np.ndarray | None  # RGB values of some chosen pixels, for the style's stretch


class WindowComposite:
    """The rule on one window, date by date, with one date's bands in memory at a time."""

    def __init__(self, plan: Plan, reader: WindowReader, win: Window) -> None:
        self.plan, self.reader, self.win = plan, reader, win
        _, _, xs, ys = win
        shape = (ys, xs)
        self.out = np.full((len(plan.out_bands), ys, xs), plan.nodata, dtype=plan.dtype)
        self.inside = pixels_inside(reader.aoi[1], plan.grid, win) if reader.aoi is not None else None
        self.best = np.full(shape, -np.inf, dtype=np.float32)
        self.chosen = np.full(shape, -1, dtype=np.int16)
        self.count = np.zeros(shape, dtype=np.int16)

    def run(self, cancel: Cancel) -> None:
        """Every date into the window (none when the window lies outside the area of interest)."""
        if self.inside is not None and not self.inside.any():
            return
        options, plan = self.plan.options, self.plan
        _, _, xs, ys = self.win
        shape = (ys, xs)
        self.red_nir = [options.red_band, options.nir_band]
        if options.mask_band is not None:
            self.red_nir.append(options.mask_band)
        self.valid, self.test, self.better = (np.empty(shape, dtype=bool) for _ in range(3))
        self.fr, self.fn, self.v = (np.empty(shape, dtype=np.float32) for _ in range(3))
        self.rn_buf = np.empty((len(self.red_nir), ys, xs), dtype=plan.dtype)
        self.band_buf = np.empty((len(plan.out_bands), ys, xs), dtype=plan.dtype)
        self.mask_buf: np.ndarray | None = None
        self.select = _Select(shape, len(plan.out_bands))
        for t, scene in enumerate(plan.inputs):
            cancel.check()
            self._add_date(t, scene)

    def _clear_pixels(self, t: int, scene: SceneInput) -> bool:
        """`valid` = where date t's mask is clear (and inside the area); False when none is."""
        plan, valid, inside = self.plan, self.valid, self.inside
        if scene.mask is None:
            if inside is not None:
                np.copyto(valid, inside)
            else:
                valid.fill(True)
            return True
        dtype = numpy_type(self.reader.masks[t].GetRasterBand(1).DataType)
        if self.mask_buf is None or self.mask_buf.dtype != dtype:
            self.mask_buf = np.empty((1, *valid.shape), dtype=dtype)
        m, covered = scene.mask.read(self.reader.masks[t], [1], self.win, 0, self.mask_buf)
        if m is None:
            return False
        _clear(m[0], plan.invalid, valid)
        if covered is not None:
            valid &= covered
        if inside is not None:
            valid &= inside
        return bool(valid.any())

    def _add_date(self, t: int, scene: SceneInput) -> None:
        plan, options = self.plan, self.plan.options
        valid, test, better = self.valid, self.test, self.better
        if not self._clear_pixels(t, scene):
            return
        arr, covered = scene.source.read(self.reader.scenes[t], self.red_nir, self.win, plan.nodata, self.rn_buf)
        if arr is None:
            return
        red, nir = arr[0], arr[1]
        if covered is not None:
            valid &= covered
        if options.mask_band is not None:
            valid &= _clear(arr[2], plan.invalid, test)
        if scene.red_nodata is not None:
            valid &= np.not_equal(red, scene.red_nodata, out=test)
        if scene.nir_nodata is not None:
            valid &= np.not_equal(nir, scene.nir_nodata, out=test)
        _ndvi_into(red, nir, options.scale, scene.red_offset, scene.nir_offset, self.fr, self.fn, self.v)
        valid &= np.isfinite(self.v, out=test)
        self.count += valid
        np.greater(self.v, self.best, out=better)
        better &= valid
        if not better.any():
            return
        data, _ = scene.source.read(self.reader.scenes[t], plan.out_bands, self.win, plan.nodata, self.band_buf)
        self.select.take(better)
        self.select(self.best, self.v)
        self.select(self.chosen, t)
        self.select(self.out, data)

    def result(self, want_qa: bool, rgb: tuple[int, int, int] | None, sample_n: int) -> WindowResult:
        """The composite of the window, its QA bands if wanted and a sample of its RGB values."""
        _, _, xs, ys = self.win
        found, inside = self.chosen >= 0, self.inside
        qa = None
        if want_qa:
            qa = np.full((3, ys, xs), QA_NODATA, dtype=np.float32)
            qa[0][found] = self.best[found]
            qa[1][found] = self.plan.day_of_year[self.chosen[found]]
            qa[2] = self.count
            if inside is not None:
                qa[2][~inside] = QA_NODATA
        sample = None
        if rgb is not None and found.any():
            idx = np.flatnonzero(found)
            idx = idx[:: max(1, len(idx) // max(1, sample_n))]
            sample = np.stack([self.out[b - 1].reshape(-1)[idx] for b in rgb])
        n_inside = int(inside.sum()) if inside is not None else xs * ys
        return WindowResult(self.win, self.out, qa, n_inside, int(found.sum()), sample)

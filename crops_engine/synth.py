"""Realistic synthetic Sentinel-2 L2A time series of farmland, with labels: demo, tests, benchmarks.

A scene is a landscape of parcels (rotated, gently curved blocks between roads, subdivided
into fields of a few hectares) with woods, a village and ponds, observed every few days
through a season. Each field follows its crop's calendar (`phenology.py`); its spectrum is a
mix of canopy, dry matter and soil end-members by cover, with within-field and per-field
variation. Clouds, cirrus and displaced cloud shadows are drawn per date and flagged in a
Sen2Cor-style scene classification (SCL). A `Domain` sets what differs between two places or
years (timing, crop mix, atmosphere/sensor gain, cloudiness, field size), so a `source` /
`target` pair shows a clear but learnable domain shift.

Files written (the layout of `../shared/data/worldcereal`): `scenes/S2_L2A_YYYYMMDD.tif`
(10 bands UInt16, reflectance = DN / 10000, nodata 0), `scenes/S2_L2A_YYYYMMDD_SCL.tif`,
`labels.tif` (UInt8 class ids, 0 = no field), `fields.gpkg` (layer `fields`: `class_id`,
`crop`), `classes.csv` and `sample.json` (the configuration and a summary). Dates are
generated and written one at a time, in row stripes, so memory does not grow with the
number of dates. A folder appears complete or not at all.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from . import __version__
from .atomic import temporary_sibling
from .classes import CropClass, write_classes_csv
from .errors import CropsError
from .phenology import (
    BARE,
    FOREST,
    GARDEN,
    GRASSLAND,
    MAIZE,
    POTATO,
    SUGAR_BEET,
    VERGE,
    WINTER_WHEAT,
    Seasons,
    cover,
    sample_seasons,
)
from .progress import Progress, silent
from .raster import Grid, create_geotiff, epsg_wkt, finish_geotiff, set_palette
from .styles import write_class_map_style, write_rgb_style

ogr.UseExceptions()

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
RED, NIR = 2, 6
BANDS_20M = (3, 4, 5, 7, 8, 9)  # B05 B06 B07 B8A B11 B12: measured at 20 m, repeated 2 x 2
PIXEL_SIZE = 10.0
ACQUISITION_TIME = "10:56:00"
MANIFEST = "sample.json"
PRESETS = ("source", "target", "pair")

CLASSES = (
    CropClass(1, "maize", "#f2c12e", 1),
    CropClass(2, "winter wheat", "#c1763a", 2),
    CropClass(3, "sugar beet", "#7b68c8", 3),
    CropClass(4, "potato", "#e0609a", 4),
    CropClass(5, "grassland", "#5aa02c", 5),
)
# Calendar per unit kind: the crop classes first (kind = class id - 1), then unlabelled covers.
_CALENDARS = (MAIZE, WINTER_WHEAT, SUGAR_BEET, POTATO, GRASSLAND, FOREST, VERGE, GARDEN, BARE)
_K_FOREST, _K_VERGE, _K_GARDEN, _K_BARE = 5, 6, 7, 8

# Sen2Cor scene classes the generator writes, with Sen2Cor's usual colours.
SCL_SHADOW, SCL_VEGETATION, SCL_BARE, SCL_WATER, SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS = 3, 4, 5, 6, 8, 9, 10
SCL_CLOUDY = (SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH, SCL_CIRRUS)
SCL_CLASSES = (
    CropClass(3, "cloud shadow", "#643200"),
    CropClass(4, "vegetation", "#00a000"),
    CropClass(5, "not vegetated", "#ffe65a"),
    CropClass(6, "water", "#0000ff"),
    CropClass(8, "cloud medium probability", "#c0c0c0"),
    CropClass(9, "cloud high probability", "#ffffff"),
    CropClass(10, "thin cirrus", "#64c8ff"),
)

# End-member surface reflectances (0..1) in BANDS order, from Flanders 2019 L2A pixels.
_GREEN = np.array([0.028, 0.065, 0.030, 0.10, 0.34, 0.46, 0.50, 0.51, 0.20, 0.095])
_DRY = np.array([0.09, 0.125, 0.17, 0.21, 0.245, 0.27, 0.285, 0.32, 0.34, 0.22])
_SOIL = np.array([0.09, 0.13, 0.17, 0.2, 0.23, 0.25, 0.26, 0.275, 0.34, 0.30])
_FOREST_CANOPY = np.array([0.02, 0.042, 0.022, 0.075, 0.27, 0.35, 0.37, 0.38, 0.15, 0.065])
_FOREST_FLOOR = np.array([0.035, 0.055, 0.06, 0.085, 0.12, 0.14, 0.15, 0.16, 0.17, 0.11])
_ASPHALT = np.array([0.075, 0.085, 0.095, 0.105, 0.115, 0.12, 0.125, 0.13, 0.15, 0.14])
_WATER = np.array([0.045, 0.055, 0.035, 0.03, 0.02, 0.017, 0.015, 0.014, 0.008, 0.006])
_ROOFS = np.array([
    [0.065, 0.08, 0.14, 0.17, 0.19, 0.2, 0.21, 0.22, 0.26, 0.21],  # red clay tiles
    [0.11, 0.12, 0.13, 0.145, 0.155, 0.16, 0.17, 0.175, 0.2, 0.185],  # concrete, grey roofs
    [0.05, 0.055, 0.06, 0.065, 0.07, 0.072, 0.075, 0.078, 0.085, 0.08],  # dark roofs, slate
    [0.16, 0.17, 0.18, 0.19, 0.2, 0.205, 0.21, 0.215, 0.24, 0.22],  # bright sheds, paving
])
_ROOF_P = (0.38, 0.27, 0.15, 0.2)
# Canopy appearance per crop (multiplies _GREEN): visible, red edge, NIR, SWIR.
_CANOPY_FACTORS = {
    1: (1.0, 1.0, 0.95, 1.05),  # maize
    2: (0.65, 0.9, 0.86, 0.9),  # winter wheat: erect leaves, dark green
    3: (1.05, 1.05, 1.12, 0.95),  # sugar beet: planophile, bright NIR
    4: (1.0, 1.02, 1.04, 1.0),  # potato
    5: (1.1, 0.95, 0.88, 1.05),  # grassland
}
_CLOUD = np.array([0.42, 0.41, 0.40, 0.43, 0.47, 0.49, 0.50, 0.50, 0.38, 0.30])
_CIRRUS = np.array([0.07, 0.06, 0.052, 0.048, 0.044, 0.04, 0.04, 0.04, 0.022, 0.014])
_SHADOW_DEPTH = np.array([0.5, 0.55, 0.6, 0.62, 0.65, 0.66, 0.67, 0.67, 0.7, 0.7])  # share of light lost
_SENSOR_NOISE = np.array([0.0025, 0.0025, 0.0025, 0.003, 0.003, 0.003, 0.003, 0.003, 0.004, 0.004])
_STRIPE_PIXELS = 1 << 18  # pixels per row stripe: bounds working memory at any raster size


@dataclass(frozen=True)
class Domain:
    """What sets one place/season apart from another: the knobs of the domain shift.

    `class_priors` are the shares of crop fields per class (maize, winter wheat, sugar beet,
    potato, grassland); `band_gain` / `band_offset` map surface reflectance to what the scene
    holds (atmosphere, sensor calibration); `cloud_cover` is the mean share of pixels flagged
    cloud or cirrus per date; `origin` is the upper-left corner (metres) in `epsg`.
    """

    name: str = "source"
    phenology_shift: float = 0.0
    class_priors: tuple[float, ...] = (0.30, 0.25, 0.13, 0.12, 0.20)
    band_gain: tuple[float, ...] = (1.0,) * 10
    band_offset: tuple[float, ...] = (0.0,) * 10
    cloud_cover: float = 0.15
    field_area_ha: float = 4.5
    timing_sd: float = 4.0
    vigour_sd: float = 0.05
    soil_brightness: float = 1.0
    forest_fraction: float = 0.07
    urban_fraction: float = 0.04
    water_fraction: float = 0.01
    epsg: int = 32631
    origin: tuple[float, float] = (540000.0, 5650020.0)

    def __post_init__(self) -> None:
        if len(self.class_priors) != len(CLASSES) or min(self.class_priors) < 0 or sum(self.class_priors) <= 0:
            raise CropsError(f"Domain {self.name!r}: class_priors needs {len(CLASSES)} non-negative shares.")
        if len(self.band_gain) != len(BANDS) or len(self.band_offset) != len(BANDS):
            raise CropsError(f"Domain {self.name!r}: band_gain and band_offset need one value per band ({len(BANDS)}).")
        if not 0.0 <= self.cloud_cover <= 0.9:
            raise CropsError(f"Cloud cover {self.cloud_cover} is outside 0..0.9; give a share of cloudy pixels.")
        if not 0.2 <= self.field_area_ha <= 50.0:
            raise CropsError(f"Field area {self.field_area_ha} ha is outside 0.2..50 ha.")
        if not abs(self.phenology_shift) <= 60:
            raise CropsError(f"Phenology shift {self.phenology_shift} days is outside -60..60 days.")
        fractions = (self.forest_fraction, self.urban_fraction, self.water_fraction)
        if min(fractions) < 0 or sum(fractions) > 0.6:
            raise CropsError("Forest, urban and water fractions must be >= 0 and leave most land to fields.")

    def as_dict(self) -> dict:
        return asdict(self)


def preset(name: str) -> Domain:
    """The `source` or `target` domain of the sample pair."""
    if name == "source":
        return Domain()
    if name == "target":
        return Domain(
            name="target",
            phenology_shift=12.0,
            class_priors=(0.18, 0.32, 0.18, 0.10, 0.22),
            band_gain=(1.09, 1.08, 1.07, 1.06, 1.05, 1.05, 1.06, 1.06, 1.03, 1.02),
            band_offset=(0.012, 0.008, 0.004, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            cloud_cover=0.3,
            field_area_ha=3.0,
            soil_brightness=1.12,
            forest_fraction=0.05,
            urban_fraction=0.05,
            origin=(612000.0, 5618040.0),
        )
    raise CropsError(f"Unknown preset {name!r}; choose source or target (or pair for both).")


# -- smooth noise -------------------------------------------------------------------------


def _interp(grid: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
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


class _SmoothNoise:
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
            out += weight * _interp(grid, (ys + self._margin) / sy, (xs + self._margin) / sx)
        return out

    def threshold(self, height: int, width: int, share: float) -> float:
        """The level exceeded by about `share` of the pixels (estimated on a sample grid)."""
        step = max(1, min(height, width) // 160)
        sample = self.sample(np.arange(0, height, step) + 0.5, np.arange(0, width, step) + 0.5)
        return float(np.quantile(sample, 1.0 - share)) if share > 0 else float("inf")


def _centres(start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype=np.float64) + 0.5


def _stripes(height: int, width: int) -> Iterator[tuple[int, int]]:
    rows = max(2, min(height, _STRIPE_PIXELS // max(width, 1)))
    rows -= rows % 2  # even, so 20 m pixel pairs never straddle two stripes
    for r0 in range(0, height, rows):
        yield r0, min(height, r0 + rows)


# -- landscape ----------------------------------------------------------------------------

# Unit ids before compaction: a few shared units, then parcels, woods per block, village lots.
_U_ROAD, _U_VERGE, _U_WATER, _U_PARCEL0 = 1, 2, 3, 10
_MAX_STRIPS, _MAX_PIECES = 16, 8
_LOT_SIZE = 5.0  # village lots (houses and gardens), pixels


@dataclass
class _Units:
    """Per-unit tables: what each distinct piece of ground is and how it looks."""

    kind: np.ndarray  # index into _CALENDARS
    class_id: np.ndarray  # 0 = no label
    canopy: np.ndarray  # (n, 10) green canopy reflectance
    background: np.ndarray  # (n, 10) soil / road / roof / water reflectance
    texture: np.ndarray  # relative amplitude of background texture
    vigour: np.ndarray  # relative within-field amplitude of green cover
    wet: np.ndarray  # 1 where the background is soil that darkens when wet
    water: np.ndarray  # bool


@dataclass
class _Landscape:
    unit: np.ndarray  # (H, W) int32 compact unit id of every pixel
    patch: np.ndarray  # (H, W) float16 smooth within-field variation, ~N(0, 1)
    grain: np.ndarray  # (H, W) float16 fine surface texture, ~N(0, 1)
    units: _Units
    parcels: int  # number of labelled fields


def _edges(rng: np.random.Generator, lo: float, hi: float, mean: float) -> np.ndarray:
    """Road positions along one axis: irregular spacing around `mean`."""
    n = int((hi - lo) / (0.6 * mean)) + 3
    gaps = mean * rng.uniform(0.6, 1.45, n)
    return lo - mean * rng.uniform(0.2, 0.8) + np.concatenate([[0.0], np.cumsum(gaps)])


def _landscape(rng: np.random.Generator, size: int, domain: Domain) -> _Landscape:
    """Parcels in road-bounded blocks, woods, a village and ponds, as a unit id per pixel."""
    h = w = size
    theta = rng.uniform(-0.35, 0.35)
    cos, sin = math.cos(theta), math.sin(theta)
    area_px = domain.field_area_ha * 100.0  # 1 ha = 100 pixels of 10 m
    side = math.sqrt(area_px)
    warp_amp = 5.0
    corners_u = [x * cos + y * sin for x in (0, w) for y in (0, h)]
    corners_v = [-x * sin + y * cos for x in (0, w) for y in (0, h)]
    pad = 3 * warp_amp + 2
    block = side * 4.2
    eu = _edges(rng, min(corners_u) - pad, max(corners_u) + pad, block)
    ev = _edges(rng, min(corners_v) - pad, max(corners_v) + pad, block * 0.9)
    main_u, main_v = rng.random(len(eu)) < 0.35, rng.random(len(ev)) < 0.35
    nbu, nbv = len(eu) - 1, len(ev) - 1
    nblocks = nbu * nbv
    lu_len, lv_len = np.diff(eu), np.diff(ev)
    # Per block: split along u (0) or v (1), strip count and uneven widths; per strip: pieces.
    direction = rng.integers(0, 2, nblocks)
    blk_area = area_px * rng.lognormal(0.0, 0.35, nblocks)
    aspect = rng.uniform(1.3, 3.2, nblocks)
    strip_w = np.sqrt(blk_area / aspect)
    len_u = np.repeat(lu_len, nbv)
    len_v = np.tile(lv_len, nbu)
    primary = np.where(direction == 0, len_u, len_v)
    secondary = np.where(direction == 0, len_v, len_u)
    n_strips = np.clip(np.round(primary / strip_w), 1, _MAX_STRIPS).astype(np.int64)
    gamma = np.exp(rng.normal(0.0, 0.25, nblocks))
    n_pieces = np.round(secondary / (strip_w * aspect))[:, None] + rng.integers(-1, 2, (nblocks, _MAX_STRIPS))
    n_pieces = np.clip(n_pieces, 1, _MAX_PIECES).astype(np.int64)
    gamma_pieces = np.exp(rng.normal(0.0, 0.2, (nblocks, _MAX_STRIPS)))

    warp_u = _SmoothNoise(rng, h, w, (180, 90))
    warp_v = _SmoothNoise(rng, h, w, (180, 90))
    woods = _SmoothNoise(rng, h, w, (90, 45, 22))
    village = _SmoothNoise(rng, h, w, (120, 60, 25), decay=0.5)
    ponds = _SmoothNoise(rng, h, w, (45, 22, 11))
    patch = _SmoothNoise(rng, h, w, (40, 20, 10, 5), decay=0.7)
    grain = _SmoothNoise(rng, h, w, (4, 2), decay=0.8)  # plus white noise per pixel, drawn per stripe
    t_woods = woods.threshold(h, w, domain.forest_fraction * 0.5)
    t_village = village.threshold(h, w, domain.urban_fraction)
    t_ponds = ponds.threshold(h, w, domain.water_fraction)

    lot_u0 = math.floor((min(corners_u) - pad) / _LOT_SIZE)
    lot_nu = math.ceil((max(corners_u) + pad) / _LOT_SIZE) - lot_u0 + 1
    lot_v0 = math.floor((min(corners_v) - pad) / _LOT_SIZE)
    lot_nv = math.ceil((max(corners_v) + pad) / _LOT_SIZE) - lot_v0 + 1
    parcel_end = _U_PARCEL0 + nblocks * _MAX_STRIPS * _MAX_PIECES
    wood_end = parcel_end + nblocks
    unit = np.empty((h, w), dtype=np.int32)
    patch_px = np.empty((h, w), dtype=np.float16)
    grain_px = np.empty((h, w), dtype=np.float16)
    xs = _centres(0, w)
    for r0, r1 in _stripes(h, w):
        ys = _centres(r0, min(h, r1 + 1))  # one row more: field boundaries look at the next row
        uu = xs[None, :] * cos + ys[:, None] * sin + warp_amp * warp_u.sample(ys, xs)
        vv = -xs[None, :] * sin + ys[:, None] * cos + warp_amp * warp_v.sample(ys, xs)
        bu = np.clip(np.searchsorted(eu, uu, side="right") - 1, 0, nbu - 1)
        bv = np.clip(np.searchsorted(ev, vv, side="right") - 1, 0, nbv - 1)
        fu = (uu - eu[bu]) / lu_len[bu]
        fv = (vv - ev[bv]) / lv_len[bv]
        blk = bu * nbv + bv
        along_u = direction[blk] == 0
        sp = np.clip(np.where(along_u, fu, fv), 0.0, 0.999999)
        ss = np.clip(np.where(along_u, fv, fu), 0.0, 0.999999)
        strip = np.minimum((sp ** gamma[blk] * n_strips[blk]).astype(np.int64), n_strips[blk] - 1)
        pieces = n_pieces[blk, strip]
        piece = np.minimum((ss ** gamma_pieces[blk, strip] * pieces).astype(np.int64), pieces - 1)
        raw = _U_PARCEL0 + (blk * _MAX_STRIPS + strip) * _MAX_PIECES + piece
        boundary = np.zeros(raw.shape, dtype=bool)
        boundary[:-1] |= raw[:-1] != raw[1:]
        boundary[:, :-1] |= raw[:, :-1] != raw[:, 1:]
        n = r1 - r0
        raw, boundary, uu, vv, bu, bv, blk = (a[:n] for a in (raw, boundary, uu, vv, bu, bv, blk))
        ys = ys[:n]
        raw = np.where(boundary, _U_VERGE, raw)
        wood = woods.sample(ys, xs) > t_woods
        raw = np.where(wood, parcel_end + blk, raw)
        town = village.sample(ys, xs) > t_village
        lot_u = np.clip(np.floor(uu / _LOT_SIZE) - lot_u0, 0, lot_nu - 1).astype(np.int64)
        lot_v = np.clip(np.floor(vv / _LOT_SIZE) - lot_v0, 0, lot_nv - 1).astype(np.int64)
        raw = np.where(town, wood_end + lot_u * lot_nv + lot_v, raw)
        water = ponds.sample(ys, xs) > t_ponds
        raw = np.where(water, _U_WATER, raw)
        # Roads: main roads (asphalt, 2 px) and farm tracks (grass, 1 px; paved in the village).
        du_lo, du_hi = uu - eu[bu], eu[bu + 1] - uu
        dv_lo, dv_hi = vv - ev[bv], ev[bv + 1] - vv
        near_u = np.where(du_lo < du_hi, bu, bu + 1)
        near_v = np.where(dv_lo < dv_hi, bv, bv + 1)
        dist_u, dist_v = np.minimum(du_lo, du_hi), np.minimum(dv_lo, dv_hi)
        main = ((dist_u < 1.0) & main_u[near_u]) | ((dist_v < 1.0) & main_v[near_v])
        track = ~main & ((dist_u < 0.55) | (dist_v < 0.55)) & ~water
        raw = np.where(track, np.where(town, _U_ROAD, _U_VERGE), raw)
        raw = np.where(main, _U_ROAD, raw)
        unit[r0:r1] = raw
        patch_px[r0:r1] = patch.sample(ys, xs)
        grain_px[r0:r1] = 0.85 * grain.sample(ys, xs) + 0.5 * rng.standard_normal((r1 - r0, w), dtype=np.float32)

    # Compact the ids; parcel fragments too small to farm (cut by a wood or pond) become verge.
    counts = np.zeros(_U_PARCEL0, dtype=np.int64)
    for r0, r1 in _stripes(h, w):  # stripe-wise: bincount makes an int64 copy of its input
        part = np.bincount(unit[r0:r1].ravel())
        if part.size > counts.size:
            counts = np.concatenate([counts, np.zeros(part.size - counts.size, dtype=np.int64)])
        counts[: part.size] += part
    ids = np.arange(counts.size)
    is_parcel = (ids >= _U_PARCEL0) & (ids < parcel_end)
    small = is_parcel & (counts > 0) & (counts < max(25.0, 0.15 * area_px))
    present = counts > 0
    present[small] = False
    present[_U_VERGE] = True
    lut = (np.cumsum(present) - 1).astype(np.int32)
    lut[small] = lut[_U_VERGE]
    for r0, r1 in _stripes(h, w):
        unit[r0:r1] = lut[unit[r0:r1]]
    original = np.nonzero(present)[0]
    units, parcels = _unit_tables(rng, original, parcel_end, wood_end, domain)
    return _Landscape(unit, patch_px, grain_px, units, parcels)


def _unit_tables(
    rng: np.random.Generator, original: np.ndarray, parcel_end: int, wood_end: int, domain: Domain
) -> tuple[_Units, int]:
    """Kind, label and end-member spectra of every unit (`original`: its pre-compaction id)."""
    n = original.size
    kind = np.full(n, _K_BARE, dtype=np.int64)
    class_id = np.zeros(n, dtype=np.uint8)
    canopy = np.tile(_GREEN, (n, 1))
    soil_tone = domain.soil_brightness * rng.lognormal(0.0, 0.12, n)
    redness = rng.uniform(-0.015, 0.02, n)
    soil = _SOIL[None, :] * soil_tone[:, None]
    soil[:, 2:4] += redness[:, None] * soil_tone[:, None]
    background = soil.copy()
    texture = np.full(n, 0.045)
    vigour = np.full(n, 0.08)
    wet = np.ones(n)
    water = np.zeros(n, dtype=bool)

    parcel = (original >= _U_PARCEL0) & (original < parcel_end)
    wood = (original >= parcel_end) & (original < wood_end)
    lot = original >= wood_end
    # Fields: a crop drawn from the domain's priors, or now and then a woodlot.
    woodlot = parcel & (rng.random(n) < domain.forest_fraction * 0.5)
    priors = np.asarray(domain.class_priors, dtype=np.float64)
    crop = rng.choice(len(CLASSES), size=n, p=priors / priors.sum()) + 1
    field_mask = parcel & ~woodlot
    class_id[field_mask] = crop[field_mask]
    kind[field_mask] = crop[field_mask] - 1
    for c, (vis, edge, nir, swir) in _CANOPY_FACTORS.items():
        m = class_id == c
        factor = np.array([vis, vis, vis, edge, edge, edge, nir, nir, swir, swir])
        canopy[m] = _GREEN * factor * rng.uniform(0.93, 1.07, (int(m.sum()), 1))
        canopy[m, :3] *= rng.uniform(0.8, 1.25, (int(m.sum()), 1))  # leaf pigments: lighter or darker green
    forest = woodlot | wood
    kind[forest] = _K_FOREST
    canopy[forest] = _FOREST_CANOPY * rng.uniform(0.9, 1.1, (int(forest.sum()), 1))
    background[forest] = _FOREST_FLOOR
    texture[forest], vigour[forest], wet[forest] = 0.12, 0.05, 0.0
    # Verge (field margins, tracks), roads, water.
    verge = original == _U_VERGE
    kind[verge] = _K_VERGE
    canopy[verge] = _GREEN * np.array([1.1, 1.1, 1.1, 0.95, 0.95, 0.95, 0.85, 0.85, 1.05, 1.05])
    background[verge] = _SOIL * 0.9
    vigour[verge] = 0.15
    road = original == _U_ROAD
    background[road], texture[road], wet[road] = _ASPHALT, 0.04, 0.0
    is_water = original == _U_WATER
    background[is_water], texture[is_water], wet[is_water] = _WATER, 0.05, 0.0
    water[is_water] = True
    # Village lots: roofs and paving, some gardens.
    garden = lot & (rng.random(n) < 0.3)
    roofs = lot & ~garden
    kind[garden] = _K_GARDEN
    background[garden] = _SOIL * 0.8
    roof_type = rng.choice(len(_ROOFS), size=n, p=_ROOF_P)
    background[roofs] = _ROOFS[roof_type[roofs]] * rng.uniform(0.85, 1.15, (int(roofs.sum()), 1))
    texture[roofs], wet[roofs] = 0.1, 0.0
    units = _Units(
        kind=kind,
        class_id=class_id,
        canopy=canopy.astype(np.float32),
        background=background.astype(np.float32),
        texture=texture,
        vigour=vigour,
        wet=wet,
        water=water,
    )
    return units, int(field_mask.sum())


# -- clouds -------------------------------------------------------------------------------


@dataclass
class _Sky:
    """One date's clouds: thick clouds with their shadows, and thin cirrus."""

    thick: _SmoothNoise | None
    thick_level: float
    cirrus: _SmoothNoise | None
    cirrus_level: float
    shadow_offset: tuple[float, float]  # (rows, columns) from a pixel to the cloud that shades it

    def layers(self, r0: int, r1: int, width: int) -> tuple[np.ndarray, ...]:
        """Cloud opacity, shadow strength and cirrus density (0..1) of rows r0..r1."""
        ys, xs = _centres(r0, r1), _centres(0, width)
        zero = np.zeros((r1 - r0, width), dtype=np.float32)
        alpha, shade, haze = zero, zero, zero
        if self.thick is not None:
            soft = 0.35
            depth = self.thick.sample(ys, xs) - self.thick_level
            alpha = np.where(depth > 0, 0.15 + 0.85 * np.clip(depth / soft, 0.0, 1.0), 0.0).astype(np.float32)
            dy, dx = self.shadow_offset
            shade = np.clip((self.thick.sample(ys + dy, xs + dx) - self.thick_level) / soft, 0.0, 1.0)
        if self.cirrus is not None:
            density = self.cirrus.sample(ys, xs) - self.cirrus_level
            haze = np.where(density > 0, 0.35 + 0.65 * np.clip(density / 0.8, 0.0, 1.0), 0.0).astype(np.float32)
        return alpha, shade, haze


def _cloud_shares(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    """Per-date cloudy shares averaging `mean`: many clear dates, a few overcast ones.

    share = u ** g has mean 1 / (1 + g); stratified u keeps the mean close for few dates.
    """
    if mean <= 0 or n == 0:
        return np.zeros(n)
    u = (rng.permutation(n) + rng.random(n)) / n
    shares = u ** (1.0 / mean - 1.0)
    return np.where(shares < 0.005, 0.0, shares)


def _sky(rng: np.random.Generator, size: int, share: float, day_of_year: int) -> _Sky:
    if share <= 0:
        return _Sky(None, 0.0, None, 0.0, (0.0, 0.0))
    cirrus_share = share * rng.uniform(0.3, 0.8) if rng.random() < 0.3 else 0.0
    thick_share = share - cirrus_share
    # Shadows fall away from the sun (south-south-east at 11:00 in western Europe): a pixel is
    # shaded by the cloud lying sun-ward of it, further when the sun is low.
    declination = 23.44 * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    elevation = math.radians(max(15.0, 90.0 - 51.0 + declination - 4.0))
    reach = rng.uniform(600.0, 1400.0) / math.tan(elevation) / PIXEL_SIZE
    azimuth = math.radians(rng.uniform(150.0, 170.0))
    offset = (-math.cos(azimuth) * reach, math.sin(azimuth) * reach)  # rows grow southward
    margin = reach + 4
    thick = cirrus = None
    thick_level = cirrus_level = float("inf")
    if thick_share > 0:
        thick = _SmoothNoise(rng, size, size, (160, 80, 40, 20, 10, 5), decay=0.55, margin=margin)
        thick_level = thick.threshold(size, size, thick_share)
    if cirrus_share > 0:
        cirrus = _SmoothNoise(rng, size, size, (90, 45, 22), decay=0.5, stretch=(0.35, 1.6))
        # Cirrus is flagged only where no thick cloud is; aim the share at the clear rest.
        cirrus_level = cirrus.threshold(size, size, min(1.0, cirrus_share / max(1e-6, 1.0 - thick_share)))
    return _Sky(thick, thick_level, cirrus, cirrus_level, offset)


# -- one date -----------------------------------------------------------------------------


def _to_20m(a: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
    """Mean of each 2 x 2 pixel block (plus `noise`, one value a block) repeated onto the 10 m grid.

    That is what a 20 m band resampled to 10 m looks like; stripes start on even rows.
    """
    h, w = a.shape
    p = np.pad(a, ((0, h % 2), (0, w % 2)), mode="edge") if (h % 2 or w % 2) else a
    m = (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) * 0.25
    if noise is not None:
        m += noise
    return _repeat_2x2(m)[:h, :w]


def _repeat_2x2(m: np.ndarray) -> np.ndarray:
    h2, w2 = m.shape
    return np.broadcast_to(m[:, None, :, None], (h2, 2, w2, 2)).reshape(h2 * 2, w2 * 2)


def _date_tables(land: _Landscape, seasons: Seasons, day: float, wetness: float) -> tuple[np.ndarray, ...]:
    """Per-unit (band, unit) tables: reflectance = A + B * patch + C * grain."""
    u = land.units
    green, dry = cover(seasons, day)
    ahead, _ = cover(seasons, day + 1.5)
    behind, _ = cover(seasons, day - 1.5)
    rate = (ahead - behind) / 3.0  # green cover per day: within-field timing differences show here
    bare = 1.0 - green - dry
    soil = u.background * np.where(u.wet > 0, wetness, 1.0)[:, None]
    a = green[:, None] * u.canopy + dry[:, None] * _DRY + bare[:, None] * soil
    b = (u.vigour * green + 3.0 * rate)[:, None] * (u.canopy - soil)
    c = (bare * u.texture)[:, None] * soil
    return tuple(np.ascontiguousarray(t.T, dtype=np.float32) for t in (a, b, c))


def _render_stripe(
    land: _Landscape,
    tables: tuple[np.ndarray, ...],
    sky: _Sky,
    domain: Domain,
    rng: np.random.Generator,
    r0: int,
    r1: int,
) -> tuple[np.ndarray, np.ndarray]:
    """DN (10, rows, W) uint16 and SCL (rows, W) uint8 of rows r0..r1."""
    a, b, c = tables
    uid = land.unit[r0:r1]
    patch = land.patch[r0:r1].astype(np.float32)
    grain = land.grain[r0:r1].astype(np.float32)
    h, w = uid.shape
    refl = np.empty((len(BANDS), h, w), dtype=np.float32)
    for i in range(len(BANDS)):
        band = a[i][uid]
        band += b[i][uid] * patch
        band += c[i][uid] * grain
        refl[i] = band * domain.band_gain[i] + domain.band_offset[i]
    alpha, shade, haze = sky.layers(r0, r1, w)
    for i in range(len(BANDS)):
        band = refl[i]
        if sky.thick is not None:
            band *= 1.0 - _SHADOW_DEPTH[i] * shade
            band *= 1.0 - alpha
            band += alpha * (_CLOUD[i] * (0.9 + 0.15 * alpha))
        if sky.cirrus is not None:
            band += haze * _CIRRUS[i]
        if i in BANDS_20M:  # 20 m detectors: noise per 20 m pixel
            noise = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32) * _SENSOR_NOISE[i]
            refl[i] = _to_20m(band, noise)
        else:
            band += rng.standard_normal((h, w), dtype=np.float32) * _SENSOR_NOISE[i]
    dn = refl * 10000.0
    dn += 0.5
    np.maximum(dn, 1.0, out=dn)
    np.minimum(dn, 65535.0, out=dn)
    dn = dn.astype(np.uint16)

    red, nir = refl[RED], refl[NIR]
    ndvi = (nir - red) / np.maximum(nir + red, 1e-4)
    scl = np.where(ndvi > 0.4, SCL_VEGETATION, SCL_BARE).astype(np.uint8)
    scl[land.units.water[uid] & (ndvi < 0.2)] = SCL_WATER
    scl[shade > 0.3] = SCL_SHADOW
    scl[haze > 0] = SCL_CIRRUS
    scl[alpha > 0] = SCL_CLOUD_MEDIUM
    scl[alpha > 0.6] = SCL_CLOUD_HIGH
    # Sen2Cor classifies at 20 m: one class per 2 x 2 block.
    scl = _repeat_2x2(scl[::2, ::2])[:h, :w]
    return dn, scl


# -- files --------------------------------------------------------------------------------


def _dates(start: date, end: date, revisit_days: int) -> list[date]:
    if revisit_days < 1:
        raise CropsError(f"Revisit of {revisit_days} days: give at least 1 day.")
    if end < start:
        raise CropsError(f"End date {end} is before start date {start}; swap them.")
    days = (end - start).days
    return [start + timedelta(days=d) for d in range(0, days + 1, revisit_days)]


def _as_date(value: date | str, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CropsError(f"{what} {value!r} is not a date; write it as YYYY-MM-DD.") from None


def _check_size(size: int) -> int:
    if not 16 <= int(size) <= 32768:
        raise CropsError(f"Size {size} pixels is outside 16..32768; a laptop demo uses 512.")
    return int(size)


def _rng(seed: int, domain: Domain, *stream: int) -> np.random.Generator:
    key = zlib.crc32(domain.name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, key, *stream]))


@contextmanager
def _new_folder(final: Path) -> Iterator[Path]:
    """Write into a temporary sibling folder; on success it replaces `final` in one rename.

    An existing `final` is replaced only if it is empty or an earlier sample (has sample.json),
    so a mistyped OUTPUT_FOLDER never deletes a user's files.
    """
    final = Path(final)
    if final.exists():
        if not final.is_dir():
            raise CropsError(f"Output folder {final} is a file; choose a folder path.")
        if any(final.iterdir()) and not (final / MANIFEST).is_file():
            raise CropsError(
                f"Output folder {final} holds files that are not a sample scene; choose a new or empty folder."
            )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(final)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = temporary_sibling(final)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_fields(path: Path, land: _Landscape, grid: Grid) -> int:
    """Polygons of the labelled fields (GDAL Polygonize of the field ids), with their class."""
    h, w = land.unit.shape
    mem = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(grid.geotransform)
    mem.SetProjection(grid.crs_wkt)
    band = mem.GetRasterBand(1)
    labelled = land.units.class_id > 0
    field_ids = np.where(labelled, np.arange(labelled.size, dtype=np.int32) + 1, 0).astype(np.int32)
    for r0, r1 in _stripes(h, w):
        band.WriteArray(field_ids[land.unit[r0:r1]], 0, r0)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs_wkt)
    scratch = ogr.GetDriverByName("Memory").CreateDataSource("fields")
    polys = scratch.CreateLayer("fields", srs, ogr.wkbPolygon)
    polys.CreateField(ogr.FieldDefn("field_id", ogr.OFTInteger))
    gdal.Polygonize(band, band, polys, 0, [])
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("fields", srs, ogr.wkbPolygon, ["FID=fid"])
    layer.CreateField(ogr.FieldDefn("field_id", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    name_field = ogr.FieldDefn("crop", ogr.OFTString)
    name_field.SetWidth(32)
    layer.CreateField(name_field)
    names = {c.value: c.name for c in CLASSES}
    defn = layer.GetLayerDefn()
    count = 0
    layer.StartTransaction()
    for src in polys:
        fid = src.GetField(0)
        cid = int(land.units.class_id[fid - 1])
        out = ogr.Feature(defn)
        out.SetField("field_id", fid)
        out.SetField("class_id", cid)
        out.SetField("crop", names[cid])
        out.SetGeometry(src.GetGeometryRef())
        layer.CreateFeature(out)
        count += 1
    layer.CommitTransaction()
    ds = None  # noqa: F841 - closing writes the GeoPackage
    return count


def _write_scene(
    folder: Path,
    final: Path,
    domain: Domain,
    size: int,
    dates: list[date],
    seed: int,
    progress: Progress,
) -> dict:
    x0 = round(domain.origin[0] / 60.0) * 60.0  # Sentinel-2 grids are aligned to 60 m
    y0 = round(domain.origin[1] / 60.0) * 60.0
    grid = Grid(size, size, (x0, PIXEL_SIZE, 0.0, y0, 0.0, -PIXEL_SIZE), epsg_wkt(domain.epsg))
    progress(0.0, f"{domain.name}: laying out fields")
    land = _landscape(_rng(seed, domain, 1), size, domain)
    progress.check()
    seasons = sample_seasons(
        _CALENDARS, land.units.kind, _rng(seed, domain, 2), domain.phenology_shift, domain.timing_sd, domain.vigour_sd
    )
    weather = _rng(seed, domain, 3)
    shares = _cloud_shares(weather, len(dates), domain.cloud_cover)
    wetness = np.clip(weather.normal(0.95, 0.08, len(dates)), 0.75, 1.1)
    year0 = date(dates[0].year, 1, 1)

    scenes_dir = folder / "scenes"
    scenes_dir.mkdir()
    # Overviews make large scenes quick to browse in QGIS; below 1024 px they would cost a third
    # of the generation time and QGIS draws the full resolution at once anyway.
    with_overviews = size >= 1024
    scene_paths, scl_paths, cloud = [], [], []
    for i, day in enumerate(dates):
        progress(0.05 + 0.85 * i / len(dates), f"{domain.name}: {day.isoformat()}")
        doy = (day - year0).days + 1
        tables = _date_tables(land, seasons, doy, float(wetness[i]))
        sky = _sky(_rng(seed, domain, 4, i), size, float(shares[i]), doy)
        stamp = day.strftime("%Y%m%d")
        meta = {
            "ACQUISITION_DATE": f"{day.isoformat()}T{ACQUISITION_TIME}",
            "SCALE": "reflectance = DN / 10000",
            "SENSOR": "Sentinel-2 L2A (synthetic)",
            "GENERATOR": f"crops_engine.synth {__version__}, domain {domain.name}, seed {seed}",
        }
        scene_path, scl_path = scenes_dir / f"S2_L2A_{stamp}.tif", scenes_dir / f"S2_L2A_{stamp}_SCL.tif"
        ds = create_geotiff(scene_path, grid, len(BANDS), np.uint16, nodata=0, band_descriptions=BANDS, metadata=meta)
        ds_scl = create_geotiff(scl_path, grid, 1, np.uint8, nodata=0, band_descriptions=["SCL"], metadata=meta)
        cloudy = 0
        for s, (r0, r1) in enumerate(_stripes(size, size)):
            progress.check()
            dn, scl = _render_stripe(land, tables, sky, domain, _rng(seed, domain, 5, i, s), r0, r1)
            for b in range(len(BANDS)):
                ds.GetRasterBand(b + 1).WriteArray(dn[b], 0, r0)
            ds_scl.GetRasterBand(1).WriteArray(scl, 0, r0)
            if r1 % 256 == 0:  # a row of 256 x 256 tiles is complete: write it out, free GDAL's cache
                ds.FlushCache()
                ds_scl.FlushCache()
            cloudy += int(np.isin(scl, SCL_CLOUDY).sum())
        finish_geotiff(ds, overviews=with_overviews, resampling="AVERAGE")
        finish_geotiff(ds_scl, overviews=with_overviews)
        write_rgb_style(scene_path, 3, 2, 1, [(100, 1500), (150, 1400), (150, 1300)])
        write_class_map_style(scl_path, SCL_CLASSES)
        cloud.append(cloudy / float(size * size))
        progress.metric("cloud_fraction", cloud[-1], step=i, date=day.isoformat())
        scene_paths.append(scene_path)
        scl_paths.append(scl_path)

    progress(0.9, f"{domain.name}: labels and field polygons")
    class_of_unit = land.units.class_id
    labels_path = folder / "labels.tif"
    ds = create_geotiff(labels_path, grid, 1, np.uint8, nodata=0, band_descriptions=["class"])
    for r0, r1 in _stripes(size, size):
        ds.GetRasterBand(1).WriteArray(class_of_unit[land.unit[r0:r1]], 0, r0)
    set_palette(ds.GetRasterBand(1), [(c.value, c.name, c.colour) for c in CLASSES])
    finish_geotiff(ds)
    write_class_map_style(labels_path, CLASSES)
    n_polygons = _write_fields(folder / "fields.gpkg", land, grid)
    write_classes_csv(folder / "classes.csv", list(CLASSES))
    pixels = np.bincount(land.unit.ravel(), minlength=class_of_unit.size)  # pixels per unit
    pixels = np.bincount(class_of_unit, weights=pixels[: class_of_unit.size], minlength=len(CLASSES) + 1)

    def moved(p: Path) -> str:
        return str(final / p.relative_to(folder))

    summary = {
        "fields": land.parcels,
        "field_polygons": n_polygons,
        "class_pixels": {c.name: int(pixels[c.value]) for c in CLASSES},
        "unlabelled_pixels": int(pixels[0]),
        "cloud_fraction_mean": round(float(np.mean(cloud)), 4) if cloud else 0.0,
        "cloud_fraction": [round(f, 4) for f in cloud],
    }
    manifest = {
        "generator": f"crops_engine.synth {__version__}",
        "domain": domain.as_dict(),
        "seed": int(seed),
        "size": size,
        "dates": [d.isoformat() for d in dates],
        "crs": f"EPSG:{domain.epsg}",
        "geotransform": list(grid.geotransform),
        "summary": summary,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    progress(1.0, f"{domain.name}: done")
    return {
        "output_folder": str(final),
        "scenes_folder": str(final / "scenes"),
        "scenes": [moved(p) for p in scene_paths],
        "masks": [moved(p) for p in scl_paths],
        "labels": moved(labels_path),
        "fields": moved(folder / "fields.gpkg"),
        "classes": moved(folder / "classes.csv"),
        "manifest": moved(folder / MANIFEST),
        "dates": manifest["dates"],
        "summary": summary,
    }


DEFAULT_START, DEFAULT_END = date(2019, 3, 1), date(2019, 10, 31)


def generate_scene(
    output_folder: str | os.PathLike[str],
    domain: Domain | None = None,
    size: int = 512,
    start: date | str = DEFAULT_START,
    end: date | str = DEFAULT_END,
    revisit_days: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Write one synthetic scene time series into `output_folder`; returns its paths and a summary.

    Same arguments and seed give byte-identical rasters. The folder appears only when complete.
    """
    domain = domain or preset("source")
    progress = progress or silent()
    size = _check_size(size)
    dates = _dates(_as_date(start, "Start date"), _as_date(end, "End date"), int(revisit_days))
    final = Path(output_folder)
    with _new_folder(final) as tmp:
        return _write_scene(tmp, final, domain, size, dates, seed, progress)


def generate_pair(
    output_folder: str | os.PathLike[str],
    seed: int = 0,
    size: int = 512,
    start: date | str = DEFAULT_START,
    end: date | str = DEFAULT_END,
    revisit_days: int = 5,
    progress: Progress | None = None,
    phenology_shift: float | None = None,
    cloud_cover: float | None = None,
) -> dict:
    """Write the `source` and `target` presets into `output_folder`/source and /target.

    `phenology_shift` overrides the target's shift (the source keeps 0); `cloud_cover`
    overrides both. The two lie at different places in the same UTM zone.
    """
    progress = progress or silent()
    size = _check_size(size)
    dates = _dates(_as_date(start, "Start date"), _as_date(end, "End date"), int(revisit_days))
    source, target = preset("source"), preset("target")
    if phenology_shift is not None:
        target = replace(target, phenology_shift=float(phenology_shift))
    if cloud_cover is not None:
        source = replace(source, cloud_cover=float(cloud_cover))
        target = replace(target, cloud_cover=float(cloud_cover))
    final = Path(output_folder)
    with _new_folder(final) as tmp:
        results = {}
        for k, domain in enumerate((source, target)):
            sub = tmp / domain.name
            sub.mkdir()
            results[domain.name] = _write_scene(
                sub, final / domain.name, domain, size, dates, seed, progress.sub(k / 2, (k + 1) / 2)
            )
        manifest = {
            "generator": f"crops_engine.synth {__version__}",
            "pair": ["source", "target"],
            "seed": int(seed),
            "size": size,
            "summary": {name: r["summary"] for name, r in results.items()},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {"output_folder": str(final), "manifest": str(final / MANIFEST), **results}



"""The synthetic landscape: what piece of ground ("unit") every pixel is, and how each unit looks.

Roads on an irregular, gently rotated and warped lattice bound blocks; each block is cut into
strips and the strips into fields of a few hectares. Woods, a village of small lots and ponds come
from smooth noise fields laid over the parcels; field margins and farm tracks are verge. Unit
tables then give each unit its kind (a crop calendar), label and end-member spectra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..phenology import BARE, FOREST, GARDEN, GRASSLAND, MAIZE, POTATO, SUGAR_BEET, VERGE, WINTER_WHEAT
from .domain import Domain
from .noise import SmoothNoise, centres, stripes
from .spectra import (
    ASPHALT,
    CANOPY_FACTORS,
    CLASSES,
    FOREST_CANOPY,
    FOREST_FLOOR,
    GREEN,
    ROOF_P,
    ROOFS,
    SOIL,
    WATER,
)

# Calendar per unit kind: the crop classes first (kind = class id - 1), then unlabelled covers.
CALENDARS = (MAIZE, WINTER_WHEAT, SUGAR_BEET, POTATO, GRASSLAND, FOREST, VERGE, GARDEN, BARE)
K_FOREST, K_VERGE, K_GARDEN, K_BARE = 5, 6, 7, 8

# Unit ids before compaction: a few shared units, then parcels, woods per block, village lots.
_U_ROAD, _U_VERGE, _U_WATER, _U_PARCEL0 = 1, 2, 3, 10
_MAX_STRIPS, _MAX_PIECES = 16, 8
_LOT_SIZE = 5.0  # village lots (houses and gardens), pixels
_WARP = 5.0  # pixels the road lattice bends by


@dataclass
class Units:
    """Per-unit tables: what each distinct piece of ground is and how it looks."""

    kind: np.ndarray  # index into CALENDARS
    class_id: np.ndarray  # 0 = no label
    canopy: np.ndarray  # (n, 10) green canopy reflectance
    background: np.ndarray  # (n, 10) soil / road / roof / water reflectance
    texture: np.ndarray  # relative amplitude of background texture
    vigour: np.ndarray  # relative within-field amplitude of green cover
    wet: np.ndarray  # 1 where the background is soil that darkens when wet
    water: np.ndarray  # bool


@dataclass
class Landscape:
    unit: np.ndarray  # (H, W) int32 compact unit id of every pixel
    patch: np.ndarray  # (H, W) float16 smooth within-field variation, ~N(0, 1)
    grain: np.ndarray  # (H, W) float16 fine surface texture, ~N(0, 1)
    units: Units
    parcels: int  # number of labelled fields


def _edges(rng: np.random.Generator, lo: float, hi: float, mean: float) -> np.ndarray:
    """Road positions along one axis: irregular spacing around `mean`."""
    n = int((hi - lo) / (0.6 * mean)) + 3
    gaps = mean * rng.uniform(0.6, 1.45, n)
    return lo - mean * rng.uniform(0.2, 0.8) + np.concatenate([[0.0], np.cumsum(gaps)])


@dataclass
class _Parcels:
    """The road lattice in rotated (u, v) coordinates and how each block between roads is cut up.

    Per block: split along u (0) or v (1), a strip count with uneven widths; per strip: pieces.
    """

    cos: float
    sin: float
    corners_u: list[float]
    corners_v: list[float]
    pad: float
    eu: np.ndarray  # road positions along u and v
    ev: np.ndarray
    main_u: np.ndarray  # which roads are main roads (asphalt) rather than farm tracks
    main_v: np.ndarray
    direction: np.ndarray
    n_strips: np.ndarray
    gamma: np.ndarray
    n_pieces: np.ndarray
    gamma_pieces: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, h: int, w: int, area_px: float) -> _Parcels:
        theta = rng.uniform(-0.35, 0.35)
        cos, sin = math.cos(theta), math.sin(theta)
        side = math.sqrt(area_px)
        corners_u = [x * cos + y * sin for x in (0, w) for y in (0, h)]
        corners_v = [-x * sin + y * cos for x in (0, w) for y in (0, h)]
        pad = 3 * _WARP + 2
        block = side * 4.2
        eu = _edges(rng, min(corners_u) - pad, max(corners_u) + pad, block)
        ev = _edges(rng, min(corners_v) - pad, max(corners_v) + pad, block * 0.9)
        main_u, main_v = rng.random(len(eu)) < 0.35, rng.random(len(ev)) < 0.35
        nbu, nbv = len(eu) - 1, len(ev) - 1
        nblocks = nbu * nbv
        direction = rng.integers(0, 2, nblocks)
        blk_area = area_px * rng.lognormal(0.0, 0.35, nblocks)
        aspect = rng.uniform(1.3, 3.2, nblocks)
        strip_w = np.sqrt(blk_area / aspect)
        len_u = np.repeat(np.diff(eu), nbv)
        len_v = np.tile(np.diff(ev), nbu)
        primary = np.where(direction == 0, len_u, len_v)
        secondary = np.where(direction == 0, len_v, len_u)
        n_strips = np.clip(np.round(primary / strip_w), 1, _MAX_STRIPS).astype(np.int64)
        gamma = np.exp(rng.normal(0.0, 0.25, nblocks))
        n_pieces = np.round(secondary / (strip_w * aspect))[:, None] + rng.integers(-1, 2, (nblocks, _MAX_STRIPS))
        n_pieces = np.clip(n_pieces, 1, _MAX_PIECES).astype(np.int64)
        gamma_pieces = np.exp(rng.normal(0.0, 0.2, (nblocks, _MAX_STRIPS)))
        return cls(cos, sin, corners_u, corners_v, pad, eu, ev, main_u, main_v, direction, n_strips, gamma,
                   n_pieces, gamma_pieces)

    @property
    def blocks(self) -> int:
        return (len(self.eu) - 1) * (len(self.ev) - 1)

    def parcel_ids(self, uu: np.ndarray, vv: np.ndarray) -> tuple[np.ndarray, ...]:
        """(raw parcel id, block index u, block index v, block) of points at (uu, vv)."""
        eu, ev = self.eu, self.ev
        nbu, nbv = len(eu) - 1, len(ev) - 1
        bu = np.clip(np.searchsorted(eu, uu, side="right") - 1, 0, nbu - 1)
        bv = np.clip(np.searchsorted(ev, vv, side="right") - 1, 0, nbv - 1)
        fu = (uu - eu[bu]) / np.diff(eu)[bu]
        fv = (vv - ev[bv]) / np.diff(ev)[bv]
        blk = bu * nbv + bv
        along_u = self.direction[blk] == 0
        sp = np.clip(np.where(along_u, fu, fv), 0.0, 0.999999)
        ss = np.clip(np.where(along_u, fv, fu), 0.0, 0.999999)
        strip = np.minimum((sp ** self.gamma[blk] * self.n_strips[blk]).astype(np.int64), self.n_strips[blk] - 1)
        pieces = self.n_pieces[blk, strip]
        piece = np.minimum((ss ** self.gamma_pieces[blk, strip] * pieces).astype(np.int64), pieces - 1)
        return _U_PARCEL0 + (blk * _MAX_STRIPS + strip) * _MAX_PIECES + piece, bu, bv, blk

    def roads(self, uu: np.ndarray, vv: np.ndarray, bu: np.ndarray, bv: np.ndarray) -> tuple[np.ndarray, ...]:
        """(main road, farm track) masks: main roads 2 px wide, tracks 1 px."""
        eu, ev = self.eu, self.ev
        du_lo, du_hi = uu - eu[bu], eu[bu + 1] - uu
        dv_lo, dv_hi = vv - ev[bv], ev[bv + 1] - vv
        near_u = np.where(du_lo < du_hi, bu, bu + 1)
        near_v = np.where(dv_lo < dv_hi, bv, bv + 1)
        dist_u, dist_v = np.minimum(du_lo, du_hi), np.minimum(dv_lo, dv_hi)
        main = ((dist_u < 1.0) & self.main_u[near_u]) | ((dist_v < 1.0) & self.main_v[near_v])
        track = ~main & ((dist_u < 0.55) | (dist_v < 0.55))
        return main, track


@dataclass
class _Builder:
    """A landscape being drawn stripe by stripe; the draws from `rng` keep their order (seeds stay valid)."""

    rng: np.random.Generator
    size: int
    domain: Domain
    area_px: float = field(init=False)  # field area in pixels (1 ha = 100 pixels of 10 m)
    parcels: _Parcels = field(init=False)

    def __post_init__(self) -> None:
        rng, h, w, domain = self.rng, self.size, self.size, self.domain
        self.area_px = domain.field_area_ha * 100.0
        self.parcels = _Parcels.draw(rng, h, w, self.area_px)
        self.warp_u = SmoothNoise(rng, h, w, (180, 90))
        self.warp_v = SmoothNoise(rng, h, w, (180, 90))
        self.woods = SmoothNoise(rng, h, w, (90, 45, 22))
        self.village = SmoothNoise(rng, h, w, (120, 60, 25), decay=0.5)
        self.ponds = SmoothNoise(rng, h, w, (45, 22, 11))
        self.patch = SmoothNoise(rng, h, w, (40, 20, 10, 5), decay=0.7)
        self.grain = SmoothNoise(rng, h, w, (4, 2), decay=0.8)  # plus white noise per pixel, drawn per stripe
        self.t_woods = self.woods.threshold(h, w, domain.forest_fraction * 0.5)
        self.t_village = self.village.threshold(h, w, domain.urban_fraction)
        self.t_ponds = self.ponds.threshold(h, w, domain.water_fraction)
        p = self.parcels
        self.lot_u0 = math.floor((min(p.corners_u) - p.pad) / _LOT_SIZE)
        self.lot_nu = math.ceil((max(p.corners_u) + p.pad) / _LOT_SIZE) - self.lot_u0 + 1
        self.lot_v0 = math.floor((min(p.corners_v) - p.pad) / _LOT_SIZE)
        self.lot_nv = math.ceil((max(p.corners_v) + p.pad) / _LOT_SIZE) - self.lot_v0 + 1
        self.parcel_end = _U_PARCEL0 + p.blocks * _MAX_STRIPS * _MAX_PIECES
        self.wood_end = self.parcel_end + p.blocks

    def build(self) -> Landscape:
        h = w = self.size
        unit = np.empty((h, w), dtype=np.int32)
        patch_px = np.empty((h, w), dtype=np.float16)
        grain_px = np.empty((h, w), dtype=np.float16)
        xs = centres(0, w)
        for r0, r1 in stripes(h, w):
            ys = centres(r0, r1)
            unit[r0:r1] = self._stripe_units(xs, r0, r1)
            patch_px[r0:r1] = self.patch.sample(ys, xs)
            grain_px[r0:r1] = 0.85 * self.grain.sample(ys, xs) + 0.5 * self.rng.standard_normal((r1 - r0, w),
                                                                                              dtype=np.float32)
        return self._compact(unit, patch_px, grain_px)

    def _stripe_units(self, xs: np.ndarray, r0: int, r1: int) -> np.ndarray:
        """Raw unit ids of rows r0..r1: parcels, then margins, woods, village, ponds and roads over them."""
        p, h = self.parcels, self.size
        ys = centres(r0, min(h, r1 + 1))  # one row more: field boundaries look at the next row
        uu = xs[None, :] * p.cos + ys[:, None] * p.sin + _WARP * self.warp_u.sample(ys, xs)
        vv = -xs[None, :] * p.sin + ys[:, None] * p.cos + _WARP * self.warp_v.sample(ys, xs)
        raw, bu, bv, blk = p.parcel_ids(uu, vv)
        boundary = np.zeros(raw.shape, dtype=bool)
        boundary[:-1] |= raw[:-1] != raw[1:]
        boundary[:, :-1] |= raw[:, :-1] != raw[:, 1:]
        n = r1 - r0
        raw, boundary, uu, vv, bu, bv, blk = (a[:n] for a in (raw, boundary, uu, vv, bu, bv, blk))
        ys = ys[:n]
        raw = np.where(boundary, _U_VERGE, raw)
        wood = self.woods.sample(ys, xs) > self.t_woods
        raw = np.where(wood, self.parcel_end + blk, raw)
        town = self.village.sample(ys, xs) > self.t_village
        lot_u = np.clip(np.floor(uu / _LOT_SIZE) - self.lot_u0, 0, self.lot_nu - 1).astype(np.int64)
        lot_v = np.clip(np.floor(vv / _LOT_SIZE) - self.lot_v0, 0, self.lot_nv - 1).astype(np.int64)
        raw = np.where(town, self.wood_end + lot_u * self.lot_nv + lot_v, raw)
        water = self.ponds.sample(ys, xs) > self.t_ponds
        raw = np.where(water, _U_WATER, raw)
        # Roads: main roads (asphalt) and farm tracks (grass; paved in the village).
        main, track = p.roads(uu, vv, bu, bv)
        track &= ~water
        raw = np.where(track, np.where(town, _U_ROAD, _U_VERGE), raw)
        return np.where(main, _U_ROAD, raw)

    def _compact(self, unit: np.ndarray, patch_px: np.ndarray, grain_px: np.ndarray) -> Landscape:
        """Compact ids; parcel fragments too small to farm (cut by a wood or pond) become verge."""
        h = w = self.size
        counts = np.zeros(_U_PARCEL0, dtype=np.int64)
        for r0, r1 in stripes(h, w):  # stripe-wise: bincount makes an int64 copy of its input
            part = np.bincount(unit[r0:r1].ravel())
            if part.size > counts.size:
                counts = np.concatenate([counts, np.zeros(part.size - counts.size, dtype=np.int64)])
            counts[: part.size] += part
        ids = np.arange(counts.size)
        is_parcel = (ids >= _U_PARCEL0) & (ids < self.parcel_end)
        small = is_parcel & (counts > 0) & (counts < max(25.0, 0.15 * self.area_px))
        present = counts > 0
        present[small] = False
        present[_U_VERGE] = True
        lut = (np.cumsum(present) - 1).astype(np.int32)
        lut[small] = lut[_U_VERGE]
        for r0, r1 in stripes(h, w):
            unit[r0:r1] = lut[unit[r0:r1]]
        original = np.nonzero(present)[0]
        units, parcels = unit_tables(self.rng, original, self.parcel_end, self.wood_end, self.domain)
        return Landscape(unit, patch_px, grain_px, units, parcels)


def unit_tables(
    rng: np.random.Generator, original: np.ndarray, parcel_end: int, wood_end: int, domain: Domain
) -> tuple[Units, int]:
    """Kind, label and end-member spectra of every unit (`original`: its pre-compaction id)."""
    n = original.size
    kind = np.full(n, K_BARE, dtype=np.int64)
    class_id = np.zeros(n, dtype=np.uint8)
    canopy = np.tile(GREEN, (n, 1))
    soil_tone = domain.soil_brightness * rng.lognormal(0.0, 0.12, n)
    redness = rng.uniform(-0.015, 0.02, n)
    soil = SOIL[None, :] * soil_tone[:, None]
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
    for c, (vis, edge, nir, swir) in CANOPY_FACTORS.items():
        m = class_id == c
        factor = np.array([vis, vis, vis, edge, edge, edge, nir, nir, swir, swir])
        canopy[m] = GREEN * factor * rng.uniform(0.93, 1.07, (int(m.sum()), 1))
        canopy[m, :3] *= rng.uniform(0.8, 1.25, (int(m.sum()), 1))  # leaf pigments: lighter or darker green
    forest = woodlot | wood
    kind[forest] = K_FOREST
    canopy[forest] = FOREST_CANOPY * rng.uniform(0.9, 1.1, (int(forest.sum()), 1))
    background[forest] = FOREST_FLOOR
    texture[forest], vigour[forest], wet[forest] = 0.12, 0.05, 0.0
    # Verge (field margins, tracks), roads, water.
    verge = original == _U_VERGE
    kind[verge] = K_VERGE
    canopy[verge] = GREEN * np.array([1.1, 1.1, 1.1, 0.95, 0.95, 0.95, 0.85, 0.85, 1.05, 1.05])
    background[verge] = SOIL * 0.9
    vigour[verge] = 0.15
    road = original == _U_ROAD
    background[road], texture[road], wet[road] = ASPHALT, 0.04, 0.0
    is_water = original == _U_WATER
    background[is_water], texture[is_water], wet[is_water] = WATER, 0.05, 0.0
    water[is_water] = True
    # Village lots: roofs and paving, some gardens.
    garden = lot & (rng.random(n) < 0.3)
    roofs = lot & ~garden
    kind[garden] = K_GARDEN
    background[garden] = SOIL * 0.8
    roof_type = rng.choice(len(ROOFS), size=n, p=ROOF_P)
    background[roofs] = ROOFS[roof_type[roofs]] * rng.uniform(0.85, 1.15, (int(roofs.sum()), 1))
    texture[roofs], wet[roofs] = 0.1, 0.0
    units = Units(
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


def landscape(rng: np.random.Generator, size: int, domain: Domain) -> Landscape:
    """Parcels in road-bounded blocks, woods, a village and ponds, as a unit id per pixel."""
    return _Builder(rng, size, domain).build()

"""One date rendered: per-unit reflectance tables, then row stripes of DNs and their SCL classes."""

from __future__ import annotations

import numpy as np

from ..phenology import Seasons, cover
from .domain import Domain
from .landscape import Landscape
from .sky import Sky
from .spectra import (
    BANDS,
    BANDS_20M,
    CIRRUS,
    CLOUD,
    DRY,
    NIR,
    RED,
    SCL_BARE,
    SCL_CIRRUS,
    SCL_CLOUD_HIGH,
    SCL_CLOUD_MEDIUM,
    SCL_SHADOW,
    SCL_VEGETATION,
    SCL_WATER,
    SENSOR_NOISE,
    SHADOW_DEPTH,
)


def to_20m(a: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
    """Mean of each 2 x 2 pixel block (plus `noise`, one value a block) repeated onto the 10 m grid.

    That is what a 20 m band resampled to 10 m looks like; stripes start on even rows.
    """
    h, w = a.shape
    p = np.pad(a, ((0, h % 2), (0, w % 2)), mode="edge") if (h % 2 or w % 2) else a
    m = (p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) * 0.25
    if noise is not None:
        m += noise
    return repeat_2x2(m)[:h, :w]


def repeat_2x2(m: np.ndarray) -> np.ndarray:
    h2, w2 = m.shape
    return np.broadcast_to(m[:, None, :, None], (h2, 2, w2, 2)).reshape(h2 * 2, w2 * 2)


def date_tables(land: Landscape, seasons: Seasons, day: float, wetness: float) -> tuple[np.ndarray, ...]:
    """Per-unit (band, unit) tables: reflectance = A + B * patch + C * grain."""
    u = land.units
    green, dry = cover(seasons, day)
    ahead, _ = cover(seasons, day + 1.5)
    behind, _ = cover(seasons, day - 1.5)
    rate = (ahead - behind) / 3.0  # green cover per day: within-field timing differences show here
    bare = 1.0 - green - dry
    soil = u.background * np.where(u.wet > 0, wetness, 1.0)[:, None]
    a = green[:, None] * u.canopy + dry[:, None] * DRY + bare[:, None] * soil
    b = (u.vigour * green + 3.0 * rate)[:, None] * (u.canopy - soil)
    c = (bare * u.texture)[:, None] * soil
    return tuple(np.ascontiguousarray(t.T, dtype=np.float32) for t in (a, b, c))


def render_stripe(
    land: Landscape,
    tables: tuple[np.ndarray, ...],
    sky: Sky,
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
            band *= 1.0 - SHADOW_DEPTH[i] * shade
            band *= 1.0 - alpha
            band += alpha * (CLOUD[i] * (0.9 + 0.15 * alpha))
        if sky.cirrus is not None:
            band += haze * CIRRUS[i]
        if i in BANDS_20M:  # 20 m detectors: noise per 20 m pixel
            noise = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32) * SENSOR_NOISE[i]
            refl[i] = to_20m(band, noise)
        else:
            band += rng.standard_normal((h, w), dtype=np.float32) * SENSOR_NOISE[i]
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
    scl = repeat_2x2(scl[::2, ::2])[:h, :w]
    return dn, scl

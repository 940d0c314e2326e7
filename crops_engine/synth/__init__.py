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
`crop`), `classes.csv` and `sample.json` (the configuration and a summary). A folder appears
complete or not at all.

Modules: `spectra` (bands, classes, end-members), `domain` (the shift's knobs, presets), `noise`
(smooth random fields, stripes), `landscape` (units per pixel), `sky` (clouds), `render` (one
date's DNs and SCL), `fields` (field polygons), `write` (folders, scenes, labels, manifests).
"""

from .domain import PRESETS, Domain, preset
from .spectra import BANDS, CLASSES, NIR, PIXEL_SIZE, RED, SCL_CLASSES, SCL_CLOUDY
from .write import ACQUISITION_TIME, DEFAULT_END, DEFAULT_START, MANIFEST, generate_pair, generate_scene

__all__ = [
    "ACQUISITION_TIME",
    "BANDS",
    "CLASSES",
    "DEFAULT_END",
    "DEFAULT_START",
    "MANIFEST",
    "NIR",
    "PIXEL_SIZE",
    "PRESETS",
    "RED",
    "SCL_CLASSES",
    "SCL_CLOUDY",
    "Domain",
    "generate_pair",
    "generate_scene",
    "preset",
]

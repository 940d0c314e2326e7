"""What the synthetic scenes are made of: bands, classes, scene-classification codes and spectra.

End-member surface reflectances (0..1, in BANDS order) come from Flanders 2019 L2A pixels; a
pixel's reflectance mixes them by cover (see `render.py`).
"""

from __future__ import annotations

import numpy as np

from ..classes import CropClass

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
RED, NIR = 2, 6
BANDS_20M = (3, 4, 5, 7, 8, 9)  # B05 B06 B07 B8A B11 B12: measured at 20 m, repeated 2 x 2
PIXEL_SIZE = 10.0  # metres
CLASSES = (
    CropClass(1, "maize", "#f2c12e", 1),
    CropClass(2, "winter wheat", "#c1763a", 2),
    CropClass(3, "sugar beet", "#7b68c8", 3),
    CropClass(4, "potato", "#e0609a", 4),
    CropClass(5, "grassland", "#5aa02c", 5),
)
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

# End-member surface reflectances (0..1) in BANDS order.
GREEN = np.array([0.028, 0.065, 0.030, 0.10, 0.34, 0.46, 0.50, 0.51, 0.20, 0.095])
DRY = np.array([0.09, 0.125, 0.17, 0.21, 0.245, 0.27, 0.285, 0.32, 0.34, 0.22])
SOIL = np.array([0.09, 0.13, 0.17, 0.2, 0.23, 0.25, 0.26, 0.275, 0.34, 0.30])
FOREST_CANOPY = np.array([0.02, 0.042, 0.022, 0.075, 0.27, 0.35, 0.37, 0.38, 0.15, 0.065])
FOREST_FLOOR = np.array([0.035, 0.055, 0.06, 0.085, 0.12, 0.14, 0.15, 0.16, 0.17, 0.11])
ASPHALT = np.array([0.075, 0.085, 0.095, 0.105, 0.115, 0.12, 0.125, 0.13, 0.15, 0.14])
WATER = np.array([0.045, 0.055, 0.035, 0.03, 0.02, 0.017, 0.015, 0.014, 0.008, 0.006])
ROOFS = np.array([
    [0.065, 0.08, 0.14, 0.17, 0.19, 0.2, 0.21, 0.22, 0.26, 0.21],  # red clay tiles
    [0.11, 0.12, 0.13, 0.145, 0.155, 0.16, 0.17, 0.175, 0.2, 0.185],  # concrete, grey roofs
    [0.05, 0.055, 0.06, 0.065, 0.07, 0.072, 0.075, 0.078, 0.085, 0.08],  # dark roofs, slate
    [0.16, 0.17, 0.18, 0.19, 0.2, 0.205, 0.21, 0.215, 0.24, 0.22],  # bright sheds, paving
])
ROOF_P = (0.38, 0.27, 0.15, 0.2)
# Canopy appearance per crop (multiplies GREEN): visible, red edge, NIR, SWIR.
CANOPY_FACTORS = {
    1: (1.0, 1.0, 0.95, 1.05),  # maize
    2: (0.65, 0.9, 0.86, 0.9),  # winter wheat: erect leaves, dark green
    3: (1.05, 1.05, 1.12, 0.95),  # sugar beet: planophile, bright NIR
    4: (1.0, 1.02, 1.04, 1.0),  # potato
    5: (1.1, 0.95, 0.88, 1.05),  # grassland
}
CLOUD = np.array([0.42, 0.41, 0.40, 0.43, 0.47, 0.49, 0.50, 0.50, 0.38, 0.30])
CIRRUS = np.array([0.07, 0.06, 0.052, 0.048, 0.044, 0.04, 0.04, 0.04, 0.022, 0.014])
SHADOW_DEPTH = np.array([0.5, 0.55, 0.6, 0.62, 0.65, 0.66, 0.67, 0.67, 0.7, 0.7])  # share of light lost
SENSOR_NOISE = np.array([0.0025, 0.0025, 0.0025, 0.003, 0.003, 0.003, 0.003, 0.003, 0.004, 0.004])

"""What sets one place or season apart from another: the knobs of the domain shift, and the presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import CropsError
from .spectra import BANDS, CLASSES

PRESETS = ("source", "target", "pair")


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

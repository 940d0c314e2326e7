"""How to composite: the options of the NDVI quality mosaic and the values its outputs use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..extent import Extent

DEFAULT_INVALID_CLASSES: tuple[int, ...] = (0, 1, 3, 8, 9, 10)  # Sen2Cor SCL: no data, saturated, shadow, clouds
QA_NODATA = -9999.0
QA_BANDS = ("max_ndvi", "day_of_year", "valid_observations")
RESAMPLING = ("near", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode")


@dataclass(frozen=True)
class CompositeOptions:
    """How to composite; the defaults fit Sen2Cor L2A stacks in the sample data's band order.

    `extent` is (xmin, ymin, xmax, ymax, crs_wkt or None) as `extent.parse_extent` gives it.
    `offset=None` reads each scene's `BOA_ADD_OFFSET`-style metadata (else 0); a number
    overrides it for every scene. `mask_band` takes the cloud mask from that band of each scene
    (left out of the composite) instead of the scenes' companion mask files. The bands are 1-based
    numbers or band names (descriptions such as `B04`, `B8A`); `plan_mosaic` turns names into numbers.
    """

    red_band: int | str = 3
    nir_band: int | str = 7
    scale: float = 0.0001
    offset: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    mask_band: int | str | None = None
    invalid_classes: tuple[int, ...] = DEFAULT_INVALID_CLASSES
    extent: Extent | None = None
    aoi: str | None = None
    target_crs: str | None = None
    resolution: float | None = None
    resampling: str = "near"
    workers: int = 2
    window: int | None = None

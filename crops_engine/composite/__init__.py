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

It streams: windows aligned to the scenes' own blocks are composited by a small thread pool,
each worker holding one window of one date at a time, and an ordered writer fills a tiled,
compressed GeoTIFF under a temporary name. Memory depends on the window size, not on the raster
size or the number of dates. Scenes on another grid are warped to the output grid through a GDAL
VRT (nearest neighbour by default), never copied.

Modules: `options`, `grid` (the output grid), `sources` (a raster read on that grid), `plan`
(everything checked before writing), `rule` (the per-window rule), `style` (natural colours),
`run` (the thread pool and the writer).
"""

from .grid import output_grid
from .options import DEFAULT_INVALID_CLASSES, QA_BANDS, QA_NODATA, RESAMPLING, CompositeOptions
from .plan import WINDOW_PIXELS
from .rule import ndvi
from .run import GDAL_CACHE_BYTES, GDAL_CACHE_MAX_BYTES, ndvi_quality_mosaic
from .style import rgb_bands

__all__ = [
    "DEFAULT_INVALID_CLASSES",
    "GDAL_CACHE_BYTES",
    "GDAL_CACHE_MAX_BYTES",
    "QA_BANDS",
    "QA_NODATA",
    "RESAMPLING",
    "WINDOW_PIXELS",
    "CompositeOptions",
    "ndvi",
    "ndvi_quality_mosaic",
    "output_grid",
    "rgb_bands",
]

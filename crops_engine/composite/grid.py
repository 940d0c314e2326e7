"""The output grid of a composite: the reference scene's, or a chosen CRS / resolution, cropped."""

from __future__ import annotations

from typing import Any

from osgeo import gdal, osr

from ..errors import CropsError
from ..extent import extent_in_crs
from ..raster import Grid, open_raster
from ..scenes import Scene
from .options import CompositeOptions


def _srs(text: str, what: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(text)
    except RuntimeError:
        raise CropsError(f"{what}: {text!r} is not a CRS GDAL knows; use e.g. EPSG:32631.") from None
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def check_north_up(grid: Grid, path: Any) -> None:
    gt = grid.geotransform
    if gt[2] != 0 or gt[4] != 0 or gt[1] <= 0 or gt[5] >= 0:
        raise CropsError(f"{path} has a rotated or flipped geotransform; warp it north-up first (gdalwarp).")


def crop(grid: Grid, bounds: tuple[float, float, float, float]) -> Grid:
    return grid.window(*grid.pixel_window_of(bounds))


def output_grid(reference: Scene, options: CompositeOptions) -> Grid:
    """The reference scene's grid, or the chosen CRS / resolution, cropped to the extent."""
    ds = open_raster(reference.path)
    ref = Grid.of(ds)
    check_north_up(ref, reference.path)
    extent = options.extent
    if options.resolution is not None and options.resolution <= 0:
        raise CropsError(f"RESOLUTION {options.resolution:g} must be a positive pixel size in CRS units (leave it "
                         "empty for the first scene's).")
    if options.target_crs or options.resolution:
        dst = _srs(options.target_crs, "TARGET_CRS").ExportToWkt() if options.target_crs else ref.crs_wkt
        kwargs: dict[str, Any] = {"format": "VRT", "dstSRS": dst or None}
        if options.resolution:
            kwargs.update(xRes=options.resolution, yRes=options.resolution, targetAlignedPixels=True)
        if extent is not None:
            kwargs["outputBounds"] = extent[:4]
            kwargs["outputBoundsSRS"] = extent[4] or dst
        try:
            vrt = gdal.Warp("", ds, **kwargs)
        except RuntimeError as exc:
            raise CropsError(
                f"Cannot build the output grid ({exc}); check TARGET_CRS, RESOLUTION and EXTENT."
            ) from None
        return Grid.of(vrt)
    if extent is not None:
        return crop(ref, extent_in_crs(extent, ref.crs_wkt))
    return ref


def overlaps(src: Grid, grid: Grid) -> bool:
    """Whether a raster's footprint meets the output grid (in the output's CRS)."""
    a = extent_in_crs((*src.bounds, src.crs_wkt or None), grid.crs_wkt)
    b = grid.bounds
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

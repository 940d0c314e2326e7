"""Areas of interest given as QGIS extent text, and their bounds in a raster's CRS.

QGIS Processing passes an extent as `xmin,xmax,ymin,ymax [EPSG:xxxx]` (note the order:
both x first, then both y); the CRS in brackets is optional. Every command that takes
`--extent` parses it here so they all accept the same text.
"""

from __future__ import annotations

import re

from osgeo import osr

from .errors import CropsError

osr.UseExceptions()

Extent = tuple[float, float, float, float, "str | None"]
"""(xmin, ymin, xmax, ymax, crs_wkt or None): bounds, and the CRS they are in if given."""

_EXTENT_RE = re.compile(r"^\s*([^,\[\]]+),([^,\[\]]+),([^,\[\]]+),([^,\[\]]+?)\s*(?:\[(.*)\])?\s*$")


def _srs(text: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(text)
    except RuntimeError as exc:
        raise CropsError(f"Unknown CRS {text!r} ({exc}); give it as EPSG:<code>, e.g. EPSG:32631.") from None
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def parse_crs(text: str, what: str = "CRS") -> str:
    """The WKT of a CRS given as text (EPSG:xxxx, WKT, PROJ), or a CropsError naming the parameter."""
    srs = osr.SpatialReference()
    try:
        srs.SetFromUserInput(str(text).strip())
    except RuntimeError:
        raise CropsError(f"{what} {text!r} is not a CRS GDAL knows; give it as EPSG:<code>, e.g. EPSG:32631.") from None
    return srs.ExportToWkt()


def parse_extent(text: str) -> Extent:
    """QGIS extent text `xmin,xmax,ymin,ymax [EPSG:xxxx]` -> (xmin, ymin, xmax, ymax, crs_wkt or None)."""
    match = _EXTENT_RE.match(text or "")
    if not match:
        raise CropsError(
            f"Extent {text!r} is not 'xmin,xmax,ymin,ymax' optionally followed by a CRS in brackets, "
            "e.g. '500000,510000,5600000,5610000 [EPSG:32631]'."
        )
    try:
        xmin, xmax, ymin, ymax = (float(v) for v in match.groups()[:4])
    except ValueError:
        raise CropsError(f"Extent {text!r}: the four bounds must be numbers (xmin,xmax,ymin,ymax).") from None
    if not (xmin < xmax and ymin < ymax):
        raise CropsError(
            f"Extent {text!r} is empty: QGIS order is xmin,xmax,ymin,ymax and needs xmin < xmax, ymin < ymax."
        )
    crs_text = (match.group(5) or "").strip()
    crs_wkt = _srs(crs_text).ExportToWkt() if crs_text else None
    return xmin, ymin, xmax, ymax, crs_wkt


def extent_in_crs(extent: Extent, crs_wkt: str) -> tuple[float, float, float, float]:
    """Bounds of `extent` in `crs_wkt` (the bounding box of its densified outline).

    An extent without a CRS is taken to be in `crs_wkt` already.
    """
    xmin, ymin, xmax, ymax, src_wkt = extent
    if not src_wkt or not crs_wkt:
        return xmin, ymin, xmax, ymax
    src, dst = _srs(src_wkt), _srs(crs_wkt)
    if src.IsSame(dst):
        return xmin, ymin, xmax, ymax
    transform = osr.CoordinateTransformation(src, dst)
    try:
        bounds = transform.TransformBounds(xmin, ymin, xmax, ymax, 21)
    except RuntimeError as exc:
        raise CropsError(f"Cannot reproject the extent {extent[:4]} to the raster's CRS: {exc}") from None
    return tuple(float(v) for v in bounds)  # type: ignore[return-value]

"""Areas of interest: MASK polygons, in any CRS, reprojected once to an output grid and rasterised
window by window (pixel centres), so the compositor and inference skip what lies outside."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from osgeo import gdal, ogr

from .errors import CropsError
from .raster import Grid
from .vector import LayerSpec, declared_srs

gdal.UseExceptions()
ogr.UseExceptions()


def _open_vector(spec: str) -> tuple[gdal.Dataset, ogr.Layer]:
    """Open `path` or QGIS's `path|layername=name` / `path|layerid=n`."""
    layer_spec = LayerSpec.parse(spec)
    path = layer_spec.path
    if not path.startswith("/vsi") and not os.path.exists(path):
        raise CropsError(f"Area-of-interest layer not found: {path}. Check the MASK path.")
    try:
        ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    except RuntimeError as exc:
        raise CropsError(f"Cannot read the area-of-interest layer {path}: {exc}. Is it complete (a copy cut "
                         "short?): copy or re-create it, then run again.") from None
    if ds is None or ds.GetLayerCount() == 0:
        raise CropsError(f"{path} holds no vector layer; MASK must be a polygon layer.")
    layer = layer_spec.layer(ds)
    if layer is None:
        raise CropsError(f"{path} has no layer {layer_spec.which}.")
    return ds, layer


_POLYGONS = {ogr.wkbPolygon, ogr.wkbMultiPolygon, ogr.wkbCurvePolygon, ogr.wkbMultiSurface}


@dataclass
class AreaOfInterest:
    """The MASK polygons reprojected once into the output CRS (an in-memory FlatGeobuf)."""

    path: str
    bounds: tuple[float, float, float, float]

    @classmethod
    def prepare(cls, spec: str, grid: Grid) -> AreaOfInterest:
        src, layer = _open_vector(spec)
        polygons = 0
        for feature in layer:
            geom = feature.GetGeometryRef()
            if geom is None or geom.IsEmpty():
                continue
            if ogr.GT_Flatten(geom.GetGeometryType()) not in _POLYGONS:
                raise CropsError(f"The area-of-interest layer {spec} holds {geom.GetGeometryName()} features; "
                                 "MASK must hold polygons.")
            polygons += 1
        layer.ResetReading()
        if not polygons:
            raise CropsError(f"The area-of-interest layer {spec} holds no polygon; draw or select one.")
        path = f"/vsimem/crops_aoi_{uuid.uuid4().hex}.fgb"
        kwargs: dict[str, Any] = {
            "format": "FlatGeobuf", "layers": [layer.GetName()], "geometryType": "PROMOTE_TO_MULTI"
        }
        if declared_srs(layer) is not None and grid.crs_wkt:
            kwargs.update(dstSRS=grid.crs_wkt, reproject=True)
        try:
            written = gdal.VectorTranslate(path, src, **kwargs)
            written = None  # noqa: F841 - closing flushes the file
            copy = ogr.Open(path)
            xmin, xmax, ymin, ymax = copy.GetLayer(0).GetExtent()
            copy = None  # noqa: F841
        except RuntimeError as exc:
            gdal.Unlink(path)
            raise CropsError(f"Cannot reproject the area-of-interest layer {spec}: {exc}.") from None
        return cls(path, (xmin, ymin, xmax, ymax))

    def open(self) -> tuple[gdal.Dataset, ogr.Layer]:
        ds = gdal.OpenEx(self.path, gdal.OF_VECTOR)
        return ds, ds.GetLayer(0)

    def close(self) -> None:
        gdal.Unlink(self.path)


def pixels_inside(layer: ogr.Layer, grid: Grid, win: tuple[int, int, int, int]) -> np.ndarray:
    """Pixels of the window whose centre is inside a polygon."""
    xoff, yoff, xs, ys = win
    wgrid = grid.window(xoff, yoff, xs, ys)
    mem = gdal.GetDriverByName("MEM").Create("", xs, ys, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(wgrid.geotransform)
    if grid.crs_wkt:
        mem.SetProjection(grid.crs_wkt)
    xmin, ymin, xmax, ymax = wgrid.bounds
    layer.SetSpatialFilterRect(xmin, ymin, xmax, ymax)
    gdal.RasterizeLayer(mem, [1], layer, burn_values=[1])
    layer.SetSpatialFilter(None)
    return mem.ReadAsArray() > 0

"""The labelled fields of a synthetic scene as polygons: a GeoPackage layer `fields`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from ..raster import Grid
from .landscape import Landscape
from .noise import stripes
from .spectra import CLASSES

ogr.UseExceptions()


def write_fields(path: Path, land: Landscape, grid: Grid) -> int:
    """Polygons of the labelled fields (GDAL Polygonize of the field ids), with their class."""
    h, w = land.unit.shape
    mem = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(grid.geotransform)
    mem.SetProjection(grid.crs_wkt)
    band = mem.GetRasterBand(1)
    labelled = land.units.class_id > 0
    field_ids = np.where(labelled, np.arange(labelled.size, dtype=np.int32) + 1, 0).astype(np.int32)
    for r0, r1 in stripes(h, w):
        band.WriteArray(field_ids[land.unit[r0:r1]], 0, r0)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs_wkt)
    scratch = ogr.GetDriverByName("Memory").CreateDataSource("fields")
    polys = scratch.CreateLayer("fields", srs, ogr.wkbPolygon)
    polys.CreateField(ogr.FieldDefn("field_id", ogr.OFTInteger))
    gdal.Polygonize(band, band, polys, 0, [])
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("fields", srs, ogr.wkbPolygon, ["FID=fid"])
    layer.CreateField(ogr.FieldDefn("field_id", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("class_id", ogr.OFTInteger))
    name_field = ogr.FieldDefn("crop", ogr.OFTString)
    name_field.SetWidth(32)
    layer.CreateField(name_field)
    names = {c.value: c.name for c in CLASSES}
    defn = layer.GetLayerDefn()
    count = 0
    layer.StartTransaction()
    for src in polys:
        fid = src.GetField(0)
        cid = int(land.units.class_id[fid - 1])
        out = ogr.Feature(defn)
        out.SetField("field_id", fid)
        out.SetField("class_id", cid)
        out.SetField("crop", names[cid])
        out.SetGeometry(src.GetGeometryRef())
        layer.CreateFeature(out)
        count += 1
    layer.CommitTransaction()
    ds = None  # noqa: F841 - closing writes the GeoPackage
    return count

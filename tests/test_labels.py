"""Labels: CLASS_MAP parsing, classes.csv naming, rasters and polygons agree, reprojection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from crops_engine.class_map import class_map_from_codes, parse_class_map
from crops_engine.classes import CropClass, write_classes_csv
from crops_engine.errors import CropsError
from crops_engine.labels import open_labels
from crops_engine.metrics import IGNORE_INDEX
from crops_engine.raster import Grid, epsg_wkt
from crops_engine.vector import LayerSpec

UTM = 32631
GRID = Grid(40, 30, (600000.0, 10.0, 0.0, 5700000.0, 0.0, -10.0), epsg_wkt(UTM))


def write_raster(path: Path, array: np.ndarray, grid: Grid = GRID, nodata: float | None = None) -> Path:
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), grid.width, grid.height, 1, gdal.GDT_UInt16 if array.dtype == np.uint16 else gdal.GDT_Byte
    )
    ds.SetGeoTransform(grid.geotransform)
    ds.SetProjection(grid.crs_wkt)
    if nodata is not None:
        ds.GetRasterBand(1).SetNoDataValue(nodata)
    ds.GetRasterBand(1).WriteArray(array)
    ds = None
    return path


# Parcels in UTM metres; edges sit 3 m off pixel edges so no pixel centre lies on a boundary.
PARCELS = [
    ((600023.0, 5699977.0, 600143.0, 5699857.0), 1200),  # maize
    ((600163.0, 5699977.0, 600303.0, 5699897.0), 9120),  # grass
    ((600053.0, 5699837.0, 600393.0, 5699713.0), 1110),  # winter wheat
    ((600283.0, 5699957.0, 600353.0, 5699807.0), 0),  # no crop: ignore, overlaps the grass
]


def write_parcels(path: Path, epsg: int = UTM, field_type: int = ogr.OFTInteger) -> Path:
    """A GeoPackage of rectangles with field `code` (optionally reprojected to `epsg`)."""
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(UTM)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(epsg)
    for s in (utm, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(utm, dst)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("parcels", dst, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("code", field_type))
    for (x0, y0, x1, y1), code in PARCELS:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
            ring.AddPoint_2D(x, y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        if epsg != UTM:
            poly.Transform(transform)
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetField("code", code if field_type == ogr.OFTInteger else str(code))
        feat.SetGeometry(poly)
        layer.CreateFeature(feat)
    ds = None
    return path


def gdal_rasterised_codes(vector: Path, out: Path) -> Path:
    """The reference: gdal.Rasterize of the same parcels on the same grid (all-touched off)."""
    ds = gdal.GetDriverByName("GTiff").Create(str(out), GRID.width, GRID.height, 1, gdal.GDT_UInt16)
    ds.SetGeoTransform(GRID.geotransform)
    ds.SetProjection(GRID.crs_wkt)
    ds.GetRasterBand(1).SetNoDataValue(0)
    gdal.Rasterize(ds, str(vector), attribute="code", layers=["parcels"])
    ds = None
    return out


# -- CLASS_MAP --------------------------------------------------------------------------------


def test_class_map_wildcard_and_ignore():
    cmap = parse_class_map("1200=maize; *=other; 0=ignore")
    assert [(c.value, c.name, c.code) for c in cmap.classes] == [(0, "maize", 1200), (1, "other", None)]
    codes = np.array([[0, 1200, 5, 9120], [1200, 0, 65535, 7]], dtype=np.uint16)
    expected = np.array([[IGNORE_INDEX, 0, 1, 1], [0, IGNORE_INDEX, 1, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(cmap.lookup(codes), expected)
    assert cmap.value_of(None) == IGNORE_INDEX


def test_class_map_lists_ranges_text_and_colours():
    cmap = parse_class_map(
        "1110,1120=winter cereals #d95f02\n1300-1399=other cereals:#123456; Grassland=grass; 5=grass"
    )
    names = [c.name for c in cmap.classes]
    assert names == ["winter cereals", "other cereals", "grass"]
    assert cmap.classes[0].colour == "#d95f02" and cmap.classes[1].colour == "#123456"
    assert cmap.value_of(1120) == 0 and cmap.value_of(1350) == 1 and cmap.value_of(1400) == IGNORE_INDEX
    assert cmap.value_of("grassland") == 2 and cmap.value_of(" Grassland ") == 2 and cmap.value_of(5) == 2
    assert cmap.value_of("1120") == 0 and cmap.value_of(1120.0) == 0  # text and float codes of an integer
    assert cmap.classes[0].code is None  # two codes: no single source code
    # exact keys win over ranges, ranges over '*', whatever the order
    cmap = parse_class_map("*=rest; 100-199=range; 150=exact")
    assert [cmap.classes[cmap.value_of(v)].name for v in (150, 120, 7)] == ["exact", "range", "rest"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("1200 maize", "code=name"),
        ("1200=", "code=name"),
        ("1200=maize; 1200=grass", "twice"),
        ("*=a; *=b", "'*' twice"),
        ("0=ignore; *=ignore", "ignore"),
        ("1300-1200=x", "low-high"),
        ("1=a #ff0000; 2=a #00ff00", "two colours"),
    ],
)
def test_class_map_errors_name_the_problem(text, words):
    with pytest.raises(CropsError, match=words):
        parse_class_map(text)


def test_classes_csv_names_and_orders_classes(tmp_path):
    write_classes_csv(
        tmp_path / "classes.csv",
        [CropClass(7, "barley", "#aa0000"), CropClass(3, "wheat", "#00aa00"), CropClass(0, "none", "#000000")],
    )
    codes = np.zeros((GRID.height, GRID.width), dtype=np.uint8)
    codes[:10, :10] = 3
    codes[20:, 30:] = 7
    labels = open_labels(write_raster(tmp_path / "labels.tif", codes), GRID)
    assert [(c.value, c.name, c.colour, c.code) for c in labels.classes] == [
        (0, "wheat", "#00aa00", 3),
        (1, "barley", "#aa0000", 7),
    ]
    out = labels.read(0, 0, GRID.width, GRID.height)
    np.testing.assert_array_equal(out, np.select([codes == 3, codes == 7], [0, 1], IGNORE_INDEX))
    codes[5, 5] = 9  # a value the classes.csv does not list
    with pytest.raises(CropsError, match=r"\[9\].*not listed in .*classes.csv"):
        open_labels(write_raster(tmp_path / "labels.tif", codes), GRID)


def test_without_class_map_or_csv_codes_become_classes():
    cmap = class_map_from_codes([0, 9120, 1200, 1200])
    assert [(c.value, c.name, c.code) for c in cmap.classes] == [(0, "class 1200", 1200), (1, "class 9120", 9120)]
    assert cmap.value_of(0) == IGNORE_INDEX
    with pytest.raises(CropsError, match="no class value"):
        class_map_from_codes([0])


# -- sources ------------------------------------------------------------------------------------


def test_polygons_and_raster_agree(tmp_path):
    vector = write_parcels(tmp_path / "parcels.gpkg")
    reference = gdal_rasterised_codes(vector, tmp_path / "codes.tif")
    cmap = "1200=maize; 1110=wheat; *=other; 0=ignore"
    from_polygons = open_labels(vector, GRID, label_field="code", class_map=cmap)
    from_raster = open_labels(reference, GRID, class_map=cmap)
    a = from_polygons.read(0, 0, GRID.width, GRID.height)
    b = from_raster.read(0, 0, GRID.width, GRID.height)
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0, 1, 2, IGNORE_INDEX}
    # the later 'code 0' parcel punches an ignore hole into the grass parcel
    assert a[5, 30] == IGNORE_INDEX and a[5, 20] == 2
    # windows read the same pixels as the whole
    np.testing.assert_array_equal(from_polygons.read(7, 11, 20, 9), a[11:20, 7:27])


def test_a_layer_is_chosen_the_qgis_way_by_name_or_number(tmp_path):
    vector = write_parcels(tmp_path / "parcels.gpkg")
    whole = open_labels(vector, GRID, label_field="code").read(0, 0, GRID.width, GRID.height)
    for spec in (f"{vector}|layername=parcels", f"{vector}|layerid=0"):
        labels = open_labels(spec, GRID, label_field="code")
        np.testing.assert_array_equal(labels.read(0, 0, GRID.width, GRID.height), whole)
    with pytest.raises(CropsError, match="no layer 'fields'; its layers are parcels"):
        open_labels(f"{vector}|layername=fields", GRID, label_field="code")
    with pytest.raises(CropsError, match="no layer number 3"):
        open_labels(f"{vector}|layerid=3", GRID, label_field="code")
    assert LayerSpec.parse("a.gpkg|layerid=2|subset=x") == LayerSpec("a.gpkg", None, 2)


def test_polygons_in_another_crs_are_reprojected(tmp_path):
    utm = open_labels(write_parcels(tmp_path / "utm.gpkg"), GRID, label_field="code")
    wgs84 = open_labels(write_parcels(tmp_path / "wgs84.gpkg", epsg=4326), GRID, label_field="code")
    a, b = (s.read(0, 0, GRID.width, GRID.height) for s in (utm, wgs84))
    assert (a != IGNORE_INDEX).sum() > 100
    np.testing.assert_array_equal(a, b)
    assert [c.name for c in utm.classes] == ["class 1110", "class 1200", "class 9120"]


def test_text_attribute_values_become_named_classes(tmp_path):
    vector = write_parcels(tmp_path / "parcels.gpkg", field_type=ogr.OFTString)
    labels = open_labels(vector, GRID, label_field="code", class_map="1200=maize; 9120=grass")
    a = labels.read(0, 0, GRID.width, GRID.height)
    assert {labels.classes[v].name for v in np.unique(a) if v != IGNORE_INDEX} == {"maize", "grass"}


def test_label_raster_on_another_grid_is_warped(tmp_path):
    codes = np.zeros((GRID.height, GRID.width), dtype=np.uint16)
    codes[3:12, 4:20] = 1200
    # the same labels on a larger grid shifted by 5 pixels: warped back onto GRID they match
    big = Grid(50, 40, (600000.0 - 50, 10.0, 0.0, 5700000.0 + 50, 0.0, -10.0), GRID.crs_wkt)
    shifted = np.zeros((40, 50), dtype=np.uint16)
    shifted[5:35, 5:45] = codes
    labels = open_labels(write_raster(tmp_path / "big.tif", shifted, big, nodata=0), GRID)
    a = labels.read(0, 0, GRID.width, GRID.height)
    np.testing.assert_array_equal(a, np.where(codes == 1200, 0, IGNORE_INDEX))


def test_bad_label_inputs_raise_clear_errors(tmp_path):
    vector = write_parcels(tmp_path / "parcels.gpkg")
    with pytest.raises(CropsError, match="give LABEL_FIELD"):
        open_labels(vector, GRID)
    with pytest.raises(CropsError, match="no field 'crop'.*code"):
        open_labels(vector, GRID, label_field="crop")
    with pytest.raises(CropsError, match="gives no class.*values found: 0, 1110, 1200, 9120"):
        open_labels(vector, GRID, label_field="code", class_map="5=x")
    far = Grid(10, 10, (700000.0, 10.0, 0.0, 5800000.0, 0.0, -10.0), GRID.crs_wkt)
    with pytest.raises(CropsError, match="No polygon .* overlaps"):
        open_labels(vector, far, label_field="code")
    with pytest.raises(CropsError, match="not found"):
        open_labels(tmp_path / "missing.tif", GRID)

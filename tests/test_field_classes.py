"""Crop per field: parcels + class map -> a styled GeoPackage whose classes are the map's majority per field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from crops_engine.errors import CropsError
from crops_engine.field_classes import field_classes
from crops_engine.raster import Grid, create_geotiff, finish_geotiff

gdal.UseExceptions()


def read_fields(path: Path) -> dict[int, dict]:
    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    found = {i: f.items() for i, f in enumerate(layer)}  # in the parcels' order (field_id may repeat)
    ds = None
    return found


def reference(parcels: Path, class_map: Path, confidence: np.ndarray) -> dict[int, dict]:
    """Per field, from first principles: every pixel centre tested against the polygon (OGR), then counted."""
    ds = gdal.Open(str(class_map))
    values = ds.GetRasterBand(1).ReadAsArray()
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    vds = ogr.Open(str(parcels))
    found = {}
    for i, feature in enumerate(vds.GetLayer(0)):
        geom = feature.GetGeometryRef()
        xmin, xmax, ymin, ymax = geom.GetEnvelope()
        cols = np.arange(max(int((xmin - x0) / dx) - 1, 0), min(int((xmax - x0) / dx) + 2, values.shape[1]))
        rows = np.arange(max(int((ymax - y0) / dy) - 1, 0), min(int((ymin - y0) / dy) + 2, values.shape[0]))
        classes, confs = [], []
        for r in rows:
            for c in cols:
                point = ogr.Geometry(ogr.wkbPoint)
                point.AddPoint_2D(x0 + (c + 0.5) * dx, y0 + (r + 0.5) * dy)
                if geom.Contains(point) and values[r, c] != 0:  # 0: the labels' nodata
                    classes.append(int(values[r, c]))
                    confs.append(float(confidence[r, c]))
        counts = np.bincount(classes, minlength=8) if classes else np.zeros(8, int)
        winner = int(np.argmax(counts)) if classes else None
        found[i] = {
            "class_value": winner, "pixels": len(classes),
            "class_share": counts[winner] / len(classes) if classes else None,
            "confidence": float(np.mean(confs)) if classes else None,
        }
    vds = None
    return found


@pytest.fixture(scope="module")
def scene(sample_pair, tmp_path_factory):
    """The sample target's labels as a class map, a random confidence raster on its grid, and one-hot-ish
    probabilities that disagree with the labels where the confidence is low."""
    folder = tmp_path_factory.mktemp("fields")
    target = sample_pair / "target"
    ds = gdal.Open(str(target / "labels.tif"))
    grid = Grid.of(ds)
    labels = ds.GetRasterBand(1).ReadAsArray()
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, labels.shape).astype(np.float32)
    conf_path = folder / "confidence.tif"
    out = create_geotiff(conf_path, grid, 1, np.float32, -1.0)
    out.GetRasterBand(1).WriteArray(confidence)
    finish_geotiff(out)
    out = None  # closed: other handles read it
    k = 5
    probs = np.full((k,) + labels.shape, 0.05, np.float32)
    for c in range(k):
        probs[c][labels == c + 1] = 0.8
    flip = confidence < 0.4  # there, the probabilities favour the next class instead
    for c in range(k):
        probs[(c + 1) % k][flip & (labels == c + 1)] = 0.9
    prob_path = folder / "probabilities.tif"
    out = create_geotiff(prob_path, grid, k, np.float32, -1.0)
    for c in range(k):
        out.GetRasterBand(c + 1).WriteArray(probs[c])
    finish_geotiff(out)
    out = None  # closed: other handles read it
    return {"labels": target / "labels.tif", "fields": target / "fields.gpkg", "confidence": confidence,
            "confidence_path": conf_path, "probabilities": prob_path, "folder": folder}


def test_per_field_classes_match_a_pixel_by_pixel_reference(scene, tmp_path):
    out = tmp_path / "fields.gpkg"
    result = field_classes(str(scene["fields"]), scene["labels"], out, confidence=scene["confidence_path"])
    got = read_fields(out)
    want = reference(scene["fields"], scene["labels"], scene["confidence"])
    assert result["fields"] == len(want) > 10
    assert set(got) == set(want)
    for fid, w in want.items():
        g = got[fid]
        assert g["pixels"] == w["pixels"], fid
        if w["pixels"]:
            assert g["class_value"] == w["class_value"], fid
            assert g["class_share"] == pytest.approx(w["class_share"], abs=1e-6), fid
            assert g["confidence"] == pytest.approx(w["confidence"], abs=1e-5), fid
        else:
            assert g["class_value"] is None
    # each field's class name is the classes.csv name of its value, and the area its polygon's
    names = {1: "maize", 2: "winter wheat", 3: "sugar beet", 4: "potato", 5: "grassland"}
    assert all(g["class_name"] == names[g["class_value"]] for g in got.values() if g["class_value"])
    assert all(g["area_ha"] > 0 for g in got.values())
    assert sum(result["area_ha_by_class"].values()) == pytest.approx(
        sum(g["area_ha"] for g in got.values() if g["class_value"]))
    assert (tmp_path / "fields.qml").is_file() and not list(tmp_path.glob("*crops-tmp*"))


def test_parcels_in_another_crs_give_the_same_classes(scene, tmp_path):
    wgs84 = tmp_path / "fields_4326.gpkg"
    gdal.VectorTranslate(str(wgs84), str(scene["fields"]), dstSRS="EPSG:4326", reproject=True)
    field_classes(str(wgs84), scene["labels"], tmp_path / "a.gpkg")
    field_classes(str(scene["fields"]), scene["labels"], tmp_path / "b.gpkg")
    a, b = read_fields(tmp_path / "a.gpkg"), read_fields(tmp_path / "b.gpkg")
    big = [fid for fid, f in b.items() if f["pixels"] > 20]
    assert big and all(a[fid]["class_value"] == b[fid]["class_value"] for fid in big)
    assert all(abs(a[fid]["pixels"] - b[fid]["pixels"]) <= 0.05 * b[fid]["pixels"] + 2 for fid in big)
    assert all(a[fid]["area_ha"] == pytest.approx(b[fid]["area_ha"], rel=0.01) for fid in big)
    ds = ogr.Open(str(tmp_path / "a.gpkg"))
    assert ds.GetLayer(0).GetSpatialRef().GetAuthorityCode(None) == "4326"  # the parcels keep their own CRS
    ds = None


def test_mean_probability_needs_the_probabilities_on_the_maps_grid(scene, tmp_path):
    with pytest.raises(CropsError, match="PROBABILITIES"):
        field_classes(str(scene["fields"]), scene["labels"], tmp_path / "x.gpkg", rule="mean_probability")
    with pytest.raises(CropsError, match="bands but the class map has"):
        field_classes(str(scene["fields"]), scene["labels"], tmp_path / "x.gpkg", rule="mean_probability",
                      probabilities=scene["confidence_path"])
    assert not list(tmp_path.glob("x.*"))


def test_mean_probability_picks_the_highest_mean_not_the_most_pixels(tmp_path):
    """One field, 3 pixels of class 1 at p=0.6 and 2 pixels of class 2 at p=0.99: majority says 1,
    mean probability says 2 (mean p(2) = (2*0.99 + 3*0.3) / 5 = 0.576 > mean p(1) = (3*0.6 + 2*0.005) / 5)."""
    from crops_engine.raster import epsg_wkt

    grid = Grid(5, 1, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
    cm = tmp_path / "cm.tif"
    ds = create_geotiff(cm, grid, 1, np.uint8, 255)
    ds.GetRasterBand(1).WriteArray(np.array([[1, 1, 1, 2, 2]], np.uint8))
    ds.GetRasterBand(1).SetCategoryNames(["", "a", "b"])
    finish_geotiff(ds)
    ds = None
    pp = tmp_path / "p.tif"
    ds = create_geotiff(pp, grid, 2, np.float32, -1.0)
    ds.GetRasterBand(1).WriteArray(np.array([[0.6, 0.6, 0.6, 0.005, 0.005]], np.float32))
    ds.GetRasterBand(2).WriteArray(np.array([[0.3, 0.3, 0.3, 0.99, 0.99]], np.float32))
    finish_geotiff(ds)
    ds = None
    parcels = tmp_path / "one.gpkg"
    vds = ogr.GetDriverByName("GPKG").CreateDataSource(str(parcels))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    layer = vds.CreateLayer("one", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("field_id", ogr.OFTInteger))
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetField("field_id", 1)
    f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((500000 5600000, 500050 5600000, 500050 5599990, "
                                            "500000 5599990, 500000 5600000))"))
    layer.CreateFeature(f)
    vds = None
    field_classes(str(parcels), cm, tmp_path / "maj.gpkg")
    field_classes(str(parcels), cm, tmp_path / "mp.gpkg", rule="mean_probability", probabilities=pp)
    assert read_fields(tmp_path / "maj.gpkg")[0]["class_name"] == "a"
    mp = read_fields(tmp_path / "mp.gpkg")[0]
    assert mp["class_name"] == "b" and mp["class_share"] == pytest.approx(0.4)
    assert mp["confidence"] == pytest.approx((2 * 0.99 + 3 * 0.3) / 5, abs=1e-6)


def test_bad_parcels_are_clear_errors(scene, tmp_path):
    nocrs = tmp_path / "nocrs.gpkg"
    vds = ogr.GetDriverByName("GPKG").CreateDataSource(str(nocrs))
    layer = vds.CreateLayer("nocrs", None, ogr.wkbPolygon)
    f = ogr.Feature(layer.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON ((0 0, 1 0, 1 1, 0 0))"))
    layer.CreateFeature(f)
    vds = None
    with pytest.raises(CropsError, match="no CRS"):
        field_classes(str(nocrs), scene["labels"], tmp_path / "o.gpkg")
    with pytest.raises(CropsError, match="does not exist"):
        field_classes(str(tmp_path / "missing.gpkg"), scene["labels"], tmp_path / "o.gpkg")
    with pytest.raises(CropsError, match="GeoPackage"):
        field_classes(str(scene["fields"]), scene["labels"], tmp_path / "o.shp")
    assert not list(tmp_path.glob("o.*"))


@pytest.mark.qgis
def test_field_classes_from_qgis_opens_styled_by_class(qgis_app, scene, tmp_path):
    import processing
    from qgis.core import QgsVectorLayer

    out = tmp_path / "styled.gpkg"
    result = processing.run("crops:field_classes", {"PARCELS": str(scene["fields"]), "INPUT": str(scene["labels"]),
                                                     "RULE": "majority", "OUTPUT": str(out)})
    assert result["OUTPUT"] == str(out) and result["FIELDS"] > 10
    layer = QgsVectorLayer(str(out), "fields")
    assert layer.isValid() and layer.renderer().type() == "categorizedSymbol"  # the .qml beside it
    categories = {c.value(): c.symbol().color().name() for c in layer.renderer().categories()}
    assert categories["maize"] == "#f2c12e" and categories["grassland"] == "#5aa02c"

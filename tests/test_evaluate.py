"""Evaluation of a class map: hand-computed figures, polygons in another CRS, classes from a model, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from osgeo import ogr, osr

from crops_engine import evaluate as evaluate_module
from crops_engine.errors import CropsError
from crops_engine.evaluate import evaluate_class_map
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff, set_palette

GRID = Grid(4, 4, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
M, X, N = 0, 1, 255  # maize, other (X), nodata
PRED = np.array([[M, M, X, X], [M, M, X, X], [X, X, N, M], [X, M, M, M]], dtype=np.uint8)
REF = np.array([[1200, 1200, 1200, 5], [1200, 1200, 5, 5], [5, 5, 1200, 1200], [0, 0, 5, 5]], dtype=np.uint16)
CLASS_MAP = "1200=maize; *=other; 0=ignore"


def write_class_map(path, values=PRED, names=True):
    ds = create_geotiff(path, GRID, 1, np.uint8, 255)
    ds.GetRasterBand(1).WriteArray(values)
    if names:
        set_palette(ds.GetRasterBand(1), [(0, "maize", "#f2c12e"), (1, "other", "#888888")])
    finish_geotiff(ds)
    return path


def write_reference(path, values=REF, grid=GRID):
    ds = create_geotiff(path, grid, 1, np.uint16, None)
    ds.GetRasterBand(1).WriteArray(values)
    finish_geotiff(ds)
    return path


@pytest.fixture
def pair(tmp_path):
    return write_class_map(tmp_path / "map.tif"), write_reference(tmp_path / "ref.tif")


def test_figures_match_a_hand_computed_case(pair, tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate_module, "WINDOW_PIXELS", 4)  # one row per window: exercise the streaming
    out_json, out_html = tmp_path / "m.json", tmp_path / "m.html"
    result = evaluate_class_map(*pair, output=out_html, output_json=out_json, reference_class_map=CLASS_MAP)
    # reference rows, prediction columns; the row-3 zeros are ignored, the nodata pixel (2, 2) skipped
    doc = json.loads(out_json.read_text())
    assert doc["confusion_matrix"] == [[5, 1], [2, 5]]
    assert doc["pixels"] == 13 and doc["labelled_pixels"] == 14 and doc["nodata_pixels_skipped"] == 1
    assert result["overall_accuracy"] == pytest.approx(10 / 13)
    assert result["mean_iou"] == pytest.approx(5 / 8)
    assert result["kappa"] == pytest.approx(46 / 85)
    maize, other = doc["per_class"]
    assert (maize["name"], maize["code"], other["name"]) == ("maize", 1200, "other")
    assert maize["iou"] == pytest.approx(5 / 8) and maize["f1"] == pytest.approx(10 / 13)
    assert maize["precision"] == pytest.approx(5 / 7) and maize["recall"] == pytest.approx(5 / 6)
    assert [m["matched_by"] for m in doc["matching"]] == ["name", "name"]
    page = out_html.read_text()
    assert "Confusion matrix" in page and "maize" in page and "0.6250" in page
    assert result["output"] == str(out_html) and result["output_json"] == str(out_json)


def test_polygons_in_another_crs_are_reprojected(tmp_path):
    class_map = write_class_map(tmp_path / "map.tif")
    to_wgs84 = osr.CoordinateTransformation(_srs(32631), _srs(4326))
    path = tmp_path / "fields.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("fields", _srs(4326), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("crop", ogr.OFTString))
    for name, col in (("maize", 0), ("other", 2)):  # two 2 x 2 pixel fields over the top rows
        x0, y0 = 500000.0 + col * 10 + 1, 5600000.0 - 1
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((x0, y0), (x0 + 18, y0), (x0 + 18, y0 - 18), (x0, y0 - 18), (x0, y0)):
            ring.AddPoint_2D(*to_wgs84.TransformPoint(x, y)[:2])
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("crop", name)
        feature.SetGeometry(poly)
        layer.CreateFeature(feature)
    ds = None  # noqa: F841 - close the GeoPackage
    out = tmp_path / "m.json"
    result = evaluate_class_map(class_map, f"{path}|layername=fields", output_json=out, label_field="crop")
    doc = json.loads(out.read_text())
    assert doc["confusion_matrix"] == [[4, 0], [0, 4]] and result["mean_iou"] == 1.0


def _srs(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def test_classes_and_class_map_from_the_model(pair, tmp_path):
    from safetensors.numpy import save_file

    from crops_engine.checkpoint import CheckpointMeta
    from crops_engine.classes import CropClass

    # evaluation reads only the checkpoint's header: a one-tensor file with real CROPS metadata will do
    meta = CheckpointMeta(
        arch="unet", arch_args={}, in_channels=2, num_classes=2, features=["b1", "b2"],
        normalisation={"mean": [0.0, 0.0], "std": [1.0, 1.0]}, block_size=32,
        classes=[CropClass(0, "maize", "#f2c12e", 1200), CropClass(1, "other", "#888888")],
        provenance={"class_map": CLASS_MAP},
    )
    checkpoint = tmp_path / "model.safetensors"
    save_file({"w": np.zeros(1, dtype=np.float32)}, str(checkpoint), metadata={"crops": json.dumps(meta.to_dict())})
    bare = write_class_map(tmp_path / "bare.tif", names=False)  # values only: the model names them
    with pytest.raises(CropsError, match="give MODEL"):
        evaluate_class_map(bare, pair[1], output_json=tmp_path / "x.json")
    out = tmp_path / "m.json"
    result = evaluate_class_map(bare, pair[1], output_json=out, model=checkpoint)  # no CLASS_MAP: the model's
    assert result["mean_iou"] == pytest.approx(5 / 8)
    assert json.loads(out.read_text())["classes_from"].startswith("model")


def test_reference_class_missing_from_the_map_counts_as_never_predicted(pair, tmp_path):
    out = tmp_path / "m.json"
    evaluate_class_map(*pair, output_json=out, reference_class_map="1200=maize; 5=wheat; 0=ignore")
    doc = json.loads(out.read_text())
    assert [c["name"] for c in doc["per_class"]] == ["maize", "other", "wheat"]
    assert doc["confusion_matrix"] == [[5, 1, 0], [0, 0, 0], [2, 5, 0]]
    assert doc["per_class"][2]["iou"] == 0.0 and doc["per_class"][1]["iou"] == 0.0


def test_bad_input(pair, tmp_path):
    out = tmp_path / "m.json"
    with pytest.raises(CropsError, match="matches a class of the class map"):
        evaluate_class_map(*pair, output_json=out, reference_class_map="1200=wheat; *=barley; 0=ignore")
    with pytest.raises(CropsError, match="gives no class"):
        evaluate_class_map(*pair, output_json=out, reference_class_map="9999=maize")
    unlabelled = write_reference(tmp_path / "zeros.tif", np.zeros((4, 4), dtype=np.uint16))
    with pytest.raises(CropsError):
        evaluate_class_map(pair[0], unlabelled, output_json=out, reference_class_map=CLASS_MAP)
    all_nodata = write_class_map(tmp_path / "nodata.tif", np.full((4, 4), 255, dtype=np.uint8))
    with pytest.raises(CropsError, match="nodata at all 14 labelled pixels"):
        evaluate_class_map(all_nodata, pair[1], output_json=out, reference_class_map=CLASS_MAP)
    odd = write_class_map(tmp_path / "odd.tif", np.where(PRED == 1, 7, PRED).astype(np.uint8))
    with pytest.raises(CropsError, match=r"values \[7\]"):
        evaluate_class_map(odd, pair[1], output_json=out, reference_class_map=CLASS_MAP)
    assert not out.exists() and not list(tmp_path.glob("*crops-tmp*"))


def test_cli(pair, tmp_path, capsys):
    from crops_engine.cli import main

    out = tmp_path / "report.html"
    code = main(["evaluate", "--input", str(pair[0]), "--reference", str(pair[1]), "--class-map", CLASS_MAP,
                 "--output", str(out)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["output"] == str(out) and result["pixels"] == 13 and out.read_text().startswith("<!DOCTYPE html>")


# -- area-adjusted estimates (Olofsson et al. 2014) and scores per field ---------------------------------------

def test_area_adjusted_reproduces_olofsson_2014():
    """The paper's worked example (section 5, Tables 8-9): map rows, reference columns, 30 m pixels (0.09 ha).
    Published figures, rounded as printed: areas 21,158 +/- 6,158 ha ... (section 5.2.2), accuracies (5.2.1);
    the producer's half-width of forest gain is eq. 7's 0.254 (printed 0.23, a known typo of the paper)."""
    counts = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
    mapped = np.array([200000, 150000, 3200000, 6450000])
    est = evaluate_module.area_adjusted(counts, mapped, 0.09, ["deforestation", "gain", "forest", "non-forest"],
                                        z=1.96)  # the paper's z
    assert est["confidence"] == 0.95
    got = est["classes"]
    np.testing.assert_allclose(np.round(est["proportions"], 4), [[0.0176, 0, 0.0013, 0.0011],
                                                                 [0, 0.0110, 0.0016, 0.0024],
                                                                 [0.0019, 0, 0.2967, 0.0213],
                                                                 [0.0040, 0.0020, 0.0179, 0.6212]])
    assert [round(c["area"]) for c in got] == [21158, 11686, 285770, 581386]
    assert [round(c["area_half_width"]) for c in got] == [6158, 3756, 15510, 16282]
    assert [round(c["users_accuracy"], 2) for c in got] == [0.88, 0.73, 0.93, 0.96]
    assert [round(c["users_half_width"], 2) for c in got] == [0.07, 0.10, 0.04, 0.02]
    assert [round(c["producers_accuracy"], 2) for c in got] == [0.75, 0.85, 0.93, 0.96]
    assert [round(c["producers_half_width"], 2) for c in got] == [0.21, 0.25, 0.03, 0.02]
    assert round(est["overall_accuracy"], 2) == 0.95 and round(est["overall_half_width"], 2) == 0.02
    assert est["total_area"] == pytest.approx(900000.0) and est["strata_without_sample"] == []


def test_area_adjusted_pixel_sample_by_hand(pair, tmp_path):
    """The 4 x 4 pair as a pixel sample: map maize 8 px, other 7 px (10 m: 0.01 ha each); sample rows (map)
    maize 5 maize + 2 other, other 1 maize + 5 other."""
    out = tmp_path / "m.json"
    result = evaluate_class_map(*pair, output_json=out, output=tmp_path / "m.html", reference_class_map=CLASS_MAP,
                                reference_is_sample=True)
    doc = json.loads(out.read_text())
    est = doc["area_adjusted"]
    w1, w2 = 8 / 15, 7 / 15
    maize_share = w1 * 5 / 7 + w2 * 1 / 6
    var = w1 ** 2 * (5 / 7) * (2 / 7) / 6 + w2 ** 2 * (1 / 6) * (5 / 6) / 5
    maize, other = est["classes"]
    assert est["unit"] == "ha" and est["sample_unit"] == "pixel" and est["sample_units"] == 13
    assert maize["area"] == pytest.approx(maize_share * 15 * 0.01)
    assert maize["area_half_width"] == pytest.approx(evaluate_module.Z_95 * np.sqrt(var) * 15 * 0.01)
    assert other["area"] == pytest.approx((1 - maize_share) * 15 * 0.01)
    assert maize["users_accuracy"] == pytest.approx(5 / 7) and other["users_accuracy"] == pytest.approx(5 / 6)
    assert maize["producers_accuracy"] == pytest.approx(w1 * 5 / 7 / maize_share)
    assert result["area_adjusted_accuracy"] == pytest.approx(w1 * 5 / 7 + w2 * 5 / 6)
    assert [a["pixels"] for a in doc["mapped_area"]] == [8, 7]
    assert doc["mapped_area"][0]["area_ha"] == pytest.approx(0.08)
    page = (tmp_path / "m.html").read_text()
    assert "Area-adjusted estimates" in page and "Mapped area per class" in page and "±" in page


def _fields(path, grid_epsg=32631):
    """Four fields on the 4 x 4 grid (pixel rows / columns): A top-left 2 x 2 maize, B top-right 2 x 2 other,
    C the bottom row other, D the nodata pixel (2, 2) maize."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("fields", _srs(grid_epsg), ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("crop", ogr.OFTString))
    for crop, (r0, c0, rows, cols) in (("maize", (0, 0, 2, 2)), ("other", (0, 2, 2, 2)), ("other", (3, 0, 1, 4)),
                                       ("maize", (2, 2, 1, 1))):
        x0, y0 = 500000.0 + c0 * 10 + 1, 5600000.0 - r0 * 10 - 1
        x1, y1 = x0 + cols * 10 - 2, y0 - rows * 10 + 2
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
            ring.AddPoint_2D(x, y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("crop", crop)
        feature.SetGeometry(poly)
        layer.CreateFeature(feature)
    ds = None  # noqa: F841 - close the GeoPackage
    return f"{path}|layername=fields"


def test_polygon_reference_is_scored_per_field(tmp_path):
    class_map = write_class_map(tmp_path / "map.tif")
    out, page = tmp_path / "m.json", tmp_path / "m.html"
    result = evaluate_class_map(class_map, _fields(tmp_path / "fields.gpkg"), output_json=out, output=page,
                                label_field="crop", reference_is_sample=True)
    doc = json.loads(out.read_text())
    fields = doc["per_field"]
    assert fields["fields"] == 3 and fields["fields_without_pixels"] == 1  # D: only the nodata pixel
    assert fields["confusion_matrix"] == [[1, 0], [1, 1]]  # C (other) is mostly maize in the map
    assert result["field_accuracy"] == pytest.approx(2 / 3)
    c = next(f for f in fields["field_list"] if not f["correct"])
    assert (c["reference"], c["majority"], c["majority_share"], c["pixels"]) == ("other", "maize", 0.75, 4)
    # the fields as the sample: map maize {A: maize, C: other}, map other {B: other}; one unit: no interval
    est = doc["area_adjusted"]
    assert est["sample_unit"] == "field" and est["sample_units"] == 3
    assert est["classes"][0]["area_share"] == pytest.approx(8 / 15 / 2)
    assert est["classes"][1]["area_share"] == pytest.approx(8 / 15 / 2 + 7 / 15)
    assert est["overall_half_width"] is None and est["classes"][0]["area_half_width"] is None
    text = page.read_text()
    assert "Per field" in text and "The largest wrong fields" in text


def test_cli_reference_is_sample(pair, tmp_path, capsys):
    from crops_engine.cli import main

    out = tmp_path / "m.json"
    assert main(["evaluate", "--input", str(pair[0]), "--reference", str(pair[1]), "--class-map", CLASS_MAP,
                 "--reference-is-sample", "true", "--output-json", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["area_adjusted_accuracy"] == pytest.approx(8 / 15 * 5 / 7 + 7 / 18)
    assert json.loads(out.read_text())["area_adjusted"]["classes"][0]["sample_units"] == 7

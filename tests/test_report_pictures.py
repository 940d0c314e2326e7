"""The reports' pictures: PNG charts embedded in the evaluation report (and the other HTML reports)."""

from __future__ import annotations

import base64
import re

import numpy as np

from crops_engine.evaluate_report import render_html
from crops_engine.plots import CORRECT, UNLABELLED, WRONG, bar_chart, category_image, confusion_image, line_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pngs(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)]


def decoded_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG header."""
    assert png.startswith(PNG_MAGIC)
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_charts_are_non_empty_pngs():
    for png in (
        bar_chart(["maize", "grass"], {"IoU": [0.5, None], "F1": [0.6, 0.7]}, "t", "score", limits=(0, 1)),
        confusion_image([[5, 1], [2, 9]], ["maize", "grass"]),
        line_chart({"loss": ([1, 2, 3], [1.0, None, 0.5])}, "t", "step", "loss", log_y=True),
        category_image(np.array([[CORRECT, WRONG], [UNLABELLED, CORRECT]]), {0: "#eee", 1: "#0a0", 2: "#a00"},
                       {0: "none", 1: "right", 2: "wrong"}, "errors"),
    ):
        width, height = decoded_size(png)
        assert width > 100 and height > 100 and len(png) > 2000


def test_evaluation_report_shows_its_pictures():
    doc = {
        "class_map": "m.tif", "reference": "r.tif", "label_field": None, "reference_class_map": "1=maize; 2=grass",
        "classes_from": "model m", "matching": [], "nodata_pixels_skipped": 0, "pixels": 17,
        "overall_accuracy": 0.82, "mean_iou": 0.6, "mean_f1": 0.7, "kappa": 0.5, "pixel_area_ha": 0.01,
        "confusion_matrix": [[5, 1], [2, 9]],
        "per_class": [
            {"name": "maize", "colour": "#f2c12e", "iou": 0.62, "f1": 0.77, "precision": 0.71, "recall": 0.83,
             "reference_pixels": 6, "predicted_pixels": 7},
            {"name": "grass", "colour": "#5aa02c", "iou": 0.75, "f1": 0.86, "precision": 0.9, "recall": 0.82,
             "reference_pixels": 11, "predicted_pixels": 10},
        ],
    }
    assert len(pngs(render_html(doc))) == 3  # scores per class, confusion matrix, areas
    errors = np.array([[CORRECT, WRONG], [UNLABELLED, CORRECT]])
    pictures = pngs(render_html(doc, errors))
    assert len(pictures) == 4 and all(decoded_size(p)[0] > 100 for p in pictures)


def test_evaluation_thumbnail_marks_right_wrong_and_unlabelled_pixels(tmp_path):
    from osgeo import gdal

    from crops_engine.evaluate import _Comparison, evaluate_class_map
    from crops_engine.progress import Progress
    from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff

    grid = Grid(4, 3, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
    pred = np.array([[1, 1, 2, 2], [1, 2, 2, 1], [255, 1, 1, 1]], np.uint8)
    ref = np.array([[1, 2, 2, 0], [1, 2, 1, 1], [1, 1, 0, 2]], np.uint16)
    cm, rf = tmp_path / "map.tif", tmp_path / "ref.tif"
    ds = create_geotiff(cm, grid, 1, np.uint8, 255)
    ds.GetRasterBand(1).WriteArray(pred)
    ds.GetRasterBand(1).SetCategoryNames(["", "maize", "grass"])
    finish_geotiff(ds)
    ds = create_geotiff(rf, grid, 1, np.uint16, 0)
    ds.GetRasterBand(1).WriteArray(ref)
    finish_geotiff(ds)
    ds = None
    (tmp_path / "classes.csv").write_text("id,name,colour\n1,maize,#f2c12e\n2,grass,#5aa02c\n")
    comparison = _Comparison.open(cm, rf, None, None, None, Progress())
    comparison.count(Progress())
    expected = np.array([[CORRECT, WRONG, CORRECT, UNLABELLED], [CORRECT, CORRECT, WRONG, CORRECT],
                         [UNLABELLED, CORRECT, UNLABELLED, WRONG]])
    assert comparison.errors.tolist() == expected.tolist()
    assert comparison.pixel_area_ha() == 0.01
    gdal.UseExceptions()
    evaluate_class_map(cm, rf, output=tmp_path / "report.html")
    assert len(pngs((tmp_path / "report.html").read_text())) == 4


def test_training_and_adaptation_curves_are_pictures_of_their_logs(tmp_path):
    from crops_engine.curves import adaptation_curves, training_curves, write_png

    metrics = {"epochs": [{"step": s, "train_loss": 1.0 / s, "val_loss": 1.2 / s, "val_miou": 0.1 * s, "lr": 1e-3}
                          for s in range(1, 6)]}
    log = {"history": [{"step": 10 * s, "lr": 1e-4, "loss": 0.5, "mix_ce": 0.4, "contrast": 0.1,
                        "share_maize": 0.3, "share_grass": 0.7} for s in range(1, 4)]}
    for png in (training_curves(metrics), adaptation_curves(log)):
        width, height = decoded_size(png)
        assert width > 600 and height > 200
    assert training_curves({"epochs": []}) is None and adaptation_curves({"history": []}) is None
    assert write_png(tmp_path / "m.metrics.png", training_curves(metrics)).read_bytes().startswith(PNG_MAGIC)
    assert write_png(tmp_path / "none.png", None) is None and not (tmp_path / "none.png").exists()

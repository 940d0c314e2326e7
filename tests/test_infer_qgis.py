"""crops:infer through the real qgis_process binary on the sample target scene; the map opens styled in QGIS."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qgis

torch = pytest.importorskip("torch")
pytest.importorskip("timm")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """The generator's target scene, composited, and a tiny random U-Net over its ten bands."""
    from osgeo import gdal

    from crops_engine.checkpoint import save_checkpoint
    from crops_engine.classes import read_classes_csv
    from crops_engine.composite import ndvi_quality_mosaic
    from crops_engine.features import feature_names
    from crops_engine.models import build_model
    from crops_engine.scenes import load_scenes
    from crops_engine.synth import generate_scene, preset

    root = tmp_path_factory.mktemp("infer_qgis")
    generate_scene(root / "target", preset("target"), size=96, start="2019-04-01", end="2019-09-30",
                   revisit_days=10, seed=3)
    composite = root / "composite.tif"
    ndvi_quality_mosaic(load_scenes(folder=root / "target" / "scenes", pattern="S2_L2A_????????.tif"), composite)
    names = feature_names(composite)
    raw = gdal.Open(str(composite)).ReadAsArray().reshape(len(names), -1).astype(np.float64)
    classes = read_classes_csv(root / "target" / "classes.csv")
    torch.manual_seed(0)
    model = build_model("unet", len(names), len(classes), encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8),
                        embedding_dim=16)
    checkpoint = root / "model.safetensors"
    save_checkpoint(checkpoint, model, {"features": names, "classes": classes, "block_size": 32, "nodata": 0,
                                        "normalisation": {"mean": raw.mean(1).tolist(), "std": raw.std(1).tolist()}})
    return {"composite": composite, "model": checkpoint, "classes": classes, "fields": root / "target" / "fields.gpkg"}


def test_infer_through_qgis_process_and_open_styled(qgis_process, qgis_app, target, tmp_path):
    from osgeo import gdal
    from qgis.core import QgsRasterLayer

    src = gdal.Open(str(target["composite"]))
    x0, dx, _, y0, _, dy = src.GetGeoTransform()
    extent = f"{x0 + 8 * dx},{x0 + 88 * dx},{y0 + 90 * dy},{y0 + 10 * dy} [EPSG:32631]"  # columns 8..88, rows 10..90
    out = tmp_path / "map.tif"
    result = qgis_process(
        "crops:infer", MODEL=target["model"], INPUT=target["composite"], EXTENT=extent,
        MASK=f"{target['fields']}|layername=fields", DEVICE=1, TILE_SIZE=32, OVERLAP=8, BATCH_SIZE=3,
        OUTPUT=out, OUTPUT_CONFIDENCE=tmp_path / "confidence.tif",
    )["results"]
    assert result["OUTPUT"] == str(out) and result["OUTPUT_CONFIDENCE"] == str(tmp_path / "confidence.tif")
    assert 0 < result["VALID_PIXELS"] <= 80 * 80
    # only the outputs asked for, each with its style (category names live in the class map's .aux.xml),
    # and the run's record beside the main output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confidence.qml", "confidence.tif", "map.qml", "map.run.json", "map.tif", "map.tif.aux.xml"]

    ds = gdal.Open(str(out))
    assert (ds.RasterXSize, ds.RasterYSize) == (80, 80)
    assert ds.GetGeoTransform() == (x0 + 8 * dx, dx, 0.0, y0 + 10 * dy, 0.0, dy)
    values = ds.GetRasterBand(1).ReadAsArray()
    assert (values == 255).any() and (values != 255).any()  # outside the field polygons: nodata
    assert set(np.unique(values).tolist()) <= {c.value for c in target["classes"]} | {255}

    layer = QgsRasterLayer(str(out), "map")  # loads map.qml, as QGIS does when the output is opened
    assert layer.isValid()
    renderer = layer.renderer()
    assert renderer.type() == "paletted"
    entries = [(int(c.value), c.label, c.color.name()) for c in renderer.classes()]
    assert entries == [(c.value, c.name, c.colour.lower()) for c in target["classes"]]
    confidence = QgsRasterLayer(str(tmp_path / "confidence.tif"), "confidence")
    assert confidence.renderer().type() == "singlebandgray"


def test_infer_in_qgis_reports_wrong_features(qgis_app, target, tmp_path):
    """In QGIS's own Processing: a composite with other bands fails with the engine's message, and no output."""
    import processing
    from osgeo import gdal
    from qgis.core import QgsProcessingException

    wrong = tmp_path / "three_bands.tif"
    gdal.Translate(str(wrong), str(target["composite"]), bandList=[1, 2, 3])
    with pytest.raises(QgsProcessingException, match="missing"):
        processing.run("crops:infer", {"MODEL": str(target["model"]), "INPUT": str(wrong), "DEVICE": 1,
                                       "OUTPUT": str(tmp_path / "map.tif")})
    assert not (tmp_path / "map.tif").exists()

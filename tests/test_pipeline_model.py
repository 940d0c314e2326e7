"""The shipped Processing model runs the whole chain through qgis_process, scenes to class map."""

from __future__ import annotations

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e

MODEL = ROOT / "resources" / "models" / "crops_pipeline.model3"


def test_shipped_model_loads_with_every_step(qgis_app):
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL))
    steps = {child.algorithmId() for child in model.childAlgorithms().values()}
    expected = {"ndvi_qm", "build_blocks", "train_source", "partition", "adapt_spcl", "infer"}
    assert steps == {f"crops:{name}" for name in expected}
    for child in model.childAlgorithms().values():
        assert child.algorithm() is not None, child.algorithmId()  # every algorithm exists in the provider
        valid, issues = model.validateChildAlgorithm(child.childId())
        assert valid, (child.childId(), issues)  # every mandatory parameter has a value
    # laid out left to right, one column per step
    xs = [child.position().x() for child in model.childAlgorithms().values()]
    assert len(set(xs)) == len(xs) and min(xs) > 0


def test_shipped_model_holds_choices_as_static_strings():
    import xml.etree.ElementTree as ET

    statics = {o.get("value") for o in ET.parse(MODEL).getroot().iter("Option") if o.get("name") == "static_value"}
    assert "auto" in statics  # DEVICE as its static string, not an index


def test_shipped_model_runs_on_the_sample_pair(qgis_process, sample_pair, tmp_path):
    from osgeo import gdal

    out = {
        "train:source_model": tmp_path / "source.safetensors",
        "partition:easy_hard": tmp_path / "easy_hard.tif",
        "adapt:adapted_model": tmp_path / "adapted.safetensors",
        "map:class_map": tmp_path / "classes.tif",
        "map:confidence": tmp_path / "confidence.tif",
    }
    result = qgis_process(
        str(MODEL),
        source_scenes=sample_pair / "source" / "scenes",
        source_labels=sample_pair / "source" / "labels.tif",
        target_scenes=sample_pair / "target" / "scenes",
        block_size=32,
        train_iterations=20,
        adapt_iterations=6,
        **out,
    )
    for name, path in out.items():
        assert result["results"][name] == str(path), name
        assert path.is_file(), name
    classes = gdal.Open(str(out["map:class_map"]))
    target = gdal.Open(str(next((sample_pair / "target" / "scenes").glob("S2_L2A_????????.tif"))))
    assert classes.GetGeoTransform() == target.GetGeoTransform()
    assert classes.GetRasterBand(1).GetCategoryNames()[:2] == ["maize", "winter wheat"]
    assert (tmp_path / "classes.qml").is_file()

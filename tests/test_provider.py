"""The provider inside a QGIS application: algorithms, help, processing.run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qgis


def test_provider_registers_algorithms_with_help(qgis_app):
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("crops")
    assert provider is not None
    ids = {alg.id() for alg in provider.algorithms()}
    assert {"crops:diagnostics", "crops:sample_data"} <= ids
    for alg in provider.algorithms():
        assert alg.shortHelpString().strip(), alg.id()
        assert alg.helpUrl().startswith("https://"), alg.id()
        assert alg.group(), alg.id()


def test_engine_python_setting_is_registered(qgis_app):
    from crops.crops_qgis.engine_python import SETTING_ENGINE_PYTHON
    from processing.core.ProcessingConfig import ProcessingConfig

    assert SETTING_ENGINE_PYTHON in ProcessingConfig.settings


def test_processing_run_diagnostics(qgis_app, tmp_path):
    import processing

    result = processing.run("crops:diagnostics", {"OUTPUT": str(tmp_path / "report.html")})
    html = (tmp_path / "report.html").read_text()
    assert "<table>" in html and "torch" in html and "3.22" in html
    assert result["DEVICES"] and result["ENGINE_PYTHON"].endswith("python")


def test_processing_run_sample_data(qgis_app, tmp_path):
    import processing
    from osgeo import gdal

    out = tmp_path / "sample"
    result = processing.run(
        "crops:sample_data",
        {
            "PRESET": 1,
            "SIZE": 64,
            "START_DATE": "2019-04-01",
            "END_DATE": "2019-05-01",
            "SEED": 3,
            "OUTPUT_FOLDER": str(out),
        },
    )
    assert result["OUTPUT_FOLDER"] == str(out)
    scenes = sorted((out / "scenes").glob("S2_L2A_????????.tif"))
    assert len(scenes) >= 5
    ds = gdal.Open(str(scenes[0]))
    assert ds.RasterCount == 10 and ds.RasterXSize == 64

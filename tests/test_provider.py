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
        url = alg.helpUrl()  # the shipped README (its section on the command), never a placeholder web address
        assert url.startswith("file://") and "README.md" in url and "example" not in url, alg.id()
        assert alg.group(), alg.id()


def test_help_links_and_metadata_point_at_what_exists():
    from configparser import ConfigParser
    from pathlib import Path

    from crops.crops_qgis.algorithms.base import help_url
    from qgis.PyQt.QtCore import QUrl

    root = Path(__file__).resolve().parents[1]
    url = QUrl(help_url("ndvi-qm"))
    assert Path(url.toLocalFile()) == root / "README.md" and url.fragment() == "ndvi-qm"
    assert QUrl(help_url("trust-report")).fragment() == ""  # no section: the README itself
    metadata = ConfigParser()
    metadata.read(root / "metadata.txt", encoding="utf-8")
    general = metadata["general"]
    for key in ("name", "description", "about", "version", "qgisMinimumVersion", "author"):
        assert general.get(key, "").strip(), key
    for key, value in general.items():
        assert "example.org" not in value and "crops-qgis/crops-qgis" not in value, key


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


def test_loaded_outputs_are_styled_named_and_grouped_per_run(qgis_app, tmp_path):
    """Run from the Toolbox (processing.runAndLoadResults: what the dialog does), the outputs load into the project
    styled from their sidecar, named by what they are and held in one group per run."""
    import processing
    from qgis.core import QgsLayerTreeGroup, QgsProject

    project = QgsProject.instance()
    project.clear()
    sample = tmp_path / "sample"
    processing.run("crops:sample_data", {"PRESET": "pair", "SIZE": 64, "START_DATE": "2019-04-01",
                                         "END_DATE": "2019-06-01", "SEED": 3, "OUTPUT_FOLDER": str(sample)})
    scenes = sample / "source" / "scenes" if (sample / "source").is_dir() else sample / "scenes"
    params = {"FOLDER": str(scenes), "OUTPUT": str(tmp_path / "composite.tif"), "OUTPUT_QA": str(tmp_path / "qa.tif")}
    processing.runAndLoadResults("crops:ndvi_qm", params)
    groups = [n for n in project.layerTreeRoot().children() if isinstance(n, QgsLayerTreeGroup)]
    assert len(groups) == 1 and groups[0].name().startswith("NDVI quality mosaic"), [n.name() for n in groups]
    layers = {node.layer().name(): node.layer() for node in groups[0].findLayers()}
    assert set(layers) == {"NDVI quality mosaic", "QA (max NDVI, day of year, clear observations)"}, sorted(layers)
    assert len(project.layerTreeRoot().findLayers()) == 2  # nothing left outside the group
    qa = layers["QA (max NDVI, day of year, clear observations)"].renderer()  # the sidecar's style, not the default
    assert qa.type() == "singlebandpseudocolor" and qa.classificationMax() == pytest.approx(0.9)
    project.clear()

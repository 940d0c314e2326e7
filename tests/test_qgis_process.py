"""End to end through the real qgis_process binary, as a shell user or CI would call it."""

from __future__ import annotations

import pytest
from conftest import run_qgis_process

pytestmark = pytest.mark.e2e


def test_list_shows_the_provider_algorithms():
    proc = run_qgis_process("list")
    assert proc.returncode == 0, proc.stderr
    assert "crops:diagnostics" in proc.stdout
    assert "crops:sample_data" in proc.stdout


def test_diagnostics_through_qgis_process(qgis_process, tmp_path):
    result = qgis_process("crops:diagnostics", OUTPUT=tmp_path / "report.txt")
    assert result["results"]["ENGINE_PYTHON"]
    assert "qgis" in (tmp_path / "report.txt").read_text()


def test_sample_pair_through_qgis_process(qgis_process, tmp_path):
    from osgeo import gdal, ogr, osr

    out = tmp_path / "s"
    result = qgis_process(
        "crops:sample_data",
        OUTPUT_FOLDER=out,
        PRESET="pair",
        SEED=1,
        SIZE=96,
        START_DATE="2019-05-01",
        END_DATE="2019-06-15",
    )
    assert result["results"]["OUTPUT_FOLDER"] == str(out)
    for domain in ("source", "target"):
        scenes = sorted((out / domain / "scenes").glob("S2_L2A_????????.tif"))
        assert len(scenes) >= 8, domain
        ds = gdal.Open(str(scenes[0]))
        srs = osr.SpatialReference(wkt=ds.GetProjection())
        assert srs.GetAuthorityCode(None) in {f"326{z:02d}" for z in range(1, 61)}  # a UTM zone
        assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == [
            "B02",
            "B03",
            "B04",
            "B05",
            "B06",
            "B07",
            "B08",
            "B8A",
            "B11",
            "B12",
        ]
        assert scenes[0].with_name(scenes[0].stem + "_SCL.tif").exists()
        labels = gdal.Open(str(out / domain / "labels.tif"))
        assert labels.GetGeoTransform() == ds.GetGeoTransform()
        fields = ogr.Open(str(out / domain / "fields.gpkg"))
        assert fields.GetLayer(0).GetFeatureCount() > 0

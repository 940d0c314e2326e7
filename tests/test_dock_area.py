"""The panel's drawn-area label measures metres and hectares in any map CRS (degrees too)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qgis


def test_area_size_in_a_projected_and_a_geographic_crs(qgis_app):
    from crops.crops_qgis.dock import area_size, metres
    from qgis.core import QgsCoordinateReferenceSystem, QgsRectangle

    w, h, ha = area_size(QgsRectangle(540000, 5649000, 540640, 5649640), QgsCoordinateReferenceSystem("EPSG:32631"))
    assert w == pytest.approx(640, rel=0.01) and h == pytest.approx(640, rel=0.01) and ha == pytest.approx(41, rel=0.01)
    # 0.01 degree at 51 N: ~700 m east-west, ~1110 m north-south (not "0 x 0 map units")
    w, h, ha = area_size(QgsRectangle(3.0, 51.0, 3.01, 51.01), QgsCoordinateReferenceSystem("EPSG:4326"))
    assert w == pytest.approx(702, rel=0.01) and h == pytest.approx(1112, rel=0.01)
    assert ha == pytest.approx(w * h / 1e4, rel=0.01)
    assert metres(640.4) == "640 m" and metres(25_000) == "25.0 km"


def test_a_panel_task_passes_the_engines_lines_on(qgis_app, tmp_path):
    """The panel's log shows the engine's progress and notes (the task's `message`), not only Started / Done."""
    from crops.crops_qgis.engine_task import EngineStep, EngineTask

    task = EngineTask("diagnostics", [EngineStep("diagnostics", ["--output", str(tmp_path / "r.html")],
                                                 require_torch=False)])
    lines: list[str] = []
    task.message.connect(lines.append)
    assert task.run(), task.error
    assert "Inspecting the engine environment" in lines
    assert any("torch" in line for line in lines)
    assert len(lines) == len(set(lines))  # no line twice

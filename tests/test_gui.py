"""The map panel in a real QGIS canvas under Xvfb: draw, run, styled layers, a screenshot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.qgis, pytest.mark.e2e]

SCREENSHOT = ROOT / "build" / "screenshots" / "map_panel.png"


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed (make setup installs xvfb)")
def test_panel_maps_a_drawn_area_and_adds_styled_layers(sample_pipeline, tmp_path):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    proc = subprocess.run(
        [
            "xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
            sys.executable, str(ROOT / "tests" / "gui_scenario.py"),
            str(sample_pipeline["model"]), str(sample_pipeline["target_composite"]), str(tmp_path / "out"),
            str(SCREENSHOT),
        ],
        capture_output=True, text=True, timeout=900, env=env, cwd=ROOT,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[-1])

    # The rectangle drawn on a Web Mercator canvas arrives as the right extent in the raster's UTM CRS.
    assert result["drawn"] == pytest.approx(result["expected"], abs=1e-6)
    assert result["finished"] == [True], result["log"]
    assert set(result["renderers"].values()) == {"paletted", "singlebandgray"}
    assert result["classes"] == ["maize", "winter wheat", "sugar beet", "potato", "grassland"]
    # The class map covers the drawn area (to the pixel), not the whole composite.
    xmin, ymin, xmax, ymax = result["class_map_extent"]
    exp = result["expected"]
    assert xmin >= exp[0] - 10 and xmax <= exp[2] + 10 and ymin >= exp[1] - 10 and ymax <= exp[3] + 10
    assert SCREENSHOT.stat().st_size > 10_000

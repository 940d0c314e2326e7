"""The real QGIS desktop (`qgis` under Xvfb), a fresh profile and the packaged plugin: a walk through the
Toolbox, an algorithm dialog and the panel, with screenshots (build/screenshots/desktop/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.qgis, pytest.mark.e2e]

SHOTS = ROOT / "build" / "screenshots" / "desktop"


@pytest.mark.skipif(shutil.which("xvfb-run") is None or shutil.which("qgis") is None,
                    reason="needs xvfb-run and the qgis desktop")
def test_desktop_walkthrough_with_the_packaged_plugin(tmp_path, engine_python):
    proc = subprocess.run(["make", "-s", "package"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    profiles = tmp_path / "profiles"
    profile = profiles / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(ROOT / "dist" / "crops.zip").extractall(plugins)
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text(  # a fresh profile with the plugin enabled, no first-run noise
        "[PythonPlugins]\ncrops=true\nprocessing=true\n"
        "[qgis]\ncheckVersion=false\nshowTips322=false\n"
        "[core]\nlocale\\overrideFlag=true\nlocale\\userLocale=en_US\n", encoding="utf-8")
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", CROPS_DESKTOP_OUT=str(SHOTS), CROPS_PYTHON=engine_python)
    env.pop("QGIS_PLUGINPATH", None)
    proc = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", "qgis", "--profiles-path", str(profiles),
         "--nologo", "--noversioncheck", "--code", str(ROOT / "tests" / "desktop_scenario.py")],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    report_file = SHOTS / "report.json"
    assert report_file.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert not report["errors"], "\n".join(report["errors"])
    assert report["plugin_loaded"] and report["algorithms"] >= 15
    groups = {name.split(". ", 1)[-1]: algs for name, algs in report["toolbox"].items()}
    assert groups["Pre-processing"][:2] == ["2.1 NDVI quality mosaic", "2.2 Build blocks"], report["toolbox"]
    assert [a.split(" ", 1)[0] for a in groups["Adaptation"]] == sorted(a.split(" ", 1)[0]
                                                                       for a in groups["Adaptation"])
    assert report["device_choices"] == ["Automatic (GPU if available)", "CPU", "CUDA GPU"]
    assert report["device_value"] == "auto" and report["composite_value"] is None
    assert report["panel_shown"]
    for name in ("1_toolbox", "2_infer_dialog", "3_panel"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000, name

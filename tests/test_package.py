"""`make package` builds a zip that installs into a clean QGIS profile, provider and all."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def package() -> zipfile.ZipFile:
    proc = subprocess.run(["make", "-s", "package"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return zipfile.ZipFile(ROOT / "dist" / "crops.zip")


def test_zip_holds_the_plugin_and_nothing_else(package):
    names = package.namelist()
    assert "crops/metadata.txt" in names and "crops/__init__.py" in names
    assert any(n.startswith("crops/crops_engine/") for n in names)
    assert not [
        n for n in names if n.startswith(("crops/tests/", "crops/.venv/", "crops/build/")) or "__pycache__" in n
    ]


def test_zip_installs_into_a_fresh_profile(package, tmp_path, engine_python):
    config = tmp_path / "config"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    package.extractall(plugins)
    binary = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen")
    env.pop("QGIS_PLUGINPATH", None)
    env["CROPS_PYTHON"] = engine_python  # a zip carries no engine environment of its own

    def qgis(*args):
        return subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)

    enabled = qgis("plugins", "enable", "crops")
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    listed = qgis("list")
    assert "crops:diagnostics" in listed.stdout and "crops:sample_data" in listed.stdout
    ran = qgis("run", "crops:diagnostics", "--", f"OUTPUT={tmp_path / 'r.txt'}")
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert "engine_python" in (tmp_path / "r.txt").read_text()

"""Shared fixtures: paths, the real data (skipped when absent), a QGIS app, qgis_process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "build" / "qgis-plugins"
WORLDCEREAL = ROOT.parent / "shared" / "data" / "worldcereal"
QGIS_PROCESS = ROOT / "tools" / "qgis_process"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The plugin is imported as QGIS imports it: package `crops` (a link to this checkout).
PLUGINS.mkdir(parents=True, exist_ok=True)
if not (PLUGINS / "crops").exists():
    (PLUGINS / "crops").symlink_to(ROOT)
for p in (str(ROOT), str(PLUGINS)):
    if p not in sys.path:
        sys.path.insert(0, p)


@pytest.fixture(scope="session")
def worldcereal() -> Path:
    if not (WORLDCEREAL / "flanders2019_31UES" / "scenes").is_dir():
        pytest.skip(f"real Flanders data not found at {WORLDCEREAL}")
    return WORLDCEREAL


@pytest.fixture(scope="session")
def engine_python() -> str:
    python = ROOT / ".venv" / "bin" / "python"
    return str(python) if python.exists() else sys.executable


@pytest.fixture(scope="session")
def qgis_app():
    """One offscreen QgsApplication with Processing and the CROPS provider loaded."""
    from qgis.core import QgsApplication

    app = QgsApplication.instance()
    if app is None:
        app = QgsApplication([], False)
        app.initQgis()
    plugins = Path(QgsApplication.pkgDataPath()) / "python" / "plugins"  # QGIS's own: processing
    if str(plugins) not in sys.path:
        sys.path.append(str(plugins))
    from processing.core.Processing import Processing

    Processing.initialize()
    from crops.crops_qgis.plugin import CropsPlugin

    plugin = CropsPlugin(None)
    plugin.initProcessing()
    yield app
    plugin.unload()


def run_qgis_process(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(QGIS_PROCESS), *args], capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


@pytest.fixture(scope="session")
def qgis_process():
    """Runs `qgis_process.bin run ALG -- K=V ...` with the plugin enabled; returns the JSON result."""

    def run(algorithm: str, timeout: float = 600, **params) -> dict:
        argv = ["--json", "run", algorithm, "--"] + [f"{k}={v}" for k, v in params.items()]
        proc = run_qgis_process(*argv, timeout=timeout)
        out = proc.stdout
        start = out.find("{")
        if proc.returncode != 0 or start < 0:
            raise AssertionError(
                f"qgis_process failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return json.loads(out[start:])

    return run


@pytest.fixture(scope="session")
def sample_pair(tmp_path_factory) -> Path:
    """A small source/target pair from the generator (session-wide: generated once)."""
    from crops_engine.synth import generate_pair

    folder = tmp_path_factory.mktemp("sample") / "pair"
    generate_pair(folder, seed=7, size=128)
    return folder


@pytest.fixture(scope="session")
def sample_pipeline(sample_pair, tmp_path_factory) -> dict:
    """Sample pair -> composites -> stores -> tiny source model (see sample_pipeline.py)."""
    from sample_pipeline import build_pipeline

    return build_pipeline(tmp_path_factory.getbasetemp() / "sample-pipeline", sample_pair)

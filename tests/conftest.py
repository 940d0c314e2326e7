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


# A tiny U-Net on timm's test encoder: trains in a second on a CPU.
TINY_UNET = dict(encoder="test_resnet", decoder_channels=[16, 8, 8, 8, 8], embedding_dim=8)


def write_scene(folder: Path, bands: int = 3, width: int = 128, height: int = 64, seed: int = 0,
                shift: float = 0.0, unlabelled_columns: int = 0) -> tuple[Path, Path]:
    """(composite, labels): a composite whose class shows in band 1 (a checkerboard of 16 px fields of codes
    1100 / 1200) plus noise, and its label raster. `shift` moves bands 1 and 2 (a target's domain shift);
    the first `unlabelled_columns` columns have no label."""
    import numpy as np

    from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    grid = Grid(width, height, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
    yy, xx = np.mgrid[0:height, 0:width]
    fields = ((xx // 16 + yy // 16) % 2).astype(np.uint8)
    labels = np.where(fields == 1, 1200, 1100).astype(np.uint16)
    labels[:, :unlabelled_columns] = 0
    x = rng.normal(0.2, 0.05, (bands, height, width)).astype(np.float32)
    x[0] += 0.3 * fields + shift
    if bands > 1:
        x[1] += shift
    composite = folder / "composite.tif"
    ds = create_geotiff(composite, grid, bands, np.float32, -9999.0, [f"b{i + 1}" for i in range(bands)])
    for i in range(bands):
        ds.GetRasterBand(i + 1).WriteArray(x[i])
    finish_geotiff(ds)
    label_path = folder / "labels.tif"
    ds = create_geotiff(label_path, grid, 1, np.uint16, 0)
    ds.GetRasterBand(1).WriteArray(labels)
    finish_geotiff(ds)
    return composite, label_path


class Recorder:
    """A reporter that collects engine events and cancels once a progress text says step `cancel_at`."""

    def __init__(self, cancel_at: int | None = None) -> None:
        import threading

        self.events: list[tuple[str, dict]] = []
        self.cancel = threading.Event()
        self.cancel_at = cancel_at

    def __call__(self, event: str, payload: dict) -> None:
        self.events.append((event, payload))
        if self.cancel_at is not None and event == "progress" and f"Step {self.cancel_at}/" in payload.get("text", ""):
            self.cancel.set()

    def progress(self):  # noqa: ANN201 - crops_engine.progress.Progress
        from crops_engine.progress import Progress

        return Progress(self, self.cancel)

    def logs(self) -> list[str]:
        return [p["text"] for e, p in self.events if e == "log"]

    def warnings(self) -> list[str]:
        return [p["text"] for e, p in self.events if e == "log" and p["level"] == "warning"]


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


def pytest_collection_modifyitems(config, items) -> None:
    """A test that drives the real qgis_process binary is end-to-end (`make test-fast` skips them)."""
    for item in items:
        if "qgis_process" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.e2e)

"""The managed environment: driver detection, torch build choice, the install task."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.qgis


def _fake_smi(tmp_path, output: str, code: int = 0):
    exe = tmp_path / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    exe.chmod(0o755)
    return str(exe)


def test_driver_detection_and_torch_build(qgis_app, tmp_path):
    from crops.crops_qgis.environment import nvidia_driver, torch_build

    assert nvidia_driver(_fake_smi(tmp_path, "580.65.06")) == "580.65.06"
    assert nvidia_driver(_fake_smi(tmp_path, "NVIDIA-SMI has failed", code=9)) is None
    assert nvidia_driver(str(tmp_path / "absent")) is None
    assert torch_build("580.65.06") == "cu130"
    assert torch_build("570.10") == "cu128"
    assert torch_build("535.104.05") == "cpu"  # too old for the torch 2.14 CUDA wheels
    assert torch_build(None) == "cpu"


def test_install_commands_make_a_venv_that_sees_gdal(qgis_app, tmp_path):
    from crops.crops_qgis.environment import install_commands

    commands = install_commands(tmp_path / "venv", "cu130", python="/usr/bin/python3")
    assert commands[0] == ["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(tmp_path / "venv")]
    torch_line = commands[2]
    assert "torch==2.14.1" in torch_line and torch_line[-1].endswith("/whl/cu130")
    assert "osgeo.gdal" in commands[-1][-1]


def _run_task(task, timeout=60) -> dict:
    """Run a task in the task manager; the manager deletes it after, so record its end first."""
    from qgis.core import QgsApplication

    outcome: dict = {}
    task.taskCompleted.connect(lambda: outcome.update(status="complete", error=task.error))
    task.taskTerminated.connect(lambda: outcome.update(status="terminated", error=task.error))
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + timeout
    while "status" not in outcome and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.05)
    return outcome


def test_install_task_streams_output_and_reports_failure(qgis_app):
    from crops.crops_qgis.environment import InstallTask

    lines: list[str] = []
    ok = InstallTask([[sys.executable, "-c", "print('step one')"], [sys.executable, "-c", "import sys; sys.exit(3)"]])
    ok.line.connect(lines.append)
    outcome = _run_task(ok)
    assert "step one" in lines
    assert outcome["status"] == "terminated"
    assert "exit code 3" in outcome["error"]


def test_install_task_cancel_stops_the_running_command(qgis_app):
    from crops.crops_qgis.environment import InstallTask

    task = InstallTask([[sys.executable, "-c", "import time\nprint('started', flush=True)\ntime.sleep(60)"]])
    task.line.connect(lambda text: task.cancel() if text == "started" else None)
    started = time.monotonic()
    outcome = _run_task(task, timeout=30)
    assert outcome == {"status": "terminated", "error": "cancelled"}
    assert time.monotonic() - started < 20


def test_dialog_marks_the_engine_python_in_use_in_the_users_language(qgis_app, monkeypatch, engine_python,
                                                                      tmp_path):
    from crops.crops_qgis.environment_dialog import EnvironmentDialog
    from crops.crops_qgis.i18n import install_translator, remove_translators

    monkeypatch.setenv("CROPS_PYTHON", str(tmp_path / "no-such-python"))  # tried first, does not exist
    dlg = EnvironmentDialog()
    lines = dlg.order_label.text().splitlines()
    assert lines[0].startswith("1. environment variable CROPS_PYTHON: ") and "(in use)" not in lines[0]
    marked = [line for line in lines if line.endswith("(in use)")]
    assert len(marked) == 1  # the first candidate that runs with torch
    if (ROOT / ".venv" / "bin" / "python").is_file() and len(lines) == 3:  # no Processing setting in this profile
        assert marked[0].startswith("2. the plugin's .venv: ")
    try:
        install_translator("de_DE")
        german_dialog = EnvironmentDialog()
        german = german_dialog.order_label.text()
        assert "Umgebungsvariable CROPS_PYTHON" in german and "(in Verwendung)" in german
    finally:
        remove_translators()
        install_translator()

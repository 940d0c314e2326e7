"""Progress, cancel and the CLI's JSON-line worker protocol."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crops_engine.cli import EXIT_OK, EXIT_USER
from crops_engine.command_spec import option
from crops_engine.errors import Cancelled
from crops_engine.progress import Progress, silent


def test_sub_progress_maps_onto_parent_range():
    events = []
    progress = Progress(lambda e, p: events.append((e, p)))
    half = progress.sub(0.5, 1.0)
    quarter = half.sub(0.0, 0.5)
    quarter(1.0, "step")
    assert events == [("progress", {"value": 0.75, "text": "step"})]


def test_cancel_raises_at_next_report_and_check():
    progress = silent()
    child = progress.sub(0.2, 0.4)
    progress(0.1)
    progress.cancel()
    assert child.cancelled
    with pytest.raises(Cancelled):
        child(0.5)
    with pytest.raises(Cancelled):
        progress.check()


def test_metric_and_log_events():
    events = []
    progress = Progress(lambda e, p: events.append((e, p)))
    progress.metric("loss", 0.5, step=3, split="train")
    progress.warn("careful")
    assert events[0] == ("metric", {"name": "loss", "value": 0.5, "step": 3, "split": "train"})
    assert events[1] == ("log", {"text": "careful", "level": "warning"})


def test_option_names_follow_processing_parameters():
    assert option("OUTPUT_FOLDER") == "--output-folder"
    assert option("EXTENT") == "--extent"


def _engine(engine_python, *args):
    from conftest import ROOT

    return subprocess.run(
        [engine_python, "-m", "crops_engine", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_json_events_end_with_result(engine_python, tmp_path):
    out = tmp_path / "report.txt"
    proc = _engine(engine_python, "--json-events", "diagnostics", "--output", str(out))
    assert proc.returncode == EXIT_OK, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "result"
    assert "progress" in kinds and "log" in kinds
    assert events[-1]["outputs"]["output"] == str(out)
    assert "torch" in out.read_text()


def test_user_error_is_an_error_event_with_exit_code_1(engine_python, tmp_path):
    # A report cannot be written into a path whose parent is a file: a clear error, not a traceback.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = _engine(engine_python, "--json-events", "diagnostics", "--output", str(blocker / "r.txt"))
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode != EXIT_OK
    assert events[-1]["event"] == "error"
    assert events[-1]["message"]


def test_engine_help_is_fast_and_lists_commands(engine_python):
    proc = _engine(engine_python, "--help")
    assert proc.returncode == EXIT_OK
    assert "diagnostics" in proc.stdout
    assert EXIT_USER == 1
    assert sys.executable

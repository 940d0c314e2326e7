"""The QGIS side of the worker bridge: feedback, errors, cancel, engine resolution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis


@pytest.fixture()
def recording_feedback(qgis_app):
    from qgis.core import QgsProcessingFeedback

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.progress_values: list[float] = []
            self.texts: list[str] = []
            self.infos: list[str] = []
            self.progressChanged.connect(self.progress_values.append)

        def setProgressText(self, text):
            self.texts.append(text)

        def pushInfo(self, info):
            self.infos.append(info)

    return Recording()


def test_progress_and_log_reach_feedback(recording_feedback, tmp_path):
    from crops.crops_qgis.worker import run_engine

    result = run_engine("diagnostics", ["--output", str(tmp_path / "r.html")], recording_feedback)
    assert result["output"] == str(tmp_path / "r.html")
    assert recording_feedback.progress_values[-1] == pytest.approx(100.0)
    assert any(v < 100 for v in recording_feedback.progress_values)
    assert "Inspecting the engine environment" in recording_feedback.texts
    assert any("torch" in line for line in recording_feedback.infos)


def test_the_log_shows_sentences_once_and_no_metrics(recording_feedback):
    import json

    from crops.crops_qgis.worker import _Relay

    relay = _Relay(recording_feedback)
    events = [{"event": "progress", "value": v / 10, "text": "Class distribution of the target"} for v in range(3)]
    events += [{"event": "progress", "value": 0.3 + v / 10, "text": f"Step {v * 10} of 300"} for v in range(1, 4)]
    events += [{"event": "log", "text": "Initial class prototypes: 4 classes."}] * 3
    events += [{"event": "metric", "name": "pseudo_label_share", "value": 0.25, "step": 10, "class": "maize"}]
    events += [{"event": "progress", "value": 0.9, "text": "Writing the adapted model"}]
    for event in events:
        relay.stdout(json.dumps(event))
    assert recording_feedback.texts == ["Class distribution of the target", "Step 10 of 300",
                                        "Writing the adapted model"]
    assert recording_feedback.infos == ["Initial class prototypes: 4 classes."]  # once, and no metric line
    assert recording_feedback.progress_values[-1] == pytest.approx(90.0)


def test_engine_error_becomes_processing_exception(recording_feedback, tmp_path):
    from crops.crops_qgis.worker import run_engine
    from qgis.core import QgsProcessingException

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(QgsProcessingException) as info:
        run_engine("diagnostics", ["--output", str(blocker / "report.txt")], recording_feedback)
    assert "a_file" in str(info.value)


def test_sample_data_user_error_carries_the_engine_message(recording_feedback, tmp_path):
    from crops.crops_qgis.worker import run_engine
    from qgis.core import QgsProcessingException

    args = ["--output-folder", str(tmp_path / "s"), "--start-date", "2019-10-01", "--end-date", "2019-03-01"]
    with pytest.raises(QgsProcessingException, match="(?i)date"):
        run_engine("sample-data", args, recording_feedback)
    assert not (tmp_path / "s").exists()


def _engine_processes(marker: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and "crops_engine" in cmdline:
                pids.append(int(proc.name))
    return pids


def test_cancel_kills_worker_and_leaves_no_output(recording_feedback, tmp_path):
    from crops.crops_qgis.worker import run_engine
    from qgis.core import QgsProcessingException

    out = tmp_path / "cancelled_pair"

    def cancel_once_started(value):
        if value > 0:
            recording_feedback.cancel()

    recording_feedback.progressChanged.connect(cancel_once_started)
    args = ["--output-folder", str(out), "--preset", "pair", "--size", "1024"]
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_engine("sample-data", args, recording_feedback)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    assert _engine_processes(str(out)) == []


@pytest.fixture(scope="session")
def tiny(sample_pair, tmp_path_factory):
    from engine_runs import tiny_pipeline

    return tiny_pipeline(tmp_path_factory.getbasetemp() / "issue19-tiny", sample_pair)


def _train_args(tiny, out) -> list[str]:
    from engine_runs import TINY_ARGS

    return ["--blocks", str(tiny["store"]), "--iterations", "400", "--batch-size", "2", "--arch-args", TINY_ARGS,
            "--device", "cpu", "--threads", "1", "--resume-every", "1000", "--output", str(out)]


class _Warnings:
    def __init__(self, feedback):
        self.texts: list[str] = []
        feedback.pushWarning = self.texts.append


@pytest.mark.slow
def test_a_cancelled_training_run_keeps_its_resume_state(recording_feedback, tiny, tmp_path):
    """Issue 19: the bridge stops the engine with SIGTERM and waits for it (the grace period is long enough for the
    resume state); the engine's last words (what it kept) still reach the feedback."""
    from crops.crops_qgis.worker import run_engine
    from qgis.core import QgsProcessingException

    out = tmp_path / "model.safetensors"
    warnings = _Warnings(recording_feedback)
    # the first step's text (the bridge forwards a progress text once, not again when only its figures change)
    recording_feedback.setProgressText = lambda text: text.startswith("Step ") and recording_feedback.cancel()
    with pytest.raises(QgsProcessingException, match="Cancelled: the CROPS engine was stopped"):
        run_engine("train-source", _train_args(tiny, out), recording_feedback, outputs=[str(out)])
    assert (tmp_path / "model.resume.safetensors").is_file()  # RESUME_EVERY=1000: written on the cancel
    assert any(t.startswith("Cancelled after step") and "continue with RESUME=" in t for t in warnings.texts)
    assert _engine_processes(str(out)) == []
    assert not [p.name for p in tmp_path.iterdir() if "crops-tmp" in p.name or "crops-lock" in p.name]


@pytest.mark.slow
def test_a_signal_to_qgis_cancels_the_engine_first(recording_feedback, tiny, tmp_path):
    """Issue 19: SIGTERM to `qgis_process run crops:train_source` left no resume file: QGIS died at once and the
    engine was orphaned. On the main thread the bridge turns the signal into a cancel, waits for the engine, then
    hands the signal to the handler it had."""
    import signal
    import threading

    from crops.crops_qgis.worker import run_engine
    from qgis.core import QgsProcessingException

    out = tmp_path / "model.safetensors"
    delivered = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: delivered.append(signum))
    try:
        def send_once_training(text):
            if text.startswith("Step ") and not delivered and not getattr(send_once_training, "sent", False):
                send_once_training.sent = True
                threading.Timer(0.0, os.kill, (os.getpid(), signal.SIGTERM)).start()

        recording_feedback.setProgressText = send_once_training
        with pytest.raises(QgsProcessingException, match="Cancelled"):
            run_engine("train-source", _train_args(tiny, out), recording_feedback, outputs=[str(out)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert delivered == [signal.SIGTERM]  # after the engine stopped, not instead of stopping it
    assert (tmp_path / "model.resume.safetensors").is_file()
    assert _engine_processes(str(out)) == []


def test_no_usable_engine_python_says_how_to_fix(qgis_app, monkeypatch, tmp_path):
    from crops.crops_qgis import engine_python
    from qgis.core import QgsProcessingException

    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'No module named torch' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(engine_python, "candidates", lambda: [("environment variable CROPS_PYTHON", str(fake))])
    with pytest.raises(QgsProcessingException) as info:
        engine_python.resolve_engine_python()
    message = str(info.value)
    assert "CROPS_PYTHON" in message and "make setup" in message and "No module named torch" in message


def test_environment_variable_comes_first(qgis_app, monkeypatch, engine_python):
    from crops.crops_qgis import engine_python as resolution

    monkeypatch.setenv("CROPS_PYTHON", engine_python)
    assert resolution.candidates()[0] == ("environment variable CROPS_PYTHON", engine_python)
    assert resolution.resolve_engine_python() == engine_python
    monkeypatch.delenv("CROPS_PYTHON")
    assert os.environ.get("CROPS_PYTHON") is None

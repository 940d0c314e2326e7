"""Issue 19's fault rows: SIGTERM and SIGKILL at several points of a run, then the same command again.

Through the engine CLI (`--json-events`, the signal sent when a chosen event arrives) for ndvi-qm, build-blocks,
infer, train-source and adapt-spcl, and through `qgis_process` for train-source and infer. After SIGTERM a run stops
cleanly (exit 2, a `cancelled` error event, nothing partial left; a training run writes its resume state); after
SIGKILL it leaves at most temporary files of its dead process, which the next run of the same output removes.
A resumed run continues from the step its resume state holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from engine_runs import (
    SCENES,
    TINY_ARGS,
    engine,
    leftovers,
    progress_at,
    run_and_signal,
    start,
    step_at,
    tiny_pipeline,
)

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("the fault rows need POSIX signals", allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def tiny(sample_pair, tmp_path_factory) -> dict[str, Path]:
    return tiny_pipeline(tmp_path_factory.getbasetemp() / "issue19-tiny", sample_pair)


def _is_log(text: str):
    return lambda e: e.get("event") == "log" and text in e.get("text", "")


# (command, point, when): the run is signalled at the first event `when` accepts
POINTS = {
    "ndvi-qm": {"reading dates": progress_at(0.0), "compositing": _is_log("NDVI quality mosaic of")},
    "build-blocks": {"first strip": progress_at(0.05), "third strip": progress_at(0.5)},
    "infer": {"first tiles": progress_at(0.1), "most tiles": progress_at(0.6)},
}
NAMES = {"ndvi-qm": "composite.tif", "build-blocks": "blocks.h5", "infer": "classes.tif"}


def _argv(command: str, tiny: dict[str, Path], output: Path) -> list:
    if command == "ndvi-qm":
        return ["ndvi-qm", "--folder", tiny["scenes"], "--pattern", SCENES, "--workers", 1, "--output", output,
                "--output-qa", output.with_name("qa.tif")]
    if command == "build-blocks":
        return ["build-blocks", "--composite", tiny["composite"], "--labels", tiny["labels"], "--block-size", 32,
                "--output", output]
    return ["infer", "--model", tiny["model"], "--input", tiny["target"], "--device", "cpu", "--threads", 1,
            "--batch-size", 1, "--output", output, "--output-confidence", output.with_name("confidence.tif")]


def _check_stopped(run, signame: str, output: Path, folder: Path) -> None:
    """After SIGTERM: exit 2, a `cancelled` error event and nothing partial; after SIGKILL: no output, at most the
    temporary files (and lock) of the dead process."""
    if signame == "SIGTERM":
        assert run.returncode == 2, run.describe()
        assert [e["kind"] for e in run.errors] == ["cancelled"], run.describe()
        assert "SIGTERM received" in run.message and run.result is None
        assert leftovers(folder) == [] and not output.exists()
    else:
        assert run.returncode == -signal.SIGKILL, run.describe()
        assert not output.exists()
        assert all(f".crops-tmp-{run.pid}-" in name or name.endswith(".crops-lock") for name in leftovers(folder)), \
            leftovers(folder)


# ndvi-qm and build-blocks read no model (no torch to import): every point with both signals, each followed by a
# whole run. infer pays for torch: one chain, SIGKILL late then SIGTERM early, then the whole run.
ROWS = [(c, p, s) for c in ("ndvi-qm", "build-blocks") for p in POINTS[c] for s in ("SIGTERM", "SIGKILL")]


@pytest.mark.parametrize("command, point, signame", ROWS, ids=[f"{c}-{p}-{s}" for c, p, s in ROWS])
def test_a_signal_leaves_nothing_partial_and_the_next_run_is_whole(tiny, tmp_path, command, point, signame):
    output = tmp_path / NAMES[command]
    run, sent = run_and_signal(_argv(command, tiny, output), POINTS[command][point], getattr(signal, signame))
    assert sent, run.describe()
    _check_stopped(run, signame, output, tmp_path)
    again = engine(*_argv(command, tiny, output))
    assert again.returncode == 0, again.describe()
    assert output.is_file() and leftovers(tmp_path) == []  # the dead run's leftovers are gone too


def test_infer_killed_then_cancelled_then_whole(tiny, tmp_path):
    output = tmp_path / NAMES["infer"]
    for point, signame in (("most tiles", "SIGKILL"), ("first tiles", "SIGTERM")):
        run, sent = run_and_signal(_argv("infer", tiny, output), POINTS["infer"][point], getattr(signal, signame))
        assert sent, run.describe()
        _check_stopped(run, signame, output, tmp_path)
    # A SIGTERM after success was reported (the QGIS worker stopping it, say) ended the run with exit 143 while
    # Python tore itself down: a finished run now ends at once after its report.
    again, sent = run_and_signal(_argv("infer", tiny, output), lambda e: e.get("event") == "result", delay=0.2)
    assert sent and again.returncode == 0, again.describe()
    assert output.is_file() and leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["ndvi-qm", "infer"])
def test_a_cancelled_run_says_so_in_text_mode(tiny, tmp_path, command):
    """Issue 19: a cancelled ndvi-qm or infer printed nothing (only exit 2)."""
    output = tmp_path / NAMES[command]
    proc = start(*_argv(command, tiny, output), json_events=False)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # text mode: progress lines on stderr
        seen.append(line)
        if line.startswith("["):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 2, err
    assert "CANCELLED: Cancelled by the user (SIGTERM received). Partial outputs were removed" in err
    assert "Traceback" not in err and leftovers(tmp_path) == []


def test_the_outcome_is_reported_only_after_the_worker_threads_end(monkeypatch):
    """Issue 19: an infer run aborted (exit 134, `terminate called without an active exception`) after printing its
    success: a daemon worker thread was still inside torch when the interpreter exited. The CLI now waits for the
    command's threads before it reports the outcome."""
    from crops_engine import cli

    order: list[str] = []

    def work(module, args, progress):
        def worker():
            time.sleep(0.3)
            order.append("worker ended")

        threading.Thread(target=worker, name="crops-infer-model", daemon=True).start()  # like the abandoned batch
        return {"output": "x"}

    class Stdout:
        def write(self, text):
            if '"event": "result"' in text:
                order.append("result reported")

        def flush(self):
            pass

        def fileno(self):
            return 1

    monkeypatch.setattr(cli, "execute", work)
    monkeypatch.setattr(sys, "stdout", Stdout())
    assert cli.main(["--json-events", "diagnostics"]) == 0
    assert order == ["worker ended", "result reported"]


# -- training runs: the resume state ----------------------------------------------------------------------------


def _resume_step(path: Path) -> int:
    from crops_engine.training_state import load_training_state

    return load_training_state(path).step


def _train_argv(tiny, output: Path, *extra) -> list:
    return ["train-source", "--blocks", tiny["store"], "--iterations", 24, "--batch-size", 2, "--arch-args",
            TINY_ARGS, "--device", "cpu", "--threads", 1, "--output", output, *extra]


def _spcl_argv(tiny, work: Path, output: Path, *extra) -> list:
    import shutil

    store = work / "target.h5"
    if not store.exists():
        shutil.copy(tiny["target_store"], store)
        shutil.copy(tiny["target_store"].with_name("target.h5.partition.h5"), work / "target.h5.partition.h5")
    return ["adapt-spcl", "--model", tiny["model"], "--blocks", store, "--iterations", 16, "--batch-size", 2,
            "--device", "cpu", "--threads", 1, "--output", output, *extra]


def _stop_at(make, resume: Path, total: int, step: int, signame: str, resuming: bool) -> int:
    """Run (continuing `resume` when `resuming`), stop it at `step` with `signame`; the step its resume state holds."""
    run, sent = run_and_signal(make(*(["--resume", resume] if resuming else [])), step_at(step),
                               getattr(signal, signame))
    assert sent, run.describe()
    if signame == "SIGTERM":
        assert run.returncode == 2, run.describe()
        warning = [t for t in run.logs("warning") if t.startswith("Cancelled after step")]
        assert warning and f"continue with RESUME={resume}" in warning[0], run.describe()
        done = _resume_step(resume)
        assert done >= step and f"Cancelled after step {done} of {total}" in warning[0]
    else:
        assert run.returncode == -signal.SIGKILL, run.describe()
        done = _resume_step(resume)
        assert done >= step - 1  # RESUME_EVERY=0: the state of every completed step but the one running
    if resuming:
        assert any(t.startswith("Resuming from") for t in run.logs()), run.describe()
    return done


@pytest.mark.parametrize("kind", ["train-source", "adapt-spcl"])
def test_a_stopped_training_run_resumes_from_its_step(tiny, tmp_path, kind):
    """SIGTERM at step 3 (the resume state is written on cancel), then, resumed, SIGKILL at step 7 (at an epoch's
    validation and checkpoint for train-source; RESUME_EVERY=0 saves every step), then resumed to the end: each
    run continues from the step the last one's resume state holds."""
    output = tmp_path / ("model.safetensors" if kind == "train-source" else "adapted.safetensors")
    resume = output.with_name(output.name.replace(".safetensors", ".resume.safetensors"))
    if kind == "train-source":
        total = 24

        def make(*extra):
            return _train_argv(tiny, output, "--resume-every", 0, *extra)
    else:
        total = 16

        def make(*extra):
            return _spcl_argv(tiny, tmp_path, output, "--resume-every", 0, *extra)

    done = _stop_at(make, resume, total, 3, "SIGTERM", resuming=False)
    assert leftovers(tmp_path) == []
    later = _stop_at(make, resume, total, 7, "SIGKILL", resuming=True)
    assert later >= 6 > done
    again = engine(*make("--resume", resume))
    assert again.returncode == 0, again.describe()
    assert any(f"at step {later} of {total}" in t for t in again.logs()), again.logs()
    assert again.result["steps"] == total and _resume_step(resume) == total
    assert leftovers(tmp_path) == []


def test_a_run_killed_before_its_first_resume_state_starts_again(tiny, tmp_path):
    output = tmp_path / "model.safetensors"
    run, sent = run_and_signal(_train_argv(tiny, output), step_at(1), signal.SIGKILL)
    assert sent and run.returncode == -signal.SIGKILL, run.describe()
    _check_stopped(run, "SIGKILL", output, tmp_path)
    again = engine(*_train_argv(tiny, output, "--iterations", 6))
    assert again.returncode == 0 and again.result["steps"] == 6, again.describe()
    assert leftovers(tmp_path) == []


def test_resume_keeps_the_better_model_and_a_new_run_says_what_it_replaces(tiny, tmp_path):
    """Issue 19: `--resume m.safetensors --output m.safetensors` replaced a model of val mIoU 0.547 with one of 0.461.
    The model OUTPUT holds counts as the best so far: a resumed run replaces it only with a better one; a new run
    (no RESUME) replaces it, with a warning when its model validates worse."""
    from crops_engine.checkpoint import read_metadata

    output = tmp_path / "model.safetensors"
    first = engine(*_train_argv(tiny, output))
    assert first.returncode == 0, first.describe()
    best = read_metadata(output).provenance["best"]["val_miou"]
    before = output.read_bytes()
    output.with_name("model.resume.safetensors").unlink()  # a copy of the model alone: RESUME takes its weights
    wreck = ["--iterations", 6, "--batch-size", 2, "--lr", 0.5, "--device", "cpu", "--threads", 1]
    again = engine("train-source", "--blocks", tiny["store"], *wreck, "--resume", output, "--output", output)
    assert again.returncode == 0, again.describe()
    rows = json.loads(output.with_name("model.metrics.json").read_text())["epochs"]
    assert rows[-1]["val_miou"] < best  # LR 0.5 wrecks it (on a CPU the same every time)
    assert output.read_bytes() == before, "a worse model replaced the better one"
    assert again.result["best_val_miou"] == pytest.approx(best)
    assert any("does not beat the model in" in t for t in again.logs()), again.logs()
    fresh = engine("train-source", "--blocks", tiny["store"], *wreck, "--arch-args", TINY_ARGS, "--seed", 3,
                   "--output", output)
    assert fresh.returncode == 0, fresh.describe()
    assert fresh.result["best_val_miou"] < best
    assert any(t.startswith(f"Replacing {output}, a model of val mIoU {best:.4f}") for t in fresh.logs("warning"))
    assert output.read_bytes() != before  # a new run (no RESUME) does replace it, but says so
    assert leftovers(tmp_path) == []


# -- a kill in the middle of writing a checkpoint ----------------------------------------------------------------

SAVE = """
import sys, torch
from crops_engine.checkpoint import save_checkpoint
from crops_engine.classes import CropClass
from crops_engine.models import build_model

model = build_model("unet", 3, 2, encoder="test_resnet", decoder_channels=[16, 8, 8, 8, 8], embedding_dim=8)
model.register_buffer("ballast", torch.ones(60_000_000))  # 240 MB: the write takes a while
meta = {"features": ["a", "b", "c"], "normalisation": {"mean": [0.0] * 3, "std": [1.0] * 3}, "block_size": 32,
        "classes": [CropClass(0, "x", "#000000"), CropClass(1, "y", "#ffffff")]}
print("saving", flush=True)
save_checkpoint(sys.argv[1], model, meta)
"""


def test_a_kill_during_a_checkpoint_save_leaves_only_marked_files(tmp_path):
    """Issue 19: kill -9 during a save left safetensors' own `.tmpXXXX` (57-230 MB), which no cleanup matched.
    Every file of a save carries the run's marker; the next run of the output removes those of dead processes."""
    from engine_runs import PYTHON, engine_env

    from crops_engine.atomic import remove_stale

    output = tmp_path / "model.safetensors"
    proc = subprocess.Popen([PYTHON, "-c", SAVE, str(output)], stdout=subprocess.PIPE, text=True, env=engine_env())
    assert proc.stdout.readline().strip() == "saving"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.stat().st_size > 10 << 20 for p in tmp_path.iterdir() if p.is_file()):
            break
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    left = leftovers(tmp_path)
    assert left and all(name.startswith(f"model.crops-tmp-{proc.pid}-") for name in left), left
    assert not output.exists()
    remove_stale(output)
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_save_writes_no_other_file(tmp_path):
    import torch

    from crops_engine.checkpoint import load_model, save_checkpoint
    from crops_engine.classes import CropClass
    from crops_engine.models import build_model

    model = build_model("unet", 3, 2, **json.loads(TINY_ARGS))
    model.register_buffer("ballast", torch.ones(10_000_000))
    seen: set[str] = set()
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.update(os.listdir(tmp_path))

    watcher = threading.Thread(target=watch)
    watcher.start()
    meta = {"features": ["a", "b", "c"], "normalisation": {"mean": [0.0] * 3, "std": [1.0] * 3}, "block_size": 32,
            "classes": [CropClass(0, "x", "#000000"), CropClass(1, "y", "#ffffff")]}
    try:
        save_checkpoint(tmp_path / "m.safetensors", model, meta)
    finally:
        stop.set()
        watcher.join()
    assert all(name == "m.safetensors" or name.startswith(f"m.crops-tmp-{os.getpid()}-") for name in seen), seen
    from crops_engine.errors import CropsError

    with pytest.raises(CropsError, match="ballast"):  # the file reads back: its table names the extra tensor
        load_model(tmp_path / "m.safetensors")


# -- through qgis_process ----------------------------------------------------------------------------------------


def _qgis_train(tiny, output: Path, *extra: str) -> list[str]:
    from conftest import QGIS_PROCESS

    return [str(QGIS_PROCESS), "run", "crops:train_source", "--", f"BLOCKS={tiny['store']}", "ITERATIONS=24",
            "BATCH_SIZE=2", f"ARCH_ARGS={TINY_ARGS}", "DEVICE=cpu", "THREADS=1", "RESUME_EVERY=0",
            f"OUTPUT={output}", *extra]


def _engines_writing(output: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "crops_engine" in cmdline and str(output) in cmdline:
                found.append(int(proc.name))
    return found


def _run_qgis_until(argv: list[str], marker: str, signum: int) -> tuple[int, str]:
    from conftest import ROOT

    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(ROOT))
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if marker in line:
            proc.send_signal(signum)
            break
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, "".join(lines) + (out or "")


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_qgis_process_train_source_stopped_then_resumed(qgis_process, tiny, tmp_path, signame):
    """Issue 19: SIGTERM to `qgis_process run crops:train_source` left no resume file (the CLI wrote one)."""
    output = tmp_path / "model.safetensors"
    resume = tmp_path / "model.resume.safetensors"
    code, out = _run_qgis_until(_qgis_train(tiny, output), "Saved the model of step 6 ", getattr(signal, signame))
    assert code == -getattr(signal, signame), out
    deadline = time.monotonic() + 60
    while _engines_writing(output) and time.monotonic() < deadline:  # after SIGKILL the orphan notices and stops
        time.sleep(0.2)
    assert _engines_writing(output) == []
    if signame == "SIGTERM":
        assert "Cancelled after step" in out and f"continue with RESUME={resume}" in out, out
    done = _resume_step(resume)
    assert done >= 3
    assert leftovers(tmp_path) == []
    result = qgis_process("crops:train_source", BLOCKS=tiny["store"], ITERATIONS=24, BATCH_SIZE=2, ARCH_ARGS=TINY_ARGS,
                          DEVICE="cpu", THREADS=1, RESUME=resume, OUTPUT=output)["results"]
    assert result["STEPS"] == 24 and _resume_step(resume) == 24
    assert leftovers(tmp_path) == []


def test_qgis_process_reports_an_engine_error_once(qgis_process, tiny, tmp_path):
    """Issue 19: qgis_process printed each engine error three times."""
    from conftest import run_qgis_process

    missing = tmp_path / "missing.safetensors"
    done = run_qgis_process("run", "crops:infer", "--", f"MODEL={missing}", f"INPUT={tiny['target']}",
                            f"OUTPUT={tmp_path / 'map.tif'}", timeout=300)
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert text.count(f"Checkpoint {missing} does not exist.") == 1, text


def _tiled_composite(source: Path, output: Path, times: int = 4) -> Path:
    """`source` repeated `times` x `times` on its own grid: a composite the model reads, long enough to stop mid-run."""
    from osgeo import gdal

    src = gdal.Open(str(source))
    x0, dx, _, y0, _, dy = src.GetGeoTransform()
    out = gdal.GetDriverByName("GTiff").Create(str(output), src.RasterXSize * times, src.RasterYSize * times,
                                              src.RasterCount, src.GetRasterBand(1).DataType)
    out.SetGeoTransform((x0, dx, 0.0, y0, 0.0, dy))
    out.SetProjection(src.GetProjection())
    import numpy as np

    for b in range(1, src.RasterCount + 1):
        band = src.GetRasterBand(b)
        target = out.GetRasterBand(b)
        target.WriteArray(np.tile(band.ReadAsArray(), (times, times)))
        if band.GetNoDataValue() is not None:
            target.SetNoDataValue(band.GetNoDataValue())
        if band.GetDescription():
            target.SetDescription(band.GetDescription())
    out.SetMetadata(src.GetMetadata())
    out = None
    return output


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_qgis_process_infer_stopped_leaves_nothing_then_runs_whole(qgis_process, tiny, tmp_path, signame):
    """`qgis_process run crops:infer` stopped while the engine writes: no class map, no stray file once the
    engine has stopped (after SIGKILL of qgis_process the engine notices its reader is gone and cancels), and
    the same run again writes the whole map."""
    from conftest import QGIS_PROCESS, ROOT

    big = _tiled_composite(tiny["target"], tmp_path / "big.tif")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "classes.tif"
    params = {"MODEL": tiny["model"], "INPUT": big, "DEVICE": "cpu", "THREADS": 1, "BATCH_SIZE": 1, "OUTPUT": output}
    argv = [str(QGIS_PROCESS), "run", "crops:infer", "--", *(f"{k}={v}" for k, v in params.items())]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(ROOT))
    deadline = time.monotonic() + 120
    while not any(".crops-tmp-" in n for n in os.listdir(out_dir)) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.02)
    proc.send_signal(getattr(signal, signame))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0, out
    deadline = time.monotonic() + 60
    while _engines_writing(output) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _engines_writing(output) == []
    assert not output.exists(), f"a stopped run left a class map:\n{out[-2000:]}"
    assert leftovers(out_dir) == [], leftovers(out_dir)
    result = qgis_process("crops:infer", **params)["results"]
    assert result["VALID_PIXELS"] == 512 * 512
    assert leftovers(out_dir) == [] and output.exists()

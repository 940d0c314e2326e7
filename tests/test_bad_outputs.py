"""The model and output rows of issue 19's bad-input matrix, through the engine CLI as a user runs it.

Models (features mismatch, flipped bytes, an edited header: normalisation x10 and a class name, a pickle renamed
to .safetensors, truncated, missing) for every command that reads a model; outputs (an unwritable folder, a path
under /proc, a full disk on a tmpfs, an existing file, an existing folder, another run writing the same output)
for every command. Each case asserts the exit code, a message that names the problem (and the file), and that
nothing is left at or beside the output. Mounting the tmpfs needs root: the full-disk and unwritable-folder cases
are skipped with the reason otherwise (the unwritable one falls back to chmod when not root).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from engine_runs import (
    PYTHON,
    SCENES,
    TINY_ARGS,
    engine,
    engine_env,
    finish,
    leftovers,
    listing,
    start,
    tiny_pipeline,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def tiny(sample_pair, tmp_path_factory) -> dict[str, Path]:
    return tiny_pipeline(tmp_path_factory.getbasetemp() / "issue19-tiny", sample_pair)


# -- models ---------------------------------------------------------------------------------------------------


def _header(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _write_header(path: Path, header: dict, body: bytes) -> None:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


def _edited(src: Path, dst: Path, edit) -> Path:
    """The checkpoint with its metadata edited as a user would, in a text editor (digests untouched)."""
    header, body = _header(src)
    meta = json.loads(header["__metadata__"]["crops"])
    edit(meta)
    header["__metadata__"]["crops"] = json.dumps(meta)
    _write_header(dst, header, body)
    return dst


def _other_features(src: Path, dst: Path) -> Path:
    """A valid checkpoint of a model trained on other features (three bands b1..b3)."""
    import torch

    from crops_engine.checkpoint import read_metadata, save_checkpoint
    from crops_engine.models import build_model

    meta = read_metadata(src)
    torch.manual_seed(0)
    model = build_model("unet", 3, meta.num_classes, **json.loads(TINY_ARGS))
    save_checkpoint(dst, model, {"features": ["b1", "b2", "b3"], "classes": meta.classes, "block_size": 32,
                                 "normalisation": {"mean": [0.0] * 3, "std": [1.0] * 3}})
    return dst


def _pickle(src: Path, dst: Path) -> Path:
    import torch

    from crops_engine.checkpoint import load_model

    model, _ = load_model(src)
    torch.save(model.state_dict(), dst)  # a PyTorch pickle, renamed .safetensors
    return dst


def _flipped(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    data[-11] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


def _scaled_means(meta: dict) -> None:
    meta["normalisation"]["mean"] = [10 * v for v in meta["normalisation"]["mean"]]


def _renamed_class(meta: dict) -> None:
    meta["classes"][0]["name"] = "sugar beet"


MODEL_CASES = {  # name: (how the file is made, what the message must say)
    "features mismatch": (_other_features, r"trained on features \['b1', 'b2', 'b3'\]"),
    "flipped bytes": (_flipped, r"is corrupt: its weights do not match the digest"),
    "normalisation x10": (lambda s, d: _edited(s, d, _scaled_means), r"was edited or is corrupt: its metadata"),
    "class name": (lambda s, d: _edited(s, d, _renamed_class), r"was edited or is corrupt: its metadata"),
    "pickle renamed": (_pickle, r"is not a CROPS checkpoint"),
    "truncated": (lambda s, d: d.write_bytes(s.read_bytes()[:-1000]) and d, r"is truncated or corrupt"),
    "missing": (lambda s, d: d, r"does not exist"),
}
MODEL_COMMANDS = ("infer", "partition", "adapt", "train-source")


def _model_argv(command: str, model: Path, tiny: dict[str, Path], out: Path) -> tuple[list, list[Path]]:
    """(arguments, outputs) of `command` run with `model`; outputs go into the empty folder `out`."""
    if command == "infer":
        o = out / "classes.tif"
        return ["infer", "--model", model, "--input", tiny["target"], "--device", "cpu", "--output", o,
                "--output-confidence", out / "confidence.tif"], [o, out / "confidence.tif"]
    if command == "partition":
        store = out.parent / "store" / "target.h5"
        store.parent.mkdir(exist_ok=True)
        shutil.copy(tiny["target_store"], store)
        o = out / "mask.tif"
        return ["partition", "--model", model, "--blocks", store, "--device", "cpu", "--output-mask", o], \
            [o, store.with_name("target.h5.partition.h5")]
    if command == "adapt":
        o = out / "adapted.safetensors"
        return ["adapt", "--method", "entropy", "--model", model, "--blocks", tiny["target_store"], "--iterations", 2,
                "--batch-size", 2, "--device", "cpu", "--threads", 1, "--output", o], [o]
    if command == "train-source":
        o = out / "model.safetensors"
        return ["train-source", "--blocks", tiny["store"], "--resume", model, "--iterations", 2, "--batch-size", 2,
                "--device", "cpu", "--threads", 1, "--output", o], [o]
    if command == "evaluate":
        o = out / "report.html"
        return ["evaluate", "--input", tiny["classes"], "--reference", tiny["labels"], "--model", model,
                "--output", o], [o]
    raise KeyError(command)


MODEL_ROWS = [(case, command) for case in MODEL_CASES for command in MODEL_COMMANDS] + [
    ("class name", "evaluate"), ("normalisation x10", "evaluate")]


@pytest.fixture(scope="module")
def model_runs(tiny, tmp_path_factory) -> dict:
    """Every (case, command) of the model rows, run two at a time (each pays for importing torch)."""
    root = tmp_path_factory.mktemp("bad-models")
    models = {}
    for i, (case, (make, _)) in enumerate(MODEL_CASES.items()):
        models[case] = make(tiny["model"], root / f"model{i}.safetensors")
    jobs = {}
    for case, command in MODEL_ROWS:
        folder = root / f"{command}-{case.replace(' ', '_')}"
        out = folder / "out"
        out.mkdir(parents=True)
        argv, outputs = _model_argv(command, models[case], tiny, out)
        jobs[(case, command)] = (argv, outputs, out)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(engine, *argv) for key, (argv, _, _) in jobs.items()}
        return {key: (futures[key].result(), jobs[key][1], jobs[key][2], models[key[0]]) for key in jobs}


@pytest.mark.parametrize("case, command", MODEL_ROWS, ids=[f"{c}-{k}" for k, c in MODEL_ROWS])
def test_a_bad_model_is_a_clear_error_and_leaves_nothing(model_runs, case, command):
    run, outputs, out, model = model_runs[(case, command)]
    assert run.returncode == 1, run.describe()
    assert [e["kind"] for e in run.errors] == ["input"], run.describe()
    message = run.message
    import re

    assert re.search(MODEL_CASES[case][1], message), message
    if case != "features mismatch":  # that one names the features of both sides and the input instead
        assert model.name in message, message
    assert "Traceback" not in run.stdout + run.stderr
    for path in outputs:
        assert not path.exists(), f"{path} was left by a failed run"
    assert listing(out) == [] and leftovers(out.parent) == []


# -- outputs ----------------------------------------------------------------------------------------------------

OUTPUT_COMMANDS = ("ndvi-qm", "build-blocks", "train-source", "partition", "adapt-spcl", "infer", "evaluate",
                   "sample-data", "diagnostics")
OUTPUT_NAMES = {"ndvi-qm": "composite.tif", "build-blocks": "blocks.h5", "train-source": "model.safetensors",
                "partition": "mask.tif", "adapt-spcl": "adapted.safetensors", "infer": "classes.tif",
                "evaluate": "report.html", "sample-data": "pair", "diagnostics": "report.html"}
OPTION = {"partition": "--output-mask", "sample-data": "--output-folder"}


def _output_argv(command: str, tiny: dict[str, Path], output: Path, work: Path) -> list:
    """The arguments of `command` writing `output` (inputs from the tiny pipeline; a store it edits copied into
    `work`)."""
    option = OPTION.get(command, "--output")
    if command == "ndvi-qm":
        args = ["--folder", tiny["scenes"], "--pattern", SCENES, "--workers", 1]
    elif command == "build-blocks":
        args = ["--composite", tiny["composite"], "--labels", tiny["labels"], "--block-size", 32]
    elif command == "train-source":
        args = ["--blocks", tiny["store"], "--iterations", 2, "--batch-size", 2, "--arch-args", TINY_ARGS,
                "--device", "cpu", "--threads", 1]
    elif command in ("partition", "adapt-spcl"):
        store = work / "target.h5"
        if not store.exists():
            work.mkdir(parents=True, exist_ok=True)
            shutil.copy(tiny["target_store"], store)
            shutil.copy(tiny["target_store"].with_name("target.h5.partition.h5"), work / "target.h5.partition.h5")
        args = ["--model", tiny["model"], "--blocks", store, "--device", "cpu"]
        if command == "adapt-spcl":
            args += ["--iterations", 2, "--batch-size", 2, "--threads", 1]
    elif command == "infer":
        args = ["--model", tiny["model"], "--input", tiny["target"], "--device", "cpu"]
    elif command == "evaluate":
        args = ["--input", tiny["classes"], "--reference", tiny["labels"]]
    elif command == "sample-data":
        args = ["--size", 32]
    else:
        args = []
    return [command, *args, option, output]


def _mount_tmpfs(folder: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"mounting a tmpfs needs root; this test runs as uid {os.geteuid()}")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (mount: {done.stderr.strip()})")


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of `folder` up to `leave` free bytes with one file, `filler`."""
    with open(folder / "filler", "wb") as fh:
        while shutil.disk_usage(folder).free > leave:
            try:
                fh.write(b"\0" * max(4096, min(1 << 16, shutil.disk_usage(folder).free - leave)))
                fh.flush()
            except OSError:
                break


@pytest.fixture()
def disk(tmp_path):
    """A 1 MiB tmpfs (root only: skipped with the reason otherwise)."""
    folder = tmp_path / "disk"
    _mount_tmpfs(folder, "size=1m")
    yield folder
    _unmount(folder)


@pytest.fixture()
def unwritable(tmp_path):
    """A folder no run can write: a read-only tmpfs as root, else a folder without write permission."""
    folder = tmp_path / "readonly"
    if os.geteuid() == 0:
        _mount_tmpfs(folder, "size=64k,ro")
        yield folder
        _unmount(folder)
        return
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        pytest.skip("this user can write into a folder without write permission")
    yield folder
    folder.chmod(0o755)


def _assert_refused(run, output: Path, pattern: str) -> None:
    import re

    assert run.returncode == 1, run.describe()
    assert [e["kind"] for e in run.errors] == ["input"], run.describe()
    assert re.search(pattern, run.message), run.message
    assert str(output.parent) in run.message, run.message  # the file, or the folder it goes in
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_an_unwritable_output_folder_is_refused_before_any_work(tiny, unwritable, tmp_path, command):
    output = unwritable / OUTPUT_NAMES[command]
    run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
    _assert_refused(run, output, r"cannot be written: the folder .* is not writable \((read-only|permission)")
    assert not any(e.get("event") == "progress" for e in run.events)  # before any work
    assert listing(unwritable) == []


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_an_output_under_proc_is_refused(tiny, tmp_path, command):
    output = Path("/proc/crops-issue19") / OUTPUT_NAMES[command]
    run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
    _assert_refused(run, output, r"is under /proc, a virtual file system of the kernel")


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_a_full_disk_is_refused_before_any_work(tiny, disk, tmp_path, command):
    _fill(disk)
    output = disk / OUTPUT_NAMES[command]
    run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
    _assert_refused(run, output, r"the disk of .* is full \(.* free\)")
    assert listing(disk) == ["filler"]


FULL_WHILE_WRITING = ("ndvi-qm", "build-blocks", "train-source", "adapt-spcl", "infer", "sample-data")


@pytest.mark.parametrize("command", FULL_WHILE_WRITING)
def test_a_disk_that_fills_up_while_writing_is_a_clear_error(tiny, disk, tmp_path, command):
    """200 KiB free: more than the check before the run asks, less than the outputs need."""
    _fill(disk, leave=200 * 1024)
    output = disk / OUTPUT_NAMES[command]
    argv = _output_argv(command, tiny, output, tmp_path / "work")
    if command == "infer":  # outputs larger than what is left
        argv += ["--output-probabilities", disk / "probabilities.tif", "--output-entropy", disk / "entropy.tif"]
    run = engine(*argv)
    if command in ("train-source", "adapt-spcl"):  # refused before training, not after
        assert not any(str(e.get("text", "")).startswith("Step ") for e in run.events), run.describe()
    _assert_refused(run, output, r"(?i)(the disk is full: no space left on device|MiB free, but this run "
                                 r"writes|not enough free space)")
    assert listing(disk) == ["filler"]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_an_output_that_is_an_existing_folder_is_refused(tiny, tmp_path, command):
    out = tmp_path / "out"
    output = out / OUTPUT_NAMES[command]
    if command == "sample-data":  # a folder output: a file is in the way
        out.mkdir()
        output.write_text("a file, not a folder")
        pattern = r"is an existing file: give the name of a folder"
    else:
        output.mkdir(parents=True)
        (output / "keep.txt").write_text("user data")
        pattern = r"is an existing folder: give a file name"
    run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
    _assert_refused(run, output, pattern)
    assert listing(out) == [OUTPUT_NAMES[command]]
    if output.is_dir():
        assert listing(output) == ["keep.txt"]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_an_existing_output_file_is_replaced_whole(tiny, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    output = out / OUTPUT_NAMES[command]
    if command == "sample-data":
        first = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
        assert first.returncode == 0, first.describe()
        before = (output / "sample.json").stat().st_mtime_ns
    else:
        output.write_bytes(b"an older output")
    run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
    assert run.returncode == 0, run.describe()
    if command == "sample-data":
        assert (output / "sample.json").stat().st_mtime_ns != before
    else:
        assert output.read_bytes() != b"an older output" and output.stat().st_size > 100
    assert leftovers(out) == []


HOLD = """
import sys, time
from crops_engine.atomic import output_lock
with output_lock([(sys.argv[1], sys.argv[2])], "crops test-holder"):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_a_second_writer_of_an_output_is_refused_naming_the_live_run(tiny, tmp_path, command):
    out = tmp_path / "out"
    out.mkdir()
    output = out / OUTPUT_NAMES[command]
    holder = subprocess.Popen([PYTHON, "-c", HOLD, "OUTPUT", str(output)], stdout=subprocess.PIPE, text=True,
                              env=engine_env())
    try:
        assert holder.stdout.readline().strip() == "locked"
        run = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
        _assert_refused(run, output,
                        rf"is being written by another CROPS run \(process {holder.pid}, crops test-holder")
        assert not output.exists() and leftovers(out) == [f".{output.name}.crops-lock"]  # the holder's own
    finally:
        holder.kill()
        holder.wait()
    if command in ("ndvi-qm", "infer", "diagnostics"):  # the holder died: its lock file is stale, never in the way
        again = engine(*_output_argv(command, tiny, output, tmp_path / "work"))
        assert again.returncode == 0, again.describe()
        assert leftovers(out) == []


def test_two_infer_runs_racing_for_one_output(tiny, tmp_path):
    """Issue 19: 6 of 38 racing pairs aborted (exit 134) after reporting success. One writes, the other is refused
    (or runs after it); none aborts, none reports success unless it exited cleanly, the map is whole."""
    output = tmp_path / "same.tif"
    argv = ["infer", "--model", tiny["model"], "--input", tiny["target"], "--device", "cpu", "--threads", 1,
            "--output", output, "--output-confidence", tmp_path / "same_confidence.tif"]
    procs = [start(*argv), start(*argv)]
    runs = [finish(p) for p in procs]
    for run in runs:
        assert run.returncode in (0, 1), run.describe()
        if run.returncode == 0:
            assert run.result is not None and not run.errors
        else:
            assert run.result is None and "is being written by another CROPS run" in run.message
    assert any(r.returncode == 0 for r in runs)
    from osgeo import gdal

    ds = gdal.Open(str(output))
    assert ds.RasterXSize == 128 and ds.GetRasterBand(1).Checksum() >= 0
    assert leftovers(tmp_path) == []


def test_text_mode_says_what_went_wrong(tiny, tmp_path):
    """Without --json-events a refused run prints one ERROR line naming the problem (and no traceback)."""
    output = tmp_path / "classes.tif"
    output.mkdir()
    run = engine("infer", "--model", tiny["model"], "--input", tiny["target"], "--output", output, json_events=False)
    assert run.returncode == 1
    assert run.stderr.count("ERROR: ") == 1 and "is an existing folder" in run.stderr and "Traceback" not in run.stderr


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("the fault matrix needs POSIX signals and mounts", allow_module_level=True)

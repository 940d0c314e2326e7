"""The engine under torchrun (2 processes, gloo on the CPU): training like one process with the global batch,
the methods' statistics reduced over the processes, sharded inference and compositing bit for bit, only
process 0 writing, a killed process stopping the job with a clear message and no partial output, resume.

Every run starts `torchrun --nproc_per_node 2` on a free port as a subprocess (`tests/distributed_helper.py`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, TINY_UNET, write_scene

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")
from osgeo import gdal, ogr, osr  # noqa: E402

from crops_engine import distributed  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store, write_partition  # noqa: E402
from crops_engine.checkpoint import load_model, read_metadata  # noqa: E402
from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.infer.shards import band_bounds, batch_groups, needed_rows  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)
HELPER = ROOT / "tests" / "distributed_helper.py"
TORCHRUN = Path(sys.executable).with_name("torchrun")
TINY = json.dumps(TINY_UNET)
pytestmark = pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is not installed beside this Python")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", CROPS_DIST_TIMEOUT_S="60")
    out.pop("WORLD_SIZE", None)
    out.update(extra)
    return out


def torchrun_command(*args: str, nproc: int = 2) -> list[str]:
    return [str(TORCHRUN), "--nproc_per_node", str(nproc), "--master_addr", "127.0.0.1", "--master_port",
            str(free_port()), str(HELPER), *args]


def run(args: list[str], nproc: int = 2, timeout: float = 240, **extra: str) -> subprocess.CompletedProcess:
    """The engine on `nproc` processes under torchrun (nproc 0: one process, in this one); JSON events on stdout."""
    if not nproc:
        return run_here(args)
    cmd = torchrun_command(*args, nproc=nproc)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT), env=env(**extra))


def run_here(args: list[str]) -> subprocess.CompletedProcess:
    """`distributed_helper.py ARGS` in this process (one process: no torch.distributed; saves a Python start)."""
    import distributed_helper

    from crops_engine.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if args[0] == "cli":
            code = main(args[1:])
        else:
            getattr(distributed_helper, {"composite": "composite", "reduce": "reduce_statistics"}[args[0]])(*args[1:])
            code = 0
    return subprocess.CompletedProcess(args, code, out.getvalue(), "")


def events(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            out.append(json.loads(line))
    return out


def ok(proc: subprocess.CompletedProcess) -> list[dict]:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return events(proc.stdout)


def read_bands(path: Path) -> list[np.ndarray]:
    ds = gdal.Open(str(path))
    return [ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)]


def assert_same_raster(a: Path, b: Path) -> None:
    """Every band of `a` and `b` equal bit for bit, and the same metadata, nodata and overviews."""
    da, db = gdal.Open(str(a)), gdal.Open(str(b))
    assert (da.RasterXSize, da.RasterYSize, da.RasterCount) == (db.RasterXSize, db.RasterYSize, db.RasterCount)
    assert da.GetMetadata() == db.GetMetadata() and da.GetGeoTransform() == db.GetGeoTransform()
    for i in range(da.RasterCount):
        ba, bb = da.GetRasterBand(i + 1), db.GetRasterBand(i + 1)
        assert ba.GetNoDataValue() == bb.GetNoDataValue()
        x, y = ba.ReadAsArray(), bb.ReadAsArray()
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f"{a.name} band {i + 1} differs"
        assert ba.GetOverviewCount() == bb.GetOverviewCount()
        for k in range(ba.GetOverviewCount()):
            assert ba.GetOverview(k).ReadAsArray().tobytes() == bb.GetOverview(k).ReadAsArray().tobytes()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A labelled store (every pixel labelled: the processes' mean losses then weigh alike), a model trained on it,
    a 150 x 300 px composite to map, a partitioned target store and a season of scenes."""
    from crops_engine.train import TrainConfig, train_source

    root = tmp_path_factory.mktemp("dist")
    composite, labels = write_scene(root / "source")
    store = root / "source.h5"
    build_block_store(composite, store, labels=labels, class_map="1200=maize; *=other", block_size=32,
                      val_fraction=0.25, val_group_size=1, seed=0)
    model = root / "model.safetensors"
    train_source(TrainConfig(blocks=str(store), output=str(model), arch_args=TINY_UNET, batch_size=4, lr=3e-3,
                             device="cpu", iterations=12, seed=0))
    big, _ = write_scene(root / "big", width=150, height=300, seed=1)
    target_composite, _ = write_scene(root / "target", shift=0.05, seed=2)
    target = root / "target.h5"
    build_block_store(target_composite, target, block_size=32)
    n = len(BlockStore(target))
    write_partition(target, np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    sys.path.insert(0, str(ROOT / "tests"))
    from test_composite import make_season

    make_season(root / "season", h=40, w=56)
    return {"root": root, "store": store, "model": model, "big": big, "target": target, "season": root / "season",
            "target_composite": target_composite}


def train_args(data, out: Path, batch: int, *extra: str) -> list[str]:
    return ["cli", "--json-events", "train-source", "--blocks", str(data["store"]), "--output", str(out),
            "--arch-args", TINY, "--batch-size", str(batch), "--iterations", "6", "--lr", "0.003", "--seed", "3",
            "--device", "cpu", "--threads", "1", "--val-every", "1", *extra]


def step_losses(evs: list[dict]) -> list[float]:
    return [e["value"] for e in evs if e.get("event") == "metric" and e.get("name") == "train_loss"]


# -- training --------------------------------------------------------------------------------------------


def test_two_processes_train_like_one_with_the_global_batch_and_only_process_0_writes(data, tmp_path):
    """2 x BATCH_SIZE 2 with SYNC_BATCHNORM = 1 x BATCH_SIZE 4: the same samples per step (the sharded batch
    stream), the same BatchNorm statistics, the averaged gradient of the same mean loss. What differs is the
    order of float32 sums (two partial means, then the all-reduce; SyncBatchNorm's float64 sums against torch's
    Welford): measured below 1e-6 relative over the six steps. The tolerance 1e-4 is 500 times below the loss's
    change per step, while a run whose processes do not average their gradients is off by several 1e-3 from the
    second step on (checked by dropping the reduction)."""
    one, two = tmp_path / "one" / "m.safetensors", tmp_path / "two" / "m.safetensors"
    ref = ok(run(train_args(data, one, 4), nproc=0))
    audit = tmp_path / "audit"
    evs = ok(run(train_args(data, two, 2, "--sync-batchnorm", "true"), CROPS_TEST_AUDIT=str(audit)))
    a, b = step_losses(ref), step_losses(evs)
    assert len(a) == len(b) == 6
    np.testing.assert_allclose(b, a, rtol=1e-4)
    m1, _ = load_model(one, "cpu")
    m2, _ = load_model(two, "cpu")
    for (k, v1), v2 in zip(m1.state_dict().items(), m2.state_dict().values(), strict=True):
        if v1.is_floating_point():
            np.testing.assert_allclose(v2.numpy(), v1.numpy(), rtol=1e-3, atol=1e-4, err_msg=k)
    prov = read_metadata(two).provenance
    assert prov["world_size"] == 2 and prov["global_batch_size"] == 4 and prov["batch_size_per_process"] == 2
    assert prov["sync_batchnorm"] is True and read_metadata(one).provenance["world_size"] == 1
    assert load_training_state(resume_path(two)).info["world_size"] == 2
    assert any("Data-parallel over 2 processes" in e.get("text", "") for e in evs)
    # Only process 0 reports: one result, every step's progress once.
    assert [e["event"] for e in evs].count("result") == 1
    assert len([e for e in evs if e.get("event") == "progress" and e.get("text", "").startswith("Step ")]) == 6
    # ... and writes: process 1 renamed nothing into the output folder, and opened nothing there for writing.
    folder = str(two.parent)
    rank1 = [json.loads(line) for line in Path(f"{audit}.1").read_text().splitlines()]
    rank0 = [json.loads(line) for line in Path(f"{audit}.0").read_text().splitlines()]
    assert any(e[0] == "rename" and e[2].startswith(folder) for e in rank0)
    assert not [e for e in rank1 if e[-1].startswith(folder)], rank1
    assert sorted(p.name for p in two.parent.iterdir()) == sorted(p.name for p in one.parent.iterdir())


def _child_with_rank(parent: int, rank: int, deadline: float) -> int:
    """The pid of torchrun's worker of `rank` (from /proc)."""
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != parent:
                    continue
                environ = (stat.parent / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if f"RANK={rank}".encode() in environ:
                return int(stat.parent.name)
        time.sleep(0.1)
    raise AssertionError(f"no worker of rank {rank}")


def _kill_rank_when(cmd: list[str], rank: int, text: str, timeout: float = 240) -> tuple[int, list[dict], str]:
    """Run `cmd` (torchrun), SIGKILL its worker `rank` once a progress text contains `text`; (exit code, events,
    stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT), env=env())
    deadline = time.monotonic() + timeout
    lines = []
    killed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if not killed and text in line:
            os.kill(_child_with_rank(proc.pid, rank, deadline), signal.SIGKILL)
            killed = True
    stderr = proc.stderr.read() if proc.stderr else ""
    code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    assert killed, "".join(lines)[-2000:] + stderr[-2000:]
    return code, events("".join(lines)), stderr


def test_a_killed_process_stops_training_with_a_clear_message_and_the_run_resumes(data, tmp_path):
    out = tmp_path / "m.safetensors"
    args = train_args(data, out, 2)
    args[args.index("--iterations") + 1] = "40"
    args[args.index("--val-every") + 1] = "40"
    args += ["--resume-every", "3600"]
    code, evs, stderr = _kill_rank_when(torchrun_command(*args), 1, '"Step 4/40')
    assert code != 0
    errors = [e for e in evs if e.get("event") == "error"]
    assert errors and "Process 1 of 2 stopped without saying why" in errors[0]["message"], (evs[-3:], stderr[-2000:])
    assert "RESUME=" in errors[0]["message"]
    state = load_training_state(resume_path(out))
    assert 4 <= state.step < 40 and state.info["world_size"] == 2
    # on one process (in this one) the run continues and says what changes: two more steps
    other = tmp_path / "one" / "m.safetensors"
    other.parent.mkdir()
    kept = other.with_name(resume_path(out).name)
    kept.write_bytes(resume_path(out).read_bytes())
    alone = [*args[:-2], "--resume", str(kept)]
    alone[alone.index("--output") + 1] = str(other)
    alone[alone.index("--iterations") + 1] = str(state.step + 2)
    warned = [e["text"] for e in ok(run(alone, nproc=0)) if e.get("level") == "warning"]
    assert any("written by a run of 2 process(es) (global batch 4); this run has 1 (global batch 2)" in t
               and "BATCH_SIZE 4" in t for t in warned), warned
    resumed = ok(run([*args[:-2], "--resume", str(resume_path(out))]))
    assert any(f"Resuming from {resume_path(out)} at step {state.step}" in e.get("text", "") for e in resumed)
    result = next(e for e in resumed if e.get("event") == "result")["outputs"]
    assert result["steps"] == 40
    assert not list(tmp_path.glob("*crops-tmp*"))


@pytest.mark.slow
def test_a_process_that_stops_answering_ends_the_job_after_the_timeout(data, tmp_path):
    """SIGSTOP: the process lives but answers nothing. After CROPS_DIST_TIMEOUT_S (5 s here) process 0 stops with a
    message naming the timeout, keeps the resume state, and torchrun ends the job (not a hang)."""
    out = tmp_path / "m.safetensors"
    args = train_args(data, out, 2)
    args[args.index("--iterations") + 1] = "400"
    args[args.index("--val-every") + 1] = "400"
    proc = subprocess.Popen(torchrun_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(ROOT), env=env(CROPS_DIST_TIMEOUT_S="5"))
    assert proc.stdout is not None
    lines, stopped = [], None
    deadline = time.monotonic() + 240
    for line in proc.stdout:
        lines.append(line)
        if stopped is None and '"Step 3/400' in line:
            stopped = _child_with_rank(proc.pid, 1, deadline)
            os.kill(stopped, signal.SIGSTOP)
        if stopped is not None and '"event": "error"' in line:  # spare torchrun its 30 s grace for the stopped one
            os.kill(stopped, signal.SIGKILL)
    try:
        assert proc.wait(timeout=120) != 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(stopped, signal.SIGKILL)
        proc.stderr.close()
    errors = [e for e in events("".join(lines)) if e.get("event") == "error"]
    assert errors and "did not answer for 5 s" in errors[0]["message"] and "RESUME=" in errors[0]["message"]
    assert load_training_state(resume_path(out)).step >= 3


def test_pretraining_on_two_processes_scales_the_lr_with_the_global_batch_and_records_it(data, tmp_path):
    """pretrain under torchrun: SimSiam's LR rule LR x batch / 256 takes the global batch (2 processes x 2 blocks), the
    encoder's provenance records it with the world size; process 0 alone writes the encoder, report and record."""
    from crops_engine.pretrain.encoder import read_encoder_meta

    out = tmp_path / "enc.safetensors"
    audit = tmp_path / "audit"
    evs = ok(run(["cli", "--json-events", "pretrain", "--blocks", str(data["store"]), "--iterations", "2",
                  "--batch-size", "2", "--lr", "0.5", "--device", "cpu", "--arch-args", TINY, "--projection-dim", "16",
                  "--prediction-dim", "4", "--output", str(out)], CROPS_TEST_AUDIT=str(audit)))
    prov = read_encoder_meta(out).provenance
    assert prov["lr"] == pytest.approx(0.5 * 2 * 2 / 256) and prov["lr_rule"] == "LR x BATCH_SIZE x processes / 256"
    assert prov["world_size"] == 2 and prov["global_batch_size"] == 4 and prov["batch_size_per_process"] == 2
    assert any(f"SGD LR {0.5 * 4 / 256:.4g} (= 0.5 x 4 / 256" in e.get("text", "") for e in evs)
    assert (tmp_path / "enc.report.html").is_file() and (tmp_path / "enc.run.json").is_file()
    assert not [e for e in _audit(audit, 1) if e[-1].startswith(str(tmp_path))]


# -- the methods' statistics -------------------------------------------------------------------------


def test_two_processes_reduce_prototypes_class_shares_histograms_and_alignment(tmp_path):
    """Each process folds its half of a batch in, inside a step; both end with the single-process statistics of
    the whole batch (float64 sums in another order: 1e-12), PPPC's Gaussian prototypes (precision-weighted means
    and variances) among them."""
    from distributed_helper import batch, log_variance

    from crops_engine.adapt.alignment import DistributionAlignment
    from crops_engine.adapt.pppc import GaussianPrototypeEstimator
    from crops_engine.adapt.prototypes import PrototypeEstimator
    from crops_engine.adapt.pseudo_labels import ConfidenceHistogram
    from crops_engine.adapt.watch import CollapseWatch
    from crops_engine.progress import silent

    out = tmp_path / "stats.json"
    ok(run(["reduce", str(out)]))
    emb, labels, probs, valid = batch()
    prototypes, watch, histogram = PrototypeEstimator(3, emb.shape[1]), CollapseWatch(list("abc"), silent()), \
        ConfidenceHistogram(3)
    alignment = DistributionAlignment()
    alignment.start(torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
    prototypes.update(emb, labels)
    gaussian = GaussianPrototypeEstimator(3, emb.shape[1])
    gaussian.update(emb, labels, valid, log_var=log_variance())
    watch.count(labels)
    histogram.update(probs, valid)
    aligned = alignment(probs, valid)
    watch.report(1, prototypes)
    for rank, got in enumerate(json.loads(out.read_text())):
        np.testing.assert_allclose(got["gaussian_mean"], gaussian.mean.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(got["gaussian_variance"], gaussian.variance(torch.float64).numpy(), rtol=1e-9)
        assert got["gaussian_count"] == gaussian.count.tolist()
        np.testing.assert_allclose(got["mean"], prototypes.mean.numpy(), rtol=0, atol=1e-12)
        assert got["count"] == prototypes.count.tolist() and got["histogram"] == histogram.counts.tolist()
        np.testing.assert_allclose(got["shares"], watch.last_shares, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got["running"], alignment.running.numpy(), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got["aligned_first"], aligned[2 * rank, :, 0, 0].numpy(), rtol=1e-5)


def test_spcl_on_two_processes_has_the_prototypes_and_class_shares_of_one_with_the_global_batch(data, tmp_path):
    """One SPCL step: the first prototypes and class shares (set-up on every process), then the step's confident
    easy pixels and pseudo-labels of the global batch (2 x 2 hard and easy blocks = 1 x 4)."""
    def spcl(out: Path, batch: int, nproc: int) -> dict:
        ok(run(["cli", "--json-events", "adapt-spcl", "--model", str(data["model"]), "--blocks", str(data["target"]),
                "--output", str(out), "--iterations", "1", "--batch-size", str(batch), "--device", "cpu",
                "--threads", "1", "--conf-threshold", "0.6", "--distribution-alignment", "true",
                "--sync-batchnorm", "true"], nproc=nproc))
        return load_training_state(resume_path(out))

    one, two = spcl(tmp_path / "one.safetensors", 4, 0), spcl(tmp_path / "two.safetensors", 2, 2)
    np.testing.assert_allclose(two.model["method.prototypes.mean"].numpy(),
                               one.model["method.prototypes.mean"].numpy(), rtol=0, atol=1e-9)
    assert torch.equal(two.model["method.prototypes.count"], one.model["method.prototypes.count"])
    assert two.info["method_state"]["last_shares"] == pytest.approx(one.info["method_state"]["last_shares"], abs=1e-12)
    assert two.info["world_size"] == 2 and one.info["world_size"] == 1
    prov = read_metadata(tmp_path / "two.safetensors").provenance  # the adapted checkpoint records the global batch
    assert prov["world_size"] == 2 and prov["global_batch_size"] == 4 and prov["batch_size_per_process"] == 2


def test_co_training_on_two_processes_labels_the_target_like_one_process(data, tmp_path):
    """A tiny co-training run (METHOD co_training) on 2 processes: each labelling round splits the target blocks
    over the processes in whole batches and shares the fused labels and counts, so each round's pseudo-labels,
    per-class thresholds, class shares and agreement are exactly one process's over all blocks with those models
    (recomputed here with the run's own models). Only process 0 writes the work folder; the stages follow each
    other through it (process 1 reads the models and labels process 0 wrote)."""
    from crops_engine.adapt import make_config
    from crops_engine.adapt.co_training import label_target, work_folder

    out = tmp_path / "co.safetensors"
    settings = {"iterations": 4, "batch_size": 2, "calibration_blocks": 8, "seed": 3, "co_rounds": 1, "co_epochs": 1,
                "co_final_epochs": 1, "co_min_pixels": 4, "lr": 1e-3}
    audit = tmp_path / "audit"
    evs = ok(run(["cli", "--json-events", "adapt", "--method", "co_training", "--model", str(data["model"]),
                  "--blocks", str(data["target"]), "--output", str(out), "--device", "cpu", "--threads", "1",
                  *[x for k, v in settings.items() for x in (f"--{k.replace('_', '-')}", str(v))]],
                 CROPS_TEST_AUDIT=str(audit)))
    result = next(e for e in evs if e.get("event") == "result")["outputs"]
    assert result["stages"] == ["self_training_a", "retrain_a_1", "retrain_b_1", "final"]
    assert result["steps"] == 4 + 3 * 2  # an epoch is a pass of the global batch: 8 blocks / (2 x 2) = 2 steps
    work = work_folder(out)
    cfg = make_config("co_training", model=str(data["model"]), blocks=str(data["target"]), output=str(out),
                      device="cpu", **settings)
    for figures in result["rounds"]:
        r = figures.pop("round")
        mine = label_target(figures["models"], cfg, tmp_path / f"labels_{r}.npy", silent_progress())
        assert figures == json.loads(json.dumps(mine)), r
        assert np.array_equal(np.load(tmp_path / f"labels_{r}.npy"), np.load(work / f"labels_{r}.npy")), r
    assert 0 < result["rounds"][0]["agreement"] < 1  # the two models differ: agreement is a count of both shares
    assert read_metadata(out).provenance["global_batch_size"] == 4
    rank1 = [e for e in _audit(audit, 1) if e[-1].startswith(str(tmp_path))]
    assert not rank1, rank1


def silent_progress():
    from crops_engine.progress import silent

    return silent()


# -- sharded inference and compositing ---------------------------------------------------------------


def _polygon(path: Path, ring: list[tuple[float, float]]) -> Path:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("area", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    text = ", ".join(f"{x} {y}" for x, y in ring + ring[:1])
    feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({text}))"))
    layer.CreateFeature(feature)
    ds = None
    return path


def test_sharded_inference_equals_one_process_bit_for_bit(data, tmp_path):
    """The four outputs of 2 processes equal one process's, with a MASK that leaves the top rows whole and many tiles
    below without any pixel to predict, which changes the batches the single process forms (the processes must
    form the same ones: a model's output depends on its batch in the last bits)."""
    # an L: all of the top 100 rows, then only the left 40 columns
    gpkg = _polygon(tmp_path / "area.gpkg", [(500000, 5600000), (501500, 5600000), (501500, 5599000),
                                             (500400, 5599000), (500400, 5597000), (500000, 5597000)])
    extra = ["--mask", f"{gpkg}|layername=area"]

    def infer(folder: Path, nproc: int) -> dict:
        evs = ok(run(["cli", "--json-events", "infer", "--model", str(data["model"]), "--input", str(data["big"]),
                      "--device", "cpu", "--threads", "1", "--batch-size", "3", *extra,
                      "--output", str(folder / "c.tif"), "--output-confidence", str(folder / "conf.tif"),
                      "--output-entropy", str(folder / "e.tif"), "--output-probabilities", str(folder / "p.tif")],
                     nproc=nproc))
        return next(e for e in evs if e.get("event") == "result")["outputs"]

    one, two = infer(tmp_path / "one", 0), infer(tmp_path / "two", 2)
    for name in ("c.tif", "conf.tif", "e.tif", "p.tif"):
        assert_same_raster(tmp_path / "one" / name, tmp_path / "two" / name)
        assert (tmp_path / "one" / name).with_suffix(".qml").read_bytes() == \
            (tmp_path / "two" / name).with_suffix(".qml").read_bytes()
    for key in ("valid_pixels", "class_pixels", "tiles", "tiles_predicted"):
        assert one[key] == two[key], key
    assert not [p for p in (tmp_path / "two").iterdir() if "crops-tmp" in p.name]


def test_sharded_compositing_equals_one_process_bit_for_bit(data, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    ok(run(["composite", str(tmp_path / "one"), str(data["season"])], nproc=0))
    ok(run(["composite", str(tmp_path / "two"), str(data["season"])]))
    for name in ("qm.tif", "qa.tif"):
        assert_same_raster(tmp_path / "one" / name, tmp_path / "two" / name)
    assert (tmp_path / "one" / "qm.qml").read_bytes() == (tmp_path / "two" / "qm.qml").read_bytes()
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


def _audit(prefix: Path, rank: int) -> list[list[str]]:
    path = Path(f"{prefix}.{rank}")
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _h5_contents(path: Path) -> dict:
    import h5py

    out: dict = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda name, item: out.__setitem__(name, item[()].tolist()) if hasattr(item, "shape") else None)
        out["attrs"] = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in h5.attrs.items()}
    return out


def test_sharded_partition_equals_one_process(data, tmp_path):
    """partition with COMPOSITE on 2 processes: process 0 builds the store (overlapping blocks: 21 of 32 px, stride
    16) while process 1 waits; each scores its share of the blocks in whole batches (batches of 4: blocks 0-11 and
    12-20), so the very batches one process runs; process 0 writes the maps from the processes' confidence patches,
    then the partition file. Scores, split, settings and both maps equal one process's exactly; process 1 writes
    nothing but its part (in the parts folder beside the store, removed at the end)."""
    def partition(folder: Path, nproc: int, **extra: str) -> dict:
        evs = ok(run(["cli", "--json-events", "partition", "--model", str(data["model"]), "--composite",
                      str(data["target_composite"]), "--output-blocks", str(folder / "target.h5"), "--stride", "16",
                      "--batch-size", "4", "--score", "entropy", "--per-class", "true", "--device", "cpu",
                      "--output-mask", str(folder / "mask.tif"), "--output-confidence", str(folder / "conf.tif")],
                     nproc=nproc, **extra))
        return next(e for e in evs if e.get("event") == "result")["outputs"]

    audit = tmp_path / "audit"
    one, two = partition(tmp_path / "one", 0), partition(tmp_path / "two", 2, CROPS_TEST_AUDIT=str(audit))
    assert one["built_blocks"] == two["built_blocks"] == 21
    for key in ("blocks", "easy_blocks", "hard_blocks", "mean_score_easy", "mean_score_hard", "dominant_classes"):
        assert one[key] == two[key], key
    a, b = (_h5_contents(Path(r["partition_file"])) for r in (one, two))
    assert a == b and len(a["scores"]) == 21
    for name in ("mask.tif", "conf.tif"):
        assert_same_raster(tmp_path / "one" / name, tmp_path / "two" / name)
        assert (tmp_path / "one" / name).with_suffix(".qml").read_bytes() == \
            (tmp_path / "two" / name).with_suffix(".qml").read_bytes()
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    folder = str(tmp_path / "two")
    rank1 = [e for e in _audit(audit, 1) if e[-1].startswith(folder)]
    assert rank1 and all(e[0] == "open" and Path(e[1]).parent.name.endswith(".parts") for e in rank1), rank1
    assert any(e[0] == "rename" and e[2] == str(tmp_path / "two" / "target.h5.partition.h5") for e in _audit(audit, 0))


def test_a_killed_process_leaves_no_partial_inference_output(data, tmp_path):
    big, _ = write_scene(tmp_path / "huge", width=600, height=900, seed=3)
    out = tmp_path / "out"
    cmd = torchrun_command("cli", "--json-events", "infer", "--model", str(data["model"]), "--input", str(big),
                           "--device", "cpu", "--threads", "1", "--output", str(out / "c.tif"),
                           "--output-probabilities", str(out / "p.tif"))
    code, evs, _ = _kill_rank_when(cmd, 1, '"Which tiles hold data')
    assert code != 0
    errors = [e for e in evs if e.get("event") == "error"]
    assert errors and "Process 1 of 2 stopped without saying why" in errors[0]["message"], evs[-3:]
    assert not out.exists() or not list(out.iterdir()), list(out.iterdir())


# -- the pieces --------------------------------------------------------------------------------------


def test_bands_and_batches_follow_the_full_rasters_tiling():
    from crops_engine.blending import TileLayout
    from crops_engine.infer.tiles import TileReader

    layout = TileLayout.plan(70, 300, 32, 8)
    for size in (1, 2, 3, 5, 20):
        bands = band_bounds(layout, size)
        assert bands[0][0] == 0 and bands[-1][1] == 300
        assert all(a[1] == b[0] for a, b in zip(bands, bands[1:], strict=False))
        for top, bottom in bands:  # every row of a band is covered by the band's tile rows
            rows = needed_rows(layout, top, bottom)
            covered = {r for i in rows for r in range(layout.rows[i], layout.rows[i] + 32)}
            assert set(range(top, bottom)) <= covered
    rng = np.random.default_rng(0)
    flags = (rng.random(len(layout)) > 0.6).astype(np.int32)
    flags[30:60] = 0  # a run of tiles without data: the 16 x BATCH_SIZE limit ends a batch

    class Source:
        def read(self, y, x, w, h):
            i = layout.tiles.index((y, x))
            return (np.zeros((1, h, w), np.float32) if flags[i] else None), np.ones((h, w), bool)

        def close(self):
            pass

    reader = TileReader(Source, layout, 2, lambda shape: np.empty(shape, np.float32), 1)
    reader.start()
    groups, start = [], 0
    while (item := reader.queue.get()) is not distributed_end():
        groups.append((start, start + len(item.origins)))
        start += len(item.origins)
    assert groups == batch_groups(flags, 2)


def distributed_end():
    from crops_engine.infer.threads import END

    return END


def test_commands_that_do_not_run_distributed_refuse_torchrun(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(CropsError, match="runs on one process"):
        distributed.start("build-blocks")
    assert not distributed.writer() and distributed.world().size == 1  # not joined


# -- from QGIS: the provider setting "processes per run" -------------------------------------------------


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


@pytest.mark.qgis
def test_qgis_runs_a_command_on_processes_per_run_with_progress_and_cancel(qgis_app, data, tmp_path, monkeypatch):
    """CROPS_PROCESSES_PER_RUN 2 (the provider setting's environment twin): the bridge starts torchrun; process 0's
    progress reaches the feedback, one result comes back; a cancel stops every process and keeps the resume state."""
    from crops.crops_qgis.engine_python import SETTING_PROCESSES, processes_per_run
    from crops.crops_qgis.worker import engine_command, run_engine
    from qgis.core import QgsProcessingException, QgsProcessingFeedback

    assert engine_command("py", "infer", ["--x"], 2)[:6] == ["py", "-m", "torch.distributed.run", "--standalone",
                                                             "--nproc_per_node", "2"]
    assert engine_command("py", "evaluate", ["--x"], 2) == ["py", "-m", "crops_engine", "--json-events", "evaluate",
                                                            "--x"]
    from processing.core.ProcessingConfig import ProcessingConfig

    assert SETTING_PROCESSES in ProcessingConfig.settings and processes_per_run() == 1
    monkeypatch.setenv("CROPS_PROCESSES_PER_RUN", "2")
    monkeypatch.setenv("CROPS_DIST_TIMEOUT_S", "60")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert processes_per_run() == 2

    class Feedback(QgsProcessingFeedback):
        def __init__(self, cancel_at: str = ""):
            super().__init__()
            self.values: list[float] = []
            self.warnings: list[str] = []
            self.cancel_at = cancel_at
            self.progressChanged.connect(self.values.append)

        def setProgressText(self, text):
            if self.cancel_at and text.startswith(self.cancel_at):
                self.cancel()

        def pushWarning(self, text):
            self.warnings.append(text)

    feedback = Feedback()
    out = tmp_path / "c.tif"
    result = run_engine("infer", ["--model", str(data["model"]), "--input", str(data["big"]), "--device", "cpu",
                                  "--output", str(out)], feedback, outputs=[str(out)])
    assert result["output"] == str(out) and out.is_file()
    assert feedback.values[-1] == pytest.approx(100.0) and any(0 < v < 100 for v in feedback.values)
    model = tmp_path / "cancelled.safetensors"
    feedback = Feedback("Step ")  # the first step's text (the relay shows a text again only when it says more)
    args = train_args(data, model, 2)[3:]
    args[args.index("--iterations") + 1] = "400"
    args[args.index("--val-every") + 1] = "400"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_engine("train-source", [*args, "--resume-every", "3600"], feedback, outputs=[str(model)])
    assert resume_path(model).is_file()  # written on the cancel by process 0
    assert any("continue with RESUME=" in t for t in feedback.warnings), feedback.warnings
    deadline = time.monotonic() + 30
    while _engine_processes(str(model)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _engine_processes(str(model)) == []
    assert not [p.name for p in tmp_path.iterdir() if "crops-tmp" in p.name or "crops-lock" in p.name]


def test_resume_with_another_number_of_processes_says_what_changes():
    from types import SimpleNamespace

    from conftest import Recorder

    distributed.start("train-source", SimpleNamespace(batch_size=4))  # one process: records BATCH_SIZE only
    rec = Recorder()
    distributed.check_resume_world({"world_size": 2, "global_batch_size": 8}, "m.resume.safetensors", rec.progress())
    warnings = [p["text"] for e, p in rec.events if e == "log" and p["level"] == "warning"]
    assert len(warnings) == 1
    assert "written by a run of 2 process(es) (global batch 8); this run has 1 (global batch 4)" in warnings[0]
    assert "keep the global batch: BATCH_SIZE 8" in warnings[0]
    distributed.check_resume_world({"world_size": 1}, "m.resume.safetensors", rec.progress())
    assert len([e for e, p in rec.events if e == "log"]) == 1  # the same number of processes: nothing to say

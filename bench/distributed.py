"""Benchmark of the engine under torchrun (`crops_engine.distributed`): 1 vs 2 processes on this machine.

For training (train-source), inference (infer) and compositing (NDVI-QM) it measures the throughput of one
process with 1 thread, one process with 2 threads, and 2 processes with 1 thread each (gloo on the CPU),
each timed inside the engine (model, data and writing; not the start of Python / torch / torchrun), the
median of REPEATS runs. Scaling efficiency = throughput of 2 processes / (2 x throughput of 1 process, 1
thread). Training is weak scaling: BATCH_SIZE blocks per process (global batch 2 x BATCH_SIZE).

The communication share of a training step: under torchrun, per step, forward + backward, then the step's
all-reduce (`StepReducer.step`: gradients, BatchNorm statistics, figures), then the optimiser; the all-reduce's
median time / the step's median time, with and without SYNC_BATCHNORM (whose all-reduces sit inside the
forward and backward passes: their cost is the step's growth over the run without it).

The machine may be shared (the load average is recorded): then a second process gets no second core and the
wall-clock efficiency says little. The work per CPU second (all threads of all processes) measures what running
distributed costs in itself: `cpu_efficiency` = work per CPU second of 2 processes / of 1 process, 1 thread
(communication, the tile rows both processes predict, the second read of the input, waiting that spins).

Writes bench/results/distributed.json and prints a Markdown table (bench/results/distributed.md).
Usage: python bench/distributed.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
TORCHRUN = Path(sys.executable).with_name("torchrun")
RESULTS = ROOT / "bench" / "results"


# -- inputs ------------------------------------------------------------------------------------------


def make_inputs(folder: Path, size: int, quick: bool) -> dict[str, str]:
    """A labelled block store (64 px blocks), a composite of size x size px (4 bands) and a season of 6 scenes."""
    import torch
    from conftest import write_scene

    from crops_engine.blocks import build_block_store
    from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff
    from crops_engine.train import TrainConfig, train_source

    composite, labels = write_scene(folder / "train", bands=4, width=512, height=256)
    store = folder / "blocks.h5"
    build_block_store(composite, store, labels=labels, class_map="1200=maize; *=other", block_size=64,
                      val_fraction=0.0, seed=0)
    model = folder / "model.safetensors"
    torch.manual_seed(0)
    train_source(TrainConfig(blocks=str(store), output=str(model), batch_size=4, iterations=1, device="cpu",
                             arch="unet", encoder="resnet18"))
    big, _ = write_scene(folder / "map", bands=4, width=size, height=size, seed=1)
    season = folder / "season"
    season.mkdir()
    rng = np.random.default_rng(0)
    side = size * 2 if not quick else size
    grid = Grid(side, side, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
    for k in range(6):
        name = f"S2_2019{4 + k:02d}15"
        ds = create_geotiff(season / f"{name}.tif", grid, 4, np.uint16, 0, ["B02", "B03", "B04", "B08"],
                            {"ACQUISITION_DATE": f"2019-{4 + k:02d}-15T10:50:00"})
        for b in range(4):
            ds.GetRasterBand(b + 1).WriteArray(rng.integers(200, 4000, (side, side)).astype(np.uint16))
        finish_geotiff(ds, overviews=False)
        ds = create_geotiff(season / f"{name}_SCL.tif", grid, 1, np.uint8, 0)
        ds.GetRasterBand(1).WriteArray(rng.choice(np.array([4, 5, 8, 9], np.uint8), (side, side)))
        finish_geotiff(ds, overviews=False)
    return {"store": str(store), "model": str(model), "map": str(big), "season": str(season)}


# -- one measurement (run in the process(es) being measured) ------------------------------------------


def worker(kind: str, inputs: dict[str, str], out: str, threads: int, steps: int, batch: int, sync: bool) -> None:
    import torch

    from crops_engine import distributed

    torch.set_num_threads(threads)
    args = SimpleNamespace(device="cpu", threads=threads, batch_size=batch, sync_batchnorm=sync)
    command = {"train": "train-source", "comm": "train-source", "infer": "infer", "composite": "ndvi-qm"}[kind]
    w = distributed.start(command, args)
    torch.set_num_threads(threads)
    made = str(tempfile.mkdtemp(prefix="bench-dist-", dir=Path(out).parent)) if w.writer else None
    work = Path(distributed.broadcast_object(made))
    figures: dict[str, float] = {}
    cpu = time.process_time()
    if kind == "train":
        from crops_engine.train import TrainConfig, train_source

        r = train_source(TrainConfig(blocks=inputs["store"], output=str(work / "m.safetensors"), batch_size=batch,
                                     iterations=steps, device="cpu", arch="unet", encoder="resnet18",
                                     val_every=10_000, amp=False))
        figures = {"seconds": r["train_seconds"], "blocks_per_s": steps * batch * w.size / r["train_seconds"],
                   "work": steps * batch * w.size, "cpu_s": r["train_cpu_seconds"]}
    elif kind == "comm":
        figures = communication(inputs, steps, batch, sync)
    elif kind == "infer":
        from crops_engine.infer import InferOptions, Outputs, infer

        r = infer(inputs["model"], inputs["map"], Outputs(work / "c.tif", confidence=work / "conf.tif"),
                  InferOptions(device="cpu", threads=threads, tile_size=128, overlap=32, batch_size=4))
        figures = {"seconds": r["seconds"], "pixels_per_s": r["pixels_per_second"], "work": r["width"] * r["height"],
                   "cpu_s": time.process_time() - cpu}
    else:
        from datetime import datetime

        from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
        from crops_engine.scenes import Scene

        scenes = [Scene(p, datetime(2019, int(p.stem[7:9]), 15, 10, 50), p.with_name(p.stem + "_SCL.tif"))
                  for p in sorted(Path(inputs["season"]).glob("S2_????????.tif"))]
        started = time.perf_counter()
        r = ndvi_quality_mosaic(scenes, work / "qm.tif", CompositeOptions(red_band=3, nir_band=4, workers=threads),
                                work / "qa.tif")
        seconds = time.perf_counter() - started
        pixels = plan_pixels(inputs["season"])
        figures = {"seconds": seconds, "pixels_per_s": pixels / seconds, "work": pixels,
                   "cpu_s": time.process_time() - cpu}
    if "cpu_s" in figures:  # CPU seconds of every process (all threads): the work per CPU second ignores the load
        figures["cpu_s"] = sum(distributed.all_gather_object(figures["cpu_s"]))
        figures["work_per_cpu_s"] = figures["work"] / max(figures["cpu_s"], 1e-9)
    if w.writer:
        Path(out).write_text(json.dumps(figures), encoding="utf-8")
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def plan_pixels(season: str) -> int:
    from osgeo import gdal

    ds = gdal.Open(str(sorted(Path(season).glob("S2_????????.tif"))[0]))
    return ds.RasterXSize * ds.RasterYSize


def communication(inputs: dict[str, str], steps: int, batch: int, sync: bool) -> dict[str, float]:
    """Median seconds per training step and of its all-reduce (the engine's `StepReducer`), per process."""
    import torch

    from crops_engine import distributed
    from crops_engine.batches import BatchStream
    from crops_engine.block_dataset import BlockDataset
    from crops_engine.blocks import BlockStore
    from crops_engine.losses import SegmentationLoss
    from crops_engine.models import build_model
    from crops_engine.schedule import build_optimizer

    torch.manual_seed(0)
    store = BlockStore(inputs["store"])
    model = build_model("unet", len(store.feature_names), len(store.classes), encoder="resnet18").train()
    if sync:
        distributed.convert_sync_batchnorm(model)
    params = list(model.parameters())
    optimizer = build_optimizer(params, 1e-3, 1e-4)
    buffers = [] if sync else [b for b in model.buffers() if b.is_floating_point()]
    reducer = distributed.StepReducer(distributed.world(), params, buffers)
    loss_fn = SegmentationLoss(None, 0.0)
    stream = BatchStream(BlockDataset(store, indices=np.arange(len(store))), batch, seed=0)
    step_s, reduce_s = [], []
    for step in range(steps):
        b = stream.batch(step)
        started = time.perf_counter()
        loss = loss_fn(model(b["image"]).logits, b["label"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        mid = time.perf_counter()
        reducer.step({"loss": float(loss.detach())})
        reduced = time.perf_counter()
        optimizer.step()
        if step >= 2:  # the first steps warm the allocator and the connections
            step_s.append(time.perf_counter() - started)
            reduce_s.append(reduced - mid)
    store.close()
    return {"step_s": statistics.median(step_s), "allreduce_s": statistics.median(reduce_s),
            "share": statistics.median(r / s for r, s in zip(reduce_s, step_s, strict=True))}


# -- the driver -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(kind: str, inputs: Path, nproc: int, threads: int, steps: int, batch: int, sync: bool = False) -> dict:
    out = inputs.parent / f"m-{kind}-{nproc}-{threads}-{time.monotonic_ns()}.json"
    own = [str(Path(__file__).resolve()), "--worker", kind, "--inputs", str(inputs), "--out", str(out),
           "--threads", str(threads), "--steps", str(steps), "--batch", str(batch)] + (["--sync"] if sync else [])
    cmd = ([str(TORCHRUN), "--nproc_per_node", str(nproc), "--master_addr", "127.0.0.1", "--master_port",
            str(free_port()), *own] if nproc > 1 else [sys.executable, *own])
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads), CROPS_DIST_TIMEOUT_S="600")
    env.pop("WORLD_SIZE", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} x{nproc} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small inputs, one repeat (a smoke test)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--sync", action="store_true", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.worker:
        worker(a.worker, json.loads(Path(a.inputs).read_text()), a.out, a.threads, a.steps, a.batch, a.sync)
        return
    repeats = 1 if a.quick else a.repeats
    steps = 6 if a.quick else 12
    tmp = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    started = time.time()
    inputs = make_inputs(tmp, 256 if a.quick else 512, a.quick)
    inputs_file = tmp / "inputs.json"
    inputs_file.write_text(json.dumps(inputs))
    load = os.getloadavg()
    rows = {}
    for kind, key in (("train", "blocks_per_s"), ("infer", "pixels_per_s"), ("composite", "pixels_per_s")):
        rows[kind] = {}
        for label, nproc, threads in (("1 process, 1 thread", 1, 1), ("1 process, 2 threads", 1, 2),
                                      ("2 processes, 1 thread each", 2, 1)):
            runs = [measure(kind, inputs_file, nproc, threads, steps, 4) for _ in range(repeats)]
            rows[kind][label] = {"median": statistics.median(r[key] for r in runs), "runs": [r[key] for r in runs],
                                 "work_per_cpu_s": statistics.median(r["work_per_cpu_s"] for r in runs)}
            print(f"{kind:9s} {label:28s} {rows[kind][label]['median']:12.1f} {key}, "
                  f"{rows[kind][label]['work_per_cpu_s']:12.1f} per CPU second", flush=True)
    comm = {}
    for sync in (False, True):
        runs = [measure("comm", inputs_file, 2, 1, steps, 4, sync) for _ in range(repeats)]
        comm["sync_batchnorm" if sync else "plain"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    single = [measure("comm", inputs_file, 1, 1, steps, 4) for _ in range(repeats)]
    comm["one_process"] = {k: statistics.median(r[k] for r in single) for k in single[0]}
    for kind in rows:
        one = rows[kind]["1 process, 1 thread"]["median"]
        rows[kind]["efficiency"] = rows[kind]["2 processes, 1 thread each"]["median"] / (2 * one)
        rows[kind]["cpu_efficiency"] = (rows[kind]["2 processes, 1 thread each"]["work_per_cpu_s"]
                                        / rows[kind]["1 process, 1 thread"]["work_per_cpu_s"])
        rows[kind]["speed-up vs 1 process, 2 threads"] = (rows[kind]["2 processes, 1 thread each"]["median"]
                                                          / rows[kind]["1 process, 2 threads"]["median"])
    doc = {"machine": f"{os.cpu_count()} CPUs (shared with other engineers' tests while measured)",
           "load_average_at_start": [round(v, 2) for v in load], "load_average_at_end": [round(v, 2) for v in
                                                                                         os.getloadavg()],
           "torch": __import__("torch").__version__, "repeats": repeats, "steps": steps, "batch_per_process": 4,
           "model": "unet resnet18 (random init), 4 bands, 64 px blocks / 128 px tiles, overlap 32",
           "seconds": round(time.time() - started, 1), "throughput": rows, "communication": comm}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "distributed_quick" if a.quick else "distributed"
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    text = markdown(doc)
    (RESULTS / f"{name}.md").write_text(text, encoding="utf-8")
    print(text)


def markdown(doc: dict) -> str:
    """The figures as the Markdown table of bench/results/distributed.md."""
    units = {"train": "blocks/s", "infer": "px/s", "composite": "px/s"}
    lines = [
        "# 1 vs 2 processes under torchrun (bench/distributed.py)", "",
        f"{doc['machine']}; load average {doc['load_average_at_start']} at the start, "
        f"{doc['load_average_at_end']} at the end; torch {doc['torch']}; {doc['model']}; median of "
        f"{doc['repeats']} runs; training: {doc['steps']} steps of {doc['batch_per_process']} blocks per process.",
        "",
        "| | 1 process, 1 thread | 1 process, 2 threads | 2 processes, 1 thread each | efficiency "
        "(2 proc / 2 x 1) | work per CPU s, 2 proc / 1 proc |",
        "|---|---|---|---|---|---|",
    ]
    for kind, row in doc["throughput"].items():
        cells = [f"{row[k]['median']:,.1f}" for k in ("1 process, 1 thread", "1 process, 2 threads",
                                                        "2 processes, 1 thread each")]
        cpu = f"{row['cpu_efficiency']:.2f}" if "cpu_efficiency" in row else "-"
        lines.append(f"| {kind} ({units[kind]}) | " + " | ".join(cells) + f" | {row['efficiency']:.2f} | {cpu} |")
    comm = doc["communication"]
    lines += [
        "", "Communication share of a training step (2 processes, gloo; median per step):", "",
        "| | step (s) | all-reduce after backward (s) | share |", "|---|---|---|---|",
    ]
    for key, label in (("one_process", "1 process (no communication)"), ("plain", "2 processes"),
                       ("sync_batchnorm", "2 processes, SYNC_BATCHNORM")):
        c = comm[key]
        lines.append(f"| {label} | {c['step_s']:.3f} | {c['allreduce_s']:.3f} | {c['share']:.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

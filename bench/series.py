"""Benchmark of build-series (issue 17): a temporal block store from a synthetic season, against the read floor.

Uses the synthetic season of `bench/ndvi_qm.py` (N dates x 10 bands, UInt16, tiled DEFLATE GeoTIFFs with a
Sen2Cor-like SCL mask a date, one date a week from 2019-03-01) at several raster sizes and prints, per size:

- floor: the time to read every input byte once with GDAL (1 thread), as in bench/ndvi_qm.py;
- series: `build_series_store` (steps of STEP_DAYS, blocks of BLOCK px, no labels: a target store), its wall
  and CPU time, the ratio to the floor, its peak memory (VmHWM of the measuring process) and the store's size.

With --map, also `infer_series` (a random-weight resnet18 U-TAE made for the store's steps, tiles of 256 px,
batches of 4, 1 thread): its time and peak memory, and its time over the bare forward pass of the same model on
as many tiles (`bench/infer.py`'s floor: random tensors, on a thread as infer runs it; the goal is 1.15x).
Memory-flat means the peak stays put while the raster grows (it depends
on the block / tile size and the steps).
Each measurement runs in its own child process.
Usage: nice python bench/series.py [--sizes 1024 4096] [--dates 30] [--step-days 30] [--block 224] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench_ndvi_qm", Path(__file__).with_name("ndvi_qm.py"))
season = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(season)  # type: ignore[union-attr]
_spec = importlib.util.spec_from_file_location("bench_infer", Path(__file__).with_name("infer.py"))
bench_infer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_infer)  # type: ignore[union-attr]
TILE, BATCH = 256, 4  # infer-series' tiles here, and its CPU batch


def child_series(folder: Path, out: Path, step_days: int, block: int) -> dict:
    from crops_engine.composite import CompositeOptions
    from crops_engine.scenes import load_scenes
    from crops_engine.series import build_series_store

    start, cpu = time.perf_counter(), season._cpu_seconds()
    # the files, not the folder: the season's marker (season.json) would be taken for a STAC item
    scenes = load_scenes(files=[p for p in sorted(folder.glob("S2_*.tif")) if not p.stem.endswith("_SCL")])
    store = out / "series.h5"
    result = build_series_store(scenes, store, step_days, CompositeOptions(), block_size=block, val_fraction=0)
    return {"seconds": time.perf_counter() - start, "cpu": season._cpu_seconds() - cpu,
            "peak_mib": season._peak_mib(), "steps": result["steps"], "blocks": result["blocks"],
            "store_mib": store.stat().st_size / 2**20}


def child_map(folder: Path, out: Path, step_days: int, width: int = 0, height: int = 0) -> dict:
    """infer-series with a small random-weight U-TAE made for the store's series: the streaming of the mapping
    (over the season's top-left `width` x `height` px when given: the same width, other heights)."""
    import torch

    from crops_engine.block_dataset import checkpoint_inputs
    from crops_engine.blocks import BlockStore
    from crops_engine.checkpoint import save_checkpoint
    from crops_engine.classes import CropClass
    from crops_engine.composite import CompositeOptions
    from crops_engine.infer import InferOptions, Outputs
    from crops_engine.models import build_model
    from crops_engine.scenes import load_scenes
    from crops_engine.series.infer import infer_series

    torch.set_num_threads(1)
    with BlockStore(out / "series.h5") as store:
        model = build_model("utae", len(store.feature_names), 2, steps=store.steps, encoder="resnet18",
                            step_days=store.series_info["days"])
        classes = [CropClass(0, "a", "#1b9e77"), CropClass(1, "b", "#d95f02")]
        meta = checkpoint_inputs(store) | {"classes": classes, "provenance": {}}
    save_checkpoint(out / "utae.safetensors", model.eval(), meta)
    scenes = load_scenes(files=[p for p in sorted(folder.glob("S2_*.tif")) if not p.stem.endswith("_SCL")])
    start, cpu = time.perf_counter(), season._cpu_seconds()
    x0, y0 = 500000.0, 5600000.0  # the season's origin (bench/ndvi_qm.py), 10 m pixels
    extent = (x0, y0 - 10 * height, x0 + 10 * width, y0, None) if width and height else None
    with RssSampler() as rss:
        result = infer_series(out / "utae.safetensors", scenes, Outputs(out / "map.tif"), step_days,
                              CompositeOptions(extent=extent),
                              InferOptions(tile_size=TILE, batch_size=BATCH, device="cpu", threads=1))
    seconds, cpu = time.perf_counter() - start, season._cpu_seconds() - cpu
    peak = season._peak_mib()
    # the bare forward of the same model on as many tiles (random tensors, on a thread as infer runs it)
    floor = bench_infer.forward_floor(out / "utae.safetensors", "cpu", TILE, BATCH, 3, in_thread=True)
    bare = result["tiles"] * TILE * TILE / floor["pixels_per_second"]
    return {"seconds": seconds, "cpu": cpu, "peak_mib": peak, "tiles": result["tiles"], "bare_forward_s": bare,
            "rss_quarter_peaks_mib": rss.quarter_peaks()}


class RssSampler:
    """Samples the process's resident memory every 50 ms while mapping: a peak that grew with the raster's
    height would rise from one quarter of the run to the next, where one spike of overlapping stages does not."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            if (rss := season._status_mib("VmRSS")) is not None:
                self.samples.append(rss)

    def __enter__(self) -> RssSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def quarter_peaks(self) -> list[float]:
        n = len(self.samples)
        return [max(self.samples[i * n // 4:max((i + 1) * n // 4, i * n // 4 + 1)], default=0.0) for i in range(4)]


def run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--step-days", type=int, default=30)
    parser.add_argument("--block", type=int, default=224)
    parser.add_argument("--map", action="store_true", help="also map each season with infer-series (a random U-TAE)")
    parser.add_argument("--map-width", type=int, default=0,
                        help="with --map: also map windows this wide and of growing height of the largest season")
    parser.add_argument("--workdir", default="/tmp/crops-bench-series")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, folder, *rest = args.child
        if kind == "floor":
            result = season.child_floor(Path(folder), int(rest[0]))
        elif kind == "map":
            result = child_map(Path(folder), Path(rest[0]), *(int(v) for v in rest[1:]))
        else:
            result = child_series(Path(folder), Path(rest[0]), int(rest[1]), int(rest[2]))
        print(json.dumps(result))
        return

    work = Path(args.workdir)
    rows = []
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for size in args.sizes:
        folder, out = work / f"season_{size}", work / f"out_{size}"
        out.mkdir(parents=True, exist_ok=True)
        season.generate(folder, size, args.dates, "PIXEL")
        floor = run_child("floor", str(folder), "1")
        print(f"[{size}] floor: {floor}", flush=True)
        built = run_child("series", str(folder), str(out), str(args.step_days), str(args.block))
        print(f"[{size}] series: {built}", flush=True)
        mapped = run_child("map", str(folder), str(out), str(args.step_days)) if args.map else None
        print(f"[{size}] infer-series: {mapped}", flush=True)
        rows.append((size, floor, built, mapped))
    strips = []
    if args.map and args.map_width:  # one width, several heights: the mapping's memory against the height
        size = max(args.sizes)
        for height in sorted({args.map_width, size // 2, size}):
            m = run_child("map", str(work / f"season_{size}"), str(work / f"out_{size}"), str(args.step_days),
                          str(args.map_width), str(height))
            print(f"[{args.map_width} x {height}] infer-series: {m}", flush=True)
            strips.append((height, m))
    print()
    print(f"build-series, {args.dates} dates x 10 bands UInt16 + SCL, steps of {args.step_days} days, blocks of "
          f"{args.block} px, lzf; load average now {os.getloadavg()[0]:.2f}")
    head = (f"{'size':>11} | {'floor s':>8} | {'series s':>9} {'cpu s':>7} {'/floor':>7} {'peak MiB':>9} "
            f"{'steps':>5} {'blocks':>6} {'store MiB':>9} | {'map s':>7} {'map peak MiB':>12}")
    print(head)
    print("-" * len(head))
    for size, f, s, m in rows:
        mapped = f"{m['seconds']:>7.1f} {m['peak_mib']:>12.0f}" if m else f"{'-':>7} {'-':>12}"
        print(f"{size:>5}x{size:<5} | {f['seconds']:>8.1f} | {s['seconds']:>9.1f} {s['cpu']:>7.1f} "
              f"{s['seconds'] / f['seconds']:>7.2f} {s['peak_mib']:>9.0f} {s['steps']:>5} {s['blocks']:>6} "
              f"{s['store_mib']:>9.0f} | {mapped}")
        if m:
            print(f"{'':>11}   infer-series / bare forward on {m['tiles']} tiles: {m['seconds']:.1f} s / "
                  f"{m['bare_forward_s']:.1f} s = {m['seconds'] / m['bare_forward_s']:.2f}x")

    if strips:
        print(f"infer-series over {args.map_width} px wide windows of the {max(args.sizes)} px season (tiles of 256):")
        for height, m in strips:
            quarters = " / ".join(f"{q:.0f}" for q in m["rss_quarter_peaks_mib"])
            print(f"  {args.map_width:>5} x {height:<5}: {m['seconds']:7.1f} s, {m['tiles']:4} tiles, peak "
                  f"{m['peak_mib']:6.0f} MiB, resident peak per quarter of the run {quarters} MiB")


if __name__ == "__main__":
    main()

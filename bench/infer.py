"""Benchmark of streaming inference (`crops_engine.infer`) against the bare model.

Prints, in one table:

- (a) floor: the model's forward pass on random tensors of the tile and batch size, already on the
  device (no reading, normalising, blending or writing): tile pixels per second;
- (b) infer: `infer` on a W x 4H raster (random fields, 10 UInt16 bands, tiled DEFLATE GeoTIFF),
  writing the class map and the confidence: output pixels per second, and model pixels per second
  (tiles run x tile area / time; overlapping tiles make the model see each pixel more than once),
  the latter to compare with (a);
- (c) peak memory (the child process's VmHWM) of `infer` on W x H and W x 4H: streaming means the two
  are equal up to noise.

Each `infer` runs in its own child process. The default model is the engine's default U-Net
(resnet18 encoder, random weights); --model takes a real checkpoint (its features decide the
bands), --arch / --encoder another architecture. Sizes default to what 2 CPU cores finish in a
few minutes; on a GPU use e.g. --width 10980 --height 2745 (x4 = 10980).
Usage: python bench/infer.py [--device cpu|cuda] [--width 1024] [--height 1024] [--tile 256] [--overlap 64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
CLASSES = ("maize", "winter wheat", "sugar beet", "potato", "grassland")


def make_checkpoint(path: Path, arch: str, encoder: str, bands: int, classes: int) -> Path:
    import torch

    from crops_engine.checkpoint import save_checkpoint
    from crops_engine.classes import CropClass, default_colour
    from crops_engine.models import build_model

    torch.manual_seed(0)
    kwargs = {"encoder": encoder} if arch == "unet" else {}
    model = build_model(arch, bands, classes, **kwargs)
    meta = {
        "features": list(BANDS[:bands]),
        "normalisation": {"mean": [2000.0] * bands, "std": [800.0] * bands},
        "classes": [CropClass(i, CLASSES[i % len(CLASSES)] + ("" if i < len(CLASSES) else f" {i}"),
                              default_colour(i)) for i in range(classes)],
        "block_size": 224,
        "nodata": 0,
    }
    save_checkpoint(path, model, meta)
    return path


def make_raster(path: Path, width: int, height: int, names: list[str]) -> Path:
    """Fields of 5 spectra plus noise, written strip by strip (the bench itself stays small)."""
    from osgeo import gdal

    from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff

    gdal.UseExceptions()
    grid = Grid(width, height, (500000.0, 10.0, 0.0, 5700000.0, 0.0, -10.0), epsg_wkt(32631))
    ds = create_geotiff(path, grid, len(names), np.uint16, nodata=0, band_descriptions=names)
    rng = np.random.default_rng(0)
    spectra = rng.uniform(500, 4000, (5, len(names)))
    for y in range(0, height, 256):
        h = min(256, height - y)
        yy, xx = np.mgrid[y:y + h, 0:width]
        field = ((yy // 37) * 7 + (xx // 29) * 3) % 5
        for b in range(len(names)):
            data = spectra[field, b] + rng.normal(0, 120, (h, width))
            ds.GetRasterBand(b + 1).WriteArray(np.clip(data, 1, 10000).astype(np.uint16), 0, y)
    finish_geotiff(ds, overviews=False)
    return path


def forward_floor(checkpoint: Path, device_name: str, tile: int, batch: int, repeats: int,
                  in_thread: bool) -> dict:
    """Tile pixels per second of the bare forward pass (same autocast as infer), data on the device.

    `in_thread`: run it on a new thread, as `infer` runs its model (on CPUs torch's speed differs
    between the main thread and others, so the floor is measured both ways).
    """
    import threading

    import torch

    from crops_engine.checkpoint import load_model
    from crops_engine.device import autocast, resolve_device

    device = resolve_device(device_name)
    model, meta = load_model(checkpoint, device)
    x = torch.randn(batch, meta.in_channels, tile, tile, device=device)

    def step() -> None:
        with torch.inference_mode(), autocast(device):
            torch.softmax(model(x).logits.float(), dim=1)
        if device.type == "cuda":
            torch.cuda.synchronize()

    result: dict = {}

    def measure() -> None:
        step()  # warm-up (cudnn autotune, allocator)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            step()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        pixels = batch * tile * tile * repeats
        result.update(pixels_per_second=pixels / seconds, pixels_per_cpu_second=pixels / cpu)

    if in_thread:
        worker = threading.Thread(target=measure)
        worker.start()
        worker.join()
    else:
        measure()
    return result


def child(args: argparse.Namespace) -> None:
    """One `infer` run; prints its result and this process's peak memory as JSON."""
    from crops_engine.infer import InferOptions, Outputs, available_cpus, infer

    out = Path(args.out)
    cpu = time.process_time()
    result = infer(args.checkpoint, args.raster, Outputs(out / "classes.tif", out / "confidence.tif"),
                   InferOptions(tile_size=args.tile, overlap=args.overlap, batch_size=args.batch,
                                device=args.device, threads=available_cpus()))
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    cpu = time.process_time() - cpu
    print(json.dumps({"result": result, "peak_mib": hwm / 1024, "cpu_seconds": cpu}))


def run_child(checkpoint: Path, raster: Path, out: Path, args: argparse.Namespace) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, __file__, "--child", "--checkpoint", str(checkpoint), "--raster", str(raster),
           "--out", str(out), "--tile", str(args.tile), "--overlap", str(args.overlap),
           "--batch", str(args.batch), "--device", args.device]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"infer child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="a checkpoint (.safetensors); default: a random-weight model of --arch")
    p.add_argument("--arch", default="unet")
    p.add_argument("--encoder", default="resnet18")
    p.add_argument("--classes", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--width", type=int, default=1024)
    p.add_argument("--height", type=int, default=1024, help="H; memory is also measured at 4 x H")
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5, help="timed forward batches for the floor")
    p.add_argument("--workdir", help="keep rasters here (default: a temporary folder)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--checkpoint", help=argparse.SUPPRESS)
    p.add_argument("--raster", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return

    import torch

    from crops_engine.checkpoint import read_metadata
    from crops_engine.infer import available_cpus

    torch.set_num_threads(available_cpus())
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="crops-bench-infer-"))
    work.mkdir(parents=True, exist_ok=True)
    checkpoint = Path(args.model) if args.model else make_checkpoint(
        work / "model.safetensors", args.arch, args.encoder, len(BANDS), args.classes)
    meta = read_metadata(checkpoint)
    sizes = [(args.width, args.height), (args.width, 4 * args.height)]
    rasters = []
    for w, h in sizes:
        path = work / f"composite_{w}x{h}.tif"
        if not path.is_file():
            make_raster(path, w, h, list(meta.features))
        rasters.append(path)

    floor_main = forward_floor(checkpoint, args.device, args.tile, args.batch, args.repeats, in_thread=False)
    floor = forward_floor(checkpoint, args.device, args.tile, args.batch, args.repeats, in_thread=True)
    runs = [run_child(checkpoint, r, work / f"out_{w}x{h}", args) for r, (w, h) in zip(rasters, sizes, strict=True)]
    big = runs[1]["result"]
    tile_px = big["tiles_predicted"] * min(args.tile, sizes[1][0]) * min(args.tile, sizes[1][1])
    model_px, model_cpu_px = tile_px / big["seconds"], tile_px / runs[1]["cpu_seconds"]

    print(f"\nModel {meta.arch} {meta.arch_args}, {meta.in_channels} bands, {meta.num_classes} classes; "
          f"device {args.device} ({available_cpus()} CPUs); tile {args.tile}, overlap {args.overlap}, "
          f"batch {args.batch}; load average {os.getloadavg()[0]:.1f} (other processes share the CPUs)")
    rows = [
        ("(a) forward floor, tile px/s", f"{floor['pixels_per_second']:,.0f}",
         f"{floor['pixels_per_cpu_second']:,.0f} px per CPU-second (on a thread, as infer runs it)"),
        ("(a) forward, main thread, tile px/s", f"{floor_main['pixels_per_second']:,.0f}",
         f"{floor_main['pixels_per_cpu_second']:,.0f} px per CPU-second"),
        (f"(b) infer {sizes[1][0]}x{sizes[1][1]}, model px/s", f"{model_px:,.0f}",
         f"floor / infer = {floor['pixels_per_second'] / model_px:.3f}; {model_cpu_px:,.0f} px per CPU-second, "
         f"floor / infer = {floor['pixels_per_cpu_second'] / model_cpu_px:.3f}"),
        (f"(b) infer {sizes[1][0]}x{sizes[1][1]}, output px/s", f"{big['pixels_per_second']:,.0f}",
         f"{big['tiles']} tiles in {big['seconds']:.1f} s"),
    ]
    for (w, h), run in zip(sizes, runs, strict=True):
        rows.append((f"(c) peak memory {w}x{h}", f"{run['peak_mib']:,.0f} MiB", f"{run['result']['seconds']:.1f} s"))
    ratio = runs[1]["peak_mib"] / runs[0]["peak_mib"]
    rows.append(("(c) peak memory 4H / H", f"{ratio:.3f}", "1.0 = independent of raster height"))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")
    if not args.workdir:
        for f in sorted(work.rglob("*"), reverse=True):
            f.rmdir() if f.is_dir() else f.unlink()
        os.rmdir(work)


if __name__ == "__main__":
    main()

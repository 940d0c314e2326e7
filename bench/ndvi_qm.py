"""Benchmark of the NDVI quality mosaic on a synthetic season at real size.

Builds a season (default 30 dates x 10 bands, UInt16, tiled DEFLATE GeoTIFFs, one Sen2Cor-like
SCL mask a date) at two raster sizes and prints, per size, in one table:

- floor: the time to read every input byte once with GDAL (block by block, all bands and
  masks), with 1 thread and with 2 threads (files split between them);
- compositor: `ndvi_quality_mosaic` (2 workers), its total time (including writing the
  composite, the QA raster and their overviews), the time until the last window was written,
  and its peak memory;
- naive: load the whole stack into memory, argmax over dates, write the result; only at the
  size where the stack fits safely in memory (`--naive-size`, checked against MemAvailable).

Each measurement runs in its own child process; peak memory is that process's VmHWM.
Usage: python bench/ndvi_qm.py [--sizes 2048 4096] [--dates 30] [--naive-size 2048] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
CACHE = 256 * 1024 * 1024


# -- the synthetic season ----------------------------------------------------------------------------

def _upsample(coarse: np.ndarray, size: int) -> np.ndarray:
    f = size // coarse.shape[0]
    return np.repeat(np.repeat(coarse, f, axis=0), f, axis=1)[:size, :size]


def generate(folder: Path, size: int, dates: int, interleave: str, seed: int = 0) -> list[Path]:
    """Fields of 4 crops with their own NDVI curve, soil/vegetation spectra, noise and clouds."""
    from osgeo import gdal

    from crops_engine.raster import epsg_wkt

    gdal.UseExceptions()
    marker = folder / "season.json"
    spec = {"size": size, "dates": dates, "interleave": interleave, "seed": seed}
    files = [folder / f"S2_{date(2019, 3, 1) + timedelta(days=7 * t):%Y%m%d}.tif" for t in range(dates)]
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return files
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.glob("S2_*"):
        p.unlink()
    rng = np.random.default_rng(seed)
    fields = _upsample(rng.integers(0, 4, size=(size // 32, size // 32)).astype(np.uint8), size)  # 320 m fields
    brightness = _upsample(rng.normal(1.0, 0.08, size=(size // 32, size // 32)).astype(np.float32), size)
    noise = rng.normal(0, 25, size=(size, size)).astype(np.float32)
    soil = np.array([900, 1200, 1500, 1700, 1800, 1900, 2000, 2100, 2600, 2300], dtype=np.float32)
    veg = np.array([300, 600, 250, 900, 2500, 3200, 3600, 3700, 1800, 900], dtype=np.float32)
    peaks = np.array([0.3, 0.45, 0.6, 0.75])
    options = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", "ZLEVEL=1", "PREDICTOR=2",
               f"INTERLEAVE={interleave}", "NUM_THREADS=2", "BIGTIFF=IF_SAFER"]
    gt = (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0)
    for t, path in enumerate(files):
        phase = t / max(1, dates - 1)
        cover = np.exp(-((phase - peaks) ** 2) / 0.02).astype(np.float32)[fields] * brightness
        cover = np.clip(cover, 0, 1)
        ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, len(BANDS), gdal.GDT_UInt16, options)
        ds.SetGeoTransform(gt)
        ds.SetProjection(epsg_wkt(32631))
        ds.SetMetadata({"ACQUISITION_DATE": path.stem[3:7] + "-" + path.stem[7:9] + "-" + path.stem[9:11]})
        shift = rng.integers(0, size, size=2)
        shifted = np.roll(noise, tuple(shift), axis=(0, 1))
        if interleave == "PIXEL":
            stack = np.empty((len(BANDS), size, size), dtype=np.uint16)
        for b, name in enumerate(BANDS):
            value = soil[b] + (veg[b] - soil[b]) * cover + shifted
            arr = np.clip(value, 1, 10000).astype(np.uint16)
            if interleave == "PIXEL":
                stack[b] = arr
            else:
                ds.GetRasterBand(b + 1).WriteArray(arr)
            ds.GetRasterBand(b + 1).SetDescription(name)
            ds.GetRasterBand(b + 1).SetNoDataValue(0)
        if interleave == "PIXEL":
            ds.WriteArray(stack)
            del stack
        ds = None
        scl = _scl(rng, size)
        m = gdal.GetDriverByName("GTiff").Create(str(path.with_name(path.stem + "_SCL.tif")), size, size, 1,
                                                 gdal.GDT_Byte, options[:-3] + ["NUM_THREADS=2"])
        m.SetGeoTransform(gt)
        m.SetProjection(epsg_wkt(32631))
        m.GetRasterBand(1).WriteArray(scl)
        m.GetRasterBand(1).SetNoDataValue(0)
        m = None
    marker.write_text(json.dumps(spec))
    return files


def _smooth(rng: np.random.Generator, size: int, cell: int) -> np.ndarray:
    """A smooth random field in [0, 1): a coarse grid, bilinearly interpolated (two matrix products)."""
    n = size // cell + 2
    coarse = rng.random((n, n)).astype(np.float32)
    pos = np.arange(size, dtype=np.float32) / cell
    lo = np.floor(pos).astype(int)
    weights = np.zeros((size, n), dtype=np.float32)
    weights[np.arange(size), lo] = 1 - (pos - lo)
    weights[np.arange(size), lo + 1] = pos - lo
    return weights @ coarse @ weights.T


def _scl(rng: np.random.Generator, size: int) -> np.ndarray:
    """Sen2Cor-like classes: cloud cover per date drawn like the Flanders 2019 season (about a
    quarter of the dates all cloudy, a third clear, the rest partly), clouds ~2.5 km blobs with
    shadow rims, vegetation / bare soil elsewhere."""
    cover = rng.choice([0.0, 0.02, 0.15, 0.4, 0.75, 1.0], p=[0.2, 0.15, 0.15, 0.15, 0.1, 0.25])
    field = _smooth(rng, size, 256)
    scl = np.where(_smooth(rng, size, 64) < 0.6, 4, 5).astype(np.uint8)
    if cover >= 1.0:
        scl[:] = 9
    elif cover > 0:
        sample = field[:: max(1, size // 256), :: max(1, size // 256)]
        threshold = float(np.quantile(sample, 1 - cover))
        scl[field > threshold - 0.03] = 3
        scl[field > threshold] = 8
        scl[field > threshold + 0.1] = 9
    return scl


# -- the measurements (each in a child process) ---------------------------------------------------------

def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_mib(key: str) -> float | None:
    """A memory figure of this process from /proc/self/status (`VmHWM`, `VmRSS`), in MiB; None off Linux."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith(f"{key}:")), None)


def _peak_mib() -> float:
    peak = _status_mib("VmHWM")
    if peak is not None:
        return peak
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _inputs(folder: Path) -> list[Path]:
    return sorted(folder.glob("S2_*.tif"))


def child_floor(folder: Path, threads: int) -> dict:
    from osgeo import gdal

    gdal.UseExceptions()
    gdal.SetCacheMax(CACHE)
    files = _inputs(folder)
    nbytes = [0] * threads

    def read_files(k: int) -> None:
        for path in files[k::threads]:
            ds = gdal.Open(str(path))
            bx, by = ds.GetRasterBand(1).GetBlockSize()
            for y in range(0, ds.RasterYSize, by):
                for x in range(0, ds.RasterXSize, bx):
                    w, h = min(bx, ds.RasterXSize - x), min(by, ds.RasterYSize - y)
                    nbytes[k] += len(ds.ReadRaster(x, y, w, h))
            ds = None

    start, cpu = time.perf_counter(), _cpu_seconds()
    workers = [threading.Thread(target=read_files, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return {"seconds": time.perf_counter() - start, "cpu": _cpu_seconds() - cpu, "bytes": sum(nbytes),
            "peak_mib": _peak_mib()}


def child_compositor(folder: Path, out: Path) -> dict:
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.progress import Progress
    from crops_engine.scenes import load_scenes

    marks: dict[str, float] = {}

    def reporter(event: str, payload: dict) -> None:
        if event == "progress" and payload["value"] >= 0.85 and "windows" not in marks:
            marks["windows"] = time.perf_counter()

    start, cpu = time.perf_counter(), _cpu_seconds()
    scenes = load_scenes(folder=folder, pattern="S2_*.tif")
    ndvi_quality_mosaic(scenes, out / "qm.tif", CompositeOptions(), out / "qm_qa.tif", Progress(reporter))
    end = time.perf_counter()
    return {"seconds": end - start, "windows_seconds": marks.get("windows", end) - start,
            "cpu": _cpu_seconds() - cpu, "peak_mib": _peak_mib()}


def child_naive(folder: Path, out: Path) -> dict:
    """Load everything, argmax over dates, write: the obvious implementation."""
    from osgeo import gdal

    from crops_engine.raster import Grid, create_geotiff, finish_geotiff

    gdal.UseExceptions()
    start, cpu = time.perf_counter(), _cpu_seconds()
    files = _inputs(folder)
    scenes = [p for p in files if not p.stem.endswith("_SCL")]
    first = gdal.Open(str(scenes[0]))
    stack = np.empty((len(scenes), first.RasterCount, first.RasterYSize, first.RasterXSize), dtype=np.uint16)
    scl = np.empty((len(scenes), first.RasterYSize, first.RasterXSize), dtype=np.uint8)
    for t, p in enumerate(scenes):
        gdal.Open(str(p)).ReadAsArray(buf_obj=stack[t])
        gdal.Open(str(p.with_name(p.stem + "_SCL.tif"))).ReadAsArray(buf_obj=scl[t])
    s = np.float32(0.0001)
    red, nir = stack[:, 2].astype(np.float32) * s, stack[:, 6].astype(np.float32) * s
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (nir - red) / (nir + red)
    del red, nir
    valid = (stack[:, 2] != 0) & (stack[:, 6] != 0) & ~np.isin(scl, (0, 1, 3, 8, 9, 10)) & np.isfinite(v)
    v[~valid] = -np.inf
    best = np.argmax(v, axis=0)
    found = valid.any(axis=0)
    composite = np.take_along_axis(stack, best[None, None], axis=0)[0]
    composite[:, ~found] = 0
    ds = create_geotiff(out / "naive.tif", Grid.of(first), composite.shape[0], np.uint16, 0)
    for b in range(composite.shape[0]):
        ds.GetRasterBand(b + 1).WriteArray(composite[b])
    finish_geotiff(ds, overviews=False)
    return {"seconds": time.perf_counter() - start, "cpu": _cpu_seconds() - cpu, "peak_mib": _peak_mib()}


def run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def mem_available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--interleave", choices=["PIXEL", "BAND"], default="PIXEL")
    parser.add_argument("--naive-size", type=int, default=2048, help="run the naive one only at this size")
    parser.add_argument("--workdir", default="/tmp/crops-bench-ndvi-qm")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, folder, *rest = args.child
        if kind == "floor":
            result = child_floor(Path(folder), int(rest[0]))
        elif kind == "compositor":
            result = child_compositor(Path(folder), Path(rest[0]))
        else:
            result = child_naive(Path(folder), Path(rest[0]))
        print(json.dumps(result))
        return

    work = Path(args.workdir)
    rows = []
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    for size in args.sizes:
        folder = work / f"season_{size}"
        out = work / f"out_{size}"
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        generate(folder, size, args.dates, args.interleave)
        on_disk = sum(p.stat().st_size for p in _inputs(folder)) / 2**30
        print(f"[{size}] season ready in {time.perf_counter() - t0:.0f} s ({on_disk:.2f} GiB on disk)", flush=True)
        floor1 = run_child("floor", str(folder), "1")
        print(f"[{size}] floor 1 thread: {floor1}", flush=True)
        floor2 = run_child("floor", str(folder), "2")
        print(f"[{size}] floor 2 threads: {floor2}", flush=True)
        comp = run_child("compositor", str(folder), str(out))
        print(f"[{size}] compositor: {comp}", flush=True)
        naive = None
        raw_mib = args.dates * (len(BANDS) * 2 + 1) * size * size / 2**20
        need_mib = raw_mib + args.dates * size * size * 14 / 2**20  # stack + masks + float32 NDVI and temporaries
        if size == args.naive_size and need_mib < 0.5 * mem_available_mib():
            naive = run_child("naive", str(folder), str(out))
            print(f"[{size}] naive: {naive}", flush=True)
        elif size == args.naive_size:
            print(f"[{size}] naive skipped: needs ~{need_mib:.0f} MiB, {mem_available_mib():.0f} MiB available")
        rows.append((size, floor1, floor2, comp, naive, raw_mib))

    print()
    print(f"NDVI quality mosaic, {args.dates} dates x {len(BANDS)} bands UInt16 + SCL, tiled 256, DEFLATE 1, "
          f"INTERLEAVE={args.interleave}; compositor 2 workers; load average now {os.getloadavg()[0]:.2f}")
    head = (f"{'size':>11} {'input':>8} | {'floor 1T':>13} {'floor 2T':>13} | {'compositor':>13} {'windows':>7} "
            f"{'/floor':>10} {'peak':>7} | {'naive':>13} {'peak':>7}")
    print(head)
    print(f"{'':>11} {'GiB':>8} | {'wall/cpu s':>13} {'wall/cpu s':>13} | {'wall/cpu s':>13} {'wall s':>7} "
          f"{'wall/cpu':>10} {'MiB':>7} | {'wall/cpu s':>13} {'MiB':>7}")
    print("-" * len(head))
    for size, f1, f2, c, n, raw in rows:
        best_floor = min(f1["seconds"], f2["seconds"])
        ratio = f"{c['seconds'] / best_floor:.2f}/{c['cpu'] / f1['cpu']:.2f}"
        naive = f"{n['seconds']:.1f}/{n['cpu']:.1f}" if n else "-"
        naive_m = f"{n['peak_mib']:.0f}" if n else "-"
        print(f"{size:>5}x{size:<5} {raw / 1024:>8.2f} | {f1['seconds']:>6.1f}/{f1['cpu']:<6.1f} "
              f"{f2['seconds']:>6.1f}/{f2['cpu']:<6.1f} | {c['seconds']:>6.1f}/{c['cpu']:<6.1f} "
              f"{c['windows_seconds']:>7.1f} {ratio:>10} {c['peak_mib']:>7.0f} | {naive:>13} {naive_m:>7}")
    print("input: uncompressed bytes the floor reads (scenes + masks). compositor: from listing the scenes to the "
          "renamed outputs (composite + QA + overviews + styles); windows: until the last window was written. "
          "/floor: compositor wall time over the faster floor, and its CPU time over the 1-thread floor's. "
          "peak: VmHWM of the measuring process. naive: load the stack, argmax, write (no overviews).")


if __name__ == "__main__":
    main()

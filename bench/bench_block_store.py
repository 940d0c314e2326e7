"""Read throughput of the block store's compression choices at 224 x 224 x 10 float32 blocks.

Prints blocks/s for random-order single-block reads (what a training DataLoader does) and
the file size, for lzf, gzip level 1 and no compression (with and without the shuffle
filter), on synthetic Sentinel-2-like blocks: field patches of integral DN values + noise,
some nodata (NaN). Then times build_block_store on a GeoTIFF of the same kind.

    .venv/bin/python bench/bench_block_store.py [--blocks 48] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff  # noqa: E402

C, B = 10, 224


def fields(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(C, H, W) float32 DN-like image: rectangular fields of per-band means, noise, 2% NaN."""
    out = np.empty((C, height, width), dtype=np.float32)
    ys = np.sort(rng.integers(0, height, 3 + height // 40))
    xs = np.sort(rng.integers(0, width, 3 + width // 40))
    field = np.add.outer(np.searchsorted(ys, np.arange(height)) * 97, np.searchsorted(xs, np.arange(width)))
    means = rng.uniform(300, 4000, (C, field.max() + 1))
    for c in range(C):
        out[c] = np.round(means[c][field] + rng.normal(0, 40, (height, width)))
    out[:, rng.random((height, width)) < 0.02] = np.nan
    return out


def read_once(path: Path, order: np.ndarray) -> tuple[float, float]:
    """Seconds (wall, this process's CPU) to read the blocks of `path` in `order`, one at a time."""
    with h5py.File(path, "r") as h5:
        ds = h5["images"]
        t, c = time.perf_counter(), time.process_time()
        for i in order:
            ds[int(i)]
        return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    blocks = np.stack([fields(rng, B, B) for _ in range(a.blocks)])
    raw_mb = blocks.nbytes / 2**20
    print(f"{a.blocks} blocks of {C}x{B}x{B} float32 ({raw_mb:.0f} MiB raw); random single-block reads, best of "
          f"{a.repeats} interleaved rounds")
    variants = {
        "lzf": dict(compression="lzf"),
        "lzf+shuffle": dict(compression="lzf", shuffle=True),
        "gzip1": dict(compression="gzip", compression_opts=1),
        "gzip1+shuffle": dict(compression="gzip", compression_opts=1, shuffle=True),
        "none": dict(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        paths, writes = {}, {}
        for name, opts in variants.items():
            paths[name] = Path(tmp) / f"{name}.h5"
            t = time.perf_counter()
            with h5py.File(paths[name], "w") as h5:
                ds = h5.create_dataset("images", blocks.shape, np.float32, chunks=(1, C, B, B), **opts)
                for i in range(len(blocks)):
                    ds[i] = blocks[i]
            writes[name] = a.blocks / (time.perf_counter() - t)
        # Rounds interleave the variants so load from other processes hits them alike; best round kept.
        # The CPU-time rate is the one to compare on a shared machine.
        order = np.random.default_rng(1).permutation(a.blocks)
        best = {name: [float("inf"), float("inf")] for name in variants}
        for _ in range(a.repeats):
            for name in variants:
                wall, cpu = read_once(paths[name], order)
                best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
        for name in variants:
            size = paths[name].stat().st_size / 2**20
            wall, cpu = best[name]
            print(f"  {name:14s} read {a.blocks / wall:7.1f} blocks/s wall, {a.blocks / cpu:7.1f} blocks/s CPU  "
                  f"write {writes[name]:6.1f} blocks/s  size {size:6.1f} MiB ({size / raw_mb:.0%})")
        side = B * int(np.ceil(np.sqrt(a.blocks)))
        image = fields(rng, side, side)
        grid = Grid(side, side, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
        tif = Path(tmp) / "composite.tif"
        ds = create_geotiff(tif, grid, C, np.float32, nodata=float("nan"))
        for c in range(C):
            ds.GetRasterBand(c + 1).WriteArray(image[c])
        finish_geotiff(ds, overviews=False)
        del ds  # the file is complete only once the last reference is gone
        for comp in ("lzf", "gzip"):  # gzip here is level 1 + shuffle
            t = time.perf_counter()
            out = build_block_store(tif, Path(tmp) / f"store-{comp}.h5", block_size=B, compression=comp)
            dt = time.perf_counter() - t
            with BlockStore(out["output"]) as store:
                t2 = time.perf_counter()
                for i in np.random.default_rng(2).permutation(len(store)):
                    store.inputs(int(i))
                rate = len(store) / (time.perf_counter() - t2)
            print(f"  build_block_store {side}x{side}x{C} ({comp}): {dt:.2f} s, {out['blocks'] / dt:.1f} blocks/s; "
                  f"BlockStore.inputs (read + normalise) {rate:.1f} blocks/s")


if __name__ == "__main__":
    main()

"""Time of one SPCL adaptation step against one plain supervised step of the same model and batch.

A supervised step: the student's forward pass on B blocks, cross-entropy, backward, AdamW step.
An SPCL step (`adapt.spcl.SPCL`, as `run_adaptation` drives it): reading the B easy blocks from the
store (the hard batch is prefetched by the runner, so it is given ready, as the supervised batch
is), the teacher on 2B blocks (easy + hard, no gradient), the prototype update, ClassMix, the
student's forward pass on the B mixed blocks, mix CE + contrastive loss, backward, AdamW step and
the EMA update. Both use the same model, batch size and block size; mixed precision on CUDA.
Steps of the two kinds alternate, so both see the same load on a shared machine. Prints the median
seconds per step of each, their ratio (goal: under 2) and the easy-block read time.

    .venv/bin/python bench/adapt_speed.py [--block-size 224] [--batch-size 8] [--steps 6] [--device auto]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crops_engine.adapt.method import AdaptationContext  # noqa: E402
from crops_engine.adapt.spcl import SPCL, SpclConfig  # noqa: E402
from crops_engine.adapt.target import TargetBlocks  # noqa: E402
from crops_engine.batches import BatchStream  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store, write_partition  # noqa: E402
from crops_engine.checkpoint import load_model, save_checkpoint  # noqa: E402
from crops_engine.classes import CropClass  # noqa: E402
from crops_engine.device import amp_enabled, autocast, describe, grad_scaler, resolve_device  # noqa: E402
from crops_engine.models import build_model, parameter_count  # noqa: E402
from crops_engine.progress import silent  # noqa: E402
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff  # noqa: E402
from crops_engine.schedule import build_optimizer  # noqa: E402

BANDS = 10
CLASSES = [CropClass(i, f"class {i}", f"#{40 * i:02x}{200 - 30 * i:02x}80", None) for i in range(5)]


def write_store(folder: Path, block_size: int, blocks_per_side: int) -> Path:
    """A target store of blocks_per_side^2 blocks of field-like random features, half easy, half hard."""
    rng = np.random.default_rng(0)
    size = block_size * blocks_per_side
    grid = Grid(size, size, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), epsg_wkt(32631))
    field = (np.arange(size)[:, None] // 24) * 131 + np.arange(size)[None, :] // 24
    composite = folder / "composite.tif"
    ds = create_geotiff(composite, grid, BANDS, np.float32, -9999.0, [f"b{i}" for i in range(BANDS)])
    for b in range(BANDS):
        means = rng.uniform(0.02, 0.5, field.max() + 1)
        ds.GetRasterBand(b + 1).WriteArray((means[field] + rng.normal(0, 0.01, field.shape)).astype(np.float32))
    finish_geotiff(ds)
    del ds  # GDAL writes the last blocks when the dataset is released
    store = folder / "target.h5"
    build_block_store(composite, store, block_size=block_size)
    n = len(BlockStore(store))
    write_partition(store, np.linspace(1, 0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    return store


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(fn, i: int, device: torch.device) -> float:
    synchronise(device)
    t = time.perf_counter()
    fn(i)
    synchronise(device)
    return time.perf_counter() - t


def interleaved(first, second, steps: int, warmup: int, device: torch.device) -> tuple[list[float], list[float]]:
    """Seconds of each step of `first` and `second`, alternating, so both see the same machine load."""
    a, b = [], []
    for i in range(warmup + steps):
        ta, tb = seconds(first, i, device), seconds(second, i, device)
        if i >= warmup:
            a.append(ta)
            b.append(tb)
    return a, b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block-size", type=int, default=224)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6, help="timed steps of each kind (after --warmup)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--arch", default="unet", choices=["unet", "transunet"])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = resolve_device(a.device)
    amp = amp_enabled(device, True)
    b = a.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        side = max(2, int(np.ceil(np.sqrt(2 * b))))
        store_path = write_store(folder, a.block_size, side)
        store = BlockStore(store_path)
        torch.manual_seed(0)
        arch_args = {"img_size": a.block_size} if a.arch == "transunet" else {}
        model = build_model(a.arch, BANDS, len(CLASSES), **arch_args)
        checkpoint = folder / "source.safetensors"
        meta = {"features": store.feature_names, "classes": CLASSES, "block_size": a.block_size,
                "normalisation": {"mean": store.mean.tolist(), "std": store.std.tolist()}}
        save_checkpoint(checkpoint, model, meta)
        print(f"{a.arch} ({parameter_count(model) / 1e6:.1f} M parameters) on {describe(device)}, AMP {amp}; "
              f"batch {b} x {BANDS} x {a.block_size} x {a.block_size}; {len(store)} blocks in the store")

        # -- plain supervised step --------------------------------------------------------------
        student, meta_obj = load_model(checkpoint, device)
        student.train()
        mean, std = meta_obj.normalisation["mean"], meta_obj.normalisation["std"]
        hard = TargetBlocks(store, mean, std, store.split("hard"))
        stream = BatchStream(hard, b, seed=0)
        batches = [stream.batch(s) for s in range(a.steps + a.warmup)]
        gen = torch.Generator().manual_seed(0)
        labels = [torch.randint(0, len(CLASSES), (b, a.block_size, a.block_size), generator=gen) for _ in batches]
        optimizer = build_optimizer(student, 1e-4)
        scaler = grad_scaler(device, True)

        def supervised(i: int) -> None:
            x = batches[i]["image"].to(device, non_blocking=True)
            y = labels[i].to(device, non_blocking=True)
            with autocast(device, amp):
                logits = student(x).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), y, ignore_index=255)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

        # -- SPCL step ------------------------------------------------------------------------------
        spcl_student, _ = load_model(checkpoint, device)
        spcl_student.train()
        total = a.steps + a.warmup
        cfg = SpclConfig(model=str(checkpoint), blocks=str(store_path), output=str(folder / "a.safetensors"),
                         iterations=total, batch_size=b, device=str(device), init_blocks=b)
        method = SPCL(cfg, spcl_student, silent())
        spcl_optimizer = build_optimizer(spcl_student, cfg.lr)
        spcl_scaler = grad_scaler(device, True)
        context = AdaptationContext(cfg, meta_obj, hard, device, amp, total, silent())
        method.setup(context)

        def spcl(i: int) -> None:
            batch = {k: v.to(device, non_blocking=True) for k, v in batches[i].items()}
            loss, _ = method.loss(batch, i)
            spcl_optimizer.zero_grad(set_to_none=True)
            spcl_scaler.scale(loss).backward()
            spcl_scaler.step(spcl_optimizer)
            spcl_scaler.update()
            method.after_step(i)

        sup, adapted = interleaved(supervised, spcl, a.steps, a.warmup, device)
        assert method.easy is not None
        reads = [seconds(lambda i: method.easy.draw(i, 0, b), i, device) for i in range(a.steps)]
        store.close()

    s, p, r = statistics.median(sup), statistics.median(adapted), statistics.median(reads)
    print(f"supervised step : {s:.3f} s (median of {len(sup)})")
    print(f"SPCL step       : {p:.3f} s (median of {len(adapted)}), of which reading the easy blocks {r:.3f} s")
    print(f"ratio SPCL / supervised: {p / s:.2f} (goal < 2)")


if __name__ == "__main__":
    main()

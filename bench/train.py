"""Training throughput (blocks/s) against a bare forward + backward loop of the same model and batch.

The bare loop feeds random tensors already in memory, so the difference is what the data path
costs (reading HDF5, normalising, augmenting, batching, the prefetch thread) plus the loop's own
bookkeeping. Each side runs `--repeats` times, alternating, and the fastest run of each counts.
Wall-clock and CPU time (all threads of the process) are both shown: on a shared CPU the CPU
time is the steadier measure of what the data path costs. Without `--blocks` a sample scene is
generated and composited, and a store of 64 px blocks is built from it in a temporary folder.

    .venv/bin/python bench/train.py [--blocks store.h5] [--steps 24] [--batch-size 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.losses import SegmentationLoss  # noqa: E402
from crops_engine.models import build_model  # noqa: E402
from crops_engine.schedule import build_optimizer  # noqa: E402
from crops_engine.train import TrainConfig, resolve_arch_args, train_source  # noqa: E402


def sample_store(folder: Path, size: int, block_size: int) -> Path:
    from crops_engine.composite import ndvi_quality_mosaic
    from crops_engine.scenes import load_scenes
    from crops_engine.synth import generate_scene

    generate_scene(folder / "source", size=size, seed=0)
    scenes = load_scenes([], str(folder / "source" / "scenes"), "S2_L2A_????????.tif", "_SCL", None, None)
    ndvi_quality_mosaic(scenes, folder / "composite.tif")
    store = folder / "blocks.h5"
    build_block_store(folder / "composite.tif", store, labels=folder / "source" / "labels.tif",
                      block_size=block_size, val_fraction=0.2)
    return store


def bare_loop(
    arch: str, arch_args: dict, channels: int, classes: int, block: int, batch: int, steps: int
) -> tuple[float, float]:
    """(wall, CPU) seconds for `steps` forward + backward + AdamW steps on random tensors (same model, loss,
    optimiser)."""
    torch.manual_seed(0)
    model = build_model(arch, channels, classes, **arch_args).train()
    optimizer = build_optimizer(model, 1e-3)
    loss_fn = SegmentationLoss()
    x = torch.randn(batch, channels, block, block)
    y = torch.randint(0, classes, (batch, block, block))
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss = loss_fn(model(x).logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        float(loss.detach())
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", help="labelled block store (default: build one from a sample scene)")
    parser.add_argument("--size", type=int, default=256, help="sample scene size when building a store")
    parser.add_argument("--block-size", type=int, default=64, help="block size when building a store")
    parser.add_argument("--arch", default="unet")
    parser.add_argument("--encoder", default="")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="crops-bench-train-") as tmp:
        tmp = Path(tmp)
        store_path = Path(args.blocks) if args.blocks else sample_store(tmp, args.size, args.block_size)
        with BlockStore(store_path) as store:
            channels, classes, block = len(store.feature_names), store.num_classes, store.block_size
            n_train = len(store.split("train"))
        arch_args = resolve_arch_args(args.arch, args.encoder, block)
        print(f"store {store_path}: {channels} features, {classes} classes, {block} px blocks, {n_train} train blocks")
        print(f"model {args.arch} {arch_args}, batch {args.batch_size}, {args.steps} steps, {args.threads} threads")

        bare_times, bare_cpus, train_times, train_cpus, waits = [], [], [], [], []
        for r in range(args.repeats):
            wall, cpu = bare_loop(args.arch, arch_args, channels, classes, block, args.batch_size, args.steps)
            bare_times.append(wall)
            bare_cpus.append(cpu)
            # validate only at the very end: the step loop alone is timed (train_seconds excludes validation)
            result = train_source(TrainConfig(
                blocks=str(store_path), output=str(tmp / f"bench{r}.safetensors"), arch=args.arch,
                encoder=args.encoder, iterations=args.steps, batch_size=args.batch_size, device="cpu",
                val_every=args.steps,
            ))
            train_times.append(result["train_seconds"])
            train_cpus.append(result["train_cpu_seconds"])
            waits.append(result["data_wait_seconds"])
            print(f"  run {r + 1}: bare {bare_times[-1]:.2f} s ({bare_cpus[-1]:.2f} s CPU), training loop "
                  f"{train_times[-1]:.2f} s ({train_cpus[-1]:.2f} s CPU, waiting for data {waits[-1]:.2f} s)")

    blocks = args.steps * args.batch_size
    bare, train = min(bare_times), min(train_times)
    wait = waits[train_times.index(train)]
    bare_cpu, train_cpu = min(bare_cpus), min(train_cpus)
    print(f"bare forward+backward: {blocks / bare:.2f} blocks/s ({blocks / bare_cpu:.2f} blocks per CPU second)")
    print(f"training loop:         {blocks / train:.2f} blocks/s ({blocks / train_cpu:.2f} blocks per CPU second)")
    print(f"overhead of the data path and loop: {100 * (train - bare) / train:.1f} % of the training time, "
          f"{100 * (train_cpu - bare_cpu) / train_cpu:.1f} % of its CPU time "
          f"(time blocked waiting for the next batch: {100 * wait / train:.1f} %)")

if __name__ == "__main__":
    main()

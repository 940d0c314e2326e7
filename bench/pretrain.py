"""The pretraining benchmark: label efficiency of SimSiam-pretrained source models, before and after SPCL, and
the speed of a pretraining step; prints its tables and writes bench/results/pretrain.json.

Label efficiency. Per suite and seed: source models trained with 5 %, 20 % and 100 % of the labelled source
blocks (nested random subsets of the seed, each with at least two classes), each from three starts:
- random: the encoder's random initialisation (what `train_source` does without PRETRAINED);
- simsiam source+target: the encoder pretrained with SimSiam on the unlabelled source and target blocks
  (the stores built from both composites; labels never read);
- simsiam target: pretrained on the target blocks alone.
Pretrained starts are fine-tuned with the encoder at ENCODER_LR_SCALE x the LR of the decoder. Every source model
is scored on the target (all labelled target pixels, each once), then adapted with SPCL (its defaults; the
target store partitioned by that model) and scored again. Under the table, per suite and fraction, the paired
difference of each pretrained start against random of the same seed (mean +- standard error over seeds, seeds
won), before and after SPCL: the goal is a clear gain at 5-20 % labels, and SPCL from a pretrained source model
at least as good as from a random one.

Suites: synthetic (the sample generator's source and target presets, SIZE px, blocks of 32 px without overlap;
the seed draws the landscapes, the subsets, initialisation and batches) and real (../shared/data/worldcereal,
Flanders 2018 -> 2019, maize vs. other, NDVI-QM composites over March..October; blocks of 16 px with stride 8 for
training, pretraining and SPCL, without overlap for scoring: the patches are 64 px, so 32 px blocks would leave 9).

Speed. On random tensors, SimSiam's forward + backward + SGD step of two views (the floor) and the supervised
U-Net step of the same encoder and batch; in a pretraining run, the time per step and the time the data path
takes to build one batch (reading, normalising, two augmented views) alone in this thread, as a share of a step.

Hyper-parameters (pretraining LR and steps, encoder LR scale, source steps) were chosen on seeds 11-12 of the
synthetic suite, which the results do not report. Everything runs on the CPU with `--threads` torch threads.

    .venv/bin/python bench/pretrain.py [--suites synthetic,real] [--seeds 0,1,2] [--fractions 0.05,0.2,1]
        [--work DIR] [--no-speed] [--speed-only] [--combine A.json B.json]

On a 2-core machine, two processes with part of the seeds each (`--seeds 0,1 --no-speed` and `--seeds 2
--speed-only` ...) and `--combine` of their result files take about half the wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from crops_engine.adapt import adapt, make_config  # noqa: E402
from crops_engine.block_dataset import model_inputs  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.checkpoint import load_model  # noqa: E402
from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic  # noqa: E402
from crops_engine.metrics import ConfusionAccumulator, per_class_iou  # noqa: E402
from crops_engine.partition import PartitionOptions, partition  # noqa: E402
from crops_engine.pretrain.run import PretrainConfig, build_simsiam, pretrain  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.scenes import load_scenes, parse_date  # noqa: E402
from crops_engine.synth import generate_scene, preset  # noqa: E402
from crops_engine.train import TrainConfig, train_source  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORLDCEREAL = ROOT.parent / "shared" / "data" / "worldcereal"
REAL_CLASS_MAP = "1200=maize; *=other; 0=ignore"
INITS = ("random", "simsiam source+target", "simsiam target")


# -- data -----------------------------------------------------------------------------------------------------


def composite(scene_folder: Path, output: Path, start: str | None = None, end: str | None = None) -> Path:
    scenes = load_scenes([], str(scene_folder), "S2_L2A_????????.tif", "_SCL", parse_date(start), parse_date(end))
    ndvi_quality_mosaic(scenes, output, CompositeOptions(workers=1))
    return output


def synthetic_pair(work: Path, seed: int, size: int) -> dict[str, Any]:
    generate_scene(work / "source", preset("source"), size=size, seed=seed)
    generate_scene(work / "target", preset("target"), size=size, seed=seed)
    return {"source_composite": composite(work / "source" / "scenes", work / "source.tif"),
            "target_composite": composite(work / "target" / "scenes", work / "target.tif"),
            "source_labels": work / "source" / "labels.tif", "target_labels": work / "target" / "labels.tif",
            "class_map": None, "block": 32, "stride": 32}


def real_pair(work: Path) -> dict[str, Any]:
    source, target = WORLDCEREAL / "flanders2018_31UDS", WORLDCEREAL / "flanders2019_31UES"
    return {"source_composite": composite(source / "scenes", work / "source.tif", "2018-03-01", "2018-10-31"),
            "target_composite": composite(target / "scenes", work / "target.tif", "2019-03-01", "2019-10-31"),
            "source_labels": source / "labels_crop_type.tif", "target_labels": target / "labels_crop_type.tif",
            "class_map": REAL_CLASS_MAP, "block": 16, "stride": 8}


def build_stores(pair: dict[str, Any], work: Path) -> dict[str, Path]:
    block, stride, cmap = pair["block"], pair["stride"], pair["class_map"]
    stores = {"source": work / "source.h5", "target": work / "target.h5", "scoring": work / "scoring.h5"}
    build_block_store(pair["source_composite"], stores["source"], labels=pair["source_labels"], class_map=cmap,
                      block_size=block, stride=stride, val_fraction=0.0)
    build_block_store(pair["target_composite"], stores["target"], block_size=block, stride=stride, val_fraction=0.0)
    build_block_store(pair["target_composite"], stores["scoring"], labels=pair["target_labels"], class_map=cmap,
                      block_size=block, val_fraction=0.0)
    return stores


def nested_subsets(store: Path, fractions: list[float], seed: int) -> dict[float, np.ndarray]:
    """Nested random subsets of the labelled blocks (one permutation per seed), each with at least two classes
    (extended block by block in the permutation's order until it has)."""
    with BlockStore(store) as s:
        counts = s.class_counts()
    labelled = np.flatnonzero(counts.sum(axis=1) > 0)
    order = labelled[np.random.default_rng([seed, 1234]).permutation(len(labelled))]
    out = {}
    for f in fractions:
        n = max(1, math.ceil(f * len(order)))
        while n < len(order) and (counts[order[:n]].sum(axis=0) > 0).sum() < 2:
            n += 1
        out[f] = np.sort(order[:n])
    return out


def set_training_blocks(store: Path, train: np.ndarray) -> None:
    with h5py.File(store, "r+") as h5:
        for key in ("split/train", "split/val"):
            if key in h5:
                del h5[key]
        h5.create_dataset("split/train", data=np.asarray(train, dtype=np.int64))
        h5.create_dataset("split/val", data=np.zeros(0, dtype=np.int64))


# -- scoring --------------------------------------------------------------------------------------------------


def score(model_path: Path, scoring: Path) -> dict[str, Any]:
    model, meta = load_model(model_path)
    with BlockStore(scoring) as store:
        names = [c.name for c in store.classes]
        acc = ConfusionAccumulator(len(names))
        for start in range(0, len(store), 32):
            idx = np.arange(start, min(start + 32, len(store)))
            x, _ = model_inputs(store, meta, idx)
            with torch.inference_mode():
                pred = model(torch.from_numpy(x), embed=False).logits.argmax(1).numpy()
            acc.update(pred, store.labels(idx))
    iou = per_class_iou(acc.matrix)
    return {"miou": float(acc.mean_iou), "iou": {n: (None if math.isnan(v) else float(v))
                                                 for n, v in zip(names, iou, strict=True)}}


# -- one suite item -------------------------------------------------------------------------------------------


def arch_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"encoder": args.encoder, "decoder_channels": [32, 16, 16, 16, 16], "embedding_dim": 16}


def run_item(pair: dict[str, Any], work: Path, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    item: dict[str, Any] = {"block": pair["block"], "stride": pair["stride"]}
    stores = build_stores(pair, work)
    with BlockStore(stores["source"]) as s:
        item["source_blocks"] = len(s)
    t0 = time.perf_counter()
    encoders = {}
    for init, inputs in (("simsiam source+target", [stores["source"], stores["target"]]),
                         ("simsiam target", [stores["target"]])):
        out = work / f"encoder_{init.split()[-1].replace('+', '_')}.safetensors"
        res = pretrain(PretrainConfig(
            output=str(out), blocks=[str(p) for p in inputs], arch_args=arch_args(args),
            iterations=args.pretrain_iterations, batch_size=args.pretrain_batch, lr=args.pretrain_lr, device="cpu",
            seed=seed, projection_dim=args.projection_dim, prediction_dim=args.projection_dim // 4,
        ), Progress())
        encoders[init] = out
        item[f"pretrain {init}"] = {"final_loss": res["final_loss"], "output_std": res["output_std"],
                                    "healthy_std": res["healthy_std"], "collapsed": res["collapsed"],
                                    "seconds": res["train_seconds"]}
    item["pretrain_seconds"] = time.perf_counter() - t0
    subsets = nested_subsets(stores["source"], args.fractions, seed)
    item["results"] = {}
    for fraction, blocks in subsets.items():
        fstore = work / f"source_{fraction:g}.h5"
        shutil.copyfile(stores["source"], fstore)
        set_training_blocks(fstore, blocks)
        for init in INITS:
            key = f"{fraction:g}|{init}"
            model = work / f"model_{fraction:g}_{init.split()[-1].replace('+', '_')}.safetensors"
            started = time.perf_counter()
            train_source(TrainConfig(
                blocks=str(fstore), output=str(model), arch="unet",
                arch_args=arch_args(args) if init == "random" else {k: v for k, v in arch_args(args).items()
                                                                    if k != "encoder"},
                pretrained=str(encoders[init]) if init != "random" else "",
                encoder_lr_scale=args.encoder_lr_scale if init != "random" else 1.0,
                iterations=args.source_iterations, batch_size=args.batch_size, lr=args.lr, device="cpu", seed=seed,
            ), Progress())
            train_seconds = time.perf_counter() - started
            before = score(model, stores["scoring"])
            target = work / "target_partitioned.h5"
            shutil.copyfile(stores["target"], target)
            started = time.perf_counter()
            partition(model, target, options=PartitionOptions(device="cpu"))
            adapted = work / "adapted.safetensors"
            cfg = make_config("spcl", model=str(model), blocks=str(target), output=str(adapted), device="cpu",
                              iterations=args.adapt_iterations, seed=seed)
            adapt("spcl", cfg, Progress())
            adapt_seconds = time.perf_counter() - started
            after = score(adapted, stores["scoring"])
            item["results"][key] = {"fraction": fraction, "init": init, "train_blocks": int(len(blocks)),
                                    "before": before, "after": after, "train_seconds": train_seconds,
                                    "adapt_seconds": adapt_seconds}
            print(f"    {fraction:>5g} {init:<22} blocks {len(blocks):>3}: target mIoU {before['miou']:.3f} -> "
                  f"SPCL {after['miou']:.3f}", file=sys.stderr, flush=True)
    return item


# -- speed ----------------------------------------------------------------------------------------------------


def speed(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Floor (random tensors) vs real pretraining step, the data path alone, and the supervised step."""
    from crops_engine.batches import BatchStream
    from crops_engine.losses import SegmentationLoss
    from crops_engine.models import build_model
    from crops_engine.pretrain.data import UnlabelledBlocks
    from crops_engine.pretrain.run import views_of_step
    from crops_engine.pretrain.simsiam import simsiam_loss
    from crops_engine.schedule import build_optimizer

    pair = synthetic_pair(work / "speed_data", 99, args.size)
    stores = build_stores(pair, work / "speed_data")
    block, batch, steps, channels = 32, args.pretrain_batch, args.speed_steps, 10

    def timed(fn: Any) -> float:
        fn(2)  # warm-up
        best = math.inf
        for _ in range(args.speed_repeats):
            start = time.perf_counter()
            fn(steps)
            best = min(best, (time.perf_counter() - start) / steps)
        return best

    torch.manual_seed(0)
    simsiam = build_simsiam("unet", arch_args(args), channels, args.projection_dim, args.projection_dim // 4).train()
    sgd = torch.optim.SGD(simsiam.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x1, x2 = torch.randn(batch, channels, block, block), torch.randn(batch, channels, block, block)

    def floor(n: int) -> None:
        for _ in range(n):
            loss = simsiam_loss(*simsiam(x1, x2))
            sgd.zero_grad(set_to_none=True)
            loss.backward()
            sgd.step()

    model = build_model("unet", channels, 5, **arch_args(args)).train()
    adamw = build_optimizer(model, 1e-3)
    loss_fn = SegmentationLoss()
    y = torch.randint(0, 5, (batch, block, block))

    def supervised(n: int) -> None:
        for _ in range(n):
            loss = loss_fn(model(x1).logits, y)
            adamw.zero_grad(set_to_none=True)
            loss.backward()
            adamw.step()

    with BlockStore(stores["source"]) as s:
        mean, std = list(s.mean), list(s.std)
    dataset = UnlabelledBlocks([str(stores["source"]), str(stores["target"])], mean, std)
    stream = BatchStream(dataset, batch, seed=0, augment=False)  # type: ignore[arg-type]

    def data(n: int) -> None:  # what the data thread does per step
        for step in range(n):
            views_of_step(dataset, stream, step, 0)

    floor_s, supervised_s, data_s = timed(floor), timed(supervised), timed(data)
    dataset.close()
    runs = []
    for _ in range(args.speed_repeats):
        res = pretrain(PretrainConfig(
            output=str(work / "speed.safetensors"), blocks=[str(stores["source"]), str(stores["target"])],
            arch_args=arch_args(args), iterations=steps, batch_size=batch, lr=args.pretrain_lr, device="cpu", seed=0,
            projection_dim=args.projection_dim, prediction_dim=args.projection_dim // 4,
        ), Progress())
        runs.append(res)
    best = min(runs, key=lambda r: r["train_seconds"])
    step_s = best["train_seconds"] / steps
    trained = train_source(TrainConfig(
        blocks=str(stores["source"]), output=str(work / "speed_model.safetensors"), arch_args=arch_args(args),
        iterations=steps, batch_size=batch, device="cpu", seed=0, val_every=steps,
    ), Progress())
    supervised_run_s = trained["train_seconds"] / steps
    return {
        "encoder": args.encoder, "block": block, "batch": batch, "channels": channels, "steps": steps,
        "repeats": args.speed_repeats, "threads": torch.get_num_threads(),
        "floor_step_ms": 1000 * floor_s, "pretrain_step_ms": 1000 * step_s,
        "pretrain_data_wait_ms": 1000 * best["data_wait_seconds"] / steps,
        "data_batch_ms": 1000 * data_s, "data_share_of_step": data_s / step_s,
        "supervised_floor_step_ms": 1000 * supervised_s, "supervised_step_ms": 1000 * supervised_run_s,
        "pretrain_vs_supervised": step_s / supervised_run_s,
    }


def speed_table(s: dict[str, Any]) -> str:
    return "\n".join([
        f"speed ({s['encoder']} U-Net encoder, {s['batch']} blocks of {s['block']} px x {s['channels']} bands, "
        f"{s['threads']} thread(s), best of {s['repeats']} x {s['steps']} steps)",
        f"  SimSiam step on random tensors (floor)      {s['floor_step_ms']:8.1f} ms",
        f"  SimSiam step in a pretraining run           {s['pretrain_step_ms']:8.1f} ms "
        f"(waiting for data {s['pretrain_data_wait_ms']:.1f} ms)",
        f"  data path alone: one batch, two views       {s['data_batch_ms']:8.1f} ms = "
        f"{100 * s['data_share_of_step']:.1f} % of a pretraining step (goal < 10 %)",
        f"  supervised U-Net step, random tensors       {s['supervised_floor_step_ms']:8.1f} ms",
        f"  supervised step in a train_source run       {s['supervised_step_ms']:8.1f} ms; pretraining step / "
        f"supervised step = {s['pretrain_vs_supervised']:.2f}",
    ])


# -- summary --------------------------------------------------------------------------------------------------


def _ms(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def table(items: list[dict[str, Any]], fractions: list[float]) -> str:
    lines = []
    for suite in dict.fromkeys(it["suite"] for it in items):
        its = [it for it in items if it["suite"] == suite]
        title = ("synthetic source -> target" if suite == "synthetic" else "real Flanders 2018 -> 2019")
        blocks = its[0]["source_blocks"]
        lines += ["", f"{title}: target mIoU, mean +- sd over {len(its)} seeds ({blocks} labelled source blocks of "
                      f"{its[0]['block']} px)",
                  f"{'labels':>7} {'start':<22} {'blocks':>6} {'source model':>15} {'after SPCL':>15}"]
        for f in fractions:
            for init in INITS:
                rs = [it["results"][f"{f:g}|{init}"] for it in its]
                b, bsd = _ms([r["before"]["miou"] for r in rs])
                a, asd = _ms([r["after"]["miou"] for r in rs])
                n = int(np.mean([r["train_blocks"] for r in rs]))
                lines.append(f"{f:>7.0%} {init:<22} {n:>6} {b:8.3f} +-{bsd:.3f} {a:8.3f} +-{asd:.3f}")
        for init in INITS[1:]:
            p = [it[f"pretrain {init}"] for it in its]
            lines.append(f"  pretraining {init}: final loss {_ms([x['final_loss'] for x in p])[0]:+.3f}, output spread "
                         f"{np.mean([x['output_std'] / x['healthy_std'] for x in p]):.0%} of even, collapsed "
                         f"{sum(x['collapsed'] for x in p)}/{len(p)}")
    return "\n".join(lines)


def paired(items: list[dict[str, Any]], fractions: list[float]) -> str:
    """Per suite and fraction: each pretrained start minus random of the same seed, before and after SPCL."""
    lines = ["", "paired over seeds: pretrained start - random start (mean +- se, seeds won)"]
    for suite in dict.fromkeys(it["suite"] for it in items):
        its = [it for it in items if it["suite"] == suite]
        for f in fractions:
            for init in INITS[1:]:
                parts = []
                for stage in ("before", "after"):
                    d = np.array([it["results"][f"{f:g}|{init}"][stage]["miou"]
                                  - it["results"][f"{f:g}|random"][stage]["miou"] for it in its])
                    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
                    parts.append(f"{'source' if stage == 'before' else 'SPCL'} {d.mean():+.3f} +- {se:.3f}, "
                                 f"wins {int((d > 0).sum())}/{len(d)}")
                lines.append(f"  {suite:<9} {f:>4.0%} {init:<22} " + "; ".join(parts))
    return "\n".join(lines)


def write_results(output: str, document: dict[str, Any]) -> None:
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    print(f"written {path}")


def render(document: dict[str, Any]) -> str:
    fractions = document["config"]["fractions"]
    text = table(document["items"], fractions) + "\n" + paired(document["items"], fractions) if document["items"] \
        else ""
    speeds = document.get("speed") or []
    for s in speeds if isinstance(speeds, list) else [speeds]:
        text += "\n\n" + speed_table(s)
    return text


def combine(files: list[str], output: str) -> None:
    documents = [json.loads(Path(f).read_text(encoding="utf-8")) for f in files]
    items = [it for d in documents for it in d["items"]]
    items.sort(key=lambda it: (it["suite"] != "synthetic", it["seed"]))
    speed_doc = []  # the speed measurements of every file, one per encoder (a later file's replaces an earlier's)
    for d in documents:
        for s in d.get("speed") or [] if isinstance(d.get("speed"), list) else [d["speed"]] if d.get("speed") else []:
            speed_doc = [x for x in speed_doc if x["encoder"] != s["encoder"]] + [s]
    document = {"combined_from": [{"file": f, "config": d["config"], "machine": d["machine"],
                                   "wall_seconds": d["wall_seconds"], "cpu_seconds": d.get("cpu_seconds")}
                                  for f, d in zip(files, documents, strict=True)],
                "config": documents[0]["config"], "wall_seconds": max(d["wall_seconds"] for d in documents),
                "cpu_seconds": sum(d.get("cpu_seconds") or 0 for d in documents),
                "items": items, "speed": speed_doc}
    document["table"] = render(document)
    print(document["table"])
    write_results(output, document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", default="synthetic,real")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--fractions", default="0.05,0.2,1")
    parser.add_argument("--size", type=int, default=256, help="synthetic scene size in pixels")
    parser.add_argument("--encoder", default="lcnet_050", help="timm encoder of the U-Net")
    parser.add_argument("--batch-size", type=int, default=8, help="blocks per source training step")
    parser.add_argument("--lr", type=float, default=3e-3, help="source training LR (AdamW)")
    parser.add_argument("--source-iterations", type=int, default=100)
    parser.add_argument("--encoder-lr-scale", type=float, default=1.0,
                        help="fine-tuning: encoder LR = LR x this (1.0 > 0.5 > 0.3 on the tuning seeds)")
    parser.add_argument("--pretrain-iterations", type=int, default=150)
    parser.add_argument("--pretrain-batch", type=int, default=32)
    parser.add_argument("--pretrain-lr", type=float, default=0.4, help="base LR per 256 blocks")
    parser.add_argument("--projection-dim", type=int, default=256)
    parser.add_argument("--adapt-iterations", type=int, default=50, help="SPCL steps")
    parser.add_argument("--speed-steps", type=int, default=10)
    parser.add_argument("--speed-repeats", type=int, default=2)
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", help="keep intermediate files here (default: a temporary folder, removed)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "pretrain.json"))
    parser.add_argument("--combine", nargs="+", metavar="JSON")
    args = parser.parse_args()
    args.fractions = [float(f) for f in args.fractions.split(",") if f.strip()]
    if args.combine:
        combine(args.combine, args.output)
        return
    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    suites = [] if args.speed_only else [s.strip() for s in args.suites.split(",") if s.strip()]
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="crops-bench-pretrain-"))
    started, cpu_started = time.perf_counter(), time.process_time()
    load_before = os.getloadavg()
    items: list[dict[str, Any]] = []
    speed_doc = None
    try:
        real = None
        for suite in suites:
            if suite == "real" and not (WORLDCEREAL / "flanders2019_31UES" / "scenes").is_dir():
                print(f"real suite skipped: {WORLDCEREAL} not found", file=sys.stderr)
                continue
            for seed in seeds:
                folder = work / f"{suite}_seed{seed}"
                folder.mkdir(parents=True, exist_ok=True)
                t0 = time.perf_counter()
                print(f"{suite} seed {seed}", file=sys.stderr, flush=True)
                if suite == "synthetic":
                    pair = synthetic_pair(folder / "data", seed, args.size)
                else:
                    if real is None:
                        (work / "real_data").mkdir(exist_ok=True)
                        real = real_pair(work / "real_data")
                    pair = real
                item = run_item(pair, folder, args, seed)
                item.update(suite=suite, seed=seed, seconds=time.perf_counter() - t0)
                items.append(item)
                if not args.work:
                    shutil.rmtree(folder, ignore_errors=True)
        if not args.no_speed:
            speed_doc = [speed(args, work)]
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    document = {
        "config": vars(args) | {"seeds": seeds, "suites": suites, "arch_args": arch_args(args)},
        "machine": {"cpus": os.cpu_count(), "threads": args.threads, "python": platform.python_version(),
                    "torch": torch.__version__, "load_average_start": load_before,
                    "load_average_end": os.getloadavg()},
        "wall_seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started,
        "items": items, "speed": speed_doc,
    }
    document["table"] = render(document)
    print(document["table"])
    print(f"\nwall time {document['wall_seconds'] / 60:.1f} min, CPU time {document['cpu_seconds'] / 60:.1f} min on "
          f"{os.cpu_count()} CPUs, {args.threads} torch thread(s); load average {load_before[0]:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    write_results(args.output, document)


if __name__ == "__main__":
    main()

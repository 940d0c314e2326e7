"""Composite vs temporal on the real Flanders pairs (issue 17): maize maps of a target year from source labels.

For each pair, END_DATE cut-off, seed and input kind: the NDVI quality mosaic of April..cut-off (ndvi-qm +
build-blocks) trains a U-Net; the series of the same window in 30-day steps (build-series) trains a U-TAE. Both
the source and the target end at the cut-off (April 1 .. cut-off of their own year: the same relative step
grid), the model is trained on the cut source and maps the cut target (infer, infer-series): source-only, and
adapted on the target's unlabelled store (`--method`, default spcl: partition + adapt; self_training / entropy
run without a partition). Scores on the target labels: maize IoU, and the share of the target's winter
cereals (winter wheat, winter barley, barley, winter cereal: codes 1110, 1510, 1500, 1910) mapped as maize -
the confusion a single peak composite invites (None where the target has no winter cereals, e.g. 2018).

Pairs: ssource-starget, the synthetic pair of the sample generator (`crops_engine.synth`, presets source / target,
seed 7, 128 px: class 1 maize, 2 winter wheat as the winter cereal), on all ten bands; 2018-2019 on all ten
bands (NDVI from B04 / B08); the pairs with the 2019b patch, and 2019-2018, on
the six 20 m bands all three patches share (B05 B06 B07 B8A B11 B12), the quality mosaic and the series ranking
dates by a red-edge index (RED_BAND B05, NIR_BAND B8A by name).
Tiny data (64 x 64 px, 3 training blocks of 32 px): the spread over seeds is part of the figure.

Usage: nice python bench/temporal.py run --pairs 2018-2019 --cutoffs 06-29 07-29 08-28 09-27 --seeds 0 1 2
         [--iterations 150] [--adapt-iterations 60] [--method spcl] [--workdir DIR] [--results FILE.jsonl]
       python bench/temporal.py report --results A.jsonl B.jsonl   (json, plot, markdown table)
Each row is appended to the results file as it finishes (a cut run keeps what it measured).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "worldcereal"
RESULTS = ROOT / "bench" / "results"
WINTER_CEREALS = (1110, 1510, 1500, 1910)
PATCHES = {"2018": ("flanders2018_31UDS", 2018, True), "2019": ("flanders2019_31UES", 2019, True),
           "2019b": ("flanders2019b_31UES", 2019, False)}
PAIRS = ("2018-2019", "2018-2019b", "2019-2019b", "2019b-2019", "2019b-2018", "2019-2018", "ssource-starget")
# the synthetic pair (crops_engine.synth's `source` and `target` presets, seed SYNTH_SEED, SYNTH_SIZE px): class ids
# 1 maize, 2 winter wheat; a 2019 season on all ten bands, made in the work folder
SYNTH = {"ssource": "source", "starget": "target"}
SYNTH_SEED, SYNTH_SIZE = 7, 128
LABEL_CODES = {"real": ("labels_crop_type.tif", 1200, WINTER_CEREALS), "synthetic": ("labels.tif", 1, (2,))}
SIX_BANDS = (4, 5, 6, 8, 9, 10)  # B05 B06 B07 B8A B11 B12 of the ten-band scenes: what 2019b holds
START = "04-01"
STEP_DAYS = 30


def patch_folder(name: str, work: Path) -> Path:
    """The folder of patch `name` (scenes/, labels): a Flanders patch, or the synthetic pair, made once in `work`."""
    if name not in SYNTH:
        return DATA / PATCHES[name][0]
    pair = work / f"synth_{SYNTH_SEED}_{SYNTH_SIZE}"
    if not pair.is_dir():
        from crops_engine.synth import generate_pair

        generate_pair(pair, seed=SYNTH_SEED, size=SYNTH_SIZE)
    return pair / SYNTH[name]


def scores(class_map: Path, labels: Path, maize_code: int = 1200,
           winter_codes: tuple[int, ...] = WINTER_CEREALS) -> dict[str, Any]:
    from osgeo import gdal

    pred, codes = gdal.Open(str(class_map)).ReadAsArray(), gdal.Open(str(labels)).ReadAsArray()
    labelled = codes != 0
    maize_true, maize_pred = (codes == maize_code) & labelled, (pred == 0) & labelled
    union = (maize_true | maize_pred).sum()
    winter = np.isin(codes, winter_codes)
    other_true = labelled & ~maize_true
    return {
        "maize_iou": float((maize_true & maize_pred).sum() / union) if union else float("nan"),
        "other_iou": float((other_true & ~maize_pred).sum() / (other_true | (labelled & ~maize_pred)).sum()),
        "winter_cereals_as_maize": float((winter & maize_pred).sum() / winter.sum()) if winter.sum() else None,
        "mapped_maize_share": float(maize_pred.sum() / labelled.sum()),
        "true_maize_share": float(maize_true.sum() / labelled.sum()),
    }


def six_band_scenes(name: str, work: Path) -> Path:
    """A folder of the ten-band scenes of patch `name` cut to the six 20 m bands (with their SCL masks)."""
    from osgeo import gdal

    src = DATA / PATCHES[name][0] / "scenes"
    out = work / f"scenes_{name}_six"
    if (out / ".done").is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("S2_L2A_????????.tif")):
        gdal.Translate(str(out / f.name), str(f), bandList=list(SIX_BANDS))
        scl = f.with_name(f.stem + "_SCL.tif")
        link = out / scl.name
        if scl.is_file() and not link.exists():
            link.symlink_to(scl.resolve())
    (out / ".done").write_text("")
    return out


def patch_inputs(name: str, six: bool, cutoff: str, labelled: bool, work: Path) -> dict[str, Any]:
    """Scenes, options, composite and stores of patch `name` over April 1 .. `cutoff` (MM-DD) of its year."""
    from crops_engine.blocks import build_block_store
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.scenes import load_scenes
    from crops_engine.series import build_series_store

    _, year, ten = PATCHES.get(name, (None, 2019, True))
    start, end = date.fromisoformat(f"{year}-{START}"), date.fromisoformat(f"{year}-{cutoff}")
    root = patch_folder(name, work)
    scene_folder = six_band_scenes(name, work) if six and ten else root / "scenes"
    bands = {"red_band": "B05", "nir_band": "B8A"} if six else {"red_band": "B04", "nir_band": "B08"}
    options = CompositeOptions(start_date=start, end_date=end, workers=1, **bands)
    scenes = load_scenes(folder=scene_folder, pattern="S2_L2A_????????.tif", start=start, end=end)
    tag = f"{name}_{'six' if six else 'ten'}_{cutoff}"
    composite = work / f"qm_{tag}.tif"
    if not composite.is_file():
        ndvi_quality_mosaic(scenes, composite, options)
    label_file, maize_code, winter_codes = LABEL_CODES["synthetic" if name in SYNTH else "real"]
    labels = root / label_file
    class_map = f"{maize_code}=maize; *=other; 0=ignore"
    out = {"scenes": scenes, "options": options, "composite": composite, "labels": labels,
           "codes": (maize_code, winter_codes)}
    if labelled:  # source: labelled stores as bench/temporal.py always built them
        blocks, series = work / f"blocks_{tag}.h5", work / f"series_{tag}.h5"
        if not blocks.is_file():
            build_block_store(composite, blocks, labels=labels, class_map=class_map, block_size=32, val_fraction=0.25,
                              val_group_size=1)
        if not series.is_file():
            build_series_store(scenes, series, STEP_DAYS, options, labels=labels, class_map=class_map, block_size=32,
                               val_fraction=0.25, val_group_size=1)
    else:  # target: unlabelled stores to adapt on (labels are for scoring only)
        blocks, series = work / f"tblocks_{tag}.h5", work / f"tseries_{tag}.h5"
        if not blocks.is_file():
            build_block_store(composite, blocks, block_size=32, stride=16, val_fraction=0.0)
        if not series.is_file():
            build_series_store(scenes, series, STEP_DAYS, options, block_size=32, stride=16, val_fraction=0.0)
    out |= {"blocks": blocks, "series": series}
    return out


# input kind, architecture and store of each model the benchmark trains (the report pairs "temporal" with "composite")
MODELS = {"unet": ("composite", "unet", "blocks"), "utae": ("temporal", "utae", "series"),
          "agrifm": ("temporal-agrifm", "agrifm", "series")}


def map_target(model: Path, kind: str, target: dict[str, Any], out: Path) -> None:
    from crops_engine.infer import InferOptions, Outputs, infer
    from crops_engine.series.infer import infer_series

    opts = InferOptions(tile_size=64, overlap=0, device="cpu")
    if kind == "composite":
        infer(model, target["composite"], Outputs(out), opts)
    else:  # both temporal models map the series
        infer_series(model, target["scenes"], Outputs(out), STEP_DAYS, target["options"], opts)


def adapt_model(model: Path, store: Path, out: Path, method: str, seed: int, iterations: int) -> dict[str, Any]:
    """The project's adaptation of `model` on the unlabelled target `store` (SPCL partitions it first)."""
    import shutil

    from crops_engine.adapt import adapt, make_config
    from crops_engine.partition import PartitionOptions, partition
    from crops_engine.progress import Progress

    info: dict[str, Any] = {}
    if method == "spcl":  # a fresh copy of the store per model: the partition is written into it
        store_copy = out.with_suffix(".h5")
        shutil.copyfile(store, store_copy)
        t0 = time.perf_counter()
        partition(model, store_copy, options=PartitionOptions(device="cpu"))
        info["partition_seconds"] = round(time.perf_counter() - t0, 1)
        store = store_copy
    t0 = time.perf_counter()
    adapt(method, make_config(method, model=str(model), blocks=str(store), output=str(out), iterations=iterations,
                              batch_size=2, device="cpu", seed=seed), Progress())
    info["adapt_seconds"] = round(time.perf_counter() - t0, 1)
    return info


def run(args: argparse.Namespace) -> None:
    import torch

    from crops_engine.progress import Progress
    from crops_engine.train import TrainConfig, train_source

    torch.set_num_threads(1)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    results = Path(args.results)
    for pair in args.pairs:
        source_name, target_name = pair.split("-")
        six = pair not in ("2018-2019", "ssource-starget")
        for cutoff in args.cutoffs:
            source = patch_inputs(source_name, six, cutoff, True, work)
            target = patch_inputs(target_name, six, cutoff, False, work)
            for seed in args.seeds:
                for kind, arch, store in (MODELS[m] for m in args.models):
                    tag = f"{pair}_{cutoff}_{arch}_{seed}"
                    model = work / f"{tag}.safetensors"
                    t0 = time.perf_counter()
                    train_source(TrainConfig(blocks=str(source[store]), output=str(model), arch=arch, batch_size=2,
                                             lr=1e-3, device="cpu", seed=seed, iterations=args.iterations),
                                 Progress())
                    seconds = time.perf_counter() - t0
                    history = json.loads(model.with_name(model.stem + ".metrics.json").read_text())["epochs"]
                    base = {"pair": pair, "cutoff": cutoff, "bands": "six" if six else "ten", "seed": seed,
                            "kind": kind, "arch": arch, "iterations": args.iterations,
                            "source_val_miou": history[-1]["val_miou"]}
                    out = work / f"map_{tag}.tif"
                    map_target(model, kind, target, out)
                    row = base | {"adaptation": "source", "train_seconds": round(seconds, 1),
                                  **scores(out, target["labels"], *target["codes"])}
                    _append(results, row)
                    if args.method == "none":
                        continue
                    adapted = work / f"{tag}_{args.method}.safetensors"
                    try:
                        info = adapt_model(model, target[store], adapted, args.method, seed, args.adapt_iterations)
                    except Exception as e:  # noqa: BLE001 - a method that does not run on this store is a result
                        _append(results, base | {"adaptation": args.method, "error": f"{type(e).__name__}: {e}"})
                        continue
                    out = work / f"map_{tag}_{args.method}.tif"
                    map_target(adapted, kind, target, out)
                    _append(results, base | {"adaptation": args.method, "adapt_iterations": args.adapt_iterations,
                                             **info, **scores(out, target["labels"], *target["codes"])})


def _append(path: Path, row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)
    with path.open("a") as f:
        f.write(json.dumps(row) + "\n")


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    v = np.array(values, dtype=float)
    if len(v) == 1:
        return f"{v[0]:.3f} (1 seed, no sd)"
    return f"{v.mean():.3f} +- {v.std():.3f}"


def report(args: argparse.Namespace) -> None:
    """Summaries of the rows: per pair, cut-off, input and adaptation the mean +- sd over seeds, and the
    temporal - composite margin paired by seed; the in-season curve of 2018-2019 as a plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for f in args.results for line in Path(f).read_text().splitlines() if line.strip()]
    ok = [r for r in rows if "error" not in r]
    errors = sorted({(r["pair"], r["kind"], r["adaptation"], r["error"]) for r in rows if "error" in r})
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in ok:
        groups.setdefault((r["pair"], r["cutoff"], r["adaptation"], r["kind"]), []).append(r)
    summary = []
    lines = ["| pair | cut-off | adaptation | input | seeds | maize IoU | winter cereals as maize | mapped maize share "
             "(true) | temporal - composite maize IoU | temporal - composite winter-cereal confusion |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (pair, cutoff, adaptation, kind), got in sorted(groups.items()):
        def vals(key: str, items: list = got) -> list[float]:
            return [r[key] for r in items if r.get(key) is not None]

        margin_iou = margin_wc = ""
        if kind.startswith("temporal"):
            comp = {r["seed"]: r for r in groups.get((pair, cutoff, adaptation, "composite"), [])}
            both = [(r, comp[r["seed"]]) for r in got if r["seed"] in comp]
            margin_iou = _ms([t["maize_iou"] - c["maize_iou"] for t, c in both])
            wc = [t["winter_cereals_as_maize"] - c["winter_cereals_as_maize"] for t, c in both
                  if t["winter_cereals_as_maize"] is not None]
            margin_wc = _ms(wc) if wc else "n/a (no winter cereals)"
        item = {"pair": pair, "cutoff": cutoff, "adaptation": adaptation, "kind": kind,
                "seeds": sorted(r["seed"] for r in got), "iterations": got[0]["iterations"],
                "adapt_iterations": got[0].get("adapt_iterations")}
        for key in ("maize_iou", "winter_cereals_as_maize", "mapped_maize_share", "source_val_miou"):
            v = vals(key)
            item[key] = {"mean": float(np.mean(v)), "sd": float(np.std(v))} if v else None
        summary.append(item)
        wc_text = _ms(vals("winter_cereals_as_maize")) if vals("winter_cereals_as_maize") else "n/a"
        lines.append(f"| {pair} | {cutoff} | {adaptation} | {kind} | {len(got)} | {_ms(vals('maize_iou'))} | "
                     f"{wc_text} | {_ms(vals('mapped_maize_share'))} ({got[0]['true_maize_share']:.3f}) | "
                     f"{margin_iou} | {margin_wc} |")
    for pair, kind, adaptation, error in errors:
        lines.append(f"\n{pair} {kind} {adaptation}: **did not run**: {error}")
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    inseason = [s for s in summary if s["pair"] == "2018-2019"]
    (RESULTS / "temporal_inseason.json").write_text(json.dumps({"summary": inseason, "rows": [
        r for r in rows if r["pair"] == "2018-2019"]}, indent=1))
    (RESULTS / "temporal_pairs.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((axes[0], "maize_iou", "2019 maize IoU"),
                           (axes[1], "winter_cereals_as_maize", "2019 winter cereals mapped as maize")):
        for kind, colour in (("composite", "tab:blue"), ("temporal", "tab:orange"), ("temporal-agrifm", "tab:green")):
            for adaptation, style in (("source", "-"), *((a, "--") for a in
                                                        sorted({s["adaptation"] for s in inseason} - {"source"}))):
                pts = sorted((s["cutoff"], s[key]) for s in inseason if s["kind"] == kind
                             and s["adaptation"] == adaptation and s[key])
                if not pts:
                    continue
                x = [p[0] for p in pts]
                ax.errorbar(x, [p[1]["mean"] for p in pts], yerr=[p[1]["sd"] for p in pts], fmt="o" + style,
                            color=colour, capsize=3, label=f"{kind} {adaptation}")
        ax.set_title(title)
        ax.set_xlabel("END_DATE cut-off (month-day; series from April 1)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Flanders 2018 -> 2019, maize vs other, mean +- sd over seeds")
    fig.tight_layout()
    fig.savefig(RESULTS / "temporal_inseason.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--pairs", nargs="+", default=["2018-2019"], choices=PAIRS)
    r.add_argument("--cutoffs", nargs="+", default=["09-27"], help="END_DATE month-day of both years")
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--iterations", type=int, default=150)
    r.add_argument("--adapt-iterations", type=int, default=60)
    r.add_argument("--models", nargs="+", default=["unet", "utae"], choices=sorted(MODELS),
                   help="unet on the composite; utae (U-TAE) and agrifm (the AgriFM-style transformer) on the series")
    r.add_argument("--method", default="spcl", help="spcl, self_training, entropy or none")
    r.add_argument("--workdir", default="/tmp/crops-bench-temporal")
    r.add_argument("--results", default="/tmp/crops-bench-temporal/rows.jsonl")
    p = sub.add_parser("report")
    p.add_argument("--results", nargs="+", required=True)
    args = parser.parse_args()
    run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    main()

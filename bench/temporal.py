"""Composite vs temporal on the real Flanders pair (issue 17): source-only maize maps of 2019 from 2018 labels.

For each seed: the NDVI quality mosaic of April..September (ndvi-qm + build-blocks) trains a U-Net; the
series of the same months in 30-day steps (build-series) trains a U-TAE; both map the 2019 patch (infer,
infer-series) and are scored on its labels: maize IoU, and the share of the 2019 winter cereals (winter
wheat, winter barley, barley: codes 1110, 1510, 1500, 1910) mapped as maize - the confusion a single peak
composite invites. Source-only; the adapted rows and the 2019b pairs are left to bench/adaptation.py.
Tiny data (64 x 64 px, 3 training blocks): the spread over seeds is part of the figure.
Usage: nice python bench/temporal.py [--seeds 0 1 2] [--iterations 150] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "worldcereal"
CLASS_MAP = "1200=maize; *=other; 0=ignore"
WINTER_CEREALS = (1110, 1510, 1500, 1910)
SEASONS = {"2018": (DATA / "flanders2018_31UDS", date(2018, 4, 1), date(2018, 9, 27)),
           "2019": (DATA / "flanders2019_31UES", date(2019, 4, 1), date(2019, 9, 27))}


def scores(class_map: Path, labels: Path) -> dict[str, float]:
    from osgeo import gdal

    pred, codes = gdal.Open(str(class_map)).ReadAsArray(), gdal.Open(str(labels)).ReadAsArray()
    labelled = codes != 0
    maize_true, maize_pred = (codes == 1200) & labelled, (pred == 0) & labelled
    union = (maize_true | maize_pred).sum()
    winter = np.isin(codes, WINTER_CEREALS)
    other_true = labelled & ~maize_true
    return {
        "maize_iou": float((maize_true & maize_pred).sum() / union) if union else float("nan"),
        "other_iou": float((other_true & ~maize_pred).sum() / (other_true | (labelled & ~maize_pred)).sum()),
        "winter_cereals_as_maize": float((winter & maize_pred).sum() / max(1, winter.sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--workdir", default="/tmp/crops-bench-temporal")
    args = parser.parse_args()

    import torch

    from crops_engine.blocks import build_block_store
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.infer import InferOptions, Outputs, infer
    from crops_engine.progress import Progress
    from crops_engine.scenes import load_scenes
    from crops_engine.series import build_series_store
    from crops_engine.series.infer import infer_series
    from crops_engine.train import TrainConfig, train_source

    torch.set_num_threads(1)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    inputs = {}
    for name, (folder, start, end) in SEASONS.items():
        scenes = load_scenes(folder=folder / "scenes", pattern="S2_L2A_????????.tif", start=start, end=end)
        options = CompositeOptions(start_date=start, end_date=end)
        composite = work / f"qm_{name}.tif"
        ndvi_quality_mosaic(scenes, composite, options)
        labels = folder / "labels_crop_type.tif" if name == "2018" else None
        blocks, series = work / f"blocks_{name}.h5", work / f"series_{name}.h5"
        if labels:
            build_block_store(composite, blocks, labels=labels, class_map=CLASS_MAP, block_size=32, val_fraction=0.25,
                              val_group_size=1)
            build_series_store(scenes, series, 30, options, labels=labels, class_map=CLASS_MAP, block_size=32,
                               val_fraction=0.25, val_group_size=1)
        inputs[name] = {"scenes": scenes, "options": options, "composite": composite, "blocks": blocks,
                        "series": series, "labels": folder / "labels_crop_type.tif"}
    rows = []
    for seed in args.seeds:
        for kind, arch, store in (("composite", "unet", "blocks"), ("temporal", "utae", "series")):
            model = work / f"{arch}_{seed}.safetensors"
            t0 = time.perf_counter()
            train_source(TrainConfig(blocks=str(inputs["2018"][store]), output=str(model), arch=arch, batch_size=2,
                                     lr=1e-3, device="cpu", seed=seed, iterations=args.iterations), Progress())
            seconds = time.perf_counter() - t0
            out = work / f"map_{arch}_{seed}.tif"
            target = inputs["2019"]
            opts = InferOptions(tile_size=64, overlap=0, device="cpu")
            if kind == "composite":
                infer(model, target["composite"], Outputs(out), opts)
            else:
                infer_series(model, target["scenes"], Outputs(out), 30, target["options"], opts)
            history = json.loads(model.with_name(model.stem + ".metrics.json").read_text())["epochs"]
            row = {"seed": seed, "kind": kind, "arch": arch, "train_seconds": round(seconds, 1),
                   "source_val_miou": history[-1]["val_miou"], **scores(out, target["labels"])}
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"Flanders 2018 -> 2019, source only, maize vs other, {args.iterations} iterations, batch 2, "
          "April..September")
    print(f"{'input':>10} {'model':>5} | {'2018 val mIoU':>17} | {'2019 maize IoU':>17} | {'2019 other IoU':>17} | "
          f"{'2019 winter cereals as maize':>28}")
    for kind in ("composite", "temporal"):
        got = [r for r in rows if r["kind"] == kind]

        def stat(key: str, rows: list = got) -> str:
            v = np.array([r[key] for r in rows])
            return f"{v.mean():.3f} +- {v.std():.3f}"

        print(f"{kind:>10} {got[0]['arch']:>5} | {stat('source_val_miou'):>17} | {stat('maize_iou'):>17} | "
              f"{stat('other_iou'):>17} | {stat('winter_cereals_as_maize'):>28}")
    (work / "temporal.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

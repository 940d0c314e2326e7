"""`make demo`: the CROPS pipeline on a generated source/target pair, through qgis_process.

Every step is a real `qgis_process.bin run crops:<algorithm>` call (the same path a user's
shell script or the graphical modeler takes); the script prints where each output is.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QGIS_PROCESS = ROOT / "tools" / "qgis_process"


def run(algorithm: str, **params: object) -> dict:
    argv = [str(QGIS_PROCESS), "--json", "run", algorithm, "--"] + [f"{k}={v}" for k, v in params.items()]
    started = time.monotonic()
    print(f"\n== {algorithm}", flush=True)
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    start = proc.stdout.find("{")
    if proc.returncode != 0 or start < 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"{algorithm} failed (exit code {proc.returncode})")
    results = json.loads(proc.stdout[start:])["results"]
    for key, value in results.items():
        print(f"   {key}: {value}")
    print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=str(ROOT / "build" / "demo"), help="demo folder (recreated)")
    parser.add_argument("--size", type=int, default=384, help="sample scene size in pixels")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--train-iterations", type=int, default=250)
    parser.add_argument("--adapt-iterations", type=int, default=150)
    args = parser.parse_args()
    out = Path(args.output).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    sample, work = out / "sample", out / "work"
    work.mkdir()

    run("crops:diagnostics", OUTPUT=out / "diagnostics.html")
    run("crops:sample_data", PRESET="pair", SIZE=args.size, SEED=args.seed, OUTPUT_FOLDER=sample)
    for domain in ("source", "target"):
        run(
            "crops:ndvi_qm",
            FOLDER=sample / domain / "scenes",
            PATTERN="S2_L2A_????????.tif",
            START_DATE="2019-03-01",
            END_DATE="2019-10-31",
            OUTPUT=work / f"{domain}_composite.tif",
            OUTPUT_QA=work / f"{domain}_qa.tif",
        )
    run(
        "crops:build_blocks",
        COMPOSITE=work / "source_composite.tif",
        LABELS=sample / "source" / "labels.tif",
        BLOCK_SIZE=args.block_size,
        VAL_FRACTION=0.2,
        OUTPUT=work / "source_blocks.h5",
    )
    run(
        "crops:train_source",
        BLOCKS=work / "source_blocks.h5",
        ITERATIONS=args.train_iterations,
        SEED=args.seed,
        OUTPUT=work / "source_model.safetensors",
    )
    run(
        "crops:partition",
        MODEL=work / "source_model.safetensors",
        COMPOSITE=work / "target_composite.tif",
        BLOCK_SIZE=args.block_size,
        OUTPUT_BLOCKS=work / "target_blocks.h5",
        OUTPUT_MASK=work / "target_easy_hard.tif",
        OUTPUT_CONFIDENCE=work / "target_source_confidence.tif",
    )
    run(
        "crops:adapt_spcl",
        MODEL=work / "source_model.safetensors",
        BLOCKS=work / "target_blocks.h5",
        ITERATIONS=args.adapt_iterations,
        SEED=args.seed,
        OUTPUT=work / "adapted_model.safetensors",
    )
    scores = {}
    for name, model in (("source-only", "source_model"), ("adapted (SPCL)", "adapted_model")):
        classes = work / f"target_classes_{model}.tif"
        run(
            "crops:infer",
            MODEL=work / f"{model}.safetensors",
            INPUT=work / "target_composite.tif",
            OUTPUT=classes,
            OUTPUT_CONFIDENCE=work / f"target_confidence_{model}.tif",
        )
        metrics = run(
            "crops:evaluate",
            INPUT=classes,
            REFERENCE=sample / "target" / "labels.tif",
            MODEL=work / f"{model}.safetensors",
            OUTPUT=work / f"evaluation_{model}.html",
            OUTPUT_JSON=work / f"evaluation_{model}.json",
        )
        scores[name] = metrics

    print("\nScores on the sample target (its labels are used only here, for scoring):")
    print(f"   {'model':<16} {'mIoU':>6} {'OA':>6}")
    for name, metrics in scores.items():
        print(f"   {name:<16} {float(metrics['MEAN_IOU']):6.3f} {float(metrics['OVERALL_ACCURACY']):6.3f}")
    print(f"\nDemo outputs are in {out}; open {work} in QGIS: every raster has its style (.qml) beside it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

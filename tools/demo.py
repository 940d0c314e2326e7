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
    parser.add_argument("--size", type=int, default=512, help="sample scene size in pixels")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = Path(args.output).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    run("crops:diagnostics", OUTPUT=out / "diagnostics.html")
    run("crops:sample_data", PRESET=0, SIZE=args.size, SEED=args.seed, OUTPUT_FOLDER=out / "sample")

    print(f"\nDemo outputs are in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

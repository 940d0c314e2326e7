"""Write a synthetic Sentinel-2 time series with labels (a source, a target, or a source/target pair).

Each scene folder holds scenes/S2_L2A_YYYYMMDD.tif (10 bands, reflectance = DN / 10000) with
their _SCL cloud masks, labels.tif, fields.gpkg and classes.csv, like real data a user holds.
PRESET pair writes OUTPUT_FOLDER/source and OUTPUT_FOLDER/target: two places with a shifted
season, different crop mix, atmosphere and cloudiness, to try domain adaptation on.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import option
from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("OUTPUT_FOLDER"), required=True, help="folder to create (replaced if an earlier sample)")
    parser.add_argument(option("PRESET"), choices=("pair", "source", "target"), default="pair", help="default: pair")
    parser.add_argument(option("SIZE"), type=int, default=512, help="width and height in 10 m pixels (default 512)")
    parser.add_argument(option("START_DATE"), default="2019-03-01", help="first date, YYYY-MM-DD")
    parser.add_argument(option("END_DATE"), default="2019-10-31", help="last possible date, YYYY-MM-DD")
    parser.add_argument(option("REVISIT_DAYS"), type=int, default=5, help="days between acquisitions (default 5)")
    parser.add_argument(option("SEED"), type=int, default=0, help="same seed, same rasters (default 0)")
    parser.add_argument(
        option("PHENOLOGY_SHIFT"),
        type=float,
        default=None,
        help="days the season is moved (for pair: the target's shift; default: the preset's)",
    )
    parser.add_argument(
        option("CLOUD_COVER"), type=float, default=None, help="mean share of cloudy pixels per date, 0..0.9"
    )


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from dataclasses import replace

    from ..synth import generate_pair, generate_scene, preset

    common = dict(size=args.size, start=args.start_date, end=args.end_date, revisit_days=args.revisit_days)
    if args.preset == "pair":
        result = generate_pair(
            args.output_folder,
            seed=args.seed,
            progress=progress,
            phenology_shift=args.phenology_shift,
            cloud_cover=args.cloud_cover,
            **common,
        )
        progress.log(f"Wrote the source/target pair to {result['output_folder']}")
        return result
    domain = preset(args.preset)
    if args.phenology_shift is not None:
        domain = replace(domain, phenology_shift=args.phenology_shift)
    if args.cloud_cover is not None:
        domain = replace(domain, cloud_cover=args.cloud_cover)
    result = generate_scene(args.output_folder, domain, seed=args.seed, progress=progress, **common)
    progress.log(f"Wrote {len(result['scenes'])} dates to {result['output_folder']}")
    return result

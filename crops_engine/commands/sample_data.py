"""The `sample-data` command (Processing `crops:sample_data`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Param
from ..progress import Progress

SPEC = Command(
    name="sample-data", algorithm="sample_data", context="SampleDataAlgorithm", display_name="Generate sample data",
    group="data", requires_torch=False,
    summary="Write a synthetic Sentinel-2 time series with labels (a source, a target, or a source/target pair).",
    help=(
        "Writes a realistic synthetic Sentinel-2 L2A season: one 10-band UInt16 GeoTIFF per date "
        "(scenes/S2_L2A_YYYYMMDD.tif, reflectance = DN / 10000), its scene classification "
        "(scenes/S2_L2A_YYYYMMDD_SCL.tif), the crop labels (labels.tif), the parcels (fields.gpkg) and the class list "
        "(classes.csv), in the same layout as real data.\n"
        "\n"
        "Preset: 'source' and 'target' are two places with a clear but learnable shift (phenology, class proportions, "
        "atmosphere, clouds, field size); 'pair' writes both into Output folder/source and Output folder/target.\n"
        "Size: width and height in pixels (10 m). Dates: the season, YYYY-MM-DD; one acquisition every Revisit days. "
        "The same seed always gives the same data."
    ),
    params=(
        Param("PRESET", "choice", "Preset", "what to write: a source/target pair, or one domain",
              default="pair", choices=("pair", "source", "target"),
              labels={"pair": "Source and target pair", "source": "Source domain only",
                      "target": "Target domain only"}),
        Param("SIZE", "int", "Size (pixels)", "width and height in 10 m pixels", default=512, minimum=32,
              maximum=20000),
        Param("START_DATE", "text", "Season start (YYYY-MM-DD)", "first date, YYYY-MM-DD", default="2019-03-01"),
        Param("END_DATE", "text", "Season end (YYYY-MM-DD)", "last possible date, YYYY-MM-DD", default="2019-10-31"),
        Param("REVISIT_DAYS", "int", "Revisit (days)", "days between acquisitions", default=5, minimum=1),
        Param("SEED", "int", "Random seed", "same seed, same rasters", default=0),
        Param("PHENOLOGY_SHIFT", "float", "Phenology shift (days; empty: the preset's)",
              "days the season is moved (for pair: the target's shift; default: the preset's)", optional=True,
              advanced=True),
        Param("CLOUD_COVER", "float", "Cloud cover (share of pixels; empty: the preset's)",
              "mean share of cloudy pixels per date, 0..0.9", optional=True, minimum=0.0, maximum=0.9, advanced=True),
        Param("OUTPUT_FOLDER", "folder_out", "Output folder", "folder to create (replaced if an earlier sample)"),
    ),
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

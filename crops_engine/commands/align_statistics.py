"""The `align-statistics` command (Processing `crops:align_statistics`): its declaration and the engine call."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..command_spec import STATISTICS_ALIGNMENT, Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="align-statistics", algorithm="align_statistics", context="AlignStatisticsAlgorithm",
    display_name="Align statistics to the model", group="preprocessing", requires_torch=False,
    summary="Map a target composite's per-band distribution onto the source statistics stored in a model.",
    help=(
        "Aligns a target composite to the source statistics a model recorded when it was trained, without any "
        "source data: each band of the composite is mapped onto the model's statistics of the feature with the same "
        "name.\n"
        "\n"
        "mean_std: each band is shifted and scaled so that its mean and standard deviation become the model's. "
        "histogram: histogram matching; each band's quantiles become the per-band quantiles the model recorded of its "
        "training pixels. Models trained before quantiles were recorded have only mean and standard deviation: use "
        "mean_std with them, or train the model again.\n"
        "The target's statistics are measured on a regular sample of its valid pixels.\n"
        "\n"
        "Output: a Float32 GeoTIFF with the composite's bands and band names (nodata NaN), styled in natural colour. "
        "Partition, Adapt, Adapt with SPCL and Map crops can instead align on the fly (their Align the target's "
        "statistics option); give inference the same alignment the model was adapted with."
    ),
    params=(
        Param("MODEL", "file", "Model", "model checkpoint (.safetensors) whose statistics the composite is aligned to",
              file_filter="Model (*.safetensors)"),
        Param("INPUT", "raster", "Target composite",
              "composite GeoTIFF to align (bands named as the model's features)"),
        replace(STATISTICS_ALIGNMENT, default="histogram", choices=("histogram", "mean_std"), advanced=False,
                context=""),
        Param("OUTPUT", "raster_out", "Aligned composite", "aligned composite GeoTIFF"),
    ),
    outputs=(Output("BANDS", "number", "Bands aligned"),),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..statistics_alignment import align_composite

    result = align_composite(args.model, args.input, args.output, args.statistics_alignment, progress)
    result.pop("map", None)
    return result

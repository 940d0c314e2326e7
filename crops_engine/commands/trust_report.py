"""The `trust-report` command (Processing `crops:trust_report`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..command_spec import DEVICE, Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="trust-report", algorithm="trust_report", context="TrustReportAlgorithm",
    display_name="What the adaptation changed (trust report)", group="adaptation",
    summary="Compare a source model and its adaptation on the target blocks, without labels.",
    help=(
        "Shows what an adaptation changed on the target, without any label: the source model and the adapted "
        "model both predict every block of the target store.\n"
        "\n"
        "Report (HTML, with pictures): the share of pixels whose class changed; class shares before and after; "
        "confidence and entropy histograms before and after; which classes moved to which. A warning names every "
        "class whose share collapsed (less than a third of its share before) or exploded (at least doubled, by "
        "at least 10 points of the pixels): then check the map before using it.\n"
        "Agreement: a raster on the store's grid, 1 unchanged (grey) and 2 changed (orange)."
    ),
    params=(
        Param("SOURCE_MODEL", "file", "Source model", "the source model checkpoint (.safetensors)",
              file_filter="Model (*.safetensors)"),
        Param("MODEL", "file", "Adapted model", "the adapted model checkpoint (.safetensors)",
              file_filter="Model (*.safetensors)"),
        Param("BLOCKS", "file", "Target block store", "the target block store (.h5) the model was adapted on",
              extension="h5"),
        replace(DEVICE, advanced=True),
        Param("BATCH_SIZE", "int", "Batch size (blocks)", "blocks per batch", default=16, minimum=1, advanced=True),
        Param("OUTPUT", "file_out", "Trust report", "the HTML report to write", file_filter="HTML files (*.html)"),
        Param("OUTPUT_AGREEMENT", "raster_out", "Agreement (unchanged / changed)",
              "agreement GeoTIFF: 1 unchanged, 2 changed", optional=True),
    ),
    outputs=(Output("CHANGED_SHARE", "number", "Share of pixels that changed class"),),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..trust import compare_on_store

    return compare_on_store(args.source_model, args.model, args.blocks, args.output, args.output_agreement or None,
                            device=args.device, batch_size=args.batch_size, progress=progress)

"""The `partition` command (Processing `crops:partition`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..command_spec import DEVICE, STATISTICS_ALIGNMENT, Command, Output, Param
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="partition", algorithm="partition", context="PartitionAlgorithm", display_name="Partition easy / hard",
    group="adaptation",
    summary="Split the target blocks into easy and hard by the source model's confidence, before adapting.",
    help=(
        "Runs the source model over the target blocks and splits them into easy blocks (where it is confident) and "
        "hard blocks, so you see where the model is unsure before adapting it.\n"
        "\n"
        "Target: a block store (Build blocks without labels; the partition is written beside it), or a target "
        "composite from which a store is built into Output block store (Block size 0: the model's).\n"
        "Score per block, higher = easier: max_probability (mean probability of the predicted class over valid "
        "pixels), entropy (1 - mean normalised entropy) or confident_fraction (share of pixels whose probability "
        "reaches Confidence threshold).\n"
        "Split: the Easy fraction of the blocks with the highest scores is easy, or, when Score threshold is set, the "
        "blocks scoring at least that. Per class splits within each predicted dominant class, so a rare class still "
        "has easy blocks.\n"
        "\n"
        "Outputs: the easy / hard mask (1 easy in blue, 2 hard in red) and the per-pixel confidence (grey, 0..1). "
        "Where blocks overlap (stride < block size), each pixel shows the block whose centre is nearest. The scores, "
        "the easy and hard blocks and the model's SHA-256 go into name.h5.partition.h5 beside the store (the store "
        "itself is not changed), which Adapt and SPCL read; SPCL refuses a partition made by another model."
    ),
    params=(
        Param("MODEL", "file", "Source model", "source model checkpoint (.safetensors)",
              file_filter="Model (*.safetensors)"),
        Param("BLOCKS", "file", "Target block store", "target block store (.h5); the partition is written beside it",
              optional=True, extension="h5"),
        Param("COMPOSITE", "raster", "or target composite",
              "target composite to build the store from (instead of BLOCKS)", optional=True),
        Param("SCORE", "choice", "Score", "block confidence score", default="max_probability",
              choices=("max_probability", "entropy", "confident_fraction"),
              labels={"max_probability": "Mean highest probability", "entropy": "Entropy",
                      "confident_fraction": "Share of confident pixels"}),
        Param("EASY_FRACTION", "float", "Easy fraction", "share of blocks that are easy", default=0.5, minimum=0.0,
              maximum=1.0),
        Param("SCORE_THRESHOLD", "float", "Score threshold (overrides easy fraction)",
              "easy = score >= this (0..1); overrides EASY_FRACTION when given", optional=True, minimum=0.0,
              maximum=1.0),
        Param("PER_CLASS", "bool", "Split per predicted dominant class",
              "split within each predicted dominant class (true/false)", default=False),
        Param("CONF_THRESHOLD", "float", "Confidence threshold (confident_fraction)",
              "confident pixel: max probability >= this (SCORE confident_fraction)", default=0.9, minimum=0.0001,
              maximum=1.0, advanced=True),
        Param("EXTRA_BANDS", "list", "Extra bands with a composite (';' separated)",
              "with COMPOSITE: the extra feature bands the model was trained with (PATH or PATH@BANDS; repeat or ';')",
              optional=True, advanced=True),
        Param("BLOCK_SIZE", "int", "Block size with a composite (0: the model's)",
              "with COMPOSITE: block size (0: the model's)", default=0, minimum=0, advanced=True),
        Param("STRIDE", "int", "Stride with a composite (0: block size)",
              "with COMPOSITE: step between blocks (0: block size)", default=0, minimum=0, advanced=True),
        Param("EXTENT", "extent", "Extent with a composite", "with COMPOSITE: area 'xmin,xmax,ymin,ymax [EPSG:xxxx]'",
              optional=True, advanced=True),
        Param("BATCH_SIZE", "int", "Batch size (blocks)", "blocks per batch", default=16, minimum=1, advanced=True),
        replace(DEVICE, advanced=True),
        STATISTICS_ALIGNMENT,
        Param("OUTPUT_BLOCKS", "file_out", "Output block store (with a composite)",
              "with COMPOSITE: the block store to write (.h5)", optional=True, file_filter="HDF5 files (*.h5)",
              create_by_default=False),
        Param("OUTPUT_MASK", "raster_out", "Easy / hard mask", "easy / hard mask GeoTIFF (1 easy, 2 hard)",
              optional=True),
        Param("OUTPUT_CONFIDENCE", "raster_out", "Confidence", "per-pixel confidence GeoTIFF (0..1)", optional=True),
    ),
    outputs=(
        Output("EASY_BLOCKS", "number", "Easy blocks"),
        Output("HARD_BLOCKS", "number", "Hard blocks"),
        Output("MEAN_SCORE_EASY", "number", "Mean score of easy blocks"),
        Output("MEAN_SCORE_HARD", "number", "Mean score of hard blocks"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..partition import PartitionOptions, partition, partition_composite

    options = PartitionOptions(
        score=args.score,
        easy_fraction=args.easy_fraction,
        score_threshold=args.score_threshold,
        per_class=args.per_class,
        conf_threshold=args.conf_threshold,
        batch_size=args.batch_size,
        device=args.device,
        statistics_alignment=args.statistics_alignment,
    )
    if bool(args.blocks) == bool(args.composite):
        raise CropsError("Give either BLOCKS (a target block store) or COMPOSITE (to build one into OUTPUT_BLOCKS).")
    if args.blocks:
        if args.output_blocks and args.output_blocks != args.blocks:
            progress.warn("OUTPUT_BLOCKS is only used with COMPOSITE: the partition is written into BLOCKS.")
        return partition(args.model, args.blocks, args.output_mask or None, args.output_confidence or None,
                         options, progress)
    if not args.output_blocks:
        raise CropsError("With COMPOSITE, give OUTPUT_BLOCKS: the target block store (.h5) to build.")
    return partition_composite(
        args.model, args.composite, args.output_blocks, args.output_mask or None, args.output_confidence or None,
        options, extra_bands=args.extra_bands, block_size=args.block_size, stride=args.stride,
        extent=args.extent or None, progress=progress,
    )

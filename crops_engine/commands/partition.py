"""Split the target blocks into easy and hard by the source model's confidence, before adapting.

The source MODEL predicts every block of the target store BLOCKS (or of a store built from
COMPOSITE into OUTPUT_BLOCKS, without labels; BLOCK_SIZE 0 = the model's). SCORE per block, higher
= easier: max_probability (mean probability of the predicted class), entropy (1 - mean normalised
entropy) or confident_fraction (share of pixels whose max probability reaches CONF_THRESHOLD).
EASY_FRACTION of the blocks with the highest scores are easy, or those scoring at least
SCORE_THRESHOLD when it is given; PER_CLASS splits within each predicted dominant class so a rare
class keeps easy blocks. `scores`, `split/easy`, `split/hard` are written into the store.
OUTPUT_MASK: 1 easy, 2 hard, 0 nodata (blue / red); OUTPUT_CONFIDENCE: per-pixel confidence 0..1
(-1 nodata). Where blocks overlap each pixel shows the block whose centre is nearest.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import extra_band_specs, option, parse_bool
from ..errors import CropsError
from ..progress import Progress

SCORES = ("max_probability", "entropy", "confident_fraction")  # as partition.SCORES (kept light: no numpy here)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("MODEL"), required=True, help="source model checkpoint (.safetensors)")
    parser.add_argument(option("BLOCKS"), help="target block store (.h5); the partition is written into it")
    parser.add_argument(option("COMPOSITE"), help="target composite to build the store from (instead of BLOCKS)")
    parser.add_argument(
        option("EXTRA_BANDS"), action="append", default=[],
        help="with COMPOSITE: the extra feature bands the model was trained with (PATH or PATH@BANDS; repeat or ';')",
    )
    parser.add_argument(option("BLOCK_SIZE"), type=int, default=0, help="with COMPOSITE: block size (0: the model's)")
    parser.add_argument(option("STRIDE"), type=int, default=0,
                        help="with COMPOSITE: step between blocks (0: block size)")
    parser.add_argument(option("EXTENT"), help="with COMPOSITE: area 'xmin,xmax,ymin,ymax [EPSG:xxxx]'")
    parser.add_argument(option("OUTPUT_BLOCKS"), help="with COMPOSITE: the block store to write (.h5)")
    parser.add_argument(option("SCORE"), choices=SCORES, default="max_probability", help="block confidence score")
    parser.add_argument(option("EASY_FRACTION"), type=float, default=0.5, help="share of blocks that are easy")
    parser.add_argument(option("SCORE_THRESHOLD"), type=float, default=None,
                        help="easy = score >= this (0..1); overrides EASY_FRACTION when given")
    parser.add_argument(option("PER_CLASS"), type=parse_bool, default=False,
                        help="split within each predicted dominant class (true/false)")
    parser.add_argument(option("CONF_THRESHOLD"), type=float, default=0.9,
                        help="confident pixel: max probability >= this (SCORE confident_fraction)")
    parser.add_argument(option("BATCH_SIZE"), type=int, default=16, help="blocks per batch")
    parser.add_argument(option("DEVICE"), choices=["auto", "cpu", "cuda"], default="auto", help="where to run")
    parser.add_argument(option("OUTPUT_MASK"), help="easy / hard mask GeoTIFF (1 easy, 2 hard)")
    parser.add_argument(option("OUTPUT_CONFIDENCE"), help="per-pixel confidence GeoTIFF (0..1)")


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
    extra = extra_band_specs(args.extra_bands)
    return partition_composite(
        args.model, args.composite, args.output_blocks, args.output_mask or None, args.output_confidence or None,
        options, extra_bands=extra, block_size=args.block_size, stride=args.stride, extent=args.extent or None,
        progress=progress,
    )

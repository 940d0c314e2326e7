"""Cut a composite (plus extra bands and labels) into blocks: the HDF5 block store for training.

With LABELS (a code raster, or polygons with LABEL_FIELD) it writes a source store with
labels and a spatial train/val split; without, a target store (images only).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import extra_band_specs, option
from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("COMPOSITE"), required=True, help="composite GeoTIFF (e.g. the NDVI quality mosaic)")
    parser.add_argument(
        option("EXTRA_BANDS"),
        action="append",
        default=[],
        help="extra feature bands on the composite's grid: PATH or PATH@BANDS (1-based numbers or band "
        "descriptions, e.g. qa.tif@doy); repeat the option or separate with ';'",
    )
    parser.add_argument(option("LABELS"), help="label raster (codes) or polygon layer (with --label-field)")
    parser.add_argument(option("LABEL_FIELD"), help="attribute of the polygon layer holding the class code or name")
    parser.add_argument(
        option("CLASS_MAP"),
        help="codes to classes, e.g. '1200=maize; *=other; 0=ignore' (optional colour: '1200=maize #e6ab02'); "
        "without it the label values are the classes (0 = ignore), named from a classes.csv beside the labels",
    )
    parser.add_argument(option("BLOCK_SIZE"), type=int, default=224, help="block width and height in pixels")
    parser.add_argument(option("STRIDE"), type=int, default=0, help="step between blocks in pixels (0 = block size)")
    parser.add_argument(
        option("VAL_FRACTION"), type=float, default=0.2, help="fraction of blocks for validation (whole spatial groups)"
    )
    parser.add_argument(
        option("VAL_GROUP_SIZE"), type=int, default=0, help="validation groups of N x N blocks (0 = automatic)"
    )
    parser.add_argument(option("EXTENT"), help="area to cut: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)")
    parser.add_argument(option("SEED"), type=int, default=0, help="seed of the validation split")
    parser.add_argument(option("OUTPUT"), required=True, help="block store to write (.h5)")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..blocks import build_block_store

    extra = extra_band_specs(args.extra_bands)
    return build_block_store(
        args.composite,
        args.output,
        labels=args.labels or None,
        label_field=args.label_field or None,
        class_map=args.class_map or None,
        extra_bands=extra,
        block_size=args.block_size,
        stride=args.stride or None,
        val_fraction=args.val_fraction,
        extent=args.extent or None,
        seed=args.seed,
        val_group_size=args.val_group_size or None,
        progress=progress,
    )

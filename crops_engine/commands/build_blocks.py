"""The `build-blocks` command (Processing `crops:build_blocks`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress

EXTRA_BANDS_HELP = ("extra feature bands on the composite's grid: PATH or PATH@BANDS (1-based numbers or band "
                    "descriptions, e.g. qa.tif@doy); repeat the option or separate with ';'")
CLASS_MAP_HELP = ("codes to classes, e.g. '1200=maize; *=other; 0=ignore' (optional colour: '1200=maize #e6ab02'); "
                  "without it the label values are the classes (0 = ignore), named from a classes.csv beside the "
                  "labels")

LABELS_CRS_HELP = ("the CRS the labels' coordinates are in, for a label layer or raster that declares none (one "
                   "that has a CRS keeps its own); without it such labels are refused")

SPEC = Command(
    name="build-blocks", algorithm="build_blocks", context="BuildBlocksAlgorithm", display_name="Build blocks",
    group="preprocessing", requires_torch=False,
    summary="Cut a composite (plus extra bands and labels) into blocks: the HDF5 block store for training.",
    help=(
        "Cuts a composite (e.g. the NDVI quality mosaic) into square blocks and writes them, normalisation statistics "
        "included, to an HDF5 block store for training and adaptation.\n"
        "\n"
        "Labels (source area): a raster of label codes, or polygons with a Label field (any CRS: reprojected). Class "
        "map: codes to classes, e.g. '1200=maize; *=other; 0=ignore' (optional colour: '1200=maize #e6ab02'); empty: "
        "the label values are the classes (0 = ignore), named from a classes.csv beside the labels. Without labels "
        "(target area) the store holds images only.\n"
        "Extra bands: more features on the composite's grid, PATH or PATH@BANDS separated by ';' (e.g. "
        "qa.tif@day_of_year).\n"
        "Block size and stride in pixels (stride 0: the block size, no overlap). A validation fraction of the blocks, "
        "in whole spatial groups, is set aside for validation.\n"
        "Only blocks with a labelled pixel (source) or a valid pixel (target) are written."
    ),
    params=(
        Param("COMPOSITE", "raster", "Composite", "composite GeoTIFF (e.g. the NDVI quality mosaic)"),
        Param("LABELS", "map_layer", "Labels (raster or polygons; empty for a target store)",
              "label raster (codes) or polygon layer (with LABEL_FIELD)", optional=True,
              layer_types=("raster", "polygons")),
        Param("LABEL_FIELD", "field", "Label field (polygons)",
              "attribute of the polygon layer holding the class code or name", optional=True, parent="LABELS"),
        Param("CLASS_MAP", "text", "Class map (codes to classes)", CLASS_MAP_HELP, default="", optional=True),
        Param("LABELS_CRS", "crs", "CRS of labels that have none", LABELS_CRS_HELP, optional=True, advanced=True),
        Param("BLOCK_SIZE", "int", "Block size (pixels)", "block width and height in pixels", default=224, minimum=2),
        Param("EXTENT", "extent", "Extent", "area to cut: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)",
              optional=True),
        Param("EXTRA_BANDS", "list", "Extra bands (PATH or PATH@BANDS; ';' separated)", EXTRA_BANDS_HELP,
              optional=True, advanced=True),
        Param("STRIDE", "int", "Stride (pixels; 0: block size)", "step between blocks in pixels (0 = block size)",
              default=0, minimum=0, advanced=True),
        Param("VAL_FRACTION", "float", "Validation fraction",
              "fraction of blocks for validation (whole spatial groups)",
              default=0.2, minimum=0.0, maximum=0.95, advanced=True),
        Param("VAL_GROUP_SIZE", "int", "Validation group size (blocks; 0: automatic)",
              "validation groups of N x N blocks (0 = automatic)", default=0, minimum=0, advanced=True),
        Param("SEED", "int", "Seed of the validation split", "seed of the validation split", default=0, advanced=True),
        Param("OUTPUT", "file_out", "Block store", "block store to write (.h5)", file_filter="HDF5 files (*.h5)"),
    ),
    outputs=(
        Output("BLOCKS", "number", "Blocks written"),
        Output("TRAIN_BLOCKS", "number", "Training blocks"),
        Output("VAL_BLOCKS", "number", "Validation blocks"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..blocks import build_block_store

    return build_block_store(
        args.composite,
        args.output,
        labels=args.labels or None,
        label_field=args.label_field or None,
        class_map=args.class_map or None,
        labels_crs=args.labels_crs or None,
        extra_bands=args.extra_bands,
        block_size=args.block_size,
        stride=args.stride or None,
        val_fraction=args.val_fraction,
        extent=args.extent or None,
        seed=args.seed,
        val_group_size=args.val_group_size or None,
        progress=progress,
    )

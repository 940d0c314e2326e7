"""The `build-series` command (Processing `crops:build_series`): scenes -> a temporal block store (issue 17)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress
from .build_blocks import SPEC as BUILD_BLOCKS
from .ndvi_qm import SPEC as NDVI_QM

SPEC = Command(
    name="build-series", algorithm="build_series", context="BuildSeriesAlgorithm",
    display_name="Build time-series blocks", group="preprocessing", requires_torch=False,
    summary="Scenes to a time series (a composite every STEP_DAYS, gaps interpolated) cut into blocks for training.",
    help=(
        "Builds a block store whose images are a time series rather than one composite: a regular temporal grid "
        "from the Start date to the End date in steps of Step days. Each step is the NDVI quality mosaic of the "
        "scenes acquired in it (per pixel, all bands of the clear date with the highest NDVI); where a step has no "
        "clear observation, its values are interpolated linearly in time from the steps before and after (the "
        "store keeps a mask of the observed steps). A temporal model (train-source, architecture U-TAE) learns "
        "when each crop is green.\n"
        "\n"
        "Scenes, cloud mask, red / NIR band, scale and offset: as for the NDVI quality mosaic. Start / end date: "
        "empty for the first / last scene's date; source and target series should span the same part of their "
        "seasons with the same Step days, so they have as many steps.\n"
        "Labels, class map, block size, stride and the validation split: as for Build blocks."
    ),
    params=(
        *(NDVI_QM.param(name) for name in ("SCENES", "FOLDER", "PATTERN", "MASK_SUFFIX", "INVALID_CLASSES",
                                            "RED_BAND", "NIR_BAND")),
        replace(NDVI_QM.param("SCALE"), advanced=True),
        replace(NDVI_QM.param("OFFSET"), advanced=True),
        Param("START_DATE", "text", "Start date (YYYY-MM-DD)",
              "first day of the first step, YYYY-MM-DD (empty: the first scene's date)", optional=True),
        Param("END_DATE", "text", "End date (YYYY-MM-DD)",
              "last day of the last step, YYYY-MM-DD, inclusive (empty: the last scene's date)", optional=True),
        Param("STEP_DAYS", "int", "Step (days)", "length of each time step in days (e.g. 30: monthly, 10, 15)",
              default=30, minimum=1, maximum=366),
        *(BUILD_BLOCKS.param(name) for name in ("EXTENT", "LABELS", "LABEL_FIELD", "CLASS_MAP", "LABELS_CRS",
                                                 "BLOCK_SIZE", "STRIDE", "VAL_FRACTION", "VAL_GROUP_SIZE", "SEED",
                                                 "OUTPUT")),
    ),
    outputs=(
        Output("BLOCKS", "number", "Blocks written"),
        Output("TRAIN_BLOCKS", "number", "Training blocks"),
        Output("VAL_BLOCKS", "number", "Validation blocks"),
        Output("STEPS", "number", "Time steps"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..series import build_series_store
    from .ndvi_qm import read_scenes

    scenes, options = read_scenes(args, progress)
    return build_series_store(
        scenes,
        args.output,
        step_days=args.step_days,
        options=options,
        labels=args.labels or None,
        label_field=args.label_field or None,
        class_map=args.class_map or None,
        labels_crs=args.labels_crs or None,
        block_size=args.block_size,
        stride=args.stride or None,
        val_fraction=args.val_fraction,
        seed=args.seed,
        val_group_size=args.val_group_size or None,
        progress=progress,
    )

"""The `import-agrifm` command (Processing `crops:import_agrifm`): AgriFM H5 samples -> a block store (issue 17)."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress
from .build_blocks import SPEC as BUILD_BLOCKS

SPEC = Command(
    name="import-agrifm", algorithm="import_agrifm", context="ImportAgrifmAlgorithm",
    display_name="Import AgriFM samples", group="preprocessing", requires_torch=False,
    summary="A folder of AgriFM samples (one .h5 per sample, data_lists/) to a labelled block store for training.",
    help=(
        "Reads samples in the AgriFM layout: one HDF5 file per sample holding one dataset per source (T, C, H, W), "
        "e.g. S2, and the labels (H, W) in `label`; the files data_lists/train.txt, val.txt (and test.txt) name "
        "the samples of each split (without them every sample is for training). Each sample becomes one block of a "
        "block store that Train source model, Partition and the adaptation commands read like one from Build "
        "time-series blocks.\n"
        "\n"
        "Sources: the datasets to read, e.g. S2, or S2;S1 for two sensors (empty: S2, else every source of the "
        "first file). Every source must have the label's height and width. One source gives the features "
        "t01:B02 ... (steps x bands, as Build time-series blocks); several give S2:t01:B02 ... S1:t01:VV, source "
        "after source, and the model trained on them needs the same sources. Labels are class codes: the class map "
        "maps them to classes as for Build blocks (empty: the classes Export AgriFM samples wrote in the files, else "
        "every code is a class and 0 is ignore). AgriFM files record no dates: a source's `dates` attribute gives "
        "them when present, else the steps are nominal, Step days apart from the Start date."
    ),
    params=(
        Param("INPUT", "folder", "Folder of AgriFM samples", "folder of AgriFM .h5 samples (with data_lists/)"),
        Param("SOURCES", "list", "Sources", "source datasets to read, e.g. S2 or S2;S1 (empty: S2, else all)",
              optional=True),
        Param("CLASS_MAP", "text", "Class map (codes to classes)",
              "label codes to classes, e.g. '11=wheat; 22=maize; *=other; 0=ignore' (empty: the classes the files "
              "record, else every code is a class and 0 is ignore)", default="", optional=True),
        Param("STEP_DAYS", "int", "Step (days, when the files have no dates)",
              "days between steps when a source has no `dates` attribute", default=30, minimum=1, maximum=366,
              advanced=True),
        Param("START_DATE", "text", "Start date (YYYY-MM-DD, when the files have no dates)",
              "date of the first step when a source has no `dates` attribute (empty: 2000-01-01, nominal)",
              default="", optional=True, advanced=True),
        BUILD_BLOCKS.param("OUTPUT"),
    ),
    outputs=(
        Output("BLOCKS", "number", "Blocks written"),
        Output("TRAIN_BLOCKS", "number", "Training blocks"),
        Output("VAL_BLOCKS", "number", "Validation blocks"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..series.agrifm import import_agrifm

    return import_agrifm(args.input, args.output, sources=list(args.sources or []), class_map=args.class_map or None,
                         step_days=args.step_days, start_date=args.start_date or None, progress=progress)

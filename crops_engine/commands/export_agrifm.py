"""The `export-agrifm` command (Processing `crops:export_agrifm`): a block store -> AgriFM H5 samples (issue 17)."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="export-agrifm", algorithm="export_agrifm", context="ExportAgrifmAlgorithm",
    display_name="Export AgriFM samples", group="preprocessing", requires_torch=False,
    summary="A labelled block store to AgriFM samples: one .h5 per block and data_lists/ from its splits.",
    help=(
        "Writes every block of a labelled block store (Build blocks, Build time-series blocks, Import AgriFM "
        "samples) as an AgriFM sample: one HDF5 file per block with one dataset per source (T, C, H, W) and the "
        "class codes (H, W) in `label` (0 where unlabelled, or 255 when 0 is a class's code: the `ignore_code` "
        "attribute says which), and data_lists/train.txt and val.txt from the store's splits.\n"
        "\n"
        "A store imported from AgriFM keeps its sources and sample names; another store is one source, named by "
        "Source (a composite's store: one step of all its bands)."
    ),
    params=(
        Param("INPUT", "file", "Labelled block store", "labelled block store (.h5)", extension="h5"),
        Param("SOURCE", "text", "Source name (stores without sources)",
              "dataset name of a store that records no sources", default="S2", optional=True, advanced=True),
        Param("OUTPUT_FOLDER", "folder_out", "Output folder", "new (or empty) folder to write the samples into"),
    ),
    outputs=(Output("SAMPLES", "number", "Samples written"),),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..series.agrifm import export_agrifm

    return export_agrifm(args.input, args.output_folder, source=args.source or "S2", progress=progress)

"""The `diagnostics` command (Processing `crops:diagnostics`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="diagnostics", algorithm="diagnostics", context="DiagnosticsAlgorithm", display_name="Diagnostics",
    group="tools", requires_torch=False,
    summary="Report versions of the engine's libraries, CUDA devices and the interpreter in use.",
    help=(
        "Reports the engine Python in use and the versions of QGIS, GDAL, Python, torch, timm, h5py and numpy, "
        "whether CUDA is available and which devices were found.\n"
        "\n"
        "Report: an HTML (.html) or text (.txt) file.\n"
        "\n"
        "Run it first when setting CROPS up, and attach the report to bug reports."
    ),
    params=(
        Param("OUTPUT", "file_out", "Report", "report file (.html or .txt); printed only when omitted", optional=True,
              file_filter="HTML files (*.html);;Text files (*.txt)"),
        Param("QGIS_VERSION", "text", "QGIS version", "the QGIS version the plugin runs in (set by the plugin)",
              optional=True, hidden=True),
    ),
    outputs=(
        Output("CUDA_AVAILABLE", "bool", "CUDA available"),
        Output("DEVICES", "string", "Devices"),
        Output("ENGINE_PYTHON", "string", "Engine Python"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..diagnostics import collect, render_text, write_report

    progress(0.1, "Inspecting the engine environment")
    info = collect(args.qgis_version)
    progress.log(render_text(info))
    result: dict[str, Any] = {
        "cuda_available": info["cuda_available"],
        "devices": info["devices"],
        "engine_python": info["engine_python"],
        "torch": info["libraries"]["torch"],
    }
    if args.output:
        result["output"] = str(write_report(info, args.output))
    progress(1.0, "Done")
    return result

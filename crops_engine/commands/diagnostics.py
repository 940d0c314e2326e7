"""Report versions of the engine's libraries, CUDA devices and the interpreter in use."""

from __future__ import annotations

import argparse
from typing import Any

from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", help="report file (.html or .txt); printed only when omitted")
    parser.add_argument("--qgis-version", help=argparse.SUPPRESS)


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

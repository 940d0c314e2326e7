"""The engine's sub-commands: one module each, holding its declaration (`SPEC`) and `run(args, progress)`.

A command module imports heavy libraries (torch, h5py, GDAL) inside `run` only, so the declarations
load fast, in the plugin's QGIS Python too (which has no torch).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..command_spec import Command

# Engine command name -> module in this package, in the pipeline's order.
MODULES: dict[str, str] = {
    "diagnostics": "diagnostics",
    "sample-data": "sample_data",
    "ndvi-qm": "ndvi_qm",
    "build-blocks": "build_blocks",
    "build-series": "build_series",
    "import-agrifm": "import_agrifm",
    "export-agrifm": "export_agrifm",
    "pretrain": "pretrain",
    "import-weights": "import_weights",
    "train-source": "train_source",
    "align-statistics": "align_statistics",
    "partition": "partition",
    "adapt": "adapt",
    "adapt-spcl": "adapt_spcl",
    "trust-report": "trust_report",
    "infer": "infer",
    "infer-series": "infer_series",
    "evaluate": "evaluate",
    "field-classes": "field_classes",
    "run-config": "run_config",
    "batch": "batch",
}


def command_module(name: str) -> ModuleType:
    """The module of engine command `name` (a KeyError for an unknown one)."""
    return importlib.import_module(f".{MODULES[name]}", __package__)


def command_specs() -> list[Command]:
    """Every command's declaration, in the pipeline's order."""
    return [command_module(name).SPEC for name in MODULES]


def declared(command: str, name: str) -> Any:
    """The declared default of parameter `name` of `command`: what the engine's config dataclasses default to,
    so a default is written once, in the declaration."""
    return command_module(command).SPEC.param(name).default


def declared_choices(command: str, name: str) -> tuple[str, ...]:
    """The declared choices of parameter `name` of `command` (the values the engine accepts)."""
    return command_module(command).SPEC.param(name).choices

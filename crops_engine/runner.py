"""Runs one engine command from parsed arguments and records it: the one path every surface takes.

The CLI, `run-config` and `batch` all call `execute`, so every successful run leaves its
`<output>.run.json` (run_record) beside its main output, however it was started.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from .command_spec import Command
from .commands import command_module
from .errors import CropsError
from .progress import Progress
from .run_record import argv_of, write_record


def execute(module: ModuleType, args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    """`module.run(args, progress)`, then the run record beside its main output."""
    started = datetime.now(UTC)
    result = module.run(args, progress) or {}
    spec: Command = module.SPEC
    if spec.records_runs:
        path = write_record(spec, args, result, started)
        if path is not None:
            result["run_record"] = str(path)
    return result


def parse_command(argv: list[str]) -> tuple[ModuleType, argparse.Namespace]:
    """(module, args) of an engine argument list; an argument error is a CropsError with argparse's message."""
    from .cli import build_parser

    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser().parse_args(argv)
    except SystemExit:
        message = errors.getvalue().strip().splitlines()
        raise CropsError(f"The parameters of {argv[0]} do not parse: {message[-1] if message else argv}") from None
    return args._module, args


def run_parameters(command: str, parameters: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run engine command `command` with {PARAM_NAME: value} (unset names take their defaults)."""
    try:
        spec = command_module(command).SPEC
    except KeyError:
        raise CropsError(f"Unknown engine command {command!r}; `python -m crops_engine --help` lists them.") from None
    module, args = parse_command(argv_of(spec, parameters))
    return execute(module, args, progress)

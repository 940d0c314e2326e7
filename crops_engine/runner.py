"""Runs one engine command from parsed arguments and records it: the one path every surface takes.

The CLI, `run-config` and `batch` all call `execute`, so every successful run leaves its
`<output>.run.json` (run_record) beside its main output, however it was started, and every run
first checks that each of its outputs can be written (`atomic.check_output`: before any work, so
`train-source` refuses an unwritable OUTPUT before it trains), takes each output's lock (a second
run writing the same output is refused, naming the live run's process) and removes the leftovers
of dead runs beside it. A write that fails for a reason of its location (full disk, read-only,
permission) is a CropsError naming the output and the fix, whichever library raised it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from . import distributed
from .atomic import check_output, explain_write_error, output_lock
from .checkpoint import verify_checkpoint
from .command_spec import OUTPUT_KINDS, Command, Param
from .commands import command_module
from .errors import Cancelled, CropsError
from .progress import Progress
from .run_record import argv_of, write_record

RESUME_SUFFIX = ".resume.safetensors"  # training_state.SUFFIX (that module imports torch)

# Inputs a command edits in place (beside its outputs): they are locked like outputs.
EDITED_INPUTS = {"partition": ("BLOCKS",)}


def _suffix(param: Param) -> str:
    """`.tif` for a raster, the first `*.ext` of a file filter (for the example name in messages)."""
    if param.kind == "raster_out":
        return ".tif"
    if param.kind == "vector_out":
        return ".gpkg"
    match = re.search(r"\*(\.[A-Za-z0-9]+)", param.file_filter or "")
    return match.group(1) if match else (f".{param.extension}" if param.extension else "")


def written_paths(spec: Command, args: argparse.Namespace) -> list[tuple[Param, str]]:
    """(parameter, path) of every output the run writes and every input it edits in place."""
    found = []
    for p in spec.params:
        value = getattr(args, p.dest, None)
        if value and isinstance(value, str) and (p.kind in OUTPUT_KINDS or p.name in EDITED_INPUTS.get(spec.name, ())):
            found.append((p, value.split("|", 1)[0]))
    return found


def model_inputs(spec: Command, args: argparse.Namespace) -> list[str]:
    """The model checkpoints a run reads: MODEL parameters, and RESUME of a command that writes models when it names
    a model (not its `.resume.safetensors` state)."""
    writes_models = any(p.is_output and p.file_filter.startswith("Model (") for p in spec.params)
    found = []
    for p in spec.params:
        value = getattr(args, p.dest, None)
        if not value or p.kind != "file" or not isinstance(value, str):
            continue
        model = p.name == "MODEL" or p.file_filter.startswith("Model (")
        if model or (p.name == "RESUME" and writes_models and not value.endswith(RESUME_SUFFIX)):
            found.append(value)
    return found


def execute(module: ModuleType, args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    """`module.run(args, progress)` with its outputs checked and locked, then the run record beside its main output."""
    started = datetime.now(UTC)
    spec: Command = module.SPEC
    written = written_paths(spec, args)
    if not distributed.start(spec.name, args).writer:  # under torchrun: process 0 checks, locks and records
        distributed.guard_outputs(path for _, path in written)
        return module.run(args, progress) or {}
    for p, path in written:
        if p.kind in OUTPUT_KINDS:
            check_output(path, p.name, folder=p.kind == "folder_out", suffix=_suffix(p))
    named = [(p.name, path) for p, path in written]
    for path in model_inputs(spec, args):  # a corrupt or edited checkpoint is refused before anything is loaded
        verify_checkpoint(path)
    with output_lock(named, f"crops {spec.name}"):
        try:
            result = module.run(args, progress) or {}
            if spec.records_runs:
                path = write_record(spec, args, result, started)
                if path is not None:
                    result["run_record"] = str(path)
        except (CropsError, Cancelled):
            raise
        except Exception as exc:
            explained = explain_write_error(named, exc)
            if explained is not None:
                raise explained from None
            raise
    return result


def parse_command(argv: list[str]) -> tuple[ModuleType, argparse.Namespace]:
    """(module, args) of an engine argument list; an argument error is a CropsError with argparse's message."""
    from .cli import UsageError, build_parser

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # `--help` in a plan prints nothing into the events
            args = build_parser().parse_args(argv)
    except UsageError as exc:
        raise CropsError(f"The parameters of {argv[0]} do not parse: {exc}") from None
    except SystemExit:
        raise CropsError(f"The parameters of {argv[0]} ask for help or the version, not a run: {argv}") from None
    return args._module, args


def run_parameters(command: str, parameters: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run engine command `command` with {PARAM_NAME: value} (unset names take their defaults)."""
    try:
        spec = command_module(command).SPEC
    except KeyError:
        raise CropsError(f"Unknown engine command {command!r}; `python -m crops_engine --help` lists them.") from None
    module, args = parse_command(argv_of(spec, parameters))
    return execute(module, args, progress)

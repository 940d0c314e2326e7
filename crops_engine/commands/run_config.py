"""The `run-config` command (Processing `crops:run_config`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="run-config", algorithm="run_config", context="RunConfigAlgorithm", display_name="Repeat a run",
    group="tools", records_runs=False,
    summary="Repeat a recorded run (a .run.json), optionally with some parameters changed.",
    help=(
        "Repeats a run exactly as it was recorded: every CROPS step writes name.run.json beside its main output "
        "(the command, every parameter as resolved, the inputs' sizes and times, versions, device).\n"
        "\n"
        "Run record: that .run.json. Changes: NAME=VALUE items separated by ';' (e.g. SEED=3; "
        "OUTPUT=/data/map2019.tif), names as in the algorithm's parameters; a name the recorded command does "
        "not have is an error. A warning names every input whose size or time changed since the run was "
        "recorded. The repeated run writes its own .run.json."
    ),
    params=(
        Param("CONFIG", "file", "Run record (.run.json)", "the .run.json of the run to repeat",
              file_filter="Run record (*.run.json *.json)"),
        Param("SET", "list", "Changes (NAME=VALUE; ...)", "parameters to change, NAME=VALUE (repeat or ';')",
              optional=True),
        Param("COMMAND", "text", "Command", "the command the record must be of (the CLI's `<command> --config`)",
              optional=True, hidden=True),
    ),
    outputs=(Output("RUN_RECORD", "file", "Run record of the repeat"),),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..commands import command_module
    from ..run_record import changed_inputs, parse_assignments, read_record
    from ..runner import run_parameters

    record = read_record(args.config)
    command = str(record["command"])
    if args.command and args.command != command:
        raise CropsError(f"{args.config} records a {command} run, not {args.command}; run "
                         f"`python -m crops_engine {command} --config {args.config}` (or without the command).")
    try:
        spec = command_module(command).SPEC
    except KeyError:
        raise CropsError(f"{args.config} records command {command!r}, which this engine does not have; "
                         "it was written by another CROPS version.") from None
    parameters = dict(record["parameters"])
    parameters.update(parse_assignments(args.set, spec))
    for note in changed_inputs(record):
        progress.warn(note)
    progress.log(f"Repeating the {command} run recorded in {args.config}.")
    return run_parameters(command, parameters, progress)

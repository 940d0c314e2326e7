"""The `batch` command (Processing `crops:batch`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ..command_spec import Command, Output, Param
from ..errors import Cancelled, CropsError
from ..progress import Progress

ON_FAILURE = ("stop", "continue")

SPEC = Command(
    name="batch", algorithm="batch", context="BatchAlgorithm", display_name="Run a batch plan", group="tools",
    records_runs=False,
    summary="Run a list of engine runs in order (a JSON plan), with a summary table at the end.",
    help=(
        "Runs the runs of a plan in order, each with its own outputs and .run.json, and ends with a summary table "
        "(run, command, status, seconds, message).\n"
        "\n"
        "Plan: a JSON file {\"on_failure\": \"stop\", \"runs\": [...]} (on_failure: stop or continue); each run is "
        "{\"name\": ..., \"command\": \"adapt-spcl\", \"parameters\": {\"MODEL\": ..., ...}} or "
        "{\"config\": \"earlier.run.json\", \"set\": {\"SEED\": 3}} (a recorded run repeated with changes). "
        "Relative paths in a plan are relative to the plan's folder. On failure, stop (the default) skips the "
        "remaining runs; continue runs them. The batch fails when any run failed.\n"
        "Summary: an optional JSON file with the table."
    ),
    params=(
        Param("PLAN", "file", "Plan (.json)", "the batch plan (JSON)", file_filter="Batch plan (*.json)"),
        Param("OUTPUT", "file_out", "Summary (JSON)", "the summary table as JSON", optional=True,
              file_filter="JSON files (*.json)", create_by_default=False),
    ),
    outputs=(
        Output("SUCCEEDED", "number", "Runs that succeeded"),
        Output("FAILED", "number", "Runs that failed"),
    ),
)

_PATH_KINDS = ("file", "folder", "raster", "map_layer", "polygons", "raster_out", "vector_out", "file_out",
               "folder_out")


def _load_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CropsError(f"PLAN {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CropsError(f"PLAN {path} is not readable JSON ({exc}).") from None
    runs = plan.get("runs") if isinstance(plan, dict) else None
    if not isinstance(runs, list) or not runs or not all(isinstance(r, dict) for r in runs):
        raise CropsError(f"PLAN {path} needs a non-empty list 'runs' of objects (see docs/batch.md).")
    if plan.get("on_failure", "stop") not in ON_FAILURE:
        raise CropsError(f"PLAN {path}: on_failure must be one of {', '.join(ON_FAILURE)}.")
    return plan


def _names(values: dict[str, Any]) -> dict[str, Any]:
    return {str(k).strip().upper().replace("-", "_"): v for k, v in values.items()}


def _relative_to(folder: Path, command: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Relative file parameters of a plan are relative to the plan's folder."""
    from ..commands import command_module

    kinds = {p.name: p.kind for p in command_module(command).SPEC.params}
    fixed = {}
    for name, value in parameters.items():
        kind = kinds.get(name)
        if kind in _PATH_KINDS and isinstance(value, str) and value and not Path(value.split("|")[0]).is_absolute():
            value = str(folder / value)
        elif kind == "rasters" and isinstance(value, list):
            value = [v if Path(v).is_absolute() else str(folder / v) for v in value]
        fixed[name] = value
    return fixed


def _resolve(item: dict[str, Any], folder: Path) -> tuple[str, dict[str, Any]]:
    """(command, parameters) of one plan item."""
    from ..run_record import read_record

    if "config" in item:
        config = Path(item["config"])
        record = read_record(config if config.is_absolute() else folder / config)
        command = str(record["command"])
        parameters = {**record["parameters"], **_relative_to(folder, command, _names(item.get("set", {})))}
        return command, parameters
    if "command" not in item:
        raise CropsError("a plan run needs 'command' (with 'parameters') or 'config' (with 'set').")
    command = str(item["command"])
    return command, _relative_to(folder, command, _names(item.get("parameters", {})))


def summary_table(rows: list[dict[str, Any]]) -> str:
    header = f"{'run':<24} {'command':<14} {'status':<8} {'seconds':>8}  message"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['name'][:24]:<24} {r['command'][:14]:<14} {r['status']:<8} {r['seconds']:>8.1f}  "
                     f"{r.get('message', '')}")
    return "\n".join(lines)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..atomic import atomic_path
    from ..runner import run_parameters

    plan_path = Path(args.plan)
    plan = _load_plan(plan_path)
    folder = plan_path.resolve().parent
    stop = plan.get("on_failure", "stop") == "stop"
    runs = plan["runs"]
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(runs):
        name = str(item.get("name") or f"run {i + 1}")
        row: dict[str, Any] = {"name": name, "command": str(item.get("command", "(config)")), "status": "skipped",
                               "seconds": 0.0}
        rows.append(row)
        if stop and any(r["status"] == "failed" for r in rows):
            continue
        started = time.perf_counter()
        progress.log(f"Batch run {i + 1}/{len(runs)}: {name}")
        try:
            command, parameters = _resolve(item, folder)
            row["command"] = command
            result = run_parameters(command, parameters, progress.sub(i / len(runs), (i + 1) / len(runs)))
            row.update(status="ok", run_record=result.get("run_record"))
        except Cancelled:
            raise
        except CropsError as exc:
            row.update(status="failed", message=str(exc))
        except Exception as exc:  # noqa: BLE001 - one broken run must not hide the others' results
            row.update(status="failed", message=f"unexpected {type(exc).__name__}: {exc}")
        row["seconds"] = round(time.perf_counter() - started, 3)
    table = summary_table(rows)
    progress.log("Batch summary:\n" + table)
    succeeded = sum(r["status"] == "ok" for r in rows)
    failed = sum(r["status"] == "failed" for r in rows)
    result: dict[str, Any] = {"runs": rows, "succeeded": succeeded, "failed": failed,
                              "skipped": len(rows) - succeeded - failed}
    if args.output:
        with atomic_path(Path(args.output)) as tmp:
            tmp.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        result["output"] = str(args.output)
    if failed:
        first = next(r for r in rows if r["status"] == "failed")
        raise CropsError(f"{failed} of {len(rows)} batch runs failed (first: {first['name']}: {first['message']}); "
                         f"{succeeded} succeeded, {result['skipped']} skipped. The summary above lists them.")
    progress(1.0, f"Batch finished: {succeeded} runs")
    return result

"""The record of a finished run (`<output>.run.json`): enough to see how an output was made and to repeat it.

It holds the command, every parameter as resolved (defaults included, under its Processing name),
the identity of every input file (path, size, modification time; a checkpoint's weight digest), the
engine's and its libraries' versions, device, world size, start and end time, the exit status and
the paths the run wrote. It is written atomically after the outputs are complete, so a run that
failed or was cancelled leaves no record (and nothing else) behind.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import atomic_path
from .checkpoint import sibling
from .command_spec import OUTPUT_KINDS, Command, Param
from .errors import CropsError

FORMAT = "crops-run/1"
SUFFIX = ".run.json"
INPUT_KINDS = ("file", "folder", "raster", "map_layer", "polygons", "rasters")
LIBRARIES = ("torch", "timm", "h5py", "safetensors", "numpy", "GDAL")


def record_path(output: str | os.PathLike[str]) -> Path:
    """`model.safetensors` -> `model.run.json`; `classes.tif` -> `classes.run.json`; a folder -> `folder.run.json`."""
    return sibling(output, SUFFIX)


def main_output(spec: Command, args: argparse.Namespace) -> Path | None:
    """Where the record goes: beside the first output the run wrote (or the block store a partition edits)."""
    for p in spec.params:
        value = getattr(args, p.dest, None)
        if p.kind in OUTPUT_KINDS and value:
            return Path(value)
    if spec.name == "partition" and getattr(args, "blocks", None):
        return Path(args.blocks)
    return None


def _layer_path(value: str) -> str:
    return str(value).split("|", 1)[0]  # QGIS's `file.gpkg|layername=x`


def file_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Path, size and modification time of an input (and a checkpoint's weight digest)."""
    p = Path(path)
    entry: dict[str, Any] = {"path": str(p.resolve()) if p.exists() else str(p)}
    if p.is_file():
        stat = p.stat()
        entry.update(size=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat())
        if p.name.endswith(".safetensors"):
            entry["weights_sha256"] = _weights_digest(p)
    return entry


def _weights_digest(path: Path) -> str | None:
    """The weight digest a CROPS checkpoint records in its header (read without loading any tensor)."""
    try:
        with path.open("rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            if not 0 < size < 100 << 20:
                return None
            header = json.loads(fh.read(size))
    except (OSError, ValueError):
        return None
    return (header.get("__metadata__") or {}).get("crops_weights_sha256")


def _inputs(spec: Command, args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for p in spec.params:
        value = getattr(args, p.dest, None)
        if p.kind not in INPUT_KINDS or not value:
            continue
        if p.kind == "rasters":
            found[p.name] = [file_identity(_layer_path(v)) for v in value]
        else:
            found[p.name] = file_identity(_layer_path(value))
    if spec.name in ("build-blocks", "partition", "infer"):  # EXTRA_BANDS are inputs too: PATH@BANDS
        extra = getattr(args, "extra_bands", ()) or ()
        if extra:
            found["EXTRA_BANDS"] = [file_identity(str(v).split("@", 1)[0]) for v in extra]
    return found


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "crops_engine": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if versions.get("GDAL") is None:
        try:
            from osgeo import gdal

            versions["GDAL"] = gdal.__version__
        except ImportError:
            pass
    return versions


def _written(result: dict[str, Any]) -> list[str]:
    """Every path among the result's values that exists now (outputs and their sidecars)."""
    paths: list[str] = []
    for value in result.values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, str) and item.strip(" .") and Path(item).exists():
                paths.append(str(Path(item).resolve()))
    return list(dict.fromkeys(paths))


PATH_KINDS = INPUT_KINDS + OUTPUT_KINDS


def _absolute(value: str) -> str:
    path, sep, layer = str(value).partition("|")
    return str(Path(path).resolve()) + sep + layer


def parameters_of(spec: Command, args: argparse.Namespace) -> dict[str, Any]:
    """{PARAM_NAME: value} as the run resolved them: lists as lists, file paths absolute (so a repeat from
    another folder reads and writes the same files)."""
    values: dict[str, Any] = {}
    for p in spec.params:
        value = getattr(args, p.dest, None)
        if p.kind in PATH_KINDS and value:
            value = [_absolute(v) for v in value] if isinstance(value, (list, tuple)) else _absolute(value)
        values[p.name] = list(value) if isinstance(value, tuple) else value
    return values


def build_record(spec: Command, args: argparse.Namespace, result: dict[str, Any], started: datetime,
                 ended: datetime) -> dict[str, Any]:
    written = _written(result)
    record_file = main_output(spec, args)
    return {
        "format": FORMAT,
        "command": spec.name,
        "algorithm": f"crops:{spec.algorithm}",
        "parameters": parameters_of(spec, args),
        "inputs": _inputs(spec, args),
        "versions": _library_versions(),
        "device": result.get("device"),
        "world_size": int(os.environ.get("WORLD_SIZE", "1") or 1),
        "host": platform.node(),
        "argv": sys.argv,
        "started": started.isoformat(timespec="seconds"),
        "ended": ended.isoformat(timespec="seconds"),
        "seconds": round((ended - started).total_seconds(), 3),
        "exit_status": 0,
        "outputs": written,
        "record": str(record_path(record_file).resolve()) if record_file else None,
    }


def write_record(spec: Command, args: argparse.Namespace, result: dict[str, Any], started: datetime) -> Path | None:
    """Write the record of a finished run beside its main output; returns its path (None: the run has no output)."""
    output = main_output(spec, args)
    if output is None or not (output.exists() or output.parent.is_dir()):
        return None
    path = record_path(output)
    record = build_record(spec, args, result, started, datetime.now(UTC))
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return path


# -- reading a record back ---------------------------------------------------------------------------


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run record, checked for its format; a CropsError naming what is wrong otherwise."""
    p = Path(path)
    try:
        record = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CropsError(f"CONFIG {p} does not exist; give the .run.json written beside an earlier run's output.") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CropsError(f"CONFIG {p} is not a readable run record ({exc}).") from None
    if not isinstance(record, dict) or "command" not in record or not isinstance(record.get("parameters"), dict):
        raise CropsError(f"CONFIG {p} is not a CROPS run record: it needs 'command' and 'parameters'.")
    return record


def changed_inputs(record: dict[str, Any]) -> list[str]:
    """Sentences naming each recorded input whose size or modification time differs now."""
    notes = []
    for name, entries in (record.get("inputs") or {}).items():
        for entry in entries if isinstance(entries, list) else [entries]:
            p = Path(entry.get("path", ""))
            if "size" not in entry:
                continue
            if not p.is_file():
                notes.append(f"{name} {p} no longer exists.")
                continue
            stat = p.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).isoformat()
            if stat.st_size != entry["size"] or modified != entry.get("modified"):
                notes.append(f"{name} {p} changed since the run was recorded (size {entry['size']} -> "
                             f"{stat.st_size} bytes, modified {entry.get('modified')} -> {modified}).")
    return notes


def argv_of(spec: Command, parameters: dict[str, Any]) -> list[str]:
    """Engine arguments that resolve to `parameters` ({PARAM_NAME: value}); unknown names are a CropsError."""
    known = {p.name: p for p in spec.params}
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise CropsError(
            f"The run record names parameters that {spec.name} does not have: {', '.join(unknown)}. It was written by "
            f"another (newer?) CROPS engine than this one ({__version__}); update CROPS, or remove those parameters."
        )
    argv = [spec.name]
    for name, value in parameters.items():
        argv += _option_values(known[name], value)
    return argv


def _option_values(p: Param, value: Any) -> list[str]:
    if value is None or (p.kind in ("list", "rasters") and not value):
        return []
    if p.kind == "list":
        return [x for item in value for x in (p.option, str(item))]
    if p.kind == "rasters":
        return [p.option, *[str(v) for v in value]]
    if p.kind == "bool":
        return [p.option, "true" if value in (True, "true", "True", 1, "1") else "false"]
    return [p.option, str(value)]


def parse_assignments(items: tuple[str, ...] | list[str], spec: Command) -> dict[str, str]:
    """`NAME=VALUE` overrides, checked against the command's parameter names."""
    known = {p.name for p in spec.params}
    found: dict[str, str] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip().upper().replace("-", "_")
        if not sep or not name:
            raise CropsError(f"SET {item!r} is not NAME=VALUE (e.g. SEED=3).")
        if name not in known:
            raise CropsError(f"SET {name}: {spec.name} has no such parameter; it has {', '.join(sorted(known))}.")
        found[name] = value
    return found

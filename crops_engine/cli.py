"""Command line of the engine; also the worker protocol the QGIS plugin speaks.

Every sub-command mirrors one Processing algorithm: parameter `OUTPUT_FOLDER` is option
`--output-folder`. With `--json-events` the command writes one JSON object per line to
stdout: `{"event": "progress"|"log"|"metric"|"result"|"error", ...}`; without it,
progress goes to stderr as text and the result is printed as JSON at the end.

Exit codes: 0 success, 1 an error the user can fix (message says how), 2 cancelled,
3 an unexpected failure (traceback in the error event).
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
import time
import traceback
from typing import Any

from . import __version__
from .errors import Cancelled, CropsError
from .progress import Progress

# command name -> module in `crops_engine.commands`; each defines `add_arguments(parser)`
# and `run(args, progress) -> dict` (the result: output paths and figures). Command
# modules import heavy libraries (torch, h5py) inside `run`, so `--help` stays fast.
COMMANDS: dict[str, str] = {
    "diagnostics": "diagnostics",
    "sample-data": "sample_data",
    "ndvi-qm": "ndvi_qm",
    "build-blocks": "build_blocks",
    "train-source": "train_source",
    "infer": "infer",
    "evaluate": "evaluate",
    "partition": "partition",
    "adapt": "adapt",
    "adapt-spcl": "adapt_spcl",
}

EXIT_OK, EXIT_USER, EXIT_CANCELLED, EXIT_BUG = 0, 1, 2, 3


def option(name: str) -> str:
    """Processing parameter name -> CLI option (`OUTPUT_FOLDER` -> `--output-folder`)."""
    return "--" + name.lower().replace("_", "-")


class _JsonReporter:
    """Writes events as JSON lines; thread-safe, flushed per line."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        line = json.dumps({"event": event, **payload}, default=str)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class _TextReporter:
    """Human-readable progress on stderr, at most a few lines per second."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._last = 0.0

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        if event == "progress":
            now = time.monotonic()
            if now - self._last < 0.5 and payload["value"] < 1.0:
                return
            self._last = now
            text = payload.get("text", "")
            self._stream.write(f"[{payload['value'] * 100:5.1f}%] {text}\n")
        elif event == "log":
            prefix = "WARNING: " if payload.get("level") == "warning" else ""
            self._stream.write(prefix + payload["text"] + "\n")
        elif event == "metric":
            extra = {k: v for k, v in payload.items() if k not in {"name", "value"}}
            self._stream.write(f"  {payload['name']} = {payload['value']:.6g} {extra or ''}\n")
        self._stream.flush()


def parse_bool(text: str) -> bool:
    """`true/false`, `yes/no`, `1/0` (how the Processing bridge passes booleans)."""
    value = str(text).strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def extra_band_specs(values: list[str]) -> tuple[str, ...]:
    """EXTRA_BANDS given as repeated options and/or ';'-separated: the PATH or PATH@BANDS items."""
    return tuple(part.strip() for value in values for part in value.split(";") if part.strip())


def add_torch_arguments(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    """DEVICE, AMP, THREADS (and SEED): how every command that runs a model runs it."""
    parser.add_argument(option("DEVICE"), choices=["auto", "cpu", "cuda"], default="auto", help="where to run")
    parser.add_argument(option("AMP"), type=parse_bool, default=True, help="mixed precision on CUDA (true/false)")
    parser.add_argument(option("THREADS"), type=int, default=0, help="CPU threads for torch (0: torch's default)")
    if seed:
        parser.add_argument(option("SEED"), type=int, default=0, help="random seed (deterministic on CPU)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crops_engine",
        description="CROPS engine: crop-type mapping with source-free domain adaptation.",
    )
    parser.add_argument("--version", action="version", version=f"crops_engine {__version__}")
    parser.add_argument(
        "--json-events",
        action="store_true",
        help="write JSON-line events on stdout (the QGIS worker protocol)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f".commands.{module_name}", __package__)
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(name, help=doc[0] if doc else None, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.json_events:
        reporter: Any = _JsonReporter(sys.stdout)
    else:
        reporter = _TextReporter(sys.stderr)
    cancel = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        cancel.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    progress = Progress(reporter, cancel)
    try:
        result = args._module.run(args, progress) or {}
    except Cancelled as exc:
        reporter("error", {"message": str(exc), "kind": "cancelled"})
        return EXIT_CANCELLED
    except CropsError as exc:
        reporter("error", {"message": str(exc), "kind": "input"})
        if not args.json_events:
            sys.stderr.write(f"ERROR: {exc}\n")
        return EXIT_USER
    except Exception as exc:  # noqa: BLE001 - reported to the user with its traceback
        reporter(
            "error",
            {
                "message": f"{type(exc).__name__}: {exc}",
                "kind": "bug",
                "traceback": traceback.format_exc(),
            },
        )
        if not args.json_events:
            traceback.print_exc()
        return EXIT_BUG
    if args.json_events:
        reporter("result", {"outputs": result})
    else:
        print(json.dumps(result, indent=2, default=str))
    return EXIT_OK

"""Command line of the engine; also the worker protocol the QGIS plugin speaks.

Every sub-command is declared once (`commands/<name>.py`, `SPEC`) and mirrors one Processing
algorithm: parameter `OUTPUT_FOLDER` is option `--output-folder`. With `--json-events` the command
writes one JSON object per line to stdout: `{"event": "progress"|"log"|"metric"|"result"|"error", ...}`; without it,
progress goes to stderr as text and the result is printed as JSON at the end.

Exit codes: 0 success, 1 an error the user can fix (message says how), 2 cancelled,
3 an unexpected failure (traceback in the error event).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import traceback
from typing import Any

from . import __version__
from .command_spec import HelpFormatter, add_arguments
from .commands import MODULES, command_module
from .errors import Cancelled, CropsError
from .progress import Progress
from .runner import execute

EXIT_OK, EXIT_USER, EXIT_CANCELLED, EXIT_BUG = 0, 1, 2, 3


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
    for name in MODULES:
        module = command_module(name)
        spec = module.SPEC
        p = sub.add_parser(name, help=spec.summary, description=spec.help,
                           formatter_class=HelpFormatter)
        add_arguments(p, spec)
        p.set_defaults(_module=module)
    return parser


def config_shorthand(argv: list[str]) -> list[str]:
    """`[COMMAND] --config run.json [--set NAME=VALUE ...]` -> the `run-config` command's arguments."""
    if "--config" not in argv or "run-config" in argv:
        return argv
    at = argv.index("--config")
    before = argv[:at]
    command = [a for a in before if not a.startswith("-")]
    rest = argv[at + 2:]
    out = [a for a in before if a.startswith("-")] + ["run-config", "--config", *argv[at + 1:at + 2]]
    if command:
        out += ["--command", command[-1]]
    while rest:
        if rest[0] != "--set" or len(rest) < 2:
            out.append(rest[0])  # argparse names what does not belong
            rest = rest[1:]
            continue
        out += rest[:2]
        rest = rest[2:]
    return out


def main(argv: list[str] | None = None) -> int:
    argv = config_shorthand(list(sys.argv[1:] if argv is None else argv))
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
        result = execute(args._module, args, progress)
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

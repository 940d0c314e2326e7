"""Command line of the engine; also the worker protocol the QGIS plugin speaks.

Every sub-command is declared once (`commands/<name>.py`, `SPEC`) and mirrors one Processing
algorithm: parameter `OUTPUT_FOLDER` is option `--output-folder`. With `--json-events` the command
writes one JSON object per line to stdout: `{"event": "progress"|"log"|"metric"|"result"|"error", ...}`; without it,
progress goes to stderr as text and the result is printed as JSON at the end.

Exit codes: 0 success, 1 an error the user can fix (message says how), 2 cancelled,
3 an unexpected failure (traceback in the error event). Every run that ends without success says so:
an `error` event (kind `input`, `cancelled` or `bug`) with `--json-events`, an `ERROR:` or
`CANCELLED:` line on stderr without it.

SIGTERM and SIGINT cancel the run at its next check (a training run writes its resume state first).
Under `--json-events` the run also cancels when the process that reads its events goes away (its
parent ends, or the event pipe breaks), so a killed QGIS or `qgis_process` never leaves an orphan
engine writing on. The result is reported only after the command's worker threads have ended.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any

from . import __version__, distributed
from .command_spec import HelpFormatter, add_arguments
from .commands import MODULES, command_module
from .errors import Cancelled, CropsError
from .progress import Progress
from .runner import execute

EXIT_OK, EXIT_USER, EXIT_CANCELLED, EXIT_BUG = 0, 1, 2, 3


JOIN_THREADS_S = 60.0  # at most this long for the command's worker threads to end before the outcome is reported


class _JsonReporter:
    """Writes events as JSON lines; thread-safe, flushed per line. When nobody reads them any more (a broken
    pipe: the QGIS worker was killed) it goes quiet and calls `on_broken` (which cancels the run)."""

    def __init__(self, stream: Any, on_broken: Any = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._on_broken = on_broken
        self.broken = False

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        line = json.dumps({"event": event, **payload}, default=str)
        with self._lock:
            if self.broken:
                return
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except (OSError, ValueError):  # EPIPE, or a closed stream
                self.broken = True
                _silence_stdout()
                if self._on_broken is not None:
                    self._on_broken()


def _silence_stdout() -> None:
    """Point stdout at the null device, so the exit's flush of a broken pipe cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


class _TextReporter:
    """Human-readable progress on stderr, at most a few updates per second.

    On a terminal, progress is one bar redrawn in place (`[#####-----]  42.0%  text`), notes and errors printed
    above it; elsewhere (a file, a pipe) one `[ 42.0%] text` line per update. `--json-events` does not use it.
    """

    BAR = 24  # characters of the bar

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._last = 0.0
        try:
            self._tty = bool(stream.isatty())
        except (AttributeError, ValueError):
            self._tty = False
        self._bar = ""  # the bar line now on screen ("" when none)
        if self._tty:
            import atexit

            atexit.register(self.close)

    def _width(self) -> int:
        import shutil

        return max(40, shutil.get_terminal_size((80, 24)).columns - 1)

    def _clear(self) -> None:
        if self._bar:
            self._stream.write("\r" + " " * len(self._bar) + "\r")

    def _line(self, text: str) -> None:
        """A line above the bar (the bar is drawn again below it)."""
        self._clear()
        self._stream.write(text + "\n")
        if self._bar:
            self._stream.write(self._bar)

    def _progress(self, value: float, text: str) -> None:
        value = min(max(value, 0.0), 1.0)
        filled = int(round(value * self.BAR))
        line = f"[{'#' * filled}{'-' * (self.BAR - filled)}] {value * 100:5.1f}%  {text}"
        line = line[:self._width()]
        self._clear()
        if value >= 1.0:
            self._stream.write(line + "\n")
            self._bar = ""
        else:
            self._stream.write(line)
            self._bar = line

    def close(self) -> None:
        """End a bar still on screen with its line (a run that stopped short of 100 %)."""
        if self._bar:
            self._stream.write("\n")
            self._bar = ""
            self._stream.flush()

    def __call__(self, event: str, payload: dict[str, Any]) -> None:
        if event == "progress":
            now = time.monotonic()
            if now - self._last < (0.1 if self._tty else 0.5) and payload["value"] < 1.0:
                return
            self._last = now
            text = payload.get("text", "")
            if self._tty:
                self._progress(float(payload["value"]), text)
            else:
                self._stream.write(f"[{payload['value'] * 100:5.1f}%] {text}\n")
        elif event == "log":
            prefix = "WARNING: " if payload.get("level") == "warning" else ""
            self._line(prefix + payload["text"])
        elif event == "metric":
            extra = {k: v for k, v in payload.items() if k not in {"name", "value"}}
            self._line(f"  {payload['name']} = {payload['value']:.6g} {extra or ''}")
        elif event == "error":
            self._clear()
            self._bar = ""
            if payload.get("traceback"):
                self._stream.write(payload["traceback"])
            prefix = "CANCELLED: " if payload.get("kind") == "cancelled" else "ERROR: "
            self._stream.write(prefix + payload["message"] + "\n")
        self._stream.flush()


class UsageError(CropsError):
    """A command line argparse refuses (an unknown option, a value out of its declared range)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as an error the user can fix (exit 1, an `error` event under
    `--json-events`), not argparse's exit 2, which the worker protocol reads as "cancelled"."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{message[:1].upper()}{message[1:]}. See `{self.prog} --help` for the parameters.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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


class _Cancel:
    """The run's cancel flag and why it was set (a signal, the event reader gone)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def message(self, exc: Cancelled) -> str:
        text = str(exc)
        if self.reason:
            text = f"{text.rstrip('.')} ({self.reason})."
        return f"{text} Partial outputs were removed; what a run keeps on cancel (a training run's resume state) " \
               "is kept."


def _watch_parent(cancel: _Cancel, stop: threading.Event) -> threading.Thread:
    """Cancel when the process that started this one ends (it reads our events; nobody else will)."""
    parent = os.getppid()

    def watch() -> None:
        while not stop.wait(0.5):
            if os.getppid() != parent:
                cancel.set("the process reading the events has ended")
                return

    thread = threading.Thread(target=watch, name="crops-parent-watch", daemon=True)
    thread.start()
    return thread


def _join_workers(skip: set[threading.Thread], timeout: float = JOIN_THREADS_S) -> list[str]:
    """Wait for the command's threads (`crops-*`, and every non-daemon one) to end; the names of those that did not.

    A daemon thread still inside torch or GDAL when the interpreter exits is torn down mid-call (a C++
    `terminate` abort, exit 134, after success was already printed): the outcome is reported only after this.
    """
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread in skip:
            continue
        if thread.name.startswith("crops-") or not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threading.enumerate() if t.is_alive() and t not in skip
            and t is not threading.current_thread() and (t.name.startswith("crops-") or not t.daemon)]


def main(argv: list[str] | None = None) -> int:
    cancel = _Cancel()

    def _on_signal(signum: int, frame: Any) -> None:
        cancel.set(f"{signal.Signals(signum).name} received")

    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _run(argv, cancel)
    finally:  # a caller in this process (a test, a batch) gets its handlers back
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


def _run(argv: list[str] | None, cancel: _Cancel) -> int:
    argv = config_shorthand(list(sys.argv[1:] if argv is None else argv))
    command_at = next((i for i, a in enumerate(argv) if not a.startswith("-")), len(argv))
    json_events = "--json-events" in argv[:command_at]  # an engine option: it comes before the command
    skip: set[threading.Thread] = set()
    stop_watch = threading.Event()
    text_reporter = None if json_events else _TextReporter(sys.stderr)
    if text_reporter is None:
        reporter: Any = _JsonReporter(sys.stdout, lambda: cancel.set("the event pipe is closed"))
        skip.add(_watch_parent(cancel, stop_watch))
    else:
        reporter = text_reporter
    reporter = distributed.rank_reporter(reporter)  # under torchrun processes > 0 report only their own errors
    progress = Progress(reporter, cancel.event)
    outcome: tuple[str, dict[str, Any], int]
    try:
        args = build_parser().parse_args(argv)
        result = execute(args._module, args, progress)
        outcome = ("result", {"outputs": result}, EXIT_OK)
    except Cancelled as exc:
        outcome = ("error", {"message": cancel.message(exc), "kind": "cancelled"}, EXIT_CANCELLED)
    except CropsError as exc:
        outcome = ("error", {"message": str(exc), "kind": "input"}, EXIT_USER)
    except Exception as exc:  # noqa: BLE001 - reported to the user with its traceback
        outcome = ("error", {"message": f"{type(exc).__name__}: {exc}", "kind": "bug",
                             "traceback": traceback.format_exc()}, EXIT_BUG)
    stop_watch.set()
    left = _join_workers(skip)
    if left:
        reporter("log", {"text": f"Worker threads still running at exit: {', '.join(left)}.", "level": "warning"})
    event, payload, code = outcome
    if text_reporter is not None:
        text_reporter.close()  # a bar left short of 100 % ends its line before the outcome is printed
    if event == "error" or json_events:
        reporter(event, payload)
    elif distributed.writer():
        print(json.dumps(payload["outputs"], indent=2, default=str))
    return code

"""The worker bridge: run `<engine python> -m crops_engine <command>` and relay its events.

The engine writes JSON lines (progress, log, metric, result, error) on stdout; this module
feeds them into a QgsProcessingFeedback, turns an `error` event into a
QgsProcessingException carrying the engine's message, and on cancel terminates the worker
(SIGTERM, then SIGKILL after a grace period) and removes partial outputs.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from ..crops_engine.atomic import remove_partial
from .engine_python import PLUGIN_ROOT, resolve_engine_python

TERMINATE_GRACE_S = 3.0
_POLL_S = 0.1


def engine_command(python: str, command: str, argv: Sequence[str]) -> list[str]:
    return [python, "-m", "crops_engine", "--json-events", command, *argv]


def _engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONHOME", None)  # QGIS may set it for its own interpreter
    return env


def _pump(stream: Any, tag: str, sink: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        sink.put((tag, line.rstrip("\n")))
    sink.put((tag, None))


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM lets the engine clean up at its next check; SIGKILL if it does not in time."""
    if proc.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            proc.terminate()
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


class _Relay:
    """Turns engine events into feedback calls; keeps the result and the error."""

    def __init__(self, feedback: QgsProcessingFeedback) -> None:
        self.feedback = feedback
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.stderr_tail: deque[str] = deque(maxlen=40)

    def stdout(self, line: str) -> None:
        try:
            event = json.loads(line)
            kind = event.get("event")
        except (json.JSONDecodeError, AttributeError):
            self.feedback.pushConsoleInfo(line)  # a library printed to stdout
            return
        fb = self.feedback
        if kind == "progress":
            fb.setProgress(100.0 * float(event.get("value", 0.0)))
            if event.get("text"):
                fb.setProgressText(event["text"])
        elif kind == "log":
            if event.get("level") == "warning":
                fb.pushWarning(event.get("text", ""))
            else:
                fb.pushInfo(event.get("text", ""))
        elif kind == "metric":
            extra = {k: v for k, v in event.items() if k not in {"event", "name", "value"}}
            suffix = " ".join(f"{k}={v}" for k, v in extra.items())
            fb.pushInfo(f"{event.get('name')} = {event.get('value'):.6g} {suffix}".rstrip())
        elif kind == "result":
            self.result = event.get("outputs", {})
        elif kind == "error":
            self.error = event
            if event.get("traceback"):
                fb.pushDebugInfo(event["traceback"])
        else:
            fb.pushDebugInfo(line)

    def stderr(self, line: str) -> None:
        self.stderr_tail.append(line)
        self.feedback.pushConsoleInfo(line)


def run_engine(
    command: str,
    argv: Sequence[str],
    feedback: QgsProcessingFeedback | None = None,
    outputs: Sequence[str] = (),
    python: str | None = None,
    require_torch: bool = True,
) -> dict[str, Any]:
    """Run one engine command to completion; return its result dict.

    `outputs` are the final paths the command writes: on cancel or failure any
    half-written `*.crops-tmp-*` siblings of them are removed.
    """
    feedback = feedback or QgsProcessingFeedback()
    python = python or resolve_engine_python(require_torch=require_torch)
    cmd = engine_command(python, command, argv)
    feedback.pushCommandInfo(" ".join(cmd))
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=str(PLUGIN_ROOT),
            env=_engine_env(),
            start_new_session=sys.platform != "win32",
        )
    except OSError as exc:
        raise QgsProcessingException(f"Cannot start the CROPS engine ({python}): {exc}") from None

    lines: queue.Queue = queue.Queue()
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, "out", lines), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, "err", lines), daemon=True),
    ]
    for t in pumps:
        t.start()
    relay = _Relay(feedback)
    open_streams = 2
    cancelled = False
    try:
        while open_streams:
            if feedback.isCanceled():
                cancelled = True
                _stop(proc)
                break
            try:
                tag, line = lines.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
            elif tag == "out":
                relay.stdout(line)
            else:
                relay.stderr(line)
        returncode = proc.wait()
    except BaseException:
        _stop(proc)
        _clean(outputs)
        raise
    finally:
        for t in pumps:
            t.join(timeout=1.0)
        for stream in (proc.stdout, proc.stderr):
            stream.close()

    if cancelled or (relay.error or {}).get("kind") == "cancelled":
        _clean(outputs)
        raise QgsProcessingException("Cancelled: the CROPS engine was stopped and partial outputs were removed.")
    if relay.error is not None:
        _clean(outputs)
        raise QgsProcessingException(relay.error.get("message", "The CROPS engine failed."))
    if returncode != 0 or relay.result is None:
        _clean(outputs)
        tail = "\n".join(relay.stderr_tail) or "(no output)"
        raise QgsProcessingException(
            f"The CROPS engine stopped unexpectedly (exit code {returncode}) running '{command}'. "
            f"Its last messages:\n{tail}"
        )
    return relay.result


def _clean(outputs: Sequence[str]) -> None:
    for path in outputs:
        if path:
            remove_partial(path)

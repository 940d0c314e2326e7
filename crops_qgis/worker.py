"""The worker bridge: run `<engine python> -m crops_engine <command>` and relay its events.

The engine writes JSON lines (progress, log, metric, result, error) on stdout; this module
feeds them into a QgsProcessingFeedback, turns an `error` event into a
QgsProcessingException carrying the engine's message, and on cancel stops the worker: SIGTERM
(the engine stops at its next check and writes what it keeps on cancel, e.g. a training run's
resume state), events still relayed while it stops, SIGKILL only after `TERMINATE_GRACE_S`; then
the leftovers of the stopped worker are removed.

When QGIS's own process is told to stop (SIGTERM, SIGINT or SIGHUP to `qgis_process`, while the
bridge runs on its main thread), the bridge cancels the engine the same way and, once it has
stopped, lets the signal take its course. An engine whose QGIS died anyway (kill -9) sees its
parent go and cancels itself (`crops_engine.cli`).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from ..crops_engine.atomic import remove_stale
from ..crops_engine.distributed import COMMANDS as DISTRIBUTED_COMMANDS
from .engine_python import PLUGIN_ROOT, processes_per_run, resolve_engine_python

# After SIGTERM the engine finishes its step (a training step on a CPU can take tens of seconds) and writes its
# resume state (a TransUNet run's is over 1 GB): it gets this long before SIGKILL. Most commands stop within 0.1 s.
TERMINATE_GRACE_S = 120.0
_POLL_S = 0.1
_FORWARDED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))


def engine_command(python: str, command: str, argv: Sequence[str], processes: int = 1) -> list[str]:
    """`<python> -m crops_engine --json-events <command> ...`; with `processes` > 1 and a command that runs
    distributed, the same through torchrun on this machine (`--standalone`: a free local port), so its processes
    report through process 0's events and a SIGTERM to torchrun stops every one of them."""
    engine = ["-m", "crops_engine", "--json-events", command, *argv]
    if processes > 1 and command in DISTRIBUTED_COMMANDS:
        return [python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *engine]
    return [python, *engine]


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


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM to the engine's process group: it stops at its next check and cleans up."""
    if proc.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            proc.terminate()
        else:
            os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM lets the engine clean up at its next check; SIGKILL if it does not in time."""
    _terminate(proc)
    try:
        proc.wait(TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.wait()


class _StopSignals:
    """While the bridge runs on the main thread: SIGTERM / SIGINT / SIGHUP to this process cancel the engine (the
    feedback's cancel) instead of ending QGIS at once and orphaning it; `resume()` then delivers the first one
    to the handler it had before (by default: this process ends as the signal asked)."""

    def __init__(self, feedback: QgsProcessingFeedback) -> None:
        self.feedback = feedback
        self.received: int | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self  # QGIS desktop runs algorithms in task threads: its cancel button is the feedback's
        for signum in _FORWARDED:
            with contextlib.suppress(ValueError, OSError):  # not allowed here
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.received is None:
            self.received = signum
        self.feedback.cancel()

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self.previous.clear()

    def resume(self) -> None:
        """Deliver the signal that cancelled the run, now that the engine has stopped and cleaned up: to the
        default action (this process ends as the signal asked) or another handler; not to Python's
        KeyboardInterrupt, since the cancel already did what an interrupt asks (the run fails as cancelled)."""
        if self.received is None:
            return
        signum, self.received = self.received, None
        if signal.getsignal(signum) in (signal.default_int_handler, signal.SIG_IGN):
            return
        _flush_output()  # a process ended by a signal does not flush its buffers: the last messages would be lost
        signal.raise_signal(signum)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if sys.platform != "win32":
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).fflush(None)  # C stdio (and C++ iostreams synced with it): qgis_process's own output


def _fail(message: str) -> QgsProcessingException:
    """The exception for an engine failure, reported once.

    QGIS reports an algorithm's exception three times in `qgis_process` (it logs it twice to the message log,
    which qgis_process echoes on stderr, besides its `ERROR:` line); there the message log is quiet while the
    exception passes, so the message shows once.
    """
    from qgis.core import QgsApplication

    app = QgsApplication.instance()
    if app is not None and QgsApplication.platform() == "qgis_process" \
            and threading.current_thread() is threading.main_thread():
        log = QgsApplication.messageLog()
        if not log.signalsBlocked():
            from qgis.PyQt.QtCore import QTimer

            log.blockSignals(True)
            QTimer.singleShot(0, lambda: log.blockSignals(False))
    return QgsProcessingException(message)


class _Relay:
    """Turns engine events into feedback calls; keeps the result and the error.

    The log shows sentences: a progress text once when it says something new (QGIS logs every
    `setProgressText`; the engine repeats its text, or only its counts change, with each batch), a
    log line not twice in a row, and metrics (`name = value {step: ...}`) not at all: they are in the
    run's JSON log and its curves."""

    def __init__(self, feedback: QgsProcessingFeedback) -> None:
        self.feedback = feedback
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self._last_text = ""
        self._last_log = ""

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
            text = event.get("text") or ""
            skeleton = re.sub(r"[\d.,]+", "#", text)  # "Step 10 of 300" and "Step 20 of 300" say one thing
            if text and skeleton != self._last_text:
                self._last_text = skeleton
                fb.setProgressText(text)
        elif kind == "log":
            text = event.get("text", "")
            if text == self._last_log:
                return
            self._last_log = text
            if event.get("level") == "warning":
                fb.pushWarning(text)
            else:
                fb.pushInfo(text)
        elif kind == "metric":
            return  # figures go to the JSON log and the plots, not the dialog's log
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
    cmd = engine_command(python, command, argv, processes_per_run())
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

    stop_signals = _StopSignals(feedback)
    with stop_signals:
        returncode, relay, cancelled = _relay_until_done(proc, feedback)
    try:
        if cancelled or (relay.error or {}).get("kind") == "cancelled":
            _clean(outputs)
            raise _fail("Cancelled: the CROPS engine was stopped and partial outputs were removed.")
        if relay.error is not None:
            _clean(outputs)
            raise _fail(relay.error.get("message", "The CROPS engine failed."))
        if returncode != 0 or relay.result is None:
            _clean(outputs)
            tail = "\n".join(relay.stderr_tail) or "(no output)"
            raise _fail(
                f"The CROPS engine stopped unexpectedly (exit code {returncode}) running '{command}'. "
                f"Its last messages:\n{tail}"
            )
        return relay.result
    finally:
        stop_signals.resume()


def _relay_until_done(proc: subprocess.Popen, feedback: QgsProcessingFeedback) -> tuple[int, _Relay, bool]:
    """Relay the engine's events until it exits: (exit code, relay, whether it was cancelled). On cancel: SIGTERM,
    events still relayed (its last warnings say what it kept), SIGKILL after TERMINATE_GRACE_S."""
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
    deadline: float | None = None
    try:
        while open_streams:
            if feedback.isCanceled() and not cancelled:
                cancelled = True
                _terminate(proc)
                deadline = time.monotonic() + TERMINATE_GRACE_S
                feedback.pushInfo("Stopping the CROPS engine: it ends its current step and keeps what a cancel keeps.")
            if deadline is not None and time.monotonic() > deadline:
                feedback.pushWarning(f"The CROPS engine did not stop within {TERMINATE_GRACE_S:g} s: killed.")
                _kill(proc)
                deadline = None
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
        raise
    finally:
        for t in pumps:
            t.join(timeout=1.0)
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    return returncode, relay, cancelled


def _clean(outputs: Sequence[str]) -> None:
    """Remove what a stopped engine left beside its outputs (its temporary files, its lock): it has ended, so every
    leftover of its process is stale; a live run writing beside them keeps its own."""
    for path in outputs:
        if path:
            remove_stale(path)

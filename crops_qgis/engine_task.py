"""A QgsTask that runs one engine command: the map tool's jobs show in the task manager.

Progress and cancel go through the same worker bridge as Processing algorithms; the
task manager's cancel button reaches the engine as a feedback cancel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qgis.core import QgsProcessingException, QgsProcessingFeedback, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from .worker import run_engine


class _TaskFeedback(QgsProcessingFeedback):
    """The bridge's feedback of a task: its sentences (progress texts, notes, warnings) go to `emit`, so a
    panel shows the engine's lines, not only Started / Done (the bridge already drops repeats and metrics)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__()
        self._emit = emit

    def setProgressText(self, text: str) -> None:  # noqa: N802 - QGIS API
        super().setProgressText(text)
        self._emit(text)

    def pushInfo(self, info: str) -> None:  # noqa: N802 - QGIS API
        super().pushInfo(info)
        self._emit(info)

    def pushWarning(self, warning: str) -> None:  # noqa: N802 - QGIS API
        super().pushWarning(warning)
        self._emit(warning)


class EngineStep:
    """One engine command of a task: its arguments and the outputs it writes."""

    def __init__(
        self,
        command: str,
        argv: Sequence[str],
        outputs: Sequence[str] = (),
        label: str = "",
        require_torch: bool = True,
    ) -> None:
        self.command = command
        self.require_torch = require_torch
        self.argv = list(argv)
        self.outputs = list(outputs)
        self.label = label or command


class EngineTask(QgsTask):
    """Runs engine steps in order in a background thread; `on_done(task)` runs on the main thread.
    `message` carries the engine's lines (emitted from the task's thread; a widget's slot gets them queued)."""

    message = pyqtSignal(str)

    def __init__(
        self,
        description: str,
        steps: Sequence[EngineStep],
        on_done: Callable[[EngineTask], None] | None = None,
        python: str | None = None,
    ) -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.steps = list(steps)
        self.on_done = on_done
        self.python = python
        self.results: list[dict[str, Any]] = []
        self.error: str | None = None
        self.log: list[str] = []
        self.feedback = _TaskFeedback(self.message.emit)
        self.feedback.progressChanged.connect(self._step_progress)
        self._step = 0

    def _step_progress(self, value: float) -> None:
        self.setProgress((self._step * 100.0 + value) / max(len(self.steps), 1))

    def cancel(self) -> None:
        self.feedback.cancel()
        super().cancel()

    def run(self) -> bool:
        try:
            for i, step in enumerate(self.steps):
                self._step = i
                self.log.append(step.label)
                self.results.append(
                    run_engine(step.command, step.argv, self.feedback, step.outputs, self.python, step.require_torch)
                )
        except QgsProcessingException as exc:
            self.error = str(exc)
            return False
        return True

    def finished(self, result: bool) -> None:
        if self.on_done is not None:
            self.on_done(self)

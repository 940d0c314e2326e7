"""Progress reporting and cancellation, the one channel between engine work and its caller.

Engine functions take a `Progress` and call `progress(fraction, text)` as they go and
`progress.check()` once per block / batch / step. A caller (the CLI, a test, the QGIS
worker bridge through the CLI) decides where reports go and when work is cancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .errors import Cancelled

Reporter = Callable[[str, dict[str, Any]], None]


def _silent(event: str, payload: dict[str, Any]) -> None:
    return None


class Progress:
    """Fraction/text reporter with a cancel flag; `sub()` maps a step onto a sub-range.

    `reporter(event, payload)` receives events `progress` ({"value", "text"}), `log`
    ({"text", "level"}) and `metric` ({"name", "value", "step", ...}).
    """

    def __init__(
        self,
        reporter: Reporter | None = None,
        cancel_event: threading.Event | None = None,
        start: float = 0.0,
        end: float = 1.0,
    ) -> None:
        self._reporter = reporter or _silent
        self._cancel = cancel_event or threading.Event()
        self._start = start
        self._end = end

    # -- reporting -------------------------------------------------------------------
    def __call__(self, fraction: float, text: str | None = None) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        value = self._start + (self._end - self._start) * fraction
        payload: dict[str, Any] = {"value": round(value, 6)}
        if text:
            payload["text"] = text
        self._reporter("progress", payload)
        self.check()

    def log(self, text: str) -> None:
        self._reporter("log", {"text": text, "level": "info"})

    def warn(self, text: str) -> None:
        self._reporter("log", {"text": text, "level": "warning"})

    def metric(self, name: str, value: float, step: int | None = None, **extra: Any) -> None:
        payload: dict[str, Any] = {"name": name, "value": float(value)}
        if step is not None:
            payload["step"] = int(step)
        payload.update(extra)
        self._reporter("metric", payload)

    # -- cancellation ------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        """Raise `Cancelled` if the user asked to stop; call once per unit of work."""
        if self._cancel.is_set():
            raise Cancelled()

    # -- composition -------------------------------------------------------------------
    def sub(self, start: float, end: float) -> Progress:
        """A Progress whose 0..1 maps onto [start, end] of this one (same cancel flag)."""
        span = self._end - self._start
        return Progress(
            self._reporter,
            self._cancel,
            self._start + span * start,
            self._start + span * end,
        )


def silent() -> Progress:
    """A Progress that reports nowhere and is never cancelled (tests, library use)."""
    return Progress()

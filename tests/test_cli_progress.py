"""The engine's own command line: a progress bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from crops_engine import cli


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(stream, monkeypatch) -> str:
    clock = iter(range(1000, 2000))
    monkeypatch.setattr(cli.time, "monotonic", lambda: float(next(clock)))  # every update is due
    reporter = cli._TextReporter(stream)
    reporter("progress", {"value": 0.25, "text": "Rows 16 of 64"})
    reporter("log", {"text": "No cloud mask: every observation counts as clear."})
    reporter("progress", {"value": 0.5, "text": "Rows 32 of 64"})
    reporter("log", {"text": "Scene x does not overlap.", "level": "warning"})
    reporter("progress", {"value": 1.0, "text": "Composite written"})
    return stream.getvalue()


def test_terminal_shows_one_bar_redrawn_in_place(monkeypatch):
    out = feed(Terminal(), monkeypatch)
    screen = _render(out)
    assert screen == ["No cloud mask: every observation counts as clear.", "WARNING: Scene x does not overlap.",
                      f"[{'#' * 24}] 100.0%  Composite written"]
    assert f"[{'#' * 6}{'-' * 18}]  25.0%  Rows 16 of 64" in out and f"[{'#' * 12}{'-' * 12}]  50.0%" in out


def test_a_bar_left_short_of_the_end_gets_its_line(monkeypatch):
    stream = Terminal()
    reporter = cli._TextReporter(stream)
    reporter("progress", {"value": 0.4, "text": "Step 4 of 10"})
    reporter.close()
    assert stream.getvalue().endswith("Step 4 of 10\n")


def test_a_file_gets_plain_lines(monkeypatch):
    out = feed(io.StringIO(), monkeypatch)
    assert "\r" not in out and "#" not in out
    assert out.splitlines() == ["[ 25.0%] Rows 16 of 64", "No cloud mask: every observation counts as clear.",
                                "[ 50.0%] Rows 32 of 64", "WARNING: Scene x does not overlap.",
                                "[100.0%] Composite written"]


def _render(text: str) -> list[str]:
    """What a terminal shows: carriage returns overwrite the line, trailing blanks dropped."""
    lines, current = [], ""
    col = 0
    for ch in text:
        if ch == "\n":
            lines.append(current.rstrip())
            current, col = "", 0
        elif ch == "\r":
            col = 0
        else:
            current = current[:col] + ch + current[col + 1:]
            col += 1
    if current.rstrip():
        lines.append(current.rstrip())
    return lines

"""Pictures for the engine's HTML reports: PNG charts drawn with matplotlib (Agg, no display needed).

Every function returns PNG bytes; `img_tag` embeds them in a report as a data URI, so a report is
one file that opens anywhere (browser, the Processing results viewer) and can be mailed as it is.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

import numpy as np

DPI = 110
# The evaluation's error thumbnail: pixel values and how they are shown.
CORRECT, WRONG, UNLABELLED = 1, 2, 0
ERROR_COLOURS = {UNLABELLED: "#e8e8e8", CORRECT: "#1a9641", WRONG: "#d7191c"}
ERROR_LABELS = {UNLABELLED: "unlabelled / nodata", CORRECT: "correct", WRONG: "wrong"}


def _pyplot():  # noqa: ANN202 - the pyplot module
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    """An <img> holding the picture itself (data URI)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def line_chart(series: dict[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str,
               ylabel: str, log_y: bool = False) -> bytes:
    """One line per series ({name: (x, y)}); None values leave gaps."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for name, (x, y) in series.items():
        yy = np.array([np.nan if v is None else float(v) for v in y], dtype=float)
        ax.plot(list(x), yy, label=name, linewidth=1.4)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return _png(fig)


def bar_chart(categories: Sequence[str], values: dict[str, Sequence[float | None]], title: str, ylabel: str,
              colours: Sequence[str] | None = None, limits: tuple[float, float] | None = None) -> bytes:
    """Grouped bars: one group per category, one bar per series ({series: value per category})."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(categories) * max(1, len(values)) + 1.5), 3.4))
    width = 0.8 / max(len(values), 1)
    x = np.arange(len(categories))
    for i, (name, ys) in enumerate(values.items()):
        heights = [0.0 if v is None else float(v) for v in ys]
        colour = colours if colours is not None and len(values) == 1 else None
        ax.bar(x + (i - (len(values) - 1) / 2) * width, heights, width, label=name, color=colour)
    ax.set_xticks(x)
    ax.set_xticklabels(categories, rotation=30 if len(categories) > 4 else 0, ha="right" if len(categories) > 4
                       else "center")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if limits is not None:
        ax.set_ylim(*limits)
    ax.grid(axis="y", alpha=0.3)
    if len(values) > 1:
        ax.legend(fontsize=8)
    return _png(fig)


def confusion_image(matrix: Sequence[Sequence[int]], names: Sequence[str], title: str = "Confusion matrix",
                    rows: str = "reference", columns: str = "predicted") -> bytes:
    """Rows: reference, columns: prediction (or as named); cells coloured by the row's share, labelled with the
    count."""
    plt = _pyplot()
    m = np.asarray(matrix, dtype=float)
    shares = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = max(3.2, 0.7 * len(names) + 1.8)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (r, c), count in np.ndenumerate(m):
        ax.text(c, r, f"{int(count)}", ha="center", va="center", fontsize=8,
                color="white" if shares[r, c] > 0.5 else "black")
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=45, ha="right")
    ax.set_yticklabels(names)
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    ax.set_title(title)
    return _png(fig)


def histograms(edges: Sequence[float], counts: dict[str, Sequence[float]], title: str, xlabel: str) -> bytes:
    """Step histograms on shared bins ({series: counts per bin}), as shares of each series' total."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    edges = np.asarray(edges, dtype=float)
    for name, c in counts.items():
        c = np.asarray(c, dtype=float)
        ax.stairs(c / max(c.sum(), 1), edges, label=name, linewidth=1.6)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of pixels")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def category_image(values: np.ndarray, colours: dict[int, str], labels: dict[int, str], title: str,
                   max_side: int = 600) -> bytes:
    """A small picture of a categorical raster (e.g. correct / wrong / unlabelled), with a legend."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = _pyplot()
    step = max(1, int(np.ceil(max(values.shape) / max_side)))
    small = values[::step, ::step]
    keys = sorted(colours)
    index = np.zeros(small.shape, dtype=np.int64)
    for i, k in enumerate(keys):
        index[small == k] = i
    fig, ax = plt.subplots(figsize=(5.0, 5.0 * small.shape[0] / max(small.shape[1], 1) + 0.6))
    ax.imshow(index, cmap=ListedColormap([colours[k] for k in keys]), vmin=0, vmax=max(len(keys) - 1, 1),
              interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    ax.legend(handles=[Patch(color=colours[k], label=labels[k]) for k in keys], loc="upper center",
              bbox_to_anchor=(0.5, -0.02), ncol=len(keys), fontsize=8, frameon=False)
    return _png(fig)

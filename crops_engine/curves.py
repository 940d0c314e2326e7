"""Training and adaptation curves as PNG beside their JSON logs: what a run did, step by step, at a glance.

`<model>.metrics.png` (source training: train / validation loss, validation mIoU, learning rate per step)
and `<model>.adapt.png` (adaptation: every loss term, the learning rate and, where the method logs them,
the pseudo-labels' class shares per step). Written atomically, like the logs they picture.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .atomic import atomic_path


def _panels(panels: Sequence[tuple[str, dict[str, tuple[list[float], list[float | None]]], bool]]) -> bytes:
    """One row of line charts: (title, {series: (x, y)}, log scale) each."""
    from .plots import _png, _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2), squeeze=False)
    for ax, (title, series, log_y) in zip(axes[0], panels, strict=True):
        for name, (x, y) in series.items():
            ax.plot(x, [float("nan") if v is None else v for v in y], label=name, linewidth=1.3)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if log_y and all(v is None or v > 0 for _, ys in series.values() for v in ys):
            ax.set_yscale("log")
        if len(series) > 1:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def _series(rows: list[dict[str, Any]], key: str) -> tuple[list[float], list[float | None]]:
    return [r["step"] for r in rows], [r.get(key) for r in rows]


def training_curves(document: dict[str, Any]) -> bytes | None:
    """Loss, validation mIoU and LR of a training metrics document (its `epochs` rows); None without rows."""
    rows = [r for r in document.get("epochs", []) if "step" in r]
    if not rows:
        return None
    losses = {k: _series(rows, k) for k in ("train_loss", "val_loss") if any(r.get(k) is not None for r in rows)}
    panels = [("Loss", losses, True)]
    if any(r.get("val_miou") is not None for r in rows):
        panels.append(("Validation mIoU", {"val mIoU": _series(rows, "val_miou")}, False))
    panels.append(("Learning rate", {"lr": _series(rows, "lr")}, False))
    return _panels(panels)


def adaptation_curves(document: dict[str, Any]) -> bytes | None:
    """Loss terms, LR and pseudo-label class shares of an adaptation log (its `history` rows)."""
    rows = [r for r in document.get("history", []) if "step" in r]
    if not rows:
        return None
    keys = [k for k in rows[-1] if k not in ("step", "lr") and isinstance(rows[-1][k], (int, float))]
    shares = [k for k in keys if k.startswith("share_")]
    terms = [k for k in keys if k not in shares]
    panels = [("Loss terms", {k: _series(rows, k) for k in terms}, False),
              ("Learning rate", {"lr": _series(rows, "lr")}, False)]
    if shares:
        panels.append(("Pseudo-label class shares", {k[len("share_"):]: _series(rows, k) for k in shares}, False))
    return _panels(panels)


def write_png(path: str | os.PathLike[str], png: bytes | None) -> Path | None:
    """Write `png` (if any) atomically to `path`."""
    if png is None:
        return None
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(png)
    return Path(path)

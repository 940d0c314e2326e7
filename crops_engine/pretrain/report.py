"""The pretraining report: PNG plots (matplotlib, Agg) embedded in one self-contained HTML page.

Plots: loss and learning rate per step; the collapse statistic per step against an even spread;
the two augmented views of a few blocks; with an evaluation, mIoU (and IoU per class) of the linear
probe, fine-tuning and random initialisation as bars, and example blocks with label and predictions.
The images are embedded as data URIs, so the page can be moved, mailed or opened from QGIS's results
viewer on its own; `plots` returns the PNG bytes too (tests check them).
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..plots import img_tag
from ..report_html import page

FALSE_COLOUR = (("B08", "B8A", "nir"), ("B04", "red", "B05"), ("B03", "green", "B02"))  # NIR, red, green
IGNORE = 255


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def display_bands(features: list[str]) -> list[int]:
    """Three band indices for a false-colour picture (NIR, red, green when the names say so; else the first)."""
    lower = [f.lower() for f in features]
    picked: list[int] = []
    for names in FALSE_COLOUR:
        for name in names:
            if name.lower() in lower and lower.index(name.lower()) not in picked:
                picked.append(lower.index(name.lower()))
                break
    if len(picked) == 3:
        return picked
    return [min(i, len(features) - 1) for i in range(3)]


def to_rgb(images: np.ndarray, features: list[str], reference: np.ndarray | None = None) -> np.ndarray:
    """(n, C, H, W) normalised blocks -> (n, H, W, 3) in [0, 1], stretched 2-98 % over `reference` (or them)."""
    bands = display_bands(features)
    x = np.asarray(images, dtype=np.float32)[:, bands]
    ref = np.asarray(reference if reference is not None else images, dtype=np.float32)[:, bands]
    lo = np.percentile(ref, 2, axis=(0, 2, 3), keepdims=True)
    hi = np.percentile(ref, 98, axis=(0, 2, 3), keepdims=True)
    out = (x - lo) / np.where(hi > lo, hi - lo, 1.0)
    return np.clip(out, 0, 1).transpose(0, 2, 3, 1)


def plot_curves(history: dict[str, list[float]]) -> bytes:
    fig = _figure(8, 5)
    steps = np.asarray(history["step"])
    loss = np.asarray(history["loss"])
    ax = fig.add_subplot(2, 1, 1)
    ax.plot(steps, loss, lw=0.8, color="#9aa9c7", label="per step")
    if len(loss) >= 5:
        k = max(1, len(loss) // 25)
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], smooth, lw=1.6, color="#1f4e9c", label=f"mean of {k} steps")
    ax.axhline(-1.0, color="#777", lw=0.8, ls=":", label="optimum (-1)")
    ax.set_ylabel("SimSiam loss")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    ax = fig.add_subplot(2, 1, 2, sharex=ax)
    ax.plot(steps, history["lr"], color="#c4512b")
    ax.set_ylabel("learning rate")
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    return _png(fig)


def plot_collapse(history: dict[str, list[float]], healthy: float, threshold: float) -> bytes:
    fig = _figure(8, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(history["step"], history["z_std"], color="#2b7a3d", lw=1.0, label="projector output z")
    ax.plot(history["step"], history["p_std"], color="#7b3fa0", lw=1.0, label="predictor output p")
    ax.axhline(healthy, color="#777", ls="--", lw=0.9, label="even spread, 1/sqrt(d)")
    ax.axhline(threshold, color="#c4512b", ls=":", lw=0.9, label="collapse warning")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("step")
    ax.set_ylabel("output spread")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def plot_views(views: dict[str, Any]) -> bytes:
    original = views["original"]
    n = len(original)
    fig = _figure(6, 2 * n)
    columns = (("original", "block"), ("view1", "view 1"), ("view2", "view 2 (asymmetric)"))
    for i in range(n):
        for j, (key, title) in enumerate(columns):
            ax = fig.add_subplot(n, 3, i * 3 + j + 1)
            ax.imshow(to_rgb(views[key][i:i + 1], views["features"], original)[0], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=9)
    return _png(fig)


def plot_scores(evaluation: dict[str, Any]) -> bytes:
    arms = evaluation["arms"]
    names = evaluation["classes"]
    labels = [a["label"] for a in arms.values()]
    fig = _figure(8, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    groups = ["mIoU", *names]
    width = 0.8 / len(arms)
    colours = ["#1f4e9c", "#9aa9c7", "#c4512b", "#e3a58e"]
    for k, (arm, label) in enumerate(zip(arms.values(), labels, strict=True)):
        values = [arm["miou"], *(arm["iou"][n] for n in names)]
        x = np.arange(len(groups)) + (k - (len(arms) - 1) / 2) * width
        ax.bar(x, [np.nan if v is None else v for v in values], width, label=label, color=colours[k % len(colours)])
    ax.set_xticks(np.arange(len(groups)))
    ax.set_xticklabels(groups, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("IoU")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _class_image(labels: np.ndarray, colours: list[str]) -> np.ndarray:
    from matplotlib.colors import to_rgb as colour_rgb

    table = np.ones((256, 3), dtype=np.float32) * 0.85  # unlabelled: light grey
    for i, c in enumerate(colours):
        table[i] = colour_rgb(c)
    return table[np.asarray(labels, dtype=np.int64)]


def plot_examples(evaluation: dict[str, Any]) -> bytes:
    ex = evaluation["examples"]
    n = len(ex["images"])
    arms = list(ex["predictions"])
    columns = 2 + len(arms)
    fig = _figure(2 * columns, 2 * n + 0.4)
    for i in range(n):
        panels = [("block", to_rgb(ex["images"][i:i + 1], ex["features"], ex["images"])[0]),
                  ("label", _class_image(ex["labels"][i], evaluation["colours"]))]
        panels += [(evaluation["arms"][a]["label"], _class_image(ex["predictions"][a][i], evaluation["colours"]))
                   for a in arms]
        for j, (title, image) in enumerate(panels):
            ax = fig.add_subplot(n, columns, i * columns + j + 1)
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=8)
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(color=c, label=n) for n, c in zip(evaluation["classes"], evaluation["colours"],
                                                                 strict=True)],
               loc="lower center", ncol=min(6, len(evaluation["classes"])), fontsize=8, frameon=False)
    return _png(fig)


def plots(task: Any, views: dict[str, Any], evaluation: dict[str, Any] | None) -> dict[str, bytes]:
    """{name: PNG bytes} of every plot of the report ({} without matplotlib)."""
    from .run import COLLAPSE_FRACTION

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return {}

    out = {
        "curves": plot_curves(task.history),
        "collapse": plot_collapse(task.history, task.healthy, COLLAPSE_FRACTION * task.healthy),
        "views": plot_views(views),
    }
    if evaluation is not None:
        out["scores"] = plot_scores(evaluation)
        out["examples"] = plot_examples(evaluation)
    return out


def _num(value: Any, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_html(task: Any, result: dict[str, Any], images: dict[str, bytes], evaluation: dict[str, Any] | None) -> str:
    e = html.escape
    meta = task.encoder_meta(result["steps"])
    prov = meta.provenance

    def img(name: str, alt: str) -> str:
        if name not in images:
            return f"<p><em>{e(alt)}: no plot (matplotlib is not installed in the engine's Python).</em></p>"
        return img_tag(images[name], alt)

    inputs = "<br>".join(f"{e(Path(i['path']).name)} ({e(i['kind'])}, {i['blocks']} blocks)" for i in prov["inputs"])
    summary = [  # (label, HTML)
        ("Encoder", e(f"{meta.arch} {json.dumps(meta.encoder_args)} ({meta.feature_dim} features pooled)")),
        ("Encoder checkpoint", e(str(task.output))),
        ("Inputs", inputs),
        ("Features", e(", ".join(meta.features))),
        ("Block size", f"{meta.block_size} px"),
        ("Steps", f"{result['steps']} ({result['epochs']:g} epochs of {task.steps_per_epoch} steps, batch "
                  f"{task.cfg.batch_size})"),
        ("Optimiser", e(f"{prov['optimizer']}, LR {task.cfg.scaled_lr:.4g} = {task.cfg.lr:g} x "
                        f"{prov.get('global_batch_size', task.cfg.batch_size)}"
                        f" / 256, weight decay {task.cfg.weight_decay:g}, warm-up {prov['warmup_steps']} steps then "
                        "cosine decay")),
        ("Final loss (mean of the last 10 steps)", _num(result["final_loss"])),
        ("Output spread (collapse statistic)", f"{_num(result['output_std'])} (even spread {task.healthy:.4f})"),
        ("Collapse", "<b>warned: the outputs collapsed</b>" if result["collapsed"] else "none seen"),
        ("Device", e(f"{result['device']}, {result['train_seconds']:.1f} s of steps, "
                     f"{result['data_wait_seconds']:.1f} s waiting for data")),
        ("Seed", str(prov["seed"])),
    ]
    summary_html = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in summary)
    aug_html = "".join(f"<tr><td>{e(a['name'])}</td><td>{a['p']:.0%}</td><td>{e(a['what'])}</td></tr>"
                       for a in task.cfg.augment.describe())
    parts = [
        "<h2>Pretraining</h2>", img("curves", "loss and learning rate per step"),
        "<h2>Collapse watch</h2>",
        "<p>The standard deviation over the batch of each dimension of the normalised outputs, averaged over the "
        "dimensions: near 1/sqrt(d) when the outputs spread over the sphere, falling to 0 when every block gives "
        "the same output (collapse). The projector's last BatchNorm holds z near an even spread in training; the "
        "predictor's output p shows a collapse first.</p>", img("collapse", "collapse statistic per step"),
        "<h2>Augmented views</h2>", "<p>Blocks of the first step (false colour) and the two views SimSiam compared."
        "</p>", img("views", "two augmented views of a few blocks"),
        f"<table><tr><th>augmentation</th><th>probability</th><th>what</th></tr>{aug_html}</table>",
    ]
    if evaluation is not None:
        names = evaluation["classes"]
        head = "".join(f"<th>IoU {e(n)}</th>" for n in names)
        rows = "".join(
            f"<tr><td>{e(a['label'])}</td><td>{_num(a['miou'], 3)}</td><td>{_num(a['overall_accuracy'], 3)}</td>"
            + "".join(f"<td>{_num(a['iou'][n], 3)}</td>" for n in names) + "</tr>"
            for a in evaluation["arms"].values())
        parts += [
            "<h2>Evaluation</h2>",
            f"<p>{evaluation['iterations']} training steps each on {evaluation['train_blocks']} labelled blocks, "
            f"scored on {evaluation['scored_blocks']} {e(evaluation['split'])} blocks. Linear probe: the encoder "
            "frozen, a 1 x 1 classifier on its upsampled features. Fine-tuned: source training from the pretrained "
            f"encoder, encoder LR x {evaluation['encoder_lr_scale']:g}.</p>",
            f"<table><tr><th>model</th><th>mIoU</th><th>OA</th>{head}</tr>{rows}</table>",
            img("scores", "linear probe vs fine-tune vs random init"),
            img("examples", "example blocks with label and predictions"),
        ]
    else:
        parts.append("<h2>Evaluation</h2><p>None: give EVAL_BLOCKS (a labelled block store) to compare a linear probe "
                     "and fine-tuning from this encoder with a random initialisation.</p>")
    body = (f"<h1>Encoder pretraining (SimSiam)</h1>\n<table>{summary_html}</table>\n" + "".join(parts))
    return page("CROPS pretraining", body)


def write_report(path: str | Path, task: Any, result: dict[str, Any], views: dict[str, Any],
                 evaluation: dict[str, Any] | None) -> dict[str, bytes]:
    """Render the plots and write the HTML report atomically; returns the plots."""
    images = plots(task, views, evaluation)
    if not images:
        task.run.progress.warn("matplotlib is not installed in the engine's Python: the report has no plots "
                               "(install python3-matplotlib, or pip install matplotlib).")
    text = render_html(task, result, images, evaluation)
    with atomic_path(Path(path)) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return images

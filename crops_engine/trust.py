"""Trust without labels: what an adaptation changed on the target, from the two models alone.

A map made without target labels cannot be scored, but what the adaptation did to it can be shown:
both models (source and adapted) predict every block of the target store; the report gives the class
shares before and after, the confidence and entropy histograms before and after, which classes moved
to which (a transition matrix), the share of pixels whose class changed, and warns when a class's
share collapses or explodes (the failure mode of self-training on a real pair: one class swallowing
the map). The agreement raster (1 unchanged, 2 changed, 0 nodata; styled) shows where. Blocks are
predicted in batches and the raster written block by block, so memory does not grow with the store.
"""

from __future__ import annotations

import html
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path
from .classes import CropClass
from .errors import CropsError
from .progress import Progress, silent
from .report_html import page

BINS = 20
UNCHANGED, CHANGED, AGREEMENT_NODATA = 1, 2, 0
COLLAPSE_RATIO = 1 / 3  # a class keeps less than a third of its share (and held at least MIN_SHARE)
EXPLODE_RATIO = 2.0  # a class at least doubles its share, gaining at least EXPLODE_POINTS of the pixels
MIN_SHARE = 0.02
EXPLODE_POINTS = 0.10


@dataclass
class ModelStats:
    """One model's predictions over the valid target pixels."""

    counts: np.ndarray  # (K,) pixels per predicted class
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(BINS, np.int64))  # max probability
    entropy: np.ndarray = field(default_factory=lambda: np.zeros(BINS, np.int64))  # normalised entropy
    confidence_sum: np.ndarray | None = None  # (K,) sum of the max probability per predicted class

    @classmethod
    def empty(cls, k: int) -> ModelStats:
        return cls(np.zeros(k, np.int64), confidence_sum=np.zeros(k))

    def add(self, probs: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Count a batch (probs (N, K, H, W), valid (N, H, W)); returns the predicted classes of valid pixels."""
        k = probs.shape[1]
        p = np.moveaxis(probs, 1, -1)[valid]  # (pixels, K)
        label = p.argmax(axis=1)
        top = p.max(axis=1)
        ent = -(p * np.log(np.clip(p, 1e-8, None))).sum(axis=1) / np.log(k) if k > 1 else np.zeros(len(p))
        self.counts += np.bincount(label, minlength=k)
        self.confidence += np.histogram(top, BINS, (0.0, 1.0))[0]
        self.entropy += np.histogram(np.clip(ent, 0, 1), BINS, (0.0, 1.0))[0]
        assert self.confidence_sum is not None
        self.confidence_sum += np.bincount(label, weights=top, minlength=k)
        return label

    @property
    def shares(self) -> np.ndarray:
        return self.counts / max(int(self.counts.sum()), 1)


@dataclass
class Comparison:
    """The source and adapted models' predictions on the same pixels, and how they differ."""

    before: ModelStats
    after: ModelStats
    transitions: np.ndarray  # (K, K): source class (row) -> adapted class (column)

    @classmethod
    def empty(cls, k: int) -> Comparison:
        return cls(ModelStats.empty(k), ModelStats.empty(k), np.zeros((k, k), np.int64))

    def add(self, source_probs: np.ndarray, adapted_probs: np.ndarray, valid: np.ndarray) -> None:
        k = source_probs.shape[1]
        a = self.before.add(source_probs, valid)
        b = self.after.add(adapted_probs, valid)
        self.transitions += np.bincount(a * k + b, minlength=k * k).reshape(k, k)

    @property
    def pixels(self) -> int:
        return int(self.transitions.sum())

    @property
    def changed_share(self) -> float:
        return 1.0 - float(np.trace(self.transitions)) / max(self.pixels, 1)


def share_warnings(names: list[str], before: np.ndarray, after: np.ndarray) -> list[str]:
    """A sentence for every class whose share collapses or explodes between the two models."""
    notes = []
    for name, b, a in zip(names, before, after, strict=True):
        if b >= MIN_SHARE and a < COLLAPSE_RATIO * b:
            notes.append(f"The share of {name} collapsed from {100 * b:.1f} % to {100 * a:.1f} % of the pixels: the "
                         "adaptation may have absorbed it into other classes; check the map before using it.")
        elif a >= EXPLODE_RATIO * max(b, 1e-9) and a - b >= EXPLODE_POINTS:
            notes.append(f"The share of {name} exploded from {100 * b:.1f} % to {100 * a:.1f} % of the pixels: "
                         "the adaptation may be labelling other crops as it; check the map before using it.")
    return notes


def compare_on_store(
    source_model: str | os.PathLike[str],
    adapted_model: str | os.PathLike[str],
    blocks: str | os.PathLike[str],
    report: str | os.PathLike[str],
    agreement: str | os.PathLike[str] | None = None,
    device: str = "auto",
    batch_size: int = 16,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Predict every block of the target store with both models; write the HTML `report` and the optional
    `agreement` raster. Returns the figures (changed share, class shares, warnings)."""
    import torch

    from .block_dataset import model_inputs
    from .blocks import BlockStore
    from .checkpoint import check_features, load_model, read_metadata
    from .device import resolve_device
    from .infer import ModelPredictor
    from .partition_maps import Ownership
    from .raster import create_geotiff, finish_geotiff
    from .styles import write_agreement_style

    progress = progress or silent()
    report = Path(report)
    if report.suffix.lower() not in (".html", ".htm"):
        raise CropsError(f"OUTPUT {report} must be an HTML file (.html).")
    source_meta, adapted_meta = read_metadata(source_model), read_metadata(adapted_model)
    if source_meta.class_names != adapted_meta.class_names:
        raise CropsError(f"SOURCE_MODEL predicts {source_meta.class_names} but MODEL predicts "
                         f"{adapted_meta.class_names}: compare a model with its own adaptation.")
    store = BlockStore(blocks)
    try:
        check_features(source_meta, store.feature_names, f"the target block store {blocks}")
        check_features(adapted_meta, store.feature_names, f"the target block store {blocks}")
        if len(store) == 0:
            raise CropsError(f"The block store {blocks} holds no block.")
        dev = resolve_device(device)
        source, _ = load_model(source_model, dev)
        adapted, _ = load_model(adapted_model, dev)
        comparison = Comparison.empty(len(source_meta.classes))
        before = ModelPredictor(source, dev, batch_size, True, progress)
        after = ModelPredictor(adapted, dev, batch_size, True, progress)
        ownership = Ownership(store)
        grid = store.grid.window(*store.window)
        with ExitStack() as stack:
            band = None
            if agreement is not None:
                agreement_tmp = stack.enter_context(atomic_path(Path(agreement)))
                ds = create_geotiff(agreement_tmp, grid, 1, np.uint8, nodata=AGREEMENT_NODATA,
                                    band_descriptions=["agreement (1 unchanged, 2 changed)"])
                band = ds.GetRasterBand(1)
                band.Fill(AGREEMENT_NODATA)
            n, origins = len(store), store.origins
            with torch.inference_mode():
                for start in range(0, n, batch_size):
                    stop = min(start + batch_size, n)
                    progress(start / n, f"Comparing the models on blocks {start + 1}-{stop} of {n}")
                    x, valid = model_inputs(store, source_meta, slice(start, stop))
                    p_before, p_after = before(x), after(x)
                    comparison.add(p_before, p_after, valid)
                    if band is not None:
                        same = np.where(p_before.argmax(1) == p_after.argmax(1), UNCHANGED, CHANGED)
                        for j in range(stop - start):
                            rows, cols, x0, y0 = ownership.region(origins[start + j])
                            part = np.where(valid[j], same[j], AGREEMENT_NODATA).astype(np.uint8)[rows, cols]
                            band.WriteArray(np.ascontiguousarray(part), x0, y0)
            if band is not None:
                band = None
                finish_geotiff(ds)
                ds = None
                write_agreement_style(agreement_tmp)
            classes = list(source_meta.classes)
            notes = share_warnings([c.name for c in classes], comparison.before.shares, comparison.after.shares)
            with atomic_path(report) as tmp:
                tmp.write_text(render_report(comparison, classes, notes, {
                    "Source model": str(source_model), "Adapted model": str(adapted_model),
                    "Target block store": str(blocks)}), encoding="utf-8")
    finally:
        store.close()
    for note in notes:
        progress.warn(note)
    progress.log(f"The adaptation changed the class of {100 * comparison.changed_share:.1f} % of the target pixels.")
    progress(1.0, "Trust report written")
    return {
        "output": str(report), "output_agreement": str(agreement) if agreement else None,
        "changed_share": round(comparison.changed_share, 6), "pixels": comparison.pixels,
        "shares_before": {c.name: round(float(s), 6) for c, s in zip(classes, comparison.before.shares, strict=True)},
        "shares_after": {c.name: round(float(s), 6) for c, s in zip(classes, comparison.after.shares, strict=True)},
        "warnings": notes,
    }


def render_report(comparison: Comparison, classes: list[CropClass], notes: list[str], inputs: dict[str, str]) -> str:
    """The self-contained HTML trust report."""
    from .plots import bar_chart, confusion_image, histograms, img_tag

    e = html.escape
    names = [c.name for c in classes]
    b, a = comparison.before, comparison.after
    edges = np.linspace(0, 1, BINS + 1)
    pictures = [
        img_tag(bar_chart(names, {"source model": list(b.shares), "adapted model": list(a.shares)},
                          "Class shares of the target pixels", "share"), "Class shares before and after"),
        img_tag(histograms(edges, {"source model": b.confidence, "adapted model": a.confidence},
                           "Confidence (max probability)", "confidence"), "Confidence histograms"),
        img_tag(histograms(edges, {"source model": b.entropy, "adapted model": a.entropy},
                           "Normalised entropy (0 certain, 1 undecided)", "entropy"), "Entropy histograms"),
        img_tag(confusion_image(comparison.transitions, names, "Which classes moved to which", "source model",
                                "adapted model"),
                "Class transitions"),
    ]

    def mean_conf(stats: ModelStats, k: int) -> str:
        assert stats.confidence_sum is not None
        return "–" if stats.counts[k] == 0 else f"{stats.confidence_sum[k] / stats.counts[k]:.3f}"

    rows = "".join(
        f"<tr><td><span class='sw' style='background:{e(c.colour)}'></span>{e(c.name)}</td>"
        f"<td>{100 * b.shares[k]:.2f} %</td><td>{100 * a.shares[k]:.2f} %</td>"
        f"<td>{100 * (a.shares[k] - b.shares[k]):+.2f}</td><td>{mean_conf(b, k)}</td><td>{mean_conf(a, k)}</td></tr>"
        for k, c in enumerate(classes)
    )
    warn = "".join(f"<li>{e(n)}</li>" for n in notes) or "<li>No class's share collapsed or exploded.</li>"
    given = "".join(f"{e(k)}: <code>{e(v)}</code><br>" for k, v in inputs.items())
    return page("CROPS adaptation trust report", f"""<h1>What the adaptation changed</h1>
<p>{given}No target label was used: this compares the two models' predictions on the same
{comparison.pixels:,} valid target pixels.</p>
<p><strong>{100 * comparison.changed_share:.1f} %</strong> of the pixels changed class.</p>
<h2>Warnings</h2><ul class="warn">{warn}</ul>
<h2>Class shares and confidence</h2>
<table><tr><th>Class</th><th>Share before</th><th>Share after</th><th>Change (points)</th>
<th>Mean confidence before</th><th>after</th></tr>{rows}</table>
<h2>Pictures</h2>{''.join(f'<figure>{p}</figure>' for p in pictures)}
""")

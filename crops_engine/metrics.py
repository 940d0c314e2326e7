"""Segmentation metrics from a confusion matrix (numpy only, so evaluation needs no torch).

Convention: `cm[t, p]` counts pixels of true class t predicted as p (rows = reference, columns =
prediction). Pixels whose reference is `ignore_index` (255: unlabelled) are left out.
A class absent from both reference and prediction has no IoU/F1 (NaN) and is left out of the means:
`mean_iou` is the mean over classes present in the reference or the prediction. A class present in
the prediction only scores 0 and counts. Everything is NaN when no pixel was counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import CropsError

IGNORE_INDEX = 255


def confusion_matrix(
    pred: np.ndarray, target: np.ndarray, num_classes: int, ignore_index: int | None = IGNORE_INDEX
) -> np.ndarray:
    """(K, K) int64 counts of reference (rows) vs prediction (columns); one bincount, any array shapes."""
    pred = np.asarray(pred).ravel()
    target = np.asarray(target).ravel()
    if pred.shape != target.shape:
        raise CropsError(f"Prediction and reference differ in size: {pred.size} and {target.size} pixels.")
    if ignore_index is not None:
        keep = target != ignore_index
        if not keep.all():
            pred, target = pred[keep], target[keep]
    if target.size:
        for name, values in (("reference", target), ("prediction", pred)):
            low, high = int(values.min()), int(values.max())
            if low < 0 or high >= num_classes:
                raise CropsError(
                    f"The {name} holds class value {low if low < 0 else high}, outside 0..{num_classes - 1}"
                    f"{f' and not the ignore value {ignore_index}' if ignore_index is not None else ''}: "
                    "map the labels to the model's class indices."
                )
    index = target.astype(np.int64) * num_classes + pred.astype(np.int64)
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def overall_accuracy(cm: np.ndarray) -> float:
    """Fraction of counted pixels on the diagonal (NaN if none)."""
    return float(_ratio(np.trace(cm), cm.sum()))


def per_class_iou(cm: np.ndarray) -> np.ndarray:
    """TP / (TP + FP + FN) per class; NaN for a class absent from reference and prediction."""
    tp = np.diag(cm)
    return _ratio(tp, cm.sum(0) + cm.sum(1) - tp)


def per_class_f1(cm: np.ndarray) -> np.ndarray:
    """2 TP / (2 TP + FP + FN) per class (the Dice score); NaN for a class absent from both."""
    tp = np.diag(cm)
    return _ratio(2 * tp, cm.sum(0) + cm.sum(1))


def per_class_precision(cm: np.ndarray) -> np.ndarray:
    """TP / predicted pixels per class (user's accuracy); NaN for a class never predicted."""
    return _ratio(np.diag(cm), cm.sum(0))


def per_class_recall(cm: np.ndarray) -> np.ndarray:
    """TP / reference pixels per class (producer's accuracy); NaN for a class absent from the reference."""
    return _ratio(np.diag(cm), cm.sum(1))


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else math.nan


def mean_iou(cm: np.ndarray) -> float:
    """Mean IoU over the classes present in the reference or the prediction (NaN if none)."""
    return _nanmean(per_class_iou(cm))


def mean_f1(cm: np.ndarray) -> float:
    """Mean F1 over the classes present in the reference or the prediction (NaN if none)."""
    return _nanmean(per_class_f1(cm))


def cohen_kappa(cm: np.ndarray) -> float:
    """Agreement beyond chance: (OA - expected) / (1 - expected); NaN if undefined."""
    total = cm.sum()
    if total == 0:
        return math.nan
    expected = float((cm.sum(0).astype(np.float64) * cm.sum(1)).sum()) / float(total) ** 2
    observed = overall_accuracy(cm)
    return (observed - expected) / (1 - expected) if expected < 1 else math.nan


def _plain(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def summarise(cm: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Everything a JSON/HTML report shows; NaN (undefined) becomes None so the result is valid JSON."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(class_names):
        raise CropsError(f"A {cm.shape} confusion matrix does not fit {len(class_names)} class names.")
    iou, f1 = per_class_iou(cm), per_class_f1(cm)
    precision, recall = per_class_precision(cm), per_class_recall(cm)
    return {
        "pixels": int(cm.sum()),
        "overall_accuracy": _plain(overall_accuracy(cm)),
        "mean_iou": _plain(mean_iou(cm)),
        "mean_f1": _plain(mean_f1(cm)),
        "kappa": _plain(cohen_kappa(cm)),
        "classes": [
            {
                "index": k,
                "name": str(name),
                "iou": _plain(iou[k]),
                "f1": _plain(f1[k]),
                "precision": _plain(precision[k]),
                "recall": _plain(recall[k]),
                "reference_pixels": int(cm[k].sum()),
                "predicted_pixels": int(cm[:, k].sum()),
            }
            for k, name in enumerate(class_names)
        ],
        "confusion_matrix": cm.astype(np.int64).tolist(),
        "confusion_matrix_axes": "rows = reference, columns = prediction",
    }


class ConfusionAccumulator:
    """Streaming confusion matrix: `update(pred, target)` per block/batch, then read the metrics."""

    def __init__(self, num_classes: int, ignore_index: int | None = IGNORE_INDEX) -> None:
        if num_classes < 1:
            raise CropsError(f"Need at least one class, got {num_classes}.")
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        self.matrix += confusion_matrix(pred, target, self.num_classes, self.ignore_index)

    def merge(self, other: ConfusionAccumulator) -> None:
        """Add another accumulator's counts (e.g. from another worker)."""
        if other.num_classes != self.num_classes:
            raise CropsError(f"Cannot merge {other.num_classes}-class counts into {self.num_classes}-class counts.")
        self.matrix += other.matrix

    def reset(self) -> None:
        self.matrix[:] = 0

    @property
    def overall_accuracy(self) -> float:
        return overall_accuracy(self.matrix)

    @property
    def mean_iou(self) -> float:
        return mean_iou(self.matrix)

    def summarise(self, class_names: Sequence[str]) -> dict[str, Any]:
        return summarise(self.matrix, class_names)

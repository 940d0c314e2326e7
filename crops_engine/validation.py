"""Scoring a model on labelled blocks: confusion matrix, mIoU and loss, in eval mode, no gradients,
and the metrics files training writes of them (`<stem>.metrics.json` / `.metrics.csv`).

Training uses it for its per-epoch validation; adaptation can score a model on any labelled split.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .atomic import atomic_path
from .block_dataset import BlockDataset
from .device import autocast
from .metrics import IGNORE_INDEX, ConfusionAccumulator
from .progress import Progress, silent


@dataclass
class ValidationResult:
    confusion: np.ndarray
    loss: float | None
    blocks: int

    def summary(self, class_names: list[str]) -> dict[str, Any]:
        from .metrics import summarise

        out = summarise(self.confusion, class_names)
        out["loss"] = self.loss
        out["blocks"] = self.blocks
        return out


@torch.no_grad()
def validate(
    model: nn.Module,
    dataset: BlockDataset,
    batch_size: int,
    device: torch.device,
    amp: bool = True,
    loss_fn: nn.Module | None = None,
    progress: Progress | None = None,
) -> ValidationResult:
    """Predict every block of `dataset` (labels required) and count reference vs prediction.

    Restores the model's train/eval mode afterwards. The loss is the pixel-weighted mean of
    `loss_fn` over the batches (None without a loss function). `progress` is only checked for
    cancel (the caller's progress bar stays where it is).
    """
    progress = progress or silent()
    num_classes = int(model.num_classes)
    acc = ConfusionAccumulator(num_classes, IGNORE_INDEX)
    was_training = model.training
    model.eval()
    total_loss, total_pixels = 0.0, 0
    n = len(dataset)
    try:
        for start in range(0, n, batch_size):
            progress.check()
            samples = [dataset[i] for i in range(start, min(start + batch_size, n))]
            images = torch.stack([s["image"] for s in samples]).to(device, non_blocking=True)
            labels = torch.stack([s["label"] for s in samples])
            with autocast(device, amp):
                logits = model(images).logits
            pred = logits.argmax(dim=1).to("cpu")
            acc.update(pred.numpy(), labels.numpy())
            if loss_fn is not None:
                pixels = int((labels != IGNORE_INDEX).sum())
                if pixels:
                    total_loss += float(loss_fn(logits.float(), labels.to(device))) * pixels
                    total_pixels += pixels
    finally:
        model.train(was_training)
    loss = total_loss / total_pixels if total_pixels else None
    return ValidationResult(acc.matrix.copy(), loss, n)


# -- the figures of a validation, as training logs and files them ------------------------------------


def nan_to_none(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def validation_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """The `val_*` columns of a history row from `ValidationResult.summary` (mIoU None when there is none)."""
    return {
        "val_loss": summary["loss"],
        "val_miou": nan_to_none(summary["mean_iou"]),
        "val_overall_accuracy": summary["overall_accuracy"],
        "val_mean_f1": summary["mean_f1"],
        "val_kappa": summary["kappa"],
        "val_classes": [
            {k: c[k] for k in ("name", "iou", "f1", "precision", "recall", "reference_pixels", "predicted_pixels")}
            for c in summary["classes"]
        ],
        "val_confusion_matrix": summary["confusion_matrix"],
    }


METRICS_COLUMNS = ["epoch", "step", "lr", "train_loss", "val_loss", "val_miou", "val_overall_accuracy", "val_mean_f1",
                   "val_kappa", "elapsed_s", "best"]


def write_metrics_files(json_path: Path, csv_path: Path, document: dict[str, Any], class_names: list[str]) -> None:
    """`document` as JSON, its `epochs` rows as CSV (one IoU column per class) and as curves (PNG), atomically."""
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(METRICS_COLUMNS + [f"iou_{n}" for n in class_names])
    for row in document["epochs"]:
        ious = {c["name"]: c["iou"] for c in row.get("val_classes", [])}
        values = [row.get(c) for c in METRICS_COLUMNS] + [ious.get(n) for n in class_names]
        writer.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in values])
    with atomic_path(csv_path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    from .curves import training_curves, write_png

    write_png(json_path.with_suffix(".png"), training_curves(document))  # model.metrics.png

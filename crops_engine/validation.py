"""Scoring a model on labelled blocks: confusion matrix, mIoU and loss, in eval mode, no gradients.

Training uses it for its per-epoch validation; adaptation can score a model on any labelled split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

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

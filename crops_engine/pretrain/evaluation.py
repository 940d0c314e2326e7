"""How good a pretrained encoder is, as SimSiam's paper judges one: a linear probe and full fine-tuning,
each against the same from a random initialisation, on a labelled block store.

- linear probe: the encoder frozen (eval mode), a 1 x 1 classifier on its hypercolumns (every level of the
  feature pyramid upsampled to the block, concatenated; a BatchNorm without affine parameters first, as
  MAE's probe) trained with cross-entropy on the store's training blocks (flips and rotations), AdamW at
  PROBE_LR: a task of the optimisation loop; inputs normalised as in pretraining (the encoder's statistics);
- fine-tuning: `train_source` from the pretrained encoder (PRETRAINED) with the encoder at ENCODER_LR_SCALE
  times the LR of the rest; random initialisation: the same `train_source` without PRETRAINED. Both with
  the source-training defaults and one validation at the end, so the scored model is the last one.

All four are scored on the store's validation blocks (every labelled pixel once per block; the training
blocks when the store has no validation split, which a warning says): IoU per class, mIoU over the classes
present, overall accuracy. Example predictions of a few validation blocks go to the report.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..batches import BatchStream
from ..block_dataset import BlockDataset, model_inputs
from ..blocks import BlockStore
from ..checkpoint import load_model
from ..device import resolve_device
from ..errors import CropsError
from ..features import normalise
from ..loop import Run, RunSettings, Task, fit
from ..losses import SegmentationLoss
from ..metrics import ConfusionAccumulator, per_class_iou
from ..progress import Progress, silent
from .encoder import ENCODER_ARGS, load_encoder_into, read_encoder_meta
from .view import EncoderView

PROBE_LR = 0.01
EXAMPLES = 4
ARMS = {  # name -> label in the report
    "linear_probe": "Linear probe, pretrained",
    "linear_probe_random": "Linear probe, random init",
    "fine_tune": "Fine-tuned from pretrained",
    "random_init": "Trained from random init",
}


class LinearProbe(Task):
    """A 1 x 1 classifier on the frozen encoder's hypercolumns."""

    name = "linear_probe"
    steps_option = "EVAL_ITERATIONS"

    def __init__(self, view: EncoderView, num_classes: int, store: str, indices: np.ndarray, mean: list[float],
                 std: list[float], batch_size: int, seed: int) -> None:
        self.view = view
        width = sum(view.channels)
        self.head = nn.Sequential(nn.BatchNorm2d(width, affine=False), nn.Conv2d(width, num_classes, 1))
        self.num_classes = int(num_classes)
        self.store, self.indices, self.mean, self.std = store, indices, mean, std
        self.batch_size, self.seed = batch_size, seed
        self.loss_fn = SegmentationLoss()

    def setup(self, run: Run) -> None:
        self.view.to(run.device).eval()
        for p in self.view.parameters():
            p.requires_grad_(False)
        self.head.to(run.device).train()

    def parameters(self) -> Iterator[nn.Parameter]:
        return self.head.parameters()

    def batches(self, start_step: int, total_steps: int) -> Iterator[dict[str, Tensor]]:
        dataset = BlockDataset(BlockStore(self.store), indices=self.indices, mean=self.mean, std=self.std)
        return BatchStream(dataset, self.batch_size, seed=self.seed).iterate(start_step, total_steps)

    def training_step(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        with torch.no_grad(), self.run.autocast():
            features = self.view.hypercolumns(batch["image"]).float()
        return self.loss_fn(self.head(features), batch["label"]), {}

    def predict(self, x: Tensor) -> Tensor:
        self.head.eval()
        with torch.no_grad():
            return self.head(self.view.hypercolumns(x).float()).argmax(1)


def _score(pred: np.ndarray, labels: np.ndarray, names: list[str]) -> dict[str, Any]:
    acc = ConfusionAccumulator(len(names))
    acc.update(pred, labels)
    iou = per_class_iou(acc.matrix)
    miou = acc.mean_iou
    return {"miou": None if math.isnan(miou) else float(miou), "overall_accuracy": float(acc.overall_accuracy),
            "iou": {n: (None if math.isnan(v) else float(v)) for n, v in zip(names, iou, strict=True)},
            "pixels": int(acc.matrix.sum())}


def _predict_model(path: str, store: BlockStore, idx: np.ndarray, device: torch.device) -> np.ndarray:
    model, meta = load_model(path, device)
    out = []
    for start in range(0, len(idx), 16):
        x, _ = model_inputs(store, meta, idx[start:start + 16])
        with torch.no_grad():
            out.append(model(torch.from_numpy(x).to(device), embed=False).logits.argmax(1).cpu().numpy())
    return np.concatenate(out).astype(np.uint8)


def _probe(encoder: str | None, meta: Any, store_path: str, train_idx: np.ndarray, score_idx: np.ndarray,
           num_classes: int, iterations: int, batch_size: int, seed: int, device: torch.device,
           work: Path) -> np.ndarray:
    """Train the linear probe on the encoder (`encoder` None: a random one of the same architecture), return its
    predictions of `score_idx`."""
    from ..models import build_model

    torch.manual_seed(seed)
    model = build_model(meta.arch, meta.in_channels, 1, **meta.arch_args)
    if encoder is not None:
        load_encoder_into(model, encoder)
    view = EncoderView(model)
    task = LinearProbe(view, num_classes, store_path, train_idx, meta.normalisation["mean"],
                       meta.normalisation["std"], batch_size, seed)
    name = "probe" if encoder else "probe_random"
    fit(task, RunSettings(total_steps=iterations, lr=PROBE_LR, resume_file=work / f"{name}.resume.safetensors",
                          weight_decay=0.0, device=device, seed=seed, save_every_s=math.inf), silent())
    out = []
    with BlockStore(store_path) as store:
        for start in range(0, len(score_idx), 16):
            idx = score_idx[start:start + 16]
            x = normalise(store.images(idx), meta.normalisation["mean"], meta.normalisation["std"], store.valid(idx))
            out.append(task.predict(torch.from_numpy(x).to(device)).cpu().numpy())
    return np.concatenate(out).astype(np.uint8)


def evaluate_encoder(encoder: str, blocks: str, iterations: int = 200, batch_size: int = 16, seed: int = 0,
                     device: str = "cpu", encoder_lr_scale: float = 0.1, arch_args: dict[str, Any] | None = None,
                     progress: Progress | None = None) -> dict[str, Any]:
    """Linear probe and fine-tuning of `encoder` vs random initialisation on labelled `blocks` (module doc).

    `arch_args` override the decoder's arguments of the fine-tuned and random models (the encoder's are the
    checkpoint's). Returns {"arms": {name: scores}, "classes", "scored_blocks", "split", "examples"}.
    """
    from ..train import TrainConfig, train_source

    progress = progress or silent()
    meta = read_encoder_meta(encoder)
    dev = resolve_device(device)
    with BlockStore(blocks) as store:
        if not store.has_labels:
            raise CropsError(f"EVAL_BLOCKS {blocks} has no labels; build it with LABELS.")
        names = [c.name for c in store.classes]
        colours = [c.colour for c in store.classes]
        train_idx = store.split("train") if "train" in store.splits else np.arange(len(store))
        val_idx = store.split("val") if "val" in store.splits else np.zeros(0, dtype=np.int64)
        split = "val"
        if len(val_idx) == 0:
            progress.warn(f"EVAL_BLOCKS {blocks} has no validation blocks: the evaluation scores on the training "
                          "blocks (optimistic); build it with VAL_FRACTION > 0.")
            val_idx, split = train_idx, "train"
        if list(store.feature_names) != list(meta.features):
            raise CropsError(f"EVAL_BLOCKS {blocks} has features {store.feature_names} but the encoder was pretrained "
                             f"on {meta.features}; evaluate on a store with the same features.")
        labels = store.labels(val_idx)
    decoder_args = {k: v for k, v in meta.arch_args.items() if k not in ENCODER_ARGS[meta.arch]} | (arch_args or {})
    arms: dict[str, dict[str, Any]] = {}
    predictions: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="crops-pretrain-eval-") as tmp:
        work = Path(tmp)
        steps = [("linear_probe", encoder), ("linear_probe_random", None), ("fine_tune", encoder),
                 ("random_init", None)]
        for k, (arm, init) in enumerate(steps):
            progress(0.0, f"Evaluation {k + 1}/4: {ARMS[arm].lower()}")
            started = time.perf_counter()
            if arm.startswith("linear_probe"):
                pred = _probe(init, meta, blocks, train_idx, val_idx, len(names), iterations, batch_size, seed,
                              dev, work)
            else:
                out = work / f"{arm}.safetensors"
                train_source(TrainConfig(
                    blocks=blocks, output=str(out), arch=meta.arch, arch_args=decoder_args
                    | ({} if init else meta.encoder_args), pretrained=init or "",
                    encoder_lr_scale=encoder_lr_scale if init else 1.0, iterations=iterations, batch_size=batch_size,
                    device=str(dev), seed=seed, val_every=iterations,
                ), progress.sub(0.0, 0.0))
                with BlockStore(blocks) as store:
                    pred = _predict_model(str(out), store, val_idx, dev)
            arms[arm] = _score(pred, labels, names) | {"label": ARMS[arm],
                                                       "seconds": round(time.perf_counter() - started, 2)}
            predictions[arm] = pred
            progress.log(f"{ARMS[arm]}: mIoU {_fmt(arms[arm]['miou'])}; IoU "
                         + ", ".join(f"{n} {_fmt(v)}" for n, v in arms[arm]["iou"].items()))
    # examples: the scored blocks with the most labelled pixels
    counted = (labels != 255).reshape(len(labels), -1).sum(axis=1)
    pick = np.argsort(-counted, kind="stable")[:EXAMPLES]
    with BlockStore(blocks) as store:
        images = normalise(store.images(val_idx[pick]), meta.normalisation["mean"], meta.normalisation["std"],
                           store.valid(val_idx[pick]))
    examples = {"images": images, "labels": labels[pick], "features": list(meta.features),
                "predictions": {arm: p[pick] for arm, p in predictions.items()}, "blocks": val_idx[pick].tolist()}
    return {"arms": arms, "classes": names, "colours": colours, "scored_blocks": int(len(val_idx)), "split": split,
            "train_blocks": int(len(train_idx)), "iterations": iterations, "encoder_lr_scale": encoder_lr_scale,
            "examples": examples}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"

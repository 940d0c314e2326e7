"""Co-training (METHOD=co_training): two models that collaborate through fused pseudo-labels, source-free.

After Gomez, Villalonga and Lopez, "Co-training for unsupervised domain adaptation of semantic segmentation
models" (Sensors 2023), which treats the models as black boxes and makes them collaborate only at the level of
pseudo-labelled target images. Here, with the target blocks only (the seed also mixes source images in; this
product never sees source data):

1. **Self-training stage** (`self_training`, ITERATIONS steps): two different models come out of it,
   CO_DIVERSITY `snapshots` (as in the seed: the EMA teacher half-way, model B, and at the end, model A) or
   `seeds` (two self-training runs, seeds SEED and SEED + 1: other batches, jitter and BatchNorm statistics).
2. **Collaboration loop**, CO_ROUNDS rounds. Each round both models label every target block, the two label
   sets are **fused** (CO_FUSION):
   - `agreement`: the pixels where both predict the same class (confidence: the mean of their two);
   - `confidence`: where they disagree, the more confident model's class (confidence: the larger);
   - `mean`: the ensemble, argmax of the mean of their probabilities;
   then **per-class thresholds** keep, of each class's fused pixels, its most confident CO_SHARE (the seed's
   per-class top share, "MPT": a class whose pixels are all less confident keeps its own, lower threshold),
   and a block keeps a class's pseudo-labels only where at least CO_MIN_PIXELS of them remain (fewer are
   dropped as noise). Each model is then retrained CO_EPOCHS epochs (passes over the target blocks) on the
   fused pseudo-labels, through ClassMix between pseudo-labelled target blocks (block i gets a random subset of
   the classes of block i - 1 of its batch pasted on) and the photometric JITTER.
3. **Final model**: the last round's models label the target once more, and a final model, started from the
   source model, learns those fused pseudo-labels for CO_FINAL_EPOCHS epochs. It is the output.

CO_MODELS 1 is the ablation without a second model (rounds of self-labelling with the same thresholds and
ClassMix); one model and one round is refused, as it is no co-training at all.

Each training stage is a run of the optimisation loop (`task.run_adaptation`: its own warm-up and cosine
schedule, checkpoint, resume state and cancel); the stages' models, pseudo-labels (`labels_*.npy`) and
`state.json` (which stages are done, the per-round figures) live in `<stem>.co_training/` beside OUTPUT.
RESUME (any resume state of the run, or OUTPUT) continues from the stage that was running. The per-round
class shares, agreement and thresholds are in `<stem>.adapt.json` and the checkpoint's provenance.
Memory: the pseudo-labels and confidences of all target blocks are held at once (5 bytes a pixel).
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..atomic import atomic_path
from ..batches import BatchStream
from ..checkpoint import load_model, read_metadata, save_checkpoint, sibling
from ..commands import declared, declared_choices
from ..device import autocast, resolve_device
from ..distributed import all_reduce_sum, batch_share, gather_rows, wait_for_all, world
from ..errors import CropsError
from ..losses import masked_cross_entropy
from ..metrics import IGNORE_INDEX
from ..progress import Progress, silent
from ..training_state import resume_path
from .classmix import class_mix
from .method import AdaptationContext, AdaptationMethod, check_config
from .self_training import SelfTraining, SelfTrainingConfig
from .target import TargetBlocks, iterate_probabilities, open_target
from .teacher import photometric_jitter

FUSIONS = declared_choices("adapt", "CO_FUSION")
DIVERSITIES = declared_choices("adapt", "CO_DIVERSITY")
STATE = "state.json"


@dataclass
class CoTrainingConfig(SelfTrainingConfig):
    """Co-training's settings: the self-training stage's are self_training's (ITERATIONS its steps); the rest
    shape the collaboration (defaults chosen on the synthetic suite of bench/adaptation.py, tuning seeds:
    bench/results/adaptation_notes.md)."""

    co_rounds: int = declared("adapt", "CO_ROUNDS")
    co_epochs: int = declared("adapt", "CO_EPOCHS")  # epochs of each model's retraining per round
    co_final_epochs: int = declared("adapt", "CO_FINAL_EPOCHS")
    co_share: float = declared("adapt", "CO_SHARE")  # per class, the share of its fused pixels kept
    co_min_pixels: int = declared("adapt", "CO_MIN_PIXELS")  # per class per block, or none of them is kept
    co_fusion: str = declared("adapt", "CO_FUSION")
    co_models: int = declared("adapt", "CO_MODELS")
    co_diversity: str = declared("adapt", "CO_DIVERSITY")
    # set by the co-training run for its training stages (not options)
    pseudo_labels: str = ""  # .npy of the stage's pseudo-labels (store index, H, W), IGNORE_INDEX where none
    stage: str = ""
    state_file: str = ""

    def hyperparameters(self) -> dict[str, Any]:
        out = super().hyperparameters()
        for internal in ("pseudo_labels", "stage", "state_file"):
            out.pop(internal, None)
        return out


def check_co_training_config(cfg: CoTrainingConfig) -> None:
    """A CropsError for the first co-training setting that cannot work."""
    if cfg.co_models not in (1, 2):
        raise CropsError(f"CO_MODELS must be 1 or 2, got {cfg.co_models}.")
    if cfg.co_rounds < 1:
        raise CropsError(f"CO_ROUNDS must be at least 1, got {cfg.co_rounds}.")
    if cfg.co_models == 1 and cfg.co_rounds == 1:
        raise CropsError(
            "Co-training with one model and one round is no co-training: nothing collaborates, it is self-training "
            "followed by one retraining on its own pseudo-labels. Give CO_MODELS 2 (two models fuse their labels), "
            "or more CO_ROUNDS, or use METHOD self_training."
        )
    if cfg.co_epochs < 1 or cfg.co_final_epochs < 1:
        raise CropsError(f"CO_EPOCHS and CO_FINAL_EPOCHS must be at least 1, got {cfg.co_epochs} and "
                         f"{cfg.co_final_epochs}.")
    if not 0.0 < cfg.co_share <= 1.0:
        raise CropsError(f"CO_SHARE must be in (0, 1], got {cfg.co_share}.")
    if cfg.co_min_pixels < 0:
        raise CropsError(f"CO_MIN_PIXELS must be 0 or more, got {cfg.co_min_pixels}.")
    if cfg.co_fusion not in FUSIONS:
        raise CropsError(f"CO_FUSION {cfg.co_fusion!r} is not one of {', '.join(FUSIONS)}.")
    if cfg.co_diversity not in DIVERSITIES:
        raise CropsError(f"CO_DIVERSITY {cfg.co_diversity!r} is not one of {', '.join(DIVERSITIES)}.")
    if cfg.co_models == 2 and cfg.co_diversity == "snapshots" and cfg.iterations < 2:
        raise CropsError(
            f"CO_DIVERSITY snapshots takes model B half-way through the self-training stage: ITERATIONS must be at "
            f"least 2, got {cfg.iterations}."
        )


# -- fusion and thresholds (pure functions) -------------------------------------------------------------


def fuse(probs_a: Tensor, probs_b: Tensor | None, valid: Tensor, rule: str) -> tuple[Tensor, Tensor]:
    """(labels (N, H, W) int64, confidence (N, H, W)) of two models' probabilities (N, K, H, W) fused by `rule`
    (module doc); IGNORE_INDEX where `agreement` drops a pixel and on invalid pixels. One model (`probs_b`
    None): its own argmax and max-probability."""
    conf_a, lab_a = probs_a.max(dim=1)
    if probs_b is None:
        labels, confidence = lab_a, conf_a
    elif rule == "agreement":
        conf_b, lab_b = probs_b.max(dim=1)
        labels = torch.where(lab_a == lab_b, lab_a, torch.full_like(lab_a, IGNORE_INDEX))
        confidence = (conf_a + conf_b) / 2
    elif rule == "confidence":
        conf_b, lab_b = probs_b.max(dim=1)
        a_wins = conf_a >= conf_b
        labels = torch.where(a_wins, lab_a, lab_b)
        confidence = torch.where(a_wins, conf_a, conf_b)
    elif rule == "mean":
        confidence, labels = ((probs_a + probs_b) / 2).max(dim=1)
    else:
        raise ValueError(f"fusion {rule!r} is not one of {', '.join(FUSIONS)}")
    labels = torch.where(valid.bool(), labels, torch.full_like(labels, IGNORE_INDEX))
    return labels, confidence


def class_thresholds(labels: np.ndarray, confidence: np.ndarray, num_classes: int, share: float) -> np.ndarray:
    """(K,) per class, the confidence of the last pixel of its most confident `share` (the ceil(share x n)-th
    largest confidence of its n labelled pixels): keeping pixels at or above it keeps that share of each class,
    whatever its confidence level. A class without a pixel gets +inf."""
    labels = np.asarray(labels).reshape(-1)
    confidence = np.asarray(confidence, dtype=np.float64).reshape(-1)
    out = np.full(num_classes, np.inf)
    for k in range(num_classes):
        c = confidence[labels == k]
        if c.size == 0:
            continue
        keep = max(1, math.ceil(share * c.size))
        out[k] = np.partition(c, c.size - keep)[c.size - keep]
    return out


def select_pseudo_labels(labels: np.ndarray, confidence: np.ndarray, thresholds: np.ndarray,
                         min_pixels: int) -> np.ndarray:
    """(N, H, W) uint8 pseudo-labels: a fused label where its confidence reaches its class's threshold, then, per
    block, only the classes with at least `min_pixels` such pixels; IGNORE_INDEX elsewhere."""
    labels = np.asarray(labels)
    k = len(thresholds)
    labelled = labels != IGNORE_INDEX
    safe = np.where(labelled, labels, 0).astype(np.int64)
    keep = labelled & (np.asarray(confidence) >= np.asarray(thresholds)[safe])
    out = np.where(keep, labels, IGNORE_INDEX).astype(np.uint8)
    if min_pixels > 0:
        for i in range(out.shape[0]):
            block = out[i]
            counts = np.bincount(block[block != IGNORE_INDEX].astype(np.int64), minlength=k)
            few = np.flatnonzero((counts > 0) & (counts < min_pixels))
            if few.size:
                block[np.isin(block, few)] = IGNORE_INDEX
    return out


def class_shares(labels: np.ndarray, valid_pixels: int, num_classes: int) -> list[float]:
    """Share of the valid pixels labelled with each class."""
    labels = np.asarray(labels).reshape(-1)
    counts = np.bincount(labels[labels != IGNORE_INDEX].astype(np.int64), minlength=num_classes)[:num_classes]
    return [round(float(c) / max(valid_pixels, 1), 4) for c in counts]


# -- the labelling pass ----------------------------------------------------------------------------------


def label_target(models: list[str], cfg: CoTrainingConfig, output: Path, progress: Progress) -> dict[str, Any]:
    """Both (or the one) `models` label every target block; fused, thresholded pseudo-labels to `output` (.npy,
    one row per store block); returns the round's figures (agreement, class shares, thresholds)."""
    device = resolve_device(cfg.device)
    loaded = [load_model(m, device) for m in models]
    meta = loaded[0][1]
    store, indices = open_target(cfg.blocks, meta, cfg.split, cfg.statistics_alignment, silent(), str(cfg.model))
    try:
        dataset = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], indices)
        size = store.block_size
        k = meta.num_classes
        fused = np.full((len(store), size, size), IGNORE_INDEX, dtype=np.uint8)
        confidence = np.zeros((len(store), size, size), dtype=np.float32)
        predicted = [np.zeros(k, dtype=np.int64) for _ in models]
        agree = valid_pixels = 0
        lo, hi = batch_share(len(indices), cfg.batch_size)  # under torchrun this process's share (all: one process)
        positions = np.arange(lo, hi)
        streams = [iterate_probabilities(model, dataset, positions, cfg.batch_size, device, cfg.amp,
                                         progress if j == 0 else None) for j, (model, _) in enumerate(loaded)]
        start = lo
        for outputs in zip(*streams, strict=True):
            probs = [p for p, _ in outputs]
            valid = outputs[0][1].bool()
            rows = indices[start : start + probs[0].shape[0]]
            start += probs[0].shape[0]
            labels, conf = fuse(probs[0], probs[1] if len(probs) > 1 else None, valid, cfg.co_fusion)
            fused[rows] = labels.cpu().numpy().astype(np.uint8)
            confidence[rows] = conf.float().cpu().numpy()
            argmax = [p.argmax(dim=1)[valid].cpu().numpy() for p in probs]
            for j, a in enumerate(argmax):
                predicted[j] += np.bincount(a, minlength=k)[:k]
            if len(argmax) > 1:
                agree += int((argmax[0] == argmax[1]).sum())
            valid_pixels += int(valid.sum())
    finally:
        store.close()
    if world().active:  # under torchrun: every block's labels and the counts of all, so the figures are global
        gather_rows([fused, confidence], indices, lo, hi, progress, "sharing the fused pseudo-labels")
        totals = torch.tensor([agree, valid_pixels, *np.concatenate(predicted)], dtype=torch.int64)
        all_reduce_sum(totals, what="adding up the pseudo-label counts")
        agree, valid_pixels, *counts = totals.tolist()
        predicted = [np.asarray(counts[j * k:(j + 1) * k], dtype=np.int64) for j in range(len(models))]
    chosen = fused[indices]
    thresholds = class_thresholds(chosen, confidence[indices], k, cfg.co_share)
    pseudo = fused.copy()
    pseudo[indices] = select_pseudo_labels(chosen, confidence[indices], thresholds, cfg.co_min_pixels)
    with atomic_path(output) as tmp, open(tmp, "wb") as fh:
        np.save(fh, pseudo)
    figures = {
        "models": [str(m) for m in models],
        "agreement": round(agree / max(valid_pixels, 1), 4) if len(models) > 1 else None,
        "model_class_shares": [[round(float(c) / max(valid_pixels, 1), 4) for c in p] for p in predicted],
        "fused_labelled_share": round(float((chosen != IGNORE_INDEX).sum()) / max(valid_pixels, 1), 4),
        "thresholds": [None if not np.isfinite(t) else round(float(t), 4) for t in thresholds],
        "pseudo_label_class_shares": class_shares(pseudo[indices], valid_pixels, k),
        "labelled_share": round(float((pseudo[indices] != IGNORE_INDEX).sum()) / max(valid_pixels, 1), 4),
    }
    return figures


# -- the training stages ------------------------------------------------------------------------------------


@dataclass
class SnapshotConfig(SelfTrainingConfig):
    """The self-training stage; with `snapshot` the teacher of step `snapshot_at` is written there too."""

    snapshot: str = ""
    snapshot_at: int = 0

    def hyperparameters(self) -> dict[str, Any]:
        out = super().hyperparameters()
        out.pop("snapshot", None)
        return out


class SnapshotSelfTraining(SelfTraining):
    """Self-training that also writes its teacher half-way (co-training's model B of `snapshots`)."""

    config_class = SnapshotConfig

    def setup(self, context: AdaptationContext) -> None:
        super().setup(context)
        self.meta = context.meta

    def after_step(self, step: int) -> None:
        super().after_step(step)
        cfg = self.config
        assert isinstance(cfg, SnapshotConfig) and self.teacher is not None
        if cfg.snapshot and step + 1 == cfg.snapshot_at:
            provenance = {"task": "adapt", "method": "self_training", "snapshot_of": str(cfg.output),
                          "iterations": step + 1, "hyperparameters": cfg.hyperparameters()}
            save_checkpoint(cfg.snapshot, self.teacher.model, replace(self.meta, provenance=provenance))


class PseudoLabelRows:
    """The stage's pseudo-labels as a dataset of the target blocks' positions, so a `BatchStream` with the
    loop's seed and batch size flips and rotates them exactly as it does the images of the same step."""

    def __init__(self, labels: np.ndarray, indices: np.ndarray) -> None:
        self.labels, self.indices = labels, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position: int) -> dict[str, Any]:
        index = int(self.indices[position])
        label = torch.from_numpy(np.asarray(self.labels[index]).astype(np.int64))
        return {"image": label[None].float(), "valid": label != IGNORE_INDEX, "label": label, "index": index}


class CoTraining(AdaptationMethod):
    """One retraining stage of co-training (a model learns fused pseudo-labels through ClassMix); `run` is
    the whole method (`adapt` calls it): the self-training stage, the rounds and the final model."""

    name = "co_training"
    config_class = CoTrainingConfig

    def __init__(self, config: CoTrainingConfig, student: nn.Module, progress: Any) -> None:
        super().__init__(config, student, progress)
        check_co_training_config(config)
        self.cfg = config
        self.rows: BatchStream | None = None
        self.num_classes = int(student.num_classes)
        self._generator = torch.Generator()
        self.labelled_share = 0.0

    def trainable_parameters(self) -> list[nn.Parameter]:
        projection = {id(p) for p in self.student.projection_head.parameters()}  # unused by this loss
        return [p for p in self.student.parameters() if id(p) not in projection]

    def setup(self, context: AdaptationContext) -> None:
        if not self.cfg.pseudo_labels:
            raise CropsError("A co-training stage needs its pseudo-labels; run METHOD co_training through adapt.")
        labels = np.load(self.cfg.pseudo_labels, mmap_mode="r")
        self.rows = BatchStream(PseudoLabelRows(labels, context.dataset.indices), self.cfg.batch_size,
                                seed=self.cfg.seed)

    def loss(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        assert self.rows is not None
        rows = self.rows.batch(step)
        if not torch.equal(rows["index"], batch["index"].cpu()):
            raise RuntimeError("the pseudo-labels' batches do not follow the loop's (batch size or seed differ)")
        x, valid = batch["image"], batch["valid"].bool()
        labels = rows["label"].to(x.device)
        labels = torch.where(valid, labels, torch.full_like(labels, IGNORE_INDEX))
        ones = torch.ones(labels.shape, device=x.device)
        self._generator.manual_seed(int(self.cfg.seed) * 1_000_003 + step)
        mixed = class_mix(x.roll(1, 0), valid.roll(1, 0), labels.roll(1, 0), ones, x, valid, labels, ones,
                          self.num_classes, self._generator, "confidence")
        view = photometric_jitter(mixed.image, mixed.valid, self.cfg.jitter, self._generator)
        with autocast(x.device, self.cfg.amp):
            logits = self.student(view, False).logits
        loss = masked_cross_entropy(logits, mixed.labels, mixed.weight)
        pixels = float(mixed.valid.sum())
        self.labelled_share = float((mixed.labels != IGNORE_INDEX).sum()) / pixels if pixels else 0.0
        return loss, {"ce": float(loss.detach()), "labelled": self.labelled_share}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stage": self.cfg.stage, "labelled_share": round(self.labelled_share, 4)}
        if self.cfg.state_file and Path(self.cfg.state_file).is_file():
            state = json.loads(Path(self.cfg.state_file).read_text(encoding="utf-8"))
            out["rounds"] = state.get("rounds", [])
            out["stages"] = state.get("stages", [])
            out["run_hyperparameters"] = state.get("fingerprint", {}).get("hyperparameters", {})
        return out

    @classmethod
    def run(cls, config: CoTrainingConfig, progress: Progress | None = None) -> dict[str, Any]:
        return CoTrainingRun(config, progress or silent()).run()


# -- the whole run ------------------------------------------------------------------------------------------


def work_folder(output: str | Path) -> Path:
    """`adapted.safetensors` -> `adapted.co_training/`: the stages' models, pseudo-labels and state."""
    return sibling(output, ".co_training")


class CoTrainingRun:
    """The stages of one co-training run, in order, skipping those a resumed run finished (`state.json`)."""

    def __init__(self, cfg: CoTrainingConfig, progress: Progress) -> None:
        check_config(cfg)
        check_co_training_config(cfg)
        self.cfg, self.progress = cfg, progress
        self.work = work_folder(cfg.output)
        self.state_path = self.work / STATE
        meta = read_metadata(cfg.model)
        store, indices = open_target(cfg.blocks, meta, cfg.split)
        store.close()
        self.steps_per_epoch = max(1, math.ceil(len(indices) / (cfg.batch_size * world().size)))  # global batches
        self.state: dict[str, Any] = {}

    # -- the plan --------------------------------------------------------------------------------------
    def actions(self) -> list[dict[str, Any]]:
        cfg, w = self.cfg, self.work
        two = cfg.co_models == 2
        out: list[dict[str, Any]] = []
        a, b = w / "model_a_0.safetensors", w / "model_b_0.safetensors"
        first = {"key": "self_training_a", "kind": "self_training", "output": a, "model": Path(cfg.model),
                 "seed": cfg.seed, "steps": cfg.iterations}
        if two and cfg.co_diversity == "snapshots":
            first |= {"snapshot": b, "snapshot_at": max(1, cfg.iterations // 2)}
        out.append(first)
        if two and cfg.co_diversity == "seeds":
            out.append({"key": "self_training_b", "kind": "self_training", "output": b, "model": Path(cfg.model),
                        "seed": cfg.seed + 1, "steps": cfg.iterations})
        epochs = cfg.co_epochs * self.steps_per_epoch
        for r in range(1, cfg.co_rounds + 1):
            models = [a, b] if two else [a]
            labels = w / f"labels_{r}.npy"
            out.append({"key": f"labels_{r}", "kind": "label", "round": r, "models": models, "output": labels,
                        "steps": self.steps_per_epoch * len(models)})
            a_next, b_next = w / f"model_a_{r}.safetensors", w / f"model_b_{r}.safetensors"
            out.append({"key": f"retrain_a_{r}", "kind": "retrain", "output": a_next, "model": a, "labels": labels,
                        "seed": cfg.seed + 10 * r, "steps": epochs})
            if two:
                out.append({"key": f"retrain_b_{r}", "kind": "retrain", "output": b_next, "model": b,
                            "labels": labels, "seed": cfg.seed + 10 * r + 1, "steps": epochs})
            a, b = a_next, b_next
        models = [a, b] if two else [a]
        out.append({"key": "labels_final", "kind": "label", "round": "final", "models": models,
                    "output": w / "labels_final.npy", "steps": self.steps_per_epoch * len(models)})
        out.append({"key": "final", "kind": "final", "output": Path(cfg.output), "model": Path(cfg.model),
                    "labels": w / "labels_final.npy", "seed": cfg.seed + 1000,
                    "steps": cfg.co_final_epochs * self.steps_per_epoch})
        return out

    # -- state --------------------------------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        from ..checkpoint import file_sha256

        return {"model_sha256": file_sha256(self.cfg.model), "blocks": str(Path(self.cfg.blocks).resolve()),
                "hyperparameters": self.cfg.hyperparameters()}

    def load_state(self) -> None:
        fingerprint = json.loads(json.dumps(self.fingerprint(), default=str))
        if self.cfg.resume:
            if not self.state_path.is_file():
                raise CropsError(f"RESUME: no co-training run to continue in {self.work} (no {STATE}); start without "
                                 "RESUME.")
            self.state = json.loads(self.state_path.read_text(encoding="utf-8"))
            if self.state.get("fingerprint") != fingerprint:
                raise CropsError(f"RESUME: the co-training run in {self.work} was started with another MODEL, target "
                                 "store or settings; give the same ones, or start without RESUME.")
            self.progress.log(f"Continuing the co-training run in {self.work} after {', '.join(self.state['done'])}.")
            return
        if world().writer:  # under torchrun process 0 owns the folder (the others' writes go to their scratch)
            if self.work.exists():
                shutil.rmtree(self.work)
            self.work.mkdir(parents=True)
        self.state = {"fingerprint": fingerprint, "done": [], "rounds": [], "stages": []}
        self.save_state()

    def save_state(self) -> None:
        with atomic_path(self.state_path) as tmp:
            tmp.write_text(json.dumps(self.state, indent=1, default=str), encoding="utf-8")

    # -- running ------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.load_state()
        actions = self.actions()
        total = sum(a["steps"] for a in actions)
        done_steps = 0
        result: dict[str, Any] = {}
        for action in actions:
            part = self.progress.sub(done_steps / total, (done_steps + action["steps"]) / total)
            done_steps += action["steps"]
            if action["key"] in self.state["done"]:
                continue
            if action["kind"] == "label":
                figures = label_target([str(m) for m in action["models"]], self.cfg, action["output"], part)
                figures["round"] = action["round"]
                self.state["rounds"].append(figures)
                self.progress.log(f"Co-training round {action['round']}: " + json.dumps(figures, default=str))
            else:
                result = self.train(action, part)
                self.state["stages"].append({"stage": action["key"], "steps": result.get("steps"),
                                             "final_loss": result.get("final_loss"),
                                             "seconds": result.get("seconds")})
            self.state["done"].append(action["key"])
            self.save_state()
            wait_for_all("co-training-stage", self.progress)  # under torchrun: process 0 has written the stage
        if not result:  # a resumed run whose every stage was done: the final model's figures
            result = {"output": str(self.cfg.output), "method": CoTraining.name}
        result["steps"] = sum(a["steps"] for a in actions if a["kind"] != "label")  # optimiser steps of all stages
        result["stages"] = [s["stage"] for s in self.state["stages"]]
        result["rounds"] = self.state["rounds"]
        result["work_folder"] = str(self.work)
        return result

    def train(self, action: dict[str, Any], progress: Progress) -> dict[str, Any]:
        from .task import run_adaptation

        cfg = self.cfg
        out = Path(action["output"])
        resume = resume_path(out)
        common = {"model": str(action["model"]), "output": str(out), "seed": int(action["seed"]),
                  "iterations": int(action["steps"]), "resume": str(resume) if cfg.resume and resume.is_file() else ""}
        if action["kind"] == "self_training":
            base = {f.name: getattr(cfg, f.name) for f in fields(SelfTrainingConfig)}
            stage = SnapshotConfig(**(base | common), snapshot=str(action.get("snapshot", "")),
                                   snapshot_at=int(action.get("snapshot_at", 0)))
            return run_adaptation(SnapshotSelfTraining, stage, progress)
        stage_cfg = replace(cfg, **common, pseudo_labels=str(action["labels"]), stage=action["key"],
                            state_file=str(self.state_path))
        return run_adaptation(CoTraining, stage_cfg, progress)


METHOD = CoTraining

"""Supervised training of the source model on a labelled block store: a task of the optimisation loop.

AdamW with warm-up + cosine decay, cross-entropy with ignore (optional class weights and Dice),
flips and 90-degree rotations, mixed precision on CUDA (`loop`). Every epoch (one pass over the
training blocks) ends with a validation on the store's `val` split; the model with the best
validation mIoU is written as a self-describing checkpoint (`checkpoint.save_checkpoint`), the
per-epoch figures as `<stem>.metrics.json` / `.metrics.csv` beside it, and the state needed to
continue as `<stem>.resume.safetensors` (`training_state`). Cancel stops after the current step: the
checkpoint and metrics of the last completed validation stay, and the resume state is written at
the step reached, so a run can be continued with RESUME.

On the CPU a seed gives the same model every time (seeded torch, a batch stream that depends
only on the seed and the step, deterministic algorithms).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .batches import BatchStream
from .block_dataset import BlockDataset, checkpoint_inputs
from .blocks import BlockStore
from .checkpoint import SUFFIX as CHECKPOINT_SUFFIX
from .checkpoint import (
    CheckpointMeta,
    check_features,
    file_sha256,
    load_model,
    read_metadata,
    save_checkpoint,
    sibling,
)
from .commands import declared, declared_choices
from .device import describe, resolve_device
from .distributed import world
from .errors import CropsError
from .loop import Resume, Run, RunResult, RunSettings, Task, check_task, fit, open_resume
from .losses import CLASS_WEIGHTING, SegmentationLoss, balanced_class_weights
from .pretrain.encoder import check_pretrained_encoder, encoder_module, is_encoder_checkpoint, load_encoder_into
from .progress import Progress, silent
from .schedule import check_optimiser_settings
from .training_state import TrainingState, resume_path
from .validation import validate, validation_figures, write_metrics_files

ARCHS = declared_choices("train-source", "ARCH")
DEFAULT_ENCODER = "resnet18"


@dataclass
class TrainConfig:
    """Parameters of `train_source` (the CLI options / Processing parameters of train-source)."""

    blocks: str
    output: str
    arch: str = declared("train-source", "ARCH")
    # "" = the architecture's default (resnet18 for unet; unused by transunet)
    encoder: str = declared("train-source", "ENCODER")
    arch_args: dict[str, Any] = field(default_factory=dict)  # advanced: override architecture arguments
    pretrained: str = ""  # local encoder weights file, or an encoder checkpoint from crops:pretrain
    encoder_lr_scale: float = declared("train-source", "ENCODER_LR_SCALE")  # encoder LR = LR x this
    epochs: int = declared("train-source", "EPOCHS")
    iterations: int = declared("train-source", "ITERATIONS")  # > 0 overrides epochs
    batch_size: int = declared("train-source", "BATCH_SIZE")
    lr: float = declared("train-source", "LR")
    weight_decay: float = declared("train-source", "WEIGHT_DECAY")
    warmup: float = declared("train-source", "WARMUP")  # fraction of the steps (at most 500)
    class_weights: str = declared("train-source", "CLASS_WEIGHTS")
    dice_weight: float = declared("train-source", "DICE_WEIGHT")
    device: str = declared("train-source", "DEVICE")
    amp: bool = declared("train-source", "AMP")
    seed: int = declared("train-source", "SEED")
    resume: str = ""
    val_every: int = declared("train-source", "VAL_EVERY")  # steps between validations; 0 = once per epoch
    resume_every: int = declared("train-source", "RESUME_EVERY")  # seconds between resume states; 0 = every step
    prefetch: int = 4  # batches prepared ahead by the data thread

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def metrics_paths(output: str | os.PathLike[str]) -> tuple[Path, Path]:
    """`model.safetensors` -> (`model.metrics.json`, `model.metrics.csv`)."""
    return sibling(output, ".metrics.json"), sibling(output, ".metrics.csv")


def resolve_arch_args(arch: str, encoder: str, block_size: int, overrides: dict[str, Any] | None = None,
                      series: dict[str, Any] | None = None) -> dict:
    """Architecture arguments from ARCH / ENCODER / the store's block size (and, for a temporal model, the
    store's series: its steps and their dates), then the explicit overrides."""
    if arch not in ARCHS:
        raise CropsError(f"ARCH {arch!r} is not one of {', '.join(ARCHS)}.")
    args: dict[str, Any] = {}
    if arch == "unet":
        args["encoder"] = encoder or DEFAULT_ENCODER
    elif arch == "utae":
        if not series:
            raise CropsError("ARCH utae is a temporal model: train it on a series' block store (build-series), "
                             "or choose unet / transunet for a composite's store.")
        args["encoder"] = encoder or DEFAULT_ENCODER
        args["steps"] = len(series["steps"])
        args["step_days"] = [float(d) for d in series["days"]]
        args["dates"] = [str(s["start"]) for s in series["steps"]]
    elif arch == "agrifm":
        if not series:
            raise CropsError("ARCH agrifm is a temporal model: train it on a series' block store (build-series), "
                             "or choose unet / transunet for a composite's store.")
        if encoder:
            raise CropsError(f"ENCODER {encoder!r} does not apply to agrifm (its encoder is a Video Swin "
                             "transformer; set its size in ARCH_ARGS); leave ENCODER empty.")
        args["steps"] = len(series["steps"])
        args["dates"] = [str(s["start"]) for s in series["steps"]]
    elif arch == "transunet":
        if encoder:
            raise CropsError(
                f"ENCODER {encoder!r} does not apply to transunet (its encoder is the R50-ViT-B/16 hybrid); "
                "leave ENCODER empty."
            )
        args["img_size"] = max(16, -(-int(block_size) // 16) * 16)  # position embeddings for the block size
    args.update(overrides or {})
    return args


def _check_config(cfg: TrainConfig) -> None:
    if not str(cfg.output).endswith(CHECKPOINT_SUFFIX):
        raise CropsError(f"OUTPUT {cfg.output} must be a {CHECKPOINT_SUFFIX} file.")
    if cfg.batch_size < 1:
        raise CropsError(f"BATCH_SIZE must be at least 1, got {cfg.batch_size}.")
    if cfg.iterations < 0 or cfg.epochs < 0 or (cfg.iterations == 0 and cfg.epochs == 0):
        raise CropsError("Give EPOCHS > 0, or ITERATIONS > 0 (which overrides EPOCHS).")
    check_optimiser_settings(cfg.lr, cfg.weight_decay, cfg.warmup)
    if cfg.class_weights not in CLASS_WEIGHTING:
        raise CropsError(f"CLASS_WEIGHTS {cfg.class_weights!r} is not one of {', '.join(CLASS_WEIGHTING)}.")
    if cfg.pretrained and not Path(cfg.pretrained).is_file():
        raise CropsError(f"PRETRAINED weights file {cfg.pretrained} does not exist.")
    if not 0.0 <= cfg.encoder_lr_scale <= 1.0:
        raise CropsError(f"ENCODER_LR_SCALE must be in [0, 1], got {cfg.encoder_lr_scale}.")
    if cfg.resume and not Path(cfg.resume).is_file():
        raise CropsError(f"RESUME file {cfg.resume} does not exist.")
    if Path(cfg.blocks).resolve() == Path(cfg.output).resolve():
        raise CropsError("OUTPUT would overwrite the block store; choose another file name.")


def _check_resume_fits(info: dict[str, Any], store: BlockStore, source: str) -> None:
    meta_like = CheckpointMeta(
        arch=str(info.get("arch", "")), arch_args=info.get("arch_args", {}), in_channels=len(info["features"]),
        num_classes=len(info["classes"]), features=list(info["features"]),
        normalisation={"mean": [0.0] * len(info["features"]), "std": [1.0] * len(info["features"])},
        classes=[], block_size=int(info.get("block_size", store.block_size)),
    )
    check_features(meta_like, store.feature_names, f"the block store {store.path}")
    names = [c["name"] for c in info["classes"]]
    if names != [c.name for c in store.classes]:
        raise CropsError(
            f"The run in {source} was trained on classes {names} but the block store {store.path} has "
            f"{[c.name for c in store.classes]}; resume with the same store (or a store built with the same CLASS_MAP)."
        )


@dataclass
class SourceBlocks:
    """The labelled store a source model learns from: its train / val blocks, labelled pixels per class of the
    train blocks and SHA-256. `store` is closed (the data thread and the validation open their own handles);
    its attributes stay readable."""

    store: BlockStore
    train: np.ndarray
    val: np.ndarray
    train_pixels: np.ndarray
    sha256: str


def open_source_blocks(cfg: TrainConfig, progress: Progress) -> SourceBlocks:
    """The store of BLOCKS checked for what training needs (labels, train blocks, labelled pixels)."""
    store = BlockStore(cfg.blocks)
    if not store.has_labels:
        raise CropsError(f"{store.path} is a block store without labels; build it with LABELS to train a source model.")
    train_idx = store.split("train") if "train" in store.splits else np.arange(len(store))
    val_idx = store.split("val") if "val" in store.splits else np.zeros(0, dtype=np.int64)
    if len(train_idx) == 0:
        raise CropsError(
            f"{store.path} has no training block (all {len(store)} blocks are validation or left out); "
            "rebuild it with a smaller VAL_FRACTION or a larger extent."
        )
    train_pixels = store.class_counts(train_idx).sum(axis=0)
    if train_pixels.sum() == 0:
        raise CropsError(f"The training blocks of {store.path} hold no labelled pixel; rebuild the store.")
    names = [c.name for c in store.classes]
    check_class_pixels(store, names, train_pixels, store.class_counts(val_idx).sum(axis=0) if len(val_idx) else None,
                       progress)
    progress.log(
        f"Block store {store.path}: {len(store)} blocks of {store.block_size} px, {len(store.feature_names)} features, "
        f"{len(names)} classes ({', '.join(names)}); {len(train_idx)} train / {len(val_idx)} val blocks."
    )
    if len(val_idx) == 0:
        progress.warn("The block store has no validation blocks: the last model is kept, not the best one.")
    progress(0.0, "Hashing the block store")
    store_sha = file_sha256(store.path)
    store.close()
    return SourceBlocks(store, train_idx, val_idx, train_pixels, store_sha)


def check_class_pixels(store: BlockStore, names: list[str], train_pixels: np.ndarray, val_pixels: np.ndarray | None,
                       progress: Progress) -> None:
    """Refuse training blocks with labelled pixels of fewer than two classes (a model learns nothing from one class
    and scores a perfect but meaningless val mIoU: issue 19); warn about classes the train or val blocks lack."""
    present = [n for n, count in zip(names, train_pixels, strict=True) if count > 0]
    if len(present) < 2:
        found = f"only class {present[0]!r} ({int(train_pixels.max())} px)" if present else "no class"
        raise CropsError(
            f"The training blocks of {store.path} hold labelled pixels of {found}: a model needs at least two classes "
            "to learn to tell them apart (with one it predicts that class everywhere and scores a meaningless val "
            "mIoU of 1). Rebuild the store with build-blocks giving LABELS with two or more classes; check CLASS_MAP "
            "(e.g. '1200=maize; *=other; 0=ignore' keeps every other code as class 'other')."
        )
    missing = [n for n, count in zip(names, train_pixels, strict=True) if count == 0]
    if missing:
        progress.warn(f"The training blocks hold no labelled pixel of {', '.join(missing)}: the model cannot learn "
                      f"{'that class' if len(missing) == 1 else 'those classes'}. Check CLASS_MAP, or rebuild the "
                      "store over an extent that holds them.")
    if val_pixels is None:
        return
    lacking = [n for n, tr, va in zip(names, train_pixels, val_pixels, strict=True) if tr > 0 and va == 0]
    if lacking:
        progress.warn(
            f"The validation blocks hold no labelled pixel of {', '.join(lacking)}: val mIoU does not measure "
            f"{'that class' if len(lacking) == 1 else 'those classes'}, so the best model is chosen without it. "
            "Rebuild the store with another SEED, VAL_GROUP_SIZE or VAL_FRACTION for a validation split that holds "
            "every class."
        )


def _build_model(cfg: TrainConfig, store: BlockStore, resume: Resume | None,
                 progress: Progress) -> tuple[nn.Module, str, dict[str, Any], str]:
    """(model, arch, arch_args, the checkpoint whose weights start it or ""): the architecture of the resumed
    run (its weights are restored by the loop), a checkpoint's model, or a new one."""
    from .models import build_model

    class_names = [c.name for c in store.classes]
    if resume is not None and resume.state is not None:
        info = resume.state.info
        check_task(resume.state, resume.source, SourceTraining.name)  # before reading its facts
        _check_resume_fits(info, store, resume.source)
        arch, arch_args = str(info["arch"]), dict(info["arch_args"])
        if arch != cfg.arch:
            progress.warn(f"Resuming a {arch} run: ARCH {cfg.arch} is not used.")
        return build_model(arch, len(store.feature_names), len(class_names), **arch_args), arch, arch_args, ""
    if resume is not None:
        model, meta = load_model(resume.weights_from)
        check_features(meta, store.feature_names, f"the block store {store.path}")
        if meta.class_names != class_names:
            raise CropsError(
                f"Model {resume.weights_from} predicts classes {meta.class_names} but the block store has "
                f"{class_names}; start from a model trained on the same classes (or without RESUME)."
            )
        progress.log(f"No resume state beside {resume.weights_from}: starting a new schedule from its weights.")
        return model, meta.arch, dict(meta.arch_args), resume.weights_from
    if cfg.pretrained and is_encoder_checkpoint(cfg.pretrained):  # an encoder from crops:pretrain
        encoder_meta = check_pretrained_encoder(cfg.pretrained, cfg.arch, cfg.encoder, cfg.arch_args,
                                                store.feature_names, f"the block store {store.path}")
        arch_args = resolve_arch_args(cfg.arch, cfg.encoder, store.block_size, cfg.arch_args, store.series_info)
        arch_args.update(encoder_meta.encoder_args)
        model = build_model(cfg.arch, len(store.feature_names), len(class_names), **arch_args)
        load_encoder_into(model, cfg.pretrained)
        progress.log(f"Encoder initialised from the pretrained encoder {cfg.pretrained} "
                     f"({json.dumps(encoder_meta.encoder_args)}, {encoder_meta.provenance.get('steps', '?')} steps of "
                     f"{encoder_meta.provenance.get('method', 'pretraining')}).")
        return model, cfg.arch, arch_args, ""
    arch_args = resolve_arch_args(cfg.arch, cfg.encoder, store.block_size, cfg.arch_args, store.series_info)
    model = build_model(cfg.arch, len(store.feature_names), len(class_names), encoder_weights=cfg.pretrained or None,
                        **arch_args)
    if cfg.pretrained:
        progress.log(f"Encoder initialised from {cfg.pretrained}.")
    return model, cfg.arch, arch_args, ""


def _file_ref(path: str) -> dict[str, str] | None:
    return {"path": str(Path(path).resolve()), "sha256": file_sha256(path)} if path else None


class SourceTraining(Task):
    """Cross-entropy (+ Dice) on augmented labelled blocks; validation, best checkpoint and metrics files."""

    name = "train_source"
    steps_option = "ITERATIONS (or EPOCHS)"
    nonfinite_hint = " or check the block store for extreme values"

    def __init__(self, cfg: TrainConfig, blocks: SourceBlocks, model: nn.Module, arch: str, arch_args: dict[str, Any],
                 seed: int, init_from: str = "", progress: Progress | None = None) -> None:
        self.cfg, self.store, self.store_sha = cfg, blocks.store, blocks.sha256
        self.train_idx, self.val_idx = blocks.train, blocks.val
        self.model, self.arch, self.arch_args, self.seed, self.init_from = model, arch, arch_args, seed, init_from
        self.output = Path(cfg.output)
        self.metrics_json, self.metrics_csv = metrics_paths(self.output)
        self.classes = blocks.store.classes
        self.class_names = [c.name for c in self.classes]
        # BatchStream.steps_per_pass: under torchrun an epoch is a pass of the global batch (BATCH_SIZE x processes)
        self.steps_per_epoch = -(-len(blocks.train) // (cfg.batch_size * world().size))
        self.total_steps = cfg.iterations if cfg.iterations > 0 else cfg.epochs * self.steps_per_epoch
        self.val_every = cfg.val_every if cfg.val_every > 0 else self.steps_per_epoch
        weights = None
        if cfg.class_weights == "balanced":
            weights = balanced_class_weights(blocks.train_pixels)
            (progress or silent()).log(
                "Class weights: " + ", ".join(f"{n} {w:.3g}" for n, w in zip(self.class_names, weights, strict=True)))
        self.loss_fn = SegmentationLoss(weights, cfg.dice_weight)
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.saved_checkpoint = False
        self.on_disk = model_on_disk(self.output, self.class_names)  # what OUTPUT holds before this run writes it
        self._disk_checked = False
        self._best_is_disk = False  # self.best is the model OUTPUT held before this run (kept: it validated better)
        self.val_dataset: BlockDataset | None = None
        self.config_doc: dict[str, Any] = {}
        self.provenance_base: dict[str, Any] = {}

    @property
    def label(self) -> str:
        return "training"

    def check_resume(self, state: TrainingState, source: str) -> None:
        super().check_resume(state, source)
        if state.info.get("store_sha256") not in (None, self.store_sha):
            self.run.progress.warn(f"The block store changed since {source} was written (other SHA-256); continuing.")
        if int(state.info.get("batch_size", self.cfg.batch_size)) != self.cfg.batch_size:
            self.run.progress.warn("BATCH_SIZE differs from the resumed run: the batches from here on differ from its.")

    def setup(self, run: Run) -> None:
        cfg, store = self.cfg, self.store
        self.model.to(run.device).train()
        self.loss_fn.to(run.device)
        if len(self.val_idx):
            self.val_dataset = BlockDataset(BlockStore(store.path), indices=self.val_idx)
        self.config_doc = cfg.to_dict() | {"arch": self.arch, "arch_args": self.arch_args, "device": str(run.device),
                                           "seed": self.seed}
        self.provenance_base = {
            "task": self.name,
            **run.provenance(),
            "block_store": {
                "path": str(store.path.resolve()), "sha256": self.store_sha, "blocks": len(store),
                "train_blocks": int(len(self.train_idx)), "val_blocks": int(len(self.val_idx)),
                "composite": str(store.attrs.get("composite", "")), "labels": str(store.attrs.get("labels", "")),
                "label_field": str(store.attrs.get("label_field", "")),
            },
            "class_map": str(store.attrs.get("class_map", "")),
            "source_nodata": json.loads(store.attrs.get("source_nodata", "null") or "null"),
            "pretrained": _file_ref(cfg.pretrained),
            "encoder_lr_scale": cfg.encoder_lr_scale,
            "initialised_from": _file_ref(self.init_from),
            "batch_size": cfg.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
            "class_weights": cfg.class_weights,
            "dice_weight": cfg.dice_weight,
            "augmentation": "random flips and 90-degree rotations",
        }
        run.progress.log(
            f"Training {self.arch} {json.dumps(self.arch_args)} on {describe(run.device)}"
            f"{' with mixed precision' if run.amp else ''}: {self.total_steps} steps of {cfg.batch_size} blocks "
            f"({self.steps_per_epoch} steps per epoch), LR {cfg.lr:g} (warm-up {run.warmup_steps} steps, cosine "
            f"decay), seed {self.seed}."
        )

    def parameters(self) -> Iterator[nn.Parameter]:
        return self.model.parameters()

    def configure_optimizer(self, params: list[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
        """AdamW; with ENCODER_LR_SCALE < 1 (fine-tuning a pretrained encoder) the encoder's groups at LR x scale,
        after the groups of the rest (whose LR the log shows)."""
        scale = self.cfg.encoder_lr_scale
        if scale == 1.0:
            return super().configure_optimizer(params, lr, weight_decay)
        encoder = {id(p) for p in encoder_module(self.model).parameters()}
        groups = []
        for part, part_lr in ((False, lr), (True, lr * scale)):
            chosen = [p for p in params if p.requires_grad and (id(p) in encoder) == part]
            groups += [{"params": [p for p in chosen if p.ndim > 1], "weight_decay": float(weight_decay),
                        "lr": part_lr},
                       {"params": [p for p in chosen if p.ndim <= 1], "weight_decay": 0.0, "lr": part_lr}]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=float(lr))

    def batches(self, start_step: int, total_steps: int) -> Iterator[dict[str, Tensor]]:
        own = BlockDataset(BlockStore(self.store.path), indices=self.train_idx)  # this thread's own HDF5 handle
        return BatchStream(own, self.cfg.batch_size, seed=self.seed).iterate(start_step, total_steps)

    def training_step(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        with self.run.autocast():
            logits = self.model(batch["image"]).logits
        return self.loss_fn(logits, batch["label"]), {}

    def step_text(self, done: int) -> str:
        return f" (epoch {(done - 1) // self.steps_per_epoch + 1})"

    def should_evaluate(self, done: int) -> bool:
        return done % self.val_every == 0

    def evaluate(self, done: int, figures: dict[str, float]) -> None:
        """A history row: validation (when the store has val blocks), the best model, the metrics files."""
        row: dict[str, Any] = {
            "epoch": _epoch_of(done, self.steps_per_epoch), "step": done, "lr": self.run.lr,
            "train_loss": figures.get("loss", 0.0), "elapsed_s": round(self.run.elapsed(), 2),
        }
        if self.val_dataset is not None:
            improved = self._validate(row)
        else:
            improved = True
            self.run.progress.log(f"Epoch {row['epoch']} (step {done}): train loss {row['train_loss']:.4f}")
        self.run.progress.metric("train_loss", row["train_loss"], done, epoch=row["epoch"])
        if row.get("val_miou") is not None:
            self.run.progress.metric("val_miou", row["val_miou"], done, epoch=row["epoch"])
        row["best"] = improved
        self.history.append(row)
        if improved:
            self._save_best(row)
        document = {"model": str(self.output.resolve()), "config": self.config_doc,
                    "classes": [c.as_dict() for c in self.classes], "steps_done": done,
                    "total_steps": self.total_steps, "best": self.best, "epochs": self.history}
        write_metrics_files(self.metrics_json, self.metrics_csv, document, self.class_names)

    def _validate(self, row: dict[str, Any]) -> bool:
        """Add the validation figures to `row`; whether the model is the best so far (or none is saved yet)."""
        assert self.val_dataset is not None
        run = self.run
        result = validate(self.model, self.val_dataset, self.cfg.batch_size, run.device, run.amp, self.loss_fn,
                          run.progress)
        row.update(validation_figures(result.summary(self.class_names)))
        miou = row["val_miou"]
        self._adopt_best_on_disk()
        best_miou = None if self.best is None else self.best.get("val_miou")
        improved = miou is not None and (best_miou is None or miou > best_miou)
        per_class = ", ".join(f"{c['name']} {c['iou']:.3f}" if c["iou"] is not None else f"{c['name']} -"
                              for c in row["val_classes"])
        run.progress.log(
            f"Epoch {row['epoch']} (step {row['step']}): train loss {row['train_loss']:.4f}, "
            f"val loss {_fmt(row['val_loss'])}, val mIoU {_fmt(miou)}, "
            f"OA {_fmt(row['val_overall_accuracy'])}; IoU per class: {per_class}"
        )
        if not improved and self.saved_checkpoint and best_miou is not None and self._best_is_disk:
            run.progress.log(f"Val mIoU {_fmt(miou)} does not beat the model in {self.output} (val mIoU "
                             f"{best_miou:.4f}, step {self.best.get('step')}): it stays.")
        return improved or not self.saved_checkpoint  # always leave a model in OUTPUT

    def _adopt_best_on_disk(self) -> None:
        """Once, when the run continues a model (RESUME): if OUTPUT already holds a better one of these classes,
        validated on this store (a resume state older than its best checkpoint, or RESUME of the model itself),
        that model is the best so far: this run replaces it only with a better one."""
        if self._disk_checked:
            return
        self._disk_checked = True
        disk = self.on_disk
        if disk is None or not (self.run.resuming or self.init_from) or disk["store_sha256"] != self.store_sha:
            return
        ours = None if self.best is None else self.best.get("val_miou")
        if ours is None or disk["val_miou"] > ours:
            self.best, self._best_is_disk = dict(disk["best"]), True
            self.saved_checkpoint = True
            self.run.progress.log(
                f"{self.output} holds a model of val mIoU {disk['val_miou']:.4f} (step {disk['best'].get('step')}): "
                "this run replaces it only with a model that validates better."
            )

    def _warn_replacing(self, row: dict[str, Any]) -> None:
        """A warning before a new run's first save replaces a model in OUTPUT that validated better."""
        disk, self.on_disk = self.on_disk, None
        if disk is None or self._best_is_disk:
            return
        miou = row.get("val_miou")
        if miou is None or miou < disk["val_miou"]:
            self.run.progress.warn(
                f"Replacing {self.output}, a model of val mIoU {disk['val_miou']:.4f} (step "
                f"{disk['best'].get('step')}, an earlier run), with this run's model of step {row['step']} (val mIoU "
                f"{_fmt(miou)}). Give another OUTPUT to keep both, or RESUME the earlier run to improve on it."
            )

    def _band_quantiles(self) -> dict[str, Any]:
        """Per-band quantiles of the training blocks' valid pixels, measured once (`statistics_alignment`)."""
        if getattr(self, "_quantiles", None) is None:
            from .statistics_alignment import training_quantiles

            with BlockStore(self.store.path) as store:
                self._quantiles = training_quantiles(store, self.train_idx)
        return self._quantiles

    def _save_best(self, row: dict[str, Any]) -> None:
        self._warn_replacing(row)
        self._best_is_disk = False
        best = {k: row.get(k) for k in ("epoch", "step", "val_miou", "val_overall_accuracy", "val_mean_f1",
                                        "val_kappa", "val_loss", "train_loss")}
        best["val_classes"] = row.get("val_classes")
        self.best = best
        provenance = self.provenance_base | {
            "epochs": row["epoch"], "iterations": row["step"], "best": best,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        meta = checkpoint_inputs(self.store) | {"classes": self.classes, "provenance": provenance}
        meta["normalisation"]["quantiles"] = self._band_quantiles()  # statistics alignment (histogram matching)
        save_checkpoint(self.output, self.model, meta)
        self.saved_checkpoint = True
        self.run.progress.log(f"Saved the model of step {row['step']} to {self.output}.")

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        store = self.store
        info = {
            "epoch": self.run.step // self.steps_per_epoch, "batch_size": self.cfg.batch_size, "arch": self.arch,
            "arch_args": self.arch_args, "features": list(store.feature_names),
            "classes": [c.as_dict() for c in self.classes], "block_size": store.block_size,
            "store_sha256": self.store_sha, "config": self.config_doc, "history": self.history, "best": self.best,
            "checkpoint": str(self.output.resolve()),
        }
        return self.model.state_dict(), info

    def load_state_dict(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        self.model.load_state_dict(tensors, strict=True)
        self.history = list(info.get("history", []))
        self.best = info.get("best")
        self.saved_checkpoint = self.best is not None and self.output.is_file()

    def kept(self) -> str:
        return f"the best model so far is {self.output}" if self.saved_checkpoint else "no model was saved yet"

    def close(self) -> None:
        self.store.close()
        if self.val_dataset is not None:
            self.val_dataset.store.close()

    def result(self, run: RunResult) -> dict[str, Any]:
        best = self.best or {}
        loop_seconds = run.step_seconds + run.data_wait_seconds
        blocks_per_s = run.steps_timed * self.cfg.batch_size / loop_seconds if loop_seconds > 0 else None
        return {
            "output": str(self.output), "metrics_json": str(self.metrics_json), "metrics_csv": str(self.metrics_csv),
            "curves": str(self.metrics_json.with_suffix(".png")),
            "resume_state": str(resume_path(self.output)), "best_val_miou": best.get("val_miou"),
            "best_epoch": best.get("epoch"), "best_step": best.get("step"), "steps": run.steps,
            "epochs": round(run.steps / self.steps_per_epoch, 3), "train_seconds": round(loop_seconds, 3),
            "data_wait_seconds": round(run.data_wait_seconds, 3), "train_cpu_seconds": round(run.cpu_seconds, 3),
            "train_blocks_per_s": None if blocks_per_s is None else round(blocks_per_s, 3),
            "device": str(self.run.device),
        }


def train_source(config: TrainConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train a source model on `config.blocks`; returns output paths and figures (see module doc)."""
    progress = progress or silent()
    cfg = config
    _check_config(cfg)
    device = resolve_device(cfg.device)
    blocks = open_source_blocks(cfg, progress)
    resume = open_resume(cfg.resume, weights_ok=True) if cfg.resume else None
    seed = cfg.seed
    if resume is not None and resume.state is not None:
        seed = int(resume.state.info.get("config", {}).get("seed", cfg.seed))
        if seed != cfg.seed:
            progress.warn(f"Resuming a run of seed {seed}: SEED {cfg.seed} is not used.")
    torch.manual_seed(cfg.seed)
    model, arch, arch_args, init_from = _build_model(cfg, blocks.store, resume, progress)
    task = SourceTraining(cfg, blocks, model, arch, arch_args, seed, init_from, progress)
    settings = RunSettings(
        total_steps=task.total_steps, lr=cfg.lr, resume_file=resume_path(cfg.output), weight_decay=cfg.weight_decay,
        warmup=cfg.warmup, device=device, amp=cfg.amp, seed=seed, prefetch=cfg.prefetch,
        save_every_s=float(cfg.resume_every),
    )
    try:
        run = fit(task, settings, progress, resume)
    finally:
        task.close()
    result = task.result(run)
    if result["best_val_miou"] is not None:
        progress.metric("best_val_miou", result["best_val_miou"], result["best_step"], epoch=result["best_epoch"])
    progress(1.0, "Training finished")
    return result


def model_on_disk(output: Path, class_names: list[str]) -> dict[str, Any] | None:
    """{val_miou, best, store_sha256} of the model `output` holds now, when it is a CROPS model of `class_names` with
    a validated best (None otherwise)."""
    if not output.is_file():
        return None
    try:
        meta = read_metadata(output)
    except CropsError:
        return None
    best = meta.provenance.get("best") if isinstance(meta.provenance.get("best"), dict) else {}
    miou = best.get("val_miou")
    if meta.class_names != class_names or not isinstance(miou, int | float):
        return None
    store = meta.provenance.get("block_store") if isinstance(meta.provenance.get("block_store"), dict) else {}
    return {"val_miou": float(miou), "best": best, "store_sha256": store.get("sha256")}


def _epoch_of(step: int, steps_per_epoch: int) -> int | float:
    """Epochs completed at `step`: an integer at epoch ends, else a fraction."""
    return step // steps_per_epoch if step % steps_per_epoch == 0 else round(step / steps_per_epoch, 2)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"

"""Supervised training of the source model on a labelled block store.

AdamW with warm-up + cosine decay, cross-entropy with ignore (optional class weights and Dice),
flips and 90-degree rotations, mixed precision on CUDA. Every epoch (one pass over the training
blocks) ends with a validation on the store's `val` split; the model with the best validation
mIoU is written as a self-describing checkpoint (`checkpoint.save_checkpoint`), the per-epoch
figures as `<stem>.metrics.json` / `.metrics.csv` beside it, and the state needed to continue as
`<stem>.resume.safetensors` (`training_state`). Cancel stops after the current step: the
checkpoint and metrics of the last completed validation stay, and the resume state is written
at the step reached, so a run can be continued with RESUME.

On the CPU a seed gives the same model every time (seeded torch, a batch stream that depends
only on the seed and the step, deterministic algorithms).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .atomic import atomic_path
from .batches import BatchStream, Prefetcher
from .block_dataset import BlockDataset
from .blocks import BlockStore
from .checkpoint import SUFFIX as CHECKPOINT_SUFFIX
from .checkpoint import CheckpointMeta, check_features, file_sha256, load_model, read_metadata, save_checkpoint
from .device import amp_enabled, autocast, describe, deterministic, grad_scaler, resolve_device
from .errors import Cancelled, CropsError
from .losses import CLASS_WEIGHTING, SegmentationLoss, balanced_class_weights
from .progress import Progress, silent
from .schedule import (
    build_optimizer,
    build_scheduler,
    check_optimiser_settings,
    default_warmup_steps,
    set_schedule_position,
)
from .training_state import (
    SUFFIX as RESUME_SUFFIX,
)
from .training_state import (
    TrainingState,
    capture_rng,
    load_training_state,
    restore_rng,
    resume_path,
    save_training_state,
)

ARCHS = ("unet", "transunet")
DEFAULT_ENCODER = "resnet18"
RESUME_EVERY_S = 120.0  # besides the end and a cancel, refresh the resume state at most this often


@dataclass
class TrainConfig:
    """Parameters of `train_source` (the CLI options / Processing parameters of train-source)."""

    blocks: str
    output: str
    arch: str = "unet"
    encoder: str = ""  # "" = the architecture's default (resnet18 for unet; unused by transunet)
    arch_args: dict[str, Any] = field(default_factory=dict)  # advanced: override architecture arguments
    pretrained: str = ""  # local encoder weights file
    epochs: int = 40
    iterations: int = 0  # > 0 overrides epochs
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup: float = 0.05  # fraction of the steps (at most 500)
    class_weights: str = "none"
    dice_weight: float = 0.0
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    resume: str = ""
    val_every: int = 0  # steps between validations; 0 = once per epoch
    prefetch: int = 4  # batches prepared ahead by the data thread

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def metrics_paths(output: str | os.PathLike[str]) -> tuple[Path, Path]:
    """`model.safetensors` -> (`model.metrics.json`, `model.metrics.csv`)."""
    output = Path(output)
    stem = output.name[: -len(CHECKPOINT_SUFFIX)] if output.name.endswith(CHECKPOINT_SUFFIX) else output.stem
    return output.with_name(stem + ".metrics.json"), output.with_name(stem + ".metrics.csv")


def resolve_arch_args(arch: str, encoder: str, block_size: int, overrides: dict[str, Any] | None = None) -> dict:
    """Architecture arguments from ARCH / ENCODER / the store's block size, then the explicit overrides."""
    if arch not in ARCHS:
        raise CropsError(f"ARCH {arch!r} is not one of {', '.join(ARCHS)}.")
    args: dict[str, Any] = {}
    if arch == "unet":
        args["encoder"] = encoder or DEFAULT_ENCODER
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
    if cfg.resume and not Path(cfg.resume).is_file():
        raise CropsError(f"RESUME file {cfg.resume} does not exist.")
    if Path(cfg.blocks).resolve() == Path(cfg.output).resolve():
        raise CropsError("OUTPUT would overwrite the block store; choose another file name.")


def _common_nodata(store: BlockStore) -> float | None:
    """The input nodata value when every feature band shares one (None otherwise)."""
    try:
        values = json.loads(store.attrs.get("source_nodata", "[]"))
    except (TypeError, ValueError):
        return None
    distinct = {v for v in values if v is not None}
    if len(distinct) == 1 and all(v is not None for v in values):
        value = distinct.pop()
        return float(value) if math.isfinite(float(value)) else None
    return None


def _positive_std(std: np.ndarray) -> list[float]:
    # A constant band has std 0: `normalise` only centres it, which is what a scale of 1 does too.
    return [float(s) if s > 0 and math.isfinite(s) else 1.0 for s in std]


class _Resume:
    """What RESUME gave: full state (`state`) or only initial weights (`weights_from`)."""

    def __init__(self, state: TrainingState | None = None, weights_from: str = "", source: str = "") -> None:
        self.state = state
        self.weights_from = weights_from
        self.source = source


def _open_resume(path: str) -> _Resume:
    """A `.resume.safetensors` file, or a model checkpoint (with its resume file beside it, if any)."""
    p = Path(path)
    if p.name.endswith(RESUME_SUFFIX):
        return _Resume(state=load_training_state(p), source=str(p))
    read_metadata(p)  # a CropsError if it is not a CROPS checkpoint
    beside = resume_path(p)
    if beside.is_file():
        return _Resume(state=load_training_state(beside), source=str(beside))
    return _Resume(weights_from=str(p), source=str(p))


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


def _per_class(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: c[k] for k in ("name", "iou", "f1", "precision", "recall", "reference_pixels", "predicted_pixels")}
        for c in summary["classes"]
    ]


def _write_metrics(json_path: Path, csv_path: Path, document: dict[str, Any], class_names: list[str]) -> None:
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
    columns = ["epoch", "step", "lr", "train_loss", "val_loss", "val_miou", "val_overall_accuracy", "val_mean_f1",
               "val_kappa", "elapsed_s", "best"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns + [f"iou_{n}" for n in class_names])
    for row in document["epochs"]:
        ious = {c["name"]: c["iou"] for c in row.get("val_classes", [])}
        values = [row.get(c) for c in columns] + [ious.get(n) for n in class_names]
        writer.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in values])
    with atomic_path(csv_path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def train_source(config: TrainConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Train a source model on `config.blocks`; returns output paths and figures (see module doc)."""
    progress = progress or silent()
    cfg = config
    _check_config(cfg)
    output = Path(cfg.output)
    metrics_json, metrics_csv = metrics_paths(output)
    resume_file = resume_path(output)
    device = resolve_device(cfg.device)
    use_amp = amp_enabled(device, cfg.amp)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

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
    classes = store.classes
    class_names = [c.name for c in classes]
    progress.log(
        f"Block store {store.path}: {len(store)} blocks of {store.block_size} px, {len(store.feature_names)} features, "
        f"{len(classes)} classes ({', '.join(class_names)}); {len(train_idx)} train / {len(val_idx)} val blocks."
    )
    if len(val_idx) == 0:
        progress.warn("The block store has no validation blocks: the last model is kept, not the best one.")
    progress(0.0, "Hashing the block store")
    store_sha = file_sha256(store.path)
    store.close()  # the data thread and validation open their own handles

    # -- resume or fresh start ------------------------------------------------------------------
    resume = _open_resume(cfg.resume) if cfg.resume else None
    torch.manual_seed(cfg.seed)
    init_from = ""
    if resume is not None and resume.state is not None:
        info = resume.state.info
        _check_resume_fits(info, store, resume.source)
        arch, arch_args = str(info["arch"]), dict(info["arch_args"])
        if arch != cfg.arch:
            progress.warn(f"Resuming a {arch} run: ARCH {cfg.arch} is not used.")
        from .models import build_model

        model = build_model(arch, len(store.feature_names), len(classes), **arch_args)
        model.load_state_dict(resume.state.model, strict=True)
        if info.get("store_sha256") not in (None, store_sha):
            progress.warn(f"The block store changed since {resume.source} was written (other SHA-256); continuing.")
    elif resume is not None:
        model, meta = load_model(resume.weights_from)
        check_features(meta, store.feature_names, f"the block store {store.path}")
        if meta.class_names != class_names:
            raise CropsError(
                f"Model {resume.weights_from} predicts classes {meta.class_names} but the block store has "
                f"{class_names}; start from a model trained on the same classes (or without RESUME)."
            )
        arch, arch_args = meta.arch, dict(meta.arch_args)
        init_from = resume.weights_from
        progress.log(f"No resume state beside {resume.weights_from}: starting a new schedule from its weights.")
    else:
        from .models import build_model

        arch = cfg.arch
        arch_args = resolve_arch_args(cfg.arch, cfg.encoder, store.block_size, cfg.arch_args)
        model = build_model(arch, len(store.feature_names), len(classes), encoder_weights=cfg.pretrained or None,
                            **arch_args)
        if cfg.pretrained:
            progress.log(f"Encoder initialised from {cfg.pretrained}.")
    model.to(device).train()

    # -- optimisation -------------------------------------------------------------------------------
    steps_per_epoch = -(-len(train_idx) // cfg.batch_size)  # BatchStream.steps_per_pass
    total_steps = cfg.iterations if cfg.iterations > 0 else cfg.epochs * steps_per_epoch
    val_every = cfg.val_every if cfg.val_every > 0 else steps_per_epoch
    warmup_steps = default_warmup_steps(total_steps, cfg.warmup)
    optimizer = build_optimizer(model, cfg.lr, cfg.weight_decay)
    scheduler = build_scheduler(optimizer, total_steps, warmup_steps)
    scaler = grad_scaler(device, cfg.amp)
    weights = None
    if cfg.class_weights == "balanced":
        weights = balanced_class_weights(train_pixels)
        progress.log("Class weights: " + ", ".join(f"{n} {w:.3g}" for n, w in zip(class_names, weights, strict=True)))
    loss_fn = SegmentationLoss(weights, cfg.dice_weight).to(device)

    start_step, history, best, elapsed_before, seed = 0, [], None, 0.0, cfg.seed
    if resume is not None and resume.state is not None:
        state = resume.state
        start_step = state.step
        if start_step >= total_steps:
            raise CropsError(
                f"{resume.source} has already trained {start_step} steps and this run asks for {total_steps}; "
                "raise ITERATIONS (or EPOCHS) to continue training."
            )
        try:
            optimizer.load_state_dict(state.optimizer)
        except (ValueError, KeyError) as exc:
            raise CropsError(f"The optimiser state in {resume.source} does not fit the model: {exc}.") from None
        for group in optimizer.param_groups:  # the LR of this run (it may have been changed)
            group["initial_lr"] = cfg.lr
        scheduler.base_lrs = [cfg.lr for _ in optimizer.param_groups]
        set_schedule_position(scheduler, start_step)
        if state.scaler and scaler.is_enabled():
            scaler.load_state_dict(state.scaler)
        restore_rng(state.rng)
        history = list(state.info.get("history", []))
        best = state.info.get("best")
        elapsed_before = float(state.info.get("elapsed_seconds", 0.0))
        seed = int(state.info.get("config", {}).get("seed", cfg.seed))
        if seed != cfg.seed:
            progress.warn(f"Resuming a run of seed {seed}: SEED {cfg.seed} is not used.")
        if int(state.info.get("batch_size", cfg.batch_size)) != cfg.batch_size:
            progress.warn("BATCH_SIZE differs from the resumed run: the batches from here on differ from its.")
        progress.log(f"Resuming from {resume.source} at step {start_step} of {total_steps}.")

    provenance_base = {
        "task": "train_source",
        "crops_version": __version__,
        "torch_version": torch.__version__,
        "block_store": {
            "path": str(store.path.resolve()),
            "sha256": store_sha,
            "blocks": len(store),
            "train_blocks": int(len(train_idx)),
            "val_blocks": int(len(val_idx)),
            "composite": str(store.attrs.get("composite", "")),
            "labels": str(store.attrs.get("labels", "")),
            "label_field": str(store.attrs.get("label_field", "")),
        },
        "class_map": str(store.attrs.get("class_map", "")),
        "source_nodata": json.loads(store.attrs.get("source_nodata", "null") or "null"),
        "pretrained": {"path": str(Path(cfg.pretrained).resolve()), "sha256": file_sha256(cfg.pretrained)}
        if cfg.pretrained else None,
        "initialised_from": {"path": str(Path(init_from).resolve()), "sha256": file_sha256(init_from)}
        if init_from else None,
        "resumed_from": resume.source if resume is not None and resume.state is not None else None,
        "seed": seed,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "batch_size": cfg.batch_size,
        "warmup_steps": warmup_steps,
        "total_steps": total_steps,
        "steps_per_epoch": steps_per_epoch,
        "class_weights": cfg.class_weights,
        "dice_weight": cfg.dice_weight,
        "augmentation": "random flips and 90-degree rotations",
        "device": str(device),
        "amp": use_amp,
    }
    meta_base = {
        "features": list(store.feature_names),
        "normalisation": {"mean": [float(m) for m in store.mean], "std": _positive_std(store.std)},
        "classes": classes,
        "block_size": store.block_size,
        "nodata": _common_nodata(store),
    }
    config_doc = cfg.to_dict() | {"arch": arch, "arch_args": arch_args, "device": str(device), "seed": seed}

    progress.log(
        f"Training {arch} {json.dumps(arch_args)} on {describe(device)}{' with mixed precision' if use_amp else ''}: "
        f"{total_steps} steps of {cfg.batch_size} blocks ({steps_per_epoch} steps per epoch), "
        f"LR {cfg.lr:g} (warm-up {warmup_steps} steps, cosine decay), seed {seed}."
    )

    def state_info(step: int, elapsed: float) -> dict[str, Any]:
        return {
            "step": step, "epoch": step // steps_per_epoch, "total_steps": total_steps, "batch_size": cfg.batch_size,
            "arch": arch, "arch_args": arch_args, "features": list(store.feature_names),
            "classes": [c.as_dict() for c in classes], "block_size": store.block_size, "store_sha256": store_sha,
            "config": config_doc, "history": history, "best": best, "elapsed_seconds": elapsed,
            "checkpoint": str(output.resolve()),
        }

    def write_resume(step: int, elapsed: float) -> None:
        save_training_state(
            resume_file,
            TrainingState(
                model=model.state_dict(), optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                scaler=scaler.state_dict() if scaler.is_enabled() else {}, rng=capture_rng(),
                info=state_info(step, elapsed),
            ),
        )

    def metrics_document(step: int) -> dict[str, Any]:
        return {
            "model": str(output.resolve()),
            "config": config_doc,
            "classes": [c.as_dict() for c in classes],
            "steps_done": step,
            "total_steps": total_steps,
            "best": best,
            "epochs": history,
        }

    val_dataset = BlockDataset(BlockStore(store.path), indices=val_idx) if len(val_idx) else None

    def batches() -> Any:
        own = BlockDataset(BlockStore(store.path), indices=train_idx)  # this thread's own HDF5 handle
        return BatchStream(own, cfg.batch_size, seed=seed).iterate(start_step, total_steps)

    step = start_step
    started = time.perf_counter()
    last_resume_save = started
    train_seconds, steps_timed = 0.0, 0
    cpu_started, cpu_excluded = time.process_time(), 0.0  # CPU of all threads, less validation and saving
    running_loss, running_count = 0.0, 0
    saved_checkpoint = best is not None and output.is_file()
    prefetcher = Prefetcher(batches, depth=cfg.prefetch, pin_memory=device.type == "cuda")
    try:
        with deterministic(device.type == "cpu"):
            for batch in prefetcher:
                t0 = time.perf_counter()
                images = batch["image"].to(device, non_blocking=True)
                labels = batch["label"].to(device, non_blocking=True)
                with autocast(device, use_amp):
                    logits = model(images).logits
                loss = loss_fn(logits, labels)
                if not torch.isfinite(loss):
                    raise CropsError(
                        f"The loss became {float(loss)} at step {step + 1}: lower LR (now {cfg.lr:g}) "
                        "or check the block store for extreme values."
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                step += 1
                loss_value = float(loss.detach())
                train_seconds += time.perf_counter() - t0
                steps_timed += 1
                running_loss += loss_value
                running_count += 1
                epoch = (step - 1) // steps_per_epoch + 1
                progress(
                    step / total_steps,
                    f"Step {step}/{total_steps} (epoch {epoch}) loss {loss_value:.4f}",
                )
                if step % val_every != 0 and step != total_steps:
                    continue
                # -- validation, best checkpoint, metrics files ------------------------------------------
                cpu_pause = time.process_time()
                lr_now = float(optimizer.param_groups[0]["lr"])
                row: dict[str, Any] = {
                    "epoch": _epoch_of(step, steps_per_epoch),
                    "step": step,
                    "lr": lr_now,
                    "train_loss": running_loss / max(running_count, 1),
                    "elapsed_s": round(elapsed_before + time.perf_counter() - started, 2),
                }
                running_loss, running_count = 0.0, 0
                improved = False
                if val_dataset is not None:
                    result = _validate(model, val_dataset, cfg.batch_size, device, use_amp, loss_fn, progress)
                    summary = result.summary(class_names)
                    miou = _nan_to_none(summary["mean_iou"])
                    row.update(
                        val_loss=summary["loss"], val_miou=miou, val_overall_accuracy=summary["overall_accuracy"],
                        val_mean_f1=summary["mean_f1"], val_kappa=summary["kappa"], val_classes=_per_class(summary),
                        val_confusion_matrix=summary["confusion_matrix"],
                    )
                    best_miou = None if best is None else best.get("val_miou")
                    improved = miou is not None and (best_miou is None or miou > best_miou)
                    if not saved_checkpoint:
                        improved = True  # always leave a model in OUTPUT (no labelled val pixel, a new OUTPUT)
                    per_class = ", ".join(
                        f"{c['name']} {c['iou']:.3f}" if c["iou"] is not None else f"{c['name']} -"
                        for c in row["val_classes"]
                    )
                    progress.log(
                        f"Epoch {row['epoch']} (step {step}): train loss {row['train_loss']:.4f}, "
                        f"val loss {_fmt(summary['loss'])}, val mIoU {_fmt(miou)}, "
                        f"OA {_fmt(summary['overall_accuracy'])}; IoU per class: {per_class}"
                    )
                    progress.metric("train_loss", row["train_loss"], step, epoch=row["epoch"])
                    if miou is not None:
                        progress.metric("val_miou", miou, step, epoch=row["epoch"])
                else:
                    improved = True
                    progress.log(f"Epoch {row['epoch']} (step {step}): train loss {row['train_loss']:.4f}")
                    progress.metric("train_loss", row["train_loss"], step, epoch=row["epoch"])
                row["best"] = improved
                history.append(row)
                if improved:
                    best = {k: row.get(k) for k in ("epoch", "step", "val_miou", "val_overall_accuracy", "val_mean_f1",
                                                     "val_kappa", "val_loss", "train_loss")}
                    best["val_classes"] = row.get("val_classes")
                    provenance = provenance_base | {
                        "epochs": row["epoch"], "iterations": step, "best": best,
                        "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                    save_checkpoint(output, model, meta_base | {"provenance": provenance})
                    saved_checkpoint = True
                    progress.log(f"Saved the model of step {step} to {output}.")
                _write_metrics(metrics_json, metrics_csv, metrics_document(step), class_names)
                now = time.perf_counter()
                if step == total_steps or now - last_resume_save > RESUME_EVERY_S:
                    write_resume(step, elapsed_before + now - started)
                    last_resume_save = now
                cpu_excluded += time.process_time() - cpu_pause
    except Cancelled:
        prefetcher.close()
        if step > start_step:
            write_resume(step, elapsed_before + time.perf_counter() - started)
        kept = f"the best model so far is {output}" if saved_checkpoint else "no model was saved yet"
        progress.warn(
            f"Cancelled after step {step} of {total_steps}: {kept}; continue with RESUME={resume_file}."
            if step > start_step else f"Cancelled before the first step; {kept}."
        )
        raise
    finally:
        prefetcher.close()
        store.close()
        if val_dataset is not None:
            val_dataset.store.close()

    train_cpu = time.process_time() - cpu_started - cpu_excluded
    data_wait = prefetcher.wait_seconds
    loop_seconds = train_seconds + data_wait
    blocks_per_s = steps_timed * cfg.batch_size / loop_seconds if loop_seconds > 0 else None
    result = {
        "output": str(output),
        "metrics_json": str(metrics_json),
        "metrics_csv": str(metrics_csv),
        "resume_state": str(resume_file),
        "best_val_miou": None if best is None else best.get("val_miou"),
        "best_epoch": None if best is None else best.get("epoch"),
        "best_step": None if best is None else best.get("step"),
        "steps": step,
        "epochs": round(step / steps_per_epoch, 3),
        "train_seconds": round(loop_seconds, 3),
        "data_wait_seconds": round(data_wait, 3),
        "train_cpu_seconds": round(train_cpu, 3),
        "train_blocks_per_s": None if blocks_per_s is None else round(blocks_per_s, 3),
        "device": str(device),
    }
    if best is not None and best.get("val_miou") is not None:
        progress.metric("best_val_miou", best["val_miou"], best["step"], epoch=best["epoch"])
    progress(1.0, "Training finished")
    return result


def _validate(model, dataset, batch_size, device, amp, loss_fn, progress):  # noqa: ANN001, ANN202
    from .validation import validate

    return validate(model, dataset, batch_size, device, amp, loss_fn, progress)


def _epoch_of(step: int, steps_per_epoch: int) -> int | float:
    """Epochs completed at `step`: an integer at epoch ends, else a fraction."""
    return step // steps_per_epoch if step % steps_per_epoch == 0 else round(step / steps_per_epoch, 2)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"

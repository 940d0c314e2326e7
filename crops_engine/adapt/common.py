"""What every adaptation method shares: target batches, the EMA teacher, pseudo-labels, the run loop.

Source-free by construction: `run_adaptation` opens the source *checkpoint* (weights, features,
normalisation, classes) and the target block store's images and valid masks, nothing else. The
store's labels, if it has any, are never read (`TargetBlocks` has no label field), and the source
block store named in the checkpoint's provenance is never opened.

A method (`AdaptationMethod`) chooses which parameters to train, computes the loss of a batch and
may keep a teacher or other state; the runner owns the rest, the same way `train.train_source`
does: AdamW with warm-up + cosine decay, mixed precision on CUDA, a deterministic batch stream
(batch `s` depends only on the seed and `s`), progress per step with every loss term, and

- the adapted checkpoint (`save_checkpoint`) with provenance: the source checkpoint's path and
  SHA-256 and its own provenance, the target store's path and SHA-256, the method and all its
  hyper-parameters; written every `checkpoint_every` steps (or every two minutes) and at the end;
- `<stem>.adapt.json` beside it: configuration, provenance and the loss history;
- `<stem>.resume.safetensors` (`training_state`): student, method state (teacher, thresholds ...),
  optimiser, schedule and random state, so RESUME continues exactly where a run stopped.

Cancel stops after the current step: the last complete checkpoint stays, and the resume state is
written at the step reached.

Inputs are normalised with the checkpoint's normalisation (the source statistics), as inference
does, so the adapted model is used exactly as it was adapted.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from .. import __version__
from ..atomic import atomic_path
from ..batches import BatchStream, Prefetcher
from ..block_dataset import BlockDataset
from ..blocks import BlockStore
from ..checkpoint import SUFFIX as CHECKPOINT_SUFFIX
from ..checkpoint import CheckpointMeta, check_features, file_sha256, load_model, read_metadata, save_checkpoint
from ..device import amp_enabled, autocast, describe, deterministic, grad_scaler, resolve_device
from ..errors import Cancelled, CropsError
from ..features import normalise
from ..progress import Progress, silent
from ..schedule import (
    build_optimizer,
    build_scheduler,
    check_optimiser_settings,
    default_warmup_steps,
    set_schedule_position,
)
from ..training_state import SUFFIX as RESUME_SUFFIX
from ..training_state import (
    TrainingState,
    capture_rng,
    load_training_state,
    restore_rng,
    resume_path,
    save_training_state,
)

IGNORE_INDEX = 255
SPLITS = ("all", "easy", "hard")
SAVE_EVERY_S = 120.0  # checkpoint + resume state at most this often when checkpoint_every is 0
LOG_EVERY = 10  # steps per history row / metric event


# -- configuration ------------------------------------------------------------------------------


@dataclass
class AdaptConfig:
    """What every method takes (the CLI options / Processing parameters they share)."""

    model: str  # source checkpoint (.safetensors)
    blocks: str  # target block store (.h5); labels, if any, are never read
    output: str  # adapted checkpoint (.safetensors)
    iterations: int = 300
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 1e-4
    warmup: float = 0.05  # fraction of the steps (at most 500)
    split: str = "all"  # blocks to adapt on: all, or the partition's easy / hard split
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    resume: str = ""  # a .resume.safetensors file, or an adapted checkpoint with one beside it
    checkpoint_every: int = 0  # steps between checkpoints; 0 = every two minutes (and at the end)
    prefetch: int = 2  # batches prepared ahead by the data thread

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hyperparameters(self) -> dict[str, Any]:
        """The settings that shape the result (paths and run plumbing left out)."""
        skip = {"model", "blocks", "output", "resume", "device", "prefetch", "checkpoint_every"}
        return {k: v for k, v in self.to_dict().items() if k not in skip}


def check_config(cfg: AdaptConfig) -> None:
    """Raise a CropsError for the first setting that cannot work."""
    if not str(cfg.output).endswith(CHECKPOINT_SUFFIX):
        raise CropsError(f"OUTPUT {cfg.output} must be a {CHECKPOINT_SUFFIX} file.")
    if Path(cfg.output).resolve() == Path(cfg.model).resolve():
        raise CropsError("OUTPUT would overwrite the source MODEL; give the adapted model its own file name.")
    if Path(cfg.output).resolve() == Path(cfg.blocks).resolve():
        raise CropsError("OUTPUT would overwrite the block store; choose another file name.")
    if cfg.iterations < 1:
        raise CropsError(f"ITERATIONS must be at least 1, got {cfg.iterations}.")
    if cfg.batch_size < 1:
        raise CropsError(f"BATCH_SIZE must be at least 1, got {cfg.batch_size}.")
    check_optimiser_settings(cfg.lr, cfg.weight_decay, cfg.warmup)
    if cfg.split not in SPLITS:
        raise CropsError(f"SPLIT {cfg.split!r} is not one of {', '.join(SPLITS)}.")
    if cfg.checkpoint_every < 0:
        raise CropsError(
            f"CHECKPOINT_EVERY must be 0 (every two minutes) or a number of steps, got {cfg.checkpoint_every}."
        )
    if cfg.resume and not Path(cfg.resume).is_file():
        raise CropsError(f"RESUME file {cfg.resume} does not exist.")


# -- target blocks ------------------------------------------------------------------------------


class TargetBlocks(BlockDataset):
    """Target blocks as the model sees them: images normalised with the checkpoint's statistics and
    the valid mask; never labels (adaptation must not see any)."""

    def __init__(
        self,
        store: BlockStore | str | os.PathLike[str],
        mean: Sequence[float],
        std: Sequence[float],
        indices: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        super().__init__(store, indices=indices)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = int(self.indices[i])
        valid = self.store.valid(index)
        image = normalise(self.store.images(index), self.mean, self.std, valid)
        return {"image": torch.from_numpy(image), "valid": torch.from_numpy(valid), "index": index}


def model_inputs(store: BlockStore, meta: CheckpointMeta, idx: Any) -> tuple[np.ndarray, np.ndarray]:
    """(normalised images (n, C, H, W), valid (n, H, W)) of blocks `idx`, with the checkpoint's normalisation."""
    valid = store.valid(idx)
    x = normalise(store.images(idx), meta.normalisation["mean"], meta.normalisation["std"], valid)
    return x, valid


def open_target(
    blocks: str | os.PathLike[str], meta: CheckpointMeta, split: str = "all"
) -> tuple[BlockStore, np.ndarray]:
    """The target store checked against the checkpoint's features, and the block indices of `split`."""
    store = BlockStore(blocks)
    check_features(meta, store.feature_names, f"the target block store {store.path}")
    indices = np.arange(len(store), dtype=np.int64) if split == "all" else store.split(split)
    if len(indices) == 0:
        raise CropsError(f"The target block store {store.path} has no block in split {split!r}; choose SPLIT all.")
    return store, indices


@torch.no_grad()
def iterate_probabilities(
    model: nn.Module,
    dataset: TargetBlocks,
    positions: Sequence[int] | np.ndarray,
    batch_size: int,
    device: torch.device,
    amp: bool = True,
    progress: Progress | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """(probabilities (n, K, H, W), valid (n, H, W)) on `device` for dataset positions, batch by batch,
    in eval mode (the model's mode is restored afterwards)."""
    progress = progress or silent()
    was_training = model.training
    model.eval()
    n = len(positions)
    try:
        for start in range(0, n, batch_size):
            progress(start / max(n, 1))
            samples = [dataset[int(p)] for p in positions[start : start + batch_size]]
            x = torch.stack([s["image"] for s in samples]).to(device)
            valid = torch.stack([s["valid"] for s in samples]).to(device)
            with autocast(device, amp):
                logits = model(x).logits
            yield logits.float().softmax(dim=1), valid
    finally:
        model.train(was_training)


# -- teacher and pseudo-labels --------------------------------------------------------------------


class EmaTeacher:
    """Exponential moving average of the student: the mean-teacher of self-training and SPCL.

    `update(student, step)` uses momentum min(1 - 1 / (step + 1), momentum): an exact running
    mean over the first steps, then an EMA. Floating-point buffers (BatchNorm statistics) are
    averaged the same way, integer buffers copied. The teacher stays in eval mode, gradient-free.
    """

    def __init__(self, student: nn.Module, momentum: float = 0.999) -> None:
        if not 0.0 <= momentum < 1.0:
            raise CropsError(f"EMA must be in [0, 1), got {momentum}.")
        self.momentum = float(momentum)
        self.model = copy.deepcopy(student).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def momentum_at(self, step: int) -> float:
        return min(1.0 - 1.0 / (step + 1.0), self.momentum)

    @torch.no_grad()
    def update(self, student: nn.Module, step: int) -> None:
        m = self.momentum_at(step)
        for t, s in zip(self.model.parameters(), student.parameters(), strict=True):
            t.mul_(m).add_(s.detach(), alpha=1.0 - m)
        for t, s in zip(self.model.buffers(), student.buffers(), strict=True):
            if t.is_floating_point():
                t.mul_(m).add_(s.detach(), alpha=1.0 - m)
            else:
                t.copy_(s)

    @torch.no_grad()
    def probabilities(self, x: Tensor, amp: bool = True) -> Tensor:
        with autocast(x.device, amp):
            logits = self.model(x).logits
        return logits.float().softmax(dim=1)

    def state_dict(self) -> dict[str, Tensor]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.model.load_state_dict(state, strict=True)


def pseudo_labels(
    probs: Tensor, valid: Tensor, thresholds: Tensor | float = 0.0
) -> tuple[Tensor, Tensor]:
    """(labels (N, H, W) int64, confidence (N, H, W)): argmax where its probability reaches the
    threshold of the predicted class (one value or one per class), IGNORE_INDEX elsewhere and on
    invalid pixels."""
    confidence, labels = probs.max(dim=1)
    if isinstance(thresholds, Tensor) and thresholds.ndim == 1:
        needed = thresholds.to(probs.device, probs.dtype)[labels]
    else:
        needed = torch.as_tensor(float(thresholds), dtype=probs.dtype, device=probs.device)
    keep = valid.bool() & (confidence >= needed)
    return torch.where(keep, labels, torch.full_like(labels, IGNORE_INDEX)), confidence


class ConfidenceHistogram:
    """Per predicted class, a histogram of the max-probability of valid pixels; gives per-class
    thresholds that keep each class's most confident share (class-balanced self-training, CBST)."""

    def __init__(self, num_classes: int, bins: int = 200) -> None:
        self.num_classes = int(num_classes)
        self.bins = int(bins)
        self.counts = torch.zeros(self.num_classes, self.bins, dtype=torch.float64)

    def update(self, probs: Tensor, valid: Tensor) -> None:
        confidence, labels = probs.detach().max(dim=1)
        keep = valid.bool()
        conf = confidence[keep].float().clamp(0.0, 1.0 - 1e-7).cpu()
        cls = labels[keep].cpu()
        b = (conf * self.bins).long()
        flat = torch.bincount(cls * self.bins + b, minlength=self.num_classes * self.bins)
        self.counts += flat.reshape(self.num_classes, self.bins).double()

    def reset(self) -> None:
        self.counts.zero_()

    def class_shares(self) -> np.ndarray:
        """Share of valid pixels predicted as each class."""
        per_class = self.counts.sum(dim=1).numpy()
        total = per_class.sum()
        return per_class / total if total > 0 else np.zeros(self.num_classes)

    def thresholds(self, portion: float, cap: float, floor: float = 0.0) -> Tensor:
        """Per class: the confidence above which `portion` of its pixels lie, at most `cap`, at least
        `floor`; a class never predicted gets `cap`."""
        out = torch.full((self.num_classes,), float(cap), dtype=torch.float32)
        edges = torch.arange(self.bins, dtype=torch.float64) / self.bins  # lower edge of each bin
        for k in range(self.num_classes):
            counts = self.counts[k]
            total = float(counts.sum())
            if total <= 0:
                continue
            above = torch.flip(torch.cumsum(torch.flip(counts, [0]), 0), [0])  # pixels in bin b and up
            ok = torch.nonzero(above >= portion * total).flatten()
            value = float(edges[int(ok.max())]) if len(ok) else 0.0
            out[k] = min(max(value, float(floor)), float(cap))
        return out


def photometric_jitter(x: Tensor, valid: Tensor, strength: float, generator: torch.Generator) -> Tensor:
    """A strong view for the student: per block and band a random gain (1 +- strength) and offset
    (+- strength, in normalised units) plus pixel noise; invalid pixels stay 0."""
    if strength <= 0:
        return x
    n, c = x.shape[:2]
    gain = 1.0 + strength * (2.0 * torch.rand(n, c, 1, 1, generator=generator) - 1.0)
    offset = strength * (2.0 * torch.rand(n, c, 1, 1, generator=generator) - 1.0)
    noise = 0.5 * strength * torch.randn(x.shape, generator=generator)
    out = x * gain.to(x.device) + offset.to(x.device) + noise.to(x.device)
    return out * valid.unsqueeze(1).to(x.dtype)


def masked_mean(values: Tensor, mask: Tensor) -> Tensor:
    """Mean of `values` over `mask` (0 with a graph when the mask is empty)."""
    mask = mask.to(values.dtype)
    total = mask.sum()
    if float(total) == 0:
        return values.sum() * 0.0
    return (values * mask).sum() / total


def entropy_map(probs: Tensor) -> Tensor:
    """Per-pixel entropy normalised by log K (0 certain, 1 uniform), (N, H, W)."""
    k = probs.shape[1]
    if k < 2:
        return probs.new_zeros(probs.shape[:1] + probs.shape[2:])
    return -(probs * torch.log(probs.clamp_min(1e-8))).sum(dim=1) / math.log(k)


def calibration_positions(count: int, available: int, seed: int) -> np.ndarray:
    """`count` dataset positions drawn without replacement (all when fewer), sorted, for a seed."""
    rng = np.random.default_rng([int(seed), 7])
    if count <= 0 or count >= available:
        return np.arange(available, dtype=np.int64)
    return np.sort(rng.choice(available, size=int(count), replace=False))


def calibrate(model: nn.Module, context: AdaptationContext, blocks: int) -> tuple[ConfidenceHistogram, np.ndarray]:
    """One pass of `model` over up to `blocks` target blocks: the confidence histogram per predicted
    class and the mean class probabilities over valid pixels (the model's class prior on the target)."""
    k = context.meta.num_classes
    histogram = ConfidenceHistogram(k)
    total = torch.zeros(k, dtype=torch.float64)
    pixels = 0.0
    positions = calibration_positions(blocks, len(context.dataset), context.config.seed)
    for probs, valid in iterate_probabilities(model, context.dataset, positions, context.config.batch_size,
                                              context.device, context.amp, context.progress):
        histogram.update(probs, valid)
        v = valid.unsqueeze(1).to(probs.dtype)
        total += (probs * v).sum(dim=(0, 2, 3)).double().cpu()
        pixels += float(v.sum())
    prior = (total / max(pixels, 1.0)).numpy() if pixels else np.full(k, 1.0 / k)
    return histogram, prior


# -- the method interface -------------------------------------------------------------------------


@dataclass
class AdaptationContext:
    """What a method may use while setting up: the target blocks (images only), device, run facts."""

    config: AdaptConfig
    meta: CheckpointMeta
    dataset: TargetBlocks
    device: torch.device
    amp: bool
    total_steps: int
    progress: Progress
    resuming: bool = False  # state from `load_state` follows: skip passes whose results it replaces


class AdaptationMethod:
    """One adaptation method. Subclasses set `name` and `config_class` and implement `loss`.

    Call order: `trainable_parameters` (once, on the student, before the optimiser is built),
    `setup` (once, before the first step; build a teacher here), `load_state` (when resuming),
    then per step `loss` -> optimiser step -> `after_step`. `model_to_save` is what the adapted
    checkpoint holds (the student, or the teacher for mean-teacher methods).
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type[AdaptConfig]] = AdaptConfig

    def __init__(self, config: AdaptConfig, student: nn.Module, progress: Progress) -> None:
        self.config = config
        self.student = student
        self.progress = progress

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Freeze (requires_grad False) what must not change; the optimiser gets the rest (all by default)."""
        return [p for p in self.student.parameters() if p.requires_grad]

    def setup(self, context: AdaptationContext) -> None:
        """Prepare state that needs the target data (a teacher, class thresholds ...)."""

    def loss(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        """The loss of one batch (`image`, `valid` on the device) and its terms for the log."""
        raise NotImplementedError

    def after_step(self, step: int) -> None:
        """Called after the optimiser step `step` (0-based): EMA updates, round refreshes."""

    def model_to_save(self) -> nn.Module:
        return self.student

    def state_tensors(self) -> dict[str, Tensor]:
        """Tensors a resumed run needs besides the student (teacher weights, prototypes ...)."""
        return {}

    def state_info(self) -> dict[str, Any]:
        """JSON-able state a resumed run needs."""
        return {}

    def load_state(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        """Restore what `state_tensors` / `state_info` gave."""

    def summary(self) -> dict[str, Any]:
        """Figures for the result and the log (e.g. thresholds, pseudo-label shares)."""
        return {}


def split_prefixed(state: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


# -- files ------------------------------------------------------------------------------------------


def log_path(output: str | os.PathLike[str]) -> Path:
    """`adapted.safetensors` -> `adapted.adapt.json` (configuration, provenance, loss history)."""
    output = Path(output)
    stem = output.name[: -len(CHECKPOINT_SUFFIX)] if output.name.endswith(CHECKPOINT_SUFFIX) else output.stem
    return output.with_name(stem + ".adapt.json")


def _open_resume(path: str) -> tuple[TrainingState, str]:
    p = Path(path)
    if not p.name.endswith(RESUME_SUFFIX):
        read_metadata(p)  # a CropsError if it is not a checkpoint either
        p = resume_path(p)
        if not p.is_file():
            raise CropsError(f"No resume state beside {path} (looked for {p}); start without RESUME.")
    return load_training_state(p), str(p)


def adapted_meta(meta: CheckpointMeta, provenance: dict[str, Any]) -> CheckpointMeta:
    """The source checkpoint's metadata (features, normalisation, classes ...) with new provenance."""
    return replace(meta, provenance=provenance)


# -- the run ----------------------------------------------------------------------------------------


def run_adaptation(
    method_cls: type[AdaptationMethod], config: AdaptConfig, progress: Progress | None = None
) -> dict[str, Any]:
    """Adapt `config.model` to the target store `config.blocks` with `method_cls`; see the module doc."""
    progress = progress or silent()
    cfg = config
    if not isinstance(cfg, method_cls.config_class):
        raise CropsError(f"Method {method_cls.name} needs a {method_cls.config_class.__name__}.")
    check_config(cfg)
    resolve_device(cfg.device)  # a CropsError before anything is loaded

    progress(0.0, "Loading the source model")
    student, meta = load_model(cfg.model, "cpu")
    store, indices = open_target(cfg.blocks, meta, cfg.split)
    try:
        return _adapt(method_cls, cfg, student, meta, store, indices, progress)
    finally:
        store.close()


def _adapt(method_cls: type[AdaptationMethod], cfg: AdaptConfig, student: nn.Module, meta: CheckpointMeta,
           store: BlockStore, indices: np.ndarray, progress: Progress) -> dict[str, Any]:
    output = Path(cfg.output)
    resume_file = resume_path(output)
    history_file = log_path(output)
    device = resolve_device(cfg.device)
    use_amp = amp_enabled(device, cfg.amp)
    if store.has_labels:
        progress.log("The target block store holds labels: adaptation does not read them.")
    progress(0.0, "Hashing the source model and the target store")
    source_sha = file_sha256(cfg.model)
    store_sha = file_sha256(store.path)

    resume_state, resume_source = (None, "")
    if cfg.resume:
        resume_state, resume_source = _open_resume(cfg.resume)
        info = resume_state.info
        if info.get("task") != "adapt" or info.get("method") != method_cls.name:
            raise CropsError(
                f"{resume_source} is not the resume state of a {method_cls.name} adaptation "
                f"(it is {info.get('task')} {info.get('method') or ''}); RESUME a run of the same method."
            )
        if info.get("source_sha256") != source_sha:
            raise CropsError(
                f"{resume_source} continues the adaptation of another source model; give the MODEL it started from."
            )
        if info.get("store_sha256") not in (None, store_sha):
            progress.warn(f"The target store changed since {resume_source} was written (other SHA-256); continuing.")
        student.load_state_dict(split_prefixed(resume_state.model, "student."), strict=True)

    torch.manual_seed(cfg.seed)
    method = method_cls(cfg, student, progress)
    student.to(device).train()
    params = method.trainable_parameters()
    for p in student.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    if not params:
        raise CropsError(f"Method {method_cls.name} leaves no parameter to train.")
    dataset = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], indices)
    total_steps = int(cfg.iterations)
    warmup_steps = default_warmup_steps(total_steps, cfg.warmup)
    optimizer = build_optimizer(student, cfg.lr, cfg.weight_decay)  # the parameters that require grad
    scheduler = build_scheduler(optimizer, total_steps, warmup_steps)
    scaler = grad_scaler(device, cfg.amp)
    context = AdaptationContext(cfg, meta, dataset, device, use_amp, total_steps, progress.sub(0.0, 0.05),
                                resuming=resume_state is not None)

    start_step, history, elapsed_before = 0, [], 0.0
    if resume_state is not None:
        start_step = resume_state.step
        if start_step >= total_steps:
            raise CropsError(
                f"{resume_source} has already run {start_step} steps and this run asks for {total_steps}; "
                "raise ITERATIONS to continue."
            )
    with deterministic(device.type == "cpu"):
        method.setup(context)
    if resume_state is not None:
        try:
            optimizer.load_state_dict(resume_state.optimizer)
        except (ValueError, KeyError) as exc:
            raise CropsError(f"The optimiser state in {resume_source} does not fit: {exc}.") from None
        scheduler.base_lrs = [cfg.lr for _ in optimizer.param_groups]
        set_schedule_position(scheduler, start_step)
        if resume_state.scaler and scaler.is_enabled():
            scaler.load_state_dict(resume_state.scaler)
        method.load_state(split_prefixed(resume_state.model, "method."), resume_state.info.get("method_state", {}))
        restore_rng(resume_state.rng)
        history = list(resume_state.info.get("history", []))
        elapsed_before = float(resume_state.info.get("elapsed_seconds", 0.0))
        progress.log(f"Resuming from {resume_source} at step {start_step} of {total_steps}.")

    provenance_base = {
        "task": "adapt",
        "method": method_cls.name,
        "crops_version": __version__,
        "torch_version": torch.__version__,
        "source_checkpoint": {"path": str(Path(cfg.model).resolve()), "sha256": source_sha},
        "source_provenance": meta.provenance,
        "target_store": {
            "path": str(store.path.resolve()),
            "sha256": store_sha,
            "blocks": len(store),
            "split": cfg.split,
            "adapted_blocks": int(len(indices)),
            "composite": str(store.attrs.get("composite", "")),
        },
        "hyperparameters": cfg.hyperparameters(),
        "warmup_steps": warmup_steps,
        "total_steps": total_steps,
        "device": str(device),
        "amp": use_amp,
        "resumed_from": resume_source or None,
    }
    progress.log(
        f"Adapting {meta.arch} with {method_cls.name} on {describe(device)}: {total_steps} steps of "
        f"{cfg.batch_size} target blocks ({len(indices)} blocks, split {cfg.split}), LR {cfg.lr:g} "
        f"(warm-up {warmup_steps} steps, cosine), {sum(p.numel() for p in params)} trainable parameters."
    )

    def write_checkpoint(step: int) -> None:
        provenance = provenance_base | {
            "iterations": step,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "summary": method.summary(),
        }
        save_checkpoint(output, method.model_to_save(), adapted_meta(meta, provenance))

    def write_resume(step: int, elapsed: float) -> None:
        tensors = {f"student.{k}": v for k, v in student.state_dict().items()}
        tensors.update({f"method.{k}": v for k, v in method.state_tensors().items()})
        info = {
            "task": "adapt", "method": method_cls.name, "step": step, "total_steps": total_steps,
            "source_sha256": source_sha, "store_sha256": store_sha, "config": cfg.to_dict(),
            "history": history, "elapsed_seconds": elapsed, "method_state": method.state_info(),
            "checkpoint": str(output.resolve()),
        }
        save_training_state(
            resume_file,
            TrainingState(model=tensors, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
                          scaler=scaler.state_dict() if scaler.is_enabled() else {}, rng=capture_rng(), info=info),
        )

    def write_history(step: int) -> None:
        doc = {"model": str(output.resolve()), "method": method_cls.name, "config": cfg.to_dict(),
               "provenance": provenance_base, "steps_done": step, "history": history, "summary": method.summary()}
        with atomic_path(history_file) as tmp:
            tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")

    path = store.path
    mean, std = meta.normalisation["mean"], meta.normalisation["std"]
    seed = cfg.seed

    def batches() -> Iterator[dict[str, Tensor]]:
        own = TargetBlocks(BlockStore(path), mean, std, indices)  # this thread's own HDF5 handle
        return BatchStream(own, cfg.batch_size, seed=seed).iterate(start_step, total_steps)

    loop = progress.sub(0.05, 1.0)
    step = start_step
    started = time.perf_counter()
    last_save = started
    running: dict[str, float] = {}
    running_count = 0
    saved_step = start_step if resume_state is not None and output.is_file() else None
    prefetcher = Prefetcher(batches, depth=cfg.prefetch, pin_memory=device.type == "cuda")
    try:
        with deterministic(device.type == "cpu"):
            for batch in prefetcher:
                batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
                loss, terms = method.loss(batch, step)
                if not torch.isfinite(loss):
                    raise CropsError(
                        f"The {method_cls.name} loss became {float(loss)} at step {step + 1}: "
                        f"lower LR (now {cfg.lr:g})."
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                method.after_step(step)
                step += 1
                terms = {"loss": float(loss.detach()), **terms}
                for k, v in terms.items():
                    running[k] = running.get(k, 0.0) + float(v)
                running_count += 1
                text = " ".join(f"{k} {v:.4f}" for k, v in terms.items())
                loop(step / total_steps, f"Step {step}/{total_steps} {text}")
                if step % LOG_EVERY == 0 or step == total_steps:
                    row = {"step": step, "lr": float(optimizer.param_groups[0]["lr"])}
                    row.update({k: v / running_count for k, v in running.items()})
                    history.append(row)
                    for k, v in row.items():
                        if k != "step":
                            progress.metric(k, v, step)
                    running, running_count = {}, 0
                every = cfg.checkpoint_every
                now = time.perf_counter()
                due = step % every == 0 if every > 0 else now - last_save > SAVE_EVERY_S
                if due or step == total_steps:
                    write_checkpoint(step)
                    write_history(step)
                    write_resume(step, elapsed_before + now - started)
                    saved_step = step
                    last_save = now
    except Cancelled:
        prefetcher.close()
        if step > start_step:
            write_resume(step, elapsed_before + time.perf_counter() - started)
        kept = f"the model of step {saved_step} is {output}" if saved_step is not None else "no model was saved yet"
        progress.warn(
            f"Cancelled after step {step} of {total_steps}: {kept}; continue with RESUME={resume_file}."
            if step > start_step else f"Cancelled before the first step; {kept}."
        )
        raise
    finally:
        prefetcher.close()

    seconds = elapsed_before + time.perf_counter() - started
    summary = method.summary()
    for line in _summary_lines(summary):
        progress.log(line)
    progress(1.0, "Adaptation finished")
    return {
        "output": str(output),
        "log": str(history_file),
        "resume_state": str(resume_file),
        "method": method_cls.name,
        "steps": step,
        "seconds": round(seconds, 3),
        "final_loss": history[-1]["loss"] if history else None,
        "source_sha256": source_sha,
        "device": str(device),
        **{k: v for k, v in summary.items() if isinstance(v, int | float | str | list)},
    }


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    return [f"{k}: {json.dumps(v, default=str)}" for k, v in summary.items()]


def cross_entropy(logits: Tensor, labels: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean cross-entropy over labelled pixels (IGNORE_INDEX left out); 0 with a graph when none is."""
    if not bool((labels != IGNORE_INDEX).any()):
        return logits.sum() * 0.0
    if weight is None:
        return F.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX)
    per_pixel = F.cross_entropy(logits.float(), labels, ignore_index=IGNORE_INDEX, reduction="none")
    mask = (labels != IGNORE_INDEX).to(per_pixel.dtype)
    return (per_pixel * weight * mask).sum() / mask.sum()

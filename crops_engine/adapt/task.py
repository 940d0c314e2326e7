"""An adaptation run: a method (`method.AdaptationMethod`) as a task of the optimisation loop.

Source-free by construction: `run_adaptation` opens the source *checkpoint* (weights, features,
normalisation, classes) and the target block store's images and valid masks, nothing else
(`target`). The store's labels, if it has any, are never read, and the source block store named in
the checkpoint's provenance is never opened.

The method supplies the parameters to train, the loss of a batch and its state; `AdaptationTask`
adds what every method shares, and `crops_engine.loop` the rest (AdamW with warm-up + cosine decay,
mixed precision on CUDA, a deterministic batch stream, progress per step with every loss term,
cancel and resume). Written:

- the adapted checkpoint (`save_checkpoint`) with provenance: the source checkpoint's path and
  SHA-256 and its own provenance, the target store's path and SHA-256, the method and all its
  hyper-parameters; every `checkpoint_every` steps (or every `resume_every` seconds, RESUME_EVERY) and at
  the end;
- `<stem>.adapt.json` beside it: configuration, provenance and the loss history;
- `<stem>.resume.safetensors` (`training_state`): student, method state (teacher, thresholds ...),
  optimiser, schedule and random state, so RESUME continues exactly where a run stopped.

Cancel stops after the current step: the last complete checkpoint stays, and the resume state is
written at the step reached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..atomic import atomic_path
from ..batches import BatchStream
from ..blocks import BlockStore
from ..checkpoint import CheckpointMeta, file_sha256, load_model, save_checkpoint, sibling
from ..curves import adaptation_curves, write_png
from ..device import describe, resolve_device
from ..errors import CropsError
from ..loop import Run, RunResult, RunSettings, Task, fit, open_resume
from ..progress import Progress, silent
from ..statistics_alignment import reopen_store
from ..training_state import TrainingState, resume_path
from .method import LOG_EVERY, AdaptationContext, AdaptationMethod, AdaptConfig, check_config, split_prefixed
from .target import TargetBlocks, open_target


def log_path(output: str | os.PathLike[str]) -> Path:
    """`adapted.safetensors` -> `adapted.adapt.json` (configuration, provenance, loss history)."""
    return sibling(output, ".adapt.json")


def adapted_meta(meta: CheckpointMeta, provenance: dict[str, Any]) -> CheckpointMeta:
    """The source checkpoint's metadata (features, normalisation, classes ...) with new provenance."""
    return replace(meta, provenance=provenance)


class AdaptationTask(Task):
    """A method's loss and hooks, run on the target blocks; writes the adapted checkpoint and its log."""

    name = "adapt"

    def __init__(self, method: AdaptationMethod, meta: CheckpointMeta, store: BlockStore, indices: np.ndarray,
                 source_sha: str, store_sha: str, progress: Progress) -> None:
        self.method, self.cfg, self.meta = method, method.config, meta
        self.store, self.indices = store, indices
        self.source_sha, self.store_sha = source_sha, store_sha
        self.parent_progress = progress
        self.output = Path(self.cfg.output)
        self.history: list[dict[str, Any]] = []
        self.saved_step: int | None = None
        self.provenance_base: dict[str, Any] = {}
        self._params: list[nn.Parameter] = []

    @property
    def label(self) -> str:
        return self.method.name

    def check_resume(self, state: TrainingState, source: str) -> None:
        info = state.info
        if info.get("task") != "adapt" or info.get("method") != self.method.name:
            raise CropsError(
                f"{source} is not the resume state of a {self.method.name} adaptation "
                f"(it is {info.get('task')} {info.get('method') or ''}); RESUME a run of the same method."
            )
        if info.get("source_sha256") != self.source_sha:
            raise CropsError(
                f"{source} continues the adaptation of another source model; give the MODEL it started from."
            )
        if info.get("store_sha256") not in (None, self.store_sha):
            self.run.progress.warn(f"The target store changed since {source} was written (other SHA-256); continuing.")

    def setup(self, run: Run) -> None:
        student, cfg = self.method.student, self.cfg
        student.to(run.device).train()
        params = self.method.trainable_parameters()
        for p in student.parameters():
            p.requires_grad_(False)
        for p in params:
            p.requires_grad_(True)
        if not params:
            raise CropsError(f"Method {self.method.name} leaves no parameter to train.")
        self._params = params
        mean, std = self.meta.normalisation["mean"], self.meta.normalisation["std"]
        dataset = TargetBlocks(self.store, mean, std, self.indices)
        context = AdaptationContext(cfg, self.meta, dataset, run.device, run.amp, run.total_steps,
                                    self.parent_progress.sub(0.0, 0.05), resuming=run.resuming)
        self.method.setup(context)
        self.provenance_base = {
            "task": "adapt",
            "method": self.method.name,
            **run.provenance(),
            "source_checkpoint": {"path": str(Path(cfg.model).resolve()), "sha256": self.source_sha},
            "source_provenance": self.meta.provenance,
            "target_store": {
                "path": str(self.store.path.resolve()), "sha256": self.store_sha, "blocks": len(self.store),
                "split": cfg.split, "adapted_blocks": int(len(self.indices)),
                "composite": str(self.store.attrs.get("composite", "")),
            },
            "hyperparameters": cfg.hyperparameters(),
        }
        run.progress.log(
            f"Adapting {self.meta.arch} with {self.method.name} on {describe(run.device)}: {run.total_steps} steps "
            f"of {cfg.batch_size} target blocks ({len(self.indices)} blocks, split {cfg.split}), LR {cfg.lr:g} "
            f"(warm-up {run.warmup_steps} steps, cosine), {sum(p.numel() for p in params)} trainable parameters."
        )

    def parameters(self) -> list[nn.Parameter]:
        return self._params

    def batches(self, start_step: int, total_steps: int) -> Iterator[dict[str, Tensor]]:
        mean, std = self.meta.normalisation["mean"], self.meta.normalisation["std"]
        own = TargetBlocks(reopen_store(self.store), mean, std, self.indices)  # this thread's own HDF5 handle
        return BatchStream(own, self.cfg.batch_size, seed=self.cfg.seed).iterate(start_step, total_steps)

    def training_step(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        return self.method.loss(batch, step)

    def after_step(self, step: int) -> None:
        self.method.after_step(step)

    def should_evaluate(self, done: int) -> bool:
        return done % LOG_EVERY == 0

    def evaluate(self, done: int, figures: dict[str, float]) -> None:
        """A history row: the LR and the means of the loss terms since the last row, also as metrics."""
        row = {"step": done, "lr": self.run.lr, **figures}
        self.history.append(row)
        for k, v in row.items():
            if k != "step":
                self.run.progress.metric(k, v, done)

    def save(self, done: int, final: bool) -> None:
        provenance = self.provenance_base | {
            "iterations": done,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "summary": self.method.summary(),
        }
        save_checkpoint(self.output, self.method.model_to_save(), adapted_meta(self.meta, provenance))
        doc = {"model": str(self.output.resolve()), "method": self.method.name, "config": self.cfg.to_dict(),
               "provenance": self.provenance_base, "steps_done": done, "history": self.history,
               "summary": self.method.summary()}
        with atomic_path(log_path(self.output)) as tmp:
            tmp.write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        write_png(log_path(self.output).with_suffix(".png"), adaptation_curves(doc))  # adapted.adapt.png
        self.saved_step = done

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors = {f"student.{k}": v for k, v in self.method.student.state_dict().items()}
        tensors.update({f"method.{k}": v for k, v in self.method.state_tensors().items()})
        info = {"method": self.method.name, "source_sha256": self.source_sha, "store_sha256": self.store_sha,
                "config": self.cfg.to_dict(), "history": self.history, "method_state": self.method.state_info(),
                "checkpoint": str(self.output.resolve())}
        return tensors, info

    def load_state_dict(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        self.method.student.load_state_dict(split_prefixed(tensors, "student."), strict=True)
        self.method.load_state(split_prefixed(tensors, "method."), info.get("method_state", {}))
        self.history = list(info.get("history", []))
        self.saved_step = self.run.start_step if self.output.is_file() else None

    def kept(self) -> str:
        if self.saved_step is None:
            return "no model was saved yet"
        return f"the model of step {self.saved_step} is {self.output}"

    def result(self, run: RunResult) -> dict[str, Any]:
        summary = self.method.summary()
        return {
            "output": str(self.output),
            "log": str(log_path(self.output)),
            "curves": str(log_path(self.output).with_suffix(".png")),
            "resume_state": str(resume_path(self.output)),
            "method": self.method.name,
            "steps": run.steps,
            "seconds": round(run.seconds, 3),
            "final_loss": self.history[-1]["loss"] if self.history else None,
            "source_sha256": self.source_sha,
            "device": str(self.run.device),
            **{k: v for k, v in summary.items() if isinstance(v, int | float | str | list)},
        }


def run_adaptation(
    method_cls: type[AdaptationMethod], config: AdaptConfig, progress: Progress | None = None
) -> dict[str, Any]:
    """Adapt `config.model` to the target store `config.blocks` with `method_cls`; see the module doc."""
    progress = progress or silent()
    cfg = config
    if not isinstance(cfg, method_cls.config_class):
        raise CropsError(f"Method {method_cls.name} needs a {method_cls.config_class.__name__}.")
    check_config(cfg)
    device = resolve_device(cfg.device)  # a CropsError before anything is loaded

    progress(0.0, "Loading the source model")
    student, meta = load_model(cfg.model, "cpu")
    store, indices = open_target(cfg.blocks, meta, cfg.split, cfg.statistics_alignment, progress, str(cfg.model))
    try:
        if store.has_labels:
            progress.log("The target block store holds labels: adaptation does not read them.")
        progress(0.0, "Hashing the source model and the target store")
        source_sha, store_sha = file_sha256(cfg.model), file_sha256(store.path)
        resume = open_resume(cfg.resume) if cfg.resume else None
        torch.manual_seed(cfg.seed)
        method = method_cls(cfg, student, progress)
        task = AdaptationTask(method, meta, store, indices, source_sha, store_sha, progress)
        settings = RunSettings(
            total_steps=int(cfg.iterations), lr=cfg.lr, resume_file=resume_path(cfg.output),
            weight_decay=cfg.weight_decay, warmup=cfg.warmup, device=device, amp=cfg.amp, seed=cfg.seed,
            prefetch=cfg.prefetch, save_every=cfg.checkpoint_every, save_every_s=float(cfg.resume_every),
        )
        run = fit(task, settings, progress.sub(0.05, 1.0), resume)
    finally:
        store.close()
    for k, v in task.method.summary().items():
        progress.log(f"{k}: {json.dumps(v, default=str)}")
    progress(1.0, "Adaptation finished")
    return task.result(run)

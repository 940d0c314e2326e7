"""SimSiam pretraining of a segmentation model's encoder: a task of the optimisation loop (`loop`).

Inputs (`data`): composites and block stores, labels ignored, normalised with their pooled statistics.
Per step, a batch of blocks drawn as in source training (batch `s` depends only on the seed and `s`)
gives two augmented views (`augment`); the loss is SimSiam's (`simsiam`). The optimiser is SGD with
momentum 0.9 and weight decay (WEIGHT_DECAY, 1e-4 as published), at LR x BATCH_SIZE / 256 (SimSiam's
linear scaling; LR 0.05 as published) with the loop's linear warm-up and cosine decay.

Every epoch (at most 100 rows a run) logs the loss and the collapse statistic and warns, once, when
the outputs collapse. At the save cadence and after the last step the encoder is written
(`encoder.save_encoder_checkpoint`), then the loop's resume state (`<stem>.resume.safetensors`).
After the last step: the evaluation on EVAL_BLOCKS when given (`evaluation`) and the HTML report
(`report`, OUTPUT_REPORT or `<stem>.report.html`). On the CPU a seed gives the same encoder every time,
and a resumed run the same as an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..batches import BatchStream
from ..checkpoint import SUFFIX as CHECKPOINT_SUFFIX
from ..checkpoint import sibling
from ..commands import declared, declared_choices
from ..device import describe, resolve_device
from ..distributed import world
from ..errors import CropsError
from ..loop import Resume, Run, RunResult, RunSettings, Task, check_task, fit
from ..progress import Progress, silent
from ..schedule import check_optimiser_settings
from ..training_state import SUFFIX as RESUME_SUFFIX
from ..training_state import TrainingState, load_training_state, resume_path
from .augment import DEFAULT as DEFAULT_AUGMENT
from .augment import AugmentConfig, generator_for, two_views
from .data import PretrainInputs, UnlabelledBlocks, open_inputs
from .encoder import EncoderMeta, is_encoder_checkpoint, save_encoder_checkpoint
from .simsiam import SimSiam, healthy_std, output_std, simsiam_loss
from .view import EncoderView

ARCHS = declared_choices("pretrain", "ARCH")
MOMENTUM = 0.9
LR_BATCH = 256  # LR is per this many blocks (SimSiam's linear scaling rule)
COLLAPSE_FRACTION = 0.2  # warn when an output's spread falls below this share of an even spread (simsiam doc)
MAX_ROWS = 100  # evaluation rows (log lines) per run at most
REPORT_SUFFIX = ".report.html"


@dataclass
class PretrainConfig:
    """Parameters of `pretrain` (the CLI options / Processing parameters of `pretrain`)."""

    output: str
    composites: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    report: str = ""  # "" = <stem>.report.html beside the encoder
    arch: str = declared("pretrain", "ARCH")
    encoder: str = declared("pretrain", "ENCODER")  # "" = resnet18 (unet)
    arch_args: dict[str, Any] = field(default_factory=dict)
    block_size: int = declared("pretrain", "BLOCK_SIZE")
    epochs: int = declared("pretrain", "EPOCHS")
    iterations: int = declared("pretrain", "ITERATIONS")
    batch_size: int = declared("pretrain", "BATCH_SIZE")
    lr: float = declared("pretrain", "LR")  # per LR_BATCH blocks
    weight_decay: float = declared("pretrain", "WEIGHT_DECAY")
    warmup: float = declared("pretrain", "WARMUP")
    device: str = declared("pretrain", "DEVICE")
    amp: bool = declared("pretrain", "AMP")
    seed: int = declared("pretrain", "SEED")
    resume: str = ""
    save_every: int = declared("pretrain", "CHECKPOINT_EVERY")
    resume_every: int = declared("pretrain", "RESUME_EVERY")  # seconds between resume states; 0 = every step
    projection_dim: int = declared("pretrain", "PROJECTION_DIM")
    prediction_dim: int = declared("pretrain", "PREDICTION_DIM")
    eval_blocks: str = ""
    eval_iterations: int = declared("pretrain", "EVAL_ITERATIONS")
    encoder_lr_scale: float = declared("pretrain", "ENCODER_LR_SCALE")
    prefetch: int = 4
    stop_gradient: bool = True  # False repeats the paper's ablation (the outputs collapse): tests only
    augment: AugmentConfig = DEFAULT_AUGMENT

    @property
    def scaled_lr(self) -> float:
        """The peak LR of the run: LR x the global batch / 256 (BATCH_SIZE x processes under torchrun)."""
        return self.lr * self.batch_size * world().size / LR_BATCH

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def report_path(cfg: PretrainConfig) -> Path:
    return Path(cfg.report) if cfg.report else sibling(cfg.output, REPORT_SUFFIX)


def _check_config(cfg: PretrainConfig) -> None:
    if not str(cfg.output).endswith(CHECKPOINT_SUFFIX):
        raise CropsError(f"OUTPUT {cfg.output} must be a {CHECKPOINT_SUFFIX} file.")
    if cfg.arch not in ARCHS:
        raise CropsError(f"ARCH {cfg.arch!r} is not one of {', '.join(ARCHS)}.")
    if cfg.batch_size < 2:
        raise CropsError(f"BATCH_SIZE must be at least 2 (SimSiam's BatchNorm needs a batch), got {cfg.batch_size}.")
    if cfg.iterations < 0 or cfg.epochs < 0 or (cfg.iterations == 0 and cfg.epochs == 0):
        raise CropsError("Give EPOCHS > 0, or ITERATIONS > 0 (which overrides EPOCHS).")
    check_optimiser_settings(cfg.lr, cfg.weight_decay, cfg.warmup)
    if cfg.block_size < 0:
        raise CropsError(f"BLOCK_SIZE must be 0 (the stores') or a size in pixels, got {cfg.block_size}.")
    if cfg.projection_dim < 2 or cfg.prediction_dim < 1:
        raise CropsError("PROJECTION_DIM must be at least 2 and PREDICTION_DIM at least 1.")
    if cfg.resume and not Path(cfg.resume).is_file():
        raise CropsError(f"RESUME file {cfg.resume} does not exist.")
    if cfg.eval_blocks and not Path(cfg.eval_blocks).is_file():
        raise CropsError(f"EVAL_BLOCKS {cfg.eval_blocks} does not exist.")
    if cfg.eval_iterations < 1:
        raise CropsError(f"EVAL_ITERATIONS must be at least 1, got {cfg.eval_iterations}.")
    if not 0.0 <= cfg.encoder_lr_scale <= 1.0:
        raise CropsError(f"ENCODER_LR_SCALE must be in [0, 1], got {cfg.encoder_lr_scale}.")
    if not str(report_path(cfg)).lower().endswith((".html", ".htm")):
        raise CropsError(f"OUTPUT_REPORT {cfg.report} must be an .html file.")
    inputs = [Path(p).resolve() for p in [*cfg.composites, *cfg.blocks] if str(p).strip()]
    if Path(cfg.output).resolve() in inputs:
        raise CropsError("OUTPUT would overwrite an input; choose another file name.")


def open_pretrain_resume(path: str) -> Resume:
    """RESUME: a `.resume.safetensors` file, or an encoder checkpoint with its resume state beside it."""
    p = Path(path)
    if p.name.endswith(RESUME_SUFFIX):
        return Resume(load_training_state(p), str(p))
    if not is_encoder_checkpoint(p):
        raise CropsError(f"RESUME {path} is neither a resume state ({RESUME_SUFFIX}) nor an encoder written by "
                         "crops:pretrain.")
    beside = resume_path(p)
    if not beside.is_file():
        raise CropsError(f"No resume state beside {path} (looked for {beside}); start without RESUME.")
    return Resume(load_training_state(beside), str(beside))


def build_simsiam(arch: str, arch_args: dict[str, Any], in_channels: int, projection_dim: int,
                  prediction_dim: int) -> SimSiam:
    from ..models import build_model

    model = build_model(arch, in_channels, 1, **arch_args)  # one class: only the encoder is used
    return SimSiam(EncoderView(model), projection_dim, prediction_dim)


class PretrainTask(Task):
    """SimSiam on two views of unlabelled blocks; the encoder checkpoint, the history, the collapse watch."""

    name = "pretrain"
    steps_option = "ITERATIONS (or EPOCHS)"
    nonfinite_hint = ", raise BATCH_SIZE or check the inputs for extreme values"

    def __init__(self, cfg: PretrainConfig, inputs: PretrainInputs, simsiam: SimSiam, arch: str,
                 arch_args: dict[str, Any], seed: int) -> None:
        self.cfg, self.inputs, self.simsiam = cfg, inputs, simsiam
        self.arch, self.arch_args, self.seed = arch, arch_args, seed
        self.output = Path(cfg.output)
        # under torchrun an epoch is a pass of the global batch (BATCH_SIZE x processes: `distributed`)
        self.steps_per_epoch = -(-inputs.blocks // (cfg.batch_size * world().size))
        self.total_steps = cfg.iterations if cfg.iterations > 0 else cfg.epochs * self.steps_per_epoch
        self.row_every = self.steps_per_epoch * max(1, -(-self.total_steps // (self.steps_per_epoch * MAX_ROWS)))
        self.history: dict[str, list[float]] = {"step": [], "loss": [], "lr": [], "z_std": [], "p_std": []}
        self.rows: list[dict[str, Any]] = []
        self.collapse_warned = False
        self.saved = False
        self.provenance_base: dict[str, Any] = {}

    @property
    def label(self) -> str:
        return "pretraining"

    @property
    def healthy(self) -> float:
        return healthy_std(self.simsiam.dim)

    def collapse_statistic(self, steps: int = 10) -> float | None:
        """The smaller output spread (z or p), mean of the last `steps` steps."""
        if not self.history["z_std"]:
            return None
        return float(min(np.mean(self.history[k][-steps:]) for k in ("z_std", "p_std")))

    def check_resume(self, state: TrainingState, source: str) -> None:
        super().check_resume(state, source)
        shas = [i.sha256 for i in self.inputs.inputs]
        if state.info.get("input_sha256") not in (None, shas):
            self.run.progress.warn(f"The inputs differ from those of {source} (other files or contents); continuing.")
        if int(state.info.get("batch_size", self.cfg.batch_size)) != self.cfg.batch_size:
            self.run.progress.warn("BATCH_SIZE differs from the resumed run: the batches from here on differ from its.")

    def setup(self, run: Run) -> None:
        cfg = self.cfg
        self.simsiam.to(run.device).train()
        self.provenance_base = {
            "task": self.name, **run.provenance(),
            "inputs": [i.provenance() for i in self.inputs.inputs],
            "method": "SimSiam (Chen & He 2021)", "stop_gradient": cfg.stop_gradient,
            "batch_size": cfg.batch_size, "base_lr": cfg.lr, "lr_rule": f"LR x BATCH_SIZE x processes / {LR_BATCH}",
            "optimizer": f"SGD, momentum {MOMENTUM}", "projection_dim": self.simsiam.dim,
            "prediction_dim": cfg.prediction_dim, "steps_per_epoch": self.steps_per_epoch,
            "augmentations": cfg.augment.describe(),
        }
        run.progress.log(
            f"Pretraining the {self.arch} encoder {json.dumps(self.arch_args)} with SimSiam on {describe(run.device)}"
            f"{' with mixed precision' if run.amp else ''}: {self.inputs.blocks} blocks of {self.inputs.block_size} px "
            f"from {len(self.inputs.inputs)} input(s), {self.total_steps} steps of {cfg.batch_size} blocks "
            f"({self.steps_per_epoch} steps per epoch), SGD LR {cfg.scaled_lr:.4g} (= {cfg.lr:g} x "
            f"{cfg.batch_size * world().size} "
            f"/ {LR_BATCH}; warm-up {run.warmup_steps} steps, cosine decay), seed {self.seed}."
        )

    def parameters(self) -> Iterator[nn.Parameter]:
        return self.simsiam.parameters()

    def configure_optimizer(self, params: list[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
        return torch.optim.SGD([p for p in params if p.requires_grad], lr=lr, momentum=MOMENTUM,
                               weight_decay=weight_decay)

    def batches(self, start_step: int, total_steps: int) -> Iterator[dict[str, Tensor]]:
        dataset = UnlabelledBlocks(self.inputs.stores, self.inputs.mean, self.inputs.std)  # this thread's handles
        stream = BatchStream(dataset, self.cfg.batch_size, seed=self.seed, augment=False)  # type: ignore[arg-type]
        try:
            for step in range(start_step, total_steps):
                _, v1, v2 = views_of_step(dataset, stream, step, self.seed, self.cfg.augment)
                yield {"view1": v1, "view2": v2}
        finally:
            dataset.close()

    def training_step(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        with self.run.autocast():
            p1, p2, z1, z2 = self.simsiam(batch["view1"], batch["view2"])
        loss = simsiam_loss(p1, p2, z1, z2, stop_gradient=self.cfg.stop_gradient)
        figures = {"z_std": output_std(z1), "p_std": output_std(p1)}
        history = self.history
        history["step"].append(step + 1)
        history["loss"].append(float(loss.detach()))
        history["lr"].append(self.run.lr)
        for key, value in figures.items():
            history[key].append(value)
        return loss, figures

    def step_text(self, done: int) -> str:
        return f" (epoch {(done - 1) // self.steps_per_epoch + 1})"

    def should_evaluate(self, done: int) -> bool:
        return done % self.row_every == 0

    def evaluate(self, done: int, figures: dict[str, float]) -> None:
        epoch = round(done / self.steps_per_epoch, 2)
        loss = figures.get("loss", float("nan"))
        z_std, p_std = figures.get("z_std", float("nan")), figures.get("p_std", float("nan"))
        spread = min(z_std, p_std)
        row = {"step": done, "epoch": epoch, "lr": self.run.lr, "loss": loss, "z_std": z_std, "p_std": p_std,
               "elapsed_s": round(self.run.elapsed(), 2)}
        self.rows.append(row)
        self.run.progress.log(f"Epoch {epoch:g} (step {done}): loss {loss:.4f}, output spread z {z_std:.4f} / p "
                              f"{p_std:.4f} ({z_std / self.healthy:.0%} / {p_std / self.healthy:.0%} of even)")
        self.run.progress.metric("pretrain_loss", loss, done, epoch=epoch)
        self.run.progress.metric("output_std", spread, done, epoch=epoch)
        if spread < COLLAPSE_FRACTION * self.healthy and not self.collapse_warned:
            self.collapse_warned = True
            self.run.progress.warn(
                f"The outputs are collapsing at step {done}: their spread (std of the normalised outputs) is "
                f"{spread:.4f}, {spread / self.healthy:.0%} of an even spread (1/sqrt({self.simsiam.dim}) = "
                f"{self.healthy:.4f}); the encoder is learning one output for every block. Lower LR, raise BATCH_SIZE "
                "or WEIGHT_DECAY, or check that the inputs vary."
            )

    def encoder_meta(self, done: int) -> EncoderMeta:
        losses = self.history["loss"][-10:]
        provenance = self.provenance_base | {
            "steps": done, "epochs": round(done / self.steps_per_epoch, 3),
            "final_loss": float(np.mean(losses)) if losses else None,
            "output_std": self.collapse_statistic(),
            "collapse_warned": self.collapse_warned,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        view = self.simsiam.encoder
        return EncoderMeta(arch=self.arch, arch_args=self.arch_args, in_channels=len(self.inputs.features),
                           features=list(self.inputs.features),
                           normalisation={"mean": list(self.inputs.mean), "std": list(self.inputs.std)},
                           block_size=self.inputs.block_size, feature_dim=view.out_channels,
                           nodata=self.inputs.nodata, provenance=provenance)

    def save(self, done: int, final: bool) -> None:
        save_encoder_checkpoint(self.output, self.simsiam.encoder, self.encoder_meta(done))
        self.saved = True
        self.run.progress.log(f"Saved the encoder of step {done} to {self.output}.")

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        info = {
            "batch_size": self.cfg.batch_size, "arch": self.arch, "arch_args": self.arch_args,
            "features": list(self.inputs.features), "block_size": self.inputs.block_size,
            "normalisation": {"mean": list(self.inputs.mean), "std": list(self.inputs.std)},
            "projection_dim": self.simsiam.dim, "prediction_dim": self.cfg.prediction_dim,
            "input_sha256": [i.sha256 for i in self.inputs.inputs], "seed": self.seed,
            "history": self.history, "rows": self.rows, "collapse_warned": self.collapse_warned,
            "encoder": str(self.output.resolve()),
        }
        return self.simsiam.state_dict(), info

    def load_state_dict(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        self.simsiam.load_state_dict(tensors, strict=True)
        self.history = {k: list(v) for k, v in info.get("history", {}).items()} or self.history
        self.rows = list(info.get("rows", []))
        self.collapse_warned = bool(info.get("collapse_warned", False))
        self.saved = self.output.is_file()

    def kept(self) -> str:
        return f"the encoder saved last is {self.output}" if self.saved else "no encoder was saved yet"


def _resumed_facts(resume: Resume, inputs: PretrainInputs, progress: Progress) -> dict[str, Any]:
    """What the resumed run fixes (architecture, normalisation, widths, seed), checked against the inputs."""
    assert resume.state is not None
    check_task(resume.state, resume.source, PretrainTask.name)
    info = resume.state.info
    if list(info.get("features", inputs.features)) != inputs.features:
        raise CropsError(f"The run in {resume.source} learnt from features {info['features']} but the inputs have "
                         f"{inputs.features}; resume with inputs of the same features.")
    if int(info.get("block_size", inputs.block_size)) != inputs.block_size:
        raise CropsError(f"The run in {resume.source} used blocks of {info['block_size']} px, the inputs have "
                         f"{inputs.block_size}; set BLOCK_SIZE to {info['block_size']}.")
    return info


def pretrain(config: PretrainConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Pretrain an encoder with SimSiam (module doc); returns output paths and figures."""
    from ..train import resolve_arch_args

    progress = progress or silent()
    cfg = config
    _check_config(cfg)
    device = resolve_device(cfg.device)
    resume = open_pretrain_resume(cfg.resume) if cfg.resume else None
    if resume is not None:
        check_task(resume.state, resume.source, PretrainTask.name)
    output = Path(cfg.output)
    inputs = open_inputs(cfg.composites, cfg.blocks, cfg.block_size, output.parent if output.parent.is_dir()
                         else Path.cwd(), progress)
    try:
        seed = cfg.seed
        if resume is not None:
            info = _resumed_facts(resume, inputs, progress)
            arch, arch_args = str(info["arch"]), dict(info["arch_args"])
            inputs.mean, inputs.std = list(info["normalisation"]["mean"]), list(info["normalisation"]["std"])
            dims = int(info["projection_dim"]), int(info["prediction_dim"])
            seed = int(info.get("seed", cfg.seed))
            if seed != cfg.seed:
                progress.warn(f"Resuming a run of seed {seed}: SEED {cfg.seed} is not used.")
            if arch != cfg.arch:
                progress.warn(f"Resuming a {arch} run: ARCH {cfg.arch} is not used.")
        else:
            arch = cfg.arch
            arch_args = resolve_arch_args(cfg.arch, cfg.encoder, inputs.block_size, cfg.arch_args)
            dims = cfg.projection_dim, cfg.prediction_dim
        progress.log(f"Inputs: {', '.join(f'{Path(i.path).name} ({i.blocks} blocks)' for i in inputs.inputs)}; "
                     f"features {', '.join(inputs.features)}.")
        torch.manual_seed(seed)
        simsiam = build_simsiam(arch, arch_args, len(inputs.features), *dims)
        task = PretrainTask(cfg, inputs, simsiam, arch, simsiam.encoder.model.arch_args, seed)
        settings = RunSettings(
            total_steps=task.total_steps, lr=cfg.scaled_lr, resume_file=resume_path(output),
            weight_decay=cfg.weight_decay, warmup=cfg.warmup, device=device, amp=cfg.amp, seed=seed,
            prefetch=cfg.prefetch, save_every=cfg.save_every, save_every_s=float(cfg.resume_every),
        )
        run = fit(task, settings, progress, resume)
        progress(1.0, "Pretraining finished")
        result = _result(task, run, cfg)
        evaluation = None
        if cfg.eval_blocks:
            from .evaluation import evaluate_encoder

            evaluation = evaluate_encoder(
                str(output), cfg.eval_blocks, iterations=cfg.eval_iterations, batch_size=cfg.batch_size,
                seed=seed, device=str(device), encoder_lr_scale=cfg.encoder_lr_scale, progress=progress,
            )
            for arm, key in (("linear_probe", "probe_miou"), ("fine_tune", "fine_tune_miou"),
                             ("random_init", "random_init_miou")):
                result[key] = evaluation["arms"][arm]["miou"]
        views = example_views(task, count=4)
        from .report import write_report

        report = report_path(cfg)
        write_report(report, task, result, views, evaluation)
        result["output_report"] = str(report)
        progress.log(f"Report: {report}")
        return result
    finally:
        inputs.close()


def views_of_step(dataset: UnlabelledBlocks, stream: BatchStream, step: int, seed: int,
                  augment: AugmentConfig = DEFAULT_AUGMENT) -> tuple[Tensor, Tensor, Tensor]:
    """(blocks, view 1, view 2) of step `step`: the blocks `stream` draws for it (this process's slice under
    torchrun), read in one go per store, and their two views from the step's generator."""
    images, valid = dataset.batch([p for p, _ in stream.positions(step)])
    v1, v2 = two_views(images, valid, generator_for(seed, step, getattr(stream, "rank", 0)), augment)
    return images, v1, v2


def example_views(task: PretrainTask, count: int = 4) -> dict[str, Any]:
    """The first blocks of step 0's batch and their two views (what the run's first step saw), for the report."""
    dataset = UnlabelledBlocks(task.inputs.stores, task.inputs.mean, task.inputs.std)
    try:
        stream = BatchStream(dataset, task.cfg.batch_size, seed=task.seed, augment=False)  # type: ignore[arg-type]
        images, v1, v2 = views_of_step(dataset, stream, 0, task.seed, task.cfg.augment)
    finally:
        dataset.close()
    n = min(count, len(v1))
    return {"original": images[:n].numpy(), "view1": v1[:n].numpy(), "view2": v2[:n].numpy(),
            "features": list(task.inputs.features)}


def _result(task: PretrainTask, run: RunResult, cfg: PretrainConfig) -> dict[str, Any]:
    losses = task.history["loss"][-10:]
    loop_seconds = run.step_seconds + run.data_wait_seconds
    return {
        "output": str(task.output), "resume_state": str(resume_path(task.output)), "steps": run.steps,
        "epochs": round(run.steps / task.steps_per_epoch, 3),
        "final_loss": float(np.mean(losses)) if losses else None,
        "output_std": task.collapse_statistic(),
        "healthy_std": task.healthy, "collapsed": task.collapse_warned,
        "train_seconds": round(loop_seconds, 3), "data_wait_seconds": round(run.data_wait_seconds, 3),
        "train_cpu_seconds": round(run.cpu_seconds, 3),
        "blocks_per_s": round(run.steps_timed * cfg.batch_size / loop_seconds, 3) if loop_seconds > 0 else None,
        "device": str(task.run.device), "wall_seconds": round(time.perf_counter() - task.run.started, 3),
    }

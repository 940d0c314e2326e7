"""One optimisation run, shared by source training, every adaptation method and what comes next
(SimSiam pretraining, co-training): the run is a loop, the kind of run a `Task`.

A `Task` supplies its data, the loss of a batch and hooks; `fit(task, settings, progress)` owns the rest:

- the device and mixed precision: `Run.autocast()` around the task's forward passes, the loss scaler;
- AdamW over `task.parameters()` (of one model or several) with warm-up + cosine decay (`schedule`);
- the step: loss, a non-finite loss is a CropsError naming the step, the LR and the fix, backward,
  optimiser and schedule step, then `task.after_step` (EMA teachers, prototypes, rounds);
- batches built `settings.prefetch` ahead by a data thread (`task.batches` runs there);
- progress per step with every figure of `training_step`, `task.evaluate` when `task.should_evaluate`
  and after the last step (validation, a history row; it gets the figures' means since the last one);
- the save cadence (`SaveCadence`: every `save_every` steps, else every `save_every_s` seconds, the
  RESUME_EVERY parameter, default `SAVE_EVERY_S` = 120 s, and after the last step): `task.save`, then the
  resume state (`training_state`): the task's tensors and JSON state, optimiser, schedule, loss scaler
  and random generators. A run killed outright (kill -9, a crash, a power cut) can so lose at most
  RESUME_EVERY seconds of training; a cancel (SIGTERM, SIGINT, the QGIS cancel button) loses nothing;
- before the first step, whether the output folder has room for the checkpoint and the resume state
  (`check_room`): a full disk is a CropsError before training, not after;
- resume: `open_resume` reads RESUME with one set of rules for every task; the run checks that the
  state fits (`task.check_resume`, steps left), restores it, and puts the schedule at this run's LR;
- cancel: the resume state is written at the step reached, and a warning says how to continue;
- provenance every output shares (`Run.provenance`): versions, device, AMP, seed, LR, steps.

On the CPU a run is deterministic (deterministic algorithms; a task's batch `s` depends only on the
seed and `s`), so k steps and a resume to N give bit for bit the weights of N uninterrupted steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from . import __version__, distributed
from .atomic import free_bytes
from .batches import Prefetcher
from .checkpoint import read_metadata
from .command_spec import RESUME_EVERY
from .device import amp_enabled, autocast, deterministic, grad_scaler, resolve_device
from .errors import Cancelled, CropsError
from .progress import Progress, silent
from .schedule import build_optimizer, build_scheduler, default_warmup_steps, set_schedule_position
from .training_state import SUFFIX as RESUME_SUFFIX
from .training_state import (
    TrainingState,
    capture_rng,
    load_training_state,
    restore_rng,
    resume_path,
    save_training_state,
)

# Besides the end and a cancel, outputs and resume state at most this often (save_every 0): RESUME_EVERY's default.
SAVE_EVERY_S = float(RESUME_EVERY.default)

Batch = dict[str, Any]


class Task:
    """What one kind of run supplies; override what it needs (`parameters`, `batches`, `training_step`).

    Call order: `check_resume` (when resuming), `setup(run)`, `parameters()`, `load_state_dict` (when
    resuming), then per step `training_step` -> optimiser step -> `after_step(step)` -> progress ->
    `evaluate` (when `should_evaluate`, and after the last step) -> `save` (at the save cadence, and
    after the last step) followed by the resume state. `step` is 0-based (the step being taken), `done`
    the number of steps completed. `run` (the `Run`) is set before `setup`.
    """

    name: ClassVar[str] = "task"  # written into the resume state; `check_resume` compares it
    steps_option: ClassVar[str] = "ITERATIONS"  # the option that sets the number of steps (for messages)
    nonfinite_hint: ClassVar[str] = ""  # more of the fix when the loss is not finite: ", or ..."
    run: Run

    @property
    def label(self) -> str:
        """What the messages call this run's loss (`The {label} loss became nan ...`)."""
        return self.name

    def check_resume(self, state: TrainingState, source: str) -> None:
        """Raise a CropsError when `state` is not a run of this task on these inputs (warnings for the rest)."""
        check_task(state, source, self.name)

    def setup(self, run: Run) -> None:
        """Once, before the optimiser is built: models to `run.device`, freeze what must not train, first passes."""

    def parameters(self) -> Iterable[nn.Parameter]:
        """What the optimiser trains (those that require grad)."""
        raise NotImplementedError

    def configure_optimizer(self, params: list[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
        """The optimiser of `params` (AdamW by default; SimSiam, say, takes SGD with momentum). Its param groups'
        `lr` are the peak LRs the warm-up + cosine schedule scales."""
        return build_optimizer(params, lr, weight_decay)

    def batches(self, start_step: int, total_steps: int) -> Iterator[Batch]:
        """Batches `start_step` .. `total_steps - 1`; runs in the data thread (open your own file handles)."""
        raise NotImplementedError

    def training_step(self, batch: Batch, step: int) -> tuple[Tensor, dict[str, float]]:
        """(loss, figures for the log) of `batch` (its tensors on the device)."""
        raise NotImplementedError

    def after_step(self, step: int) -> None:
        """After the optimiser step of `step`: EMA teachers, prototypes, round ends."""

    def step_text(self, done: int) -> str:
        """Text after `Step {done}/{total}` in the progress (e.g. ` (epoch 2)`)."""
        return ""

    def should_evaluate(self, done: int) -> bool:
        return False

    def evaluate(self, done: int, figures: dict[str, float]) -> None:
        """Validation, a history row ...; `figures` are the means of the step figures since the last call."""

    def save(self, done: int, final: bool) -> None:
        """Write the task's outputs (a checkpoint ...); the run writes the resume state right after."""

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """(tensors, JSON-able state) a resumed run needs: model weights, teachers, prototypes, history."""
        return {}, {}

    def load_state_dict(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        """Restore what `state_dict` gave (`info` also holds the run's `step`, `total_steps` ...)."""

    def kept(self) -> str:
        """What a cancel leaves behind, for the warning: `the model of step 4 is out.safetensors`."""
        return "no model was saved yet"


def check_task(state: TrainingState, source: str, name: str) -> None:
    """A CropsError unless `state` (from `source`) is the resume state of a `name` run (or says of no task)."""
    task = state.info.get("task")
    if task not in (None, name):
        raise CropsError(f"{source} is the resume state of a {task} run, not of a {name} run; RESUME a {name} run.")


@dataclass
class RunSettings:
    """How a run optimises and where it keeps its resume state."""

    total_steps: int
    lr: float
    resume_file: str | Path  # where the resume state is written
    weight_decay: float = 1e-4
    warmup: float = 0.05  # fraction of the steps (at most 500)
    device: str | torch.device = "auto"
    amp: bool = True  # mixed precision where it pays (`device.amp_enabled`: CUDA)
    seed: int = 0
    prefetch: int = 2  # batches prepared ahead by the data thread
    save_every: int = 0  # steps between saves; 0 = every `save_every_s` seconds
    save_every_s: float = SAVE_EVERY_S


@dataclass
class Resume:
    """What RESUME gave: a resume `state`, or (a checkpoint without one) only its weights (`weights_from`)."""

    state: TrainingState | None
    source: str
    weights_from: str = ""


def open_resume(path: str | Path, weights_ok: bool = False) -> Resume:
    """RESUME: a `.resume.safetensors` file, or a checkpoint with its resume state beside it. A checkpoint
    without one gives only its weights when `weights_ok` (a new schedule from them), else is an error."""
    p = Path(path)
    if not p.is_file():
        raise CropsError(f"RESUME file {path} does not exist.")
    if p.name.endswith(RESUME_SUFFIX):
        return Resume(load_training_state(p), str(p))
    read_metadata(p)  # a CropsError when it is no CROPS checkpoint either
    beside = resume_path(p)
    if beside.is_file():
        return Resume(load_training_state(beside), str(beside))
    if not weights_ok:
        raise CropsError(f"No resume state beside {path} (looked for {beside}); start without RESUME.")
    return Resume(None, str(p), weights_from=str(p))


class SaveCadence:
    """When outputs and resume state are written: every `every_steps` steps when positive, else once
    `every_seconds` have passed since the last save (the run also saves after the last step)."""

    def __init__(self, every_steps: int = 0, every_seconds: float = SAVE_EVERY_S, now: float = 0.0) -> None:
        self.every_steps = int(every_steps)
        self.every_seconds = float(every_seconds)
        self.last = float(now)

    def due(self, done: int, now: float) -> bool:
        if self.every_steps > 0:
            return done % self.every_steps == 0
        return now - self.last >= self.every_seconds

    def mark(self, now: float) -> None:
        self.last = float(now)


class RunningMeans:
    """Means of the step figures since the last `pop`."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, figures: dict[str, float]) -> None:
        for k, v in figures.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.count += 1

    def pop(self) -> dict[str, float]:
        means = {k: v / max(self.count, 1) for k, v in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


@dataclass
class RunResult:
    """What a finished run did; seconds of wall time (`seconds` includes the runs it resumed)."""

    steps: int
    start_step: int
    seconds: float
    step_seconds: float  # the steps themselves (transfer, forward, backward, optimiser)
    data_wait_seconds: float  # waiting for the data thread
    cpu_seconds: float  # CPU time of all threads during the steps, less evaluation and saving
    steps_timed: int


def fit(task: Task, settings: RunSettings, progress: Progress | None = None, resume: Resume | None = None) -> RunResult:
    """Run `task` for `settings.total_steps` steps (continuing `resume` when given); see the module doc."""
    return Run(task, settings, progress, resume).fit()


class Run:
    """One run of a task: device, AMP, optimiser and schedule, the steps, saving, resume and cancel."""

    def __init__(self, task: Task, settings: RunSettings, progress: Progress | None = None,
                 resume: Resume | None = None) -> None:
        self.task, self.settings = task, settings
        self.progress = progress or silent()
        self.resume = resume if resume is not None and resume.state is not None else None
        self.device = resolve_device(settings.device)
        self.amp = amp_enabled(self.device, settings.amp)
        self.total_steps = int(settings.total_steps)
        self.warmup_steps = default_warmup_steps(self.total_steps, settings.warmup)
        self.resume_file = Path(settings.resume_file)
        self.scaler = grad_scaler(self.device, settings.amp)
        self.start_step = self.step = self.resume.state.step if self.resume else 0
        self.elapsed_before = 0.0
        self.started = time.perf_counter()
        self.running = RunningMeans()
        self.step_seconds, self.steps_timed, self.cpu_excluded = 0.0, 0, 0.0
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: torch.optim.lr_scheduler.LambdaLR | None = None
        self.reducer = distributed.StepReducer(distributed.World())  # one process; `prepare` sets the run's
        task.run = self

    # -- what tasks use ------------------------------------------------------------------------
    @property
    def resuming(self) -> bool:
        return self.resume is not None

    @property
    def lr(self) -> float:
        """The learning rate of the step about to be taken (of the first parameter group)."""
        return float(self.optimizer.param_groups[0]["lr"]) if self.optimizer is not None else self.settings.lr

    def autocast(self) -> Any:
        """The context for the task's forward passes: float16 autocast on CUDA with AMP, else a no-op."""
        return autocast(self.device, self.amp)

    def elapsed(self) -> float:
        """Seconds of this run and the runs it continues."""
        return self.elapsed_before + time.perf_counter() - self.started

    def provenance(self) -> dict[str, Any]:
        """What every output of the run records of how it was made (the task adds its inputs)."""
        s = self.settings
        return {
            "crops_version": __version__,
            "torch_version": torch.__version__,
            "device": str(self.device),
            "amp": self.amp,
            "seed": s.seed,
            "lr": s.lr,
            "weight_decay": s.weight_decay,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "resumed_from": self.resume.source if self.resume else None,
            **distributed.provenance(),  # world size, global batch (BATCH_SIZE x processes)
        }

    # -- preparing ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Check the resume state, set the task up, build optimiser and schedule, restore the state."""
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        if self.resume:
            self._check_resume(self.resume)
        with deterministic(self.device.type == "cpu"):
            self.task.setup(self)
        params = list(self.task.parameters())
        if not any(p.requires_grad for p in params):
            raise CropsError(f"The {self.task.label} run leaves no parameter to train.")
        self.optimizer = self.task.configure_optimizer(params, self.settings.lr, self.settings.weight_decay)
        self.scheduler = build_scheduler(self.optimizer, self.total_steps, self.warmup_steps)
        if self.resume:
            self._restore(self.resume)
        self.reducer = distributed.prepare_run(self)  # under torchrun: SyncBatchNorm, process 0's weights everywhere
        self.check_room(params)

    def check_room(self, params: list[nn.Parameter]) -> None:
        """A CropsError before the first step when the resume file's folder cannot hold what the run will write:
        the resume state (the task's tensors and the optimiser's two moments per trained value) and a checkpoint."""
        try:
            tensors, _ = self.task.state_dict()
            state = sum(t.numel() * t.element_size() for t in tensors.values() if isinstance(t, Tensor))
        except Exception:  # noqa: BLE001 - an estimate only; the writes themselves report a full disk
            return
        trained = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
        need = 2 * state + 2 * trained + (1 << 20)
        free = free_bytes(self.resume_file.parent)
        if free is not None and free < need:
            raise CropsError(
                f"The disk of {self.resume_file.parent} has {free / 2**20:.1f} MiB free, but this run writes about "
                f"{need / 2**20:.1f} MiB there (its model and resume state): free some space or choose an OUTPUT on "
                "another disk, then run again."
            )

    def _check_resume(self, resume: Resume) -> None:
        assert resume.state is not None
        self.task.check_resume(resume.state, resume.source)
        distributed.check_resume_world(resume.state.info, resume.source, self.progress)
        done = resume.state.step
        if done >= self.total_steps:
            raise CropsError(
                f"{resume.source} has already trained {done} steps and this run asks for {self.total_steps}; "
                f"raise {self.task.steps_option} to continue."
            )

    def _restore(self, resume: Resume) -> None:
        state = resume.state
        assert state is not None and self.optimizer is not None and self.scheduler is not None
        peaks = [group["initial_lr"] for group in self.optimizer.param_groups]  # this run's peak LR per group
        try:
            self.optimizer.load_state_dict(state.optimizer)
        except (ValueError, KeyError) as exc:
            raise CropsError(f"The optimiser state in {resume.source} does not fit the model: {exc}.") from None
        for group, peak in zip(self.optimizer.param_groups, peaks, strict=True):  # the LR may have been changed
            group["initial_lr"] = peak
        self.scheduler.base_lrs = list(peaks)
        set_schedule_position(self.scheduler, self.start_step)
        if state.scaler and self.scaler.is_enabled():
            self.scaler.load_state_dict(state.scaler)
        self.task.load_state_dict(state.model, state.info)
        restore_rng(state.rng)
        self.elapsed_before = float(state.info.get("elapsed_seconds", 0.0))
        self.progress.log(f"Resuming from {resume.source} at step {self.start_step} of {self.total_steps}.")

    # -- running --------------------------------------------------------------------------------
    def fit(self) -> RunResult:
        self.prepare()
        task = self.task
        start, total = self.start_step, self.total_steps
        prefetcher = Prefetcher(lambda: task.batches(start, total), depth=self.settings.prefetch,
                                pin_memory=self.device.type == "cuda")
        self.started = time.perf_counter()
        cadence = SaveCadence(self.settings.save_every, self.settings.save_every_s, self.started)
        cpu_started = time.process_time()
        try:
            with deterministic(self.device.type == "cpu"):
                for batch in prefetcher:
                    self.progress.check()  # a cancel before the first step
                    figures = self.take_step(batch)
                    text = " ".join(f"{k} {v:.4f}" for k, v in figures.items())
                    self.progress(self.step / total, f"Step {self.step}/{total}{task.step_text(self.step)} {text}")
                    self._when_due(cadence)
        except Cancelled:
            prefetcher.close()
            self._cancelled()
            raise
        except distributed.RankFailure as exc:  # another process ended: keep the steps done, say how to continue
            prefetcher.close()
            raise distributed.peer_failed(self, exc) from None
        finally:
            prefetcher.close()
        if self.step != total:
            raise RuntimeError(f"the {task.name} task's batches ended at step {self.step} of {total}")
        cpu = time.process_time() - cpu_started - self.cpu_excluded
        return RunResult(self.step, start, self.elapsed(), self.step_seconds, prefetcher.wait_seconds, cpu,
                         self.steps_timed)

    def take_step(self, batch: Batch) -> dict[str, float]:
        """One optimisation step on `batch`; returns its figures (`loss` first)."""
        assert self.optimizer is not None and self.scheduler is not None
        t0 = time.perf_counter()
        batch = {k: v.to(self.device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in batch.items()}
        with distributed.reducing():  # under torchrun a method's statistics are the global batch's
            loss, terms = self.task.training_step(batch, self.step)
        if not torch.isfinite(loss):
            raise CropsError(
                f"The {self.task.label} loss became {float(loss.detach())} at step {self.step + 1} "
                f"(step LR {self.lr:.3g}): lower LR (now {self.settings.lr:g}){self.task.nonfinite_hint}."
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        figures = {"loss": float(loss.detach()), **{k: float(v) for k, v in terms.items()}}
        figures = self.reducer.step(figures)  # under torchrun: gradients and figures averaged over the processes
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        with distributed.reducing():
            self.task.after_step(self.step)
        self.step += 1
        self.step_seconds += time.perf_counter() - t0
        self.steps_timed += 1
        self.running.add(figures)
        return figures

    def _when_due(self, cadence: SaveCadence) -> None:
        """Evaluation and saving after a step, when due; their time is left out of the step CPU time."""
        cpu_pause = time.process_time()
        done = self.step
        final = done == self.total_steps
        if final or self.task.should_evaluate(done):
            self.task.evaluate(done, self.running.pop())
        now = time.perf_counter()
        if self.reducer.writer and (final or cadence.due(done, now)):  # under torchrun process 0 saves
            self.task.save(done, final)
            self.write_resume()
            cadence.mark(now)
        self.cpu_excluded += time.process_time() - cpu_pause

    def write_resume(self) -> None:
        """The resume state at the step reached: the task's state, optimiser, schedule, scaler, random state."""
        assert self.optimizer is not None and self.scheduler is not None
        if not self.reducer.writer:
            return  # under torchrun process 0 writes it (every process holds the same state)
        tensors, info = self.task.state_dict()
        info = dict(info) | {"task": self.task.name, "step": self.step, "total_steps": self.total_steps,
                             "elapsed_seconds": self.elapsed(), **distributed.resume_info()}
        save_training_state(
            self.resume_file,
            TrainingState(model=tensors, optimizer=self.optimizer.state_dict(), scheduler=self.scheduler.state_dict(),
                          scaler=self.scaler.state_dict() if self.scaler.is_enabled() else {}, rng=capture_rng(),
                          info=info),
        )

    def _cancelled(self) -> None:
        if self.step > self.start_step:
            self.write_resume()
        kept = self.task.kept()
        self.progress.warn(
            f"Cancelled after step {self.step} of {self.total_steps}: {kept}; continue with RESUME={self.resume_file}."
            if self.step > self.start_step else f"Cancelled before the first step; {kept}."
        )

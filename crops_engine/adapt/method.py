"""The adaptation method interface: what every method's configuration holds and checks, and the
hooks a method implements (its parameters, set-up, loss, state).

A method (`AdaptationMethod`) chooses which parameters to train, computes the loss of a batch and
may keep a teacher or other state; `task.AdaptationTask` runs it in the optimisation loop
(`crops_engine.loop`), which owns everything else: AdamW with warm-up + cosine decay, mixed
precision, the batches, checkpoints with provenance, cancel and resume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from ..checkpoint import SUFFIX as CHECKPOINT_SUFFIX
from ..checkpoint import CheckpointMeta
from ..commands import declared, declared_choices
from ..errors import CropsError
from ..progress import Progress
from ..schedule import check_optimiser_settings

if TYPE_CHECKING:
    from .target import TargetBlocks

SPLITS = declared_choices("adapt", "SPLIT")
LOG_EVERY = 10  # steps per history row / metric event


@dataclass
class AdaptConfig:
    """What every method takes (the CLI options / Processing parameters they share)."""

    model: str  # source checkpoint (.safetensors)
    blocks: str  # target block store (.h5); labels, if any, are never read
    output: str  # adapted checkpoint (.safetensors)
    iterations: int = declared("adapt", "ITERATIONS")
    batch_size: int = declared("adapt", "BATCH_SIZE")
    lr: float = 1e-4
    weight_decay: float = declared("adapt", "WEIGHT_DECAY")
    warmup: float = declared("adapt", "WARMUP")  # fraction of the steps (at most 500)
    split: str = declared("adapt", "SPLIT")  # blocks to adapt on: all, or the partition's easy / hard split
    device: str = declared("adapt", "DEVICE")
    amp: bool = declared("adapt", "AMP")
    seed: int = declared("adapt", "SEED")
    resume: str = ""  # a .resume.safetensors file, or an adapted checkpoint with one beside it
    # steps between checkpoints; 0 = every two minutes (and at the end)
    checkpoint_every: int = declared("adapt", "CHECKPOINT_EVERY")
    resume_every: int = declared("adapt", "RESUME_EVERY")  # seconds between resume states (0: every step)
    # map the target's per-band statistics onto the checkpoint's first (crops_engine.statistics_alignment)
    statistics_alignment: str = declared("adapt", "STATISTICS_ALIGNMENT")
    prefetch: int = 2  # batches prepared ahead by the data thread

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hyperparameters(self) -> dict[str, Any]:
        """The settings that shape the result (paths and run plumbing left out)."""
        skip = {"model", "blocks", "output", "resume", "device", "prefetch", "checkpoint_every", "resume_every"}
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
            f"CHECKPOINT_EVERY must be 0 (with the resume state) or a number of steps, got {cfg.checkpoint_every}."
        )
    if cfg.resume and not Path(cfg.resume).is_file():
        raise CropsError(f"RESUME file {cfg.resume} does not exist.")
    from ..statistics_alignment import check_alignment

    check_alignment(cfg.statistics_alignment)


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
    """The entries of `state` whose key starts with `prefix`, the prefix removed."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

"""Self-training with an EMA teacher and class-balanced pseudo-label thresholds.

The teacher (EMA of the student, starting as the source model) labels each batch; a pixel keeps
its pseudo-label when its confidence reaches its predicted class's threshold. Thresholds are per
class, so a class the model is less sure about still gets pseudo-labels (class-balanced
self-training, CBST): each class keeps its most confident PORTION of pixels, never demanding more
than CONF_THRESHOLD. They are measured on the teacher's predictions, first in a pass over up to
CALIBRATION_BLOCKS target blocks, then refreshed at the end of each of ROUNDS rounds from the
teacher predictions seen during that round. The student learns the pseudo-labels (cross-entropy)
from a photometrically jittered view of the block (the teacher sees the clean one), a
consistency that keeps it from simply copying the teacher. The adapted checkpoint is the teacher.

Generic add-ons (off by default, on in SPCL): RECALIBRATE_BN re-estimates the student's BatchNorm statistics
on the target blocks before the teacher is made (AdaBN); DISTRIBUTION_ALIGNMENT holds the teacher's
probabilities at the first teacher's class distribution on the target (measured in the calibration pass)
before they are thresholded (`alignment`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..commands import declared
from ..device import autocast
from ..errors import CropsError
from ..losses import masked_cross_entropy
from ..metrics import IGNORE_INDEX
from .alignment import DistributionAlignment, log_distribution
from .method import AdaptationContext, AdaptationMethod, AdaptConfig, split_prefixed
from .pseudo_labels import ConfidenceHistogram, calibrate, pseudo_labels
from .teacher import EmaTeacher, photometric_jitter, recalibrate_on_blocks


@dataclass
class SelfTrainingConfig(AdaptConfig):
    """Hyper-parameters of self-training (defaults chosen on the synthetic suite of bench/adaptation.py)."""

    lr: float = 3e-5  # 1e-4 drifted into confirmation bias at the strong shift of the synthetic suite
    ema: float = declared("adapt", "EMA")
    conf_threshold: float = declared("adapt", "CONF_THRESHOLD")  # the most a class's threshold may demand
    portion: float = declared("adapt", "PORTION")  # share of each class's pixels that gets a pseudo-label
    rounds: int = declared("adapt", "ROUNDS")
    jitter: float = declared("adapt", "JITTER")  # strength of the student's photometric jitter (normalised units)
    calibration_blocks: int = declared("adapt", "CALIBRATION_BLOCKS")
    recalibrate_bn: bool = declared("adapt", "RECALIBRATE_BN")
    distribution_alignment: bool = declared("adapt", "DISTRIBUTION_ALIGNMENT")


class SelfTraining(AdaptationMethod):
    name = "self_training"
    config_class = SelfTrainingConfig

    def __init__(self, config: SelfTrainingConfig, student: nn.Module, progress: Any) -> None:
        super().__init__(config, student, progress)
        if not 0.0 < config.conf_threshold <= 1.0:
            raise CropsError(f"CONF_THRESHOLD must be in (0, 1], got {config.conf_threshold}.")
        if not 0.0 < config.portion <= 1.0:
            raise CropsError(f"PORTION must be in (0, 1], got {config.portion}.")
        if config.rounds < 1:
            raise CropsError(f"ROUNDS must be at least 1, got {config.rounds}.")
        if not 0.0 <= config.ema < 1.0:
            raise CropsError(f"EMA must be in [0, 1), got {config.ema}.")
        if config.jitter < 0:
            raise CropsError(f"JITTER must be 0 or more, got {config.jitter}.")
        self.cfg = config
        self.teacher: EmaTeacher | None = None
        self.histogram: ConfidenceHistogram | None = None
        self.thresholds: Tensor | None = None
        self.round = 0
        self.round_length = 1
        self.class_names: list[str] = []
        self.labelled_share = 0.0
        self._generator = torch.Generator()
        self.alignment = DistributionAlignment()

    def trainable_parameters(self) -> list[nn.Parameter]:
        projection = {id(p) for p in self.student.projection_head.parameters()}  # unused by this loss
        return [p for p in self.student.parameters() if id(p) not in projection]

    def setup(self, context: AdaptationContext) -> None:
        self.class_names = context.meta.class_names
        if self.cfg.recalibrate_bn and not context.resuming:  # before the teacher, which copies the student
            recalibrate_on_blocks(self.student, context.dataset, None, self.cfg.batch_size, context.device,
                                  context.amp, context.progress)
        self.teacher = EmaTeacher(self.student, self.cfg.ema)
        self.round_length = max(1, math.ceil(context.total_steps / self.cfg.rounds))
        k = context.meta.num_classes
        if context.resuming:
            self.histogram = ConfidenceHistogram(k)
            self.thresholds = torch.full((k,), self.cfg.conf_threshold)
            return
        context.progress.log("Measuring the source model's confidence per class on the target (round 1 thresholds).")
        calibration, prior = calibrate(self.teacher.model, context, self.cfg.calibration_blocks)
        if self.cfg.distribution_alignment:
            self.alignment.start(torch.as_tensor(prior))
            log_distribution(context.progress, self.class_names, prior)
        self._refresh(calibration)
        self.histogram = ConfidenceHistogram(k)

    def _refresh(self, histogram: ConfidenceHistogram) -> None:
        self.thresholds = histogram.thresholds(self.cfg.portion, self.cfg.conf_threshold)
        shares = histogram.class_shares()
        parts = ", ".join(
            f"{n} {t:.3f} ({s:.1%} of pixels)"
            for n, t, s in zip(self.class_names, self.thresholds.tolist(), shares, strict=True)
        )
        self.progress.log(f"Round {self.round + 1} pseudo-label thresholds per class: {parts}")

    def loss(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        assert self.teacher is not None and self.histogram is not None and self.thresholds is not None
        x, valid = batch["image"], batch["valid"]
        probs = self.alignment(self.teacher.probabilities(x, self.cfg.amp), valid)
        self.histogram.update(probs, valid)
        labels, _ = pseudo_labels(probs, valid, self.thresholds)
        self._generator.manual_seed(int(self.cfg.seed) * 1_000_003 + step)
        view = photometric_jitter(x, valid, self.cfg.jitter, self._generator)
        with autocast(x.device, self.cfg.amp):
            logits = self.student(view).logits
        loss = masked_cross_entropy(logits, labels)
        valid_pixels = float(valid.sum())
        self.labelled_share = float((labels != IGNORE_INDEX).sum()) / valid_pixels if valid_pixels else 0.0
        return loss, {"ce": float(loss.detach()), "labelled": self.labelled_share}

    def after_step(self, step: int) -> None:
        assert self.teacher is not None and self.histogram is not None
        self.teacher.update(self.student, step)
        done = step + 1
        if done % self.round_length == 0 and done < self.cfg.iterations:
            self.round += 1
            self._refresh(self.histogram)
            self.histogram.reset()

    def model_to_save(self) -> nn.Module:
        assert self.teacher is not None
        return self.teacher.model

    def state_tensors(self) -> dict[str, Tensor]:
        assert self.teacher is not None and self.histogram is not None and self.thresholds is not None
        out = {f"teacher.{k}": v for k, v in self.teacher.state_dict().items()}
        out["thresholds"] = self.thresholds.clone()
        out["histogram"] = self.histogram.counts.clone()
        out.update({f"alignment.{k}": v for k, v in self.alignment.state_tensors().items()})
        return out

    def state_info(self) -> dict[str, Any]:
        return {"round": self.round}

    def load_state(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        assert self.teacher is not None and self.histogram is not None
        self.teacher.load_state_dict(split_prefixed(tensors, "teacher."))
        self.thresholds = tensors["thresholds"].float()
        self.histogram.counts = tensors["histogram"].double().clone()
        self.round = int(info.get("round", 0))
        self.alignment.load_state(split_prefixed(tensors, "alignment."))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rounds_done": self.round + 1}
        if self.thresholds is not None:
            out["thresholds"] = [round(float(t), 4) for t in self.thresholds.tolist()]
        if self.histogram is not None:
            out["pseudo_label_class_shares"] = [round(float(s), 4) for s in self.histogram.class_shares()]
        out["labelled_share"] = round(self.labelled_share, 4)
        if self.alignment.active:
            assert self.alignment.reference is not None
            out["aligned_class_distribution"] = [round(float(v), 4) for v in self.alignment.reference]
        return out


METHOD = SelfTraining

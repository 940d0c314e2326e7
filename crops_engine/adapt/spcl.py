"""SPCL, Semantic Prototypical Contrastive Learning: source-free adaptation with an EMA teacher, class
prototypes, ClassMix and a prototype contrastive loss, from the partition's easy blocks to its hard ones.

Why: under a domain shift the classifier's boundary moves, but the class clusters of the embedding space
move less. SPCL learns the teacher's pseudo-labels on mixed easy / hard blocks while pulling the
student's embeddings of hard pixels towards their class prototypes.

Set-up: the student's BatchNorm statistics are re-estimated on the target (RECALIBRATE_BN, AdaBN); the
teacher is its EMA (`teacher.EmaTeacher`); with DISTRIBUTION_ALIGNMENT the first teacher's class
distribution on the target (or, ALIGNMENT_REFERENCE source, the source model's before AdaBN) is
measured (`alignment`); the prototypes (`prototypes.PrototypeEstimator`)
start from one pass over the easy blocks. Each step takes an easy and a hard batch, and:

1. the teacher pseudo-labels both: probabilities (with DISTRIBUTION_ALIGNMENT aligned to that distribution), then with
   PROTOTYPE_RECTIFICATION weighted by prototype similarity (`prototypes.rectified`, ProDA);
   its confident easy pixels update the prototypes;
2. ClassMix pastes classes of easy block i onto hard block i (`classmix.class_mix`);
3. loss = the confidence-weighted cross-entropy of the mixed batch (MIX_WEIGHTING) + LAMBDA_CONTRAST x
   the prototype contrastive loss of its hard pixels (+ EASY_WEIGHT x the pseudo-label CE of the easy
   batch). The projection head runs on every PIXEL_STRIDE-th pixel only. CONTRAST_TARGETS soft (the
   default) makes the contrast reach every hard pixel of the mixed block, with the teacher's prototype
   similarities as soft targets weighted by its margin (`prototypes.soft_contrastive_loss`, where the
   design is argued); `confident` takes only the hard pixels of confident teacher labels.
   PROTOTYPE_MOMENTUM > 0 moves the prototypes after the first pass (exponential moving prototypes).
   CLASSMIX false (an ablation) learns the hard batch's own pseudo-labels instead of the mix.

PROTOTYPES probabilistic (PPPC, `pppc`) makes pixel embeddings and prototypes Gaussians: a variance head
beside the projection head, Gaussian prototypes from the easy pixels, and the mutual likelihood score in
place of embedding . prototype / TEMPERATURE in the contrastive loss and the rectification.

HARD_SCHEDULE linear (the default: the easy-to-hard curriculum) grows the share of hard blocks in the hard
batch from HARD_START; `constant` uses hard blocks only. A collapse watch
(`watch`) logs the pseudo-label class shares and warns of a fading class. The adapted checkpoint is the
teacher. What the defaults were chosen on: bench/results/adaptation_notes.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..commands import declared, declared_choices
from ..device import autocast
from ..distributed import world
from ..errors import CropsError
from ..losses import masked_cross_entropy
from ..metrics import IGNORE_INDEX
from .alignment import DistributionAlignment, class_distribution, log_distribution
from .classmix import WEIGHTINGS, class_mix, unmixed
from .curriculum import HARD_SCHEDULES, EasyBlocks, hard_count, hard_share
from .method import LOG_EVERY, AdaptationContext, AdaptationMethod, AdaptConfig, split_prefixed
from .pppc import (
    PROTOTYPE_KINDS,
    GaussianPrototypeEstimator,
    VarianceHead,
    dense_mutual_likelihood_score,
    forward_gaussian,
    variance_head_for,
)
from .prototypes import (
    PrototypeEstimator,
    dense_contrastive_loss,
    margin_weights,
    prototype_contrastive_loss,
    rectified,
    soft_contrastive_loss,
)
from .target import TargetBlocks
from .teacher import EmaTeacher, photometric_jitter, recalibrate_batchnorm, recalibrate_on_blocks
from .watch import CollapseWatch, max_similarity

__all__ = ["HARD_SCHEDULES", "SPCL", "EasyBlocks", "SpclConfig", "class_distribution", "hard_count", "hard_share",
           "recalibrate_batchnorm", "rectified"]

CONTRAST_TARGETS = declared_choices("adapt-spcl", "CONTRAST_TARGETS")
ALIGNMENT_REFERENCES = declared_choices("adapt-spcl", "ALIGNMENT_REFERENCE")


@dataclass
class SpclConfig(AdaptConfig):
    """Hyper-parameters of SPCL (defaults chosen on the synthetic suite of bench/adaptation.py).

    `split` is always `hard`: SPCL draws its hard batches from split/hard and its easy ones from split/easy.
    """

    lr: float = declared("adapt-spcl", "LR")
    ema: float = declared("adapt-spcl", "EMA")
    temperature: float = declared("adapt-spcl", "TEMPERATURE")
    conf_threshold: float = declared("adapt-spcl", "CONF_THRESHOLD")
    lambda_contrast: float = declared("adapt-spcl", "LAMBDA_CONTRAST")
    hard_schedule: str = declared("adapt-spcl", "HARD_SCHEDULE")
    # share of hard blocks in the hard batch at the first step (linear)
    hard_start: float = declared("adapt-spcl", "HARD_START")
    mix_weighting: str = declared("adapt-spcl", "MIX_WEIGHTING")
    # pseudo-label CE on the easy batch (a second student pass)
    easy_weight: float = declared("adapt-spcl", "EASY_WEIGHT")
    # photometric jitter of the student's mixed view (normalised units)
    jitter: float = declared("adapt-spcl", "JITTER")
    # blocks of the first passes (BN statistics, prototypes; 0: all of them)
    init_blocks: int = declared("adapt-spcl", "INIT_BLOCKS")
    # re-estimate BatchNorm statistics on the target before the first pseudo-labels
    recalibrate_bn: bool = declared("adapt-spcl", "RECALIBRATE_BN")
    # prototypes and the contrastive loss use every n-th pixel of each row and column
    pixel_stride: int = declared("adapt-spcl", "PIXEL_STRIDE")
    # hold the pseudo-labels' class distribution at the first teacher's
    distribution_alignment: bool = declared("adapt-spcl", "DISTRIBUTION_ALIGNMENT")
    # the distribution held: the first teacher's (after AdaBN) or the source model's (before it)
    alignment_reference: str = declared("adapt-spcl", "ALIGNMENT_REFERENCE")
    # paste easy-block classes onto the hard blocks; off: the student learns the hard blocks' own pseudo-labels
    classmix: bool = declared("adapt-spcl", "CLASSMIX")
    # weight the teacher's probabilities by prototype similarity (ProDA)
    prototype_rectification: bool = declared("adapt-spcl", "PROTOTYPE_RECTIFICATION")
    # point prototypes (embedding . prototype) or probabilistic ones (Gaussians compared by MLS, PPPC)
    prototypes: str = declared("adapt-spcl", "PROTOTYPES")
    # the contrast's pixels: confident hard ones with their label, or all hard ones with soft prototype targets
    contrast_targets: str = declared("adapt-spcl", "CONTRAST_TARGETS")
    # 0: prototypes are the cumulative mean; > 0: exponential moving prototypes after the first pass
    prototype_momentum: float = declared("adapt-spcl", "PROTOTYPE_MOMENTUM")

    def __post_init__(self) -> None:
        self.split = "hard"


def check_spcl_config(cfg: SpclConfig) -> None:
    """Raise a CropsError for the first SPCL setting that cannot work."""
    if not 0.0 <= cfg.ema < 1.0:
        raise CropsError(f"EMA must be in [0, 1), got {cfg.ema}.")
    if not cfg.temperature > 0:
        raise CropsError(f"TEMPERATURE must be positive, got {cfg.temperature}.")
    if not 0.0 <= cfg.conf_threshold < 1.0:
        raise CropsError(f"CONF_THRESHOLD must be in [0, 1), got {cfg.conf_threshold}.")
    if cfg.lambda_contrast < 0:
        raise CropsError(f"LAMBDA_CONTRAST must be 0 or more, got {cfg.lambda_contrast}.")
    if cfg.hard_schedule not in HARD_SCHEDULES:
        raise CropsError(f"HARD_SCHEDULE {cfg.hard_schedule!r} is not one of {', '.join(HARD_SCHEDULES)}.")
    if not 0.0 <= cfg.hard_start <= 1.0:
        raise CropsError(f"HARD_START must be a share in [0, 1], got {cfg.hard_start}.")
    if cfg.mix_weighting not in WEIGHTINGS:
        raise CropsError(f"MIX_WEIGHTING {cfg.mix_weighting!r} is not one of {', '.join(WEIGHTINGS)}.")
    if cfg.easy_weight < 0:
        raise CropsError(f"EASY_WEIGHT must be 0 or more, got {cfg.easy_weight}.")
    if cfg.jitter < 0:
        raise CropsError(f"JITTER must be 0 or more, got {cfg.jitter}.")
    if cfg.pixel_stride < 1:
        raise CropsError(f"PIXEL_STRIDE must be 1 (every pixel) or more, got {cfg.pixel_stride}.")
    if cfg.init_blocks < 0:
        raise CropsError(f"INIT_BLOCKS must be 0 (all blocks) or more, got {cfg.init_blocks}.")
    if cfg.prototypes not in PROTOTYPE_KINDS:
        raise CropsError(f"PROTOTYPES {cfg.prototypes!r} is not one of {', '.join(PROTOTYPE_KINDS)}.")
    if cfg.alignment_reference not in ALIGNMENT_REFERENCES:
        raise CropsError(f"ALIGNMENT_REFERENCE {cfg.alignment_reference!r} is not one of "
                         f"{', '.join(ALIGNMENT_REFERENCES)}.")
    if cfg.contrast_targets not in CONTRAST_TARGETS:
        raise CropsError(f"CONTRAST_TARGETS {cfg.contrast_targets!r} is not one of {', '.join(CONTRAST_TARGETS)}.")
    if not 0.0 <= cfg.prototype_momentum < 1.0:
        raise CropsError(
            f"PROTOTYPE_MOMENTUM must be in [0, 1) (0: the cumulative mean), got {cfg.prototype_momentum}."
        )
    if cfg.prototype_momentum > 0 and cfg.prototypes != "point":
        raise CropsError(f"PROTOTYPE_MOMENTUM {cfg.prototype_momentum:g} needs PROTOTYPES point: probabilistic "
                         "prototypes are exact running sums; set PROTOTYPE_MOMENTUM 0 or PROTOTYPES point.")


class SPCL(AdaptationMethod):
    name = "spcl"
    config_class = SpclConfig

    def __init__(self, config: SpclConfig, student: nn.Module, progress: Any) -> None:
        super().__init__(config, student, progress)
        check_spcl_config(config)
        self.cfg = config
        self.teacher: EmaTeacher | None = None
        self.prototypes: PrototypeEstimator | None = None
        self.easy: EasyBlocks | None = None
        self.class_names: list[str] = []
        self.num_classes = int(student.num_classes)
        self.total_steps = int(config.iterations)
        self.device = torch.device("cpu")
        self.amp = False
        self._generator = torch.Generator()
        self.alignment = DistributionAlignment()
        self.watch: CollapseWatch | None = None
        self.init_pixels = 0
        self._prototypes_seen = False
        self.probabilistic = config.prototypes == "probabilistic"
        # PPPC: the student's variance head (trained with it) and its EMA, the teacher's
        self.variance_head: VarianceHead | None = (variance_head_for(student, config.temperature / 2)
                                                   if self.probabilistic else None)
        self.teacher_variance: EmaTeacher | None = None
        self.last_variance = float("nan")
        self._teacher_log_var: Tensor | None = None  # of the last teacher view with an embedding (PPPC)
        self.soft_contrast = config.contrast_targets == "soft"
        self._teacher_margin: Tensor | None = None  # of the last teacher view (CONTRAST_TARGETS soft)

    def trainable_parameters(self) -> list[nn.Parameter]:
        params = super().trainable_parameters()
        if self.variance_head is not None:
            params += list(self.variance_head.parameters())
        return params

    # -- set-up --------------------------------------------------------------------------------
    def setup(self, context: AdaptationContext) -> None:
        self.device, self.amp = context.device, context.amp
        self.total_steps = context.total_steps
        meta = context.meta
        self.class_names = meta.class_names
        self.watch = CollapseWatch(self.class_names, self.progress)
        store = context.dataset.store
        easy = store.split("easy") if "easy" in store.splits else np.zeros(0, dtype=np.int64)
        if len(easy) == 0:
            raise CropsError(
                f"The target block store {store.path} has no easy block: SPCL needs both easy and hard blocks; "
                "run partition again with a larger EASY_FRACTION (or a lower SCORE_THRESHOLD)."
            )
        mean, std = meta.normalisation["mean"], meta.normalisation["std"]
        dataset = TargetBlocks(store, mean, std, easy)
        self.easy = EasyBlocks(dataset, seed=self.cfg.seed + 1, per_step=2 * self.cfg.batch_size)
        everything = TargetBlocks(store, mean, std, np.concatenate([easy, context.dataset.indices]))
        align_to_source = self.cfg.distribution_alignment and self.cfg.alignment_reference == "source"
        if align_to_source and not context.resuming:  # the source model's distribution, before AdaBN moves it
            self._initial_distribution(self.student, everything, context)
        if self.cfg.recalibrate_bn and not context.resuming:
            self._recalibrate(everything, context)
        self.teacher = EmaTeacher(self.student, self.cfg.ema)
        dim = int(self.student.embedding_dim)
        if self.variance_head is not None:
            self.variance_head.to(self.device).train()
            self.teacher_variance = EmaTeacher(self.variance_head, self.cfg.ema)
            self.prototypes = GaussianPrototypeEstimator(self.num_classes, dim, self.device)
        else:
            self.prototypes = PrototypeEstimator(self.num_classes, dim, self.device)
        if not context.resuming:  # else the teacher, prototypes, class distributions and watch come from the state
            if self.cfg.distribution_alignment and not align_to_source:  # first: prototypes from aligned labels
                self._initial_distribution(self.teacher.model, everything, context)
            self._initial_prototypes(dataset, context)
        # The first pass's prototypes are the exact mean (the source model does not change during it); the steps'
        # updates then move them with PROTOTYPE_MOMENTUM (0: the cumulative mean goes on).
        self.prototypes.momentum = float(self.cfg.prototype_momentum)

    def _positions(self, n: int, stream: int) -> np.ndarray:
        """Dataset positions of a first pass: all `n`, or INIT_BLOCKS of them drawn for the seed."""
        if 0 < self.cfg.init_blocks < n:
            rng = np.random.default_rng([int(self.cfg.seed), stream])
            return np.sort(rng.choice(n, size=self.cfg.init_blocks, replace=False))
        return np.arange(n)

    def _recalibrate(self, dataset: TargetBlocks, context: AdaptationContext) -> None:
        """AdaBN on the target blocks (up to INIT_BLOCKS of them), before the first teacher exists."""
        recalibrate_on_blocks(self.student, dataset, self._positions(len(dataset), 13), self.cfg.batch_size,
                              self.device, self.amp, context.progress)

    def _first_pass(
        self, dataset: TargetBlocks, positions: np.ndarray, context: AdaptationContext, text: str
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """(images, valid) of the blocks at `positions`, BATCH_SIZE at a time on the device, with progress."""
        bs = self.cfg.batch_size * world().size  # set-up passes run alike on every process: the global batch
        for start in range(0, len(positions), bs):
            context.progress(start / max(len(positions), 1), text)
            samples = [dataset[int(p)] for p in positions[start : start + bs]]
            yield (torch.stack([s["image"] for s in samples]).to(self.device),
                   torch.stack([s["valid"] for s in samples]).to(self.device))

    @torch.no_grad()
    def _initial_prototypes(self, dataset: TargetBlocks, context: AdaptationContext) -> None:
        """One pass of the source model over the easy blocks (up to INIT_BLOCKS) starts the prototypes."""
        assert self.teacher is not None and self.prototypes is not None
        positions = self._positions(len(dataset), 11)
        context.progress.log(f"Class prototypes: first pass of the source model over {len(positions)} easy blocks.")
        for x, valid in self._first_pass(dataset, positions, context, "Initial class prototypes"):
            _, confident, _, embedding = self._teacher_view(x, valid)
            self._update_prototypes(embedding, confident, self._teacher_log_var)
        counts = self.prototypes.count.cpu().numpy()
        self.init_pixels = int(counts.sum())
        parts = ", ".join(f"{c} {int(v)}" for c, v in zip(self.class_names, counts, strict=True))
        context.progress.log(f"Confident easy pixels per class (CONF_THRESHOLD {self.cfg.conf_threshold:g}): {parts}")
        missing = [c for c, v in zip(self.class_names, counts, strict=True) if v == 0]
        if missing:
            context.progress.warn(
                f"No confident easy pixel of {', '.join(missing)}: no prototype for them yet (one appears once the "
                "teacher labels such pixels confidently); lower CONF_THRESHOLD if it stays missing."
            )

    @torch.no_grad()
    def _initial_distribution(self, model: nn.Module, dataset: TargetBlocks, context: AdaptationContext) -> None:
        """One pass of `model` (the first teacher, or the source model with ALIGNMENT_REFERENCE source) over the
        target blocks (up to INIT_BLOCKS): the class distribution of its predictions is the one the pseudo-labels
        are held at (DISTRIBUTION_ALIGNMENT)."""
        was_training = model.training
        model.eval()
        positions = self._positions(len(dataset), 17)
        total = torch.zeros(self.num_classes, dtype=torch.float64)
        for x, valid in self._first_pass(dataset, positions, context, "Class distribution of the target"):
            with autocast(x.device, self.amp):
                logits = model(x, embed=False).logits
            total += class_distribution(logits.float().softmax(dim=1), valid).cpu() * float(valid.sum())
        model.train(was_training)
        if float(total.sum()) <= 0:
            return  # no valid pixel: nothing to align to (the steps then find none either)
        self.alignment.start(total / total.sum())
        assert self.alignment.reference is not None
        log_distribution(context.progress, self.class_names, self.alignment.reference.tolist())

    # -- one step --------------------------------------------------------------------------------
    @torch.no_grad()
    def _teacher_view(
        self, x: Tensor, valid: Tensor, embed: bool = True
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """The teacher on `x`: (argmax labels, the same where confident else IGNORE, confidence,
        embedding or None when `embed` is False: the projection head then runs only for the rectification).
        The embedding is on the PIXEL_STRIDE grid; so is `confident`, the labels of its pixels, when `embed`."""
        assert self.teacher is not None and self.prototypes is not None
        rectify = self.cfg.prototype_rectification and self._have_prototypes()
        log_var = None
        with autocast(x.device, self.amp):
            if self.teacher_variance is not None:
                logits, embedding, log_var = forward_gaussian(self.teacher.model, self.teacher_variance.model, x,
                                                              embed or rectify, self.cfg.pixel_stride)
            else:
                logits, embedding = self.teacher.model(x, embed or rectify, self.cfg.pixel_stride)
        probs = self.alignment(logits.float().softmax(dim=1), valid)
        if rectify:
            assert embedding is not None
            similarity = self._similarity(embedding.float(), log_var)
            probs = rectified(probs, None, None, self.prototypes.initialised, self.cfg.temperature,
                              self.cfg.pixel_stride, logits=similarity)
        self._teacher_log_var = None if log_var is None or not embed else log_var.float()
        if not embed:
            embedding = None
        self._teacher_margin = margin_weights(probs) if self.soft_contrast else None
        confidence, labels = probs.max(dim=1)
        valid = valid.bool()
        ignore = torch.full_like(labels, IGNORE_INDEX)
        labels = torch.where(valid, labels, ignore)
        confident = torch.where(confidence >= self.cfg.conf_threshold, labels, ignore)
        if embedding is None:
            return labels, confident, confidence, None
        step = self.cfg.pixel_stride
        return labels, confident[..., ::step, ::step], confidence, embedding.float()

    def _similarity(self, embedding: Tensor, log_var: Tensor | None) -> Tensor:
        """(N, K, h, w) pixel-to-prototype logits: embedding . prototype / TEMPERATURE, or with probabilistic
        prototypes the mutual likelihood score of the pixel's and the prototype's Gaussians (`pppc`)."""
        assert self.prototypes is not None
        if isinstance(self.prototypes, GaussianPrototypeEstimator):
            assert log_var is not None
            return dense_mutual_likelihood_score(embedding, log_var.float(), self.prototypes.prototypes(),
                                                 self.prototypes.variance())
        from .prototypes import dense_prototype_logits

        return dense_prototype_logits(embedding, self.prototypes.prototypes(), self.cfg.temperature)

    def _update_prototypes(self, embedding: Tensor, confident: Tensor, log_var: Tensor | None) -> None:
        """Fold the teacher's confident easy pixels into the prototypes (Gaussians: with their variance)."""
        assert self.prototypes is not None
        if isinstance(self.prototypes, GaussianPrototypeEstimator):
            assert log_var is not None
            self.prototypes.update(embedding, confident, log_var=log_var)
        else:
            self.prototypes.update(embedding, confident)

    def _have_prototypes(self) -> bool:
        """Whether any class has a prototype yet; asked of the device only until one has (counts never fall)."""
        assert self.prototypes is not None
        if not self._prototypes_seen:
            self._prototypes_seen = bool(self.prototypes.initialised.any())
        return self._prototypes_seen

    def hard_batch(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, Tensor, float]:
        """The step's hard batch: the runner's hard blocks, the curriculum's share of them, easy blocks after."""
        assert self.easy is not None
        x, valid = batch["image"], batch["valid"]
        b = x.shape[0]
        share = hard_share(self.cfg.hard_schedule, self.cfg.hard_start, step, self.total_steps)
        # The share is of the global batch (under torchrun process r holds its places r*b .. r*b+b-1): the same
        # hard blocks and easy fill as one process of the global batch, whatever the number of processes.
        rank, world_size = self.easy.rank, self.easy.world_size
        n_global = hard_count(share, b * world_size)
        n_hard = min(max(n_global - rank * b, 0), b)
        if n_hard < b:
            offsets = range(rank * b + n_hard - n_global, rank * b + b - n_global)
            fill_x, fill_valid = self.easy.draw_fill(step, offsets)
            x = torch.cat([x[:n_hard], fill_x.to(x.device)])
            valid = torch.cat([valid[:n_hard], fill_valid.to(valid.device)])
        return x, valid, n_global / (b * world_size)

    def loss(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        assert self.teacher is not None and self.prototypes is not None and self.easy is not None
        cfg = self.cfg
        hard_x, hard_valid, share = self.hard_batch(batch, step)
        b = hard_x.shape[0]
        easy_x, easy_valid = self.easy.draw(step, 0, b)
        easy_x, easy_valid = easy_x.to(hard_x.device), easy_valid.to(hard_x.device)

        # Two passes of B rather than one of 2B: on CPUs the larger batch is slower than two, and the
        # hard half returns no embedding (the projection head runs there only for the rectification).
        easy_labels, easy_confident, easy_confidence, embedding = self._teacher_view(easy_x, easy_valid)
        easy_log_var = self._teacher_log_var  # the easy pixels' variances (PPPC; None with point prototypes)
        # CONTRAST_TARGETS soft: the teacher's hard embedding gives the targets, its margin the weights
        hard_labels, hard_confident, hard_confidence, hard_embedding = self._teacher_view(
            hard_x, hard_valid, embed=self.soft_contrast)
        hard_log_var, hard_margin = self._teacher_log_var, self._teacher_margin
        assert embedding is not None
        self._update_prototypes(embedding, easy_confident, easy_log_var)
        if self.watch is not None:
            self.watch.count(easy_labels)
            self.watch.count(hard_labels)

        self._generator.manual_seed(int(cfg.seed) * 1_000_003 + step)
        if cfg.classmix:
            mixed = class_mix(
                easy_x, easy_valid, easy_labels, easy_confidence,
                hard_x, hard_valid, hard_labels, hard_confidence,
                self.num_classes, self._generator, cfg.mix_weighting, cfg.conf_threshold,
            )
        else:  # the ablation: the hard blocks alone, weighted alike (nothing pasted)
            mixed = unmixed(hard_x, hard_valid, hard_labels, hard_confidence, cfg.mix_weighting, cfg.conf_threshold)
        view = photometric_jitter(mixed.image, mixed.valid, cfg.jitter, self._generator)
        if cfg.easy_weight > 0:
            easy_view = photometric_jitter(easy_x, easy_valid, cfg.jitter, self._generator)
            view = torch.cat([view, easy_view])
        student_log_var = None
        with autocast(view.device, self.amp):
            if self.variance_head is not None:
                logits, student_embedding, student_log_var = forward_gaussian(self.student, self.variance_head, view,
                                                                              True, cfg.pixel_stride)
            else:
                logits, student_embedding = self.student(view, True, cfg.pixel_stride)
        assert student_embedding is not None
        logits, student_embedding = logits.float(), student_embedding.float()
        step = cfg.pixel_stride

        mix_ce = masked_cross_entropy(logits[:b], mixed.labels, mixed.weight)
        contrast_labels, contrast_mask = hard_confident[..., ::step, ::step], ~mixed.mask[..., ::step, ::step]
        if student_log_var is not None:
            student_log_var = student_log_var.float()[:b]
            self.last_variance = float(student_log_var.detach().exp().mean())
        if self.soft_contrast:  # every valid hard pixel of the mixed block, soft target, margin weight
            assert hard_embedding is not None and hard_margin is not None
            pixels = contrast_mask & (hard_labels[..., ::step, ::step] != IGNORE_INDEX)
            contrast = soft_contrastive_loss(
                self._similarity(student_embedding[:b], student_log_var),
                self._similarity(hard_embedding, hard_log_var),
                hard_margin[..., ::step, ::step], pixels, self.prototypes.initialised,
            )
        elif student_log_var is not None:  # PPPC: the MLS of the student's Gaussians against the prototypes
            contrast = dense_contrastive_loss(
                self._similarity(student_embedding[:b], student_log_var), contrast_labels, contrast_mask,
                self.prototypes.initialised,
            )
        else:
            contrast = prototype_contrastive_loss(
                student_embedding[:b], contrast_labels, self.prototypes.prototypes(), cfg.temperature,
                mask=contrast_mask, known=self.prototypes.initialised,
            )
        loss = mix_ce + cfg.lambda_contrast * contrast
        terms = {"mix_ce": float(mix_ce.detach()), "contrast": float(contrast.detach())}
        if cfg.easy_weight > 0:
            easy_ce = masked_cross_entropy(logits[b:], easy_labels, easy_confidence)
            loss = loss + cfg.easy_weight * easy_ce
            terms["easy_ce"] = float(easy_ce.detach())
        hard_valid_pixels = float(hard_valid.sum())
        terms["confident"] = float((hard_confident != IGNORE_INDEX).sum()) / max(hard_valid_pixels, 1.0)
        terms["hard_share"] = share
        if student_log_var is not None:
            terms["pixel_variance"] = self.last_variance
        return loss, terms

    def after_step(self, step: int) -> None:
        assert self.teacher is not None and self.prototypes is not None
        self.teacher.update(self.student, step)
        if self.teacher_variance is not None and self.variance_head is not None:
            self.teacher_variance.update(self.variance_head, step)
        done = step + 1
        if self.watch is not None and (done % LOG_EVERY == 0 or done == self.total_steps):
            self.watch.report(done, self.prototypes)

    # -- saving and resuming ---------------------------------------------------------------------
    def model_to_save(self) -> nn.Module:
        assert self.teacher is not None
        return self.teacher.model

    def state_tensors(self) -> dict[str, Tensor]:
        assert self.teacher is not None and self.prototypes is not None and self.watch is not None
        out = {f"teacher.{k}": v for k, v in self.teacher.state_dict().items()}
        out.update({f"prototypes.{k}": v for k, v in self.prototypes.state_dict().items()})
        out["watch.window"] = self.watch.window.clone()
        out.update({f"alignment.{k}": v for k, v in self.alignment.state_tensors().items()})
        if self.variance_head is not None and self.teacher_variance is not None:
            out.update({f"variance_head.{k}": v for k, v in self.variance_head.state_dict().items()})
            out.update({f"teacher_variance.{k}": v for k, v in self.teacher_variance.state_dict().items()})
        return out

    def state_info(self) -> dict[str, Any]:
        assert self.watch is not None
        return {**self.watch.state_info(), "init_pixels": self.init_pixels}

    def load_state(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        assert self.teacher is not None and self.prototypes is not None and self.watch is not None
        self.teacher.load_state_dict(split_prefixed(tensors, "teacher."))
        self.prototypes.load_state_dict(split_prefixed(tensors, "prototypes."))
        self.prototypes.to(self.device)
        self.watch.load_state(tensors["watch.window"], info)
        self.alignment.load_state(split_prefixed(tensors, "alignment."))
        self.init_pixels = int(info.get("init_pixels", 0))
        if self.variance_head is not None and self.teacher_variance is not None:
            self.variance_head.load_state_dict(split_prefixed(tensors, "variance_head."))
            self.teacher_variance.load_state_dict(split_prefixed(tensors, "teacher_variance."))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"init_prototype_pixels": self.init_pixels}
        if self.prototypes is not None:
            out["prototype_norms"] = [round(float(v), 4) for v in self.prototypes.norms().tolist()]
            out["prototype_pixels"] = [int(v) for v in self.prototypes.count.tolist()]
            out["prototype_max_similarity"] = round(max_similarity(self.prototypes), 4)
            if isinstance(self.prototypes, GaussianPrototypeEstimator):
                var = self.prototypes.variance().mean(dim=1)
                out["prototype_variances"] = [round(float(v), 6) for v in var.tolist()]
                out["pixel_variance"] = None if math.isnan(self.last_variance) else round(self.last_variance, 6)
        watch = self.watch
        shares = watch.last_shares if watch is not None else np.zeros(self.num_classes)
        out["pseudo_label_class_shares"] = [round(float(v), 4) for v in shares]
        if self.alignment.active:
            assert self.alignment.reference is not None and self.alignment.running is not None
            out["aligned_class_distribution"] = [round(float(v), 4) for v in self.alignment.reference]
            out["predicted_class_distribution"] = [round(float(v), 4) for v in self.alignment.running]
        if watch is not None and watch.reference is not None:
            out["first_pseudo_label_class_shares"] = [round(float(v), 4) for v in watch.reference]
        return out


METHOD = SPCL

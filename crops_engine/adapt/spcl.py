"""SPCL, Semantic Prototypical Contrastive Learning: the method's source-free adaptation step.

The student starts as the source model, its BatchNorm statistics first re-estimated on the target
blocks (RECALIBRATE_BN, AdaBN: without it the first pseudo-labels carry the source statistics and
are far worse under a strong shift); the teacher is its EMA (`common.EmaTeacher`, momentum
min(1 - 1/(step + 1), EMA), eval mode). Every step takes an easy batch (from the store's
`split/easy`) and a hard batch (`split/hard`), both flipped / rotated at random, and:

1. the teacher predicts both: argmax pseudo-labels, confidences (max probability) and embeddings;
   with DISTRIBUTION_ALIGNMENT (default) its probabilities are first multiplied by reference / running
   class distribution and renormalised (ReMixMatch's distribution alignment): the reference is the
   first teacher's mean prediction over the target blocks, the running one follows the teacher's raw
   predictions. Self-training otherwise drifts toward the classes it already favours: on a synthetic
   pair grassland pseudo-labels fell from 16% to 7% of the pixels in 200 steps (true share 23%).
   With PROTOTYPE_RECTIFICATION (default) they are then multiplied by each pixel's softmax over the
   classes of embedding . prototype / TEMPERATURE and renormalised (ProDA's online rectification,
   `rectified`): the classifier's boundary moves with the shift, but the class clusters in the
   embedding space move less, so a pixel whose embedding lies by another class's prototype loses
   confidence or changes label. On the synthetic suite's tuning seeds this lifted mIoU at all three
   shift strengths (+0.013, +0.006, +0.008), most at the mildest, where the source model's
   confident mistakes (grassland taken for maize) are what self-training otherwise locks in;
2. class prototypes (K x D, projection-head space) are the exact running means of the teacher's
   L2-normalised embeddings of easy pixels whose confidence reaches CONF_THRESHOLD
   (`prototypes.PrototypeEstimator`), started by one pass of the first teacher over the easy blocks;
3. confidence-weighted ClassMix (`classmix.class_mix`): the pixels of randomly chosen classes of
   easy block i are pasted, image and pseudo-label, onto hard block i; the student's cross-entropy
   on the mixed batch is weighted by the mixed block's share of confident pixels (MIX_WEIGHTING
   share, the default, as in DACS) or per pixel by the teacher's confidence (confidence);
4. prototype contrastive loss on the student's embeddings of the hard pixels of that same mixed
   batch (the pixels that came from the hard block) whose teacher confidence reaches
   CONF_THRESHOLD: cross-entropy of (embedding . normalised prototypes^T / TEMPERATURE) against the
   teacher's pseudo-labels. Reusing the mixed forward pass keeps a step at one student pass, and
   the projection head runs on every PIXEL_STRIDE-th pixel of each row and column only (prototypes
   and contrastive loss alike; 2 by default, a quarter of the pixels: a regular sample of the
   block, where the head at full resolution would cost as much as the rest of the backward pass);
5. loss = mix CE + LAMBDA_CONTRAST x contrastive (+ EASY_WEIGHT x the pseudo-label CE of the easy
   batch, off by default as it costs a second student pass); AdamW with warm-up + cosine decay and
   AMP on CUDA come from `common.run_adaptation`, as do checkpoints, cancel and resume.

Curriculum (HARD_SCHEDULE): `constant` (default) puts only hard blocks in the hard batch, from the
first step; `linear` fills it with HARD_START of hard blocks at the first step, the rest easy
blocks, growing linearly to all hard blocks at the last step, so the student meets the least
familiar blocks once the teacher has adapted to the easier ones. On the synthetic suite the two
were within noise (constant a little ahead), so the default keeps the simpler one.

Collapse watch: every LOG_EVERY steps the log gets the teacher's pseudo-label class shares on the
batches seen, the prototype norms (a tight class is near 1) and the highest cosine similarity
between two prototypes, also as metrics; a warning names a class whose share fell under a quarter
of its share in the first steps. The adapted checkpoint is the teacher.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..batches import BatchStream
from ..device import autocast
from ..errors import CropsError
from ..models.heads import pad_to_multiple
from .classmix import WEIGHTINGS, class_mix
from .common import (
    IGNORE_INDEX,
    LOG_EVERY,
    AdaptationContext,
    AdaptationMethod,
    AdaptConfig,
    EmaTeacher,
    TargetBlocks,
    cross_entropy,
    photometric_jitter,
    split_prefixed,
)
from .prototypes import PrototypeEstimator, dense_prototype_logits, prototype_contrastive_loss

HARD_SCHEDULES = ("linear", "constant")
COLLAPSE_RATIO = 0.25  # warn when a class's pseudo-label share falls under this part of its first share
RECALIBRATION_BATCHES = 4  # BatchNorm re-estimation batches hold this many times BATCH_SIZE blocks
ALIGNMENT_MOMENTUM = 0.99  # running class distribution of the teacher's predictions (two batches a step)


@dataclass
class SpclConfig(AdaptConfig):
    """Hyper-parameters of SPCL (defaults chosen on the synthetic suite of bench/adaptation.py).

    `split` is always `hard`: SPCL draws its hard batches from split/hard and its easy ones from split/easy.
    """

    lr: float = 1e-4
    ema: float = 0.999
    temperature: float = 0.1
    conf_threshold: float = 0.9
    lambda_contrast: float = 1.0
    hard_schedule: str = "constant"
    hard_start: float = 0.5  # share of hard blocks in the hard batch at the first step (linear)
    mix_weighting: str = "share"
    easy_weight: float = 0.0  # pseudo-label CE on the easy batch (a second student pass)
    jitter: float = 0.0  # photometric jitter of the student's mixed view (normalised units)
    init_blocks: int = 0  # blocks of the first passes (BN statistics, prototypes; 0: all of them)
    recalibrate_bn: bool = True  # re-estimate BatchNorm statistics on the target before the first pseudo-labels
    pixel_stride: int = 2  # prototypes and the contrastive loss use every n-th pixel of each row and column
    distribution_alignment: bool = True  # hold the pseudo-labels' class distribution at the first teacher's
    prototype_rectification: bool = True  # weight the teacher's probabilities by prototype similarity (ProDA)

    def __post_init__(self) -> None:
        self.split = "hard"


def hard_share(schedule: str, start: float, step: int, total_steps: int) -> float:
    """Share of hard blocks in the hard batch at `step` (0-based) of `total_steps`."""
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        t = step / max(total_steps - 1, 1)
        return float(start + (1.0 - start) * min(max(t, 0.0), 1.0))
    raise CropsError(f"HARD_SCHEDULE {schedule!r} is not one of {', '.join(HARD_SCHEDULES)}.")


def hard_count(share: float, batch_size: int) -> int:
    """Hard blocks in a batch of `batch_size` at a hard `share` (rounded, at least one when the share is > 0)."""
    n = int(np.floor(share * batch_size + 0.5))
    if share > 0:
        n = max(n, 1)
    return min(max(n, 0), batch_size)


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


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[Tensor], amp: bool = False) -> int:
    """Replace every BatchNorm layer's running statistics by their plain average over `batches` (AdaBN).

    The model runs in train mode without gradients; its mode and the layers' momentum are restored.
    Returns the number of batches seen (0 leaves the statistics as they were).
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
              and m.track_running_stats and m.running_mean is not None]
    if not layers:
        return 0
    saved = [(m.momentum, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in layers]
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    model.train()
    seen = 0
    try:
        for x in batches:
            with autocast(x.device, amp):
                model(x)
            seen += 1
    finally:
        for m, (momentum, mean, var, count) in zip(layers, saved, strict=True):
            m.momentum = momentum
            if seen == 0:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)
        model.train(was_training)
    return seen


def segment(model: nn.Module, x: Tensor, embed: bool = True, stride: int = 1) -> tuple[Tensor, Tensor | None]:
    """(logits, embedding) of a `SegmentationModel` as its forward gives them, except that the projection
    head (a sizeable share of a pass at full resolution, forward and backward) runs only when `embed`, and
    then on every `stride`-th pixel of each row and column: embedding (N, D, ceil(H/stride), ceil(W/stride)).
    A model without `decode` is simply called (and its embedding subsampled)."""
    if not hasattr(model, "decode"):
        out = model(x)
        return out.logits, (out.embedding[..., ::stride, ::stride] if embed else None)
    height, width = x.shape[-2:]
    features = model.decode(pad_to_multiple(x, model.size_divisor))[..., :height, :width]
    logits = model.segmentation_head(features)
    return logits, (model.projection_head(features[..., ::stride, ::stride]) if embed else None)


def rectified(probs: Tensor, embedding: Tensor, prototypes: Tensor, known: Tensor, temperature: float,
              stride: int) -> Tensor:
    """Probabilities (N, K, H, W) times each pixel's softmax over the classes of embedding . prototype / temperature,
    renormalised (ProDA's online pseudo-label rectification): a pixel the classifier gives to one class but whose
    embedding lies by another class's prototype loses confidence, or changes label. `embedding` is on the
    `stride` grid; classes without a prototype (`known` False) keep a neutral weight of 1 / K."""
    k = probs.shape[1]
    weight = dense_prototype_logits(embedding, prototypes, temperature)
    known = known.to(weight.device)
    weight = weight.masked_fill(~known[None, :, None, None], float("-inf")).softmax(dim=1)
    weight = weight * (known.sum().to(weight.dtype) / k)  # known classes share what unknown ones leave (1 / K each)
    weight = torch.where(known[None, :, None, None], weight, torch.full_like(weight, 1.0 / k))
    if stride > 1:
        weight = weight.repeat_interleave(stride, dim=2).repeat_interleave(stride, dim=3)
    weight = weight[..., : probs.shape[2], : probs.shape[3]]
    out = probs * weight
    return out / out.sum(dim=1, keepdim=True).clamp_min(1e-12)


def class_distribution(probs: Tensor, valid: Tensor) -> Tensor:
    """Mean class probability (K,) over the valid pixels of (N, K, H, W) probabilities (float64)."""
    weight = valid.to(probs.dtype)[:, None]
    return ((probs * weight).sum(dim=(0, 2, 3)) / weight.sum().clamp_min(1.0)).double()


class EasyBlocks:
    """The easy blocks as a deterministic stream: sample j of step s depends only on (seed, s, j),
    so a resumed run draws the very blocks an uninterrupted one would."""

    def __init__(self, dataset: TargetBlocks, seed: int, per_step: int) -> None:
        self.stream = BatchStream(dataset, 1, seed=seed, augment=True)
        self.per_step = int(per_step)

    def draw(self, step: int, first: int, count: int) -> tuple[Tensor, Tensor]:
        """(images (count, C, H, W), valid (count, H, W)): samples first .. first+count-1 of `step`."""
        samples = [self.stream.batch(step * self.per_step + first + j) for j in range(count)]
        return torch.cat([s["image"] for s in samples]), torch.cat([s["valid"] for s in samples])


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
        k = self.num_classes
        self._window = torch.zeros(k, dtype=torch.float64)  # teacher pseudo-labels per class, this window
        self._reference: np.ndarray | None = None  # class shares of the first window
        self._last_shares = np.zeros(k)
        self._warned: set[int] = set()
        self.init_pixels = 0
        self._reference_distribution: Tensor | None = None  # float64 (K,), CPU
        self._running_distribution: Tensor | None = None
        self._prototypes_seen = False

    # -- set-up --------------------------------------------------------------------------------
    def setup(self, context: AdaptationContext) -> None:
        self.device, self.amp = context.device, context.amp
        self.total_steps = context.total_steps
        meta = context.meta
        self.class_names = meta.class_names
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
        if self.cfg.recalibrate_bn and not context.resuming:
            self._recalibrate(everything, context)
        self.teacher = EmaTeacher(self.student, self.cfg.ema)
        self.prototypes = PrototypeEstimator(self.num_classes, int(self.student.embedding_dim), self.device)
        if context.resuming:
            return  # teacher, prototypes, class distributions and the collapse watch come from the resume state
        if self.cfg.distribution_alignment:  # first, so the prototypes start from aligned pseudo-labels
            self._initial_distribution(everything, context)
        self._initial_prototypes(dataset, context)

    def _positions(self, n: int, stream: int) -> np.ndarray:
        """Dataset positions of a first pass: all `n`, or INIT_BLOCKS of them drawn for the seed."""
        if 0 < self.cfg.init_blocks < n:
            rng = np.random.default_rng([int(self.cfg.seed), stream])
            return np.sort(rng.choice(n, size=self.cfg.init_blocks, replace=False))
        return np.arange(n)

    def _recalibrate(self, dataset: TargetBlocks, context: AdaptationContext) -> None:
        """Re-estimate the student's BatchNorm statistics on target blocks (AdaBN) so the first teacher,
        its pseudo-labels and the prototypes see target, not source, feature statistics."""
        positions = self._positions(len(dataset), 13)
        context.progress.log(f"Re-estimating BatchNorm statistics on {len(positions)} target blocks.")
        n = len(positions)
        # Large batches (no gradient is kept): the statistics are averages of per-batch ones, and a batch
        # of a few neighbouring blocks underestimates the variance (4x BATCH_SIZE was clearly better than
        # 1x on the synthetic suite). Near-equal sizes, none of a single block where there are two or
        # more: one sample can leave a deep BatchNorm layer one value per channel, which train mode refuses.
        size = self.cfg.batch_size * RECALIBRATION_BATCHES
        parts = np.array_split(positions, max(1, min(-(-n // size), n // 2)))

        def batches():
            for k, part in enumerate(parts):
                context.progress(k / len(parts), "BatchNorm statistics on the target")
                yield torch.stack([dataset[int(p)]["image"] for p in part]).to(self.device)

        recalibrate_batchnorm(self.student, batches(), self.amp)

    def _first_pass(
        self, dataset: TargetBlocks, positions: np.ndarray, context: AdaptationContext, text: str
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """(images, valid) of the blocks at `positions`, BATCH_SIZE at a time on the device, with progress."""
        bs = self.cfg.batch_size
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
            self.prototypes.update(embedding, confident)
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
    def _initial_distribution(self, dataset: TargetBlocks, context: AdaptationContext) -> None:
        """One pass of the first teacher over the target blocks (up to INIT_BLOCKS): the class distribution
        of its predictions is the one the pseudo-labels are held at (DISTRIBUTION_ALIGNMENT)."""
        assert self.teacher is not None
        positions = self._positions(len(dataset), 17)
        total = torch.zeros(self.num_classes, dtype=torch.float64)
        for x, valid in self._first_pass(dataset, positions, context, "Class distribution of the target"):
            with autocast(x.device, self.amp):
                logits, _ = segment(self.teacher.model, x, embed=False)
            total += class_distribution(logits.float().softmax(dim=1), valid).cpu() * float(valid.sum())
        if float(total.sum()) <= 0:
            return  # no valid pixel: nothing to align to (the steps then find none either)
        self._reference_distribution = total / total.sum()
        self._running_distribution = self._reference_distribution.clone()
        parts = ", ".join(f"{c} {v:.1%}" for c, v in zip(self.class_names, self._reference_distribution.tolist(),
                                                          strict=True))
        context.progress.log(f"Target class distribution the pseudo-labels are held at: {parts}")

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
        with autocast(x.device, self.amp):
            logits, embedding = segment(self.teacher.model, x, embed or rectify, self.cfg.pixel_stride)
        probs = self._aligned(logits.float().softmax(dim=1), valid)
        if rectify:
            assert embedding is not None
            probs = rectified(probs, embedding.float(), self.prototypes.prototypes(), self.prototypes.initialised,
                              self.cfg.temperature, self.cfg.pixel_stride)
        if not embed:
            embedding = None
        confidence, labels = probs.max(dim=1)
        valid = valid.bool()
        ignore = torch.full_like(labels, IGNORE_INDEX)
        labels = torch.where(valid, labels, ignore)
        confident = torch.where(confidence >= self.cfg.conf_threshold, labels, ignore)
        if embedding is None:
            return labels, confident, confidence, None
        step = self.cfg.pixel_stride
        return labels, confident[..., ::step, ::step], confidence, embedding.float()

    def _have_prototypes(self) -> bool:
        """Whether any class has a prototype yet; asked of the device only until one has (counts never fall)."""
        assert self.prototypes is not None
        if not self._prototypes_seen:
            self._prototypes_seen = bool(self.prototypes.initialised.any())
        return self._prototypes_seen

    def _aligned(self, probs: Tensor, valid: Tensor) -> Tensor:
        """Distribution alignment (as in ReMixMatch): the teacher's probabilities times reference / running class
        distribution, renormalised, so self-training cannot drift toward the classes it already favours (with
        pseudo-labels alone, small classes fade step by step). The running distribution follows the raw
        predictions of the training steps' batches; the reference is the first teacher's on the target."""
        if self._reference_distribution is None or self._running_distribution is None:
            return probs
        if bool(valid.any()):
            batch, m = class_distribution(probs, valid).cpu(), ALIGNMENT_MOMENTUM
            self._running_distribution = m * self._running_distribution + (1 - m) * batch
        ratio = self._reference_distribution / self._running_distribution.clamp_min(1e-6)
        aligned = probs * ratio.to(probs.device, probs.dtype)[None, :, None, None]
        return aligned / aligned.sum(dim=1, keepdim=True)

    def hard_batch(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, Tensor, float]:
        """The step's hard batch: the runner's hard blocks, the curriculum's share of them, easy blocks after."""
        assert self.easy is not None
        x, valid = batch["image"], batch["valid"]
        b = x.shape[0]
        share = hard_share(self.cfg.hard_schedule, self.cfg.hard_start, step, self.total_steps)
        n_hard = hard_count(share, b)
        if n_hard < b:
            fill_x, fill_valid = self.easy.draw(step, b, b - n_hard)
            x = torch.cat([x[:n_hard], fill_x.to(x.device)])
            valid = torch.cat([valid[:n_hard], fill_valid.to(valid.device)])
        return x, valid, n_hard / b

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
        hard_labels, hard_confident, hard_confidence, _ = self._teacher_view(hard_x, hard_valid, embed=False)
        assert embedding is not None
        self.prototypes.update(embedding, easy_confident)
        for labels in (easy_labels, hard_labels):
            self._window += torch.bincount(labels[labels != IGNORE_INDEX].flatten().cpu(),
                                           minlength=self.num_classes).double()[: self.num_classes]

        self._generator.manual_seed(int(cfg.seed) * 1_000_003 + step)
        mixed = class_mix(
            easy_x, easy_valid, easy_labels, easy_confidence,
            hard_x, hard_valid, hard_labels, hard_confidence,
            self.num_classes, self._generator, cfg.mix_weighting, cfg.conf_threshold,
        )
        view = photometric_jitter(mixed.image, mixed.valid, cfg.jitter, self._generator)
        if cfg.easy_weight > 0:
            easy_view = photometric_jitter(easy_x, easy_valid, cfg.jitter, self._generator)
            view = torch.cat([view, easy_view])
        with autocast(view.device, self.amp):
            logits, student_embedding = segment(self.student, view, True, cfg.pixel_stride)
        assert student_embedding is not None
        logits, student_embedding = logits.float(), student_embedding.float()
        step = cfg.pixel_stride

        mix_ce = cross_entropy(logits[:b], mixed.labels, mixed.weight)
        contrast = prototype_contrastive_loss(
            student_embedding[:b], hard_confident[..., ::step, ::step], self.prototypes.prototypes(),
            cfg.temperature, mask=~mixed.mask[..., ::step, ::step], known=self.prototypes.initialised,
        )
        loss = mix_ce + cfg.lambda_contrast * contrast
        terms = {"mix_ce": float(mix_ce.detach()), "contrast": float(contrast.detach())}
        if cfg.easy_weight > 0:
            easy_ce = cross_entropy(logits[b:], easy_labels, easy_confidence)
            loss = loss + cfg.easy_weight * easy_ce
            terms["easy_ce"] = float(easy_ce.detach())
        hard_valid_pixels = float(hard_valid.sum())
        terms["confident"] = float((hard_confident != IGNORE_INDEX).sum()) / max(hard_valid_pixels, 1.0)
        terms["hard_share"] = share
        return loss, terms

    def after_step(self, step: int) -> None:
        assert self.teacher is not None
        self.teacher.update(self.student, step)
        done = step + 1
        if done % LOG_EVERY == 0 or done == self.total_steps:
            self._watch(done)

    # -- collapse watch ------------------------------------------------------------------------
    def _watch(self, step: int) -> None:
        """Log the pseudo-label class shares and prototype norms; warn when a class is fading."""
        assert self.prototypes is not None
        total = float(self._window.sum())
        if total <= 0:
            return
        shares = (self._window / total).numpy()
        self._window.zero_()
        self._last_shares = shares
        if self._reference is None:
            self._reference = shares.copy()
        norms = self.prototypes.norms().cpu().numpy()
        similarity = self._max_similarity()
        for name, share, norm in zip(self.class_names, shares, norms, strict=True):
            self.progress.metric("pseudo_label_share", float(share), step, **{"class": name})
            self.progress.metric("prototype_norm", float(norm), step, **{"class": name})
        self.progress.metric("prototype_max_similarity", similarity, step)
        parts = ", ".join(
            f"{n} {s:.1%} |p| {v:.3f}" for n, s, v in zip(self.class_names, shares, norms, strict=True)
        )
        self.progress.log(f"Step {step}: pseudo-labels {parts}; max prototype cosine {similarity:.3f}")
        for k, (now, first) in enumerate(zip(shares, self._reference, strict=True)):
            if k not in self._warned and first > 0.01 and now < COLLAPSE_RATIO * first:
                self._warned.add(k)
                self.progress.warn(
                    f"Pseudo-labels of {self.class_names[k]} fell from {first:.1%} to {now:.1%} of the pixels: the "
                    "teacher may be collapsing onto other classes; consider a lower LR, a higher EMA or fewer "
                    "ITERATIONS."
                )

    def _max_similarity(self) -> float:
        assert self.prototypes is not None
        known = self.prototypes.initialised
        if int(known.sum()) < 2:
            return 0.0
        sim = self.prototypes.similarities()[known][:, known].clone()
        sim.fill_diagonal_(-1.0)
        return float(sim.max())

    # -- saving and resuming ---------------------------------------------------------------------
    def model_to_save(self) -> nn.Module:
        assert self.teacher is not None
        return self.teacher.model

    def state_tensors(self) -> dict[str, Tensor]:
        assert self.teacher is not None and self.prototypes is not None
        out = {f"teacher.{k}": v for k, v in self.teacher.state_dict().items()}
        out.update({f"prototypes.{k}": v for k, v in self.prototypes.state_dict().items()})
        out["watch.window"] = self._window.clone()
        if self._reference_distribution is not None and self._running_distribution is not None:
            out["alignment.reference"] = self._reference_distribution.clone()
            out["alignment.running"] = self._running_distribution.clone()
        return out

    def state_info(self) -> dict[str, Any]:
        return {
            "reference_shares": None if self._reference is None else [float(v) for v in self._reference],
            "last_shares": [float(v) for v in self._last_shares],
            "warned": sorted(self._warned),
            "init_pixels": self.init_pixels,
        }

    def load_state(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        assert self.teacher is not None and self.prototypes is not None
        self.teacher.load_state_dict(split_prefixed(tensors, "teacher."))
        self.prototypes.load_state_dict(split_prefixed(tensors, "prototypes."))
        self.prototypes.to(self.device)
        self._window = tensors["watch.window"].double().clone()
        if "alignment.reference" in tensors:
            self._reference_distribution = tensors["alignment.reference"].double().clone()
            self._running_distribution = tensors["alignment.running"].double().clone()
        ref = info.get("reference_shares")
        self._reference = None if ref is None else np.asarray(ref, dtype=np.float64)
        self._last_shares = np.asarray(info.get("last_shares", self._last_shares), dtype=np.float64)
        self._warned = {int(k) for k in info.get("warned", [])}
        self.init_pixels = int(info.get("init_pixels", 0))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"init_prototype_pixels": self.init_pixels}
        if self.prototypes is not None:
            out["prototype_norms"] = [round(float(v), 4) for v in self.prototypes.norms().tolist()]
            out["prototype_pixels"] = [int(v) for v in self.prototypes.count.tolist()]
            out["prototype_max_similarity"] = round(self._max_similarity(), 4)
        out["pseudo_label_class_shares"] = [round(float(v), 4) for v in self._last_shares]
        if self._reference_distribution is not None and self._running_distribution is not None:
            out["aligned_class_distribution"] = [round(float(v), 4) for v in self._reference_distribution]
            out["predicted_class_distribution"] = [round(float(v), 4) for v in self._running_distribution]
        if self._reference is not None:
            out["first_pseudo_label_class_shares"] = [round(float(v), 4) for v in self._reference]
        return out


METHOD = SPCL

"""The `adapt-spcl` command (Processing `crops:adapt_spcl`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..command_spec import (
    ADAPTATION_OUTPUTS,
    ADAPTATION_RUN,
    ADAPTATION_RUNTIME,
    ADAPTED_MODEL,
    STATISTICS_ALIGNMENT,
    Command,
    Param,
)
from ..errors import CropsError
from ..progress import Progress
from .adapt import run_adapt_command

SPEC = Command(
    name="adapt-spcl", algorithm="adapt_spcl", context="AdaptSpclAlgorithm", display_name="Adapt with SPCL",
    group="adaptation",
    summary="Adapt a source model to a partitioned target block store with SPCL (no source data needed).",
    help=(
        "Adapts a source model to the target area without any source data: Semantic Prototypical Contrastive Learning "
        "on a target block store split into easy and hard blocks (run Partition first).\n"
        "\n"
        "The source model's BatchNorm statistics are first re-estimated on the target blocks. A teacher (an "
        "exponential moving average of the student, momentum EMA) then labels an easy and a hard batch each step. "
        "The hard batch follows an easy-to-hard curriculum (Hard schedule linear): it starts with Share of hard "
        "blocks at the start of hard blocks, the rest easy ones, and ends with only hard blocks (constant: only hard "
        "blocks from the first step). Class prototypes are the running means of the teacher's embeddings of easy "
        "pixels it is confident about (confidence >= Confidence threshold), started with one pass over the easy "
        "blocks. The student learns a ClassMix of easy-block classes pasted onto hard blocks, each pixel weighted by "
        "the teacher's confidence in it (or each block by how many of its pixels the teacher is confident about), "
        "plus Contrastive "
        "weight x a prototype contrastive loss that reaches every hard pixel of the mixed block, the low-confidence "
        "ones too: its target is the softmax of the teacher's embedding's similarities to the prototypes "
        "(Temperature scales them), weighted by the teacher's margin, so the pull fades to nothing at the decision "
        "boundary. The teacher's probabilities are weighted by each pixel's similarity to the class prototypes "
        "(prototype rectification), so a pixel whose embedding lies by another class's prototype loses confidence or "
        "changes label; with Hold the pseudo-labels' class distribution they are also rescaled so that the "
        "pseudo-labels keep the class distribution predicted on the target at the start (distribution alignment).\n"
        "The defaults are the parts that gained in an ablation on seeds they were not tuned on "
        "(bench/results/adaptation_notes.md); distribution alignment and moving prototypes did not, and are "
        "options.\n"
        "Prototypes probabilistic (PPPC): each pixel's embedding and each prototype is a Gaussian, the pixel's "
        "variance from a variance head trained beside the projection head, the prototype's from its easy pixels; the "
        "contrastive loss and the rectification compare them by their mutual likelihood score, so an ambiguous pixel "
        "(high variance) pulls less and weighs less in its prototype. The variance head is used only while adapting.\n"
        "\n"
        "Advanced parameters:\n"
        "Contrast targets: which hard pixels the contrastive loss reaches. Confident: those the teacher labels "
        "with confidence >= Confidence threshold, pulled to their label's prototype. Soft: every hard pixel of the "
        "mixed block, its target the softmax of the teacher's embedding's similarities to the prototypes, weighted by "
        "the teacher's margin (its top class's probability minus the second's), so the pull fades to nothing at the "
        "decision boundary; it costs the projection head on the hard batch's teacher pass.\n"
        "Prototype momentum (0: running mean): 0 keeps each prototype the mean of every confident easy pixel seen; "
        "above 0, after the first pass each step moves the prototypes of the classes in its easy batch towards that "
        "batch's mean (prototype = momentum x prototype + (1 - momentum) x batch mean, then unit length), so they "
        "follow the adapting features. Point prototypes only.\n"
        "Share of hard blocks at the start (linear): with Hard schedule linear, the share of hard blocks in the hard "
        "batch at the first step; it grows to all hard blocks at the last.\n"
        "ClassMix weighting: how much a mixed pixel counts: its own confidence, or the share of its block's pixels "
        "the teacher is confident about (one weight per block, as in DACS).\n"
        "Easy-block pseudo-label weight (0: off): adds the cross-entropy of the teacher's pseudo-labels on the easy "
        "batch, times this weight; it costs a second forward pass per step.\n"
        "Photometric jitter of the mixed view: a random gain and offset per block and band (1 +- and +- this value, "
        "in normalised units) and pixel noise on the student's mixed view (0: none), a stronger view than the "
        "teacher's.\n"
        "Re-estimate BatchNorm statistics on the target: one pass over the target blocks before adapting, so the "
        "source's normalisation fits the target's reflectances.\n"
        "Hold the pseudo-labels' class distribution (alignment) and Rectify pseudo-labels with the class prototypes: "
        "the distribution alignment (off by default) and prototype rectification (on) described above.\n"
        "Class distribution held (alignment): the first teacher's (its predictions after the BatchNorm "
        "re-estimation) or the source model's own, measured before it: where the re-estimation shifts the class "
        "shares (a minority class fading), the source's keeps them.\n"
        "Mix easy classes into the hard blocks (ClassMix): untick to have the student learn the hard blocks' own "
        "pseudo-labels, weighted alike, with nothing pasted (an ablation of ClassMix).\n"
        "Embedding pixel stride (1: every pixel): prototypes and the contrastive loss use every n-th pixel of the "
        "rows and columns: 2 uses a quarter of the pixels, faster and lighter on memory.\n"
        "Blocks of the first passes (0: all): how many target blocks the BatchNorm pass and the first prototypes "
        "read (0: every block); fewer starts faster on a large store.\n"
        "Align the target's statistics to the model's: maps each target band onto the source statistics recorded "
        "in the model (mean and standard deviation, or histogram matching) before anything else.\n"
        "Weight decay: AdamW's weight decay. Warm-up (fraction of the steps): the learning rate rises linearly from "
        "0 over this share of the steps (at most 500), then decays.\n"
        "Mixed precision on CUDA: float16 arithmetic on a GPU (faster, less memory; no effect on a CPU).\n"
        "Checkpoint every N steps (0: with the resume state) and Save the resume state every N seconds (0: every "
        "step): how often the model and the resume state are written; a crash loses at most that much.\n"
        "CPU threads (0: all): threads torch uses on a CPU (0: torch's default, all cores).\n"
        "SyncBatchNorm over all processes (torchrun): under torchrun, BatchNorm statistics over the global batch of "
        "all processes (no effect in one process).\n"
        "\n"
        "Output: the adapted model (.safetensors, the teacher; its provenance names the source model's SHA-256, the "
        "target store and every hyper-parameter). Beside it: name.adapt.json (configuration, loss per step, prototype "
        "norms and pseudo-label class shares: a class whose share keeps falling warns of collapse) and "
        "name.resume.safetensors. Resume: give that file to continue. Cancel keeps the last complete checkpoint. Map "
        "with the adapted model using Map crops (inference) (crops:infer)."
    ),
    params=(
        Param("MODEL", "file", "Source model", "source model checkpoint (.safetensors)",
              file_filter="Model (*.safetensors)"),
        Param("BLOCKS", "file", "Target block store (partitioned)",
              "target block store (.h5) after partition (easy / hard)", extension="h5"),
        Param("ITERATIONS", "int", "Iterations", "optimiser steps", default=300, minimum=1),
        Param("BATCH_SIZE", "int", "Batch size (easy and hard blocks each)", "blocks per batch, easy and hard each",
              default=8, minimum=1),
        Param("LR", "float", "Learning rate", "peak learning rate (AdamW)", default=0.0001, minimum=0.0),
        Param("EMA", "float", "Teacher EMA momentum", "teacher EMA momentum", default=0.999, minimum=0.0,
              maximum=0.999999),
        Param("TEMPERATURE", "float", "Temperature", "contrastive temperature", default=0.1, minimum=0.0001),
        Param("CONF_THRESHOLD", "float", "Confidence threshold", "confident pixel: teacher max probability >= this",
              default=0.9, minimum=0.0, maximum=0.9999),
        Param("LAMBDA_CONTRAST", "float", "Contrastive weight", "weight of the contrastive loss", default=1.0,
              minimum=0.0),
        Param("PROTOTYPES", "choice", "Prototypes",
              "point (mean embedding per class) or probabilistic (Gaussians compared by mutual likelihood, PPPC)",
              default="point", choices=("point", "probabilistic"),
              labels={"point": "Point (mean embedding per class)", "probabilistic": "Probabilistic (PPPC)"}),
        Param("HARD_SCHEDULE", "choice", "Hard schedule",
              "hard blocks in the hard batch: linear (HARD_START -> all, the curriculum) or constant (all)",
              default="linear",
              choices=("constant", "linear"),
              labels={"constant": "Constant (all hard blocks)", "linear": "Linear (from the start share to all)"}),
        *ADAPTATION_RUN,
        Param("CONTRAST_TARGETS", "choice", "Contrast targets",
              "contrast on hard pixels: confident ones with their label, or all with soft prototype targets",
              default="soft", choices=("confident", "soft"), advanced=True,
              labels={"confident": "Confident hard pixels (their label)",
                      "soft": "All hard pixels (soft prototype targets, margin-weighted)"}),
        Param("PROTOTYPE_MOMENTUM", "float", "Prototype momentum (0: running mean)",
              "0: cumulative mean of the prototypes; > 0: moving prototypes with this momentum", default=0.0,
              minimum=0.0, maximum=0.9999, advanced=True),
        Param("HARD_START", "float", "Share of hard blocks at the start (linear)",
              "linear schedule: share of hard blocks at the first step", default=0.5, minimum=0.0, maximum=1.0,
              advanced=True),
        Param("MIX_WEIGHTING", "choice", "ClassMix weighting",
              "ClassMix weight: the pixel's confidence, or the block's confident share", default="confidence",
              choices=("share", "confidence"), advanced=True,
              labels={"share": "Block's confident share", "confidence": "Pixel's confidence"}),
        Param("EASY_WEIGHT", "float", "Easy-block pseudo-label weight (0: off)",
              "weight of a pseudo-label CE on the easy batch (0: off; costs a second pass)", default=0.0, minimum=0.0,
              advanced=True),
        Param("JITTER", "float", "Photometric jitter of the mixed view",
              "photometric jitter of the student's mixed view (0: none)", default=0.0, minimum=0.0, advanced=True),
        Param("RECALIBRATE_BN", "bool", "Re-estimate BatchNorm statistics on the target",
              "re-estimate BatchNorm statistics on the target first", default=True, advanced=True),
        Param("DISTRIBUTION_ALIGNMENT", "bool", "Hold the pseudo-labels' class distribution (alignment)",
              "hold the pseudo-labels' class distribution at the first teacher's", default=False, advanced=True),
        Param("ALIGNMENT_REFERENCE", "choice", "Class distribution held (alignment)",
              "the class distribution alignment holds: the first teacher's (after AdaBN) or the source model's",
              default="first_teacher", choices=("first_teacher", "source"), advanced=True,
              labels={"first_teacher": "The first teacher's (after BatchNorm re-estimation)",
                      "source": "The source model's, before BatchNorm re-estimation"}),
        Param("CLASSMIX", "bool", "Mix easy classes into the hard blocks (ClassMix)",
              "paste easy-block classes onto the hard blocks (off: the hard blocks' own pseudo-labels)", default=True,
              advanced=True),
        Param("PROTOTYPE_RECTIFICATION", "bool", "Rectify pseudo-labels with the class prototypes",
              "weight the teacher's probabilities by each pixel's similarity to the class prototypes", default=True,
              advanced=True),
        Param("PIXEL_STRIDE", "int", "Embedding pixel stride (1: every pixel)",
              "prototypes and contrastive loss on every n-th pixel of rows and columns", default=2, minimum=1,
              advanced=True),
        Param("INIT_BLOCKS", "int", "Blocks of the first passes (0: all)",
              "blocks of the first passes, BN statistics and prototypes (0: all)", default=0, minimum=0,
              advanced=True),
        STATISTICS_ALIGNMENT,
        *ADAPTATION_RUNTIME,
        ADAPTED_MODEL,
    ),
    outputs=ADAPTATION_OUTPUTS,
)


def check_partitioned(blocks: str, model: str | None = None, progress: Progress | None = None) -> None:
    """A CropsError saying what to do when the store has no easy / hard blocks (SPCL needs both), or when its
    partition was made by another model than MODEL (its easy / hard split is that model's confidence)."""
    from ..blocks import BlockStore

    with BlockStore(blocks) as store:
        splits = store.splits
        if "easy" not in splits or "hard" not in splits:
            stale = store.partition.stale
            why = (f" (the partition file {stale} beside it was made for another store: the store was rebuilt since)"
                   if stale is not None else "")
            raise CropsError(
                f"{store.path} has no easy / hard partition{why}: run partition on it first (SPCL needs both)."
            )
        for name in ("easy", "hard"):
            if len(store.split(name)) == 0:
                raise CropsError(
                    f"{store.path} has no {name} block: SPCL needs both easy and hard blocks; run partition again "
                    "with another EASY_FRACTION (or SCORE_THRESHOLD)."
                )
        info = store.partition_info
    if model is None:
        return
    from ..checkpoint import file_sha256

    recorded = info.get("model_sha256")
    if not recorded:
        if progress is not None:
            progress.warn(f"The partition of {blocks} does not record the model that made it: make sure it was "
                          f"MODEL {model} (or run partition again with it).")
        return
    if not Path(model).is_file():
        return  # the adaptation names the missing MODEL
    actual = file_sha256(model)
    if actual != recorded:
        by = f" ({info['model']})" if info.get("model") else ""
        raise CropsError(
            f"The partition of {blocks} was made by another model{by}, SHA-256 {recorded}, than MODEL {model}, SHA-256 "
            f"{actual}: SPCL's easy and hard blocks must be where the model it adapts is sure and unsure. Run "
            "partition again with this MODEL on the store, then adapt-spcl."
        )


def warn_partition_alignment(blocks: str, alignment: str, progress: Progress) -> None:
    """Warn when the partition's easy / hard split was scored with another STATISTICS_ALIGNMENT than SPCL adapts
    with (the split is where the model is sure on the inputs it saw)."""
    from ..blocks import BlockStore

    with BlockStore(blocks) as store:
        scored = str(store.partition_info.get("statistics_alignment", "none"))
    if scored != alignment:
        progress.warn(f"The partition of {blocks} was scored with STATISTICS_ALIGNMENT {scored} and SPCL adapts with "
                      f"{alignment}: run partition with STATISTICS_ALIGNMENT {alignment} for a split that fits.")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    check_partitioned(args.blocks, args.model, progress)
    warn_partition_alignment(args.blocks, args.statistics_alignment, progress)
    return run_adapt_command("spcl", args, SPEC, progress)

"""Adapt a source model to a partitioned target block store with SPCL (no source data needed).

Semantic Prototypical Contrastive Learning: the source model's BatchNorm statistics are first
re-estimated on the target (RECALIBRATE_BN); a teacher (EMA of the student, momentum EMA) labels an
easy batch (split/easy) and a hard batch (split/hard) each step; class prototypes are the running
means of the teacher's embeddings of confident easy pixels (confidence >= CONF_THRESHOLD); the
student learns a ClassMix of easy classes pasted onto hard blocks, each pixel's cross-entropy
weighted by the block's share of confident pixels or the pixel's confidence (MIX_WEIGHTING), plus
LAMBDA_CONTRAST x a prototype contrastive loss on confident hard pixels (similarity to the
prototypes / TEMPERATURE). DISTRIBUTION_ALIGNMENT rescales the teacher's probabilities so the
pseudo-labels keep the class distribution of the first teacher's predictions on the target;
PROTOTYPE_RECTIFICATION then weights them by each pixel's similarity to the class prototypes.
HARD_SCHEDULE constant uses hard blocks only in the hard batch; linear starts with HARD_START of
hard blocks (the rest easy) and ends with all hard. Run partition on BLOCKS first. Only MODEL and
the target store's images are read. Written: OUTPUT (.safetensors, the teacher; provenance: source
model SHA-256, target store, all hyper-parameters), `<name>.adapt.json` (configuration, loss
history, prototype norms and pseudo-label class shares) and `<name>.resume.safetensors` (continue
with RESUME). Cancel keeps the last complete checkpoint.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import option, parse_bool
from ..errors import CropsError
from ..progress import Progress
from .adapt import add_adaptation_run_arguments, run_adapt_command

HARD_SCHEDULES = ("linear", "constant")  # as adapt.spcl.HARD_SCHEDULES (kept light: no torch here)
MIX_WEIGHTINGS = ("confidence", "share")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("MODEL"), required=True, help="source model checkpoint (.safetensors)")
    parser.add_argument(option("BLOCKS"), required=True, help="target block store (.h5) after partition (easy / hard)")
    parser.add_argument(option("ITERATIONS"), type=int, default=None, help="optimiser steps (default 300)")
    parser.add_argument(option("BATCH_SIZE"), type=int, default=None, help="blocks per batch, easy and hard each (8)")
    parser.add_argument(option("LR"), type=float, default=None, help="peak learning rate (AdamW; default 1e-4)")
    parser.add_argument(option("WEIGHT_DECAY"), type=float, default=None, help="AdamW weight decay (1e-4)")
    parser.add_argument(option("WARMUP"), type=float, default=None, help="warm-up, fraction of the steps (0.05)")
    parser.add_argument(option("EMA"), type=float, default=None, help="teacher EMA momentum (0.999)")
    parser.add_argument(option("TEMPERATURE"), type=float, default=None, help="contrastive temperature (0.1)")
    parser.add_argument(option("CONF_THRESHOLD"), type=float, default=None,
                        help="confident pixel: teacher max probability >= this (0.9)")
    parser.add_argument(option("LAMBDA_CONTRAST"), type=float, default=None,
                        help="weight of the contrastive loss (1)")
    parser.add_argument(option("HARD_SCHEDULE"), choices=HARD_SCHEDULES, default=None,
                        help="hard blocks in the hard batch: constant (all; default) or linear (HARD_START -> all)")
    parser.add_argument(option("HARD_START"), type=float, default=None,
                        help="linear schedule: share of hard blocks at the first step (0.5)")
    parser.add_argument(option("MIX_WEIGHTING"), choices=MIX_WEIGHTINGS, default=None,
                        help="ClassMix weight: the block's confident share (default) or the pixel's confidence")
    parser.add_argument(option("EASY_WEIGHT"), type=float, default=None,
                        help="weight of a pseudo-label CE on the easy batch (0: off; costs a second pass)")
    parser.add_argument(option("JITTER"), type=float, default=None,
                        help="photometric jitter of the student's mixed view (0: none)")
    parser.add_argument(option("INIT_BLOCKS"), type=int, default=None,
                        help="blocks of the first passes, BN statistics and prototypes (0: all)")
    parser.add_argument(option("PIXEL_STRIDE"), type=int, default=None,
                        help="prototypes and contrastive loss on every n-th pixel of rows and columns (2)")
    parser.add_argument(option("RECALIBRATE_BN"), type=parse_bool, default=None,
                        help="re-estimate BatchNorm statistics on the target first (true/false; default true)")
    parser.add_argument(option("DISTRIBUTION_ALIGNMENT"), type=parse_bool, default=None,
                        help="hold the pseudo-labels' class distribution at the first teacher's (true/false; "
                             "default true)")
    parser.add_argument(option("PROTOTYPE_RECTIFICATION"), type=parse_bool, default=None,
                        help="weight the teacher's probabilities by each pixel's similarity to the class prototypes "
                             "(true/false; default true)")
    add_adaptation_run_arguments(parser)


def check_partitioned(blocks: str) -> None:
    """A CropsError saying what to do when the store has no easy / hard blocks (SPCL needs both)."""
    from ..blocks import BlockStore

    with BlockStore(blocks) as store:
        splits = store.splits
        if "easy" not in splits or "hard" not in splits:
            raise CropsError(f"{store.path} has no easy / hard partition: run partition on it first (SPCL needs both).")
        for name in ("easy", "hard"):
            if len(store.split(name)) == 0:
                raise CropsError(
                    f"{store.path} has no {name} block: SPCL needs both easy and hard blocks; run partition again "
                    "with another EASY_FRACTION (or SCORE_THRESHOLD)."
                )


_HYPERPARAMETERS = ("iterations", "batch_size", "lr", "weight_decay", "warmup", "ema", "temperature", "conf_threshold",
                    "lambda_contrast", "hard_schedule", "hard_start", "mix_weighting", "easy_weight", "jitter",
                    "init_blocks", "recalibrate_bn", "pixel_stride", "distribution_alignment",
                    "prototype_rectification")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    check_partitioned(args.blocks)
    return run_adapt_command("spcl", args, _HYPERPARAMETERS, progress)

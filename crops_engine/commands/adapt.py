"""Adapt a source model to the target blocks without source data: a baseline METHOD.

METHOD entropy: entropy minimisation with a diversity term (Tent / SHOT): PARAMETERS norm (only
normalisation layers), encoder (all but the heads) or all; DIVERSITY_WEIGHT times
KL(batch mean prediction || prior), the prior being equal shares (DIVERSITY_PRIOR uniform) or the
source model's class shares on the target (source).
METHOD self_training: an EMA teacher (EMA momentum) pseudo-labels target pixels whose confidence
reaches a per-class threshold (each class keeps its most confident PORTION of pixels, never
demanding more than CONF_THRESHOLD), refreshed each of ROUNDS rounds; the student learns them
from a jittered view (JITTER). The teacher is the adapted model.
Only the MODEL checkpoint and the target store's images are read (never its labels, never source
data). Options left out take the method's defaults. Written: OUTPUT (.safetensors, provenance:
source model SHA-256, target store, hyper-parameters), `<name>.adapt.json` (configuration and
loss history) and `<name>.resume.safetensors` (continue with RESUME). Cancel keeps the last
complete checkpoint.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..adapt import METHODS
from ..cli import add_torch_arguments, option
from ..progress import Progress

SPLITS = ("all", "easy", "hard")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("METHOD"), choices=list(METHODS), default="entropy", help="adaptation method")
    parser.add_argument(option("MODEL"), required=True, help="source model checkpoint (.safetensors)")
    parser.add_argument(option("BLOCKS"), required=True, help="target block store (.h5), e.g. after partition")
    parser.add_argument(option("SPLIT"), choices=SPLITS, default="all",
                        help="blocks to adapt on (easy / hard: after partition)")
    parser.add_argument(option("ITERATIONS"), type=int, default=None, help="optimiser steps (default 300)")
    parser.add_argument(option("BATCH_SIZE"), type=int, default=None, help="blocks per step (default 8)")
    parser.add_argument(option("LR"), type=float, default=None,
                        help="peak learning rate (AdamW; default entropy 1e-3, self_training 3e-5)")
    parser.add_argument(option("WEIGHT_DECAY"), type=float, default=None, help="AdamW weight decay (default 1e-4)")
    parser.add_argument(option("WARMUP"), type=float, default=None, help="warm-up, fraction of the steps (0.05)")
    # entropy
    parser.add_argument(option("PARAMETERS"), choices=["norm", "encoder", "all"], default=None,
                        help="entropy: what to train (default norm)")
    parser.add_argument(option("DIVERSITY_WEIGHT"), type=float, default=None, help="entropy: diversity weight (1)")
    parser.add_argument(option("DIVERSITY_PRIOR"), choices=["uniform", "source"], default=None,
                        help="entropy: class shares the diversity term keeps (default uniform)")
    # self-training
    parser.add_argument(option("EMA"), type=float, default=None, help="self_training: teacher EMA momentum (0.99)")
    parser.add_argument(option("CONF_THRESHOLD"), type=float, default=None,
                        help="self_training: highest per-class confidence threshold (0.9)")
    parser.add_argument(option("PORTION"), type=float, default=None,
                        help="self_training: share of each class's pixels pseudo-labelled (0.5)")
    parser.add_argument(option("ROUNDS"), type=int, default=None, help="self_training: threshold refreshes (3)")
    parser.add_argument(option("JITTER"), type=float, default=None,
                        help="self_training: strength of the student's photometric jitter (0.1)")
    parser.add_argument(option("CALIBRATION_BLOCKS"), type=int, default=None,
                        help="blocks of the initial pass measuring class shares / thresholds (64)")
    add_adaptation_run_arguments(parser)


def add_adaptation_run_arguments(parser: argparse.ArgumentParser) -> None:
    """How an adaptation runs and what it writes: shared by every adaptation command."""
    add_torch_arguments(parser)
    parser.add_argument(option("CHECKPOINT_EVERY"), type=int, default=0,
                        help="steps between checkpoints (0: every two minutes and at the end)")
    parser.add_argument(option("RESUME"), default="", help="resume state (.resume.safetensors) or the adapted model")
    parser.add_argument(option("OUTPUT"), required=True, help="adapted model checkpoint to write (.safetensors)")


_OPTIONAL = ("iterations", "batch_size", "lr", "weight_decay", "warmup", "parameters", "diversity_weight",
             "diversity_prior", "ema", "conf_threshold", "portion", "rounds", "jitter", "calibration_blocks")


def run_adapt_command(
    method: str, args: argparse.Namespace, hyperparameters: tuple[str, ...], progress: Progress, **fixed: Any
) -> dict[str, Any]:
    """Run `method` with the options of `add_adaptation_run_arguments` and those of `hyperparameters`
    the user gave (the others keep the method's defaults): what every adaptation command does."""
    from ..adapt import adapt, make_config
    from ..device import set_torch_threads

    set_torch_threads(args.threads)
    values: dict[str, Any] = {k: getattr(args, k) for k in hyperparameters if getattr(args, k) is not None}
    config = make_config(
        method, model=args.model, blocks=args.blocks, output=args.output, device=args.device, amp=args.amp,
        seed=args.seed, resume=args.resume or "", checkpoint_every=args.checkpoint_every, **fixed, **values,
    )
    return adapt(method, config, progress)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    return run_adapt_command(args.method, args, _OPTIONAL, progress, split=args.split)

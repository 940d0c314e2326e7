"""Train the source model on a labelled block store: the best model by validation mIoU.

AdamW with warm-up and cosine decay, cross-entropy ignoring unlabelled pixels (optional class
weights and Dice), random flips and 90-degree rotations, mixed precision on CUDA. ITERATIONS > 0
overrides EPOCHS (an epoch is one pass over the training blocks); every epoch ends with a
validation on the store's validation blocks. Written beside OUTPUT (.safetensors, self-describing:
features, normalisation, classes, provenance): `<name>.metrics.json` / `.metrics.csv` (per-epoch
figures) and `<name>.resume.safetensors` (the state to continue with RESUME). RESUME takes that
file, or a model (its resume state beside it is used; without one its weights start a new run).
Cancel stops after the current step and keeps the last saved model.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..cli import add_torch_arguments, option
from ..errors import CropsError
from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("BLOCKS"), required=True, help="labelled block store (.h5) from build-blocks")
    parser.add_argument(option("ARCH"), choices=["unet", "transunet"], default="unet", help="architecture")
    parser.add_argument(option("ENCODER"), default="",
                        help="timm encoder of the U-Net (default resnet18; e.g. resnet34, efficientnet_b0)")
    parser.add_argument(option("PRETRAINED"), default="",
                        help="local encoder weights (.safetensors or timm .pth state dict); never downloaded")
    parser.add_argument(option("EPOCHS"), type=int, default=40, help="passes over the training blocks")
    parser.add_argument(option("ITERATIONS"), type=int, default=0, help="optimiser steps; > 0 overrides EPOCHS")
    parser.add_argument(option("BATCH_SIZE"), type=int, default=16, help="blocks per step")
    parser.add_argument(option("LR"), type=float, default=1e-3, help="peak learning rate (AdamW)")
    parser.add_argument(option("WEIGHT_DECAY"), type=float, default=1e-4, help="AdamW weight decay")
    parser.add_argument(option("WARMUP"), type=float, default=0.05, help="warm-up, fraction of the steps")
    parser.add_argument(option("CLASS_WEIGHTS"), choices=["none", "balanced"], default="none",
                        help="balanced: weight classes by inverse square-root frequency")
    parser.add_argument(option("DICE_WEIGHT"), type=float, default=0.0, help="weight of the Dice loss (0: none)")
    add_torch_arguments(parser)
    parser.add_argument(option("VAL_EVERY"), type=int, default=0, help="steps between validations (0: every epoch)")
    parser.add_argument(option("ARCH_ARGS"), default="",
                        help='advanced: JSON object of architecture arguments, e.g. {"embedding_dim": 32}')
    parser.add_argument(option("RESUME"), default="", help="resume state (.resume.safetensors) or a model to continue")
    parser.add_argument(option("OUTPUT"), required=True, help="model checkpoint to write (.safetensors)")


def _arch_args(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CropsError(f"ARCH_ARGS is not valid JSON ({exc}); give an object like {{'embedding_dim': 32}}.") from None
    if not isinstance(value, dict):
        raise CropsError("ARCH_ARGS must be a JSON object (name: value).")
    return value


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..device import set_torch_threads
    from ..train import TrainConfig, train_source

    set_torch_threads(args.threads)
    config = TrainConfig(
        blocks=args.blocks,
        output=args.output,
        arch=args.arch,
        encoder=args.encoder or "",
        arch_args=_arch_args(args.arch_args or ""),
        pretrained=args.pretrained or "",
        epochs=args.epochs,
        iterations=args.iterations,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup=args.warmup,
        class_weights=args.class_weights,
        dice_weight=args.dice_weight,
        device=args.device,
        amp=args.amp,
        seed=args.seed,
        resume=args.resume or "",
        val_every=args.val_every,
    )
    return train_source(config, progress)

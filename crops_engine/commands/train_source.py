"""The `train-source` command (Processing `crops:train_source`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..command_spec import (
    AMP,
    DEVICE,
    RESUME_EVERY,
    SEED,
    SYNC_BATCHNORM,
    THREADS,
    WARMUP,
    WEIGHT_DECAY,
    Command,
    Output,
    Param,
)
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="train-source", algorithm="train_source", context="TrainSourceAlgorithm", display_name="Train source model",
    group="training",
    summary="Train the source model on a labelled block store: the best model by validation mIoU.",
    help=(
        "Trains a segmentation model on a labelled block store (from Build blocks) and keeps the model with the best "
        "validation mIoU.\n"
        "\n"
        "Architecture: unet (a U-Net on a timm encoder, fast on CPUs; Encoder resnet18 by default) or transunet "
        "(R50-ViT-B/16, the method's reference backbone; needs a GPU in practice); for a time-series store (Build "
        "time-series blocks, Import AgriFM samples) utae (a U-Net encoder per step with temporal attention, fast "
        "on CPUs) or agrifm (an AgriFM-style spatio-temporal Swin transformer; Import encoder weights converts "
        "AgriFM's released weights). Pretrained weights: an optional "
        "local file for the encoder: an encoder from Pretrain encoder (SimSiam), whose features must be the store's "
        "(Encoder empty takes it from the file; a lower Encoder LR scale, e.g. 0.1, fine-tunes it gently), or a "
        ".safetensors / timm .pth state dict.\n"
        "Training: AdamW, warm-up then cosine decay of the learning rate, cross-entropy ignoring unlabelled pixels "
        "(optional class weights and Dice), random flips and 90-degree rotations, mixed precision on CUDA. Iterations "
        "> 0 overrides Epochs (an epoch is one pass over the training blocks); each epoch ends with a validation on "
        "the store's validation blocks. On the CPU a seed gives the same model.\n"
        "\n"
        "Output: a .safetensors model that describes itself (features, normalisation, classes with codes and colours, "
        "block size, provenance). Beside it: name.metrics.json and name.metrics.csv (loss, mIoU and IoU per class per "
        "epoch) and name.resume.safetensors. Resume: give that file (or the model) to continue a run; raise "
        "Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved model."
    ),
    params=(
        Param("BLOCKS", "file", "Labelled block store", "labelled block store (.h5) from build-blocks", extension="h5"),
        Param("ARCH", "choice", "Architecture", "architecture", default="unet",
              choices=("unet", "transunet", "utae", "agrifm"),
              labels={"unet": "U-Net", "transunet": "TransUNet", "utae": "U-TAE (time series)",
                      "agrifm": "AgriFM Video Swin (time series)"}),
        Param("ENCODER", "text", "Encoder (U-Net; empty: resnet18)",
              "timm encoder of the U-Net (empty: resnet18; e.g. resnet34, efficientnet_b0)", default="",
              optional=True),
        Param("PRETRAINED", "file", "Pretrained encoder weights",
              "local encoder weights: an encoder from crops:pretrain, or a .safetensors / timm .pth state dict; never "
              "downloaded", default="", optional=True),
        Param("EPOCHS", "int", "Epochs", "passes over the training blocks", default=40, minimum=1),
        Param("ITERATIONS", "int", "Iterations (> 0 overrides epochs)", "optimiser steps; > 0 overrides EPOCHS",
              default=0, minimum=0),
        Param("BATCH_SIZE", "int", "Batch size (blocks)", "blocks per step", default=16, minimum=1),
        Param("LR", "float", "Learning rate", "peak learning rate (AdamW)", default=0.001, minimum=0.0),
        DEVICE,
        SEED,
        Param("RESUME", "file", "Resume from (resume state or model)",
              "resume state (.resume.safetensors) or a model to continue", default="", optional=True,
              file_filter="safetensors (*.safetensors)"),
        Param("CLASS_WEIGHTS", "choice", "Class weights", "balanced: weight classes by inverse square-root frequency",
              default="none", choices=("none", "balanced"), advanced=True,
              labels={"none": "None (equal)", "balanced": "Balanced (inverse square-root frequency)"}),
        Param("DICE_WEIGHT", "float", "Dice loss weight (0: none)", "weight of the Dice loss (0: none)", default=0.0,
              minimum=0.0, advanced=True),
        Param("VAL_EVERY", "int", "Validate every N steps (0: every epoch)",
              "steps between validations (0: every epoch)",
              default=0, minimum=0, advanced=True),
        Param("ARCH_ARGS", "text", "Architecture arguments (JSON)",
              'JSON object of architecture arguments, e.g. {"embedding_dim": 32}', default="", optional=True,
              advanced=True),
        Param("ENCODER_LR_SCALE", "float", "Encoder LR scale (fine-tuning)",
              "encoder learning rate = LR x this (e.g. 0.1 when fine-tuning a pretrained encoder)", default=1.0,
              minimum=0.0, maximum=1.0, advanced=True),
        WEIGHT_DECAY,
        WARMUP,
        AMP,
        RESUME_EVERY,
        THREADS,
        SYNC_BATCHNORM,
        Param("OUTPUT", "file_out", "Model", "model checkpoint to write (.safetensors)",
              file_filter="Model (*.safetensors)"),
    ),
    outputs=(
        Output("METRICS_JSON", "file", "Metrics per epoch (JSON)"),
        Output("METRICS_CSV", "file", "Metrics per epoch (CSV)"),
        Output("CURVES", "file", "Training curves (PNG)"),
        Output("RESUME_STATE", "file", "Resume state"),
        Output("BEST_VAL_MIOU", "number", "Best validation mIoU"),
        Output("BEST_EPOCH", "number", "Epoch of the best model"),
        Output("STEPS", "number", "Steps trained"),
    ),
)


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
        encoder_lr_scale=args.encoder_lr_scale,
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
        resume_every=args.resume_every,
    )
    return train_source(config, progress)

"""The `pretrain` command (Processing `crops:pretrain`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import (
    AMP,
    CHECKPOINT_EVERY,
    DEVICE,
    RESUME_EVERY,
    SEED,
    SYNC_BATCHNORM,
    THREADS,
    WARMUP,
    Command,
    Output,
    Param,
)
from ..progress import Progress

SPEC = Command(
    name="pretrain", algorithm="pretrain", context="PretrainAlgorithm", display_name="Pretrain encoder (SimSiam)",
    group="training",
    summary="Self-supervised pretraining (SimSiam) of a model's encoder on unlabelled composites or block stores.",
    help=(
        "Pretrains the encoder of a segmentation model without labels (SimSiam): every year and region you hold "
        "imagery of can teach it, labelled or not. Train the source model from it afterwards (Train source model, "
        "Pretrained encoder weights).\n"
        "\n"
        "Inputs: composites (cut into blocks of Block size) and/or block stores (their labels are never read); all "
        "with the same features in the same order. They are normalised with their pooled statistics.\n"
        "Method: two augmented views of each block (random resized crop, flips and 90-degree rotations, per-band "
        "brightness and contrast, blur, noise, band dropout, and spectral solarisation on the second view only); "
        "encoder, projection MLP and prediction MLP; symmetric negative cosine similarity with a stop-gradient on "
        "the target branch. SGD with momentum 0.9; the learning rate used is Learning rate x Batch size / 256, "
        "with warm-up then cosine decay. The spread of the normalised outputs is watched: a warning says when it "
        "falls toward 0 (collapse).\n"
        "Evaluation (optional): with a labelled block store, a linear probe (encoder frozen) and a fine-tuned model "
        "are trained from the pretrained encoder and compared with a random initialisation on the store's "
        "validation blocks (IoU per class, mIoU).\n"
        "\n"
        "Output: a .safetensors encoder that describes itself (encoder, features, normalisation, block size, "
        "provenance) and an HTML report (loss and learning rate, collapse statistic, augmented views, evaluation). "
        "Beside it: name.resume.safetensors. Resume: give that file (or the encoder) to continue; raise "
        "Iterations/Epochs to train longer. Cancel stops after the current step and keeps the last saved encoder."
    ),
    params=(
        Param("COMPOSITES", "rasters", "Composites (unlabelled)", "composite GeoTIFFs to learn from", optional=True),
        Param("BLOCKS", "list", "Block stores (';' separated; labels ignored)",
              "block stores (.h5) to learn from; their labels are ignored", optional=True),
        Param("ARCH", "choice", "Architecture", "architecture whose encoder is pretrained", default="unet",
              choices=("unet", "transunet"), labels={"unet": "U-Net", "transunet": "TransUNet"}),
        Param("ENCODER", "text", "Encoder (U-Net; empty: resnet18)",
              "timm encoder of the U-Net (empty: resnet18; e.g. resnet34, efficientnet_b0)", default="",
              optional=True),
        Param("BLOCK_SIZE", "int", "Block size (0: the stores')",
              "block size in pixels for composites (0: the block stores' own, 32 for composites alone)", default=0,
              minimum=0),
        Param("EPOCHS", "int", "Epochs", "passes over all input blocks", default=50, minimum=1),
        Param("ITERATIONS", "int", "Iterations (> 0 overrides epochs)", "optimiser steps; > 0 overrides EPOCHS",
              default=0, minimum=0),
        Param("BATCH_SIZE", "int", "Batch size (blocks)", "blocks per step (at least 2: BatchNorm)", default=32,
              minimum=2),
        Param("LR", "float", "Learning rate (per 256 blocks)",
              "base learning rate per 256 blocks (SGD); the run uses LR x BATCH_SIZE / 256", default=0.05,
              minimum=0.0),
        DEVICE,
        SEED,
        Param("RESUME", "file", "Resume from (resume state or encoder)",
              "resume state (.resume.safetensors) or the encoder with one beside it", default="", optional=True,
              file_filter="safetensors (*.safetensors)"),
        Param("EVAL_BLOCKS", "file", "Labelled block store for the evaluation (optional)",
              "labelled block store: linear probe and fine-tuning vs random initialisation on its validation blocks",
              default="", optional=True, extension="h5"),
        Param("EVAL_ITERATIONS", "int", "Evaluation iterations", "training steps of each evaluation model",
              default=200, minimum=1),
        Param("ENCODER_LR_SCALE", "float", "Encoder LR scale when fine-tuning",
              "fine-tuning in the evaluation: encoder learning rate = LR x this", default=0.5, minimum=0.0,
              maximum=1.0, advanced=True),
        Param("PROJECTION_DIM", "int", "Projection width", "width of the projection MLP (SimSiam: 2048)",
              default=512, minimum=8, advanced=True),
        Param("PREDICTION_DIM", "int", "Prediction bottleneck width",
              "hidden width of the prediction MLP (SimSiam: a quarter of the projection width)", default=128,
              minimum=4, advanced=True),
        Param("ARCH_ARGS", "text", "Architecture arguments (JSON)",
              'JSON object of architecture arguments, e.g. {"decoder_channels": [64, 32, 16, 16, 16]}', default="",
              optional=True, advanced=True),
        Param("WEIGHT_DECAY", "float", "Weight decay", "SGD weight decay", default=1e-4, minimum=0.0, advanced=True),
        WARMUP,
        AMP,
        CHECKPOINT_EVERY,
        RESUME_EVERY,
        THREADS,
        SYNC_BATCHNORM,
        Param("OUTPUT", "file_out", "Pretrained encoder", "encoder checkpoint to write (.safetensors)",
              file_filter="Encoder (*.safetensors)"),
        Param("OUTPUT_REPORT", "file_out", "Report", "HTML report (empty: name.report.html beside the encoder)",
              optional=True, file_filter="HTML files (*.html)"),
    ),
    outputs=(
        Output("RESUME_STATE", "file", "Resume state"),
        Output("STEPS", "number", "Steps trained"),
        Output("FINAL_LOSS", "number", "Final loss"),
        Output("OUTPUT_STD", "number", "Output spread (collapse statistic)"),
        Output("PROBE_MIOU", "number", "Linear probe mIoU"),
        Output("FINE_TUNE_MIOU", "number", "Fine-tuned mIoU"),
        Output("RANDOM_INIT_MIOU", "number", "Random initialisation mIoU"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..device import set_torch_threads
    from ..pretrain.run import PretrainConfig, pretrain
    from .train_source import _arch_args

    set_torch_threads(args.threads)
    config = PretrainConfig(
        output=args.output, composites=list(args.composites or []), blocks=list(args.blocks or ()),
        report=args.output_report or "", arch=args.arch, encoder=args.encoder or "",
        arch_args=_arch_args(args.arch_args or ""), block_size=args.block_size, epochs=args.epochs,
        iterations=args.iterations, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        warmup=args.warmup, device=args.device, amp=args.amp, seed=args.seed, resume=args.resume or "",
        save_every=args.checkpoint_every, resume_every=args.resume_every, projection_dim=args.projection_dim,
        prediction_dim=args.prediction_dim,
        eval_blocks=args.eval_blocks or "", eval_iterations=args.eval_iterations,
        encoder_lr_scale=args.encoder_lr_scale,
    )
    return pretrain(config, progress)

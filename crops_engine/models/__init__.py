"""Segmentation models by name: `build_model("unet", in_channels, num_classes, **arch_args)`.

Every model is a `SegmentationModel`: `forward(x (N, C, H, W) float) -> SegmentationOutput(logits
(N, K, H, W), embedding (N, D, H, W), unit norm along D)` for any H, W (padded internally to a
multiple of `model.size_divisor`; `embed=False` / `embedding_stride` skip or thin the embedding),
and `model.arch_args` rebuilds it, which is how checkpoints stay self-describing. Importing this
package imports torch and timm: keep it out of code paths that must stay light (the CLI's `--help`, QGIS).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from ..errors import CropsError
from ..model_args import check_arch_args
from .agrifm import AgriFM
from .heads import SegmentationModel, SegmentationOutput
from .transunet import TransUNet
from .unet import UNet
from .utae import UTAE

ARCHITECTURES: dict[str, Callable[..., SegmentationModel]] = {
    "unet": UNet,
    "transunet": TransUNet,
    "utae": UTAE,  # temporal: a series' steps x bands (build-series stores)
    "agrifm": AgriFM,  # temporal: hierarchical spatio-temporal Video Swin (AgriFM)
}

__all__ = ["ARCHITECTURES", "SegmentationModel", "SegmentationOutput", "build_model", "parameter_count"]


def build_model(
    arch: str,
    in_channels: int,
    num_classes: int,
    *,
    encoder_weights: str | os.PathLike[str] | None = None,
    **arch_args: Any,
) -> SegmentationModel:
    """Build architecture `arch` with random weights, or its encoder from a local `encoder_weights` file.

    `encoder_weights` (a .safetensors file or a timm .pth state dict, never downloaded) is not part
    of `arch_args`: once trained, the weights travel in the checkpoint.
    """
    constructor = ARCHITECTURES.get(arch)
    if constructor is None:
        raise CropsError(f"Unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}.")
    if int(in_channels) < 1 or int(num_classes) < 1:
        raise CropsError(f"A model needs at least one input channel and one class, got {in_channels}, {num_classes}.")
    known = [p for p in inspect.signature(constructor).parameters if p not in ("in_channels", "num_classes")]
    unknown = sorted(set(arch_args) - set(known))
    if unknown:
        raise CropsError(f"Unknown argument(s) {', '.join(unknown)} for {arch!r}; known: {', '.join(known)}.")
    try:
        check_arch_args(arch, arch_args, int(in_channels), int(num_classes))
    except ValueError as exc:
        raise CropsError(f"Bad arguments for architecture {arch!r}: {exc}.") from None
    try:
        model = constructor(int(in_channels), int(num_classes), **arch_args)
    except (TypeError, ValueError) as exc:  # e.g. a string where a number belongs
        raise CropsError(f"Bad arguments {arch_args} for architecture {arch!r}: {exc}.") from None
    if encoder_weights is not None:
        model.load_encoder_weights(encoder_weights)
    return model


def parameter_count(model: SegmentationModel, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)

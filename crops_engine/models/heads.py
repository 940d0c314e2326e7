"""What every segmentation model shares: the output contract, padding, the heads, encoder weights.

A model turns `(N, C, H, W)` float features into `SegmentationOutput(logits, embedding)`, both at
the input resolution (the embedding optionally left out or on a coarser grid: `forward`). The
embedding is what the prototype losses of the adaptation compare, so it is L2-normalised along its
channels. Encoders downsample by `size_divisor`; inputs of any other size
are padded (reflect) to a multiple of it inside `forward` and the outputs cropped back, so callers
never have to care about block sizes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from ..errors import CropsError


class SegmentationOutput(NamedTuple):
    """`logits (N, K, H, W)` over the classes and `embedding (N, D, H, W)` with unit L2 norm along D
    (None when the forward pass was asked for no embedding; on the stride grid when given one)."""

    logits: Tensor
    embedding: Tensor | None


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DecoderBlock(nn.Module):
    """Upsample to the skip's size, concatenate the skip, two 3x3 conv-BN-ReLU (U-Net and TransUNet CUP)."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv_bn_relu(in_channels + skip_channels, out_channels)
        self.conv2 = conv_bn_relu(out_channels, out_channels)

    def forward(self, x: Tensor, skip: Tensor | None, size: tuple[int, int]) -> Tensor:
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


def run_decoder(blocks: nn.ModuleList, y: Tensor, skips: list[Tensor], size: tuple[int, int]) -> Tensor:
    """Apply the decoder `blocks` from the deepest features `y`: block i joins skip i (deepest first) while
    there is one, the blocks after the last skip upsample toward the input `size`."""
    for i, block in enumerate(blocks):
        skip = skips[i] if i < len(skips) else None
        y = block(y, skip, skip.shape[-2:] if skip is not None else size)
    return y


class ProjectionHead(nn.Module):
    """1x1 conv - BN - ReLU - 1x1 conv to `embedding_dim`, then L2 normalisation per pixel."""

    def __init__(self, in_channels: int, embedding_dim: int = 64) -> None:
        super().__init__()
        self.proj = nn.Sequential(
            nn.Conv2d(in_channels, embedding_dim, 1, bias=False),
            nn.BatchNorm2d(embedding_dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(embedding_dim, embedding_dim, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(self.proj(x), p=2, dim=1)


class SegmentationModel(nn.Module):
    """Base of every architecture in the registry.

    Subclasses set `arch` (the registry name), `size_divisor`, call `__init__` with the full
    keyword arguments that rebuild them (`arch_args`, JSON-serialisable: they go into checkpoints)
    and implement `decode(x) -> features` (final decoder features at the padded input resolution).
    """

    arch: str = ""

    def __init__(self, in_channels: int, num_classes: int, arch_args: dict[str, Any],
                 decoder_out_channels: int, embedding_dim: int) -> None:
        super().__init__()
        self.in_channels = int(in_channels)
        self.num_classes = int(num_classes)
        self.arch_args = json_safe(arch_args)
        self.size_divisor = 1
        self.segmentation_head = nn.Conv2d(decoder_out_channels, num_classes, kernel_size=3, padding=1)
        self.projection_head = ProjectionHead(decoder_out_channels, embedding_dim)

    @property
    def embedding_dim(self) -> int:
        return int(self.projection_head.proj[-1].out_channels)

    def decode(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor, embed: bool = True, embedding_stride: int = 1) -> SegmentationOutput:
        """Logits and embedding of `x (N, C, H, W)`, both at the input resolution.

        The projection head is a sizeable share of a pass at full resolution (forward and backward):
        `embed=False` skips it (embedding None), `embedding_stride=s` runs it on every s-th pixel of each
        row and column only (embedding (N, D, ceil(H / s), ceil(W / s)), a regular sample of the pixels).
        """
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise CropsError(
                f"The {self.arch} model expects input of shape (N, {self.in_channels}, H, W) "
                f"(one channel per input feature), got {tuple(x.shape)}."
            )
        if not x.is_floating_point():
            raise CropsError(f"The {self.arch} model expects float input, got {x.dtype}: normalise the features first.")
        height, width = x.shape[-2:]
        features = self.decode(pad_to_multiple(x, self.size_divisor))
        features = features[..., :height, :width]
        logits = self.segmentation_head(features)
        if not embed:
            return SegmentationOutput(logits, None)
        if embedding_stride > 1:
            features = features[..., ::embedding_stride, ::embedding_stride]
        return SegmentationOutput(logits, self.projection_head(features))

    def load_encoder_weights(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Initialise the encoder from a local weights file (see `load_matching_weights`)."""
        raise CropsError(f"The {self.arch} architecture does not support pretrained encoder weights.")


def pad_to_multiple(x: Tensor, divisor: int) -> Tensor:
    """Pad bottom/right to a multiple of `divisor`: reflect, or replicate where the input is too small."""
    height, width = x.shape[-2:]
    pad_h, pad_w = (-height) % divisor, (-width) % divisor
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


def json_safe(value: Any) -> Any:
    """Tuples to lists, recursively, so arch_args survive a JSON round trip unchanged."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


# --- pretrained encoder weights from a local file ----------------------------------------------

_WRAPPER_KEYS = ("state_dict_ema", "state_dict", "model_ema", "model")


def read_weights_file(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """Tensors of a `.safetensors` file, or of a `.pth/.pt/.bin` state dict loaded with `weights_only=True`.

    Never unpickles arbitrary objects: torch's restricted loader refuses anything but tensors
    and plain containers. Training checkpoints that wrap the weights (`{"state_dict": ...}`)
    and `module.` prefixes of DataParallel are unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise CropsError(f"Pretrained weights file {path} does not exist.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # safetensors and torch raise several types for a bad file
        raise CropsError(
            f"Cannot read pretrained weights {path}: {exc}. Give a .safetensors file or a timm .pth state dict."
        ) from None
    if isinstance(state, dict):
        for key in _WRAPPER_KEYS:
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CropsError(f"Pretrained weights {path} do not hold a state dict (a mapping of names to tensors).")
    return {re.sub(r"^module\.", "", k): v for k, v in state.items()}


def _match_key(key: str) -> str:
    # timm's features_only wrappers flatten module paths ("stages.0" -> "stages_0"): compare without dots.
    return key.replace(".", "_")


def adapt_first_conv(weight: Tensor, in_channels: int) -> Tensor:
    """timm's adapt_input_conv: sum RGB filters for one channel, else repeat them and rescale by 3 / C."""
    from timm.models import adapt_input_conv

    try:
        return adapt_input_conv(in_channels, weight)
    except (NotImplementedError, AssertionError):
        raise CropsError(
            f"Cannot adapt a first convolution with {weight.shape[1]} input channels to {in_channels}: "
            "only RGB (3-channel) pretrained weights can be adapted."
        ) from None


def load_matching_weights(
    module: nn.Module,
    path: str | os.PathLike[str],
    in_channels: int,
    adapt: Callable[[str, Tensor, Tensor], Tensor | None] | None = None,
) -> dict[str, int]:
    """Load the tensors of `path` whose names match `module`'s; every parameter of `module` must be found.

    A 4-D weight that differs only in its input channels (the first convolution of an RGB model)
    is adapted to `in_channels`; other shape differences go through `adapt(key, source, target)`
    (e.g. position embeddings), and any left raise a CropsError. Extra tensors of modules the
    encoder lacks (a classifier head) are ignored; extra tensors inside its modules (deeper
    stages of a bigger model) are an error. Returns counts: loaded, adapted, ignored.
    """
    source = read_weights_file(path)
    by_match = {_match_key(k): k for k in source}
    target = module.state_dict()
    loaded: dict[str, Tensor] = {}
    missing: list[str] = []
    mismatched: list[str] = []
    adapted = 0
    for key, tensor in target.items():
        source_key = by_match.get(_match_key(key))
        if source_key is None:
            if not key.endswith("num_batches_tracked"):
                missing.append(key)
            continue
        value = source[source_key]
        if value.shape != tensor.shape:
            if (value.ndim == 4 and tensor.ndim == 4 and value.shape[0] == tensor.shape[0]
                    and value.shape[2:] == tensor.shape[2:] and tensor.shape[1] == in_channels):
                value = adapt_first_conv(value, in_channels)
            elif adapt is not None and (new := adapt(key, value, tensor)) is not None:
                value = new
            else:
                mismatched.append(f"{key} {tuple(value.shape)} vs {tuple(tensor.shape)}")
                continue
            adapted += 1
        loaded[key] = value.to(dtype=tensor.dtype)
    # Tensors of modules the encoder has but did not use (a resnet34 file in a resnet18) mean another model;
    # those of modules it lacks (a classifier head, a class token) are expected and ignored.
    used = {_match_key(k) for k in loaded}
    roots = {k.split(".")[0] for k in target}
    surplus = [k for k in source if _match_key(k) not in used
               and any(r == k.split(".")[0] or r.startswith(k.split(".")[0] + "_") for r in roots)]
    if missing or mismatched or surplus:
        problems = []
        if missing:
            problems.append(f"{len(missing)} encoder tensors missing (e.g. {', '.join(missing[:3])})")
        if mismatched:
            problems.append(f"{len(mismatched)} with other shapes (e.g. {'; '.join(mismatched[:3])})")
        if surplus:
            problems.append(f"{len(surplus)} tensors the encoder does not have (e.g. {', '.join(surplus[:3])})")
        raise CropsError(
            f"Pretrained weights {path} do not fit this encoder: {' and '.join(problems)}. "
            "Use weights of the same timm model as the encoder."
        )
    module.load_state_dict(loaded, strict=False)
    return {"loaded": len(loaded), "adapted": adapted, "ignored": len(source) - len(loaded)}

"""U-Net on a timm encoder: the fast default on CPUs (resnet18 encoder, ~14 M parameters).

Any timm model that supports `features_only` can be the encoder; its first convolution takes
one channel per input feature. The decoder walks back up the encoder's feature pyramid, at each
step upsampling to the next skip's size, concatenating it and applying two 3x3 conv-BN-ReLU; a last
block without skip returns to the input resolution.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from torch import Tensor, nn

from ..errors import CropsError
from .heads import DecoderBlock, SegmentationModel, load_matching_weights, run_decoder

DEFAULT_DECODER_CHANNELS = (256, 128, 64, 32, 16)


def create_encoder(name: str, in_channels: int) -> nn.Module:
    """A timm `features_only` encoder with random weights (nothing is ever downloaded)."""
    import timm

    if not timm.is_model(name):
        raise CropsError(
            f"Unknown encoder {name!r}: give the name of a timm model, e.g. 'resnet18', 'resnet34', "
            "'efficientnet_b0' (see timm.list_models())."
        )
    try:
        return timm.create_model(name, pretrained=False, features_only=True, in_chans=in_channels)
    except Exception as exc:  # timm raises RuntimeError/AssertionError/... for encoders it cannot wrap
        raise CropsError(f"timm model {name!r} cannot be used as a U-Net encoder (features_only): {exc}") from None


def decoder_channels_for(encoder_module: nn.Module, encoder: str, decoder_channels: Sequence[int] | None) -> list[int]:
    """The decoder's block widths for a timm `features_only` encoder: one block per skip (every feature level but
    the deepest), plus one back to full resolution when the first level is already reduced."""
    channels = list(encoder_module.feature_info.channels())
    reductions = list(encoder_module.feature_info.reduction())
    n_blocks = len(channels) - 1 + (1 if reductions[0] > 1 else 0)
    if decoder_channels is None:
        if n_blocks > len(DEFAULT_DECODER_CHANNELS):
            raise CropsError(f"Encoder {encoder!r} has {len(channels)} feature levels: give decoder_channels.")
        decoder_channels = DEFAULT_DECODER_CHANNELS[-n_blocks:]
    decoder_channels = [int(c) for c in decoder_channels]
    if len(decoder_channels) != n_blocks:
        raise CropsError(
            f"decoder_channels needs {n_blocks} values for encoder {encoder!r}, got {len(decoder_channels)}."
        )
    return decoder_channels


def unet_decoder(encoder_module: nn.Module, decoder_channels: Sequence[int]) -> nn.ModuleList:
    """The U-Net decoder's blocks walking `encoder_module`'s feature pyramid back up (`heads.run_decoder` runs them)."""
    channels = list(encoder_module.feature_info.channels())
    skips = channels[-2::-1] + [0] * (len(decoder_channels) - (len(channels) - 1))
    in_chs = [channels[-1], *decoder_channels[:-1]]
    return nn.ModuleList(DecoderBlock(i, s, o) for i, s, o in zip(in_chs, skips, decoder_channels, strict=True))


class UNet(SegmentationModel):
    """U-Net with skips on a timm encoder; `size_divisor` is the encoder's deepest reduction (32 for resnet18)."""

    arch = "unet"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        encoder: str = "resnet18",
        decoder_channels: Sequence[int] | None = None,
        embedding_dim: int = 64,
    ) -> None:
        encoder_module = create_encoder(encoder, in_channels)
        decoder_channels = decoder_channels_for(encoder_module, encoder, decoder_channels)
        super().__init__(
            in_channels,
            num_classes,
            dict(encoder=encoder, decoder_channels=decoder_channels, embedding_dim=embedding_dim),
            decoder_out_channels=decoder_channels[-1],
            embedding_dim=embedding_dim,
        )
        self.encoder = encoder_module
        self.size_divisor = int(max(encoder_module.feature_info.reduction()))
        self.decoder = unet_decoder(encoder_module, decoder_channels)

    def decode(self, x: Tensor) -> Tensor:
        features = self.encoder(x)
        skips = features[-2::-1]
        return run_decoder(self.decoder, features[-1], skips, x.shape[-2:])

    def load_encoder_weights(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Encoder weights of the same timm model (e.g. a resnet18 state dict), RGB stem adapted to C."""
        return load_matching_weights(self.encoder, path, self.in_channels)

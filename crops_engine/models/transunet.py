"""TransUNet (Chen et al. 2021): R50-ViT-B/16 hybrid encoder and cascaded up-sampling decoder (CUP).

The method's reference backbone. Encoder: timm's ResNetV2-50 (StdConv + GroupNorm, stages (3, 4, 9))
whose stem (1/2), first (1/4) and second (1/8) stages give the skips; its third stage (1/16,
1024 channels) is projected by a 1x1 convolution to tokens for a ViT-B (12 blocks, 768 wide, 12
heads). Module names are those of timm's `vit_base_r50_s16_224`, so its state dict loads as
pretrained weights. Decoder: 3x3 conv to 512, then four blocks (upsample x2, concatenate the skip,
two 3x3 conv-BN-ReLU) to (256, 128, 64, 16) channels.

Position embeddings are learnt for `img_size` (default 224, the paper's; use the block size, e.g.
32 for the Flanders data, so none are interpolated) and bicubically resampled for other sizes.
Any input size works: inputs are padded to a multiple of 16 (a 32 x 32 block gives 2 x 2 tokens).
Smaller configurations (`backbone_layers`, `embed_dim`, `depth`, `num_heads`) build tiny models for tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial

import torch
from timm.layers import HybridEmbed, StdConv2dSame, resample_abs_pos_embed
from timm.models.resnetv2 import ResNetV2
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

from ..errors import CropsError
from .heads import DecoderBlock, SegmentationModel, load_matching_weights, run_decoder

PATCH_STRIDE = 16


def create_hybrid_vit(
    in_channels: int,
    img_size: int,
    backbone_layers: Sequence[int],
    embed_dim: int,
    depth: int,
    num_heads: int,
    mlp_ratio: float,
    drop_rate: float,
) -> nn.Module:
    """timm VisionTransformer over a ResNetV2 stem, built exactly as timm's R50 hybrids but without class token."""
    backbone = ResNetV2(
        layers=tuple(backbone_layers),
        num_classes=0,
        global_pool="",
        in_chans=in_channels,
        preact=False,
        stem_type="same",
        conv_layer=partial(StdConv2dSame, eps=1e-8),
    )
    embed_layer = partial(HybridEmbed, backbone=backbone)  # runs the backbone once to find the grid
    return VisionTransformer(
        img_size=img_size,
        patch_size=1,
        in_chans=in_channels,
        num_classes=0,
        global_pool="",
        class_token=False,
        embed_dim=embed_dim,
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        pos_drop_rate=drop_rate,
        embed_layer=embed_layer,
    )


class TransUNet(SegmentationModel):
    """TransUNet; default arguments are the paper's R50-ViT-B/16 (~105 M parameters)."""

    arch = "transunet"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        img_size: int = 224,
        backbone_layers: Sequence[int] = (3, 4, 9),
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        drop_rate: float = 0.1,
        decoder_channels: Sequence[int] = (256, 128, 64, 16),
        embedding_dim: int = 64,
    ) -> None:
        if img_size < PATCH_STRIDE or img_size % PATCH_STRIDE:
            raise CropsError(f"TransUNet img_size must be a multiple of {PATCH_STRIDE}, got {img_size}.")
        if len(backbone_layers) != 3 or min(backbone_layers) < 1:
            raise CropsError(f"TransUNet backbone_layers must be 3 block counts >= 1, got {list(backbone_layers)}.")
        if embed_dim % num_heads:
            raise CropsError(f"TransUNet embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads}).")
        if len(decoder_channels) != 4:
            raise CropsError(f"TransUNet decoder_channels must have 4 values, got {list(decoder_channels)}.")
        decoder_channels = [int(c) for c in decoder_channels]
        super().__init__(
            in_channels,
            num_classes,
            dict(img_size=img_size, backbone_layers=list(backbone_layers), embed_dim=embed_dim, depth=depth,
                 num_heads=num_heads, mlp_ratio=mlp_ratio, drop_rate=drop_rate, decoder_channels=decoder_channels,
                 embedding_dim=embedding_dim),
            decoder_out_channels=decoder_channels[-1],
            embedding_dim=embedding_dim,
        )
        self.size_divisor = PATCH_STRIDE
        self.grid_size = img_size // PATCH_STRIDE
        self.vit = create_hybrid_vit(in_channels, img_size, backbone_layers, embed_dim, depth, num_heads,
                                     mlp_ratio, drop_rate)
        levels = self.vit.patch_embed.backbone.feature_info[-2::-1]  # 1/8, 1/4, 1/2; none at full resolution
        skip_channels = [int(level["num_chs"]) for level in levels] + [0]
        self.conv_more = nn.Sequential(
            nn.Conv2d(embed_dim, 512, 3, padding=1, bias=False), nn.BatchNorm2d(512), nn.ReLU(inplace=True)
        )
        in_chs = [512, *decoder_channels[:-1]]
        self.decoder = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(in_chs, skip_channels, decoder_channels, strict=True)
        )

    def encode(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Token features as a (N, embed_dim, H/16, W/16) map and the skips at 1/8, 1/4, 1/2."""
        backbone = self.vit.patch_embed.backbone
        stem = backbone.stem
        y = stem.norm(stem.conv(x))
        skips = [y]
        y = stem.pool(y)
        for i, stage in enumerate(backbone.stages):
            y = stage(y)
            if i < len(backbone.stages) - 1:
                skips.append(y)
        y = self.vit.patch_embed.proj(y)
        grid = y.shape[-2:]
        tokens = y.flatten(2).transpose(1, 2)
        pos = self.vit.pos_embed
        if tuple(grid) != (self.grid_size, self.grid_size):
            pos = resample_abs_pos_embed(pos, list(grid), [self.grid_size] * 2, num_prefix_tokens=0)
        tokens = self.vit.pos_drop(tokens + pos)
        tokens = self.vit.norm(self.vit.blocks(self.vit.norm_pre(tokens)))
        return tokens.transpose(1, 2).reshape(y.shape[0], -1, *grid), skips[::-1]

    def decode(self, x: Tensor) -> Tensor:
        y, skips = self.encode(x)
        return run_decoder(self.decoder, self.conv_more(y), skips, x.shape[-2:])

    def load_encoder_weights(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """A timm `vit_base_r50_s16_*` state dict: RGB stem adapted to C, position embeddings resampled."""
        return load_matching_weights(self.vit, path, self.in_channels, adapt=self._adapt_pos_embed)

    def _adapt_pos_embed(self, key: str, source: Tensor, target: Tensor) -> Tensor | None:
        if key != "pos_embed" or source.ndim != 3 or source.shape[-1] != target.shape[-1]:
            return None
        tokens = source.shape[1]
        for prefix in (0, 1):  # timm's hybrids carry a class token; TransUNet has none
            side = int(round((tokens - prefix) ** 0.5))
            if side * side == tokens - prefix:
                with torch.no_grad():
                    grid = [self.grid_size, self.grid_size]
                    resampled = resample_abs_pos_embed(source.float(), grid, [side, side], num_prefix_tokens=prefix)
                return resampled[:, prefix:]
        return None

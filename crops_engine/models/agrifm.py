"""AgriFM-style temporal backbone (Li et al. 2025): a hierarchical spatio-temporal Video Swin Transformer whose
patch merging down-samples time together with space, and a decoder that pools time and fuses the stages.

Input is a series flattened step-major, `(N, T * C, H, W)` (a build-series store's features), reshaped to
`(N, T, C, H, W)` as `utae` does, so every training and adaptation method feeds it as it feeds a U-Net. Inside:

1. a 3-D patch embedding (a Conv3d, patch `t x h x w`, 4 x 2 x 2 by default as AgriFM's) turns the series into
   tokens `(N, E, T / t, H / h, W / w)`; a series whose T is not a multiple of `t` is padded by repeating its
   last step (the padding only ever adds copies of real data);
2. each stage runs Video Swin blocks: self-attention inside local 3-D windows, every second block on windows
   shifted by half a window (with the cyclic-shift mask), so information crosses window borders; a window
   larger than the tokens shrinks to them (no shift then), as Video Swin does;
3. between stages, patch merging halves space (2 x 2 neighbours concatenated, LayerNorm, Linear 4C -> 2C) and,
   while the series still has more than one step, halves time too by averaging neighbouring steps first
   (AgriFM's synchronised temporal down-sampling, `mean_frame_down`): deep stages see a coarser, wider season;
4. the decoder pools each stage's remaining time axis with learnt softmax weights per pixel (which steps
   matter, per location) and walks the pooled pyramid back to full resolution with the U-Net decoder blocks.

Attention bias: the relative position bias of Swin / Video Swin (one learnt value per head per 3-D offset
inside a window), not a simpler learnt bias: it costs (2t-1)(2h-1)(2w-1) x heads values per block, nothing
at run time, and it keeps the parameter names and shapes of the published weights, so an AgriFM checkpoint
maps onto this model tensor for tensor (`crops:import_weights`). Windows smaller than the configured one
index the same table with their own offsets, so a short series or small block uses the learnt values.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from ..errors import CropsError
from .heads import DecoderBlock, SegmentationModel, SegmentationOutput, run_decoder

# The tiny default trains on a CPU; the published AgriFM encoder (configs/cropland_mapping.py of the release).
DEFAULT_ARGS = dict(embed_dim=32, depths=[2, 2], num_heads=[2, 4], window_size=[2, 4, 4], patch_size=[4, 2, 2])
PUBLISHED_ARGS = dict(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=[8, 7, 7],
                      patch_size=[4, 2, 2])
MASK_VALUE = -100.0  # Swin's additive mask between tokens that the cyclic shift brought together


def _triple(value: Sequence[int] | int, name: str) -> tuple[int, int, int]:
    values = [int(value)] * 3 if isinstance(value, int) else [int(v) for v in value]
    if len(values) != 3 or min(values) < 1:
        raise CropsError(f"{name} needs three positive integers (time, height, width), got {value!r}.")
    return values[0], values[1], values[2]


class PatchEmbed3D(nn.Module):
    """Non-overlapping `t x h x w` patches of a series `(N, C, T, H, W)` -> tokens `(N, E, T/t, H/h, W/w)`."""

    def __init__(self, bands: int, embed_dim: int, patch_size: tuple[int, int, int]) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv3d(bands, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        t = x.shape[2]
        pad_t = (-t) % self.patch_size[0]
        if pad_t:  # repeat the last step: a series of any length fills whole temporal patches
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, pad_t, -1, -1)], dim=2)
        pad_h, pad_w = (-x.shape[3]) % self.patch_size[1], (-x.shape[4]) % self.patch_size[2]
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return self.proj(x)


def window_partition(x: Tensor, window: tuple[int, int, int]) -> Tensor:
    """`(B, D, H, W, C)` (multiples of `window`) -> `(B * windows, wd * wh * ww, C)`."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def window_reverse(windows: Tensor, window: tuple[int, int, int], b: int, d: int, h: int, w: int) -> Tensor:
    x = windows.view(b, d // window[0], h // window[1], w // window[2], window[0], window[1], window[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def effective_window(size: tuple[int, int, int], window: tuple[int, int, int],
                     shift: tuple[int, int, int]) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Video Swin's rule: along an axis no longer than the window, the window is the axis and there is no shift."""
    win = tuple(s if s <= w else w for s, w in zip(size, window, strict=True))
    sh = tuple(0 if s <= w else h for s, w, h in zip(size, window, shift, strict=True))
    return win, sh  # type: ignore[return-value]


def shift_mask(size: tuple[int, int, int], window: tuple[int, int, int], shift: tuple[int, int, int],
               device: torch.device) -> Tensor:
    """Additive mask `(windows, n, n)`: tokens of one shifted window that came from different regions never meet."""
    labels = torch.zeros((1, *size, 1), device=device)
    count = 0
    for d in (slice(-window[0]), slice(-window[0], -shift[0]), slice(-shift[0], None)):
        for h in (slice(-window[1]), slice(-window[1], -shift[1]), slice(-shift[1], None)):
            for w in (slice(-window[2]), slice(-window[2], -shift[2]), slice(-shift[2], None)):
                labels[:, d, h, w, :] = count
                count += 1
    groups = window_partition(labels, window).squeeze(-1)
    diff = groups.unsqueeze(1) - groups.unsqueeze(2)
    return diff.masked_fill(diff != 0, MASK_VALUE).masked_fill(diff == 0, 0.0)


class WindowAttention3D(nn.Module):
    """Multi-head self-attention inside a 3-D window with Swin's relative position bias."""

    def __init__(self, dim: int, window: tuple[int, int, int], num_heads: int) -> None:
        super().__init__()
        self.window, self.num_heads = window, int(num_heads)
        self.scale = (dim // self.num_heads) ** -0.5
        rows = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(rows, self.num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def relative_index(self, window: tuple[int, int, int], device: torch.device) -> Tensor:
        """Rows of the bias table for every token pair of a (possibly smaller) window `(n, n)`."""
        coords = torch.stack(torch.meshgrid(*(torch.arange(s, device=device) for s in window), indexing="ij"))
        coords = coords.flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        full = self.window
        rel = rel + torch.tensor([full[0] - 1, full[1] - 1, full[2] - 1], device=device)
        return (rel[..., 0] * (2 * full[1] - 1) + rel[..., 1]) * (2 * full[2] - 1) + rel[..., 2]

    def forward(self, x: Tensor, window: tuple[int, int, int], mask: Tensor | None) -> Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_index(window, x.device).reshape(-1)]
        attn = attn + bias.reshape(n, n, -1).permute(2, 0, 1).unsqueeze(0).to(attn.dtype)
        if mask is not None:
            windows = mask.shape[0]
            attn = attn.view(b // windows, windows, self.num_heads, n, n) + mask.to(attn.dtype)[None, :, None]
            attn = attn.view(-1, self.num_heads, n, n)
        out = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock3D(nn.Module):
    """Pre-norm (shifted) window attention and MLP, both residual, on tokens `(B, D, H, W, C)`."""

    def __init__(self, dim: int, num_heads: int, window: tuple[int, int, int], shift: tuple[int, int, int],
                 mlp_ratio: float) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        b, d, h, w, c = x.shape
        window, shift = effective_window((d, h, w), self.window, self.shift)
        y = self.norm1(x)
        pads = [(-s) % win for s, win in zip((d, h, w), window, strict=True)]
        y = F.pad(y, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        size = (d + pads[0], h + pads[1], w + pads[2])
        mask = None
        if any(shift):
            y = torch.roll(y, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
            mask = shift_mask(size, window, shift, x.device)
        y = self.attn(window_partition(y, window), window, mask)
        y = window_reverse(y, window, b, *size)
        if any(shift):
            y = torch.roll(y, shifts=shift, dims=(1, 2, 3))
        x = x + y[:, :d, :h, :w]
        return x + self.mlp(self.norm2(x))


class PatchMerging3D(nn.Module):
    """Space / 2 (2 x 2 neighbours -> LayerNorm -> Linear 4C -> 2C) and, while T > 1, time / 2 by averaging
    neighbouring steps first (an odd T repeats its last step)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        b, d, h, w, c = x.shape
        if d > 1:
            if d % 2:
                x = torch.cat([x, x[:, -1:]], dim=1)
            x = 0.5 * (x[:, 0::2] + x[:, 1::2])
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


class SwinStage3D(nn.Module):
    def __init__(self, dim: int, depth: int, num_heads: int, window: tuple[int, int, int], mlp_ratio: float,
                 downsample: bool) -> None:
        super().__init__()
        shift = (window[0] // 2, window[1] // 2, window[2] // 2)
        self.blocks = nn.ModuleList(
            SwinBlock3D(dim, num_heads, window, (0, 0, 0) if i % 2 == 0 else shift, mlp_ratio) for i in range(depth)
        )
        self.downsample = PatchMerging3D(dim) if downsample else None


class SwinTransformer3D(nn.Module):
    """The encoder (what `crops:import_weights` fills): patch embedding and stages, Video Swin's tensor names."""

    def __init__(self, bands: int, embed_dim: int, depths: Sequence[int], num_heads: Sequence[int],
                 window: tuple[int, int, int], patch: tuple[int, int, int], mlp_ratio: float) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed3D(bands, embed_dim, patch)
        self.dims = [embed_dim * 2 ** i for i in range(len(depths))]
        self.layers = nn.ModuleList(
            SwinStage3D(self.dims[i], int(depths[i]), int(num_heads[i]), window, mlp_ratio, i < len(depths) - 1)
            for i in range(len(depths))
        )

    def forward(self, x: Tensor) -> list[Tensor]:
        """Series `(N, C, T, H, W)` -> each stage's tokens `(N, D_i, H_i, W_i, C_i)` (before its merging)."""
        x = self.patch_embed(x).permute(0, 2, 3, 4, 1)
        stages = []
        for layer in self.layers:
            for block in layer.blocks:
                x = block(x)
            stages.append(x)
            if layer.downsample is not None:
                x = layer.downsample(x)
        return stages


class TemporalPool(nn.Module):
    """Softmax weights over the remaining steps, learnt per token: `(N, D, H, W, C)` -> `(N, C, H, W)`."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.score = nn.Linear(dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm(x)
        weights = self.score(x).softmax(dim=1)
        return (x * weights).sum(dim=1).permute(0, 3, 1, 2).contiguous()


class AgriFM(SegmentationModel):
    """Hierarchical spatio-temporal transformer: `in_channels` = steps x bands, step-major."""

    arch = "agrifm"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        steps: int = 1,
        embed_dim: int = DEFAULT_ARGS["embed_dim"],
        depths: Sequence[int] = tuple(DEFAULT_ARGS["depths"]),
        num_heads: Sequence[int] = tuple(DEFAULT_ARGS["num_heads"]),
        window_size: Sequence[int] = tuple(DEFAULT_ARGS["window_size"]),
        patch_size: Sequence[int] = tuple(DEFAULT_ARGS["patch_size"]),
        mlp_ratio: float = 4.0,
        decoder_channels: Sequence[int] | None = None,
        embedding_dim: int = 64,
        dates: Sequence[str] | None = None,
    ) -> None:
        steps = int(steps)
        if steps < 1 or in_channels % steps:
            raise CropsError(f"The agrifm model needs in_channels = steps x bands; {in_channels} channels do not "
                             f"split into {steps} steps. Train it on a temporal block store (build-series).")
        bands = in_channels // steps
        depths, num_heads = [int(d) for d in depths], [int(h) for h in num_heads]
        if not depths or len(num_heads) != len(depths) or min(depths) < 1:
            raise CropsError(f"agrifm needs one num_heads per stage of depths, got depths {depths}, "
                             f"num_heads {num_heads}.")
        embed_dim = int(embed_dim)
        for i, heads in enumerate(num_heads):
            if heads < 1 or (embed_dim * 2 ** i) % heads:
                raise CropsError(f"agrifm stage {i + 1} has {embed_dim * 2 ** i} channels, not divisible into "
                                 f"{heads} heads: choose num_heads that divide embed_dim x 2^stage.")
        window, patch = _triple(window_size, "window_size"), _triple(patch_size, "patch_size")
        dims = [embed_dim * 2 ** i for i in range(len(depths))]
        if decoder_channels is None:
            decoder_channels = [*dims[-2::-1], embed_dim]
        decoder_channels = [int(c) for c in decoder_channels]
        if len(decoder_channels) != len(depths):
            raise CropsError(f"agrifm decoder_channels needs {len(depths)} values (one per stage), "
                             f"got {len(decoder_channels)}.")
        dates = [str(d) for d in (dates or [])]
        if dates and len(dates) != steps:
            raise CropsError(f"dates gives {len(dates)} dates for {steps} steps; give one per step.")
        super().__init__(
            in_channels,
            num_classes,
            dict(steps=steps, embed_dim=embed_dim, depths=depths, num_heads=num_heads, window_size=list(window),
                 patch_size=list(patch), mlp_ratio=float(mlp_ratio), decoder_channels=decoder_channels,
                 embedding_dim=embedding_dim, dates=dates),
            decoder_out_channels=decoder_channels[-1],
            embedding_dim=embedding_dim,
        )
        self.steps, self.bands = steps, bands
        self.backbone = SwinTransformer3D(bands, embed_dim, depths, num_heads, window, patch, float(mlp_ratio))
        self.pools = nn.ModuleList(TemporalPool(d) for d in dims)
        self.size_divisor = math.lcm(patch[1], patch[2]) * 2 ** (len(depths) - 1)
        in_chs = [dims[-1], *decoder_channels[:-1]]
        skips = [*dims[-2::-1], 0]
        self.decoder = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(in_chs, skips, decoder_channels, strict=True)
        )

    def forward(self, x: Tensor, embed: bool = True, embedding_stride: int = 1) -> SegmentationOutput:
        """As `SegmentationModel.forward`, for `x (N, T * C, H, W)` or a series `(N, T, C, H, W)`; a series of
        another number of steps or bands is refused by name."""
        if x.ndim == 5:
            if tuple(x.shape[1:3]) != (self.steps, self.bands):
                raise CropsError(f"The agrifm model was made for series of {self.steps} steps x {self.bands} bands, "
                                 f"got {x.shape[1]} steps x {x.shape[2]} bands: build the series with the model's "
                                 "steps and bands.")
            x = x.reshape(x.shape[0], -1, *x.shape[-2:])
        elif x.ndim == 4 and x.shape[1] != self.in_channels:
            raise CropsError(f"The agrifm model expects input of shape (N, {self.in_channels}, H, W), a series of "
                             f"{self.steps} steps x {self.bands} bands, got {x.shape[1]} channels: build the series "
                             "with the model's steps and bands.")
        return super().forward(x, embed=embed, embedding_stride=embedding_stride)

    def stage_tokens(self, x: Tensor) -> list[Tensor]:
        """Each stage's tokens `(N, T_i, H_i, W_i, C_i)` of a padded `x (N, T * C, H, W)`."""
        n, _, h, w = x.shape
        series = x.reshape(n, self.steps, self.bands, h, w).transpose(1, 2)  # (N, C, T, H, W) for the Conv3d
        return self.backbone(series)

    def decode(self, x: Tensor) -> Tensor:
        stages = self.stage_tokens(x)
        pooled = [pool(s) for pool, s in zip(self.pools, stages, strict=True)]
        return run_decoder(self.decoder, pooled[-1], pooled[-2::-1], tuple(x.shape[-2:]))

    def load_encoder_weights(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """The backbone from a weights file with its tensor names (`crops:import_weights` writes one)."""
        from ..weights_import import load_backbone_weights

        return load_backbone_weights(self.backbone, path)

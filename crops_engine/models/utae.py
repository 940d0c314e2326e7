"""U-TAE-style temporal U-Net (Garnot & Landrieu 2021): a timm U-Net encoder per step, temporal attention
over the steps, the U-Net decoder. The fast temporal default on CPUs.

Input is a series flattened step-major, `(N, T * C, H, W)` (the features of a temporal block store,
`t01:B02 .. tT:Bc`), so the model keeps the `SegmentationModel` contract and every training and adaptation
method feeds it as it feeds a U-Net. Inside:

1. the shared encoder runs on every step, `(N * T, C, H, W)`, giving a feature pyramid per step;
2. at the deepest level a lightweight temporal attention encoder (L-TAE) scores each step per pixel:
   keys from the step's features plus a sinusoidal encoding of the step's date (`step_days`, days of
   the step centres since the series' start), dotted with one learnt query per head, softmax over T;
3. every level of the pyramid is aggregated over T with those weights (bilinearly upsampled to the
   level's resolution; the channels split into one group per head), as U-TAE does for its skips;
4. the U-Net decoder (`heads.DecoderBlock`) walks the aggregated pyramid back to full resolution.

The output is a single map (logits + embeddings), so everything downstream is unchanged. `dates` (the
steps' start dates of the training store) are recorded, not computed on: the checkpoint says which part
of the season the model was made for, and a model for T steps meeting another T is refused by name.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from ..errors import CropsError
from .heads import (
    SegmentationModel,
    SegmentationOutput,
    load_matching_weights,
    pad_to_multiple,
    run_decoder,
)
from .unet import create_encoder, decoder_channels_for, unet_decoder

DATE_PERIOD = 1000.0  # the sinusoidal date encoding's longest period (U-TAE's T = 1000 days)


def date_encoding(days: Tensor, dim: int) -> Tensor:
    """Sinusoidal encoding (T, dim) of positions in days (Vaswani et al.; U-TAE encodes acquisition days so)."""
    half = (dim + 1) // 2
    freq = torch.exp(-math.log(DATE_PERIOD) * torch.arange(half, dtype=torch.float32) / max(1, half))
    angle = days.float().reshape(-1, 1) * freq.reshape(1, -1)
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)[:, :dim]


class TemporalAttention(nn.Module):
    """L-TAE on a feature map series: per pixel, softmax weights over the T steps for each of `heads` heads."""

    def __init__(self, in_channels: int, heads: int, key_dim: int, step_days: Sequence[float]) -> None:
        super().__init__()
        self.heads, self.key_dim = int(heads), int(key_dim)
        d_model = self.heads * self.key_dim
        self.inconv = nn.Conv2d(in_channels, d_model, 1)
        self.norm = nn.GroupNorm(self.heads, d_model)
        self.key = nn.Conv2d(d_model, d_model, 1)
        self.query = nn.Parameter(torch.randn(self.heads, self.key_dim) * (self.key_dim ** -0.5))
        self.register_buffer("encoding", date_encoding(torch.tensor(list(step_days)), d_model), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """`x (N, T, C, h, w)` -> weights `(N, T, heads, h, w)`, summing to 1 over T."""
        n, t, c, h, w = x.shape
        z = self.inconv(x.reshape(n * t, c, h, w)).reshape(n, t, -1, h, w)
        z = z + self.encoding.to(z.dtype).reshape(1, t, -1, 1, 1)
        keys = self.key(self.norm(z.reshape(n * t, -1, h, w))).reshape(n, t, self.heads, self.key_dim, h, w)
        scores = torch.einsum("ntdkhw,dk->ntdhw", keys, self.query.to(keys.dtype)) / math.sqrt(self.key_dim)
        return torch.softmax(scores, dim=1)


def aggregate(features: Tensor, weights: Tensor) -> Tensor:
    """Weighted sum over T of `features (N, T, C, h, w)` with `weights (N, T, heads, h', w')`: weights resized to
    (h, w); channels split into one group per head (one shared weight when C does not split evenly)."""
    n, t, c, h, w = features.shape
    heads = weights.shape[2]
    if weights.shape[-2:] != (h, w):
        weights = F.interpolate(weights.reshape(n * t, heads, *weights.shape[-2:]), size=(h, w), mode="bilinear",
                                align_corners=False).reshape(n, t, heads, h, w)
    if c % heads:
        return (features * weights.mean(dim=2, keepdim=True)).sum(dim=1)
    grouped = features.reshape(n, t, heads, c // heads, h, w) * weights.unsqueeze(3)
    return grouped.sum(dim=1).reshape(n, c, h, w)


class UTAE(SegmentationModel):
    """Temporal U-Net: `in_channels` = steps x bands, step-major; `size_divisor` is the encoder's (32 for resnet18)."""

    arch = "utae"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        steps: int = 1,
        encoder: str = "resnet18",
        decoder_channels: Sequence[int] | None = None,
        embedding_dim: int = 64,
        heads: int = 4,
        key_dim: int = 16,
        step_days: Sequence[float] | None = None,
        dates: Sequence[str] | None = None,
    ) -> None:
        steps = int(steps)
        if steps < 1 or in_channels % steps:
            raise CropsError(f"The utae model needs in_channels = steps x bands; {in_channels} channels do not split "
                             f"into {steps} steps. Train it on a temporal block store (build-series).")
        bands = in_channels // steps
        step_days = [float(d) for d in (step_days if step_days is not None else range(steps))]
        if len(step_days) != steps:
            raise CropsError(f"step_days gives {len(step_days)} dates for {steps} steps; give one per step.")
        dates = [str(d) for d in (dates or [])]
        if dates and len(dates) != steps:
            raise CropsError(f"dates gives {len(dates)} dates for {steps} steps; give one per step.")
        encoder_module = create_encoder(encoder, bands)
        decoder_channels = decoder_channels_for(encoder_module, encoder, decoder_channels)
        super().__init__(
            in_channels,
            num_classes,
            dict(steps=steps, encoder=encoder, decoder_channels=decoder_channels, embedding_dim=embedding_dim,
                 heads=int(heads), key_dim=int(key_dim), step_days=step_days, dates=dates),
            decoder_out_channels=decoder_channels[-1],
            embedding_dim=embedding_dim,
        )
        self.steps, self.bands = steps, bands
        self.encoder = encoder_module
        self.size_divisor = int(max(encoder_module.feature_info.reduction()))
        self.temporal = TemporalAttention(encoder_module.feature_info.channels()[-1], heads, key_dim, step_days)
        self.decoder = unet_decoder(encoder_module, decoder_channels)

    def forward(self, x: Tensor, embed: bool = True, embedding_stride: int = 1) -> SegmentationOutput:
        """As `SegmentationModel.forward`, for `x (N, T * C, H, W)` or a series `(N, T, C, H, W)`; a series of
        another number of steps or bands is refused by name."""
        if x.ndim == 5:
            if tuple(x.shape[1:3]) != (self.steps, self.bands):
                raise CropsError(f"The utae model was made for series of {self.steps} steps x {self.bands} bands, "
                                 f"got {x.shape[1]} steps x {x.shape[2]} bands: build the series with the model's "
                                 "steps and bands.")
            x = x.reshape(x.shape[0], -1, *x.shape[-2:])
        elif x.ndim == 4 and x.shape[1] != self.in_channels:
            raise CropsError(f"The utae model expects input of shape (N, {self.in_channels}, H, W), a series of "
                             f"{self.steps} steps x {self.bands} bands, got {x.shape[1]} channels: build the series "
                             "with the model's steps and bands.")
        return super().forward(x, embed=embed, embedding_stride=embedding_stride)

    def attention(self, x: Tensor) -> Tensor:
        """The temporal attention weights `(N, T, heads, h, w)` of `x (N, T * C, H, W)` at the deepest level
        (which steps the model looks at, per pixel)."""
        x = pad_to_multiple(x, self.size_divisor)
        n, _, h, w = x.shape
        deepest = self.encoder(x.reshape(n * self.steps, self.bands, h, w))[-1]
        return self.temporal(deepest.reshape(n, self.steps, *deepest.shape[1:]))

    def decode(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        features = self.encoder(x.reshape(n * self.steps, self.bands, h, w))
        series = [f.reshape(n, self.steps, *f.shape[1:]) for f in features]
        weights = self.temporal(series[-1])
        pyramid = [aggregate(f, weights) for f in series]
        return run_decoder(self.decoder, pyramid[-1], pyramid[-2::-1], (h, w))

    def load_encoder_weights(self, path: str | os.PathLike[str]) -> dict[str, int]:
        """Weights of the same timm model for the per-step encoder (RGB stem adapted to the bands of a step)."""
        return load_matching_weights(self.encoder, path, self.bands)

"""SimSiam's two views of a block, for multispectral blocks rather than RGB photos.

Each view of a normalised block (C bands in units of each band's standard deviation, invalid pixels 0)
is, in this order (probabilities per block and view):

1. random resized crop (always): a square-ish window of 20-100 % of the block's area, aspect ratio
   3/4..4/3, resampled (bilinear) to the block size; fields must be recognisable from part of a block;
2. flips and 90-degree rotations (always): horizontal / vertical flip with probability 1/2 each and a
   rotation by 0, 90, 180 or 270 degrees (nadir imagery has no up);
3. per-band brightness / contrast jitter (p 0.8): each band scaled about its block mean by a factor in
   0.6..1.4 and shifted by -0.4..0.4 standard deviations, independently per band (not one factor for
   all bands as for RGB: atmosphere, season and sensor change bands differently);
4. Gaussian blur (p 0.5): sigma 0.1..1.5 px, kernel 7 px (blocks are small: SimSiam's 10 % of 224 px);
5. Gaussian noise (p 0.5): sigma 0..0.2 standard deviations per pixel and band;
6. band dropout (p 0.2): each band is set to its mean (0) with probability 1/4, never all bands;
7. the asymmetric transform, on the second view only (p 0.2): spectral solarisation, every value above
   its band's mean is reflected below it (x -> -|x|), the multispectral counterpart of the RGB
   solarisation BYOL applies to one view only.

Invalid pixels (nodata, padding) are 0 again after every step. Geometry runs as one `grid_sample` per
view (crop, flip and rotation are one affine map), the rest as batched tensor arithmetic: every draw
comes from the generator given, so a batch's views depend only on the seed and the step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the augmentations (module doc)."""

    crop_scale: tuple[float, float] = (0.2, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    jitter_p: float = 0.8
    contrast: tuple[float, float] = (0.6, 1.4)
    brightness: float = 0.4
    blur_p: float = 0.5
    blur_sigma: tuple[float, float] = (0.1, 1.5)
    blur_kernel: int = 7
    noise_p: float = 0.5
    noise_sigma: float = 0.2
    dropout_p: float = 0.2
    dropout_band_p: float = 0.25
    solarise_p: float = 0.2  # second view only

    def describe(self) -> list[dict[str, object]]:
        """One row per augmentation: name, probability, what it does (for the report and provenance)."""
        return [
            {"name": "random resized crop", "p": 1.0,
             "what": f"{self.crop_scale[0]:.0%}-{self.crop_scale[1]:.0%} of the area, aspect "
                     f"{self.crop_ratio[0]:.2f}-{self.crop_ratio[1]:.2f}, bilinear back to the block size"},
            {"name": "flips and 90-degree rotations", "p": 1.0,
             "what": "horizontal / vertical flip 1/2 each, rotation by k x 90 degrees, k uniform in 0..3"},
            {"name": "per-band brightness / contrast", "p": self.jitter_p,
             "what": f"per band: contrast x{self.contrast[0]:g}..{self.contrast[1]:g} about the block mean, "
                     f"brightness +-{self.brightness:g} std"},
            {"name": "Gaussian blur", "p": self.blur_p,
             "what": f"sigma {self.blur_sigma[0]:g}..{self.blur_sigma[1]:g} px, kernel {self.blur_kernel} px"},
            {"name": "Gaussian noise", "p": self.noise_p, "what": f"sigma 0..{self.noise_sigma:g} std"},
            {"name": "band dropout", "p": self.dropout_p,
             "what": f"each band set to its mean with probability {self.dropout_band_p:g}, never all"},
            {"name": "spectral solarisation (second view only)", "p": self.solarise_p,
             "what": "values above the band mean reflected below it (x -> -|x|)"},
        ]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


DEFAULT = AugmentConfig()


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, *shape: int) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, *shape, generator=g)


def _chance(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def geometry(n: int, cfg: AugmentConfig, g: torch.Generator) -> torch.Tensor:
    """(n, 2, 3) affine maps (output -> input coordinates, `affine_grid`'s convention): a random resized crop
    composed with a flip and a 90-degree rotation."""
    area = _uniform(n, *cfg.crop_scale, g)
    log_ratio = _uniform(n, math.log(cfg.crop_ratio[0]), math.log(cfg.crop_ratio[1]), g)
    ratio = torch.exp(log_ratio)
    w = torch.sqrt(area * ratio).clamp(max=1.0)  # half-widths as fractions of the block's half-width
    h = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (torch.rand(n, generator=g) * 2 - 1) * (1 - w)
    cy = (torch.rand(n, generator=g) * 2 - 1) * (1 - h)
    k = torch.randint(0, 4, (n,), generator=g)
    flip_x = torch.where(_chance(n, 0.5, g), -1.0, 1.0)
    flip_y = torch.where(_chance(n, 0.5, g), -1.0, 1.0)
    angle = k.to(torch.float32) * (math.pi / 2)
    cos, sin = torch.cos(angle).round(), torch.sin(angle).round()  # exact for multiples of 90 degrees
    # input = diag(w, h) @ R(k) @ diag(flip) @ output + centre
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = w * cos * flip_x
    theta[:, 0, 1] = -w * sin * flip_y
    theta[:, 1, 0] = h * sin * flip_x
    theta[:, 1, 1] = h * cos * flip_y
    theta[:, 0, 2] = cx
    theta[:, 1, 2] = cy
    return theta


def _blur(x: torch.Tensor, sigma: torch.Tensor, kernel: int) -> torch.Tensor:
    """Separable Gaussian blur of x (n, C, H, W) with one sigma per block (reflect padding)."""
    n, c, height, width = x.shape
    radius = kernel // 2
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    weights = torch.exp(-(offsets[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    weights = weights / weights.sum(dim=1, keepdim=True)  # (n, k)
    weights = weights.repeat_interleave(c, dim=0)  # (n * C, k): one kernel per block and band
    flat = x.reshape(1, n * c, height, width)
    pad_mode = "reflect" if radius < min(height, width) else "replicate"
    flat = F.pad(flat, (radius, radius, 0, 0), mode=pad_mode)
    flat = F.conv2d(flat, weights[:, None, None, :], groups=n * c)
    flat = F.pad(flat, (0, 0, radius, radius), mode=pad_mode)
    flat = F.conv2d(flat, weights[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, height, width)


def view(images: torch.Tensor, valid: torch.Tensor, g: torch.Generator, cfg: AugmentConfig = DEFAULT,
         asymmetric: bool = False) -> torch.Tensor:
    """One augmented view of normalised blocks `images` (n, C, H, W) with valid masks (n, H, W)."""
    n, c, height, width = images.shape
    theta = geometry(n, cfg, g)
    grid = F.affine_grid(theta, [n, c, height, width], align_corners=False)
    x = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mask = F.grid_sample(valid[:, None].to(images.dtype), grid, mode="nearest", padding_mode="border",
                         align_corners=False) > 0.5
    x = x * mask

    # Each transform draws its numbers for every block (so the draws do not depend on which blocks it applies
    # to) and computes on the blocks it applies to only.
    # per-band brightness / contrast about the block's mean over its valid pixels
    on = _chance(n, cfg.jitter_p, g).nonzero().flatten()
    contrast = _uniform(n, *cfg.contrast, g, c, 1, 1)
    shift = _uniform(n, -cfg.brightness, cfg.brightness, g, c, 1, 1)
    if len(on):
        part = x[on]
        mean = part.sum(dim=(2, 3), keepdim=True) / mask[on].sum(dim=(2, 3), keepdim=True).clamp(min=1)
        x[on] = (part - mean) * contrast[on] + mean + shift[on]

    on = _chance(n, cfg.blur_p, g).nonzero().flatten()
    sigma = _uniform(n, *cfg.blur_sigma, g)
    if len(on):
        x[on] = _blur(x[on], sigma[on], cfg.blur_kernel)

    on = _chance(n, cfg.noise_p, g).nonzero().flatten()
    noise_sigma = _uniform(n, 0.0, cfg.noise_sigma, g)[:, None, None, None]
    noise = torch.randn(x.shape, generator=g)
    if len(on):
        x[on] += noise_sigma[on] * noise[on]

    apply = _chance(n, cfg.dropout_p, g)[:, None, None, None]
    drop = torch.rand(n, c, 1, 1, generator=g) < cfg.dropout_band_p
    drop &= ~drop.all(dim=1, keepdim=True)  # never every band
    x = x.masked_fill(apply & drop, 0.0)

    if asymmetric:
        on = _chance(n, cfg.solarise_p, g).nonzero().flatten()
        if len(on):
            x[on] = -x[on].abs()
    return x.mul_(mask)


def two_views(images: torch.Tensor, valid: torch.Tensor, g: torch.Generator,
              cfg: AugmentConfig = DEFAULT) -> tuple[torch.Tensor, torch.Tensor]:
    """The two views of SimSiam: the same recipe, the asymmetric transform on the second one only."""
    return view(images, valid, g, cfg), view(images, valid, g, cfg, asymmetric=True)


def generator_for(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """The generator of step `step`'s views: a function of (seed, step) only, so a resumed run draws the same;
    under torchrun each process (`rank` > 0) draws its own for its slice of the global batch."""
    import numpy as np

    entropy = [int(seed), int(step), 0x51A5] + ([int(rank)] if rank else [])
    state = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))

"""One date's sky: thick clouds with their displaced shadows, and thin cirrus."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .noise import SmoothNoise, centres
from .spectra import PIXEL_SIZE


@dataclass
class Sky:
    """One date's clouds: thick clouds with their shadows, and thin cirrus."""

    thick: SmoothNoise | None
    thick_level: float
    cirrus: SmoothNoise | None
    cirrus_level: float
    shadow_offset: tuple[float, float]  # (rows, columns) from a pixel to the cloud that shades it

    def layers(self, r0: int, r1: int, width: int) -> tuple[np.ndarray, ...]:
        """Cloud opacity, shadow strength and cirrus density (0..1) of rows r0..r1."""
        ys, xs = centres(r0, r1), centres(0, width)
        zero = np.zeros((r1 - r0, width), dtype=np.float32)
        alpha, shade, haze = zero, zero, zero
        if self.thick is not None:
            soft = 0.35
            depth = self.thick.sample(ys, xs) - self.thick_level
            alpha = np.where(depth > 0, 0.15 + 0.85 * np.clip(depth / soft, 0.0, 1.0), 0.0).astype(np.float32)
            dy, dx = self.shadow_offset
            shade = np.clip((self.thick.sample(ys + dy, xs + dx) - self.thick_level) / soft, 0.0, 1.0)
        if self.cirrus is not None:
            density = self.cirrus.sample(ys, xs) - self.cirrus_level
            haze = np.where(density > 0, 0.35 + 0.65 * np.clip(density / 0.8, 0.0, 1.0), 0.0).astype(np.float32)
        return alpha, shade, haze


def cloud_shares(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    """Per-date cloudy shares averaging `mean`: many clear dates, a few overcast ones.

    share = u ** g has mean 1 / (1 + g); stratified u keeps the mean close for few dates.
    """
    if mean <= 0 or n == 0:
        return np.zeros(n)
    u = (rng.permutation(n) + rng.random(n)) / n
    shares = u ** (1.0 / mean - 1.0)
    return np.where(shares < 0.005, 0.0, shares)


def sky(rng: np.random.Generator, size: int, share: float, day_of_year: int) -> Sky:
    if share <= 0:
        return Sky(None, 0.0, None, 0.0, (0.0, 0.0))
    cirrus_share = share * rng.uniform(0.3, 0.8) if rng.random() < 0.3 else 0.0
    thick_share = share - cirrus_share
    # Shadows fall away from the sun (south-south-east at 11:00 in western Europe): a pixel is
    # shaded by the cloud lying sun-ward of it, further when the sun is low.
    declination = 23.44 * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    elevation = math.radians(max(15.0, 90.0 - 51.0 + declination - 4.0))
    reach = rng.uniform(600.0, 1400.0) / math.tan(elevation) / PIXEL_SIZE
    azimuth = math.radians(rng.uniform(150.0, 170.0))
    offset = (-math.cos(azimuth) * reach, math.sin(azimuth) * reach)  # rows grow southward
    margin = reach + 4
    thick = cirrus = None
    thick_level = cirrus_level = float("inf")
    if thick_share > 0:
        thick = SmoothNoise(rng, size, size, (160, 80, 40, 20, 10, 5), decay=0.55, margin=margin)
        thick_level = thick.threshold(size, size, thick_share)
    if cirrus_share > 0:
        cirrus = SmoothNoise(rng, size, size, (90, 45, 22), decay=0.5, stretch=(0.35, 1.6))
        # Cirrus is flagged only where no thick cloud is; aim the share at the clear rest.
        cirrus_level = cirrus.threshold(size, size, min(1.0, cirrus_share / max(1e-6, 1.0 - thick_share)))
    return Sky(thick, thick_level, cirrus, cirrus_level, offset)

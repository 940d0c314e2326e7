"""The natural-colour style of a composite: which bands are red, green and blue, and their stretch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_RGB_NAMES = (("B04", "B4", "RED"), ("B03", "B3", "GREEN"), ("B02", "B2", "BLUE"))


def rgb_bands(descriptions: Sequence[str], red_band: int) -> tuple[int, int, int] | None:
    """Output bands (1-based) for a natural-colour view: by name (B04/B03/B02), else red, red-1, red-2."""
    upper = [d.strip().upper() for d in descriptions]
    found = []
    for names in _RGB_NAMES:
        hit = next((i + 1 for i, d in enumerate(upper) if d in names), None)
        found.append(hit)
    if all(found):
        return found[0], found[1], found[2]
    if red_band >= 3 and red_band <= len(descriptions):
        return red_band, red_band - 1, red_band - 2
    return None


def stretch(samples: list[np.ndarray], nodata: float) -> list[tuple[float, float]]:
    """Per RGB band, the 2nd..98th percentile of the sampled pixels (0..2000 when none was sampled)."""
    if not samples:
        return [(0.0, 2000.0)] * 3
    values = np.concatenate(samples, axis=1).astype(np.float64)
    ranges = []
    for row in values:
        row = row[np.isfinite(row) & (row != nodata)]
        if row.size == 0:
            ranges.append((0.0, 2000.0))
            continue
        lo, hi = np.percentile(row, [2, 98])
        ranges.append((float(lo), float(hi if hi > lo else lo + 1)))
    return ranges

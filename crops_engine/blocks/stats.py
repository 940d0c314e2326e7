"""Per-band mean and standard deviation of a window too large to hold, merged strip by strip."""

from __future__ import annotations

import numpy as np


class RunningStats:
    """Per-band count, mean and sum of squared deviations in float64, merged strip by strip
    (Chan et al.), so the mean/std of a whole tile need one strip in memory at a time."""

    def __init__(self, bands: int) -> None:
        self.count = 0
        self.mean = np.zeros(bands, dtype=np.float64)
        self.m2 = np.zeros(bands, dtype=np.float64)

    def update(self, x: np.ndarray, valid: np.ndarray) -> None:
        """Add the valid pixels of x (bands, h, w); valid (h, w) bool. One band in float64 at a time."""
        n = int(valid.sum())
        if n == 0:
            return
        mean = np.empty_like(self.mean)
        m2 = np.empty_like(self.m2)
        flat_valid = None if n == valid.size else valid.reshape(-1)
        for b in range(len(mean)):
            band = np.ascontiguousarray(x[b]).reshape(-1)
            # 1-D boolean selection: no index arrays (a 2-D mask would allocate 16 bytes a pixel)
            d = (band if flat_valid is None else band[flat_valid]).astype(np.float64)
            mean[b] = d.mean()
            d -= mean[b]
            m2[b] = np.dot(d, d)
            del d
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.count) if self.count else np.zeros_like(self.m2)

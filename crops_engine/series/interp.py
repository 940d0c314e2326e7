"""Gaps of a series filled by linear interpolation in time, per pixel.

A step a pixel has no clear observation in takes the value interpolated linearly between the nearest
observed steps before and after it (on the steps' centre dates); before the first or after the last
observed step it takes that step's value (constant extrapolation, as `numpy.interp`). A pixel never
observed stays NaN. Vectorised over the window: two passes of running max / min find each step's
neighbours, so the cost is a few array passes per step, never a loop over pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fill_gaps(x: np.ndarray, observed: np.ndarray, days: Sequence[float]) -> np.ndarray:
    """`x (T, C, h, w)` float32 with unobserved steps filled in place (and returned).

    `observed (T, h, w)` bool marks the steps whose value is a real observation; `days (T,)`
    are the steps' positions in time (increasing).
    """
    t_count = x.shape[0]
    if t_count == 0 or observed.all():
        return x
    days = np.asarray(days, dtype=np.float32)
    steps = np.arange(t_count, dtype=np.int32).reshape(-1, 1, 1)
    prev = np.where(observed, steps, -1)
    np.maximum.accumulate(prev, axis=0, out=prev)
    nxt = np.where(observed, steps, t_count)
    nxt = np.minimum.accumulate(nxt[::-1], axis=0)[::-1]
    has_prev, has_next = prev >= 0, nxt < t_count
    p = np.where(has_prev, prev, np.where(has_next, nxt, 0))
    n = np.where(has_next, nxt, p)
    p = np.where(has_prev, p, n)
    # weight of the next observation: 0 at the previous one, 1 at the next one (0 when they are the same step)
    dp, dn = days[p], days[n]
    span = dn - dp
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(span > 0, (days.reshape(-1, 1, 1) - dp) / span, np.float32(0.0)).astype(np.float32)
    never = ~(has_prev | has_next)
    for t in range(t_count):
        gap = ~observed[t]
        if not gap.any():
            continue
        pt, nt, wt = p[t][gap], n[t][gap], weight[t][gap]
        rows, cols = np.nonzero(gap)
        before = x[pt, :, rows, cols]  # (pixels, C)
        after = x[nt, :, rows, cols]
        x[t][:, rows, cols] = (before + (after - before) * wt[:, None]).T
        x[t][:, never[t]] = np.nan
    return x

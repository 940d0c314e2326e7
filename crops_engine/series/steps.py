"""The temporal grid of a series: regular steps of STEP_DAYS between START_DATE and END_DATE.

A step is the half-open date window [start, end); its feature names are `t<step>:<band>` (e.g.
`t04:B04`, steps numbered from 1), step-major. The names are relative on purpose: a model trained on
2018's April..October adapts to 2019's, whose steps have other dates but the same places in the season
(the dates themselves are recorded beside: the store's `series` attribute, the model's `dates`). A
checkpoint's feature list alone says how many steps and which bands a model was made for
(`series_of_features`), so a model for 12 monthly steps meeting 8 is told so (`series_mismatch`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import CropsError

MAX_STEPS = 366  # a daily grid over a year; more is a mistyped STEP_DAYS
_FEATURE = re.compile(r"^t(\d{2,3}):(.+)$")
_SOURCE_FEATURE = re.compile(r"^([^:]+):t\d{2,3}:.+$")  # a store of several sources (AgriFM): `S2:t01:B02`


@dataclass(frozen=True)
class Step:
    """One step: the scenes acquired in [start, end) are composited into it."""

    start: date
    end: date  # exclusive

    @property
    def centre(self) -> date:
        return self.start + (self.end - self.start) / 2

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "centre": self.centre.isoformat()}


def step_grid(start: date, end: date, step_days: int) -> list[Step]:
    """Steps of `step_days` from `start`; the last one ends the day after `end` (END_DATE is inclusive).

    A remainder shorter than half a step joins the last step (no one-day step at the end); a longer one
    is a shorter last step.
    """
    step_days = int(step_days)
    if step_days < 1:
        raise CropsError(f"STEP_DAYS must be at least 1 day; got {step_days}.")
    if start > end:
        raise CropsError(f"START_DATE {start} is after END_DATE {end}; swap them.")
    stop = end + timedelta(days=1)
    total = (stop - start).days
    count = -(-total // step_days)
    if count > 1 and 2 * (total - (count - 1) * step_days) < step_days:
        count -= 1
    if count > MAX_STEPS:
        raise CropsError(f"{start} .. {end} in steps of {step_days} days makes {count} steps (at most {MAX_STEPS}); "
                         "use a larger STEP_DAYS or a shorter date window.")
    return [Step(start + timedelta(days=k * step_days),
                 stop if k == count - 1 else start + timedelta(days=(k + 1) * step_days)) for k in range(count)]


def step_slices(steps: Sequence[Step], dates: Sequence[date]) -> list[tuple[int, int]]:
    """Per step, the range [a, b) of `dates` (sorted) that fall inside it."""
    return [(bisect.bisect_left(dates, s.start), bisect.bisect_left(dates, s.end)) for s in steps]


def step_days_since(steps: Sequence[Step], origin: date) -> list[float]:
    """Each step's centre in days since `origin`: the time axis of interpolation and of the model's dates."""
    return [float((s.start - origin).days + (s.end - s.start).days / 2) for s in steps]


def series_feature_names(steps: Sequence[Step], bands: Sequence[str]) -> list[str]:
    """`t<step>:<band>` for every step and band, step-major (the order of the store's features)."""
    return [f"t{k + 1:02d}:{b}" for k in range(len(steps)) for b in bands]


def series_of_features(names: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """(step labels, bands) when `names` are a series' features (step-major, every step the same bands),
    else None (a composite's features)."""
    parsed = [_FEATURE.match(n) for n in names]
    if not names or not all(parsed):
        return None
    dates: list[str] = []
    for m in parsed:
        if not dates or dates[-1] != m.group(1):
            dates.append(m.group(1))
    if len(names) % len(dates):
        return None
    c = len(names) // len(dates)
    bands = [m.group(2) for m in parsed[:c]]
    for t, d in enumerate(dates):
        if [m.group(1) for m in parsed[t * c:(t + 1) * c]] != [d] * c or \
                [m.group(2) for m in parsed[t * c:(t + 1) * c]] != bands:
            return None
    return dates, bands


def sources_of_features(names: Sequence[str]) -> list[str]:
    """The sources, in order, of a several-source store's features (`S2:t01:B02` ... `S1:t01:VV`), else []."""
    parsed = [_SOURCE_FEATURE.match(n) for n in names]
    if not names or not all(parsed):
        return []
    return list(dict.fromkeys(m.group(1) for m in parsed))


def series_mismatch(expected: Sequence[str], actual: Sequence[str]) -> str | None:
    """A sentence (without its full stop) when a model's features and an input differ as series (steps or bands, or
    a series against a composite, or other sources), else None."""
    want_sources, have_sources = sources_of_features(expected), sources_of_features(actual)
    if want_sources != have_sources:
        def said(sources: list[str]) -> str:
            return f"the sources {', '.join(sources)}" if sources else "one source"
        return (f"The model was made for {said(want_sources)} but the input has {said(have_sources)}: import the "
                f"samples with the model's sources (import-agrifm SOURCES "
                f"{';'.join(want_sources) or 'naming one source'})")
    if want_sources:
        return None  # the same sources: the features themselves are compared next
    want, have = series_of_features(expected), series_of_features(actual)
    if want is None and have is None:
        return None
    if want is not None and have is None:
        return (f"The model was trained on a time series ({len(want[0])} steps) but the input is one composite: map "
                "the scenes with infer-series (Map crops from a time series), or give it a series' block store "
                "(build-series)")
    if want is None:
        return ("The model was trained on one composite but the input is a time series: give it a composite "
                "(ndvi-qm; then build-blocks, or infer to map it), or train a model on the series (build-series)")
    (wd, wb), (hd, hb) = want, have
    if len(wd) != len(hd):
        return (f"The model was made for a series of {len(wd)} steps but the input has {len(hd)}: build the series "
                "with as many steps as the model's (START_DATE, END_DATE and STEP_DAYS spanning the same part of the "
                "season; the model's `dates` in its checkpoint say which)")
    if wb != hb:
        return (f"The model was made for the bands {wb} of each step but the input has {hb}: build the series from "
                "scenes with these bands in this order")
    return None

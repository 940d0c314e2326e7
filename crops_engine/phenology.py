"""Crop calendars: how green and how dry a field's canopy is on a given day.

The sample-scene generator (`synth.py`) turns these covers into Sentinel-2 spectra. Each land
cover's season is a double logistic in green cover (green-up, senescence) with a harvest, an
optional winter catch crop or after-harvest cover crop and, for grass, mowing. Differences in
timing between crops are what a time-series classifier learns; shifting the timing is the
domain shift between a source and a target season.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_MOWINGS = 4
_NEVER = 1.0e4  # a day far after any season


@dataclass(frozen=True)
class CropCalendar:
    """Timing (day of year) and cover levels of one land cover's season.

    Covers are fractions of the ground seen from above: `green` photosynthetic canopy, `dry`
    senescent canopy, straw or cut grass; the rest is the background (soil, road, water).
    """

    green_up: float  # mid-point of the rise in green cover
    green_up_days: float  # logistic scale of that rise (days)
    senescence: float  # mid-point of the decline
    senescence_days: float
    peak: float  # green cover of a full canopy
    harvest: float = _NEVER  # canopy removed
    winter: float = 0.0  # green cover before green-up that grows into the crop (winter cereals, grass)
    catch_crop: float = 0.0  # share of fields with a winter catch crop, ploughed in before sowing
    catch_cover: float = 0.35  # green cover of that catch crop
    plough: float = 0.0  # day the catch crop is ploughed in
    dry: float = 0.0  # dry cover of the ripe crop just before harvest
    stubble: float = 0.0  # residue cover left after harvest, until tillage
    tillage_delay: float = 25.0  # days from harvest to tillage of the stubble
    after_crop: float = 0.0  # share of fields sown with a cover crop after tillage
    after_cover: float = 0.55  # green cover that cover crop reaches
    mowings: tuple[float, ...] = ()  # grass cuts (day of year)
    mow_depth: float = 0.0  # share of green cover removed by a cut
    regrowth_days: float = 12.0  # e-folding time of regrowth after a cut


# Belgian / northern-French lowland farming: Flanders 2019 NDVI curves guided the numbers.
MAIZE = CropCalendar(
    green_up=170, green_up_days=6.5, senescence=258, senescence_days=7, peak=0.93, harvest=282,
    catch_crop=0.6, catch_cover=0.35, plough=118, dry=0.55, stubble=0.25, tillage_delay=30,
)
WINTER_WHEAT = CropCalendar(
    green_up=102, green_up_days=9, senescence=187, senescence_days=5, peak=0.93, harvest=212,
    winter=0.45, dry=0.85, stubble=0.5, tillage_delay=20, after_crop=0.6, after_cover=0.6,
)
SUGAR_BEET = CropCalendar(
    green_up=162, green_up_days=7, senescence=330, senescence_days=10, peak=0.96, harvest=300,
    catch_crop=0.5, catch_cover=0.3, plough=96, dry=0.1, stubble=0.12, tillage_delay=15,
)
POTATO = CropCalendar(
    green_up=157, green_up_days=5, senescence=222, senescence_days=5, peak=0.92, harvest=250,
    catch_crop=0.4, catch_cover=0.3, plough=100, dry=0.45, stubble=0.05, tillage_delay=10,
    after_crop=0.3, after_cover=0.45,
)
GRASSLAND = CropCalendar(
    green_up=92, green_up_days=10, senescence=335, senescence_days=12, peak=0.95, winter=0.7,
    mowings=(132, 172, 218, 262), mow_depth=0.55, regrowth_days=13,
)
# Land covers without a label: the generator needs their seasons too.
FOREST = CropCalendar(green_up=118, green_up_days=6, senescence=295, senescence_days=9, peak=0.95, winter=0.35)
VERGE = CropCalendar(green_up=95, green_up_days=12, senescence=300, senescence_days=15, peak=0.75, winter=0.45)
GARDEN = CropCalendar(green_up=100, green_up_days=10, senescence=300, senescence_days=12, peak=0.6, winter=0.35)
BARE = CropCalendar(green_up=_NEVER, green_up_days=1, senescence=_NEVER, senescence_days=1, peak=0.0)


@dataclass
class Seasons:
    """Per-unit (field, wood, verge ...) calendar parameters as arrays, for vectorised covers."""

    shift: np.ndarray  # days the whole calendar is moved (domain shift + per-field timing)
    green_up: np.ndarray
    green_up_days: np.ndarray
    senescence: np.ndarray
    senescence_days: np.ndarray
    peak: np.ndarray
    harvest: np.ndarray
    winter: np.ndarray
    catch_cover: np.ndarray  # 0 where the field has no catch crop
    plough: np.ndarray
    dry: np.ndarray
    stubble: np.ndarray
    tillage: np.ndarray
    after_cover: np.ndarray  # 0 where no cover crop follows
    after_start: np.ndarray
    mowings: np.ndarray  # (n, MAX_MOWINGS), NaN where there is no cut
    mow_depth: np.ndarray
    regrowth_days: np.ndarray


def sample_seasons(
    calendars: Sequence[CropCalendar],
    kind: np.ndarray,
    rng: np.random.Generator,
    shift_days: float = 0.0,
    timing_sd: float = 4.0,
    vigour_sd: float = 0.05,
) -> Seasons:
    """Draw one season per unit from its calendar (`calendars[kind[i]]`) with field-level variation.

    Every field moves its whole calendar by `shift_days` plus a normal jitter of `timing_sd`
    days (sowing date, variety), and green-up, senescence and harvest by a few more days each;
    peak cover varies with `vigour_sd`. Whether a field has a catch crop or a cover crop, and
    when grass is cut, is drawn per field.
    """
    kind = np.asarray(kind, dtype=np.int64)
    n = kind.size

    def col(name: str) -> np.ndarray:
        return np.array([getattr(c, name) for c in calendars], dtype=np.float64)[kind]

    def jitter(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, n)

    shift = shift_days + jitter(timing_sd)
    harvest = col("harvest") + jitter(5.0)
    tillage = harvest + col("tillage_delay") * rng.uniform(0.6, 1.4, n)
    has_catch = rng.random(n) < col("catch_crop")
    has_after = rng.random(n) < col("after_crop")
    mowings = np.full((n, MAX_MOWINGS), np.nan)
    cuts = [np.array(c.mowings + (np.nan,) * (MAX_MOWINGS - len(c.mowings)), dtype=np.float64) for c in calendars]
    if any(c.mowings for c in calendars):
        mowings = np.stack(cuts)[kind] + rng.normal(0.0, 7.0, (n, MAX_MOWINGS))
        # Some fields are cut fewer times (grazed, extensive): drop the later cuts.
        n_cuts = rng.integers(2, MAX_MOWINGS + 1, n)
        mowings[np.arange(MAX_MOWINGS)[None, :] >= n_cuts[:, None]] = np.nan
    return Seasons(
        shift=shift,
        green_up=col("green_up") + jitter(3.0),
        green_up_days=col("green_up_days") * rng.uniform(0.85, 1.15, n),
        senescence=col("senescence") + jitter(4.0),
        senescence_days=col("senescence_days") * rng.uniform(0.85, 1.15, n),
        peak=np.clip(col("peak") * (1.0 + jitter(vigour_sd)), 0.0, 0.98),
        harvest=harvest,
        winter=col("winter") * rng.uniform(0.7, 1.2, n),
        catch_cover=np.where(has_catch, col("catch_cover") * rng.uniform(0.5, 1.4, n), 0.0),
        plough=col("plough") + jitter(6.0),
        dry=col("dry") * rng.uniform(0.8, 1.1, n),
        stubble=col("stubble") * rng.uniform(0.6, 1.3, n),
        tillage=tillage,
        after_cover=np.where(has_after, col("after_cover") * rng.uniform(0.6, 1.2, n), 0.0),
        after_start=tillage + rng.uniform(18.0, 35.0, n),
        mowings=mowings,
        mow_depth=col("mow_depth") * rng.uniform(0.8, 1.2, n),
        regrowth_days=col("regrowth_days") * rng.uniform(0.8, 1.2, n),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def cover(seasons: Seasons, day: float) -> tuple[np.ndarray, np.ndarray]:
    """Green and dry cover (fractions, green + dry <= 1) of every unit on `day` (day of year)."""
    s = seasons
    t = float(day) - s.shift
    rise = _sigmoid((t - s.green_up) / s.green_up_days)
    fall = _sigmoid((t - s.senescence) / s.senescence_days)
    standing = 1.0 - _sigmoid((t - s.harvest) / 1.5)
    canopy = (s.winter + (s.peak - s.winter) * rise) * standing
    green = canopy * (1.0 - fall)
    green = green + s.catch_cover * (1.0 - _sigmoid((t - s.plough) / 2.0))
    green = green + s.after_cover * _sigmoid((t - s.after_start) / 6.0)
    dry = s.dry * fall * canopy / np.maximum(s.peak, 1e-3)
    dry = dry + s.stubble * (1.0 - standing) * (1.0 - _sigmoid((t - s.tillage) / 2.0))
    for k in range(s.mowings.shape[1]):
        cut_day = s.mowings[:, k]
        valid = ~np.isnan(cut_day)
        if not valid.any():
            continue
        since = np.where(valid, t - np.nan_to_num(cut_day, nan=_NEVER), -_NEVER)
        cut = _sigmoid(since / 0.7)
        after = np.exp(-np.clip(since, 0.0, None) / s.regrowth_days)
        removed = s.mow_depth * cut * after
        dry = dry + green * removed * np.exp(-np.clip(since, 0.0, None) / 4.0) * 0.6  # hay drying on the field
        green = green * (1.0 - removed)
    green = np.clip(green, 0.0, 0.97)
    dry = np.clip(dry, 0.0, 1.0 - green)
    return green, dry

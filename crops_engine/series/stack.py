"""A series read window by window: per step, the NDVI quality mosaic of that step's scenes, gaps filled.

Compositing rule per step: max-NDVI, the rule of `composite` (NDVI-QM) applied to the scenes of the
step's date window. Chosen over a per-band median because
- it keeps one real observation per pixel: all bands of one clear date, spectrally consistent, where a
  per-band median mixes bands of different dates into a spectrum no acquisition had;
- within a short window, clouds, haze and shadows the mask missed lower NDVI, so max-NDVI rejects
  them too (the maximum-value compositing of Holben 1986, the standard for NDVI time series);
- it streams with one date of one window in memory at a time (a median needs every date of the window
  at once and a sort), and it is exactly the composite a non-temporal model of this project sees, so
  composite and temporal models are compared on the same observations.

Values are the scenes' DNs as float32 (as build-blocks stores a composite's bands), NaN where invalid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from osgeo import gdal

from ..composite.plan import Plan
from ..composite.rule import Cancel, WindowComposite
from ..features import BandRef
from .interp import fill_gaps
from .steps import Step, series_feature_names, step_days_since, step_slices


@dataclass
class _StepReader:
    """The open datasets of one step's scenes (a slice of the run's, duck-typed as `rule.WindowReader`)."""

    scenes: list[gdal.Dataset]
    masks: list[gdal.Dataset | None]
    aoi: Any = None


class SeriesStack:
    """The series of a composite plan on its grid: T steps x C bands as T * C features, read by window.

    Shaped like `features.FeatureStack` (grid, names, sources, nodata, `read`), so the block store's
    writer cuts it as it cuts a composite; `read_series` also gives the per-step observed mask.
    """

    def __init__(self, plan: Plan, steps: list[Step], cancel: Cancel) -> None:
        if plan.aoi is not None:
            raise ValueError("a series is built on an extent, not an area of interest")
        self.plan, self.steps, self.cancel = plan, steps, cancel
        self.grid = plan.grid
        self.bands = list(plan.descriptions)
        self.names = series_feature_names(steps, self.bands)
        self.sources = [BandRef(f"{s.start.isoformat()}..{s.end.isoformat()}", b)
                        for s in steps for b in plan.out_bands]
        self.nodata: list[float | None] = [None] * len(self.names)  # NaN marks invalid values
        self.slices = step_slices(steps, [i.scene.date for i in plan.inputs])
        self.days = step_days_since(steps, steps[0].start)
        self._scenes = [gdal.Open(i.source.open_as) for i in plan.inputs]
        self._masks = [gdal.Open(i.mask.open_as) if i.mask is not None else None for i in plan.inputs]
        self.last_observed: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.names)

    def scenes_per_step(self) -> list[int]:
        return [b - a for a, b in self.slices]

    def close(self) -> None:
        self._scenes, self._masks = [], []

    def read_series(self, xoff: int, yoff: int, xsize: int, ysize: int) -> tuple[np.ndarray, np.ndarray]:
        """(values (T, C, ysize, xsize) float32 with gaps filled, NaN where never observed; observed (T, ysize,
        xsize) bool: the steps holding a real clear observation)."""
        win = (xoff, yoff, xsize, ysize)
        t_count, c_count = len(self.steps), len(self.bands)
        x = np.full((t_count, c_count, ysize, xsize), np.nan, dtype=np.float32)
        observed = np.zeros((t_count, ysize, xsize), dtype=bool)
        nodata = self.plan.nodata
        for t, (a, b) in enumerate(self.slices):
            if a == b:
                continue
            sub = replace(self.plan, inputs=self.plan.inputs[a:b], day_of_year=self.plan.day_of_year[a:b])
            window = WindowComposite(sub, _StepReader(self._scenes[a:b], self._masks[a:b]), win)  # type: ignore[arg-type]
            window.run(self.cancel)
            seen = window.chosen >= 0
            if np.isfinite(nodata):
                seen &= (window.out != nodata).all(axis=0)
            x[t] = window.out
            x[t][:, ~seen] = np.nan
            observed[t] = seen
        fill_gaps(x, observed, self.days)
        return x, observed

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> tuple[np.ndarray, np.ndarray]:
        """As `FeatureStack.read`: (T * C, ysize, xsize) float32 features and the valid mask (observed at least
        once); the window's per-step observed mask is kept in `last_observed`."""
        x, observed = self.read_series(xoff, yoff, xsize, ysize)
        self.last_observed = observed
        valid = observed.any(axis=0)
        return x.reshape(-1, ysize, xsize), valid

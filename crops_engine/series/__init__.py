"""Time series in: temporal block stores built from the scenes themselves (issue 17).

A series is a regular temporal grid (`steps`: STEP_DAYS from START_DATE to END_DATE); each step is the
max-NDVI composite of its window's clear observations (`stack`, with the rule of `composite`), gaps
are filled by linear interpolation in time with a per-step observed mask (`interp`), and the series is
cut into the blocks of a block store whose features are steps x bands (`writer`, `build`).

Modules: `steps` (the grid and the feature names), `interp`, `stack` (a series read window by window),
`writer` (the store), `build` (`build_series_store`). The package imports only numpy until GDAL / h5py
are needed (`build_series_store`, `SeriesStack`), so a checkpoint check can name series without them.
"""

from __future__ import annotations

from typing import Any

from .interp import fill_gaps
from .steps import Step, series_feature_names, series_mismatch, series_of_features, step_grid


def __getattr__(name: str) -> Any:
    if name == "build_series_store":
        from .build import build_series_store

        return build_series_store
    if name == "SeriesStack":
        from .stack import SeriesStack

        return SeriesStack
    raise AttributeError(name)

__all__ = [
    "SeriesStack",
    "Step",
    "build_series_store",
    "fill_gaps",
    "series_feature_names",
    "series_mismatch",
    "series_of_features",
    "step_grid",
]

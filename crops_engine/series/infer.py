"""Mapping with a model of a series: the scenes composited into the model's steps tile by tile, then the
tiled, blended inference of `infer` (issue 17).

Each tile of the output grid is read as `(T * C, tile, tile)`: per step the max-NDVI composite of the
step's scenes over the tile, gaps interpolated in time (`stack.SeriesStack`, the reading of
build-series), normalised with the checkpoint's statistics; `infer`'s reader thread, model, blending of
overlapping tiles and writer are used unchanged (`infer.run._InferenceRun`), so memory depends on the tile
and the number of steps, never on the raster's height or its number of dates. Steps come from the same
START_DATE / END_DATE / STEP_DAYS rule as build-series (an END_DATE early in the season maps in season,
with a model trained on as many steps); a model made for another number of steps or other bands is
refused by name before anything is read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..checkpoint import CheckpointMeta, check_features, read_metadata
from ..composite.options import CompositeOptions
from ..composite.plan import Plan, plan_mosaic
from ..errors import CropsError
from ..infer.outputs import OUTPUT_BLOCK, Outputs, class_value_table
from ..infer.predictor import Predict
from ..infer.run import InferOptions, _InferenceRun
from ..infer.tiles import TileSource
from ..progress import Progress, silent
from ..scenes import Scene
from .stack import SeriesStack
from .steps import Step, series_feature_names, step_grid


class SeriesTileSource(TileSource):
    """`infer.tiles.TileSource` whose features are a series composited per tile (no extra bands, no AOI)."""

    def __init__(self, plan: Plan, steps: list[Step], window: tuple[int, int, int, int], meta: CheckpointMeta,
                 band_map: Any | None, cancel: Any) -> None:
        self.stack = SeriesStack(plan, steps, cancel)  # type: ignore[assignment]
        self.band_map = band_map
        self.window = window
        self.mean = np.asarray(meta.normalisation["mean"], dtype=np.float32)
        self.std = np.asarray(meta.normalisation["std"], dtype=np.float32)
        self.extra_nodata = None  # the series marks invalid values NaN itself
        self._aoi_handle = None


@dataclass
class _SeriesInferenceRun(_InferenceRun):
    """An inference run reading tiles of a series instead of a raster's."""

    plan: Plan | None = field(default=None)
    steps: list[Step] = field(default_factory=list)
    cancel: Any = None

    def open_source(self) -> TileSource:
        assert self.plan is not None
        return SeriesTileSource(self.plan, self.steps, self.window, self.meta, self.options.band_map, self.cancel)

    def cache_bytes(self) -> int:
        """GDAL's block cache: two tile rows of every scene (and mask) the series reads, so a tile re-reads its
        overlap from memory, plus the block rows being written; it grows with the raster's width, not its height."""
        assert self.plan is not None
        plan = self.plan
        per_pixel = sum(len(plan.out_bands) * plan.dtype.itemsize + (1 if i.mask is not None else 0)
                        for i in plan.inputs)
        k = self.meta.num_classes
        bands_out = sum(k if key == "output_probabilities" else 1 for key, _ in self.outputs.items())
        rows = 2 * max(self.layout.tile_height, OUTPUT_BLOCK)
        cache = int(1.25 * (rows * self.grid.width * per_pixel + 2 * OUTPUT_BLOCK * self.grid.width * bands_out * 4))
        return min(max(cache, 16 << 20), 1 << 30)

    def metadata(self) -> dict[str, str]:
        steps = self.steps
        return super().metadata() | {
            "CROPS_SERIES": f"{len(steps)} steps {steps[0].start.isoformat()} .. {steps[-1].end.isoformat()} "
                            "(end exclusive), max-NDVI per step, gaps interpolated",
            "CROPS_STEP_STARTS": ",".join(s.start.isoformat() for s in steps),
        }


def infer_series(
    model_path: str | os.PathLike[str],
    scenes: Sequence[Scene],
    outputs: Outputs,
    step_days: int,
    composite: CompositeOptions | None = None,
    options: InferOptions | None = None,
    progress: Progress | None = None,
    predict: Predict | None = None,
) -> dict[str, Any]:
    """Map `scenes` with the checkpoint at `model_path` (a model of a series: build-series + train-source).

    `composite` holds the bands, masks, START / END dates and extent as for build-series; `options` the tiling
    and device of `infer` (no MASK polygons or EXTRA_BANDS: a series is cut by EXTENT). `predict` replaces
    the model's forward pass (tests). Everything is checked before an output exists; on error or cancel none
    is left. Returns output paths and figures, `steps` included.
    """
    options = options or InferOptions()
    composite = composite or CompositeOptions()
    progress = progress or silent()
    if options.mask or options.extra_bands:
        raise CropsError("Mapping a series takes no MASK polygons or EXTRA_BANDS: limit it with EXTENT.")
    if options.extent is not None:
        raise CropsError("Give the EXTENT of a series with the scenes' options (composite.extent), not twice.")
    if composite.aoi:
        raise CropsError("A series is cut by an EXTENT; an area-of-interest polygon layer is not supported here.")
    model_path = Path(model_path)
    meta = read_metadata(model_path)
    plan = plan_mosaic(scenes, composite, progress)
    try:
        dates = [i.scene.date for i in plan.inputs]
        steps = step_grid(composite.start_date or dates[0], composite.end_date or dates[-1], step_days)
        first = plan.inputs[0].scene.path
        check_features(meta, series_feature_names(steps, plan.descriptions),
                       f"the series of {len(plan.inputs)} scenes ({dates[0]} .. {dates[-1]}) in {len(steps)} steps")
        outputs.check(first)
        grid = plan.grid
        window = (0, 0, grid.width, grid.height)
        run = _SeriesInferenceRun(model_path, first.parent, outputs, options, meta, window, grid, None,
                                  class_value_table(meta.classes), plan=plan, steps=steps, cancel=progress)
        run.prepare(progress, predict)
        counts, seconds, writer = run.write(progress)
        result = run.result(counts, seconds, writer, progress)
    finally:
        plan.close()
    result["steps"] = len(steps)
    result["step_starts"] = [s.start.isoformat() for s in steps]
    return result

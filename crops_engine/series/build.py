"""`build_series_store`: scenes -> a temporal block store (steps of STEP_DAYS between START and END)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..blocks.split import spatial_split
from ..blocks.store import COMPRESSION
from ..blocks.writer import _check_arguments, _free_bytes, _mb
from ..composite.options import CompositeOptions
from ..composite.plan import plan_mosaic
from ..composite.run import GDAL_CACHE_BYTES
from ..errors import CropsError
from ..labels import open_labels
from ..progress import Progress, silent
from ..raster import gdal_cache
from ..scenes import Scene
from .stack import SeriesStack
from .steps import step_grid
from .writer import SeriesStoreWriter, series_info


def build_series_store(
    scenes: Sequence[Scene],
    output: str | os.PathLike[str],
    step_days: int = 30,
    options: CompositeOptions | None = None,
    labels: str | os.PathLike[str] | None = None,
    label_field: str | None = None,
    class_map: str | None = None,
    labels_crs: str | None = None,
    block_size: int = 224,
    stride: int | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    val_group_size: int | None = None,
    compression: str = COMPRESSION,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Composite `scenes` into steps of `step_days` from `options.start_date` to `options.end_date` (the scenes'
    first / last date when unset), cut the series into blocks and write the store at `output`.

    `options` are those of the NDVI quality mosaic (bands, mask classes, extent, grid); everything is checked
    before the store exists, and on error or cancel none is left. Returns a summary (paths, counts, steps).
    """
    progress = progress or silent()
    options = options or CompositeOptions()
    if options.aoi:
        raise CropsError("A series is cut from an EXTENT; an area-of-interest polygon layer is not supported here.")
    output = Path(output)
    block_size, stride = _check_arguments(block_size, stride, val_fraction, compression, output)
    plan = plan_mosaic(scenes, options, progress)
    dates = [i.scene.date for i in plan.inputs]
    start: date = options.start_date or dates[0]
    end: date = options.end_date or dates[-1]
    steps = step_grid(start, end, step_days)
    stack = SeriesStack(plan, steps, progress)
    try:
        empty = [s for s, n in zip(steps, stack.scenes_per_step(), strict=True) if n == 0]
        if len(empty) == len(steps):
            raise CropsError(f"No scene falls in any step between {start} and {end}; check the dates.")
        if empty:
            progress.warn(f"{len(empty)} of {len(steps)} steps hold no scene (e.g. {empty[0].start} .. "
                          f"{empty[0].end}): their values are interpolated from the steps around them.")
        window = (0, 0, plan.grid.width, plan.grid.height)
        label_source = None
        if labels:
            label_source = open_labels(labels, plan.grid, window, label_field=label_field, class_map=class_map,
                                       progress=progress.sub(0.0, 0.05), labels_crs=labels_crs)
        writer = SeriesStoreWriter(stack, label_source, window, block_size, stride, compression)
        progress.log(writer.plan_text())
        space, total = _free_bytes(output.parent), writer.bytes_at_most()
        if space is not None and space < total:
            progress.warn(f"The series store may need up to {_mb(total)} (uncompressed) and {output.parent} has "
                          f"{_mb(space)} free: it may not fit. Free some space, or write OUTPUT to another disk.")

        def split(cells: Any) -> Any:
            return spatial_split(cells, math.ceil(block_size / stride), float(val_fraction), seed, val_group_size)

        provenance = {
            "val_fraction": float(val_fraction), "seed": int(seed),
            "composite": f"series of {len(plan.inputs)} scenes ({dates[0]} .. {dates[-1]})",
            "scenes": "\n".join(str(i.scene.path) for i in plan.inputs),
            "labels": str(labels or ""), "label_field": str(label_field or ""),
            "class_map": label_source.class_map.text if label_source else "",
        }
        with gdal_cache(GDAL_CACHE_BYTES, keep_smaller=True), atomic_path(output) as tmp:
            written = writer.write(tmp, progress.sub(0.05, 0.98), split, provenance)
    finally:
        stack.close()
        plan.close()
    labelled = [name for name, n in written.class_pixels.items() if n > 0]
    if label_source is not None and len(labelled) < 2:
        progress.warn(f"Only {len(labelled)} class has labelled pixels: train-source needs at least two.")
    if val_fraction > 0 and len(written.val) == 0:
        progress.warn("Too few blocks for a validation split: all blocks are for training.")
    progress(1.0, "Series store written")
    for name, value in (("blocks", written.blocks), ("val_blocks", len(written.val)), ("steps", len(steps))):
        progress.metric(name, value)
    return {
        "output": str(output),
        "blocks": written.blocks,
        "train_blocks": int(len(written.train)),
        "val_blocks": int(len(written.val)),
        "skipped_empty_blocks": written.skipped,
        "steps": len(steps),
        "series": series_info(stack),
        "features": list(stack.names),
        "classes": [c.as_dict() for c in writer.classes],
        "class_pixels": written.class_pixels,
        "valid_pixels": written.valid_pixels,
        "block_size": block_size,
        "stride": stride,
    }

"""One inference run: a checkpoint on a composite, from checked inputs to written outputs.

Everything is checked before an output exists (outputs, features, class values, extent and
mask); the run then picks the tiling and the batch size, streams the tiles through
`predict_raster` into the `OutputWriter`, and finishes the rasters. On error or cancel no
output is left.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..aoi import AreaOfInterest
from ..atomic import atomic_path
from ..blending import TileLayout
from ..checkpoint import CheckpointMeta, check_features, read_metadata
from ..distributed import world
from ..errors import CropsError
from ..extent import Extent, extent_in_crs
from ..features import FeatureStack
from ..progress import Progress, silent
from ..raster import Grid, gdal_cache
from .outputs import OUTPUT_BLOCK, Outputs, OutputWriter, class_value_table, create_outputs, finish_outputs
from .pipeline import predict_raster
from .predictor import CPU_BATCH_SIZE, ModelPredictor, Predict
from .tiles import TileSource


@dataclass(frozen=True)
class InferOptions:
    """How to tile and where to run; 0 / -1 / None pick the documented defaults.

    tile_size: 0 = the checkpoint's block size, rounded up to a multiple of the
    model's size divisor. overlap: -1 = a quarter of the tile. batch_size: 0 = 4 on CPU, sized to
    the free GPU memory on CUDA. extent: parsed QGIS extent limiting the output grid; mask: a
    polygon layer (`path` or `path|layername=name`, any CRS) outside which outputs are nodata.
    """

    tile_size: int = 0
    overlap: int = -1
    batch_size: int = 0
    device: str = "auto"
    extent: Extent | None = None
    mask: str | None = None
    extra_bands: tuple[str, ...] = ()
    amp: bool = True
    threads: int = 0  # torch CPU threads; 0 leaves torch's setting (the CLI sets all available CPUs)
    band_map: Any = None  # statistics_alignment.BandMap applied to the raw features before normalising (or None)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_tile_size(block_size: int, size_divisor: int) -> int:
    """The checkpoint's block size rounded up to a multiple of the model's size divisor.

    Tiles the size of the training blocks keep the model in the context it learned: a CNN
    trained on small blocks sees its deepest features at 1 x 1 and misbehaves on much larger
    tiles (bench/results/infer_tile_size.md).
    """
    d = max(1, int(size_divisor))
    return int(math.ceil(max(int(block_size), 1) / d) * d)


def check_tile_size(tile_size: int, size_divisor: int) -> None:
    if tile_size < 1 or tile_size % max(1, size_divisor):
        up = int(math.ceil(max(tile_size, 1) / size_divisor) * size_divisor)
        raise CropsError(
            f"TILE_SIZE {tile_size} is not a positive multiple of the model's stride {size_divisor}: use e.g. {up}."
        )


def output_window(grid: Grid, extent: Extent | None, aoi: AreaOfInterest | None) -> tuple[int, int, int, int]:
    """The input pixel window the outputs cover: the extent and the mask's bounds, intersected."""
    x0, y0, x1, y1 = 0, 0, grid.width, grid.height
    for bounds in ([extent_in_crs(extent, grid.crs_wkt)] if extent is not None else []) + (
            [aoi.bounds] if aoi is not None else []):
        c, r, w, h = grid.pixel_window_of(bounds)
        x0, y0, x1, y1 = max(x0, c), max(y0, r), min(x1, c + w), min(y1, r + h)
    if x1 <= x0 or y1 <= y0:
        raise CropsError("EXTENT and MASK do not overlap each other over the raster: give areas that intersect.")
    return x0, y0, x1 - x0, y1 - y0


def infer(
    model_path: str | os.PathLike[str],
    input_path: str | os.PathLike[str],
    outputs: Outputs,
    options: InferOptions | None = None,
    progress: Progress | None = None,
    predict: Predict | None = None,
) -> dict[str, Any]:
    """Map `input_path` with the checkpoint at `model_path`; returns output paths and figures.

    `predict` replaces the model's forward pass (tests inject a per-pixel function); the
    checkpoint still supplies features, normalisation, classes and the size divisor.
    Everything is checked before an output exists; on error or cancel none is left.
    """
    options = options or InferOptions()
    progress = progress or silent()
    model_path, input_path = Path(model_path), Path(input_path)
    outputs.check(input_path)
    meta = read_metadata(model_path)
    with FeatureStack(input_path, options.extra_bands) as stack:
        check_features(meta, stack.names, source=f"INPUT {input_path}")
        grid = stack.grid
    values = class_value_table(meta.classes)

    aoi = None
    if options.mask:
        aoi = AreaOfInterest.prepare(options.mask, grid)
    try:
        window = output_window(grid, options.extent, aoi)
        run = _InferenceRun(model_path, input_path, outputs, options, meta, window, grid.window(*window), aoi, values)
        run.prepare(progress, predict)
        counts, seconds, writer = run.write(progress)
        return run.result(counts, seconds, writer, progress)
    finally:
        if aoi is not None:
            aoi.close()


@dataclass
class _InferenceRun:
    """One inference: the checked inputs and outputs, then (after `prepare`) the model and its tiling."""

    model_path: Path
    input_path: Path
    outputs: Outputs
    options: InferOptions
    meta: CheckpointMeta
    window: tuple[int, int, int, int]  # the input pixel window the outputs cover
    grid: Grid  # the outputs' grid: that window of the input's
    aoi: AreaOfInterest | None
    values: np.ndarray  # output channel -> class value
    device: Any = field(init=False)
    tile: int = field(init=False)
    overlap: int = field(init=False)
    layout: TileLayout = field(init=False)
    predict: Predict = field(init=False)
    allocate: Callable[[tuple[int, ...]], np.ndarray] | None = field(init=False, default=None)
    batch_size: int = field(init=False)

    def prepare(self, progress: Progress, predict: Predict | None) -> None:
        """Device, model (unless `predict` stands in for it), tiling and batch size."""
        import torch

        from ..device import describe, resolve_device

        if self.options.threads:
            torch.set_num_threads(int(self.options.threads))
        self.device = resolve_device(self.options.device)
        meta, model = self.meta, None
        if predict is None:
            from ..checkpoint import load_model

            progress(0.0, "Loading the model")
            model, _ = load_model(self.model_path, self.device)
            size_divisor = model.size_divisor
        else:
            from ..models import build_model

            size_divisor = build_model(meta.arch, meta.in_channels, meta.num_classes, **meta.arch_args).size_divisor
        self.tile = int(self.options.tile_size) or default_tile_size(meta.block_size, size_divisor)
        check_tile_size(self.tile, size_divisor)
        overlap = self.options.overlap
        self.overlap = self.tile // 4 if overlap is None or overlap < 0 else int(overlap)
        self.layout = TileLayout.plan(self.grid.width, self.grid.height, self.tile, self.overlap)
        self._fit_batch(model, predict, progress)
        lay, (x, y) = self.layout, self.window[:2]
        progress.log(
            f"Inference on {self.grid.width} x {self.grid.height} px (window {x},{y} of {self.input_path.name}), "
            f"{len(lay)} tiles of {lay.tile_width} x {lay.tile_height} px, overlap {self.overlap} px, "
            f"batch {self.batch_size}, {describe(self.device)}"
        )

    def _fit_batch(self, model: Any | None, predict: Predict | None, progress: Progress) -> None:
        batch_size = int(self.options.batch_size)
        if model is not None:
            predictor = ModelPredictor(model, self.device, batch_size or CPU_BATCH_SIZE, self.options.amp, progress)
            if not batch_size and predictor.cuda:
                predictor.fit_batch_size(self.meta.in_channels, self.layout.tile_height, self.layout.tile_width)
            batch_size = predictor.batch_size
            predict, self.allocate = predictor, predictor.allocate
        assert predict is not None
        self.predict = predict
        self.batch_size = batch_size or CPU_BATCH_SIZE

    def metadata(self) -> dict[str, str]:
        """What every output records about how it was made."""
        return {
            "CROPS_MODEL": str(self.model_path),
            "CROPS_ARCH": self.meta.arch,
            "CROPS_TILE_SIZE": str(self.tile),
            "CROPS_OVERLAP": str(self.overlap),
            "CROPS_CLASSES": ",".join(f"{c.value}={c.name}" for c in self.meta.classes),
        }

    def cache_bytes(self) -> int:
        """GDAL's block cache for the run: what tiles re-read (two block rows of input) and the block rows
        being written, so memory stops growing after the first rows instead of at GDAL's 5 % of RAM."""
        width, features, k = self.grid.width, len(self.meta.features), self.meta.num_classes
        bands_out = sum(k if key == "output_probabilities" else 1 for key, _ in self.outputs.items())
        cache = int(1.25 * (2 * max(self.layout.tile_height, OUTPUT_BLOCK) * width * features * 4
                            + 2 * OUTPUT_BLOCK * width * bands_out * 4))
        return min(max(cache, 16 << 20), 1 << 30)

    def open_source(self) -> TileSource:
        """A tile reader of the input (called on the reader thread: GDAL handles are per thread)."""
        return TileSource(str(self.input_path), self.options.extra_bands, self.window, self.meta, self.aoi,
                          self.options.band_map)

    def write(self, progress: Progress) -> tuple[dict[str, int], float, OutputWriter]:
        """Stream every tile into the outputs and finish them: (tile counts, seconds, the writer)."""
        if world().active:  # under torchrun: each process a band of rows, process 0 assembles (`shards`)
            from .shards import write_sharded

            return write_sharded(self, progress)
        started = time.perf_counter()
        with ExitStack() as stack:
            tmps = {key: stack.enter_context(atomic_path(path)) for key, path in self.outputs.items()}
            stack.enter_context(gdal_cache(self.cache_bytes()))
            datasets = create_outputs(tmps, self.grid, self.meta.classes, self.metadata())
            writer = OutputWriter(datasets, self.values, self.grid.height)
            writer.start()
            try:
                counts = predict_raster(self.open_source, self.layout, self.meta.in_channels, self.meta.num_classes,
                                        self.predict, writer.put, self.batch_size, progress.sub(0.0, 0.9),
                                        self.allocate)
                writer.finish()
                seconds = time.perf_counter() - started
                finish_outputs(datasets, tmps, self.meta.classes, progress.sub(0.9, 1.0))
            finally:
                writer.stop.set()
                writer.join()
                datasets.clear()  # closes what finish_outputs did not (error, cancel) before the files go
        return counts, seconds, writer

    def result(self, counts: dict[str, int], seconds: float, writer: OutputWriter,
               progress: Progress) -> dict[str, Any]:
        grid, meta = self.grid, self.meta
        pixels = grid.width * grid.height
        result: dict[str, Any] = {key: str(path) for key, path in self.outputs.items()}
        result.update(
            classes=[c.name for c in meta.classes],
            width=grid.width,
            height=grid.height,
            valid_pixels=writer.valid_pixels,
            class_pixels={c.name: int(n) for c, n in zip(meta.classes, writer.class_counts, strict=True)},
            tile_size=self.tile,
            overlap=self.overlap,
            batch_size=getattr(self.predict, "batch_size", self.batch_size),
            device=self.device.type,
            seconds=round(seconds, 3),
            pixels_per_second=round(pixels / max(seconds, 1e-9), 1),
            **counts,
        )
        progress.metric("pixels_per_second", result["pixels_per_second"])
        if writer.valid_pixels == 0:
            where = "inside MASK " if self.aoi is not None else ""
            progress.warn(
                f"No pixel of {self.input_path} {where}in the mapped window has valid features (every pixel is nodata "
                "in at least one band): the outputs are all nodata. Check the composite (its nodata value, cloud mask "
                "and date window), EXTRA_BANDS and EXTENT."
            )
        progress(1.0, "Done")
        return result

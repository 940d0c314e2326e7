"""Running a composite: windows composited by a small thread pool, written in order, then finished.

GDAL and numpy release the GIL, so a few workers each hold one window of one date at a time;
an ordered writer fills a tiled, compressed GeoTIFF under a temporary name (and the QA raster),
flushing whole output tiles as they complete. Memory depends on the window size, not on the
raster size or the number of dates. A failing window stops the others at their next date.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from ..atomic import atomic_path
from ..distributed import world
from ..errors import Cancelled, CropsError
from ..progress import Progress, silent
from ..raster import Grid, create_geotiff, finish_geotiff, gdal_cache
from ..scenes import Scene
from ..styles import write_ramp_style, write_rgb_style
from .options import QA_BANDS, QA_NODATA, CompositeOptions
from .plan import Plan, Window, plan_mosaic
from .rule import WindowComposite, WindowReader, WindowResult
from .style import rgb_bands, stretch

GDAL_CACHE_BYTES = 64 * 1024 * 1024  # blocks of the windows in flight (a few MB each)
GDAL_CACHE_MAX_BYTES = 512 * 1024 * 1024


def ndvi_quality_mosaic(
    scenes: Sequence[Scene],
    output: str | os.PathLike[str],
    options: CompositeOptions | None = None,
    output_qa: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Composite `scenes` into `output` (and the QA raster `output_qa`); returns paths and figures.

    Everything is checked before any file is written; on error or cancel no output is left.
    """
    options = options or CompositeOptions()
    progress = progress or silent()
    output = Path(output)
    if output_qa is not None and Path(output_qa).resolve() == output.resolve():
        raise CropsError("OUTPUT and OUTPUT_QA are the same file; give the QA raster its own name.")
    plan = plan_mosaic(scenes, options, progress)
    run_class: type[_MosaicRun] = _MosaicRun
    if world().active:  # under torchrun: the windows split over the processes, process 0 writes (`shards`)
        from .shards import ShardedMosaicRun

        run_class = ShardedMosaicRun
    try:
        return run_class(plan, output, Path(output_qa) if output_qa else None, progress).run()
    finally:
        plan.close()


def _tile_aligned(windows: Sequence[Window], block: tuple[int, int], grid: Grid) -> bool:
    """Whether every window covers whole output tiles (then each can be flushed when written)."""
    bx, by = block
    for xoff, yoff, xs, ys in windows:
        if xoff % bx or yoff % by:
            return False
        if (xoff + xs) % bx and xoff + xs != grid.width:
            return False
        if (yoff + ys) % by and yoff + ys != grid.height:
            return False
    return True


def _cache_bytes(grid: Grid, block: tuple[int, int], pixel_bytes: int, flush_each: bool) -> int:
    """GDAL block cache for one run: the windows in flight, plus two output tile rows when
    windows straddle output tiles (so a tile is compressed once, when complete)."""
    need = GDAL_CACHE_BYTES
    if not flush_each:
        tiles_across = -(-grid.width // block[0])
        need += 2 * tiles_across * block[0] * block[1] * pixel_bytes
    return min(need, GDAL_CACHE_MAX_BYTES)


@dataclass
class _MosaicRun:
    """One composite being written: the plan, the outputs, the workers' readers and the running totals."""

    plan: Plan
    output: Path
    output_qa: Path | None
    progress: Progress
    rgb: tuple[int, int, int] | None = field(init=False)
    sample_n: int = field(init=False)  # RGB samples a window contributes to the style's stretch
    samples: list[np.ndarray] = field(default_factory=list, init=False)
    inside_total: int = field(default=0, init=False)
    clear_total: int = field(default=0, init=False)
    readers: list[WindowReader] = field(default_factory=list, init=False)
    _local: threading.local = field(default_factory=threading.local, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)  # set when the run fails

    def __post_init__(self) -> None:
        plan = self.plan
        self.rgb = rgb_bands(plan.descriptions, plan.out_bands.index(plan.options.red_band) + 1)
        self.sample_n = max(16, 200_000 // max(1, len(plan.windows)))

    def metadata(self) -> dict[str, str]:
        options, scenes = self.plan.options, self.plan.scenes
        return {
            "CROPS_METHOD": "NDVI quality mosaic (max NDVI of clear observations, earliest on ties)",
            "CROPS_DATES": ",".join(s.date.isoformat() for s in scenes),
            "CROPS_RED_BAND": str(options.red_band),
            "CROPS_NIR_BAND": str(options.nir_band),
            "CROPS_SCALE": f"{options.scale:g}",
        }

    # -- the workers' side ------------------------------------------------------------------------

    def check(self) -> None:
        """Per date of a window: stop when another window failed, or the user cancelled."""
        if self._stop.is_set():
            raise Cancelled("Stopped because another window failed.")
        self.progress.check()

    def _reader(self) -> WindowReader:
        """This thread's datasets, opened on its first window."""
        r = getattr(self._local, "reader", None)
        if r is None:
            r = self._local.reader = WindowReader(self.plan)
            with self._lock:
                self.readers.append(r)
        return r

    def _work(self, win: Window) -> WindowResult:
        window = WindowComposite(self.plan, self._reader(), win)
        window.run(self)
        return window.result(self.output_qa is not None, self.rgb, self.sample_n)

    # -- the writer's side -------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        plan, progress = self.plan, self.progress
        scenes = plan.scenes
        progress.log(
            f"NDVI quality mosaic of {len(scenes)} scenes ({scenes[0].date} .. {scenes[-1].date}) "
            f"on a {plan.grid.width} x {plan.grid.height} grid, {len(plan.windows)} windows."
        )
        open_ds: dict[str, gdal.Dataset] = {}
        with ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(self.output))
            tmp_qa = stack.enter_context(atomic_path(self.output_qa)) if self.output_qa is not None else None
            stack.callback(open_ds.clear)  # close outputs before a failed run's files are removed
            stack.callback(lambda: [r.close() for r in self.readers])
            self._create(open_ds, tmp, tmp_qa)
            out_block = open_ds["composite"].GetRasterBand(1).GetBlockSize()
            flush_each = _tile_aligned(plan.windows, out_block, plan.grid)
            pixel_bytes = len(plan.out_bands) * plan.dtype.itemsize + (12 if tmp_qa is not None else 0)
            stack.enter_context(gdal_cache(_cache_bytes(plan.grid, out_block, pixel_bytes, flush_each),
                                           keep_smaller=True))
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=plan.options.workers,
                                                          thread_name_prefix="crops-qm"))
            pending: deque[Future[WindowResult]] = deque()
            stack.callback(lambda: [f.cancel() for f in pending])  # on failure: queued windows never start
            stack.callback(self._stop.set)  # and running ones stop at their next date, before the pool's exit waits
            self._composite_all(pool, pending, open_ds, flush_each)
            finish_geotiff(open_ds.pop("composite"), resampling="NEAREST",
                           progress=progress.sub(0.85, 0.97 if tmp_qa is not None else 1.0))
            if self.rgb is not None:
                write_rgb_style(tmp, *self.rgb, stretch(self.samples, plan.nodata))
            if tmp_qa is not None:
                finish_geotiff(open_ds.pop("qa"), resampling="NEAREST", progress=progress.sub(0.97, 1.0))
                write_ramp_style(tmp_qa)
        return self._result()

    def _create(self, open_ds: dict[str, gdal.Dataset], tmp: Path, tmp_qa: Path | None) -> None:
        plan, metadata = self.plan, self.metadata()
        open_ds["composite"] = create_geotiff(tmp, plan.grid, len(plan.out_bands), plan.dtype, plan.nodata,
                                              plan.descriptions, metadata)
        if tmp_qa is not None:
            open_ds["qa"] = create_geotiff(tmp_qa, plan.grid, 3, np.float32, QA_NODATA, QA_BANDS,
                                           {**metadata, "CROPS_QA": "max NDVI, day of year of the chosen date, "
                                                                    "valid observations"},
                                           predictor=False)  # float predictor: slower and larger here

    def _composite_all(self, pool: ThreadPoolExecutor, pending: deque[Future[WindowResult]],
                       open_ds: dict[str, gdal.Dataset], flush_each: bool) -> None:
        """Every window through the pool (at most two per worker in flight), written in order."""
        windows = self.plan.windows
        windows_progress = self.progress.sub(0.0, 0.85)
        todo = iter(windows)
        for win in todo:
            pending.append(pool.submit(self._work, win))
            if len(pending) >= 2 * self.plan.options.workers:
                break
        done = 0
        while pending:
            result = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(self._work, nxt))
            self._write(result, open_ds, flush_each)
            done += 1
            windows_progress(done / len(windows), f"Window {done}/{len(windows)}")

    def _write(self, result: WindowResult, open_ds: dict[str, gdal.Dataset], flush_each: bool) -> None:
        xoff, yoff, _, _ = result.window
        ds = open_ds["composite"]
        for i in range(result.composite.shape[0]):
            ds.GetRasterBand(i + 1).WriteArray(result.composite[i], xoff, yoff)
        if "qa" in open_ds and result.qa is not None:
            for i in range(3):
                open_ds["qa"].GetRasterBand(i + 1).WriteArray(result.qa[i], xoff, yoff)
        if flush_each:  # whole output tiles: compress them now, while the workers read
            for out_ds in open_ds.values():
                out_ds.FlushCache()
        self.inside_total += result.inside
        self.clear_total += result.clear
        if result.sample is not None:
            self.samples.append(result.sample)

    def _result(self) -> dict[str, Any]:
        plan, progress = self.plan, self.progress
        clear_fraction = self.clear_total / self.inside_total if self.inside_total else 0.0
        progress.metric("clear_fraction", clear_fraction)
        if self.clear_total == 0:
            progress.warn("No pixel had a clear observation: the composite is all nodata. Check the masks, "
                          "INVALID_CLASSES and the date window.")
        progress(1.0, "Done")
        scenes = plan.scenes
        return {
            "output": str(self.output),
            "output_qa": str(self.output_qa) if self.output_qa is not None else None,
            "scenes": len(scenes),
            "first_date": scenes[0].date.isoformat(),
            "last_date": scenes[-1].date.isoformat(),
            "width": plan.grid.width,
            "height": plan.grid.height,
            "windows": len(plan.windows),
            "clear_fraction": round(clear_fraction, 6),
        }

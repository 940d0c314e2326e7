"""Sharded NDVI quality mosaic under torchrun: the windows split over the processes, process 0 writes the one
composite (and QA raster), bit for bit the single-process files.

A window's result depends on that window alone (per-pixel rules on its dates), so process r composites its
contiguous share of the plan's windows (`distributed.split_range`) with its own worker threads and saves
each result (composite, QA, the RGB sample for the style's stretch, pixel counts) as a `.npz` part in a
folder beside the output (`distributed.shared_folder`). Once every process is done, process 0 runs the
single-process writer (`_MosaicRun.run`: the outputs under `atomic_path`, the writes in window order, the
overviews, styles and figures) with the results read back from the parts instead of computed, so the files
are written exactly as one process writes them. The parts are removed whatever happens.
"""

from __future__ import annotations

import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from .. import distributed
from .plan import Window
from .rule import WindowResult
from .run import _MosaicRun


def _save(folder: Path, index: int, result: WindowResult) -> None:
    arrays: dict[str, Any] = {"window": np.asarray(result.window, dtype=np.int64), "composite": result.composite,
                              "counts": np.asarray([result.inside, result.clear], dtype=np.int64)}
    if result.qa is not None:
        arrays["qa"] = result.qa
    if result.sample is not None:
        arrays["sample"] = result.sample
    tmp = folder / f"window{index}.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(folder / f"window{index}.npz")


def _load(folder: Path, index: int) -> WindowResult:
    with np.load(folder / f"window{index}.npz") as part:
        inside, clear = (int(v) for v in part["counts"])
        window: Window = tuple(int(v) for v in part["window"])  # type: ignore[assignment]
        return WindowResult(window, part["composite"], part.get("qa"), inside, clear, part.get("sample"))


class ShardedMosaicRun(_MosaicRun):
    """`_MosaicRun` over the processes of a torchrun run (see the module doc)."""

    folder: Path

    def run(self) -> dict[str, Any]:
        w = distributed.world()
        windows = self.plan.windows
        self.folder = distributed.shared_folder(self.output, "parts")
        try:
            lo, hi = distributed.split_range(len(windows))
            self._composite_share(lo, hi)
            distributed.wait_for_all("composite-parts", self.progress)
            if not w.writer:
                return {"output": str(self.output), "windows": hi - lo}
            return super().run()  # `_composite_all` below reads the parts
        finally:
            for r in self.readers:
                r.close()
            self.readers.clear()
            if w.writer:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _composite_share(self, lo: int, hi: int) -> None:
        """Composite windows [lo, hi) with this process's worker threads, saving each result as a part."""
        windows = self.plan.windows[lo:hi]
        progress = self.progress.sub(0.0, 0.8)
        workers = self.plan.options.workers
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crops-qm") as pool:
            pending: deque[tuple[int, Future[WindowResult]]] = deque()
            todo = iter(enumerate(windows, start=lo))
            try:
                for item in todo:
                    pending.append((item[0], pool.submit(self._work, item[1])))
                    if len(pending) >= 2 * workers:
                        break
                done = 0
                while pending:
                    index, future = pending.popleft()
                    result = future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append((nxt[0], pool.submit(self._work, nxt[1])))
                    _save(self.folder, index, result)
                    done += 1
                    progress(done / max(1, len(windows)), f"Window {done}/{len(windows)} of this process")
            except BaseException:
                self._stop.set()  # running windows stop at their next date
                for _, future in pending:
                    future.cancel()
                raise

    def _composite_all(self, pool: ThreadPoolExecutor, pending: deque[Future[WindowResult]],
                       open_ds: dict[str, gdal.Dataset], flush_each: bool) -> None:
        """Process 0: every window's result from the parts, written in order (as one process writes them)."""
        windows = self.plan.windows
        progress = self.progress.sub(0.8, 0.85)
        for index in range(len(windows)):
            self._write(_load(self.folder, index), open_ds, flush_each)
            progress((index + 1) / len(windows), f"Window {index + 1}/{len(windows)}")

"""Sharded inference under torchrun: each process maps a band of the raster's rows, process 0 writes the one
set of output GeoTIFFs, bit for bit the single-process files (on CPUs with the same THREADS).

The tile lattice stays the full raster's (`run.layout`): process r owns a contiguous share of its tile rows
and writes the pixel rows [top, bottom) of its band (`band_bounds`: bands meet in the middle of a tile row,
so with the default quarter overlap one tile row per boundary is predicted twice). It predicts every tile
whose rows touch its band and blends them in the layout's order, so each pixel of its band receives the
very tiles, weights and summation order one process gives it.

A model's output for a tile depends (in the last bits) on the batch it ran in and the CPU threads, so the
batches must be the single process's too. Those depend on the data: `TileReader` fills a batch with tiles
that have pixels to predict (and sends one after 16 x BATCH_SIZE tiles in any case). So first every process
reads its own tile rows and says which tiles have data (`tile_flags`, summed over the processes); every
process then knows the single-process batches (`batch_groups`) and runs the whole batches that hold its
band's tiles, starting at a batch boundary, so `TileReader` forms exactly those batches. Tiles it runs only
to fill a batch are not blended. Reading is therefore done about twice; the model runs once per tile plus
the boundary rows.

Each process writes its band's final output values (class map, confidence, entropy, probabilities: the
`OutputWriter`'s own arithmetic) into `.npy` parts in a folder beside the first output
(`distributed.shared_folder`), then process 0 copies them in whole output blocks into the GeoTIFFs inside
`atomic_path`, adds overviews and styles (`finish_outputs`), and removes the parts. A failure or cancel on
any process leaves no output and no parts.
"""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import distributed
from ..atomic import atomic_path
from ..blending import Strip, StripBlender, TileLayout
from ..progress import Progress
from ..raster import gdal_cache
from .outputs import OUTPUT_BLOCK, OutputWriter, create_outputs, finish_outputs
from .pipeline import predict_raster


@dataclass(frozen=True)
class TileList:
    """The tiles a process reads and predicts (what `TileReader` needs of a layout)."""

    tiles: list[tuple[int, int]]
    tile_width: int
    tile_height: int


def band_bounds(layout: TileLayout, size: int) -> list[tuple[int, int]]:
    """[top, bottom) pixel rows of each process's band: process r owns the r-th contiguous share of the tile rows,
    its band starting in the middle of its first tile row (the first at row 0, the last ending at the bottom)."""
    owned = np.array_split(np.arange(len(layout.rows)), size)
    tops = [0]
    for r in range(1, size):
        first = owned[r][0] if len(owned[r]) else None
        top = layout.height if first is None else min(layout.height, layout.rows[first] + layout.tile_height // 2)
        tops.append(max(top, tops[-1]))
    tops.append(layout.height)
    return [(tops[r], tops[r + 1]) for r in range(size)]


def needed_rows(layout: TileLayout, top: int, bottom: int) -> list[int]:
    """Indices of the tile rows whose pixels touch rows [top, bottom)."""
    return [i for i, y in enumerate(layout.rows) if y < bottom and y + layout.tile_height > top]


def batch_groups(flags: np.ndarray, batch_size: int) -> list[tuple[int, int]]:
    """[start, end) tile indices of the batches `TileReader` forms from tiles in layout order, `flags` saying which
    have data: a batch ends when it holds BATCH_SIZE tiles with data or 16 x BATCH_SIZE tiles."""
    groups, start, filled, count = [], 0, 0, 0
    for i, flag in enumerate(flags.tolist()):
        count += 1
        filled += int(flag)
        if filled == batch_size or count >= 16 * batch_size:
            groups.append((start, i + 1))
            start, filled, count = i + 1, 0, 0
    if start < len(flags):
        groups.append((start, len(flags)))
    return groups


class _BandBlender(StripBlender):
    """Blends only the band's tile rows (`layout`: the full raster's geometry with those rows); tiles of other rows,
    run only to fill a batch, are skipped. Starts at the first of those rows, so no empty rows above are kept."""

    def __init__(self, layout: TileLayout, num_classes: int) -> None:
        super().__init__(layout, num_classes)
        self._top = layout.rows[0] if layout.rows else 0
        self._wanted_tiles = set(self._tiles)

    def add(self, y: int, x: int, probabilities: np.ndarray | None, wanted: np.ndarray | None) -> list[Strip]:
        if (y, x) not in self._wanted_tiles:
            return []
        return super().add(y, x, probabilities, wanted)


class _PartBand:
    def __init__(self, array: np.ndarray, top: int) -> None:
        self.array, self.top = array, top

    def WriteArray(self, values: np.ndarray, xoff: int, yoff: int) -> None:  # noqa: N802 - GDAL's name
        rows, cols = values.shape
        self.array[yoff - self.top:yoff - self.top + rows, xoff:xoff + cols] = values


class _PartDataset:
    """An output's band rows in a `.npy` memory map, written through the calls `OutputWriter` makes of a dataset."""

    def __init__(self, path: Path, bands: int, dtype: Any, top: int, height: int, width: int) -> None:
        self.array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(bands, height, width))
        self.top = top

    def GetRasterBand(self, band: int) -> _PartBand:  # noqa: N802 - GDAL's name
        return _PartBand(self.array[band - 1], self.top)

    def close(self) -> None:
        self.array.flush()
        del self.array


def _part_layout(run: Any) -> dict[str, tuple[int, Any]]:
    """(bands, dtype) of each output's part, as `create_outputs` makes the GeoTIFFs."""
    k = len(run.meta.classes)
    return {key: ((1, np.uint8) if key == "output" else (k, np.float32) if key == "output_probabilities"
                  else (1, np.float32)) for key, _ in run.outputs.items()}


def tile_flags(run: Any, rows: list[int], progress: Progress) -> np.ndarray:
    """(tiles,) int32: 1 for each tile of tile rows `rows` that has pixels to predict (what `TileReader` fills
    batches with), 0 elsewhere."""
    layout = run.layout
    flags = np.zeros(len(layout), dtype=np.int32)
    if not rows:
        return flags
    source = run.open_source()
    try:
        for k, i in enumerate(rows):
            for j, x in enumerate(layout.cols):
                features, _ = source.read(layout.rows[i], x, layout.tile_width, layout.tile_height)
                flags[i * len(layout.cols) + j] = features is not None
            progress((k + 1) / len(rows), f"Which tiles hold data: tile row {k + 1}/{len(rows)}")
    finally:
        source.close()
    return flags


def write_sharded(run: Any, progress: Progress) -> tuple[dict[str, int], float, Any]:
    """`_InferenceRun.write` over the processes of the run: (tile counts, seconds, the totals of the writers)."""
    import torch

    w = distributed.world()
    started = time.perf_counter()
    layout = run.layout
    batch = min(distributed.all_gather_object(int(run.batch_size), "agreeing on the batch size"))
    bands = band_bounds(layout, w.size)
    top, bottom = bands[w.rank]
    owned = [int(i) for i in np.array_split(np.arange(len(layout.rows)), w.size)[w.rank]]
    flags = torch.from_numpy(tile_flags(run, owned, progress.sub(0.0, 0.15)))
    distributed.wait_for_all("infer-flags", progress)
    distributed.all_reduce_sum(flags, what="sharing which tiles hold data")
    flags_np = flags.numpy()
    rows = needed_rows(layout, top, bottom) if bottom > top else []
    folder = distributed.shared_folder(run.outputs.items()[0][1], "parts")
    try:
        totals = _predict_band(run, folder, flags_np, batch, rows, top, bottom, progress.sub(0.15, 0.85))
        distributed.wait_for_all("infer-parts", progress)
        gathered = distributed.all_gather_object(totals, "adding up the outputs' pixel counts")
        writer = _Totals(sum(g[0] for g in gathered), np.sum([g[1] for g in gathered], axis=0))
        if w.writer:
            _assemble(run, folder, bands, progress.sub(0.85, 1.0))
    finally:
        if w.writer:
            shutil.rmtree(folder, ignore_errors=True)
    counts = {"tiles": len(layout), "tiles_predicted": int(flags_np.sum())}
    return counts, time.perf_counter() - started, writer


@dataclass
class _Totals:
    valid_pixels: int
    class_counts: np.ndarray


def _predict_band(run: Any, folder: Path, flags: np.ndarray, batch: int, rows: list[int], top: int, bottom: int,
                  progress: Progress) -> tuple[int, np.ndarray]:
    """Predict, blend and write this process's band into its parts; (valid pixels, class counts) of the band."""
    layout = run.layout
    k = len(run.meta.classes)
    if not rows:
        return 0, np.zeros(k, dtype=np.int64)
    cols = len(layout.cols)
    first, last = rows[0] * cols, (rows[-1] + 1) * cols  # the band's tiles, [first, last) in layout order
    groups = [g for g in batch_groups(flags, batch) if g[1] > first and g[0] < last]
    run_tiles = TileList(layout.tiles[groups[0][0]:groups[-1][1]], layout.tile_width, layout.tile_height)
    band_layout = TileLayout(layout.width, layout.height, layout.tile_width, layout.tile_height, layout.overlap,
                             tuple(layout.rows[i] for i in rows), layout.cols)
    rank = distributed.world().rank
    parts = {key: _PartDataset(folder / f"{key}.{rank}.npy", n, dtype, top, bottom - top, layout.width)
             for key, (n, dtype) in _part_layout(run).items()}
    writer = OutputWriter(parts, run.values, bottom)  # type: ignore[arg-type]
    writer.start()

    def sink(strip: Strip) -> None:
        a, b = max(strip.row, top), min(strip.row + strip.height, bottom)
        if a < b:
            i, j = a - strip.row, b - strip.row
            writer.put(Strip(a, strip.probabilities[:, i:j], strip.valid[i:j]))

    try:
        predict_raster(run.open_source, layout, run.meta.in_channels, run.meta.num_classes, run.predict, sink, batch,
                       progress, run.allocate, tiles=run_tiles, blender=_BandBlender(band_layout, run.meta.num_classes))
        writer.finish()
    finally:
        writer.stop.set()
        writer.join()
        for part in parts.values():
            part.close()
    return writer.valid_pixels, writer.class_counts


def _assemble(run: Any, folder: Path, bands: list[tuple[int, int]], progress: Progress) -> None:
    """Process 0: the parts into the output GeoTIFFs, whole output blocks at a time, then overviews and styles."""
    height = run.grid.height
    with ExitStack() as stack:
        tmps = {key: stack.enter_context(atomic_path(path)) for key, path in run.outputs.items()}
        stack.enter_context(gdal_cache(run.cache_bytes()))
        datasets = create_outputs(tmps, run.grid, run.meta.classes, run.metadata())
        stack.callback(datasets.clear)  # close what finish_outputs did not (error, cancel) before the files go
        parts: dict[str, list[tuple[int, int, np.ndarray]]] = {}
        for key in datasets:
            parts[key] = [(t, b, np.load(folder / f"{key}.{r}.npy", mmap_mode="r"))
                          for r, (t, b) in enumerate(bands) if b > t]
        for row in range(0, height, OUTPUT_BLOCK):
            end = min(height, row + OUTPUT_BLOCK)
            for key, ds in datasets.items():
                pieces = [arr[:, max(row, t) - t:min(end, b) - t] for t, b, arr in parts[key] if t < end and b > row]
                block = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)
                for i in range(block.shape[0]):
                    ds.GetRasterBand(i + 1).WriteArray(np.ascontiguousarray(block[i]), 0, row)
            progress(0.5 * end / height, f"Assembling rows {end}/{height}")
        parts.clear()
        finish_outputs(datasets, tmps, run.meta.classes, progress.sub(0.5, 1.0))

"""Tiles of the output grid read off the calling thread: masked, normalised features in batches.

`TileSource` reads one tile window (features, and the pixels to output: valid and inside the
MASK polygons); `TileReader` walks the layout on its own thread with its own GDAL handles and
fills batches into a bounded queue, so the model never waits on the disk.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..aoi import pixels_inside
from ..blending import TileLayout
from ..checkpoint import CheckpointMeta
from ..features import FeatureStack, normalise
from .threads import END, POLL_S, QUEUE_DEPTH


class TileSource:
    """Tile windows of the output grid: normalised features and the pixels to output.

    Reads the window (xoff, yoff) + tile of the input, marks invalid features and pixels outside
    the MASK polygons as not wanted; a tile with no wanted pixel is not read further (None).
    """

    def __init__(self, input_path: str, extra_bands: Sequence[str], window: tuple[int, int, int, int],
                 meta: CheckpointMeta, aoi: Any | None, band_map: Any | None = None) -> None:
        self.stack = FeatureStack(input_path, extra_bands)
        self.band_map = band_map  # statistics alignment of the raw features (statistics_alignment.BandMap)
        self.window = window
        self.mean = np.asarray(meta.normalisation["mean"], dtype=np.float32)
        self.std = np.asarray(meta.normalisation["std"], dtype=np.float32)
        self.extra_nodata = meta.nodata if all(v is None for v in self.stack.nodata) else None
        self._aoi_handle = aoi.open() if aoi is not None else None

    def read(self, y: int, x: int, width: int, height: int) -> tuple[np.ndarray | None, np.ndarray]:
        xoff, yoff = self.window[0] + x, self.window[1] + y
        wanted = np.ones((height, width), dtype=bool)
        if self._aoi_handle is not None:
            wanted = pixels_inside(self._aoi_handle[1], self.stack.grid, (xoff, yoff, width, height))
            if not wanted.any():
                return None, wanted
        raw, valid = self.stack.read(xoff, yoff, width, height)
        if self.extra_nodata is not None:  # the checkpoint's nodata, for inputs that declare none
            valid &= ~(raw == np.float32(self.extra_nodata)).any(axis=0)
        wanted &= valid
        if not wanted.any():
            return None, wanted
        if self.band_map is not None:
            raw = self.band_map.apply(raw)
        return normalise(raw, self.mean, self.std, valid), wanted

    def close(self) -> None:
        self._aoi_handle = None
        self.stack.close()


@dataclass
class TileBatch:
    """Tiles in layout order; `index[i]` is the row of `data` holding tile i, -1 if it has nothing to predict."""

    origins: list[tuple[int, int]] = field(default_factory=list)
    wanted: list[np.ndarray] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    data: np.ndarray | None = None


class TileReader(threading.Thread):
    """Reads, masks and normalises tiles into batches on its own thread (own GDAL handles)."""

    def __init__(self, open_source: Callable[[], Any], layout: TileLayout, batch_size: int,
                 allocate: Callable[[tuple[int, ...]], np.ndarray], channels: int) -> None:
        super().__init__(name="crops-infer-reader", daemon=True)
        self.open_source = open_source
        self.layout = layout
        self.batch_size = batch_size
        self.allocate = allocate
        self.channels = channels
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _new_batch(self) -> TileBatch:
        lay = self.layout
        batch = TileBatch()
        batch.data = self.allocate((self.batch_size, self.channels, lay.tile_height, lay.tile_width))
        return batch

    def run(self) -> None:
        try:
            with contextlib.closing(self.open_source()) as source:
                batch, filled = self._new_batch(), 0
                for y, x in self.layout.tiles:
                    if self.stop.is_set():
                        return
                    features, wanted = source.read(y, x, self.layout.tile_width, self.layout.tile_height)
                    batch.origins.append((y, x))
                    batch.wanted.append(wanted)
                    if features is None:
                        batch.index.append(-1)
                    else:
                        batch.data[filled] = features
                        batch.index.append(filled)
                        filled += 1
                    if filled == self.batch_size or len(batch.origins) >= 16 * self.batch_size:
                        batch.data = batch.data[:filled]
                        if not self._put(batch):
                            return
                        batch, filled = self._new_batch(), 0
                if batch.origins:
                    batch.data = batch.data[:filled]
                    self._put(batch)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            self.error = exc
        finally:
            self._put(END)

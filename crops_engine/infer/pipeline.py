"""The streaming core: tiles read, predicted, blended and handed on as finished strips of rows.

Three stages overlap: the `TileReader` thread fills batches, a model thread predicts them while
the calling thread blends the previous batch (`blending.StripBlender`) and watches for cancel
(seen within 0.1 s, even in the middle of a long batch), and `sink` receives strips in raster row
order. `predict_raster` takes any `predict(batch) -> probabilities` callable, so tests inject a
per-pixel function to check that tiled and whole-image predictions agree.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ..blending import Strip, StripBlender, TileLayout
from ..errors import CropsError
from ..progress import Progress, silent
from .predictor import Predict
from .threads import END, POLL_S
from .tiles import TileBatch, TileReader


class ModelThread(threading.Thread):
    """Runs `predict` off the calling thread, which polls for cancel meanwhile: a cancel is seen within
    a tenth of a second even while a long CPU batch runs (the abandoned batch finishes on its own)."""

    def __init__(self, predict: Predict) -> None:
        super().__init__(name="crops-infer-model", daemon=True)
        self.predict = predict
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: queue.Queue = queue.Queue()

    def run(self) -> None:
        while (batch := self.inbox.get()) is not None:
            try:
                self.outbox.put((self.predict(batch), None))
            except BaseException as exc:  # noqa: BLE001 - raised by the calling thread
                self.outbox.put((None, exc))

    def submit(self, batch: np.ndarray) -> None:
        self.inbox.put(batch)

    def result(self, progress: Progress) -> np.ndarray:
        """The probabilities of the oldest submitted batch, checking for cancel while waiting."""
        while True:
            try:
                probs, exc = self.outbox.get(timeout=POLL_S)
            except queue.Empty:
                progress.check()
                continue
            if exc is not None:
                raise exc
            return probs

    def close(self) -> None:
        self.inbox.put(None)


def predict_raster(
    open_source: Callable[[], Any],
    layout: TileLayout,
    channels: int,
    num_classes: int,
    predict: Predict,
    sink: Callable[[Strip], None],
    batch_size: int,
    progress: Progress | None = None,
    allocate: Callable[[tuple[int, ...]], np.ndarray] | None = None,
    tiles: Any = None,
    blender: Any = None,
) -> dict[str, int]:
    """Tile, predict, blend and hand finished strips to `sink`, in raster row order.

    `open_source()` (called on the reader thread) returns an object with `read(y, x, w, h) ->
    (features (C, h, w) or None, wanted (h, w))` and `close()`. Returns counts of tiles run.
    Sharded inference (`shards`) passes the `tiles` to read (`tiles.tiles`, `tile_width`, `tile_height`; default
    the layout's) and a `blender` of its band (default a `StripBlender` of the layout).
    """
    progress = progress or silent()
    allocate = allocate or (lambda shape: np.empty(shape, dtype=np.float32))
    blender = blender if blender is not None else StripBlender(layout, num_classes)
    reader = TileReader(open_source, tiles if tiles is not None else layout, max(1, int(batch_size)), allocate,
                        channels)
    model = ModelThread(predict)
    reader.start()
    model.start()
    total, done, predicted = len(layout) if tiles is None else len(tiles.tiles), 0, 0
    in_flight: deque[TileBatch] = deque()  # submitted to the model, in order; at most two

    def blend(item: TileBatch) -> None:
        nonlocal done, predicted
        has_data = item.data is not None and len(item.data) > 0
        probs = model.result(progress) if has_data else None
        if probs is not None and probs.shape[1] != num_classes:
            raise CropsError(f"The model gives {probs.shape[1]} classes where its checkpoint names {num_classes}.")
        for (y, x), wanted, i in zip(item.origins, item.wanted, item.index, strict=True):
            for strip in blender.add(y, x, probs[i] if i >= 0 else None, wanted):
                sink(strip)
        done += len(item.origins)
        predicted += sum(1 for i in item.index if i >= 0)
        progress(done / total, f"Tile {done}/{total}")

    try:
        while True:
            try:
                item = reader.queue.get(timeout=POLL_S)
            except queue.Empty:
                progress.check()
                continue
            if item is END:
                break
            if item.data is not None and len(item.data):
                model.submit(item.data)  # the model starts on it while the previous batch is blended
            in_flight.append(item)
            if len(in_flight) > 1:
                blend(in_flight.popleft())
        while in_flight:
            blend(in_flight.popleft())
        if reader.error is not None:
            raise reader.error
        for strip in blender.finish():
            sink(strip)
    finally:
        model.close()
        reader.stop.set()
        reader.join()
    return {"tiles": total, "tiles_predicted": predicted}

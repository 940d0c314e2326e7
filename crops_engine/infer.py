"""Streaming sliding-window inference: a checkpoint on a composite -> class map (+ confidence, entropy,
per-class probabilities) GeoTIFFs.

Three stages overlap: a reader thread reads and normalises tile windows into batches (a bounded
queue: the model never waits on the disk), a model thread predicts them while the calling thread
blends the tiles (`blending.StripBlender`) and watches for cancel (seen within 0.1 s, even in the
middle of a long batch), and a writer thread turns finished strips of rows into the outputs.
Memory depends on tile size, batch size and raster width, never on raster height.

The tiling and blending core, `predict_raster`, takes any `predict(batch) -> probabilities`
callable; `infer` gives it the checkpoint's model through `ModelPredictor` (mixed precision and
pinned memory on CUDA, a batch sized to the GPU that halves on out-of-memory). Tests inject a
per-pixel function through the same path to check that tiled and whole-image predictions agree.

Nodata: a pixel with any invalid feature, or outside the MASK polygons, is nodata in every output
(255 in the class map, whose values 0..254 are class values; -1 in the float outputs).
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal

from .aoi import AreaOfInterest, pixels_inside
from .atomic import atomic_path
from .blending import Strip, StripBlender, TileLayout
from .checkpoint import CheckpointMeta, check_features, read_metadata
from .classes import CropClass
from .errors import Cancelled, CropsError
from .extent import Extent, extent_in_crs
from .features import FeatureStack, normalise
from .progress import Progress, silent
from .raster import Grid, create_geotiff, finish_geotiff, set_palette
from .styles import write_class_map_style, write_grey_style

CLASS_NODATA = 255
FLOAT_NODATA = -1.0
CPU_BATCH_SIZE = 4
MAX_AUTO_BATCH = 64
OUTPUT_BLOCK = 256  # rows are written in whole blocks of the tiled GeoTIFFs (raster.CREATION_OPTIONS)
_QUEUE_DEPTH = 2  # batches read ahead / strips waiting to be written
_POLL_S = 0.1  # how often waiting threads look at the cancel flag

Predict = Callable[[np.ndarray], np.ndarray]
"""(N, C, h, w) normalised float32 features -> (N, K, h, w) float32 class probabilities."""


# -- options --------------------------------------------------------------------------------------


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


@dataclass
class Outputs:
    """Paths of the rasters to write; only `classes` is required."""

    classes: str | os.PathLike[str]
    confidence: str | os.PathLike[str] | None = None
    entropy: str | os.PathLike[str] | None = None
    probabilities: str | os.PathLike[str] | None = None

    def items(self) -> list[tuple[str, Path]]:
        """(result key, path) of each output asked for; keys are the lower-case output names."""
        named = [("output", self.classes), ("output_confidence", self.confidence),
                 ("output_entropy", self.entropy), ("output_probabilities", self.probabilities)]
        return [(k, Path(p)) for k, p in named if p]


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), not all the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_tile_size(block_size: int, size_divisor: int) -> int:
    """The checkpoint's block size rounded up to a multiple of the model's size divisor.

    Tiles the size of the training blocks keep the model in the context it learned: a CNN
    trained on 32 px blocks sees its deepest features at 1 x 1 and misbehaves on 256 px tiles
    (measured on the sample scene: 0.90 accuracy on training-size blocks, 0.22 on 128 px).
    """
    d = max(1, int(size_divisor))
    return int(math.ceil(max(int(block_size), 1) / d) * d)


def check_tile_size(tile_size: int, size_divisor: int) -> None:
    if tile_size < 1 or tile_size % max(1, size_divisor):
        up = int(math.ceil(max(tile_size, 1) / size_divisor) * size_divisor)
        raise CropsError(
            f"TILE_SIZE {tile_size} is not a positive multiple of the model's stride {size_divisor}: use e.g. {up}."
        )


# -- the model as a predict function ------------------------------------------------------------


class ModelPredictor:
    """A segmentation model as `predict(batch) -> probabilities`, on CPU or CUDA.

    On CUDA: mixed precision (float16 autocast, as in training), pinned host buffers from
    `allocate`, and an out-of-memory error halves the batch and retries instead of failing.
    """

    def __init__(self, model: Any, device: Any, batch_size: int, amp: bool = True,
                 progress: Progress | None = None) -> None:
        import torch

        self.torch = torch
        self.model = model.to(device).eval()
        self.device = device
        self.cuda = device.type == "cuda"
        self.batch_size = max(1, int(batch_size))
        self.progress = progress or silent()
        self.amp = bool(amp)
        if self.cuda:
            torch.backends.cudnn.benchmark = True  # every batch has the same shape: let cuDNN pick its kernels

    def allocate(self, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 host buffer for one batch; page-locked on CUDA so the copy to the GPU is fast."""
        if self.cuda:
            return self.torch.empty(shape, dtype=self.torch.float32, pin_memory=True).numpy()
        return np.empty(shape, dtype=np.float32)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities of one batch, no splitting (raises torch's OutOfMemoryError)."""
        from .device import autocast

        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        with torch.inference_mode():
            x = x.to(self.device, non_blocking=True)
            with autocast(self.device, self.amp):
                logits = self.model(x).logits
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        out: np.ndarray | None = None
        i = 0
        while i < n:
            b = min(self.batch_size, n - i)
            try:
                probs = self.forward(batch[i:i + b])
            except self.torch.cuda.OutOfMemoryError:
                probs = None  # leave the except block first, so its traceback frees the batch's tensors
            if probs is None:
                self.torch.cuda.empty_cache()
                if b == 1:
                    raise CropsError(
                        "The GPU ran out of memory on a single tile: use a smaller TILE_SIZE or DEVICE cpu."
                    ) from None
                self.batch_size = max(1, b // 2)
                self.progress.warn(f"GPU out of memory with {b} tiles a batch: retrying with {self.batch_size}.")
                continue
            if out is None:
                out = np.empty((n, *probs.shape[1:]), dtype=np.float32)
            out[i:i + b] = probs
            i += b
        assert out is not None
        return out

    def fit_batch_size(self, in_channels: int, tile_h: int, tile_w: int, limit: int = MAX_AUTO_BATCH) -> int:
        """On CUDA: as many tiles as ~60 % of the free GPU memory holds, measured on one tile."""
        torch = self.torch
        if not self.cuda:
            return self.batch_size
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(self.device)
        base = torch.cuda.memory_allocated(self.device)
        self.forward(np.zeros((1, in_channels, tile_h, tile_w), dtype=np.float32))
        per_tile = max(1, torch.cuda.max_memory_allocated(self.device) - base)
        free, _ = torch.cuda.mem_get_info(self.device)
        self.batch_size = int(max(1, min(limit, 0.6 * free // per_tile)))
        return self.batch_size


# -- reading tiles ------------------------------------------------------------------------------


@dataclass
class _Batch:
    """Tiles in layout order; `index[i]` is the row of `data` holding tile i, -1 if it has nothing to predict."""

    origins: list[tuple[int, int]] = field(default_factory=list)
    wanted: list[np.ndarray] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    data: np.ndarray | None = None


_END = object()


class _TileReader(threading.Thread):
    """Reads, masks and normalises tiles into batches on its own thread (own GDAL handles)."""

    def __init__(self, open_source: Callable[[], Any], layout: TileLayout, batch_size: int,
                 allocate: Callable[[tuple[int, ...]], np.ndarray], channels: int) -> None:
        super().__init__(name="crops-infer-reader", daemon=True)
        self.open_source = open_source
        self.layout = layout
        self.batch_size = batch_size
        self.allocate = allocate
        self.channels = channels
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUE_DEPTH)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _new_batch(self) -> _Batch:
        lay = self.layout
        batch = _Batch()
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
            self._put(_END)


class TileSource:
    """Tile windows of the output grid: normalised features and the pixels to output.

    Reads the window (xoff, yoff) + tile of the input, marks invalid features and pixels outside
    the MASK polygons as not wanted; a tile with no wanted pixel is not read further (None).
    """

    def __init__(self, input_path: str, extra_bands: Sequence[str], window: tuple[int, int, int, int],
                 meta: CheckpointMeta, aoi: Any | None) -> None:
        self.stack = FeatureStack(input_path, extra_bands)
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
        return normalise(raw, self.mean, self.std, valid), wanted

    def close(self) -> None:
        self._aoi_handle = None
        self.stack.close()


# -- the streaming core -------------------------------------------------------------------------


class _ModelThread(threading.Thread):
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
                probs, exc = self.outbox.get(timeout=_POLL_S)
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
) -> dict[str, int]:
    """Tile, predict, blend and hand finished strips to `sink`, in raster row order.

    `open_source()` (called on the reader thread) returns an object with `read(y, x, w, h) ->
    (features (C, h, w) or None, wanted (h, w))` and `close()`. Returns counts of tiles run.
    """
    progress = progress or silent()
    allocate = allocate or (lambda shape: np.empty(shape, dtype=np.float32))
    blender = StripBlender(layout, num_classes)
    reader = _TileReader(open_source, layout, max(1, int(batch_size)), allocate, channels)
    model = _ModelThread(predict)
    reader.start()
    model.start()
    total, done, predicted = len(layout), 0, 0
    in_flight: deque[_Batch] = deque()  # submitted to the model, in order; at most two

    def blend(item: _Batch) -> None:
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
                item = reader.queue.get(timeout=_POLL_S)
            except queue.Empty:
                progress.check()
                continue
            if item is _END:
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


# -- writing outputs ----------------------------------------------------------------------------


def class_value_table(classes: Sequence[CropClass]) -> np.ndarray:
    """Output channel k -> class value written in the class map."""
    values = [int(c.value) for c in classes]
    bad = [v for v in values if not 0 <= v < CLASS_NODATA]
    if bad:
        raise CropsError(
            f"Class values {bad} do not fit a class map (0..{CLASS_NODATA - 1}; {CLASS_NODATA} is nodata): "
            "the checkpoint's classes need renumbering."
        )
    return np.asarray(values, dtype=np.uint8)


def normalised_entropy(probabilities: np.ndarray) -> np.ndarray:
    """-sum p log p / log K over axis 0: 0 = certain, 1 = all classes equally likely."""
    k = probabilities.shape[0]
    if k < 2:
        return np.zeros(probabilities.shape[1:], dtype=np.float32)
    p = np.clip(probabilities, 1e-12, 1.0)
    h = -(p * np.log(p)).sum(axis=0) / np.float32(math.log(k))
    return np.clip(h, 0.0, 1.0).astype(np.float32)


class _RasterWriter(threading.Thread):
    """Writes strips into the open output datasets, whole output blocks at a time, on its own thread."""

    def __init__(self, datasets: dict[str, gdal.Dataset], values: np.ndarray, height: int) -> None:
        super().__init__(name="crops-infer-writer", daemon=True)
        self.datasets = datasets
        self.values = values
        self.height = height
        self.queue: queue.Queue = queue.Queue(maxsize=_QUEUE_DEPTH)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._pending: list[Strip] = []
        self.valid_pixels = 0
        self.class_counts = np.zeros(len(values), dtype=np.int64)

    def put(self, strip: Strip | object) -> None:
        while True:
            if self.error is not None:
                raise self.error
            if not self.is_alive():
                raise RuntimeError("the output writer stopped")
            try:
                self.queue.put(strip, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    item = self.queue.get(timeout=_POLL_S)
                except queue.Empty:
                    continue
                if item is _END:
                    return
                for strip in self._aligned(item):
                    self._write(strip)
        except BaseException as exc:  # noqa: BLE001 - raised by the main thread
            self.error = exc

    def _aligned(self, strip: Strip) -> list[Strip]:
        """Hold rows back until they end on an output block boundary (or the raster's end)."""
        self._pending.append(strip)
        top = self._pending[0].row
        bottom = strip.row + strip.height
        cut = bottom if bottom >= self.height else (bottom // OUTPUT_BLOCK) * OUTPUT_BLOCK
        if cut <= top:
            return []
        if len(self._pending) == 1:
            probs, valid = strip.probabilities, strip.valid
        else:
            probs = np.concatenate([s.probabilities for s in self._pending], axis=1)
            valid = np.concatenate([s.valid for s in self._pending], axis=0)
        k = cut - top
        self._pending = [Strip(cut, probs[:, k:], valid[k:])] if k < valid.shape[0] else []
        return [Strip(top, probs[:, :k], valid[:k])]

    def _write(self, strip: Strip) -> None:
        probs, valid, row = strip.probabilities, strip.valid, strip.row
        invalid = ~valid
        best = probs.argmax(axis=0)
        classes = self.values[best]
        classes[invalid] = CLASS_NODATA
        self.valid_pixels += int(valid.sum())
        self.class_counts += np.bincount(best[valid], minlength=len(self.values))
        self.datasets["output"].GetRasterBand(1).WriteArray(classes, 0, row)
        if "output_confidence" in self.datasets:
            conf = probs.max(axis=0)
            conf[invalid] = FLOAT_NODATA
            self.datasets["output_confidence"].GetRasterBand(1).WriteArray(conf, 0, row)
        if "output_entropy" in self.datasets:
            ent = normalised_entropy(probs)
            ent[invalid] = FLOAT_NODATA
            self.datasets["output_entropy"].GetRasterBand(1).WriteArray(ent, 0, row)
        if "output_probabilities" in self.datasets:
            ds = self.datasets["output_probabilities"]
            for k in range(probs.shape[0]):
                band = np.where(valid, probs[k], np.float32(FLOAT_NODATA)).astype(np.float32)
                ds.GetRasterBand(k + 1).WriteArray(band, 0, row)


def _create_outputs(tmps: dict[str, Path], grid: Grid, classes: Sequence[CropClass],
                    metadata: dict[str, str]) -> dict[str, gdal.Dataset]:
    datasets: dict[str, gdal.Dataset] = {}
    names = [c.name for c in classes]
    for key, tmp in tmps.items():
        if key == "output":
            ds = create_geotiff(tmp, grid, 1, np.uint8, CLASS_NODATA, ["class"], metadata)
            set_palette(ds.GetRasterBand(1), [(c.value, c.name, c.colour) for c in classes])
        elif key == "output_probabilities":
            ds = create_geotiff(tmp, grid, len(classes), np.float32, FLOAT_NODATA, names, metadata)
        else:
            ds = create_geotiff(tmp, grid, 1, np.float32, FLOAT_NODATA, [key.removeprefix("output_")], metadata)
        datasets[key] = ds
    return datasets


def _finish_outputs(datasets: dict[str, gdal.Dataset], tmps: dict[str, Path], classes: Sequence[CropClass],
                    progress: Progress) -> None:
    """Overviews (nearest for classes, average for the rest), then the `.qml` styles."""
    keys = list(datasets)
    for i, key in enumerate(keys):
        sub = progress.sub(i / len(keys), (i + 1) / len(keys))
        cancelled: list[bool] = []

        def callback(complete: float, message: Any, data: Any, sub: Progress = sub, cancelled=cancelled) -> int:
            if sub.cancelled:
                cancelled.append(True)
                return 0
            sub(complete, "Building overviews")
            return 1

        ds = datasets.pop(key)
        try:
            finish_geotiff(ds, overviews=True, resampling="NEAREST" if key == "output" else "AVERAGE",
                           callback=callback)
        except RuntimeError:
            if cancelled:
                raise Cancelled() from None
            raise
        del ds
    for key, tmp in tmps.items():
        if key == "output":
            write_class_map_style(tmp, classes)
        else:
            write_grey_style(tmp, 0.0, 1.0)


@contextlib.contextmanager
def _gdal_cache(limit: int) -> Iterator[None]:
    """Bound GDAL's block cache for the run (it would otherwise fill up with the raster's size)."""
    old = gdal.GetCacheMax()
    gdal.SetCacheMax(int(limit))
    try:
        yield
    finally:
        gdal.SetCacheMax(old)


# -- the command --------------------------------------------------------------------------------


def _output_window(grid: Grid, extent: Extent | None, aoi: Any | None) -> tuple[int, int, int, int]:
    """The input pixel window the outputs cover: the extent and the mask's bounds, intersected."""
    x0, y0, x1, y1 = 0, 0, grid.width, grid.height
    for bounds in ([extent_in_crs(extent, grid.crs_wkt)] if extent is not None else []) + (
            [aoi.bounds] if aoi is not None else []):
        c, r, w, h = grid.pixel_window_of(bounds)
        x0, y0, x1, y1 = max(x0, c), max(y0, r), min(x1, c + w), min(y1, r + h)
    if x1 <= x0 or y1 <= y0:
        raise CropsError("EXTENT and MASK do not overlap each other over the raster: give areas that intersect.")
    return x0, y0, x1 - x0, y1 - y0


def _check_outputs(outputs: Outputs, input_path: Path) -> None:
    seen: dict[Path, str] = {}
    for key, path in outputs.items():
        if path.suffix.lower() not in (".tif", ".tiff"):
            raise CropsError(f"{key.upper()} {path} must be a GeoTIFF (.tif).")
        resolved = path.resolve()
        if resolved == input_path.resolve():
            raise CropsError(f"{key.upper()} would overwrite the INPUT raster; choose another file name.")
        if resolved in seen:
            raise CropsError(f"{key.upper()} and {seen[resolved].upper()} are the same file; give each its own.")
        seen[resolved] = key


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
    _check_outputs(outputs, input_path)
    meta = read_metadata(model_path)
    with FeatureStack(input_path, options.extra_bands) as stack:
        check_features(meta, stack.names, source=f"INPUT {input_path}")
        grid = stack.grid
    values = class_value_table(meta.classes)

    aoi = None
    if options.mask:
        aoi = AreaOfInterest.prepare(options.mask, grid)
    try:
        window = _output_window(grid, options.extent, aoi)
        return _infer(model_path, input_path, outputs, options, progress, predict, meta, grid, window, aoi, values)
    finally:
        if aoi is not None:
            aoi.close()


def _infer(model_path: Path, input_path: Path, outputs: Outputs, options: InferOptions, progress: Progress,
           predict: Predict | None, meta: CheckpointMeta, grid: Grid, window: tuple[int, int, int, int],
           aoi: Any | None, values: np.ndarray) -> dict[str, Any]:
    import torch

    from .device import describe, resolve_device

    if options.threads:
        torch.set_num_threads(int(options.threads))
    device = resolve_device(options.device)
    model = None
    if predict is None:
        from .checkpoint import load_model

        progress(0.0, "Loading the model")
        model, _ = load_model(model_path, device)
        size_divisor = model.size_divisor
    else:
        from .models import build_model

        size_divisor = build_model(meta.arch, meta.in_channels, meta.num_classes, **meta.arch_args).size_divisor
    tile = int(options.tile_size) or default_tile_size(meta.block_size, size_divisor)
    check_tile_size(tile, size_divisor)
    overlap = tile // 4 if options.overlap is None or options.overlap < 0 else int(options.overlap)
    out_grid = grid.window(*window)
    layout = TileLayout.plan(out_grid.width, out_grid.height, tile, overlap)

    batch_size = int(options.batch_size)
    allocate = None
    if model is not None:
        predictor = ModelPredictor(model, device, batch_size or CPU_BATCH_SIZE, options.amp, progress)
        if not batch_size and predictor.cuda:
            predictor.fit_batch_size(meta.in_channels, layout.tile_height, layout.tile_width)
        batch_size = predictor.batch_size
        predict, allocate = predictor, predictor.allocate
    batch_size = batch_size or CPU_BATCH_SIZE
    progress.log(
        f"Inference on {out_grid.width} x {out_grid.height} px (window {window[0]},{window[1]} of {input_path.name}), "
        f"{len(layout)} tiles of {layout.tile_width} x {layout.tile_height} px, overlap {overlap} px, "
        f"batch {batch_size}, {describe(device)}"
    )

    metadata = {
        "CROPS_MODEL": str(model_path),
        "CROPS_ARCH": meta.arch,
        "CROPS_TILE_SIZE": str(tile),
        "CROPS_OVERLAP": str(overlap),
        "CROPS_CLASSES": ",".join(f"{c.value}={c.name}" for c in meta.classes),
    }
    bands_out = sum(meta.num_classes if key == "output_probabilities" else 1 for key, _ in outputs.items())
    # GDAL's block cache holds what tiles re-read (two block rows of input) and the block rows being
    # written; bounded so that memory stops growing after the first rows instead of at GDAL's 5 % of RAM.
    cache = int(1.25 * (2 * max(layout.tile_height, OUTPUT_BLOCK) * out_grid.width * len(meta.features) * 4
                        + 2 * OUTPUT_BLOCK * out_grid.width * bands_out * 4))
    started = time.perf_counter()

    def open_source() -> TileSource:
        return TileSource(str(input_path), options.extra_bands, window, meta, aoi)

    with ExitStack() as stack:
        tmps = {key: stack.enter_context(atomic_path(path)) for key, path in outputs.items()}
        stack.enter_context(_gdal_cache(min(max(cache, 16 << 20), 1 << 30)))
        datasets = _create_outputs(tmps, out_grid, meta.classes, metadata)
        writer = _RasterWriter(datasets, values, out_grid.height)
        writer.start()
        try:
            counts = predict_raster(open_source, layout, meta.in_channels, meta.num_classes, predict,
                                    writer.put, batch_size, progress.sub(0.0, 0.9), allocate)
            writer.put(_END)
            writer.join()
            if writer.error is not None:
                raise writer.error
            seconds = time.perf_counter() - started
            _finish_outputs(datasets, tmps, meta.classes, progress.sub(0.9, 1.0))
        finally:
            writer.stop.set()
            writer.join()
            datasets.clear()  # closes what _finish_outputs did not (error, cancel) before the files go

    pixels = out_grid.width * out_grid.height
    result: dict[str, Any] = {key: str(path) for key, path in outputs.items()}
    result.update(
        classes=[c.name for c in meta.classes],
        width=out_grid.width,
        height=out_grid.height,
        valid_pixels=writer.valid_pixels,
        class_pixels={c.name: int(n) for c, n in zip(meta.classes, writer.class_counts, strict=True)},
        tile_size=tile,
        overlap=overlap,
        batch_size=getattr(predict, "batch_size", batch_size),
        device=device.type,
        seconds=round(seconds, 3),
        pixels_per_second=round(pixels / max(seconds, 1e-9), 1),
        **counts,
    )
    progress.metric("pixels_per_second", result["pixels_per_second"])
    progress(1.0, "Done")
    return result

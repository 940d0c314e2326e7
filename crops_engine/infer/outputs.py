"""The output rasters of inference: class map, confidence, entropy and probabilities.

Nodata: a pixel with any invalid feature, or outside the MASK polygons, is nodata in every output
(255 in the class map, whose values 0..254 are class values; -1 in the float outputs). Strips are
written on their own thread in whole blocks of the tiled GeoTIFFs, so no block is compressed twice.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from ..blending import Strip
from ..classes import CropClass
from ..errors import CropsError
from ..progress import Progress
from ..raster import Grid, create_geotiff, finish_geotiff, set_palette
from ..styles import write_class_map_style, write_grey_style
from .threads import END, POLL_S, QUEUE_DEPTH

CLASS_NODATA = 255
FLOAT_NODATA = -1.0
OUTPUT_BLOCK = 256  # rows are written in whole blocks of the tiled GeoTIFFs (raster.CREATION_OPTIONS)


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

    def check(self, input_path: Path) -> None:
        """Raise a CropsError for an output that is no GeoTIFF, is the input, or is named twice."""
        seen: dict[Path, str] = {}
        for key, path in self.items():
            if path.suffix.lower() not in (".tif", ".tiff"):
                raise CropsError(f"{key.upper()} {path} must be a GeoTIFF (.tif).")
            resolved = path.resolve()
            if resolved == input_path.resolve():
                raise CropsError(f"{key.upper()} would overwrite the INPUT raster; choose another file name.")
            if resolved in seen:
                raise CropsError(f"{key.upper()} and {seen[resolved].upper()} are the same file; give each its own.")
            seen[resolved] = key


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


class OutputWriter(threading.Thread):
    """Writes strips into the open output datasets, whole output blocks at a time, on its own thread."""

    def __init__(self, datasets: dict[str, gdal.Dataset], values: np.ndarray, height: int) -> None:
        super().__init__(name="crops-infer-writer", daemon=True)
        self.datasets = datasets
        self.values = values
        self.height = height
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
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
                self.queue.put(strip, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """After the last strip: wait for the writes, then raise the writer's error if it had one."""
        self.put(END)
        self.join()
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    item = self.queue.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if item is END:
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


def create_outputs(tmps: dict[str, Path], grid: Grid, classes: Sequence[CropClass],
                   metadata: dict[str, str]) -> dict[str, gdal.Dataset]:
    """The open output GeoTIFFs by result key: the paletted class map, the Float32 rest."""
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


def finish_outputs(datasets: dict[str, gdal.Dataset], tmps: dict[str, Path], classes: Sequence[CropClass],
                   progress: Progress) -> None:
    """Overviews (nearest for classes, average for the rest), closing each dataset, then the `.qml` styles."""
    keys = list(datasets)
    for i, key in enumerate(keys):
        ds = datasets.pop(key)
        finish_geotiff(ds, overviews=True, resampling="NEAREST" if key == "output" else "AVERAGE",
                       progress=progress.sub(i / len(keys), (i + 1) / len(keys)))
        del ds
    for key, tmp in tmps.items():
        if key == "output":
            write_class_map_style(tmp, classes)
        else:
            write_grey_style(tmp, 0.0, 1.0)

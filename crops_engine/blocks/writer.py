"""Building a block store: the composite (+ extra bands, + labels) cut into blocks, one strip at a time.

A strip is one row of blocks (block_size rows x the window's width), so a full Sentinel-2 tile
builds in bounded memory. Blocks without a valid pixel (target stores) or without a labelled
pixel (stores with labels) are not written. Statistics count each pixel of the window once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..atomic import TMP_MARK, atomic_path
from ..classes import CropClass
from ..errors import CropsError
from ..features import FeatureStack
from ..labels import LabelSource, open_labels
from ..metrics import IGNORE_INDEX
from ..progress import Progress, silent
from .layout import cut, lattice, resolve_window
from .split import spatial_split
from .stats import RunningStats
from .store import COMPRESSION, FORMAT, FORMAT_VERSION


def build_block_store(
    composite: str | os.PathLike[str],
    output: str | os.PathLike[str],
    labels: str | os.PathLike[str] | None = None,
    label_field: str | None = None,
    class_map: str | None = None,
    labels_crs: str | None = None,
    extra_bands: Sequence[str] = (),
    block_size: int = 224,
    stride: int | None = None,
    val_fraction: float = 0.2,
    extent: str | Sequence[float] | None = None,
    seed: int = 0,
    val_group_size: int | None = None,
    compression: str = COMPRESSION,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Cut `composite` (+ `extra_bands`, + `labels`) into blocks and write the store at `output`.

    Returns a summary (paths and counts). Everything is checked before the store exists; on
    error or cancel none is left.
    """
    progress = progress or silent()
    block_size, stride = _check_arguments(block_size, stride, val_fraction, compression, Path(output))
    output = Path(output)
    with FeatureStack(composite, extra_bands) as stack:
        window = resolve_window(stack.grid, extent)
        label_source = None
        if labels:
            label_source = open_labels(
                labels, stack.grid, window, label_field=label_field, class_map=class_map,
                progress=progress.sub(0.0, 0.05), labels_crs=labels_crs,
            )
        writer = _StoreWriter(stack, label_source, window, block_size, stride, compression)
        progress.log(writer.plan_text())
        space = _free_bytes(output.parent)
        total = writer.bytes_at_most()
        if space is not None and space < total:
            progress.warn(
                f"The block store may need up to {_mb(total)} (uncompressed; compressed it is usually smaller) and "
                f"{output.parent} has {_mb(space)} free: it may not fit. Free some space, or write OUTPUT to another "
                "disk."
            )

        def split(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
            return spatial_split(cells, math.ceil(block_size / stride), float(val_fraction), seed, val_group_size)

        provenance = {
            "val_fraction": float(val_fraction),
            "seed": int(seed),
            "composite": str(composite),
            "labels": str(labels or ""),
            "label_field": str(label_field or ""),
            "class_map": label_source.class_map.text if label_source else "",
        }
        with atomic_path(output) as tmp:
            written = writer.write(tmp, progress.sub(0.05, 0.98), split, provenance)
        train, val = written.train, written.val
        labelled = [name for name, n in written.class_pixels.items() if n > 0]
        if label_source is not None and len(labelled) < 2:
            progress.warn(
                f"Only one class ({labelled[0]}) has labelled pixels: train-source needs at least two. Give labels "
                "or a CLASS_MAP with two or more classes (e.g. '1200=maize; *=other; 0=ignore')."
            )
        if val_fraction > 0 and len(val) == 0:
            progress.warn("Too few blocks for a validation split: all blocks are for training.")
        progress(1.0, "Block store written")
    result = {
        "output": str(output),
        "blocks": written.blocks,
        "train_blocks": int(len(train)),
        "val_blocks": int(len(val)),
        "left_out_blocks": int(written.blocks - len(train) - len(val)),
        "skipped_empty_blocks": written.skipped,
        "features": list(stack.names),
        "classes": [c.as_dict() for c in writer.classes],
        "class_pixels": written.class_pixels,
        "valid_pixels": written.valid_pixels,
        "block_size": block_size,
        "stride": stride,
        "window": list(window),
    }
    for name, value in (("blocks", result["blocks"]), ("val_blocks", result["val_blocks"])):
        progress.metric(name, value)
    return result


def _check_arguments(block_size: int, stride: int | None, val_fraction: float, compression: str,
                     output: Path) -> tuple[int, int]:
    """(block size, stride) as integers (stride None or 0 = the block size), or a CropsError."""
    block_size = int(block_size)
    stride = block_size if stride is None or int(stride) == 0 else int(stride)
    if block_size < 2:
        raise CropsError(f"BLOCK_SIZE must be at least 2 pixels; got {block_size}.")
    if not 1 <= stride <= block_size:
        raise CropsError(f"STRIDE must be between 1 and BLOCK_SIZE ({block_size}); got {stride}.")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise CropsError(f"VAL_FRACTION must be in [0, 1); got {val_fraction}.")
    if compression not in ("lzf", "gzip"):
        raise CropsError(f"Compression {compression!r} is not supported; use lzf or gzip.")
    if output.suffix.lower() not in (".h5", ".hdf5"):
        raise CropsError(f"OUTPUT {output} should be an HDF5 file ending in .h5.")
    return block_size, stride


STORE_OVERHEAD = 256 << 10  # attributes, the split and HDF5's own metadata: well under this
STRIP_MARGIN = 64 << 10  # HDF5 metadata a strip may add beside its blocks


def _free_bytes(folder: Path) -> int | None:
    """Free bytes on the disk holding `folder` or its nearest existing parent (None when that cannot be told)."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _final_name(tmp: Path) -> Path:
    """`x.h5` for its temporary `x.crops-tmp-<id>.h5`."""
    name = tmp.name
    at = name.find(TMP_MARK)
    return tmp.with_name(name[:at] + tmp.suffix) if at >= 0 else tmp


def _abandon(h5: h5py.File, path: Path, datasets: dict[str, h5py.Dataset]) -> None:
    """Close an unfinished store without a crash: empty the file first, so the flush HDF5 makes on close has
    the space it needs on a full disk (a failed close leaves objects that crash the process later)."""
    datasets.clear()
    with contextlib.suppress(OSError):
        os.truncate(path, 0)
    with contextlib.suppress(Exception):
        h5.close()


def _write_error(path: Path, exc: BaseException) -> CropsError:
    final = _final_name(path)
    if getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc):
        free = _free_bytes(path.parent)
        room = f" ({_mb(free)} free)" if free is not None else ""
        return CropsError(
            f"The disk is full: no space left on device while writing the block store {final}{room}. Free some "
            "space, or write OUTPUT to another disk; nothing was written."
        )
    if getattr(exc, "errno", None) == errno.EDQUOT or "quota" in str(exc).lower():
        return CropsError(f"Disk quota exceeded while writing the block store {final}: free some space or write "
                          "OUTPUT elsewhere; nothing was written.")
    return CropsError(f"Cannot write the block store {final}: {exc}. Check the disk and that OUTPUT's folder is "
                      "writable; nothing was written.")


@dataclass
class _Written:
    """What `_StoreWriter.write` put into the store."""

    blocks: int
    skipped: int
    cells: np.ndarray  # (N, 2) lattice position (row, col in strides) of each block written
    class_pixels: dict[str, int]
    valid_pixels: int
    train: np.ndarray  # block indices of the validation split
    val: np.ndarray


@dataclass
class _StoreWriter:
    """One store being written: the inputs, where the blocks go, and what has been counted so far."""

    stack: FeatureStack
    labels: LabelSource | None
    window: tuple[int, int, int, int]
    block_size: int
    stride: int
    compression: str
    classes: list[CropClass] = field(init=False)
    rows: list[int] = field(init=False)
    cols: list[int] = field(init=False)
    stats: RunningStats = field(init=False)
    class_pixels: np.ndarray = field(init=False)
    cells: list[tuple[int, int]] = field(default_factory=list, init=False)
    skipped: int = field(default=0, init=False)
    datasets: dict[str, h5py.Dataset] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        xoff, yoff, xsize, ysize = self.window
        self.classes = list(self.labels.classes) if self.labels else []
        self.rows = lattice(yoff, ysize, self.block_size, self.stride)
        self.cols = lattice(xoff, xsize, self.block_size, self.stride)
        self.stats = RunningStats(len(self.stack))
        self.class_pixels = np.zeros(len(self.classes), dtype=np.int64)

    def plan_text(self) -> str:
        _, _, xsize, ysize = self.window
        return (
            f"Cutting a {xsize} x {ysize} window into up to {len(self.rows) * len(self.cols)} blocks of "
            f"{self.block_size} px (stride {self.stride}), {len(self.stack)} features, "
            f"{len(self.classes) or 'no'} classes."
        )

    def bytes_at_most(self) -> int:
        """Bytes of the store when every block of the lattice is written uncompressed (an upper bound)."""
        return len(self.rows) * len(self.cols) * self.block_bytes() + STORE_OVERHEAD

    def block_bytes(self) -> int:
        """Uncompressed bytes one block takes: images, valid mask, labels, origin and class counts."""
        bs, k = self.block_size, len(self.classes)
        return len(self.stack) * bs * bs * 4 + bs * bs * (2 if self.labels is not None else 1) + 16 + 8 * k

    def write(self, path: Path, progress: Progress, split: Any, provenance: dict[str, Any]) -> _Written:
        """Every strip into a new HDF5 file at `path`, then the attributes and the validation split.

        No chunk cache: HDF5 writes each block when it is given, so a full disk shows at that write, where
        it is caught, rather than when the file is closed (HDF5 then leaves half-closed objects behind
        that crash the process when Python frees them: issue 19). Before each strip the free space is
        checked against the strip's uncompressed size; a write error becomes a CropsError and the
        unfinished file is emptied and closed (then removed by the caller's `atomic_path`).
        """
        h5 = h5py.File(path, "w", rdcc_nbytes=0)
        try:
            self._create_datasets(h5)
            for si, r in enumerate(self.rows):
                progress(si / len(self.rows), f"Strip {si + 1} of {len(self.rows)}")
                self._write_strip(si, r)
            self._check_content()
            for key, value in self._attrs().items():
                h5.attrs[key] = value
            blocks = int(self.datasets["images"].shape[0])
            cells = np.asarray(self.cells, dtype=np.int64).reshape(-1, 2)
            train, val, group_size = split(cells)
            h5.create_dataset("split/train", data=train)
            h5.create_dataset("split/val", data=val)
            h5.attrs["val_group_size"] = int(group_size)
            for key, value in provenance.items():
                h5.attrs[key] = value
            self.datasets.clear()
            h5.close()
        except BaseException as exc:
            _abandon(h5, path, self.datasets)
            if isinstance(exc, (OSError, RuntimeError)):
                raise _write_error(path, exc) from None
            raise
        progress(1.0, f"{blocks} blocks written")
        return _Written(
            blocks=blocks,
            skipped=self.skipped,
            cells=cells,
            class_pixels={c.name: int(n) for c, n in zip(self.classes, self.class_pixels, strict=True)},
            valid_pixels=int(self.stats.count),
            train=train,
            val=val,
        )

    def _create_datasets(self, h5: h5py.File) -> None:
        bands, bs, k = len(self.stack), self.block_size, len(self.classes)
        opts: dict[str, Any] = {"compression": self.compression}
        if self.compression == "gzip":
            opts.update(compression_opts=1, shuffle=True)
        ds = self.datasets
        ds["images"] = h5.create_dataset(
            "images", (0, bands, bs, bs), np.float32, maxshape=(None, bands, bs, bs), chunks=(1, bands, bs, bs),
            fillvalue=np.nan, **opts,
        )
        ds["valid"] = h5.create_dataset("valid", (0, bs, bs), np.uint8, maxshape=(None, bs, bs), chunks=(1, bs, bs),
                                        **opts)
        ds["origins"] = h5.create_dataset("origins", (0, 2), np.int64, maxshape=(None, 2), chunks=(1024, 2))
        if self.labels is not None:
            ds["labels"] = h5.create_dataset(
                "labels", (0, bs, bs), np.uint8, maxshape=(None, bs, bs), chunks=(1, bs, bs),
                fillvalue=IGNORE_INDEX, **opts,
            )
            ds["class_counts"] = h5.create_dataset("class_counts", (0, k), np.int64, maxshape=(None, k),
                                                   chunks=(1024, k))

    def chunk_columns(self) -> int:
        """Block columns read at a time: the whole strip (a series store reads fewer, its stack being deeper)."""
        return len(self.cols)

    def _read(self, x0: int, r: int, width: int, h: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Features and valid mask of a window, and the per-pixel arrays of this store's own extra datasets."""
        x, valid = self.stack.read(x0, r, width, h)
        return x, valid, {}

    def _write_strip(self, si: int, r: int) -> None:
        """Strip `si` (top row `r`), read `chunk_columns()` block columns at a time: count the pixels it is first
        to cover (each pixel once), append its useful blocks."""
        xoff, yoff, xsize, ysize = self.window
        bs, k, step = self.block_size, len(self.classes), self.chunk_columns()
        h = min(bs, yoff + ysize - r)
        fresh_rows = h if si == len(self.rows) - 1 else min(self.stride, h)
        for c_first in range(0, len(self.cols), step):
            c_last = min(len(self.cols), c_first + step)  # exclusive
            x0 = self.cols[c_first]
            x1 = min(self.cols[c_last - 1] + bs, xoff + xsize)
            x, valid, extra = self._read(x0, r, x1 - x0, h)
            lab = None
            if self.labels is not None:
                lab = self.labels.read(x0, r, x1 - x0, h)
                lab[~valid] = IGNORE_INDEX
            fresh_cols = (self.cols[c_last] if c_last < len(self.cols) else xoff + xsize) - x0
            self.stats.update(x[:, :fresh_rows, :fresh_cols], valid[:fresh_rows, :fresh_cols])
            if lab is not None:
                counted = lab[:fresh_rows, :fresh_cols]
                self.class_pixels += np.bincount(counted[counted != IGNORE_INDEX], minlength=k)[:k]
            keep = []
            for ci in range(c_first, c_last):
                c0 = self.cols[ci] - x0
                useful = (lab[:, c0 : c0 + bs] != IGNORE_INDEX) if lab is not None else valid[:, c0 : c0 + bs]
                if useful.any():
                    keep.append(ci)
                else:
                    self.skipped += 1
            if keep:
                self._check_space(len(keep))
                self._append(r, x0, keep, x, valid, lab, extra)

    def _check_space(self, blocks: int) -> None:
        """A CropsError before a strip's blocks are written when the disk cannot take them uncompressed."""
        path = Path(self.datasets["images"].file.filename)
        free = _free_bytes(path.parent)
        need = blocks * self.block_bytes() + STRIP_MARGIN
        if free is not None and free < need:
            raise CropsError(
                f"Not enough free space for the block store {_final_name(path)}: {path.parent} has {_mb(free)} free "
                f"and the next {blocks} blocks need up to {_mb(need)} (the whole store up to "
                f"{_mb(self.bytes_at_most())}). Free some space, or write OUTPUT to another disk; nothing was written."
            )

    def _append(self, r: int, x0: int, keep: list[int], x: np.ndarray, valid: np.ndarray, lab: np.ndarray | None,
                extra: dict[str, np.ndarray]) -> None:
        """Blocks `keep` (block columns) of the window read at column `x0`, and their `extra` datasets (uint8)."""
        yoff = self.window[1]
        bs, k, ds = self.block_size, len(self.classes), self.datasets
        n0, m = ds["images"].shape[0], len(keep)
        for dataset in ds.values():
            dataset.resize(n0 + m, axis=0)
        for j, ci in enumerate(keep):
            c0 = self.cols[ci] - x0
            ds["images"][n0 + j] = cut(x, c0, bs, np.nan)
            ds["valid"][n0 + j] = cut(valid, c0, bs, 0).astype(np.uint8)
            for name, values in extra.items():
                ds[name][n0 + j] = cut(values, c0, bs, 0).astype(np.uint8)
            if lab is not None:
                block_labels = cut(lab, c0, bs, IGNORE_INDEX)
                ds["labels"][n0 + j] = block_labels
                ds["class_counts"][n0 + j] = np.bincount(block_labels[block_labels != IGNORE_INDEX], minlength=k)[:k]
        ds["origins"][n0 : n0 + m] = np.array([(r, self.cols[ci]) for ci in keep], dtype=np.int64)
        self.cells.extend(((r - yoff) // self.stride, (self.cols[ci] - self.window[0]) // self.stride) for ci in keep)

    def _check_content(self) -> None:
        if self.stats.count == 0:
            raise CropsError(
                f"The composite has no valid pixel in the window {self.window}: every pixel is nodata in at least "
                "one feature band. Check the extent, the composite and the extra bands' nodata."
            )
        if self.labels is not None and self.class_pixels.sum() == 0:
            raise CropsError(
                f"No labelled pixel in the composite's extent: the labels ({self.labels.description}) give no "
                "class where the composite has valid data. Check that labels and composite cover the same area."
            )

    def _attrs(self) -> dict[str, Any]:
        grid, stack = self.stack.grid, self.stack
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_by": f"crops_engine {__version__}",
            "crs_wkt": grid.crs_wkt,
            "geotransform": np.asarray(grid.geotransform, dtype=np.float64),
            "width": grid.width,
            "height": grid.height,
            "window": np.asarray(self.window, dtype=np.int64),
            "block_size": self.block_size,
            "stride": self.stride,
            "feature_names": json.dumps(list(stack.names)),
            "feature_sources": json.dumps([{"path": s.path, "band": s.band} for s in stack.sources]),
            "source_nodata": json.dumps(stack.nodata),
            "nodata": np.float32(np.nan),
            "ignore": IGNORE_INDEX,
            "mean": self.stats.mean,
            "std": self.stats.std,
            "valid_pixels": int(self.stats.count),
            "has_labels": self.labels is not None,
            "classes": json.dumps([c.as_dict() for c in self.classes]),
            "class_pixels": self.class_pixels,
            "compression": self.compression,
        }

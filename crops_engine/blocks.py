"""The HDF5 block store: a composite (plus extra bands and labels) cut into square blocks.

Training, partition and adaptation read blocks from here; inference reads the rasters
directly with the same `features.FeatureStack` and `features.normalise`.

Layout (one block per HDF5 chunk, lzf-compressed: it reads faster than gzip, see
bench/bench_block_store.py):
- `images (N, C, H, W) float32`: raw feature values; NaN where a pixel is invalid or padding.
- `valid (N, H, W) uint8`: 1 where every feature of the pixel is valid (0 = nodata or padding).
- `labels (N, H, W) uint8` (stores with labels only): class value 0..K-1, 255 = ignore
  (no class, nodata, padding).
- `class_counts (N, K) int64` (with labels): labelled pixels of each class per block.
- `origins (N, 2) int64`: row, col of each block's top-left pixel in the composite's grid.
- `split/train`, `split/val`: block indices of the validation split; after partition also
  `scores (N,)` and `split/easy`, `split/hard` (see `write_partition`).

Attributes: `crs_wkt`, `geotransform`, `width`, `height` (the composite's grid), `window`
(the pixel window blocks were cut from), `feature_names`, `feature_sources`, `mean`, `std`
(per feature over the valid pixels of the window, each pixel once), `classes` (JSON list of
CropClass dicts), `has_labels`, `block_size`, `stride`, `nodata` (NaN: the fill of invalid
pixels in `images`), `ignore` (255) and provenance.

Class values: a class's `value` is its index in `classes` (0..K-1, the model's output
index) and the value in `labels`; its `code` is the source label code it came from (None
when several codes or a `*` map to it).

Blocks: origins lie on a lattice of `stride` over the window, starting at its top-left
corner; the last row/column of blocks reaches to or past the window's edge and is padded
(invalid, ignore). Blocks without a valid pixel (target stores) or without a labelled pixel
(stores with labels) are not written.

Validation split: blocks are grouped into spatial tiles of g x g lattice cells; groups are
shuffled with the seed and whole groups go to `val` until it holds `val_fraction` of the
blocks. When stride < block size, neighbouring blocks overlap: a block that overlaps any
validation block is left out of both `train` and `val`, so no pixel is in both.
"""

from __future__ import annotations

import json
import math
import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import __version__
from .atomic import atomic_path
from .classes import CropClass, classes_from_dicts
from .errors import CropsError
from .extent import Extent, extent_in_crs, parse_extent
from .features import FeatureStack, normalise
from .labels import IGNORE, LabelSource, open_labels
from .progress import Progress, silent
from .raster import Grid

FORMAT = "crops-block-store"
FORMAT_VERSION = 1
# lzf reads ~1.6x faster than gzip level 1 (about 200 vs 125 blocks/s of 10 x 224 x 224 on one core) for
# 60% vs 47% of the raw size; the shuffle filter makes lzf ~10% slower: bench/bench_block_store.py.
# "gzip" (level 1 + shuffle, 37% of raw) is there for when disk matters more than read speed.
COMPRESSION = "lzf"
AUTO_GROUP_SIZES = (8, 4, 2, 1)
MIN_GROUPS = 10

Index = int | slice | Sequence[int] | np.ndarray
_READERS: weakref.WeakSet[BlockStore] = weakref.WeakSet()  # closed by write_partition (HDF5: one mode a file)


# -- geometry of blocks ---------------------------------------------------------------------


def lattice(start: int, size: int, block_size: int, stride: int) -> list[int]:
    """Block origins along one axis: start, start+stride, ... until a block reaches the end."""
    count = 1 if size <= block_size else math.ceil((size - block_size) / stride) + 1
    return [start + i * stride for i in range(count)]


def resolve_window(grid: Grid, extent: str | Sequence[float] | None) -> tuple[int, int, int, int]:
    """Pixel window (xoff, yoff, xsize, ysize) of an extent (QGIS text, 4 bounds in the grid's CRS,
    or a parsed `Extent`), or the whole grid."""
    if extent is None or (isinstance(extent, str) and not extent.strip()):
        return 0, 0, grid.width, grid.height
    parsed: Extent = parse_extent(extent) if isinstance(extent, str) else _as_extent(extent)
    return grid.pixel_window_of(extent_in_crs(parsed, grid.crs_wkt))


def _as_extent(extent: Sequence[Any]) -> Extent:
    if len(extent) == 4:
        return float(extent[0]), float(extent[1]), float(extent[2]), float(extent[3]), None
    if len(extent) == 5:
        return float(extent[0]), float(extent[1]), float(extent[2]), float(extent[3]), extent[4]
    raise CropsError(f"Extent {extent!r}: give (xmin, ymin, xmax, ymax) or QGIS text 'xmin,xmax,ymin,ymax [EPSG:x]'.")


# -- running statistics ---------------------------------------------------------------------


class RunningStats:
    """Per-band count, mean and sum of squared deviations in float64, merged strip by strip
    (Chan et al.), so the mean/std of a whole tile need one strip in memory at a time."""

    def __init__(self, bands: int) -> None:
        self.count = 0
        self.mean = np.zeros(bands, dtype=np.float64)
        self.m2 = np.zeros(bands, dtype=np.float64)

    def update(self, x: np.ndarray, valid: np.ndarray) -> None:
        """Add the valid pixels of x (bands, h, w); valid (h, w) bool. One band in float64 at a time."""
        n = int(valid.sum())
        if n == 0:
            return
        mean = np.empty_like(self.mean)
        m2 = np.empty_like(self.m2)
        flat_valid = None if n == valid.size else valid.reshape(-1)
        for b in range(len(mean)):
            band = np.ascontiguousarray(x[b]).reshape(-1)
            # 1-D boolean selection: no index arrays (a 2-D mask would allocate 16 bytes a pixel)
            d = (band if flat_valid is None else band[flat_valid]).astype(np.float64)
            mean[b] = d.mean()
            d -= mean[b]
            m2[b] = np.dot(d, d)
            del d
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * n / total)
        self.count = total

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.count) if self.count else np.zeros_like(self.m2)


# -- validation split ----------------------------------------------------------------------


def spatial_split(
    cells: np.ndarray,
    overlap: int,
    val_fraction: float,
    seed: int = 0,
    group_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Split blocks by whole spatial groups: (train indices, val indices, group size used).

    `cells` (N, 2) are the blocks' lattice positions (row, col in units of the stride);
    `overlap` = ceil(block_size / stride): blocks closer than that on both axes share pixels,
    and a train block sharing pixels with a val block is dropped from both splits.
    Deterministic for a seed. `group_size` None picks the largest of 8, 4, 2, 1 lattice cells
    that still gives at least MIN_GROUPS groups.
    """
    n = len(cells)
    if not 0.0 <= val_fraction < 1.0:
        raise CropsError(f"VAL_FRACTION must be in [0, 1); got {val_fraction}.")
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    if group_size is None:
        group_size = 1
        for g in AUTO_GROUP_SIZES:
            if len(np.unique(cells // g, axis=0)) >= MIN_GROUPS:
                group_size = g
                break
    if group_size < 1:
        raise CropsError(f"The validation group size must be at least 1 block; got {group_size}.")
    everything = np.arange(n, dtype=np.int64)
    if n == 0 or val_fraction == 0.0:
        return everything, np.zeros(0, dtype=np.int64), group_size
    groups, group_of = np.unique(cells // group_size, axis=0, return_inverse=True)
    group_of = group_of.reshape(-1)
    sizes = np.bincount(group_of, minlength=len(groups))
    order = np.random.default_rng(seed).permutation(len(groups))
    target = val_fraction * n
    chosen: list[int] = []
    taken = 0
    for g in order:
        if taken >= target or len(chosen) == len(groups) - 1:
            break
        chosen.append(int(g))
        taken += int(sizes[g])
    is_val = np.isin(group_of, chosen)
    val = everything[is_val]
    near_val = np.zeros(n, dtype=bool)
    if overlap > 1 and len(val):
        where = {(int(r), int(c)): i for i, (r, c) in enumerate(cells)}
        for r, c in cells[val]:
            for dr in range(-overlap + 1, overlap):
                for dc in range(-overlap + 1, overlap):
                    j = where.get((int(r) + dr, int(c) + dc))
                    if j is not None:
                        near_val[j] = True
    train = everything[~is_val & ~near_val]
    return train, val, group_size


# -- writer ---------------------------------------------------------------------------------


def build_block_store(
    composite: str | os.PathLike[str],
    output: str | os.PathLike[str],
    labels: str | os.PathLike[str] | None = None,
    label_field: str | None = None,
    class_map: str | None = None,
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

    Streams one strip of blocks at a time (block_size rows x the window's width), so a
    full Sentinel-2 tile builds in bounded memory. Returns a summary (paths and counts).
    """
    progress = progress or silent()
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
    output = Path(output)
    if output.suffix.lower() not in (".h5", ".hdf5"):
        raise CropsError(f"OUTPUT {output} should be an HDF5 file ending in .h5.")

    with FeatureStack(composite, extra_bands) as stack:
        grid = stack.grid
        window = resolve_window(grid, extent)
        xoff, yoff, xsize, ysize = window
        label_source = None
        if labels:
            label_source = open_labels(
                labels, grid, window, label_field=label_field, class_map=class_map, progress=progress.sub(0.0, 0.05)
            )
        classes: list[CropClass] = list(label_source.classes) if label_source else []
        rows = lattice(yoff, ysize, block_size, stride)
        cols = lattice(xoff, xsize, block_size, stride)
        progress.log(
            f"Cutting a {xsize} x {ysize} window into up to {len(rows) * len(cols)} blocks of "
            f"{block_size} px (stride {stride}), {len(stack)} features, {len(classes) or 'no'} classes."
        )
        with atomic_path(output) as tmp:
            summary = _write_store(
                tmp, stack, label_source, classes, window, rows, cols, block_size, stride, compression,
                progress.sub(0.05, 0.98),
            )
            train, val, group_size = spatial_split(
                summary["cells"], math.ceil(block_size / stride), float(val_fraction), seed, val_group_size
            )
            if val_fraction > 0 and len(val) == 0:
                progress.warn("Too few blocks for a validation split: all blocks are for training.")
            with h5py.File(tmp, "r+") as h5:
                h5.create_dataset("split/train", data=train)
                h5.create_dataset("split/val", data=val)
                h5.attrs["val_fraction"] = float(val_fraction)
                h5.attrs["val_group_size"] = int(group_size)
                h5.attrs["seed"] = int(seed)
                h5.attrs["composite"] = str(composite)
                h5.attrs["labels"] = str(labels or "")
                h5.attrs["label_field"] = str(label_field or "")
                h5.attrs["class_map"] = label_source.class_map.text if label_source else ""
        progress(1.0, "Block store written")
    result = {
        "output": str(output),
        "blocks": summary["blocks"],
        "train_blocks": int(len(train)),
        "val_blocks": int(len(val)),
        "left_out_blocks": int(summary["blocks"] - len(train) - len(val)),
        "skipped_empty_blocks": summary["skipped"],
        "features": list(stack.names),
        "classes": [c.as_dict() for c in classes],
        "class_pixels": summary["class_pixels"],
        "valid_pixels": summary["valid_pixels"],
        "block_size": block_size,
        "stride": stride,
        "window": list(window),
    }
    for name, value in (("blocks", result["blocks"]), ("val_blocks", result["val_blocks"])):
        progress.metric(name, value)
    return result


def _write_store(
    path: Path,
    stack: FeatureStack,
    label_source: LabelSource | None,
    classes: list[CropClass],
    window: tuple[int, int, int, int],
    rows: list[int],
    cols: list[int],
    block_size: int,
    stride: int,
    compression: str,
    progress: Progress,
) -> dict[str, Any]:
    xoff, yoff, xsize, ysize = window
    yend = yoff + ysize
    bands, bs, k = len(stack), block_size, len(classes)
    has_labels = label_source is not None
    stats = RunningStats(bands)
    class_pixels = np.zeros(k, dtype=np.int64)
    cells: list[tuple[int, int]] = []
    skipped = 0
    opts: dict[str, Any] = {"compression": compression}
    if compression == "gzip":
        opts.update(compression_opts=1, shuffle=True)
    with h5py.File(path, "w") as h5:
        images = h5.create_dataset(
            "images", (0, bands, bs, bs), np.float32, maxshape=(None, bands, bs, bs), chunks=(1, bands, bs, bs),
            fillvalue=np.nan, **opts,
        )
        valid_ds = h5.create_dataset(
            "valid", (0, bs, bs), np.uint8, maxshape=(None, bs, bs), chunks=(1, bs, bs), **opts
        )
        origins = h5.create_dataset("origins", (0, 2), np.int64, maxshape=(None, 2), chunks=(1024, 2))
        if has_labels:
            labels_ds = h5.create_dataset(
                "labels", (0, bs, bs), np.uint8, maxshape=(None, bs, bs), chunks=(1, bs, bs), fillvalue=IGNORE, **opts
            )
            counts_ds = h5.create_dataset("class_counts", (0, k), np.int64, maxshape=(None, k), chunks=(1024, k))
        for si, r in enumerate(rows):
            progress(si / len(rows), f"Strip {si + 1} of {len(rows)}")
            h = min(bs, yend - r)
            x = valid = lab = None  # free the previous strip before reading the next
            x, valid = stack.read(xoff, r, xsize, h)
            lab = None
            if has_labels:
                lab = label_source.read(xoff, r, xsize, h)
                lab[~valid] = IGNORE
            # Statistics over the rows this strip is first to cover: each pixel counted once.
            fresh = h if si == len(rows) - 1 else min(stride, h)
            stats.update(x[:, :fresh], valid[:fresh])
            if has_labels:
                class_pixels += np.bincount(lab[:fresh][lab[:fresh] != IGNORE], minlength=k)[:k]
            keep = []
            for ci, c in enumerate(cols):
                c0 = c - xoff
                useful = (lab[:, c0 : c0 + bs] != IGNORE).any() if has_labels else valid[:, c0 : c0 + bs].any()
                if useful:
                    keep.append(ci)
                else:
                    skipped += 1
            if not keep:
                continue
            n0, m = images.shape[0], len(keep)
            for ds in (images, valid_ds, origins) + ((labels_ds, counts_ds) if has_labels else ()):
                ds.resize(n0 + m, axis=0)
            for j, ci in enumerate(keep):
                c0 = cols[ci] - xoff
                images[n0 + j] = _cut(x, c0, bs, np.nan)
                valid_ds[n0 + j] = _cut(valid, c0, bs, 0).astype(np.uint8)
                if has_labels:
                    block_labels = _cut(lab, c0, bs, IGNORE)
                    labels_ds[n0 + j] = block_labels
                    counts_ds[n0 + j] = np.bincount(block_labels[block_labels != IGNORE], minlength=k)[:k]
            origins[n0 : n0 + m] = np.array([(r, cols[ci]) for ci in keep], dtype=np.int64)
            cells.extend(((r - yoff) // stride, (cols[ci] - xoff) // stride) for ci in keep)
        if stats.count == 0:
            raise CropsError(
                f"The composite has no valid pixel in the window {window}: every pixel is nodata in at least "
                "one feature band. Check the extent, the composite and the extra bands' nodata."
            )
        if has_labels and class_pixels.sum() == 0:
            raise CropsError(
                f"No labelled pixel in the composite's extent: the labels ({label_source.description}) give no "
                "class where the composite has valid data. Check that labels and composite cover the same area."
            )
        mean, std = stats.mean, stats.std
        grid = stack.grid
        attrs = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_by": f"crops_engine {__version__}",
            "crs_wkt": grid.crs_wkt,
            "geotransform": np.asarray(grid.geotransform, dtype=np.float64),
            "width": grid.width,
            "height": grid.height,
            "window": np.asarray(window, dtype=np.int64),
            "block_size": bs,
            "stride": stride,
            "feature_names": json.dumps(list(stack.names)),
            "feature_sources": json.dumps([{"path": s.path, "band": s.band} for s in stack.sources]),
            "source_nodata": json.dumps(stack.nodata),
            "nodata": np.float32(np.nan),
            "ignore": IGNORE,
            "mean": mean,
            "std": std,
            "valid_pixels": int(stats.count),
            "has_labels": has_labels,
            "classes": json.dumps([c.as_dict() for c in classes]),
            "class_pixels": class_pixels,
            "compression": compression,
        }
        for key, value in attrs.items():
            h5.attrs[key] = value
        progress(1.0, f"{images.shape[0]} blocks written")
        return {
            "blocks": int(images.shape[0]),
            "skipped": skipped,
            "cells": np.asarray(cells, dtype=np.int64).reshape(-1, 2),
            "class_pixels": {c.name: int(n) for c, n in zip(classes, class_pixels, strict=True)},
            "valid_pixels": int(stats.count),
        }


def _cut(strip: np.ndarray, c0: int, bs: int, fill: float) -> np.ndarray:
    """The bs x bs block at column c0 of a strip (..., h, w), padded with `fill` past its edges."""
    part = strip[..., :, c0 : c0 + bs]
    if part.shape[-2:] == (bs, bs):
        return part
    out = np.full(strip.shape[:-2] + (bs, bs), fill, dtype=strip.dtype)
    out[..., : part.shape[-2], : part.shape[-1]] = part
    return out


# -- reader ---------------------------------------------------------------------------------


def _read_rows(ds: h5py.Dataset, idx: Index) -> np.ndarray:
    """Rows `idx` of a dataset in the order asked (h5py wants increasing unique indices)."""
    if isinstance(idx, (int, np.integer, slice)):
        return ds[idx]
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        return np.empty((0,) + ds.shape[1:], dtype=ds.dtype)
    n = ds.shape[0]
    if idx.min() < -n or idx.max() >= n:
        raise IndexError(f"block index out of range 0..{n - 1}")
    idx = np.where(idx < 0, idx + n, idx)
    uniq, inverse = np.unique(idx, return_inverse=True)
    return ds[uniq][inverse.reshape(-1)]


class BlockStore:
    """Read access to a block store; a context manager, safe to hand to worker processes.

    The HDF5 file opens lazily and again in each process that uses it (a handle must not
    cross a fork), so a BlockStore can be pickled into DataLoader workers.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise CropsError(f"Block store not found: {self.path}. Build it with build-blocks.")
        try:
            with h5py.File(self.path, "r") as h5:
                attrs = {k: _attr(v) for k, v in h5.attrs.items()}
                self._n = int(h5["images"].shape[0]) if "images" in h5 else 0
                self._origins = h5["origins"][:] if "origins" in h5 else None
        except OSError as exc:
            msg = f"{self.path} is not a readable HDF5 file ({exc}); rebuild it with build-blocks."
            raise CropsError(msg) from None
        if attrs.get("format") != FORMAT or self._origins is None:
            raise CropsError(f"{self.path} is not a CROPS block store; build one with build-blocks.")
        if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
            raise CropsError(f"{self.path} was written by a newer CROPS (format {attrs['format_version']}); update.")
        self.attrs: dict[str, Any] = attrs
        self.feature_names: list[str] = json.loads(attrs["feature_names"])
        self.classes: list[CropClass] = classes_from_dicts(json.loads(attrs["classes"]))
        self.mean = np.asarray(attrs["mean"], dtype=np.float64)
        self.std = np.asarray(attrs["std"], dtype=np.float64)
        self.has_labels = bool(attrs["has_labels"])
        self.block_size = int(attrs["block_size"])
        self.stride = int(attrs["stride"])
        self.window = tuple(int(v) for v in attrs["window"])
        self.grid = Grid(
            int(attrs["width"]), int(attrs["height"]), tuple(float(v) for v in attrs["geotransform"]), attrs["crs_wkt"]
        )
        self._file: h5py.File | None = None
        self._pid: int | None = None
        _READERS.add(self)

    # -- handle management ------------------------------------------------------------------
    @property
    def h5(self) -> h5py.File:
        """The open file for this process (opened on first use)."""
        if self._file is None or self._pid != os.getpid():
            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
        return self._file

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None

    def __enter__(self) -> BlockStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"] = None
        state["_pid"] = None
        return state

    # -- contents ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    @property
    def origins(self) -> np.ndarray:
        """(N, 2) row, col of each block's top-left pixel in `grid`."""
        return self._origins

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def images(self, idx: Index) -> np.ndarray:
        """Raw features float32 (C, H, W) for an int index, (n, C, H, W) otherwise; NaN where invalid."""
        return _read_rows(self.h5["images"], idx)

    def valid(self, idx: Index) -> np.ndarray:
        """Valid-pixel masks as bool, (H, W) or (n, H, W)."""
        return _read_rows(self.h5["valid"], idx).astype(bool)

    def labels(self, idx: Index) -> np.ndarray:
        """Class values uint8 (IGNORE = 255 where no class); a store without labels raises."""
        if not self.has_labels:
            raise CropsError(f"{self.path} holds no labels (a target store); build it with LABELS for training.")
        return _read_rows(self.h5["labels"], idx)

    def inputs(self, idx: Index) -> np.ndarray:
        """Model input: `features.normalise` of the images with the store's mean and std."""
        return normalise(self.images(idx), self.mean, self.std, self.valid(idx))

    def class_counts(self, idx: Index | None = None) -> np.ndarray:
        """Labelled pixels per class, (K,) per block or (n, K); all blocks when idx is None."""
        if not self.has_labels:
            raise CropsError(f"{self.path} holds no labels, so no class counts.")
        ds = self.h5["class_counts"]
        return ds[:] if idx is None else _read_rows(ds, idx)

    def block_grid(self, i: int) -> Grid:
        """The georeferenced grid of block `i` (block_size square; may reach past the raster)."""
        row, col = (int(v) for v in self._origins[i])
        return self.grid.window(col, row, self.block_size, self.block_size)

    # -- splits and partition -----------------------------------------------------------------
    @property
    def splits(self) -> list[str]:
        return sorted(self.h5["split"].keys()) if "split" in self.h5 else []

    def split(self, name: str) -> np.ndarray:
        """Block indices of split `name` (train, val; easy, hard after partition)."""
        if name not in self.splits:
            hint = " Run partition first." if name in ("easy", "hard") else ""
            raise CropsError(f"{self.path} has no split {name!r} (it has {', '.join(self.splits) or 'none'}).{hint}")
        return self.h5["split"][name][:].astype(np.int64)

    @property
    def scores(self) -> np.ndarray | None:
        """Per-block partition scores, None before partition."""
        return self.h5["scores"][:] if "scores" in self.h5 else None

    @property
    def partition_info(self) -> dict[str, Any]:
        """The attrs given to `write_partition` ({} before partition)."""
        text = self.h5.attrs.get("partition")
        return json.loads(_attr(text)) if text is not None else {}


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_partition(
    path: str | os.PathLike[str],
    scores: Sequence[float] | np.ndarray,
    easy: Sequence[int] | np.ndarray,
    hard: Sequence[int] | np.ndarray,
    attrs: dict[str, Any] | None = None,
) -> None:
    """Store a partition's per-block `scores (N,)`, `split/easy`, `split/hard` (replacing any
    earlier partition) and its `attrs` (JSON-serialisable) as the `partition` attribute.

    Written in place (small arrays; the images are untouched). Open BlockStores of this file
    in this process are closed first and reopen on their next read.
    """
    path = Path(path)
    store = BlockStore(path)  # validates the file
    n = len(store)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    easy = np.asarray(easy, dtype=np.int64).reshape(-1)
    hard = np.asarray(hard, dtype=np.int64).reshape(-1)
    if scores.shape != (n,):
        raise ValueError(f"scores must have one value per block ({n}), got {scores.shape}")
    for name, idx in (("easy", easy), ("hard", hard)):
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"{name} indices must be in 0..{n - 1}")
        if len(np.unique(idx)) != idx.size:
            raise ValueError(f"{name} indices repeat")
    if np.intersect1d(easy, hard).size:
        raise ValueError("a block cannot be both easy and hard")
    text = json.dumps(attrs or {})
    store.close()
    for reader in list(_READERS):  # readers of this file in this process reopen it on their next read
        if reader.path.resolve() == path.resolve():
            reader.close()
    with h5py.File(path, "r+") as h5:
        for key in ("scores", "split/easy", "split/hard"):
            if key in h5:
                del h5[key]
        h5.create_dataset("scores", data=scores)
        h5.create_dataset("split/easy", data=easy)
        h5.create_dataset("split/hard", data=hard)
        h5.attrs["partition"] = text


# -- sampling helpers -----------------------------------------------------------------------


def class_balanced_weights(store: BlockStore, indices: Sequence[int] | np.ndarray, power: float = 0.5) -> np.ndarray:
    """Sampling weight per block (sums to 1): the mean over its labelled pixels of
    (class frequency) ** -power, so blocks holding rare classes are drawn more often.
    power 0 gives every labelled block the same weight."""
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        return np.zeros(0, dtype=np.float64)
    counts = store.class_counts(idx).astype(np.float64)
    totals = counts.sum(axis=0)
    freq = totals / max(totals.sum(), 1.0)
    inv = np.where(freq > 0, np.power(np.where(freq > 0, freq, 1.0), -power), 0.0)
    labelled = counts.sum(axis=1)
    w = np.where(labelled > 0, (counts * inv).sum(axis=1) / np.maximum(labelled, 1.0), 0.0)
    total = w.sum()
    return w / total if total > 0 else np.full(idx.size, 1.0 / idx.size)

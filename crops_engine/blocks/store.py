"""Reading a block store: blocks, masks, labels, splits and the partition, lazily per process."""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..classes import CropClass, classes_from_dicts
from ..errors import CropsError
from ..features import normalise
from ..raster import Grid

FORMAT = "crops-block-store"
FORMAT_VERSION = 1
# lzf reads faster than gzip for a little more disk; "gzip" (level 1 + shuffle) is there for when disk
# matters more than read speed. Figures: bench/results/block_store.md (bench/bench_block_store.py).
COMPRESSION = "lzf"

Index = int | slice | Sequence[int] | np.ndarray
READERS: weakref.WeakSet[BlockStore] = weakref.WeakSet()
"""Open stores of this process: `write_partition` makes them read the new partition on their next access."""

PARTITION_FORMAT = "crops-partition"
PARTITION_SUFFIX = ".partition.h5"
PARTITION_SPLITS = ("easy", "hard")


def partition_path(store: str | os.PathLike[str]) -> Path:
    """`target.h5` -> `target.h5.partition.h5`: the file `write_partition` puts a store's easy / hard split in.

    Beside the store, not inside it: the store is never edited after build-blocks, so a run killed while
    partitioning cannot damage it, and the split file itself appears whole or not at all (`atomic_path`).
    Rebuilding the store removes it (a new `target.h5` drops the old one's `target.h5.*` companions).
    """
    store = Path(store)
    return store.with_name(store.name + PARTITION_SUFFIX)


def store_identity(attrs: dict[str, Any], n: int, origins: np.ndarray) -> str:
    """A digest of what makes a store's blocks these blocks (count, origins, grid, features, statistics), so a
    partition file is only read with the store it was written for."""
    digest = hashlib.sha256()
    digest.update(str(int(n)).encode())
    digest.update(np.ascontiguousarray(origins, dtype=np.int64).tobytes())
    for key in ("geotransform", "window", "block_size", "stride", "feature_names", "mean", "std"):
        value = attrs.get(key)
        digest.update(key.encode())
        digest.update(np.asarray(value).tobytes() if isinstance(value, np.ndarray) else json.dumps(value).encode())
    return digest.hexdigest()


def _read_rows(ds: h5py.Dataset, idx: Index) -> np.ndarray:
    """Rows `idx` of a dataset in the order asked; a CropsError naming the store when HDF5 cannot read them."""
    try:
        return _rows(ds, idx)
    except (OSError, RuntimeError) as exc:
        raise CropsError(
            f"Cannot read {ds.name.lstrip('/')} of the block store {ds.file.filename}: {exc}. The store is truncated "
            "or damaged (an interrupted copy or write?): build it again with build-blocks."
        ) from None


def _rows(ds: h5py.Dataset, idx: Index) -> np.ndarray:
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
        # a temporal store (build-series): its features are steps x bands, step-major (`series`)
        self.series_info: dict[str, Any] | None = json.loads(attrs["series"]) if attrs.get("series") else None
        self.identity = store_identity(attrs, self._n, self._origins)
        self._file: h5py.File | None = None
        self._pid: int | None = None
        self._partition: _Partition | None = None
        READERS.add(self)

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
        self._partition = None  # read again on the next access: `write_partition` may have written a new one

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

    @property
    def steps(self) -> int:
        """Time steps of a temporal store (build-series), 0 for a composite's store."""
        return len(self.series_info["steps"]) if self.series_info else 0

    def series(self, idx: Index) -> np.ndarray:
        """Raw features of a temporal store as (T, C, H, W) for an int index, (n, T, C, H, W) otherwise."""
        if not self.steps:
            raise CropsError(f"{self.path} is a composite's block store, not a series; build one with build-series.")
        x = self.images(idx)
        return x.reshape(*x.shape[:-3], self.steps, -1, *x.shape[-2:])

    def step_valid(self, idx: Index) -> np.ndarray:
        """Per-step observed masks of a temporal store as bool, (T, H, W) or (n, T, H, W): False where the
        step's value was interpolated."""
        if not self.steps:
            raise CropsError(f"{self.path} is a composite's block store, not a series; build one with build-series.")
        return _read_rows(self.h5["step_valid"], idx).astype(bool)

    def valid(self, idx: Index) -> np.ndarray:
        """Valid-pixel masks as bool, (H, W) or (n, H, W)."""
        return _read_rows(self.h5["valid"], idx).astype(bool)

    def labels(self, idx: Index) -> np.ndarray:
        """Class values uint8 (IGNORE_INDEX = 255 where no class); a store without labels raises."""
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
    def partition(self) -> _Partition:
        """The easy / hard partition: from the partition file beside the store (`partition_path`) when it was
        written for this store, else from inside the store (stores partitioned by older versions), else empty."""
        if self._partition is None:
            self._partition = _Partition.read(self)
        return self._partition

    @property
    def splits(self) -> list[str]:
        own = sorted(self.h5["split"].keys()) if "split" in self.h5 else []
        if self.partition.source == "file":
            own = [name for name in own if name not in PARTITION_SPLITS] + list(self.partition.splits)
        return sorted(own)

    def split(self, name: str) -> np.ndarray:
        """Block indices of split `name` (train, val; easy, hard after partition)."""
        if name not in self.splits:
            hint = " Run partition first." if name in PARTITION_SPLITS else ""
            raise CropsError(f"{self.path} has no split {name!r} (it has {', '.join(self.splits) or 'none'}).{hint}")
        if name in self.partition.splits:
            return self.partition.splits[name].copy()
        return _read_rows(self.h5["split"][name], slice(None)).astype(np.int64)

    @property
    def scores(self) -> np.ndarray | None:
        """Per-block partition scores, None before partition."""
        return None if self.partition.scores is None else self.partition.scores.copy()

    @property
    def partition_info(self) -> dict[str, Any]:
        """The attrs given to `write_partition` ({} before partition)."""
        return dict(self.partition.info)


@dataclass
class _Partition:
    """A store's easy / hard split, its scores and settings; `source` says where they were read from."""

    source: str = "none"  # "file" (the partition file), "store" (inside an older store) or "none"
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    scores: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    stale: Path | None = None  # a partition file beside the store that was written for another store

    @classmethod
    def read(cls, store: BlockStore) -> _Partition:
        side = partition_path(store.path)
        stale = None
        if side.is_file():
            try:
                with h5py.File(side, "r") as h5:
                    if _attr(h5.attrs.get("format")) == PARTITION_FORMAT and \
                            _attr(h5.attrs.get("store_identity")) == store.identity:
                        return cls(
                            "file", {name: h5["split"][name][:].astype(np.int64) for name in PARTITION_SPLITS},
                            h5["scores"][:], json.loads(_attr(h5.attrs.get("partition", "{}"))),
                        )
            except (OSError, RuntimeError, KeyError, ValueError) as exc:
                raise CropsError(
                    f"The partition file {side} of the block store {store.path} cannot be read ({exc}): delete it and "
                    "run partition again."
                ) from None
            stale = side
        h5 = store.h5
        group = h5.get("split", {})
        splits = {name: _read_rows(group[name], slice(None)).astype(np.int64) for name in PARTITION_SPLITS
                  if name in group}
        if not splits and "scores" not in h5:
            return cls(stale=stale)
        text = h5.attrs.get("partition")
        return cls("store", splits, h5["scores"][:] if "scores" in h5 else None,
                   json.loads(_attr(text)) if text is not None else {}, stale)


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value

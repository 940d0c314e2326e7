"""The unlabelled blocks SimSiam learns from: composites and block stores, labels ignored.

A composite is cut into blocks of BLOCK_SIZE (no overlap) in a temporary store beside the output; a
block store is read as it is (its labels, splits and partition are never read). Every input must have
the same features in the same order and the same block size. They are normalised alike, with the
pooled statistics of all inputs (each store's per-band mean and standard deviation, weighted by its
valid pixels), which the encoder checkpoint records.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..block_dataset import BlockDataset, _common_nodata
from ..blocks import BlockStore
from ..checkpoint import file_sha256
from ..errors import CropsError
from ..progress import Progress

DEFAULT_BLOCK_SIZE = 32


@dataclass
class PretrainInput:
    """One input: the file given, the store read (the same file, or the one cut from a composite), counts."""

    path: str
    kind: str  # "composite" or "blocks"
    store: str
    blocks: int
    valid_pixels: int
    sha256: str
    mean: list[float]
    std: list[float]

    def provenance(self) -> dict[str, Any]:
        return {"path": str(Path(self.path).resolve()), "kind": self.kind, "sha256": self.sha256,
                "blocks": self.blocks, "valid_pixels": self.valid_pixels}


@dataclass
class PretrainInputs:
    """Every input, their shared features and block size, the pooled normalisation and the scratch folder."""

    inputs: list[PretrainInput]
    features: list[str]
    block_size: int
    mean: list[float]
    std: list[float]
    nodata: float | None
    scratch: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def stores(self) -> list[str]:
        return [i.store for i in self.inputs]

    @property
    def blocks(self) -> int:
        return sum(i.blocks for i in self.inputs)

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch = None


def _is_store(path: str) -> bool:
    return Path(path).suffix.lower() in (".h5", ".hdf5")


def open_inputs(composites: Sequence[str], stores: Sequence[str], block_size: int, scratch_dir: str | os.PathLike,
                progress: Progress) -> PretrainInputs:
    """Check the inputs, cut the composites into temporary stores (in `scratch_dir`), pool their statistics."""
    from ..blocks import build_block_store

    composites = [str(c) for c in composites if str(c).strip()]
    stores = [str(s) for s in stores if str(s).strip()]
    for path in list(composites):  # a store given where composites go (or the other way round) still works
        if _is_store(path):
            composites.remove(path)
            stores.append(path)
    for path in list(stores):
        if not _is_store(path):
            stores.remove(path)
            composites.append(path)
    if not composites and not stores:
        raise CropsError("Give at least one input: COMPOSITES (GeoTIFF composites) and/or BLOCKS (block stores, .h5).")
    for path in composites + stores:
        if not Path(path).is_file():
            raise CropsError(f"Input {path} does not exist.")
    store_sizes = {}
    for path in stores:
        with BlockStore(path) as s:
            store_sizes[path] = s.block_size
    sizes = sorted(set(store_sizes.values()))
    if block_size <= 0:
        if len(sizes) > 1:
            raise CropsError(f"The block stores have block sizes {sizes}: give stores of one block size (or set "
                             "BLOCK_SIZE and rebuild the others with it).")
        block_size = sizes[0] if sizes else DEFAULT_BLOCK_SIZE
    other = {p: s for p, s in store_sizes.items() if s != block_size}
    if other:
        listing = ", ".join(f"{p} ({s} px)" for p, s in other.items())
        raise CropsError(f"BLOCK_SIZE is {block_size} but the block store(s) {listing} have other block sizes: set "
                         "BLOCK_SIZE to theirs (0 takes it from the stores) or rebuild them with build_blocks.")
    scratch = tempfile.TemporaryDirectory(prefix=".crops-pretrain-", dir=str(scratch_dir)) if composites else None
    entries: list[tuple[str, str, str]] = []  # (given path, kind, store path)
    try:
        for k, path in enumerate(composites):
            assert scratch is not None
            progress(0.0, f"Cutting {Path(path).name} into blocks of {block_size} px")
            store = Path(scratch.name) / f"composite_{k}.h5"
            build_block_store(path, store, block_size=block_size, stride=block_size, val_fraction=0.0,
                              progress=progress.sub(0.0, 0.0))
            entries.append((path, "composite", str(store)))
        entries += [(path, "blocks", path) for path in stores]
        return _pool(entries, block_size, scratch, progress)
    except BaseException:
        if scratch is not None:
            scratch.cleanup()
        raise


def _pool(entries: list[tuple[str, str, str]], block_size: int, scratch: Any, progress: Progress) -> PretrainInputs:
    inputs: list[PretrainInput] = []
    features: list[str] | None = None
    nodata_values = set()
    for path, kind, store_path in entries:
        with BlockStore(store_path) as s:
            if features is None:
                features, first = list(s.feature_names), path
            elif list(s.feature_names) != features:
                raise CropsError(
                    f"Input {path} has features {s.feature_names} but {first} has {features}: every input needs the "
                    "same features in the same order (build the composites / stores alike)."
                )
            if len(s) == 0:
                raise CropsError(f"Input {path} holds no block; give a larger composite or store.")
            valid = int(sum(int(s.valid(slice(i, min(i + 256, len(s))), ).sum()) for i in range(0, len(s), 256)))
            if valid == 0:
                raise CropsError(f"Input {path} has no valid pixel (all nodata).")
            nodata_values.add(_common_nodata(s))
            progress(0.0, f"Hashing {Path(path).name}")
            inputs.append(PretrainInput(path=path, kind=kind, store=store_path, blocks=len(s), valid_pixels=valid,
                                        sha256=file_sha256(path), mean=[float(v) for v in s.mean],
                                        std=[float(v) for v in s.std]))
    assert features is not None
    weights = np.array([i.valid_pixels for i in inputs], dtype=np.float64)
    means = np.array([i.mean for i in inputs], dtype=np.float64)
    stds = np.array([i.std for i in inputs], dtype=np.float64)
    mean = (weights[:, None] * means).sum(0) / weights.sum()
    var = (weights[:, None] * (np.nan_to_num(stds) ** 2 + (means - mean) ** 2)).sum(0) / weights.sum()
    std = [float(math.sqrt(v)) if v > 0 and math.isfinite(v) else 1.0 for v in var]
    nodata = nodata_values.pop() if len(nodata_values) == 1 else None
    return PretrainInputs(inputs=inputs, features=features, block_size=block_size, mean=[float(m) for m in mean],
                          std=std, nodata=nodata, scratch=scratch)


class UnlabelledBlocks:
    """The blocks of several stores as one dataset of normalised images (`image`, `valid`, `index`), no labels.
    Opens its own store handles (make one per thread)."""

    def __init__(self, stores: Sequence[str], mean: Sequence[float], std: Sequence[float]) -> None:
        self.parts = [BlockDataset(BlockStore(p), mean=mean, std=std, labels=False) for p in stores]
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, i: int) -> dict[str, Any]:
        part = int(np.searchsorted(self.offsets, i, side="right") - 1)
        sample = self.parts[part][int(i - self.offsets[part])]
        sample["index"] = int(i)
        return sample

    def batch(self, positions: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(normalised images (n, C, H, W), valid (n, H, W)) of dataset `positions`, in their order, normalised
        in one go per store (the same values as one by one; each block is read on its own: one HDF5 chunk, faster
        than h5py's fancy indexing)."""
        from ..features import normalise

        positions = np.asarray(positions, dtype=np.int64)
        parts = np.searchsorted(self.offsets, positions, side="right") - 1
        first = self.parts[0]
        images = valid = None
        for k in np.unique(parts):
            chosen = parts == k
            dataset = self.parts[int(k)]
            local = dataset.indices[positions[chosen] - self.offsets[k]]
            h5 = dataset.store.h5
            image_rows, valid_rows = h5["images"], h5["valid"]  # the store's layout (`blocks`), looked up once
            v = np.stack([valid_rows[int(i)] for i in local]).astype(bool)
            x = normalise(np.stack([image_rows[int(i)] for i in local]), first.mean, first.std, v)
            if images is None:
                images = np.empty((len(positions), *x.shape[1:]), dtype=np.float32)
                valid = np.empty((len(positions), *v.shape[1:]), dtype=bool)
            images[chosen], valid[chosen] = x, v
        return torch.from_numpy(images), torch.from_numpy(valid)

    def close(self) -> None:
        for p in self.parts:
            p.store.close()

"""Model inputs from a block store: normalised images and valid masks, and a torch Dataset of them.

Kept apart from `blocks` so the store stays torch-free. Every model input read from a store goes
through here, normalised by `features.normalise`: with the store's own statistics for training
(`BlockDataset`), with a checkpoint's (the statistics the model was trained with) for scoring and
adapting a model on another store (`model_inputs`, `BlockDataset(mean=, std=)`).

Dataset items are dicts so a transform can add or change fields: `image` float32 (C, H, W),
`valid` bool (H, W), `label` int64 (H, W) with 255 = ignore (stores with labels, unless
`labels=False`), `index` (block index).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .blocks import BlockStore
from .features import normalise

if TYPE_CHECKING:
    from .checkpoint import CheckpointMeta

Sample = dict[str, Any]


def model_inputs(store: BlockStore, meta: CheckpointMeta, idx: Any) -> tuple[np.ndarray, np.ndarray]:
    """(normalised images (n, C, H, W), valid (n, H, W)) of blocks `idx`, with the checkpoint's normalisation."""
    valid = store.valid(idx)
    x = normalise(store.images(idx), meta.normalisation["mean"], meta.normalisation["std"], valid)
    return x, valid


def checkpoint_inputs(store: BlockStore) -> dict[str, Any]:
    """What a checkpoint trained on `store` records of its inputs, so `model_inputs` (and inference) can
    prepare any other store or raster the same way: features, normalisation, block size, nodata."""
    # A constant band has std 0: `normalise` only centres it, which is what a scale of 1 does too.
    std = [float(s) if s > 0 and math.isfinite(s) else 1.0 for s in store.std]
    return {
        "features": list(store.feature_names),
        "normalisation": {"mean": [float(m) for m in store.mean], "std": std},
        "block_size": store.block_size,
        "nodata": _common_nodata(store),
    }


def _common_nodata(store: BlockStore) -> float | None:
    """The input nodata value when every feature band shares one (None otherwise)."""
    try:
        values = json.loads(store.attrs.get("source_nodata", "[]"))
    except (TypeError, ValueError):
        return None
    distinct = {v for v in values if v is not None}
    if len(distinct) == 1 and all(v is not None for v in values):
        value = distinct.pop()
        return float(value) if math.isfinite(float(value)) else None
    return None


def flip_rotate(sample: Sample, generator: torch.Generator | None = None) -> Sample:
    """Random horizontal/vertical flip and 90-degree rotation, the same for every (.., H, W) field.

    Uses torch's random state (seeded per DataLoader worker) unless a generator is given.
    """
    k = int(torch.randint(0, 4, (1,), generator=generator))
    hflip, vflip = (bool(v) for v in torch.randint(0, 2, (2,), generator=generator))
    out = dict(sample)
    for key in ("image", "valid", "label"):
        t = sample.get(key)
        if t is None:
            continue
        if hflip:
            t = torch.flip(t, dims=(-1,))
        if vflip:
            t = torch.flip(t, dims=(-2,))
        if k:
            t = torch.rot90(t, k, dims=(-2, -1))
        out[key] = t.contiguous()
    return out


class BlockDataset(Dataset):
    """Blocks of a store as model-ready tensors; `split` ("train", "val", "easy", ...) or
    explicit `indices` choose the blocks; `augment` applies `flip_rotate`, then `transform`.

    `mean` / `std` replace the store's statistics (a checkpoint's normalisation); `labels=False`
    never reads the store's labels (adaptation must not see any)."""

    def __init__(
        self,
        store: BlockStore | str | os.PathLike[str],
        split: str | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        augment: bool = False,
        transform: Callable[[Sample], Sample] | None = None,
        mean: Sequence[float] | np.ndarray | None = None,
        std: Sequence[float] | np.ndarray | None = None,
        labels: bool = True,
    ) -> None:
        self.store = store if isinstance(store, BlockStore) else BlockStore(store)
        if split is not None and indices is not None:
            raise ValueError("give split or indices, not both")
        if split is not None:
            indices = self.store.split(split)
        self.indices = np.arange(len(self.store)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.augment = augment
        self.transform = transform
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)
        self.labels = bool(labels)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Sample:
        index = int(self.indices[i])
        valid = self.store.valid(index)
        mean = self.store.mean if self.mean is None else self.mean
        std = self.store.std if self.std is None else self.std
        image = normalise(self.store.images(index), mean, std, valid)
        sample: Sample = {
            "image": torch.from_numpy(image),
            "valid": torch.from_numpy(valid),
            "index": index,
        }
        if self.labels and self.store.has_labels:
            sample["label"] = torch.from_numpy(self.store.labels(index).astype(np.int64))
        if self.augment:
            sample = flip_rotate(sample)
        if self.transform is not None:
            sample = self.transform(sample)
        return sample

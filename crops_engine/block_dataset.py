"""A torch Dataset over a block store: normalised image, valid mask and labels per block.

Kept apart from `blocks` so the store stays torch-free. Items are dicts so a transform can
add or change fields: `image` float32 (C, H, W) from `features.normalise`, `valid` bool
(H, W), `label` int64 (H, W) with 255 = ignore (stores with labels), `index` (block index).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .blocks import BlockStore
from .features import normalise

Sample = dict[str, Any]


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
    explicit `indices` choose the blocks; `augment` applies `flip_rotate`, then `transform`."""

    def __init__(
        self,
        store: BlockStore | str | os.PathLike[str],
        split: str | None = None,
        indices: Sequence[int] | np.ndarray | None = None,
        augment: bool = False,
        transform: Callable[[Sample], Sample] | None = None,
    ) -> None:
        self.store = store if isinstance(store, BlockStore) else BlockStore(store)
        if split is not None and indices is not None:
            raise ValueError("give split or indices, not both")
        if split is not None:
            indices = self.store.split(split)
        self.indices = np.arange(len(self.store)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.augment = augment
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Sample:
        index = int(self.indices[i])
        valid = self.store.valid(index)
        image = normalise(self.store.images(index), self.store.mean, self.store.std, valid)
        sample: Sample = {
            "image": torch.from_numpy(image),
            "valid": torch.from_numpy(valid),
            "index": index,
        }
        if self.store.has_labels:
            sample["label"] = torch.from_numpy(self.store.labels(index).astype(np.int64))
        if self.augment:
            sample = flip_rotate(sample)
        if self.transform is not None:
            sample = self.transform(sample)
        return sample

"""The easy / hard partition written into an existing block store (see `partition.py`)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .store import READERS, BlockStore


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
    for reader in list(READERS):  # readers of this file in this process reopen it on their next read
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

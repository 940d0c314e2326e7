"""The easy / hard partition of a block store, written beside it (see `partition.py`, `store.partition_path`)."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import CropsError
from .store import PARTITION_FORMAT, READERS, BlockStore, partition_path


def write_partition(
    path: str | os.PathLike[str],
    scores: Sequence[float] | np.ndarray,
    easy: Sequence[int] | np.ndarray,
    hard: Sequence[int] | np.ndarray,
    attrs: dict[str, Any] | None = None,
) -> Path:
    """Store a partition's per-block `scores (N,)`, `split/easy`, `split/hard` (replacing any earlier
    partition) and its `attrs` (JSON-serialisable) in the partition file beside the store; returns its path.

    The store itself is not touched: the partition file is written under a temporary name and renamed into
    place, so a kill at any moment leaves the store whole and the previous partition, or the new one. It
    records the store's identity, so it is read only with the store it was made for. Open BlockStores of
    this file in this process read the new partition on their next access.
    """
    path = Path(path)
    store = BlockStore(path)  # validates the file
    n = len(store)
    identity = store.identity
    store.close()
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
    final = partition_path(path)
    try:
        with atomic_path(final) as tmp, h5py.File(tmp, "w") as h5:
            h5.create_dataset("scores", data=scores)
            h5.create_dataset("split/easy", data=easy)
            h5.create_dataset("split/hard", data=hard)
            h5.attrs["format"] = PARTITION_FORMAT
            h5.attrs["store"] = path.name
            h5.attrs["store_identity"] = identity
            h5.attrs["blocks"] = n
            h5.attrs["partition"] = text
    except OSError as exc:
        full = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc)
        raise CropsError(
            f"Cannot write the partition file {final}: {'the disk is full' if full else exc}. "
            f"{'Free some space' if full else 'Check that the folder is writable'} and run partition again; the "
            "block store is unchanged."
        ) from None
    for reader in list(READERS):  # readers of this store in this process read the new partition next time
        if reader.path.resolve() == path.resolve():
            reader.close()
    return final

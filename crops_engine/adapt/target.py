"""Target data: the target block store as the source model sees it, and only its images.

Source-free by construction: a target store is checked against the source checkpoint's features,
its images are normalised with the checkpoint's normalisation (the source statistics, as inference
does, so the adapted model is used exactly as it was adapted), and its labels, if it has any, are
never read (`TargetBlocks` has no label field).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..block_dataset import BlockDataset
from ..blocks import BlockStore
from ..checkpoint import CheckpointMeta, check_features
from ..device import autocast
from ..errors import CropsError
from ..progress import Progress, silent


class TargetBlocks(BlockDataset):
    """Target blocks as the model sees them: images normalised with the checkpoint's statistics and
    the valid mask; never labels (adaptation must not see any)."""

    def __init__(
        self,
        store: BlockStore | str | os.PathLike[str],
        mean: Sequence[float],
        std: Sequence[float],
        indices: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        super().__init__(store, indices=indices, mean=mean, std=std, labels=False)


def open_target(
    blocks: str | os.PathLike[str], meta: CheckpointMeta, split: str = "all", alignment: str = "none",
    progress: Progress | None = None, model: str = "the model",
) -> tuple[BlockStore, np.ndarray]:
    """The target store checked against the checkpoint's features, and the block indices of `split`; with
    `alignment` (mean_std, histogram) a store whose images are aligned to the checkpoint's statistics."""
    from ..statistics_alignment import align_store

    store = BlockStore(blocks)
    check_features(meta, store.feature_names, f"the target block store {store.path}")
    store = align_store(store, meta.normalisation, alignment, model, progress)
    indices = np.arange(len(store), dtype=np.int64) if split == "all" else store.split(split)
    if len(indices) == 0:
        raise CropsError(f"The target block store {store.path} has no block in split {split!r}; choose SPLIT all.")
    return store, indices


@torch.no_grad()
def iterate_probabilities(
    model: nn.Module,
    dataset: TargetBlocks,
    positions: Sequence[int] | np.ndarray,
    batch_size: int,
    device: torch.device,
    amp: bool = True,
    progress: Progress | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """(probabilities (n, K, H, W), valid (n, H, W)) on `device` for dataset positions, batch by batch,
    in eval mode (the model's mode is restored afterwards)."""
    progress = progress or silent()
    was_training = model.training
    model.eval()
    n = len(positions)
    try:
        for start in range(0, n, batch_size):
            progress(start / max(n, 1))
            samples = [dataset[int(p)] for p in positions[start : start + batch_size]]
            x = torch.stack([s["image"] for s in samples]).to(device)
            valid = torch.stack([s["valid"] for s in samples]).to(device)
            with autocast(device, amp):
                logits = model(x).logits
            yield logits.float().softmax(dim=1), valid
    finally:
        model.train(was_training)

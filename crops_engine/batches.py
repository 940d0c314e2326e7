"""The training data path: a deterministic, resumable stream of augmented batches, prefetched.

Batches are cut from an endless sequence of shuffled passes over the training blocks: pass `e`
is a permutation drawn from `numpy.random.default_rng([seed, e])`, which also draws one
augmentation seed per block. So batch `s` depends only on (seed, s): a resumed run sees the
very batches an uninterrupted one would, whatever thread builds them, and every batch is full
(the last blocks of a pass are completed from the next pass).

`Prefetcher` builds batches in a background thread that opens its own handle on the store,
so reading and normalising overlap the model's compute (h5py serialises its calls; torch
releases the GIL while it computes).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .block_dataset import BlockDataset, flip_rotate
from .distributed import data_shard

Batch = dict[str, torch.Tensor]


class BatchStream:
    """Batch `step` of a run: `batch(step)` or iterate from `start_step`."""

    def __init__(self, dataset: BlockDataset, batch_size: int, seed: int = 0, augment: bool = True,
                 shard: tuple[int, int] | None = None) -> None:
        if len(dataset) == 0:
            raise ValueError("no blocks to draw batches from")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.augment = augment
        # Under torchrun (`distributed`): (rank, world size); step s draws the global batch of batch_size x world
        # size samples and this process takes its rank's slice, so N processes see what one of N x batch_size sees.
        self.rank, self.world_size = shard if shard is not None else data_shard()
        self._pass_index: int | None = None
        self._pass: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def steps_per_pass(self) -> int:
        """Steps to see every block once (an epoch), of the global batch."""
        return -(-len(self.dataset) // (self.batch_size * self.world_size))

    def _order(self, pass_index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._pass_index != pass_index:
            rng = np.random.default_rng([self.seed, pass_index])
            order = rng.permutation(len(self.dataset))
            aug_seeds = rng.integers(0, 2**62, size=len(self.dataset))
            self._pass_index, self._pass = pass_index, (order, aug_seeds)
        assert self._pass is not None
        return self._pass

    def positions(self, step: int) -> list[tuple[int, int]]:
        """(dataset position, augmentation seed) of each sample of batch `step`."""
        n = len(self.dataset)
        out = []
        first = (step * self.world_size + self.rank) * self.batch_size
        for p in range(first, first + self.batch_size):
            order, seeds = self._order(p // n)
            out.append((int(order[p % n]), int(seeds[p % n])))
        return out

    def batch(self, step: int) -> Batch:
        images, labels, valid, index = [], [], [], []
        for position, aug_seed in self.positions(step):
            sample = self.dataset[position]
            if self.augment:
                sample = flip_rotate(sample, torch.Generator().manual_seed(aug_seed))
            images.append(sample["image"])
            valid.append(sample["valid"])
            index.append(sample["index"])
            if "label" in sample:
                labels.append(sample["label"])
        batch: Batch = {
            "image": torch.stack(images),
            "valid": torch.stack(valid),
            "index": torch.as_tensor(index, dtype=torch.int64),
        }
        if labels:
            batch["label"] = torch.stack(labels)
        return batch

    def __iter__(self) -> Iterator[Batch]:
        return self.iterate(0)

    def iterate(self, start_step: int = 0, stop_step: int | None = None) -> Iterator[Batch]:
        step = start_step
        while stop_step is None or step < stop_step:
            yield self.batch(step)
            step += 1


_DONE = object()


class Prefetcher:
    """Runs an iterator in a daemon thread, `depth` items ahead; re-raises its errors in the caller.

    `factory()` is called inside the thread, so whatever it opens (an HDF5 handle) belongs to
    that thread. Close it (or use it as a context manager) to stop the thread early.
    """

    def __init__(self, factory: Any, depth: int = 2, pin_memory: bool = False) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(int(depth), 1))
        self._stop = threading.Event()
        self._pin = pin_memory
        self.wait_seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(factory,), name="crops-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, factory: Any) -> None:
        try:
            for item in factory():
                if self._pin:
                    item = {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in item.items()}
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(("__error__", exc))
            return
        self._put(_DONE)

    def __iter__(self) -> Prefetcher:
        return self

    def __next__(self) -> Any:
        import time

        start = time.perf_counter()
        item = self._queue.get()
        self.wait_seconds += time.perf_counter() - start
        if item is _DONE:
            raise StopIteration
        if isinstance(item, tuple) and len(item) == 2 and item[0] == "__error__":
            raise item[1]
        return item

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5.0)

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A segmentation model as `predict(batch) -> probabilities`, the callable the tile pipeline runs.

`partition` scores blocks through the same object, so both get mixed precision and pinned memory
on CUDA, a batch sized to the GPU, and a batch that halves on out-of-memory instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import CropsError
from ..progress import Progress, silent

CPU_BATCH_SIZE = 4
MAX_AUTO_BATCH = 64

Predict = Callable[[np.ndarray], np.ndarray]
"""(N, C, h, w) normalised float32 features -> (N, K, h, w) float32 class probabilities."""


class ModelPredictor:
    """A segmentation model as `predict(batch) -> probabilities`, on CPU or CUDA.

    On CUDA: mixed precision (float16 autocast, as in training), pinned host buffers from
    `allocate`, and an out-of-memory error halves the batch and retries instead of failing.
    """

    def __init__(self, model: Any, device: Any, batch_size: int, amp: bool = True,
                 progress: Progress | None = None) -> None:
        import torch

        self.torch = torch
        self.model = model.to(device).eval()
        self.device = device
        self.cuda = device.type == "cuda"
        self.batch_size = max(1, int(batch_size))
        self.progress = progress or silent()
        self.amp = bool(amp)
        if self.cuda:
            torch.backends.cudnn.benchmark = True  # every batch has the same shape: let cuDNN pick its kernels

    def allocate(self, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 host buffer for one batch; page-locked on CUDA so the copy to the GPU is fast."""
        if self.cuda:
            return self.torch.empty(shape, dtype=self.torch.float32, pin_memory=True).numpy()
        return np.empty(shape, dtype=np.float32)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities of one batch, no splitting (raises torch's OutOfMemoryError)."""
        from ..device import autocast

        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))
        with torch.inference_mode():
            x = x.to(self.device, non_blocking=True)
            with autocast(self.device, self.amp):
                logits = self.model(x).logits
            return torch.softmax(logits.float(), dim=1).cpu().numpy()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        out: np.ndarray | None = None
        i = 0
        while i < n:
            b = min(self.batch_size, n - i)
            try:
                probs = self.forward(batch[i:i + b])
            except self.torch.cuda.OutOfMemoryError:
                probs = None  # leave the except block first, so its traceback frees the batch's tensors
            if probs is None:
                self.torch.cuda.empty_cache()
                if b == 1:
                    raise CropsError(
                        "The GPU ran out of memory on a single tile: use a smaller TILE_SIZE or DEVICE cpu."
                    ) from None
                self.batch_size = max(1, b // 2)
                self.progress.warn(f"GPU out of memory with {b} tiles a batch: retrying with {self.batch_size}.")
                continue
            if out is None:
                out = np.empty((n, *probs.shape[1:]), dtype=np.float32)
            out[i:i + b] = probs
            i += b
        assert out is not None
        return out

    def fit_batch_size(self, in_channels: int, tile_h: int, tile_w: int, limit: int = MAX_AUTO_BATCH) -> int:
        """On CUDA: as many tiles as ~60 % of the free GPU memory holds, measured on one tile."""
        torch = self.torch
        if not self.cuda:
            return self.batch_size
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(self.device)
        base = torch.cuda.memory_allocated(self.device)
        self.forward(np.zeros((1, in_channels, tile_h, tile_w), dtype=np.float32))
        per_tile = max(1, torch.cuda.max_memory_allocated(self.device) - base)
        free, _ = torch.cuda.mem_get_info(self.device)
        self.batch_size = int(max(1, min(limit, 0.6 * free // per_tile)))
        return self.batch_size

"""The partition's map outputs: the easy / hard mask and which block each map pixel shows.

Overlapping blocks (STRIDE < BLOCK_SIZE): each pixel belongs to the block whose centre is nearest
(ties to the upper / left one), so the mask tiles the window without overlap and each pixel shows
the block, and the prediction, that it is most central in. On a lattice that owner is found per
axis, so each block owns a rectangle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .blocks import BlockStore, lattice
from .errors import CropsError
from .progress import Progress

EASY, HARD, MASK_NODATA = 1, 2, 0
CONFIDENCE_NODATA = -1.0  # as infer's float outputs


def owned_spans(start: int, size: int, block_size: int, stride: int) -> list[tuple[int, int]]:
    """Per lattice position along one axis, the [lo, hi) pixels whose nearest block centre it is."""
    origins = lattice(start, size, block_size, stride)
    reach = (block_size + stride - 1) // 2 + 1  # first pixel past the midpoint of two neighbouring centres
    spans = []
    for i, o in enumerate(origins):
        lo = start if i == 0 else origins[i - 1] + reach
        hi = start + size if i == len(origins) - 1 else o + reach
        spans.append((lo, hi))
    return spans


class Ownership:
    """Which part of each block of a store it owns in the maps (a rectangle, block-local slices)."""

    def __init__(self, store: BlockStore) -> None:
        xoff, yoff, xsize, ysize = store.window
        bs, stride = store.block_size, store.stride
        self.window = store.window
        self._rows = {o: s for o, s in zip(lattice(yoff, ysize, bs, stride), owned_spans(yoff, ysize, bs, stride),
                                          strict=True)}
        self._cols = {o: s for o, s in zip(lattice(xoff, xsize, bs, stride), owned_spans(xoff, xsize, bs, stride),
                                          strict=True)}

    def region(self, origin: tuple[int, int]) -> tuple[slice, slice, int, int]:
        """(block-local row slice, column slice, output x offset, output y offset) of a block's owned part."""
        r, c = int(origin[0]), int(origin[1])
        try:
            r0, r1 = self._rows[r]
            c0, c1 = self._cols[c]
        except KeyError:
            raise CropsError(f"Block origin {r, c} is not on the store's lattice: the block store is inconsistent.") \
                from None
        return slice(r0 - r, r1 - r), slice(c0 - c, c1 - c), c0 - self.window[0], r0 - self.window[1]


def write_mask(band: Any, store: BlockStore, easy: np.ndarray, ownership: Ownership, progress: Progress) -> None:
    """Write 1 (easy) / 2 (hard) over each block's owned valid pixels."""
    n = len(store)
    value = np.full(n, HARD, dtype=np.uint8)
    value[easy] = EASY
    origins = store.origins
    chunk = 64
    for start in range(0, n, chunk):
        progress(start / n, "Writing the easy / hard mask")
        stop = min(start + chunk, n)
        valid = store.valid(slice(start, stop))
        for j in range(stop - start):
            rows, cols, x0, y0 = ownership.region(origins[start + j])
            part = np.where(valid[j], value[start + j], MASK_NODATA).astype(np.uint8)[rows, cols]
            band.WriteArray(np.ascontiguousarray(part), x0, y0)


def _extent(s: slice, block_size: int) -> int:
    return len(range(*s.indices(block_size)))


class PatchPart:
    """A process's confidence patches under torchrun (sharded partition), in the order `score_store` writes them,
    in a flat float32 `.npy` beside the store: it takes the band's `WriteArray` calls of the blocks [lo, hi), and
    `replay_patches` makes them on process 0's band, so the map is written exactly as one process writes it."""

    def __init__(self, path: Any, store: BlockStore, ownership: Ownership, lo: int, hi: int) -> None:
        origins, bs = store.origins, store.block_size
        size = 0
        for i in range(lo, hi):
            rows, cols, _, _ = ownership.region(origins[i])
            size += _extent(rows, bs) * _extent(cols, bs)
        self.array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(size,)) if size else None
        self.offset = 0

    def WriteArray(self, values: np.ndarray, xoff: int, yoff: int) -> None:  # noqa: N802 - GDAL's name
        flat = np.asarray(values, dtype=np.float32).reshape(-1)
        if self.array is None or self.offset + flat.size > self.array.size:
            raise CropsError("A confidence patch does not fit the process's part: the block store is inconsistent.")
        self.array[self.offset:self.offset + flat.size] = flat
        self.offset += flat.size

    def close(self) -> None:
        if self.array is not None:
            self.array.flush()
            self.array = None


def replay_patches(band: Any, path: Any, store: BlockStore, ownership: Ownership, lo: int, hi: int) -> None:
    """Write the patches of blocks [lo, hi) kept in `path` (a `PatchPart`) into `band`, as `score_store` does."""
    if hi <= lo:
        return
    origins, bs = store.origins, store.block_size
    flat = np.load(path, mmap_mode="r")
    offset = 0
    for i in range(lo, hi):
        rows, cols, x0, y0 = ownership.region(origins[i])
        h, w = _extent(rows, bs), _extent(cols, bs)
        if h * w == 0:
            continue
        band.WriteArray(np.ascontiguousarray(flat[offset:offset + h * w].reshape(h, w)), x0, y0)
        offset += h * w
    del flat

"""The validation split of a block store: whole spatial groups of blocks, so val is not next to train.

Blocks are grouped into spatial tiles of g x g lattice cells; groups are shuffled with the seed and
whole groups go to `val` until it holds `val_fraction` of the blocks. When stride < block size,
neighbouring blocks overlap: a block that overlaps any validation block is left out of both
`train` and `val`, so no pixel is in both.
"""

from __future__ import annotations

import numpy as np

from ..errors import CropsError

AUTO_GROUP_SIZES = (8, 4, 2, 1)
MIN_GROUPS = 10


def spatial_split(
    cells: np.ndarray,
    overlap: int,
    val_fraction: float,
    seed: int = 0,
    group_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Split blocks by whole spatial groups: (train indices, val indices, group size used).

    `cells` (N, 2) are the blocks' lattice positions (row, col in units of the stride);
    `overlap` = ceil(block_size / stride): blocks closer than that on both axes share pixels,
    and a train block sharing pixels with a val block is dropped from both splits.
    Deterministic for a seed. `group_size` None picks the largest of 8, 4, 2, 1 lattice cells
    that still gives at least MIN_GROUPS groups.
    """
    n = len(cells)
    if not 0.0 <= val_fraction < 1.0:
        raise CropsError(f"VAL_FRACTION must be in [0, 1); got {val_fraction}.")
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    if group_size is None:
        group_size = 1
        for g in AUTO_GROUP_SIZES:
            if len(np.unique(cells // g, axis=0)) >= MIN_GROUPS:
                group_size = g
                break
    if group_size < 1:
        raise CropsError(f"The validation group size must be at least 1 block; got {group_size}.")
    everything = np.arange(n, dtype=np.int64)
    if n == 0 or val_fraction == 0.0:
        return everything, np.zeros(0, dtype=np.int64), group_size
    groups, group_of = np.unique(cells // group_size, axis=0, return_inverse=True)
    group_of = group_of.reshape(-1)
    sizes = np.bincount(group_of, minlength=len(groups))
    order = np.random.default_rng(seed).permutation(len(groups))
    target = val_fraction * n
    chosen: list[int] = []
    taken = 0
    for g in order:
        if taken >= target or len(chosen) == len(groups) - 1:
            break
        chosen.append(int(g))
        taken += int(sizes[g])
    is_val = np.isin(group_of, chosen)
    val = everything[is_val]
    near_val = np.zeros(n, dtype=bool)
    if overlap > 1 and len(val):
        where = {(int(r), int(c)): i for i, (r, c) in enumerate(cells)}
        for r, c in cells[val]:
            for dr in range(-overlap + 1, overlap):
                for dc in range(-overlap + 1, overlap):
                    j = where.get((int(r) + dr, int(c) + dc))
                    if j is not None:
                        near_val[j] = True
    train = everything[~is_val & ~near_val]
    return train, val, group_size

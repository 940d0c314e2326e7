"""The HDF5 block store: a composite (plus extra bands and labels) cut into square blocks.

Training, partition and adaptation read blocks from here; inference reads the rasters
directly with the same `features.FeatureStack` and `features.normalise`.

Layout (one block per HDF5 chunk, lzf-compressed by default: bench/results/block_store.md):
- `images (N, C, H, W) float32`: raw feature values; NaN where a pixel is invalid or padding.
- `valid (N, H, W) uint8`: 1 where every feature of the pixel is valid (0 = nodata or padding).
- `labels (N, H, W) uint8` (stores with labels only): class value 0..K-1, 255 = ignore
  (no class, nodata, padding).
- `class_counts (N, K) int64` (with labels): labelled pixels of each class per block.
- `origins (N, 2) int64`: row, col of each block's top-left pixel in the composite's grid.
- `split/train`, `split/val`: block indices of the validation split.

Temporal stores (build-series, `crops_engine.series`) are block stores whose features are a series' steps x
bands, step-major (`t01:B02 ..`), so `images` is the C-order view of (N, T, C, H, W) (`BlockStore.series`); they
add `step_valid (N, T, H, W) uint8` (1 where the step holds a real observation, 0 where it was interpolated)
and the attribute `series` (JSON: steps, their dates and days, bands, scenes per step, the rule).

A store is never edited after build-blocks. The partition (`scores (N,)`, `split/easy`, `split/hard` and
its settings, with the partitioning model's SHA-256) goes into a file beside it, `<store>.partition.h5`
(`write_partition`, `store.partition_path`), which `BlockStore` reads as the store's own splits when it
was written for that store (stores partitioned by older versions hold them inside).

Attributes: `crs_wkt`, `geotransform`, `width`, `height` (the composite's grid), `window`
(the pixel window blocks were cut from), `feature_names`, `feature_sources`, `mean`, `std`
(per feature over the valid pixels of the window, each pixel once), `classes` (JSON list of
CropClass dicts), `has_labels`, `block_size`, `stride`, `nodata` (NaN: the fill of invalid
pixels in `images`), `ignore` (255) and provenance.

Class values: a class's `value` is its index in `classes` (0..K-1, the model's output
index) and the value in `labels`; its `code` is the source label code it came from (None
when several codes or a `*` map to it).

Modules: `layout` (where blocks go), `stats` (running mean / std), `writer` (building a store),
`split` (the spatial validation split), `store` (reading), `partition_split` (easy / hard, beside the store).
"""

from .layout import lattice, resolve_window
from .partition_split import write_partition
from .split import spatial_split
from .stats import RunningStats
from .store import COMPRESSION, FORMAT, FORMAT_VERSION, BlockStore, Index, partition_path
from .writer import build_block_store

__all__ = [
    "COMPRESSION",
    "FORMAT",
    "FORMAT_VERSION",
    "BlockStore",
    "Index",
    "RunningStats",
    "build_block_store",
    "lattice",
    "partition_path",
    "resolve_window",
    "spatial_split",
    "write_partition",
]

"""Streaming sliding-window inference: a checkpoint on a composite -> class map (+ confidence, entropy,
per-class probabilities) GeoTIFFs.

Three stages overlap: a reader thread reads and normalises tile windows into batches (a bounded
queue: the model never waits on the disk), a model thread predicts them while the calling thread
blends the tiles (`blending.StripBlender`) and watches for cancel, and a writer thread turns
finished strips of rows into the outputs. Memory depends on tile size, batch size and raster
width, never on raster height.

Modules: `run` (the `infer` command: checks, tiling, batch size), `predictor` (the model as a
predict function, shared with partition), `tiles` (reading tile batches), `pipeline` (the
streaming core, `predict_raster`), `outputs` (the rasters written and their nodata),
`threads` (the queues between the threads).
"""

from .outputs import CLASS_NODATA, FLOAT_NODATA, OUTPUT_BLOCK, Outputs, class_value_table, normalised_entropy
from .pipeline import predict_raster
from .predictor import CPU_BATCH_SIZE, MAX_AUTO_BATCH, ModelPredictor, Predict
from .run import InferOptions, available_cpus, check_tile_size, default_tile_size, infer
from .tiles import TileSource

__all__ = [
    "CLASS_NODATA",
    "CPU_BATCH_SIZE",
    "FLOAT_NODATA",
    "MAX_AUTO_BATCH",
    "OUTPUT_BLOCK",
    "InferOptions",
    "ModelPredictor",
    "Outputs",
    "Predict",
    "TileSource",
    "available_cpus",
    "check_tile_size",
    "class_value_table",
    "default_tile_size",
    "infer",
    "normalised_entropy",
    "predict_raster",
]

"""Easy / hard partition: where the source model is sure of itself on the target, and where not.

The source model predicts every block of the target store; each block gets a score, the mean over
its valid pixels of a per-pixel confidence (SCORE):

- `max_probability`: the probability of the predicted class;
- `entropy`: 1 - entropy / log K (1 = certain, 0 = all classes equally likely);
- `confident_fraction`: 1 where the max-probability reaches CONF_THRESHOLD, else 0 (the share of
  confident pixels).

Higher always means easier. Blocks are split by EASY_FRACTION (the most confident share is easy)
or, when SCORE_THRESHOLD is given, by score >= threshold. With PER_CLASS the split is made
within each predicted dominant class (the class most pixels of a block are predicted as), so a
rare or hard class still has easy blocks; with a threshold, a class none of whose blocks passes
gets its best block as easy. `scores`, `split/easy`, `split/hard` and the settings (with the model's
SHA-256, which adapt-spcl checks) go into the partition file beside the store, `<store>.partition.h5`
(`blocks.write_partition`: written whole or not at all; the store itself is never edited).

Map outputs, over the store's window: OUTPUT_MASK (1 easy, 2 hard, 0 nodata, styled blue / red)
and OUTPUT_CONFIDENCE (the per-pixel confidence of SCORE, max-probability for
`confident_fraction`; -1 nodata, grey 0..1). Where blocks overlap, each pixel shows the block whose
centre is nearest (`partition_maps`).

Memory: one batch of blocks plus GDAL's cache; the outputs are written block by block.

Under torchrun (`distributed`) each process scores its share of the blocks in whole batches
(`distributed.batch_share`: the very batches one process runs, so the same scores to the last bit) and
keeps its blocks' confidence patches in a part beside the store (`partition_maps.PatchPart`); the
scores are shared, every process splits alike, and process 0 alone writes the maps (making the single
process's writes from the parts), then the partition file, each atomically; the parts are removed
whatever happens. With COMPOSITE, process 0 builds the store while the others wait.
"""

from __future__ import annotations

import math
import os
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import distributed
from .atomic import atomic_path
from .blocks import BlockStore, partition_path, write_partition
from .checkpoint import CheckpointMeta, check_features, file_sha256, read_metadata
from .commands import declared, declared_choices
from .errors import CropsError
from .partition_maps import CONFIDENCE_NODATA, MASK_NODATA, Ownership, PatchPart, replay_patches, write_mask
from .progress import Progress, silent
from .raster import create_geotiff, finish_geotiff
from .styles import write_easy_hard_style, write_grey_style

SCORES = declared_choices("partition", "SCORE")


@dataclass(frozen=True)
class PartitionOptions:
    """How to score and split; see the module doc."""

    score: str = declared("partition", "SCORE")
    easy_fraction: float = declared("partition", "EASY_FRACTION")
    score_threshold: float | None = None
    per_class: bool = declared("partition", "PER_CLASS")
    conf_threshold: float = declared("partition", "CONF_THRESHOLD")
    batch_size: int = declared("partition", "BATCH_SIZE")
    device: str = declared("partition", "DEVICE")
    amp: bool = True
    # map the target's per-band statistics onto the checkpoint's first (crops_engine.statistics_alignment)
    statistics_alignment: str = declared("partition", "STATISTICS_ALIGNMENT")

    def check(self) -> None:
        if self.score not in SCORES:
            raise CropsError(f"SCORE {self.score!r} is not one of {', '.join(SCORES)}.")
        if not 0.0 <= self.easy_fraction <= 1.0:
            raise CropsError(f"EASY_FRACTION must be in [0, 1], got {self.easy_fraction}.")
        if self.score_threshold is not None and not 0.0 <= self.score_threshold <= 1.0:
            raise CropsError(f"SCORE_THRESHOLD must be in [0, 1] (scores are confidences), got {self.score_threshold}.")
        if not 0.0 < self.conf_threshold <= 1.0:
            raise CropsError(f"CONF_THRESHOLD must be in (0, 1], got {self.conf_threshold}.")
        if self.batch_size < 1:
            raise CropsError(f"BATCH_SIZE must be at least 1, got {self.batch_size}.")


# -- scores -----------------------------------------------------------------------------------------


def pixel_confidence(probs: np.ndarray, score: str) -> np.ndarray:
    """Per-pixel confidence (n, H, W) in [0, 1] from probabilities (n, K, H, W), as the map shows it."""
    if score == "entropy":
        k = probs.shape[1]
        if k < 2:
            return np.ones(probs.shape[:1] + probs.shape[2:], dtype=np.float32)
        p = np.clip(probs, 1e-12, 1.0)
        h = -(p * np.log(p)).sum(axis=1) / np.float32(math.log(k))
        return np.clip(1.0 - h, 0.0, 1.0).astype(np.float32)
    return probs.max(axis=1).astype(np.float32)


def block_scores(
    probs: np.ndarray, valid: np.ndarray, score: str, conf_threshold: float = 0.9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores (n,), dominant predicted class (n,), per-pixel confidence (n, H, W)) of a batch.

    A block without a valid pixel (not written by build-blocks) would score NaN and class -1.
    """
    confidence = pixel_confidence(probs, score)
    if score == "confident_fraction":
        per_pixel = (probs.max(axis=1) >= conf_threshold).astype(np.float32)
    else:
        per_pixel = confidence
    counts = valid.reshape(len(valid), -1).sum(axis=1)
    sums = np.where(valid, per_pixel, 0.0).reshape(len(valid), -1).sum(axis=1)
    scores = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)
    k = probs.shape[1]
    pred = probs.argmax(axis=1)
    dominant = np.full(len(valid), -1, dtype=np.int64)
    for i in range(len(valid)):
        if counts[i]:
            dominant[i] = int(np.bincount(pred[i][valid[i]], minlength=k).argmax())
    return scores, dominant, confidence


def _easiest(scores: np.ndarray, members: np.ndarray, fraction: float) -> np.ndarray:
    """The `fraction` of `members` with the highest scores (at least one when fraction > 0); ties by index."""
    if len(members) == 0 or fraction <= 0:
        return np.zeros(0, dtype=np.int64)
    count = min(len(members), max(1, int(math.floor(fraction * len(members) + 0.5))))  # rounded half up
    s = np.nan_to_num(scores[members], nan=-np.inf)
    order = np.lexsort((members, -s))  # score descending, then index ascending
    return members[order[:count]]


def split_blocks(
    scores: np.ndarray,
    easy_fraction: float = 0.5,
    score_threshold: float | None = None,
    dominant: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(easy, hard) sorted block indices; per dominant class when `dominant` is given (see module doc)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    everything = np.arange(n, dtype=np.int64)
    groups = [everything] if dominant is None else [everything[dominant == c] for c in np.unique(dominant)]
    easy_parts = []
    for members in groups:
        if score_threshold is None:
            easy_parts.append(_easiest(scores, members, easy_fraction))
            continue
        passed = members[np.nan_to_num(scores[members], nan=-np.inf) >= score_threshold]
        if dominant is not None and len(passed) == 0 and len(members):
            passed = _easiest(scores, members, 1.0 / len(members))
        easy_parts.append(passed)
    easy = np.sort(np.concatenate(easy_parts)) if easy_parts else np.zeros(0, dtype=np.int64)
    hard = np.setdiff1d(everything, easy)
    return easy.astype(np.int64), hard.astype(np.int64)


# -- the partition ----------------------------------------------------------------------------------


def score_store(
    model: Any,
    meta: CheckpointMeta,
    store: BlockStore,
    options: PartitionOptions,
    device: Any,
    progress: Progress,
    confidence_band: Any | None = None,
    ownership: Ownership | None = None,
    blocks: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, dominant class) of every block, or of blocks [lo, hi) (`blocks`, starting at a batch boundary);
    writes owned confidence into `confidence_band` if given."""
    from .block_dataset import model_inputs
    from .infer import ModelPredictor

    predictor = ModelPredictor(model, device, options.batch_size, options.amp, progress)
    n = len(store)
    lo, hi = blocks if blocks is not None else (0, n)
    scores = np.empty(hi - lo, dtype=np.float32)
    dominant = np.empty(hi - lo, dtype=np.int64)
    origins = store.origins
    for start in range(lo, hi, options.batch_size):
        stop = min(start + options.batch_size, hi)
        progress((start - lo) / (hi - lo), f"Scoring blocks {start + 1}-{stop} of {n}")
        x, valid = model_inputs(store, meta, slice(start, stop))
        probs = predictor(x)
        s, d, confidence = block_scores(probs, valid, options.score, options.conf_threshold)
        scores[start - lo:stop - lo], dominant[start - lo:stop - lo] = s, d
        if confidence_band is not None and ownership is not None:
            for j in range(stop - start):
                rows, cols, x0, y0 = ownership.region(origins[start + j])
                part = np.where(valid[j], confidence[j], np.float32(CONFIDENCE_NODATA))[rows, cols]
                confidence_band.WriteArray(np.ascontiguousarray(part, dtype=np.float32), x0, y0)
    progress(1.0, f"{hi - lo} blocks scored" if blocks is not None else f"{n} blocks scored")
    return scores, dominant


def _check_output(path: str | os.PathLike[str] | None, what: str, store_path: Path) -> Path | None:
    if path is None or str(path) == "":
        return None
    p = Path(path)
    if p.suffix.lower() not in (".tif", ".tiff"):
        raise CropsError(f"{what} {p} must be a GeoTIFF (.tif).")
    if p.resolve() == store_path.resolve():
        raise CropsError(f"{what} would overwrite the block store; choose another file name.")
    return p


def partition(
    model_path: str | os.PathLike[str],
    blocks: str | os.PathLike[str],
    output_mask: str | os.PathLike[str] | None = None,
    output_confidence: str | os.PathLike[str] | None = None,
    options: PartitionOptions | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score and split the target store `blocks` with the source checkpoint; write the partition into
    the store and the optional map outputs. Returns paths and figures."""
    from .checkpoint import load_model
    from .device import resolve_device

    options = options or PartitionOptions()
    options.check()
    progress = progress or silent()
    model_path, blocks = Path(model_path), Path(blocks)
    meta = read_metadata(model_path)
    store = BlockStore(blocks)
    check_features(meta, store.feature_names, f"the target block store {blocks}")
    if options.statistics_alignment != "none":
        from .statistics_alignment import align_store

        store = align_store(store, meta.normalisation, options.statistics_alignment, str(model_path), progress)
    mask_path = _check_output(output_mask, "OUTPUT_MASK", blocks)
    confidence_path = _check_output(output_confidence, "OUTPUT_CONFIDENCE", blocks)
    if mask_path is not None and confidence_path is not None and mask_path.resolve() == confidence_path.resolve():
        raise CropsError("OUTPUT_MASK and OUTPUT_CONFIDENCE are the same file; give each its own name.")
    if len(store) == 0:
        raise CropsError(f"The block store {blocks} holds no block; rebuild it over an area with valid pixels.")
    device = resolve_device(options.device)
    progress(0.0, "Loading the source model")
    model, _ = load_model(model_path, device)
    if store.has_labels:
        progress.log("The block store holds labels: the partition does not use them.")
    run = _PartitionRun(model_path, blocks, store, meta, options, mask_path, confidence_path)
    try:
        run.write(model, device, progress)
    finally:
        store.close()
    return run.result(progress)


@dataclass
class _PartitionRun:
    """One partition: the checked store, checkpoint and outputs, then the scores and the split."""

    model_path: Path
    blocks: Path
    store: BlockStore
    meta: CheckpointMeta
    options: PartitionOptions
    mask_path: Path | None
    confidence_path: Path | None
    scores: np.ndarray = field(init=False)
    dominant: np.ndarray = field(init=False)
    easy: np.ndarray = field(init=False)
    hard: np.ndarray = field(init=False)
    partition_file: Path = field(init=False)

    def write(self, model: Any, device: Any, progress: Progress) -> None:
        """Score every block, split, write the maps, then the partition into the store."""
        import torch

        if distributed.world().active:
            self.write_sharded(model, device, progress)
            return
        store, options = self.store, self.options
        ownership = Ownership(store)
        with ExitStack() as stack:
            confidence = self._open_confidence(stack)
            with torch.inference_mode():
                self.scores, self.dominant = score_store(
                    model, self.meta, store, options, device, progress.sub(0.02, 0.85),
                    confidence[1].GetRasterBand(1) if confidence else None, ownership,
                )
            self._finish(stack, confidence, ownership, progress)

    def write_sharded(self, model: Any, device: Any, progress: Progress) -> None:
        """`write` over the processes of a torchrun run (module doc)."""
        import torch

        store, options = self.store, self.options
        w = distributed.world()
        ownership = Ownership(store)
        n = len(store)
        shares = [distributed.batch_share(n, options.batch_size, r, w.size) for r in range(w.size)]  # same argv
        lo, hi = shares[w.rank]
        folder = distributed.shared_folder(self.blocks, "parts")
        try:
            part = None
            if self.confidence_path is not None:
                part = PatchPart(folder / f"confidence.{w.rank}.npy", store, ownership, lo, hi)
            try:
                with torch.inference_mode():
                    scores, dominant = score_store(model, self.meta, store, options, device,
                                                   progress.sub(0.02, 0.8), part, ownership, (lo, hi))
            finally:
                if part is not None:
                    part.close()
            distributed.wait_for_all("partition-parts", progress)
            gathered = distributed.all_gather_object((scores, dominant), "sharing the block scores")
            self.scores = np.concatenate([g[0] for g in gathered]).astype(np.float32)
            self.dominant = np.concatenate([g[1] for g in gathered]).astype(np.int64)
            if not w.writer:
                self.easy, self.hard = split_blocks(self.scores, options.easy_fraction, options.score_threshold,
                                                    self.dominant if options.per_class else None)
                self.partition_file = partition_path(self.blocks)
                return
            with ExitStack() as stack:
                confidence = self._open_confidence(stack)
                for r, (a, b) in enumerate(shares if confidence else []):
                    progress.sub(0.8, 0.85)(r / w.size, "Assembling the confidence map")
                    replay_patches(confidence[1].GetRasterBand(1), folder / f"confidence.{r}.npy", store, ownership,
                                   a, b)
                self._finish(stack, confidence, ownership, progress)
        finally:
            if w.writer:
                import shutil

                shutil.rmtree(folder, ignore_errors=True)

    def _open_confidence(self, stack: ExitStack) -> list[Any]:
        """[temporary path, dataset] of OUTPUT_CONFIDENCE, filled with nodata (`_finish` closes it); [] without it."""
        if self.confidence_path is None:
            return []
        store = self.store
        conf_tmp = stack.enter_context(atomic_path(self.confidence_path))
        conf_ds = create_geotiff(conf_tmp, store.grid.window(*store.window), 1, np.float32, nodata=CONFIDENCE_NODATA,
                                 band_descriptions=[f"confidence ({self.options.score})"])
        conf_ds.GetRasterBand(1).Fill(CONFIDENCE_NODATA)
        return [conf_tmp, conf_ds]

    def _finish(self, stack: ExitStack, confidence: list[Any], ownership: Ownership, progress: Progress) -> None:
        """Split the scored blocks, write the mask, finish the confidence map, then the partition file."""
        store, options = self.store, self.options
        grid = store.grid.window(*store.window)
        self.easy, self.hard = split_blocks(self.scores, options.easy_fraction, options.score_threshold,
                                            self.dominant if options.per_class else None)
        if self.mask_path is not None:
            mask_tmp = stack.enter_context(atomic_path(self.mask_path))
            mask_ds = create_geotiff(mask_tmp, grid, 1, np.uint8, nodata=MASK_NODATA,
                                     band_descriptions=["partition (1 easy, 2 hard)"])
            write_mask(mask_ds.GetRasterBand(1), store, self.easy, ownership, progress.sub(0.85, 0.95))
            finish_geotiff(mask_ds)
            mask_ds = None
            write_easy_hard_style(mask_tmp)
        if confidence:
            finish_geotiff(confidence.pop(), resampling="AVERAGE")  # the last reference: closed
            write_grey_style(confidence[0], 0.0, 1.0)
        progress(0.96, "Writing the partition beside the block store")
        store.close()
        info = {
            "model": str(self.model_path.resolve()),
            "model_sha256": file_sha256(self.model_path),
            **{k: v for k, v in asdict(options).items() if k not in ("batch_size", "device", "amp")},
            "score_direction": "higher is easier",
            "mask_rule": "each pixel shows the block whose centre is nearest",
        }
        self.partition_file = write_partition(self.blocks, self.scores, self.easy, self.hard, info)

    def result(self, progress: Progress) -> dict[str, Any]:
        scores, easy, hard, options = self.scores, self.easy, self.hard, self.options
        names = self.meta.class_names
        per_class = {}
        for c in range(len(names)):
            members = self.dominant == c
            if members.any():
                easy_members = int(np.isin(np.flatnonzero(members), easy).sum())
                per_class[names[c]] = {"blocks": int(members.sum()), "easy": easy_members}
        n = len(scores)
        result: dict[str, Any] = {
            "output_blocks": str(self.blocks),
            "partition_file": str(self.partition_file),
            "blocks": n,
            "easy_blocks": int(len(easy)),
            "hard_blocks": int(len(hard)),
            "mean_score_easy": _mean(scores[easy]),
            "mean_score_hard": _mean(scores[hard]),
            "score": options.score,
            "dominant_classes": per_class,
        }
        if self.mask_path is not None:
            result["output_mask"] = str(self.mask_path)
        if self.confidence_path is not None:
            result["output_confidence"] = str(self.confidence_path)
        progress.log(
            f"{len(easy)} easy and {len(hard)} hard blocks of {n}; mean {options.score} "
            f"{_fmt(result['mean_score_easy'])} (easy) vs {_fmt(result['mean_score_hard'])} (hard); blocks per "
            "dominant class (easy): " + ", ".join(f"{k} {v['blocks']} ({v['easy']})" for k, v in per_class.items())
        )
        progress.metric("easy_blocks", len(easy))
        progress.metric("hard_blocks", len(hard))
        progress(1.0, "Partition written")
        return result


def partition_composite(
    model_path: str | os.PathLike[str],
    composite: str | os.PathLike[str],
    output_blocks: str | os.PathLike[str],
    output_mask: str | os.PathLike[str] | None = None,
    output_confidence: str | os.PathLike[str] | None = None,
    options: PartitionOptions | None = None,
    extra_bands: tuple[str, ...] | list[str] = (),
    block_size: int = 0,
    stride: int = 0,
    extent: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build the target store from `composite` (no labels; BLOCK_SIZE 0 = the model's), then partition it."""
    from .blocks import build_block_store
    from .features import FeatureStack

    options = options or PartitionOptions()
    options.check()
    progress = progress or silent()
    meta = read_metadata(model_path)
    with FeatureStack(composite, extra_bands) as stack:  # fail on the features before building anything
        check_features(meta, stack.names, f"COMPOSITE {composite}")
    size = int(block_size) or meta.block_size
    built = None
    writer = distributed.world().writer
    if writer:  # under torchrun process 0 builds the store, the others wait for it
        built = build_block_store(composite, output_blocks, extra_bands=extra_bands, block_size=size,
                                  stride=int(stride) or None, val_fraction=0.0, extent=extent,
                                  progress=progress.sub(0.0, 0.3))
    try:
        distributed.wait_for_all("partition-store", progress, "waiting for process 0 to build the block store")
        built = distributed.broadcast_object(built, "sharing the built store's figures")
        result = partition(model_path, output_blocks, output_mask, output_confidence, options, progress.sub(0.3, 1.0))
    except BaseException:
        if writer:
            Path(output_blocks).unlink(missing_ok=True)  # a store without its partition is not what was asked for
        raise
    result["built_blocks"] = built["blocks"]
    return result


def _mean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"

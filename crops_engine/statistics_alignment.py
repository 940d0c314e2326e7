"""Source-free statistics alignment: map the target's per-band distribution onto the source statistics
the model's checkpoint recorded, before the model sees the target.

The co-training seed aligns its images' colours offline (LAB space) before training. For multispectral
composites and a source-free product, the analogue is per band: the only source data are the statistics
the checkpoint holds (`normalisation`: per-band mean and std, and, since source training records them,
the per-band quantiles of the training blocks at `QUANTILE_LEVELS`). Two maps, each monotone and per band:

- `mean_std`: x -> (x - mean_t) / std_t * std_s + mean_s (target mean and std from its valid pixels);
  after the model's normalisation this is the target standardised by its own statistics.
- `histogram`: histogram matching, x -> Q_s(F_t(x)): the piecewise-linear map through the knots
  (q_t(l), q_s(l)) of the target's and the recorded source quantiles at the same levels l (ties in the
  target's quantiles are merged, the source values averaged); values beyond the target's extremes map
  to the source's extremes. Needs the recorded quantiles: a checkpoint trained before CROPS recorded
  them gets a CropsError saying so (mean_std still works).

Where it applies (STATISTICS_ALIGNMENT none | mean_std | histogram): `align_composite` writes an aligned
composite (`crops:align_statistics`); partition, adaptation and inference align on the fly
(`AlignedBlockStore` for block stores: its `images` are aligned; `raster_band_map` for inference). The
target statistics come from (a regular sample of) the valid pixels of the target being aligned.
Target labels are never read. A model adapted on aligned blocks expects aligned inputs: its provenance
records the alignment and inference warns when it is run with another (`check_model_alignment`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .blocks import BlockStore
from .errors import CropsError
from .progress import Progress, silent

ALIGNMENTS = ("none", "mean_std", "histogram")
QUANTILE_LEVELS = tuple(round(i / 100, 2) for i in range(101))  # 0, 0.01, ..., 1
MAX_SAMPLE = 200_000  # pixels per band the statistics are measured on (a regular sample of the valid ones)


# -- statistics -----------------------------------------------------------------------------------------


def quantiles_of(sample: np.ndarray, levels: Sequence[float] = QUANTILE_LEVELS) -> np.ndarray:
    """(C, L) per-band quantiles of a (C, P) pixel sample at `levels` (linear interpolation)."""
    sample = np.asarray(sample, dtype=np.float64)
    if sample.ndim != 2 or sample.shape[1] == 0:
        raise CropsError("No valid pixel to measure the per-band statistics on.")
    return np.quantile(sample, np.asarray(levels, dtype=np.float64), axis=1).T


def store_sample(store: BlockStore, indices: Sequence[int] | np.ndarray | None = None,
                 max_pixels: int = MAX_SAMPLE, progress: Progress | None = None) -> np.ndarray:
    """(C, P) raw values of a regular sample of the valid pixels of blocks `indices` (all by default).

    Reads the plain store (`BlockStore.images` of the class, never an aligned view) block chunk by chunk;
    labels are never read."""
    progress = progress or silent()
    idx = np.arange(len(store), dtype=np.int64) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise CropsError(f"The block store {store.path} has no block to measure the per-band statistics on.")
    pixels = idx.size * store.block_size * store.block_size
    step = max(1, math.ceil(math.sqrt(pixels / max(int(max_pixels), 1))))
    parts: list[np.ndarray] = []
    chunk = 32
    for start in range(0, idx.size, chunk):
        progress(start / idx.size, "Per-band statistics of the blocks")
        part = np.sort(idx[start : start + chunk])
        images = BlockStore.images(store, part)[..., ::step, ::step]  # the raw values, whatever the subclass
        valid = store.valid(part)[..., ::step, ::step]
        values = np.moveaxis(images, 1, 0)[:, valid]  # (C, valid pixels)
        parts.append(values[:, np.isfinite(values).all(axis=0)])
    sample = np.concatenate(parts, axis=1) if parts else np.zeros((len(store.feature_names), 0))
    if sample.shape[1] == 0:
        raise CropsError(f"The block store {store.path} holds no valid pixel to measure the per-band statistics on.")
    return sample


def training_quantiles(store: BlockStore, indices: Sequence[int] | np.ndarray) -> dict[str, Any]:
    """What source training records in the checkpoint's normalisation: the per-band quantiles of the valid
    pixels of the training blocks, {"levels": [...], "values": [[per level] per band]}."""
    values = quantiles_of(store_sample(store, indices))
    return {"levels": list(QUANTILE_LEVELS), "values": [[float(np.float32(v)) for v in band] for band in values]}


def recorded_quantiles(normalisation: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """(levels (L,), values (C, L)) a checkpoint's normalisation records, or None (trained before they were)."""
    q = normalisation.get("quantiles")
    if not q:
        return None
    return np.asarray(q["levels"], dtype=np.float64), np.asarray(q["values"], dtype=np.float64)


# -- the per-band map ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandMap:
    """A monotone map per band from the target's units to the source's: `kind` mean_std (affine, through the
    knots x = mean_t -+ std_t, y = mean_s -+ std_s, extrapolated) or histogram (piecewise linear through the
    knots, clamped to the end knots). `x[c]`, `y[c]` are band c's knots (increasing x)."""

    kind: str
    x: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Raw features (..., C, H, W) -> aligned float32 (NaN stays NaN: invalid pixels stay invalid)."""
        raw = np.asarray(raw, dtype=np.float32)
        if raw.ndim < 3 or raw.shape[-3] != len(self.x):
            raise ValueError(f"a map of {len(self.x)} bands cannot align features of shape {raw.shape}")
        out = np.empty_like(raw)
        for c, (xk, yk) in enumerate(zip(self.x, self.y, strict=True)):
            band = raw[..., c, :, :]
            if self.kind == "mean_std":
                slope = (yk[1] - yk[0]) / (xk[1] - xk[0]) if xk[1] > xk[0] else 1.0
                out[..., c, :, :] = (band - xk[0]) * slope + yk[0]
            else:
                out[..., c, :, :] = np.interp(band, xk, yk)
        return out

    def summary(self, names: Sequence[str]) -> str:
        """One line per band: where the target's middle (median, or mean) lands in source units."""
        parts = []
        for name, xk, yk in zip(names, self.x, self.y, strict=True):
            mid_x = float(np.median(xk)) if self.kind == "histogram" else float(np.mean(xk))
            mid_y = float(np.interp(mid_x, xk, yk)) if self.kind == "histogram" else float(np.mean(yk))
            parts.append(f"{name} {mid_x:.4g} -> {mid_y:.4g}")
        return ", ".join(parts)

    def describe(self) -> dict[str, Any]:
        """JSON-able form (provenance)."""
        return {"kind": self.kind, "x": [k.tolist() for k in self.x], "y": [k.tolist() for k in self.y]}


def _merge_ties(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots with increasing x: equal target quantiles (a band with many equal values) merged into one knot
    at the mean of their source values; a single knot is widened so the map stays defined."""
    ux, inverse = np.unique(x, return_inverse=True)
    uy = np.bincount(inverse, weights=y) / np.bincount(inverse)
    uy = np.maximum.accumulate(uy)  # monotone even if the source quantiles were not
    if ux.size == 1:
        ux, uy = np.array([ux[0] - 0.5, ux[0] + 0.5]), np.array([uy[0], uy[0]])
    return ux, uy


def fit_band_map(kind: str, normalisation: dict[str, Any], sample: np.ndarray, model: str = "the model",
                 bands: Sequence[int] | None = None) -> BandMap:
    """The map of `kind` from the target pixel `sample` (C, P) to the checkpoint's statistics (`bands`: which
    of the checkpoint's features the sample's rows are; all, in order, by default)."""
    if kind not in ALIGNMENTS or kind == "none":
        raise CropsError(f"STATISTICS_ALIGNMENT {kind!r} is not one of mean_std, histogram.")
    sample = np.asarray(sample, dtype=np.float64)
    bands = list(range(sample.shape[0])) if bands is None else list(bands)
    if sample.ndim != 2 or sample.shape[0] != len(bands):
        raise ValueError(f"{sample.shape[0]} sample bands for {len(bands)} features")
    if sample.shape[1] == 0:
        raise CropsError("The target holds no valid pixel to align.")
    if kind == "mean_std":
        mean_s = np.asarray(normalisation["mean"], dtype=np.float64)[bands]
        std_s = np.asarray(normalisation["std"], dtype=np.float64)[bands]
        mean_t, std_t = sample.mean(axis=1), sample.std(axis=1)
        xs, ys = [], []
        for mt, st, ms, ss in zip(mean_t, std_t, mean_s, std_s, strict=True):
            if not st > 0:  # a constant target band: only shifted
                st = ss
            xs.append(np.array([mt - st, mt + st]))
            ys.append(np.array([ms - ss, ms + ss]))
        return BandMap(kind, tuple(xs), tuple(ys))
    recorded = recorded_quantiles(normalisation)
    if recorded is None:
        raise CropsError(
            f"STATISTICS_ALIGNMENT histogram needs the per-band quantiles of the source, and {model} was trained "
            "before CROPS recorded them in the checkpoint. Use STATISTICS_ALIGNMENT mean_std (it needs only the "
            "mean and std every checkpoint has), or train the source model again (train_source records them)."
        )
    levels, values = recorded
    target = quantiles_of(sample, levels)
    xs, ys = zip(*(_merge_ties(target[i], values[b]) for i, b in enumerate(bands)), strict=True)
    return BandMap(kind, tuple(xs), tuple(ys))


# -- block stores -----------------------------------------------------------------------------------


class AlignedBlockStore(BlockStore):
    """A block store whose `images` are aligned by `band_map` (everything else is the store's). Opened again
    in another thread or process with `reopen()`."""

    def __init__(self, path: str | os.PathLike[str], band_map: BandMap) -> None:
        super().__init__(path)
        self.band_map = band_map

    def images(self, idx: Any) -> np.ndarray:
        raw = super().images(idx)
        if raw.ndim == 3:  # one block (C, H, W)
            return self.band_map.apply(raw[None])[0]
        return self.band_map.apply(raw)

    def reopen(self) -> AlignedBlockStore:
        return AlignedBlockStore(self.path, self.band_map)


def reopen_store(store: BlockStore) -> BlockStore:
    """A new handle on `store` (for another thread), aligned as it is."""
    return store.reopen() if isinstance(store, AlignedBlockStore) else BlockStore(store.path)


def check_alignment(kind: str) -> None:
    if kind not in ALIGNMENTS:
        raise CropsError(f"STATISTICS_ALIGNMENT {kind!r} is not one of {', '.join(ALIGNMENTS)}.")


def align_store(store: BlockStore, normalisation: dict[str, Any], kind: str, model: str = "the model",
                progress: Progress | None = None) -> BlockStore:
    """`store` itself (kind none), or an `AlignedBlockStore` on the same file whose images are mapped onto the
    checkpoint's statistics (the target statistics measured on all its blocks' valid pixels)."""
    check_alignment(kind)
    if kind == "none":
        return store
    progress = progress or silent()
    if kind == "histogram" and recorded_quantiles(normalisation) is None:
        fit_band_map(kind, normalisation, np.zeros((1, 1)), model)  # the clear error, before reading anything
    band_map = fit_band_map(kind, normalisation, store_sample(store, progress=progress), model)
    progress.log(f"Statistics alignment ({kind}) of {store.path} onto the statistics of {model}: "
                 f"{band_map.summary(store.feature_names)}")
    aligned = AlignedBlockStore(store.path, band_map)
    store.close()
    return aligned


# -- rasters --------------------------------------------------------------------------------------------


def raster_sample(composite: str | os.PathLike[str], extra_bands: Sequence[str] = (),
                  max_pixels: int = MAX_SAMPLE, progress: Progress | None = None) -> tuple[np.ndarray, list[str]]:
    """((C, P) raw values of a regular sample of the valid pixels, feature names) of a composite (+ extra bands)."""
    from .features import FeatureStack
    from .raster import iter_windows

    progress = progress or silent()
    with FeatureStack(composite, extra_bands) as stack:
        width, height = stack.grid.width, stack.grid.height
        step = max(1, math.ceil(math.sqrt(width * height / max(int(max_pixels), 1))))
        parts: list[np.ndarray] = []
        windows = list(iter_windows(width, height, 512, 512))
        for k, (xoff, yoff, xsize, ysize) in enumerate(windows):
            progress(k / len(windows), "Per-band statistics of the target")
            # the same regular grid of pixels over the whole raster, whatever the window
            x0, y0 = (-xoff) % step, (-yoff) % step
            raw, valid = stack.read(xoff, yoff, xsize, ysize)
            raw, valid = raw[:, y0::step, x0::step], valid[y0::step, x0::step]
            parts.append(raw[:, valid])
        names = list(stack.names)
    sample = np.concatenate(parts, axis=1)
    if sample.shape[1] == 0:
        raise CropsError(f"{composite} holds no valid pixel to align.")
    return sample, names


def raster_band_map(model: str | os.PathLike[str], composite: str | os.PathLike[str], kind: str,
                    extra_bands: Sequence[str] = (), progress: Progress | None = None) -> BandMap | None:
    """The map inference applies to every feature of `composite` (+ `extra_bands`) read for `model` (None for
    kind none)."""
    from .checkpoint import check_features, read_metadata

    check_alignment(kind)
    if kind == "none":
        return None
    progress = progress or silent()
    meta = read_metadata(model)
    if kind == "histogram" and recorded_quantiles(meta.normalisation) is None:
        fit_band_map(kind, meta.normalisation, np.zeros((1, 1)), str(model))
    sample, names = raster_sample(composite, extra_bands, progress=progress)
    check_features(meta, names, str(composite))
    band_map = fit_band_map(kind, meta.normalisation, sample, str(model))
    progress.log(f"Statistics alignment ({kind}) of {composite} onto the statistics of {model}: "
                 f"{band_map.summary(names)}")
    return band_map


def model_alignment(provenance: dict[str, Any]) -> str:
    """The STATISTICS_ALIGNMENT a model was adapted with ("none" for source models and older adaptations)."""
    return str(provenance.get("hyperparameters", {}).get("statistics_alignment", "none"))


def check_model_alignment(model: str | os.PathLike[str], kind: str, progress: Progress) -> None:
    """Warn when `model` was adapted on target blocks aligned otherwise than this run aligns its input."""
    from .checkpoint import read_metadata

    provenance = read_metadata(model).provenance
    if provenance.get("task") != "adapt":
        return  # a source model: any alignment of its input is the user's choice
    adapted = model_alignment(provenance)
    if adapted != kind:
        progress.warn(
            f"{model} was adapted on target blocks with STATISTICS_ALIGNMENT {adapted}, and this run uses {kind}: "
            f"the model expects its inputs aligned as they were; give STATISTICS_ALIGNMENT {adapted}."
        )


def align_composite(model: str | os.PathLike[str], composite: str | os.PathLike[str], output: str | os.PathLike[str],
                    kind: str = "histogram", progress: Progress | None = None) -> dict[str, Any]:
    """Write `composite` with each band mapped onto the statistics `model` recorded for the feature of the same
    name (Float32, NaN nodata, band descriptions kept, natural-colour style). Returns paths and figures."""
    from .atomic import atomic_path
    from .checkpoint import read_metadata
    from .composite.style import rgb_bands, stretch
    from .features import FeatureStack
    from .raster import create_geotiff, finish_geotiff, iter_windows
    from .styles import write_grey_style, write_rgb_style

    progress = progress or silent()
    if kind in ("none", ""):
        raise CropsError("STATISTICS_ALIGNMENT none aligns nothing: choose mean_std or histogram.")
    check_alignment(kind)
    output = Path(output)
    if output.suffix.lower() not in (".tif", ".tiff"):
        raise CropsError(f"OUTPUT {output} must be a GeoTIFF (.tif).")
    if output.resolve() == Path(composite).resolve():
        raise CropsError("OUTPUT would overwrite the composite; give the aligned composite its own file name.")
    meta = read_metadata(model)
    if kind == "histogram" and recorded_quantiles(meta.normalisation) is None:
        fit_band_map(kind, meta.normalisation, np.zeros((1, 1)), str(model))
    progress(0.0, "Measuring the target's per-band statistics")
    sample, names = raster_sample(composite, progress=progress.sub(0.0, 0.3))
    unknown = [n for n in names if n not in meta.features]
    if unknown:
        raise CropsError(
            f"Bands {unknown} of {composite} are not among the features of {model} ({', '.join(meta.features)}): "
            "align a composite with the bands the model was trained on."
        )
    bands = [meta.features.index(n) for n in names]
    band_map = fit_band_map(kind, meta.normalisation, sample, str(model), bands)
    progress.log(f"Statistics alignment ({kind}) onto the statistics of {model}: {band_map.summary(names)}")
    with FeatureStack(composite) as stack, atomic_path(output) as tmp:
        grid = stack.grid
        ds = create_geotiff(tmp, grid, len(names), np.float32, nodata=float("nan"), band_descriptions=names,
                            metadata={"STATISTICS_ALIGNMENT": kind, "ALIGNED_TO_MODEL": str(Path(model).name)})
        windows = list(iter_windows(grid.width, grid.height, 256, 256))
        for k, (xoff, yoff, xsize, ysize) in enumerate(windows):
            progress(0.3 + 0.6 * k / len(windows), "Writing the aligned composite")
            raw, _ = stack.read(xoff, yoff, xsize, ysize)
            aligned = band_map.apply(raw)
            for b in range(len(names)):
                ds.GetRasterBand(b + 1).WriteArray(aligned[b], xoff, yoff)
        finish_geotiff(ds, resampling="AVERAGE", progress=progress.sub(0.9, 0.98))
        ds = None
        aligned_sample = band_map.apply(sample[:, None, :].astype(np.float32)[None])[0][:, 0, :]
        rgb = rgb_bands(names, 3) if len(names) >= 3 else None
        if rgb is not None:
            write_rgb_style(tmp, *rgb, stretch([aligned_sample[[b - 1 for b in rgb]]], float("nan")))
        else:
            lo, hi = np.percentile(aligned_sample[0], [2, 98])
            write_grey_style(tmp, float(lo), float(hi if hi > lo else lo + 1))
    progress(1.0, "Aligned composite written")
    return {"output": str(output), "alignment": kind, "bands": len(names), "pixels_sampled": int(sample.shape[1]),
            "map": band_map.describe()}


"""AgriFM-format samples <-> a temporal block store.

AgriFM keeps one sample per HDF5 file: one dataset per source of shape (T, C, H, W) (e.g. `S2`) and `label`
(H, W) of class codes; `data_lists/train.txt`, `val.txt` (and `test.txt`) name the files of each split.
`import_agrifm` turns such a folder into a block store (`blocks.store`) that train-source, partition, adapt and
evaluate read unchanged: one block per sample, laid side by side on a nominal grid with no georeference.

Sources. A store made of one source is exactly a build-series store: features `t01:B02`..., step-major, the
`series` attribute and `step_valid`, so U-TAE trains on it. A store of several sources (each with its own time
grid and bands) names each feature by its source, `S2:t01:B02`, source after source, step-major within each; a
model trained on it records these names (the checkpoint's features), so whatever reads it later must give the
same sources. Both kinds carry the attribute `sources` (JSON): per source its name, steps, days and bands.
The files record no dates: a source dataset's `dates` attribute (YYYY-MM-DD per step) is used when present,
else a nominal grid of STEP_DAYS from START_DATE; `export_agrifm` writes `dates` and `bands` back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..atomic import atomic_path, check_output
from ..class_map import ClassMap, class_map_from_codes, parse_class_map
from ..classes import CropClass
from ..errors import CropsError
from ..metrics import IGNORE_INDEX
from ..progress import Progress, silent

LABEL = "label"
LISTS = "data_lists"
SPLITS = ("train", "val", "test")
DEFAULT_SOURCE = "S2"
NOMINAL_START = date(2000, 1, 1)  # the nominal first step when the files carry no dates
RULE = "imported from AgriFM sample files (values as stored)"


@dataclass
class SourceInfo:
    """One source of the samples: its name, steps (as dicts: start, end, centre), days and bands."""

    name: str
    steps: list[dict[str, str]]
    days: list[float]
    bands: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "steps": self.steps, "days": self.days, "bands": self.bands}

    def feature_names(self, prefixed: bool) -> list[str]:
        head = f"{self.name}:" if prefixed else ""
        return [f"{head}t{k + 1:02d}:{b}" for k in range(len(self.steps)) for b in self.bands]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _texts(value: Any) -> list[str]:
    return [_text(v) for v in np.atleast_1d(value)]


def _open(path: Path) -> Any:
    import h5py

    try:
        return h5py.File(path, "r")
    except (OSError, RuntimeError) as exc:
        raise CropsError(f"{path} is not a readable HDF5 file ({exc}): it is corrupt or not an AgriFM sample; "
                         "replace it or remove it from the folder and its data_lists.") from None


def _read(ds: Any, path: Path) -> np.ndarray:
    try:
        return ds[()]
    except (OSError, RuntimeError) as exc:
        raise CropsError(f"Cannot read {ds.name.lstrip('/')} of {path} ({exc}): the file is truncated or damaged; "
                         "replace it or remove it from the folder and its data_lists.") from None


def _sample_files(folder: Path) -> tuple[list[Path], dict[str, list[int]]]:
    """The sample files (every .h5 of the folder and every file the data_lists name, sorted by name, so blocks
    keep the order of an exported store) and each split's positions in that list ({} without data_lists)."""
    if not folder.is_dir():
        raise CropsError(f"INPUT {folder} is not a folder: give the folder holding the AgriFM .h5 samples.")
    present = {p for p in folder.iterdir() if p.suffix.lower() in (".h5", ".hdf5") and p.is_file()}
    if not present:
        raise CropsError(f"{folder} holds no .h5 file: give the folder of AgriFM samples (one .h5 per sample, "
                         "beside data_lists/).")
    listed: dict[str, list[Path]] = {}
    for split in SPLITS:
        list_path = folder / LISTS / f"{split}.txt"
        if not list_path.is_file():
            continue
        paths = []
        for name in (line.strip() for line in list_path.read_text().splitlines()):
            if not name:
                continue
            path = folder / name
            if not path.suffix:
                path = path.with_suffix(".h5")
            if not path.is_file():
                raise CropsError(f"{list_path} names {name}, which is not in {folder}: add the file or remove "
                                 "the line.")
            paths.append(path)
        listed[split] = paths
    files = sorted(present.union(*listed.values()), key=lambda p: str(p.relative_to(folder)))
    where = {p: i for i, p in enumerate(files)}
    return files, {split: [where[p] for p in paths] for split, paths in listed.items()}


def _source_info(name: str, ds: Any, step_days: int, start: date) -> SourceInfo:
    t, c = int(ds.shape[0]), int(ds.shape[1])
    bands = _texts(ds.attrs["bands"]) if "bands" in ds.attrs else [f"b{i + 1:02d}" for i in range(c)]
    if len(bands) != c:
        raise CropsError(f"The `bands` attribute of {name} names {len(bands)} bands but it has {c}.")
    if "dates" in ds.attrs:
        starts = [date.fromisoformat(s) for s in _texts(ds.attrs["dates"])]
        if len(starts) != t:
            raise CropsError(f"The `dates` attribute of {name} has {len(starts)} dates for {t} steps.")
        if "step_ends" in ds.attrs:
            ends = [date.fromisoformat(e) for e in _texts(ds.attrs["step_ends"])]
        else:
            ends = starts[1:] + [starts[-1] + (starts[-1] - starts[-2] if t > 1 else timedelta(days=step_days))]
        if len(ends) != t:
            raise CropsError(f"The `step_ends` attribute of {name} has {len(ends)} dates for {t} steps.")
    else:
        starts = [start + timedelta(days=k * step_days) for k in range(t)]
        ends = [s + timedelta(days=step_days) for s in starts]
    steps = [{"start": s.isoformat(), "end": e.isoformat(), "centre": (s + (e - s) / 2).isoformat()}
             for s, e in zip(starts, ends, strict=True)]
    days = [round((s - starts[0]).days + (e - s).days / 2, 3) for s, e in zip(starts, ends, strict=True)]
    return SourceInfo(name, steps, days, bands)


def _describe(files: list[Path], sources: Sequence[str], step_days: int, start: date) -> tuple[list[SourceInfo], int]:
    """Check every file (readable, a label, the sources, one H x W) and describe the sources from the first."""
    infos: list[SourceInfo] = []
    size = None
    for path in files:
        with _open(path) as h5:
            if LABEL not in h5:
                raise CropsError(f"{path} has no `{LABEL}` dataset: an AgriFM sample holds its labels (H, W) in "
                                 f"`{LABEL}`; add it or remove the file.")
            missing = [s for s in sources if s not in h5]
            if missing:
                have = [k for k in h5 if k != LABEL]
                raise CropsError(f"Source {', '.join(missing)} is not in {path} (it has {', '.join(have) or 'none'}): "
                                 "name sources that every sample holds in SOURCES.")
            lab = h5[LABEL]
            if lab.ndim != 2:
                raise CropsError(f"`{LABEL}` of {path} has shape {lab.shape}; AgriFM labels are (H, W).")
            for s in sources:
                ds = h5[s]
                if ds.ndim != 4:
                    raise CropsError(f"Source {s} of {path} has shape {ds.shape}; AgriFM sources are (T, C, H, W).")
                if tuple(ds.shape[2:]) != tuple(lab.shape):
                    raise CropsError(f"Source {s} of {path} is {ds.shape[2]} x {ds.shape[3]} pixels but its label is "
                                     f"{lab.shape[0]} x {lab.shape[1]}: every source must have the label's H and W "
                                     "(resample the sources to one grid first).")
            if lab.shape[0] != lab.shape[1] or (size is not None and lab.shape[0] != size):
                raise CropsError(f"{path} is {lab.shape[0]} x {lab.shape[1]} pixels; a block store needs square "
                                 f"samples of one size ({size or lab.shape[0]} px): crop them to one size.")
            size = int(lab.shape[0])
            if not infos:
                infos = [_source_info(s, h5[s], step_days, start) for s in sources]
            else:
                for info in infos:
                    shape = h5[info.name].shape[:2]
                    if tuple(shape) != (len(info.steps), len(info.bands)):
                        raise CropsError(f"Source {info.name} of {path} has {shape[0]} steps x {shape[1]} bands but "
                                         f"{files[0]} has {len(info.steps)} x {len(info.bands)}: every sample needs "
                                         "the same steps and bands per source.")
    return infos, int(size)


def _default_sources(path: Path) -> list[str]:
    with _open(path) as h5:
        names = [k for k in h5 if k != LABEL and getattr(h5[k], "ndim", 0) == 4]
    if not names:
        raise CropsError(f"{path} holds no (T, C, H, W) source dataset beside `{LABEL}`.")
    return [DEFAULT_SOURCE] if DEFAULT_SOURCE in names else sorted(names)


def _class_map(files: list[Path], class_map: str | None) -> ClassMap:
    if class_map and class_map.strip():
        return parse_class_map(class_map)
    with _open(files[0]) as h5:  # samples written by export_agrifm say their classes (names, colours, order)
        written = _text(h5[LABEL].attrs["class_map"]) if LABEL in h5 and "class_map" in h5[LABEL].attrs else ""
    if written:
        return parse_class_map(written)
    codes: set[int] = set()
    for path in files:
        with _open(path) as h5:
            codes.update(int(v) for v in np.unique(_read(h5[LABEL], path)))
    return class_map_from_codes(sorted(codes))


def _check_store_output(output: Path) -> None:
    """Refuse to replace a file that is not a block store (a sample, someone's data) and a wrong suffix."""
    if output.suffix.lower() not in (".h5", ".hdf5"):
        raise CropsError(f"OUTPUT {output} should be a block store file ending in .h5.")
    check_output(output)
    if output.is_file():
        import h5py

        try:
            with h5py.File(output, "r") as h5:
                is_store = h5.attrs.get("format") in ("crops-block-store", b"crops-block-store")
        except (OSError, RuntimeError):
            is_store = False
        if not is_store:
            raise CropsError(f"OUTPUT {output} exists and is not a CROPS block store: it is not replaced. Give a new "
                             "file name, or delete the file first.")


def import_agrifm(
    folder: str | os.PathLike[str],
    output: str | os.PathLike[str],
    sources: Sequence[str] = (),
    class_map: str | None = None,
    step_days: int = 30,
    start_date: str | None = None,
    compression: str = "lzf",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Read the AgriFM samples of `folder` (every .h5, in name order) into a block store at `output`: one block per
    sample, labels through `class_map` (CLASS_MAP text; empty: the files' own `class_map` attribute, else codes are
    classes and 0 is ignore), the splits of data_lists. Everything is checked before the store exists."""
    import h5py

    from ..blocks.stats import RunningStats
    from ..blocks.store import FORMAT, FORMAT_VERSION

    progress = progress or silent()
    folder, output = Path(folder), Path(output)
    _check_store_output(output)
    if int(step_days) < 1:
        raise CropsError(f"STEP_DAYS must be at least 1 day; got {step_days}.")
    try:
        start = date.fromisoformat(start_date) if start_date else NOMINAL_START
    except ValueError:
        raise CropsError(f"START_DATE {start_date!r} is not a date; write it as YYYY-MM-DD.") from None
    files, splits = _sample_files(folder)
    names = [s.strip() for s in sources if s.strip()] or _default_sources(files[0])
    if len(set(names)) != len(names):
        raise CropsError(f"SOURCES names a source twice ({', '.join(names)}).")
    infos, bs = _describe(files, names, int(step_days), start)
    cmap = _class_map(files, class_map)
    classes = list(cmap.classes)
    k = len(classes)
    multi = len(infos) > 1
    features = [f for info in infos for f in info.feature_names(prefixed=multi)]
    if not splits:
        progress.warn(f"{folder} has no data_lists/train.txt or val.txt: all {len(files)} samples are for training "
                      "and none for validation.")
        splits = {"train": list(range(len(files)))}
    unlisted = len(files) - len(set().union(*map(set, splits.values())))
    if unlisted:
        progress.log(f"{unlisted} of the {len(files)} samples are in no data list: they are in the store, in no split.")
    progress.log(f"{len(files)} AgriFM samples of {bs} x {bs} px; sources "
                 + "; ".join(f"{i.name}: {len(i.steps)} steps x {len(i.bands)} bands" for i in infos)
                 + f"; {k} classes.")
    n, c = len(files), len(features)
    stats = RunningStats(c)
    class_pixels = np.zeros(k, dtype=np.int64)
    opts: dict[str, Any] = {"compression": compression}
    with atomic_path(output) as tmp, h5py.File(tmp, "w") as out:
        images = out.create_dataset("images", (n, c, bs, bs), np.float32, chunks=(1, c, bs, bs),
                                    fillvalue=np.nan, **opts)
        valid_ds = out.create_dataset("valid", (n, bs, bs), np.uint8, chunks=(1, bs, bs), **opts)
        labels_ds = out.create_dataset("labels", (n, bs, bs), np.uint8, chunks=(1, bs, bs),
                                       fillvalue=IGNORE_INDEX, **opts)
        counts_ds = out.create_dataset("class_counts", (n, k), np.int64)
        step_valid = None
        if not multi:
            step_valid = out.create_dataset("step_valid", (n, len(infos[0].steps), bs, bs), np.uint8,
                                            chunks=(1, len(infos[0].steps), bs, bs), **opts)
        out.create_dataset("origins", data=np.array([(0, i * bs) for i in range(n)], dtype=np.int64).reshape(-1, 2))
        for i, path in enumerate(files):
            progress(i / n, f"Sample {i + 1} of {n}")
            with _open(path) as h5:
                parts = [_read(h5[info.name], path).astype(np.float32) for info in infos]
                codes = _read(h5[LABEL], path)
            x = np.concatenate([p.reshape(-1, bs, bs) for p in parts], axis=0)
            valid = np.isfinite(x).all(axis=0)
            lab = cmap.lookup(codes)
            lab[~valid] = IGNORE_INDEX
            counts = np.bincount(lab[lab != IGNORE_INDEX], minlength=k)[:k]
            images[i] = x
            valid_ds[i] = valid.astype(np.uint8)
            labels_ds[i] = lab
            counts_ds[i] = counts
            if step_valid is not None:
                step_valid[i] = np.isfinite(parts[0]).all(axis=1).astype(np.uint8)
            stats.update(x, valid)
            class_pixels += counts
        if class_pixels.sum() == 0:
            raise CropsError(f"No labelled pixel in the samples of {folder}: every label maps to ignore. Check "
                             "CLASS_MAP against the label codes.")
        for split, positions in splits.items():
            out.create_dataset(f"split/{split}", data=np.asarray(positions, dtype=np.int64))
        attrs: dict[str, Any] = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_by": f"crops_engine {__version__}",
            "crs_wkt": "", "geotransform": np.array([0.0, 1.0, 0.0, float(bs), 0.0, -1.0]),
            "width": n * bs, "height": bs, "window": np.array([0, 0, n * bs, bs], dtype=np.int64),
            "block_size": bs, "stride": bs,
            "feature_names": json.dumps(features),
            "feature_sources": json.dumps([{"path": str(folder), "band": f} for f in features]),
            "source_nodata": json.dumps([None] * c), "nodata": np.float32(np.nan), "ignore": IGNORE_INDEX,
            "mean": stats.mean, "std": stats.std, "valid_pixels": int(stats.count), "has_labels": True,
            "classes": json.dumps([cl.as_dict() for cl in classes]), "class_pixels": class_pixels,
            "compression": compression, "val_group_size": 1, "val_fraction": 0.0, "seed": 0,
            "composite": f"AgriFM samples in {folder}", "labels": str(folder), "label_field": LABEL,
            "class_map": cmap.text,
            "sources": json.dumps([i.as_dict() for i in infos]),
            "sample_names": json.dumps([p.stem for p in files]),
        }
        if not multi:
            info = infos[0]
            attrs["series"] = json.dumps({"steps": info.steps, "days": info.days, "bands": info.bands,
                                          "scenes_per_step": [n] * len(info.steps), "rule": RULE,
                                          "step_days": int(step_days), "source": info.name})
        for key, value in attrs.items():
            out.attrs[key] = value
    labelled = [cl.name for cl, m in zip(classes, class_pixels, strict=True) if m > 0]
    if len(labelled) < 2:
        progress.warn(f"Only {len(labelled)} class has labelled pixels: train-source needs at least two.")
    progress(1.0, "Block store written")
    progress.metric("blocks", n)
    return {
        "output": str(output), "blocks": n, "block_size": bs,
        "train_blocks": len(splits.get("train", [])), "val_blocks": len(splits.get("val", [])),
        "sources": [i.as_dict() for i in infos], "features": features,
        "classes": [cl.as_dict() for cl in classes],
        "class_pixels": {cl.name: int(m) for cl, m in zip(classes, class_pixels, strict=True)},
    }


def store_sources(store: Any, default: str = DEFAULT_SOURCE) -> list[tuple[SourceInfo, slice]]:
    """Each source of a block store and its slice of the features: the `sources` attribute, else one source
    named `default` (a build-series store: its series; a composite's store: one step of all its features)."""
    text = store.attrs.get("sources")
    if text:
        infos = [SourceInfo(d["name"], d["steps"], d["days"], d["bands"]) for d in json.loads(text)]
    elif store.series_info:
        s = store.series_info
        infos = [SourceInfo(default, s["steps"], s["days"], s["bands"])]
    else:
        infos = [SourceInfo(default, [{"start": "", "end": "", "centre": ""}], [0.0], list(store.feature_names))]
    out, at = [], 0
    for info in infos:
        width = len(info.steps) * len(info.bands)
        out.append((info, slice(at, at + width)))
        at += width
    if at != len(store.feature_names):
        raise CropsError(f"The `sources` attribute of {store.path} describes {at} features but the store has "
                         f"{len(store.feature_names)}: rebuild the store.")
    return out


def _label_codes(classes: list[CropClass]) -> tuple[np.ndarray, int]:
    """Class value -> code table (255 entries) and the code written for ignore (0 unless a class uses 0)."""
    codes: list[int] = [cl.code if isinstance(cl.code, int) else -1 for cl in classes]
    spare = (v for v in range(1, 1 << 31) if v not in codes)  # a class of several codes ('*=other') gets a free one
    codes = [c if c >= 0 else next(spare) for c in codes]
    ignore = 0 if 0 not in codes else IGNORE_INDEX
    top = max(codes + [ignore])
    dtype = np.uint8 if top <= 255 else np.uint16 if top <= 65535 else np.int32
    table = np.full(256, ignore, dtype=dtype)
    table[:len(codes)] = codes
    return table, ignore


def export_agrifm(
    store: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    source: str = DEFAULT_SOURCE,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write each block of a labelled block store as an AgriFM sample (one dataset per source, (T, C, H, W), and
    `label` (H, W) of class codes; attributes `ignore_code` and `class_map`, which import reads back) into the new
    folder `folder`, with data_lists/ from the store's splits. `source` names the source of a store that records
    none (build-series, build-blocks)."""
    import h5py

    from ..blocks.store import BlockStore

    progress = progress or silent()
    folder = Path(folder)
    check_output(folder, what="OUTPUT", folder=True)
    if folder.exists() and any(folder.iterdir()):
        raise CropsError(f"OUTPUT folder {folder} exists and is not empty: choose a new or empty folder.")
    with BlockStore(store) as bs:
        if not bs.has_labels:
            raise CropsError(f"{bs.path} holds no labels (a target store): AgriFM samples need labels; export a "
                             "labelled store (built with LABELS).")
        parts = store_sources(bs, source.strip() or DEFAULT_SOURCE)
        table, ignore = _label_codes(bs.classes)
        class_text = "; ".join([f"{table[cl.value]}={cl.name} {cl.colour}" for cl in bs.classes]
                               + [f"{ignore}=ignore"])
        known = json.loads(bs.attrs["sample_names"]) if bs.attrs.get("sample_names") else []
        names = known if len(known) == len(bs) else [f"block_{i + 1:05d}" for i in range(len(bs))]
        n = len(bs)
        with atomic_path(folder) as tmp:
            tmp.mkdir()
            for i in range(n):
                progress(i / n, f"Sample {i + 1} of {n}")
                x, lab = bs.images(i), bs.labels(i)
                with h5py.File(tmp / f"{names[i]}.h5", "w") as h5:
                    for info, sl in parts:
                        ds = h5.create_dataset(info.name, data=x[sl].reshape(len(info.steps), len(info.bands),
                                                                             *x.shape[-2:]), compression="gzip")
                        ds.attrs["bands"] = list(info.bands)
                        if all(s.get("start") for s in info.steps):
                            ds.attrs["dates"] = [s["start"] for s in info.steps]
                            ds.attrs["step_ends"] = [s["end"] for s in info.steps]
                    h5.create_dataset(LABEL, data=table[lab], compression="gzip")
                    h5[LABEL].attrs["ignore_code"] = ignore
                    h5[LABEL].attrs["class_map"] = class_text
            lists = tmp / LISTS
            lists.mkdir()
            written = {}
            for split in bs.splits:
                if split in SPLITS:
                    idx = bs.split(split)
                    (lists / f"{split}.txt").write_text("".join(f"{names[j]}.h5\n" for j in idx))
                    written[split] = int(len(idx))
    progress(1.0, f"{n} samples written")
    progress.metric("samples", n)
    return {"output": str(folder), "samples": n, "sources": [p[0].name for p in parts], "splits": written,
            "ignore_code": int(ignore)}

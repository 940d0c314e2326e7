"""Accuracy of a class map against reference labels: confusion matrix and metrics, as HTML and JSON.

Which class a class-map value means (the prediction's classes), in this order:
1. the MODEL checkpoint given, 2. the checkpoint named in the class map's `CROPS_MODEL` metadata
(written by infer) when that file still exists and its classes agree with the map, 3. the
category names stored in the class map (its palette), 4. the labels of its `.qml` sidecar.

The reference is a code raster, or polygons with LABEL_FIELD, put on the class map's grid
(warped with nearest neighbour / reprojected and rasterised) and turned into classes by
CLASS_MAP (e.g. `1200=maize; *=other; 0=ignore`). Without CLASS_MAP the first of these that gives
the reference a class is used: the model's training class map (when the model is known), the
class map's own class names and codes (a polygon attribute holding names like `maize`), the label
values as classes (0 = ignore, named from a `classes.csv` beside the labels).

Reference classes are matched to prediction classes by name (case-insensitive), then by code. A
reference class no prediction class matches stays in the table as a class that is never
predicted (IoU 0) and is warned about; if none matches, that is an error. Only pixels where the
reference has a class and the class map is not nodata count. The class map is read window by
window, so memory does not grow with its size. numpy and GDAL only: no torch needed.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from osgeo import gdal

from . import __version__
from .atomic import atomic_path
from .checkpoint import CheckpointMeta, read_metadata
from .class_map import ClassMap, parse_class_map
from .classes import CropClass, default_colour
from .errors import CropsError
from .evaluate_report import num, pct, render_html
from .labels import LabelSource, open_labels
from .metrics import IGNORE_INDEX, ConfusionAccumulator, summarise
from .progress import Progress, silent
from .raster import Grid, open_raster, unreadable

WINDOW_PIXELS = 1 << 22  # ~4 M pixels per window
THUMBNAIL_SIDE = 600  # the report's error picture: at most this many pixels a side


@dataclass(frozen=True)
class PredictionClasses:
    """The classes of a class map and where they were found."""

    classes: list[CropClass]
    source: str
    meta: CheckpointMeta | None = None


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def _category_classes(band: gdal.Band, nodata: float | None) -> list[CropClass]:
    names = band.GetCategoryNames() or []
    table = band.GetColorTable()
    out = []
    for value, name in enumerate(names):
        if not name or (nodata is not None and value == nodata):
            continue
        colour = default_colour(value)
        if table is not None and value < table.GetCount():
            r, g, b, _ = table.GetColorEntry(value)
            colour = f"#{r:02x}{g:02x}{b:02x}"
        out.append(CropClass(value, name, colour))
    return out


def _qml_classes(raster: Path) -> list[CropClass]:
    qml = raster.with_suffix(".qml")
    if not qml.is_file():
        return []
    try:
        root = ET.parse(qml).getroot()
    except ET.ParseError:
        return []
    out = []
    for entry in root.iter("paletteEntry"):
        try:
            value = int(entry.get("value", ""))
        except ValueError:
            continue
        label = entry.get("label") or ""
        if label:
            out.append(CropClass(value, label, entry.get("color") or default_colour(value)))
    return out


def prediction_classes(
    class_map: str | os.PathLike[str], ds: gdal.Dataset, model: str | os.PathLike[str] | None, progress: Progress
) -> PredictionClasses:
    """The class map's classes (value, name, colour, code); see the module doc for the order."""
    band = ds.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    categories = _category_classes(band, nodata)
    if model:
        meta = read_metadata(model)
        if categories and [_norm(c.name) for c in categories] != [_norm(c.name) for c in meta.classes]:
            progress.warn(
                f"The class map's category names ({', '.join(c.name for c in categories)}) differ from the classes "
                f"of MODEL {model} ({', '.join(meta.class_names)}); using the model's."
            )
        return PredictionClasses(list(meta.classes), f"model {model}", meta)
    named_model = (ds.GetMetadata() or {}).get("CROPS_MODEL", "")
    if named_model and Path(named_model).is_file():
        try:
            meta = read_metadata(named_model)
        except CropsError:
            meta = None
        if meta is not None and (
            not categories or [_norm(c.name) for c in categories] == [_norm(c.name) for c in meta.classes]
        ):
            return PredictionClasses(list(meta.classes), f"model {named_model} (named in the class map)", meta)
    if categories:
        return PredictionClasses(categories, "the class map's category names")
    from_qml = _qml_classes(Path(class_map))
    if from_qml:
        return PredictionClasses(from_qml, f"the style {Path(class_map).with_suffix('.qml')}")
    raise CropsError(
        f"The class map {class_map} does not say which class each value is (no category names, no .qml style): "
        "give MODEL, the checkpoint that produced it."
    )


def _reference_class_map(
    class_map_text: str | None, prediction: PredictionClasses, progress: Progress
) -> ClassMap | None:
    """CLASS_MAP when given, else the model's training class map (from its provenance), else None."""
    if class_map_text and class_map_text.strip():
        return parse_class_map(class_map_text)
    meta = prediction.meta
    text = str((meta.provenance if meta is not None else {}).get("class_map") or "")
    return parse_class_map(text) if text.strip() else None


def _names_class_map(classes: list[CropClass]) -> str:
    """`maize,1200=maize; ...`: reference values equal to a class's name (any case) or code give that class."""
    entries = []
    for c in classes:
        keys = [c.name] if not set(c.name) & set(",;=#*") and not c.name.strip().lstrip("-").isdigit() else []
        keys += [str(c.code)] if c.code is not None else []
        if keys and not set(c.name) & set(";=#"):
            entries.append(f"{','.join(keys)}={c.name}")
    return "; ".join(entries)


def _open_reference(
    reference: str | os.PathLike[str], grid: Grid, label_field: str | None, class_map_text: str | None,
    predicted: PredictionClasses, progress: Progress, reference_crs: str | None = None,
) -> Any:
    """The reference as classes on `grid`: CLASS_MAP when given, else the first of the model's training class
    map, the class map's own names and codes, and the label values themselves that gives a class."""
    if class_map_text and class_map_text.strip():
        return open_labels(reference, grid, None, label_field=label_field, class_map=class_map_text,
                           progress=progress, labels_crs=reference_crs, crs_param="REFERENCE_CRS")
    candidates: list[tuple[str, ClassMap | None]] = []
    model_map = _reference_class_map(None, predicted, silent())
    if model_map is not None:
        candidates.append(("the model's training class map", model_map))
    names_map = _names_class_map(predicted.classes)
    if names_map:
        candidates.append(("the class map's class names and codes", parse_class_map(names_map)))
    candidates.append(("the label values as classes", None))
    error: CropsError | None = None
    for what, cmap in candidates:
        try:
            labels = open_labels(reference, grid, None, label_field=label_field, class_map=cmap, progress=silent(),
                                 labels_crs=reference_crs, crs_param="REFERENCE_CRS")
        except CropsError as exc:
            error = error or exc
            continue
        progress.log(f"No CLASS_MAP given: reference classes from {what} ({labels.class_map.text}).")
        return labels
    assert error is not None
    raise error


def match_classes(
    reference: list[CropClass], predicted: list[CropClass]
) -> tuple[list[CropClass], np.ndarray, list[dict[str, Any]]]:
    """(table classes, lookup reference value -> table index (256 entries, 255 = ignore), matching report).

    The table lists the prediction's classes (index k = k-th predicted class), then reference
    classes that match none of them.
    """
    table = list(predicted)
    by_name = {_norm(c.name): k for k, c in enumerate(predicted)}
    by_code = {c.code: k for k, c in enumerate(predicted) if c.code is not None}
    lut = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    report = []
    for ref in reference:
        k, how = by_name.get(_norm(ref.name)), "name"
        if k is None and ref.code is not None and ref.code in by_code:
            k, how = by_code[ref.code], "code"
        if k is None:
            k, how = len(table), "none"
            table.append(CropClass(k, ref.name, ref.colour, ref.code))
        elif table[k].code is None and ref.code is not None:  # the reference knows the code
            table[k] = CropClass(table[k].value, table[k].name, table[k].colour, ref.code)
        lut[ref.value] = k
        report.append({"reference": ref.name, "reference_code": ref.code, "prediction": table[k].name
                       if how != "none" else None, "matched_by": how})
    return table, lut, report


Z_95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


def _none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def area_adjusted(
    counts: np.ndarray, mapped: np.ndarray, unit_area: float = 1.0, names: list[str] | None = None, z: float = Z_95
) -> dict[str, Any]:
    """Area-adjusted estimates from a stratified (or simple) random sample, the map classes as strata.

    Olofsson et al. (2014, Remote Sensing of Environment 148: 42-57), eqs. 2-10: `counts` (K, K) are the sample
    counts n_ij with rows = map class i, columns = reference class j; `mapped` (K,) the mapped area of each class
    (pixels); `unit_area` the area of one pixel (hectares, or 1 for pixels). The map's area share W_i weights each
    row: p_ij = W_i n_ij / n_i. Returns the estimated area of each reference class with its 95 % half-width
    (z times the standard error), user's and producer's accuracy and the overall accuracy with theirs. A figure
    that is undefined (a stratum with fewer than two sample units) is None; strata mapped but never sampled are
    listed, their area share is then missing from every estimate.
    """
    n = np.asarray(counts, dtype=np.float64)
    mapped = np.asarray(mapped, dtype=np.float64)
    k = n.shape[0]
    if n.shape != (k, k) or mapped.shape != (k,):
        raise CropsError(f"A {n.shape} sample matrix does not fit {mapped.shape[0]} mapped areas.")
    total = mapped.sum()
    if total <= 0:
        raise CropsError("The class map has no mapped pixel: area-adjusted estimates need a map with classes.")
    names = names or [str(i) for i in range(k)]
    weight = mapped / total  # W_i
    row = n.sum(axis=1)  # n_i.
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(row[:, None] > 0, n / row[:, None], 0.0)  # n_ij / n_i.
        p = weight[:, None] * share  # p_ij (eq. 4)
        sampled = row > 0
        single = bool((row == 1).any())  # a stratum of one unit: no variance, so no interval anywhere
        dof = np.where(row > 1, row - 1, np.inf)  # n_i. - 1 (unsampled strata add nothing)
        area_share = p.sum(axis=0)  # p.j (eq. 9)
        var_share = (weight[:, None] ** 2 * share * (1 - share) / dof[:, None]).sum(axis=0)  # eq. 10
        users = np.where(sampled, np.diag(share), np.nan)  # U_i = p_ii / p_i. (eq. 2)
        var_users = users * (1 - users) / dof  # eq. 6
        producers = np.where(area_share > 0, np.diag(p) / area_share, np.nan)  # P_j = p_jj / p.j (eq. 3)
        overall = float(np.trace(p))  # eq. 1
        var_overall = float(np.where(sampled, weight ** 2 * users * (1 - users) / dof, 0.0).sum())  # eq. 5
        # Producer's accuracy (eq. 7): N_j. mapped pixels, N^.j = sum_i N_i. n_ij / n_i. estimated pixels.
        estimated = (mapped[:, None] * share).sum(axis=0)
        var_producers = np.full(k, np.nan)
        for j in range(k):
            if estimated[j] <= 0 or not sampled[j]:
                continue
            others = sum(mapped[i] ** 2 * share[i, j] * (1 - share[i, j]) / dof[i] for i in range(k) if i != j)
            var_producers[j] = (mapped[j] ** 2 * (1 - producers[j]) ** 2 * users[j] * (1 - users[j]) / dof[j]
                                + producers[j] ** 2 * others) / estimated[j] ** 2

    def half(variance: float) -> float | None:
        """z times the standard error; None where undefined."""
        if single or not math.isfinite(variance) or variance < 0:
            return None
        return z * math.sqrt(variance)

    classes = []
    for j in range(k):
        area = area_share[j] * total * unit_area
        classes.append({
            "name": names[j],
            "mapped_area": float(mapped[j] * unit_area),
            "sample_units": int(row[j]),
            "area_share": _none(area_share[j]),
            "area": _none(area),
            "area_half_width": None if half(var_share[j]) is None else half(var_share[j]) * total * unit_area,
            "users_accuracy": _none(users[j]),
            "users_half_width": half(var_users[j]),
            "producers_accuracy": _none(producers[j]),
            "producers_half_width": half(var_producers[j]),
        })
    return {
        "overall_accuracy": _none(overall),
        "overall_half_width": half(var_overall),
        "confidence": round(2 * NormalDist().cdf(z) - 1, 4),
        "z": z,
        "total_area": float(total * unit_area),
        "sample_units": int(row.sum()),
        "strata_without_sample": [names[i] for i in range(k) if mapped[i] > 0 and row[i] == 0],
        "proportions": p.tolist(),
        "classes": classes,
    }


def _valid_mask(band: gdal.Band, values: np.ndarray, nodata: float | None, needs_mask: bool,
                window: tuple[int, int, int, int]) -> np.ndarray:
    valid = np.ones(values.shape, dtype=bool)
    if nodata is not None and not math.isnan(nodata):
        valid &= values != nodata
    if needs_mask:
        valid &= band.GetMaskBand().ReadAsArray(*window) > 0
    return valid


def evaluate_class_map(
    class_map: str | os.PathLike[str],
    reference: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    output_json: str | os.PathLike[str] | None = None,
    label_field: str | None = None,
    reference_class_map: str | None = None,
    model: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    reference_crs: str | None = None,
    reference_is_sample: bool = False,
) -> dict[str, Any]:
    """Compare `class_map` with `reference`; write the HTML report `output` and/or `output_json`.

    `reference_crs` (REFERENCE_CRS): the CRS of a reference that declares none (else it is refused).
    Polygon references are scored per field too (majority class of each polygon's pixels). With
    `reference_is_sample` (the reference is a probability sample: simple or stratified random by map class)
    the report adds the area-adjusted estimates of Olofsson et al. (2014) (`area_adjusted`); the sample
    units are the reference's pixels, or its fields when it is polygons.

    Returns the figures (overall accuracy, mean IoU, mean F1, kappa, pixels) and the paths.
    """
    progress = progress or silent()
    class_map = Path(class_map)
    for path, what in ((output, "OUTPUT"), (output_json, "OUTPUT_JSON")):
        if path and Path(path).resolve() in (class_map.resolve(), Path(str(reference)).resolve()):
            raise CropsError(f"{what} {path} would overwrite an input; choose another file name.")
    comparison = _Comparison.open(class_map, reference, label_field, reference_class_map, model, progress,
                                  reference_crs)
    acc, labelled_pixels = comparison.count(progress.sub(0.1, 0.95))
    if acc.matrix.sum() == 0:
        reason = ("the reference gives no class on the class map's extent" if labelled_pixels == 0
                  else f"the class map is nodata at all {labelled_pixels} labelled pixels")
        raise CropsError(
            f"No pixel to evaluate: {reason}. Check that the reference ({comparison.labels.description}) covers "
            "the class map and that CLASS_MAP names its codes."
        )
    summary = summarise(acc.matrix, [c.name for c in comparison.table])
    document = comparison.document(reference, label_field, summary, labelled_pixels)
    result: dict[str, Any] = {
        "overall_accuracy": summary["overall_accuracy"],
        "mean_iou": summary["mean_iou"],
        "mean_f1": summary["mean_f1"],
        "kappa": summary["kappa"],
        "pixels": summary["pixels"],
    }
    document["mapped_area"] = comparison.mapped_areas()
    fields = comparison.field_scores()
    if fields is not None:
        document["per_field"] = fields[0]
        result["field_accuracy"] = fields[0]["overall_accuracy"]
        progress.log(f"{fields[0]['fields']} fields: overall accuracy {pct(fields[0]['overall_accuracy'])} "
                     "(each field's majority class against its reference class).")
    if reference_is_sample:
        sample = (fields[1] if fields is not None else acc.matrix).T  # rows = map class, columns = reference
        area = comparison.pixel_area_ha()
        estimate = area_adjusted(sample, comparison.mapped, area or 1.0, [c.name for c in comparison.table])
        estimate["unit"] = "ha" if area else "pixels"
        estimate["sample_unit"] = "field" if fields is not None else "pixel"
        for name in estimate["strata_without_sample"]:
            progress.warn(f"Class {name!r} is mapped but no reference sample unit lies in it: the area-adjusted "
                          "estimates leave out its share of the map (sample every mapped class).")
        document["area_adjusted"] = estimate
        result["area_adjusted_accuracy"] = estimate["overall_accuracy"]
    if output_json:
        with atomic_path(output_json) as tmp:
            tmp.write_text(json.dumps(document, indent=2), encoding="utf-8")
        result["output_json"] = str(output_json)
    if output:
        with atomic_path(output) as tmp:
            tmp.write_text(render_html(document, comparison.errors), encoding="utf-8")
        result["output"] = str(output)
    progress.log(
        f"{summary['pixels']} pixels: overall accuracy {pct(summary['overall_accuracy'])}, mean IoU "
        f"{num(summary['mean_iou'])}, kappa {num(summary['kappa'])}."
    )
    for name in ("overall_accuracy", "mean_iou", "mean_f1", "kappa"):
        if summary[name] is not None:
            progress.metric(name, summary[name])
    progress(1.0, "Evaluation written")
    return result


@dataclass
class _Comparison:
    """A class map and its reference on the map's grid, and the lookups from both to the table's classes.

    The table lists the prediction's classes, then reference classes that match none of them.
    """

    class_map: Path
    ds: gdal.Dataset  # keeps `band` valid
    band: gdal.Band
    grid: Grid
    predicted: PredictionClasses
    labels: LabelSource
    table: list[CropClass]
    lut: np.ndarray  # reference class value -> table index
    matching: list[dict[str, Any]]
    value_to_index: np.ndarray  # class-map value -> table index, -1 for no class
    errors: np.ndarray | None = None  # after `count`: the thumbnail of correct / wrong / unlabelled pixels
    mapped: np.ndarray | None = None  # after `count`: the map's pixels per table class (all valid pixels)
    field_counts: np.ndarray | None = None  # after `count`, polygon references: (fields, classes) evaluated pixels

    @classmethod
    def open(cls, class_map: Path, reference: str | os.PathLike[str], label_field: str | None,
             reference_class_map: str | None, model: str | os.PathLike[str] | None,
             progress: Progress, reference_crs: str | None = None) -> _Comparison:
        """Open both, find the classes of each and match them; raises CropsError when nothing matches."""
        ds = open_raster(class_map)
        grid = Grid.of(ds)
        band = ds.GetRasterBand(1)
        if band.DataType not in (gdal.GDT_Byte, gdal.GDT_UInt16, gdal.GDT_Int16, gdal.GDT_UInt32, gdal.GDT_Int32):
            raise CropsError(
                f"{class_map} holds {gdal.GetDataTypeName(band.DataType)} values: a class map holds integer class "
                "values (the output of infer)."
            )
        predicted = prediction_classes(class_map, ds, model, progress)
        progress.log(f"Classes of the class map from {predicted.source}: "
                     + ", ".join(f"{c.value}={c.name}" for c in predicted.classes))
        labels = _open_reference(reference, grid, label_field, reference_class_map, predicted, progress.sub(0.0, 0.1),
                                 reference_crs)
        table, lut, matching = match_classes(list(labels.classes), predicted.classes)
        if all(m["matched_by"] == "none" for m in matching):
            raise CropsError(
                f"No reference class ({', '.join(c.name for c in labels.classes)}) matches a class of the class map "
                f"({', '.join(c.name for c in predicted.classes)}): name the reference classes like the model's in "
                "CLASS_MAP (e.g. '1200=maize; *=other; 0=ignore')."
            )
        for m in matching:
            if m["matched_by"] == "none":
                progress.warn(f"Reference class {m['reference']!r} is not a class of the class map: it counts as "
                              "never predicted.")
        value_to_index = np.full(65536, -1, dtype=np.int64)
        for k, c in enumerate(predicted.classes):
            if not 0 <= c.value < 65536:
                raise CropsError(f"Class value {c.value} of {c.name!r} cannot be in a class map.")
            value_to_index[c.value] = k
        return cls(class_map, ds, band, grid, predicted, labels, table, lut, matching, value_to_index)

    def count(self, progress: Progress) -> tuple[ConfusionAccumulator, int]:
        """The confusion matrix over labelled, valid pixels, window by window; and the labelled pixels.
        `self.errors` becomes a thumbnail (every `step`-th pixel) of correct / wrong / unlabelled."""
        from .plots import CORRECT, UNLABELLED, WRONG

        band, grid = self.band, self.grid
        nodata = band.GetNoDataValue()
        flags = band.GetMaskFlags()
        needs_mask = not (flags & gdal.GMF_ALL_VALID or flags & gdal.GMF_NODATA)
        acc = ConfusionAccumulator(len(self.table))
        rows = max(1, WINDOW_PIXELS // max(grid.width, 1))
        block_rows = band.GetBlockSize()[1]
        if block_rows > 1 and rows > block_rows:
            rows -= rows % block_rows
        labelled_pixels = 0
        k = len(self.table)
        self.mapped = np.zeros(k, np.int64)
        field_rows = getattr(self.labels, "field_ids", None)
        self.field_counts = np.zeros((len(field_rows), k), np.int64) if field_rows is not None else None
        step = max(1, -(-max(grid.width, grid.height) // THUMBNAIL_SIDE))
        self.errors = np.full((-(-grid.height // step), -(-grid.width // step)), UNLABELLED, np.uint8)
        for yoff in range(0, grid.height, rows):
            h = min(rows, grid.height - yoff)
            window = (0, yoff, grid.width, h)
            try:
                values = band.ReadAsArray(*window)
                valid = _valid_mask(band, values, nodata, needs_mask, window)
            except RuntimeError as exc:
                raise unreadable(self.class_map, exc) from None
            ref = self.lut[self.labels.read(*window)]
            labelled = ref != IGNORE_INDEX
            labelled_pixels += int(labelled.sum())
            keep = labelled & valid
            if valid.any():  # the map's area per class, over all its pixels (values of no class: not counted)
                mapped = values[valid].astype(np.int64)
                mapped = self.value_to_index[mapped[(mapped >= 0) & (mapped < 65536)]]
                self.mapped += np.bincount(mapped[mapped >= 0], minlength=k)
            pred = values[keep].astype(np.int64)
            if pred.size:
                index = self._table_index(pred, nodata)
                acc.update(index, ref[keep])
                if self.field_counts is not None:
                    rows_of = self.labels.read_fields(*window)[keep].astype(np.int64) - 1
                    inside = rows_of >= 0
                    self.field_counts += np.bincount(rows_of[inside] * k + index[inside],
                                                     minlength=self.field_counts.size).reshape(self.field_counts.shape)
                code = np.full(values.shape, UNLABELLED, np.uint8)
                code[keep] = np.where(index == ref[keep], CORRECT, WRONG)
                first = -yoff % step  # the window's first row on the thumbnail's row lattice
                self.errors[(yoff + first) // step:(yoff + h + step - 1) // step] = code[first::step, ::step]
            progress((yoff + h) / grid.height, f"Rows {yoff + h} of {grid.height}")
        return acc, labelled_pixels

    def _table_index(self, pred: np.ndarray, nodata: float | None) -> np.ndarray:
        inside = (pred >= 0) & (pred < 65536)
        index = np.where(inside, self.value_to_index[np.clip(pred, 0, 65535)], -1)
        if (index < 0).any():
            bad = sorted(set(pred[index < 0].tolist()))[:10]
            raise CropsError(
                f"The class map {self.class_map} holds values {bad} that are no class of {self.predicted.source} "
                f"and not its nodata ({nodata}): give MODEL, the checkpoint that made the map, or set the nodata "
                "value."
            )
        return index

    def field_scores(self) -> tuple[dict[str, Any], np.ndarray] | None:
        """Scores per field (polygon references): each field's majority class against its reference class.

        Returns the field-level summary (the metrics of the fields' confusion matrix, and every field with its
        reference, majority class, the majority's share and pixel count) and that matrix; None for rasters."""
        if self.field_counts is None:
            return None
        from .metrics import confusion_matrix

        counts, k = self.field_counts, len(self.table)
        pixels = counts.sum(axis=1)
        reference = self.lut[np.asarray(self.labels.field_classes, dtype=np.int64)].astype(np.int64)
        labelled = reference != IGNORE_INDEX
        evaluated = labelled & (pixels > 0)
        winner = np.argmax(counts, axis=1)  # ties: the first class, as crops:field_classes decides
        cm = confusion_matrix(winner[evaluated], reference[evaluated], k, ignore_index=None)
        summary = summarise(cm, [c.name for c in self.table])
        summary.pop("pixels")
        fields = [
            {"fid": int(fid), "reference": self.table[int(reference[r])].name,
             "majority": self.table[int(winner[r])].name,
             "majority_share": float(counts[r, winner[r]] / pixels[r]), "pixels": int(pixels[r]),
             "correct": bool(winner[r] == reference[r])}
            for r, fid in enumerate(self.labels.field_ids) if evaluated[r]
        ]
        return {"unit": "field (majority of its evaluated pixels)", "fields": int(evaluated.sum()),
                "fields_without_pixels": int((labelled & (pixels == 0)).sum()),
                **{key: value for key, value in summary.items() if key != "classes"},
                "per_class": summary["classes"], "field_list": fields}, cm

    def mapped_areas(self) -> list[dict[str, Any]]:
        """The map's area per class over all its pixels (not only the evaluated ones)."""
        area = self.pixel_area_ha()
        assert self.mapped is not None
        return [{"name": c.name, "pixels": int(n), "area_ha": None if area is None else float(n * area),
                 "share": float(n / max(int(self.mapped.sum()), 1))}
                for c, n in zip(self.table, self.mapped, strict=True)]

    def pixel_area_ha(self) -> float | None:
        """One pixel's area in hectares (None when the map's CRS is not projected)."""
        from osgeo import osr

        srs = osr.SpatialReference()
        if not self.grid.crs_wkt or srs.ImportFromWkt(self.grid.crs_wkt) != 0 or not srs.IsProjected():
            return None
        dx, dy = self.grid.pixel_size
        return abs(dx * dy) * srs.GetLinearUnits() ** 2 / 1e4

    def document(self, reference: str | os.PathLike[str], label_field: str | None, summary: dict[str, Any],
                 labelled_pixels: int) -> dict[str, Any]:
        """The JSON report (also what the HTML page shows)."""
        return {
            "created_by": f"crops_engine {__version__}",
            "class_map": str(self.class_map),
            "pixel_area_ha": self.pixel_area_ha(),
            "reference": str(reference),
            "label_field": label_field or None,
            "reference_class_map": self.labels.class_map.text,
            "classes_from": self.predicted.source,
            "matching": self.matching,
            "labelled_pixels": labelled_pixels,
            "nodata_pixels_skipped": labelled_pixels - int(summary["pixels"]),
            **{k: v for k, v in summary.items() if k != "classes"},
            "per_class": [
                {"class_value": c.value if k < len(self.predicted.classes) else None, "code": c.code,
                 "colour": c.colour, **metrics}
                for k, (c, metrics) in enumerate(zip(self.table, summary["classes"], strict=True))
            ],
        }

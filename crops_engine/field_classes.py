"""Field-level results: each parcel's crop from a class map, with how sure the map is, and areas per crop.

What agronomists act on is a crop per field. Per parcel (a polygon, any CRS) this counts the class
map's pixels whose centre lies inside it and reports the winning class (RULE `majority`: the most
pixels; `mean_probability`: the highest mean probability, from the PROBABILITIES raster of infer),
its name, the share of the field's pixels it holds, the mean confidence (CONFIDENCE raster, or the
winning class's mean probability), the pixel count and the field's area in hectares (in the map's
CRS when it is projected, else in an equal-area CRS). The map is read in strips of rows, each
strip's parcels rasterised on the fly, so memory depends on the width and the number of parcels,
not on the raster's height. Output: a GeoPackage (the parcels' own CRS and attributes, plus the
results) styled by class with the class map's colours (`.qml` beside it).
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from osgeo import gdal, ogr, osr

from .atomic import atomic_path
from .classes import CropClass
from .errors import CropsError
from .progress import Progress, silent
from .raster import Grid, open_raster
from .styles import write_field_classes_style
from .vector import LayerSpec

gdal.UseExceptions()
ogr.UseExceptions()

RULES = ("majority", "mean_probability")
STRIP_PIXELS = 1 << 22  # pixels per strip of rows
EQUAL_AREA_EPSG = 6933  # WGS 84 / NSIDC EASE-Grid 2.0 Global: areas of fields mapped in degrees
RESULT_FIELDS = ("class_value", "class_name", "class_share", "confidence", "pixels", "area_ha")
_POLYGONS = {ogr.wkbPolygon, ogr.wkbMultiPolygon, ogr.wkbCurvePolygon, ogr.wkbMultiSurface}


@dataclass
class FieldTotals:
    """Per parcel (row) and class (column): pixel counts, confidence and probability sums."""

    counts: np.ndarray  # (n, K) int64
    confidence: np.ndarray | None  # (n,) float64 sum over the field's pixels
    probabilities: np.ndarray | None  # (n, K) float64 sums

    @classmethod
    def empty(cls, n: int, k: int, confidence: bool, probabilities: bool) -> FieldTotals:
        return cls(np.zeros((n, k), np.int64), np.zeros(n) if confidence else None,
                   np.zeros((n, k)) if probabilities else None)

    def add(self, index: np.ndarray, klass: np.ndarray, conf: np.ndarray | None, probs: np.ndarray | None) -> None:
        """Add pixels: `index` the parcel row, `klass` the class column, both 1-D over the same pixels."""
        n, k = self.counts.shape
        self.counts += np.bincount(index * k + klass, minlength=n * k).reshape(n, k)
        if self.confidence is not None and conf is not None:
            self.confidence += np.bincount(index, weights=conf, minlength=n)
        if self.probabilities is not None and probs is not None:
            for c in range(k):
                self.probabilities[:, c] += np.bincount(index, weights=probs[c], minlength=n)


def decide(totals: FieldTotals, rule: str) -> dict[str, np.ndarray]:
    """Per parcel: winning class column (-1: no pixel), its share of the pixels, the mean confidence."""
    pixels = totals.counts.sum(axis=1)
    has = pixels > 0
    if rule == "mean_probability":
        if totals.probabilities is None:
            raise CropsError("RULE mean_probability needs PROBABILITIES (the class probabilities raster of infer).")
        winner = np.argmax(totals.probabilities, axis=1)
    else:
        winner = np.argmax(totals.counts, axis=1)  # ties: the first class
    share = np.where(has, totals.counts[np.arange(len(winner)), winner] / np.maximum(pixels, 1), np.nan)
    if totals.confidence is not None:
        confidence = np.where(has, totals.confidence / np.maximum(pixels, 1), np.nan)
    elif totals.probabilities is not None:
        confidence = np.where(has, totals.probabilities[np.arange(len(winner)), winner] / np.maximum(pixels, 1),
                              np.nan)
    else:
        confidence = np.full(len(winner), np.nan)
    return {"winner": np.where(has, winner, -1), "share": share, "confidence": confidence, "pixels": pixels}


def _srs(wkt: str) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


class Parcels:
    """The parcel layer, checked, and its polygons reprojected once to the map's grid (/vsimem FlatGeobuf,
    attribute `crops_row` = the parcel's row in the results)."""

    def __init__(self, spec: str, grid: Grid) -> None:
        layer_spec = LayerSpec.parse(spec)
        if not layer_spec.path.startswith("/vsi") and not os.path.exists(layer_spec.path):
            raise CropsError(f"PARCELS {layer_spec.path} does not exist.")
        try:
            self.ds = gdal.OpenEx(layer_spec.path, gdal.OF_VECTOR)
        except RuntimeError as exc:
            raise CropsError(f"Cannot read the parcels {layer_spec.path}: {exc}.") from None
        self.layer = layer_spec.layer(self.ds) if self.ds is not None else None
        if self.layer is None:
            raise CropsError(f"{layer_spec.path} holds no layer {layer_spec.which}: PARCELS must be a polygon layer.")
        self.spec = spec
        srs = self.layer.GetSpatialRef()
        if srs is None or srs.IsLocal() or "undefined" in (srs.GetName() or "").lower():
            raise CropsError(f"The parcels {spec} have no CRS: assign one (Layer Properties > Source in QGIS, or "
                             "ogr2ogr -a_srs) so they can be placed on the class map.")
        self.srs = srs.Clone()
        self.srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self.fids: list[int] = []
        self.path = f"/vsimem/crops_parcels_{uuid.uuid4().hex}.fgb"
        self.areas = self._reproject(grid)
        if not self.fids:
            raise CropsError(f"The parcels {spec} hold no polygon.")

    def _reproject(self, grid: Grid) -> list[float]:
        target = _srs(grid.crs_wkt) if grid.crs_wkt else self.srs
        to_map = osr.CoordinateTransformation(self.srs, target)
        area_srs = target if target.IsProjected() else _srs(osr_wkt(EQUAL_AREA_EPSG))
        to_area = osr.CoordinateTransformation(self.srs, area_srs)
        out = ogr.GetDriverByName("FlatGeobuf").CreateDataSource(self.path)
        layer = out.CreateLayer("parcels", target, ogr.wkbMultiPolygon)
        layer.CreateField(ogr.FieldDefn("crops_row", ogr.OFTInteger))
        areas = []
        for feature in self.layer:
            geom = feature.GetGeometryRef()
            if geom is None or geom.IsEmpty():
                continue
            if ogr.GT_Flatten(geom.GetGeometryType()) not in _POLYGONS:
                raise CropsError(f"The parcels {self.spec} hold {geom.GetGeometryName()} features; PARCELS must be "
                                 "polygons.")
            row = len(self.fids)
            self.fids.append(feature.GetFID())
            area_geom = geom.Clone()
            area_geom.Transform(to_area)
            areas.append(area_geom.GetArea() / 1e4)
            mapped = ogr.ForceToMultiPolygon(geom.Clone())
            mapped.Transform(to_map)
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("crops_row", row + 1)  # 0 is "no parcel" in the rasterised strip
            f.SetGeometry(mapped)
            layer.CreateFeature(f)
        self.layer.ResetReading()
        out = None  # noqa: F841 - closing writes the file
        self.mapped = gdal.OpenEx(self.path, gdal.OF_VECTOR)
        return areas

    def rows_in(self, grid: Grid, win: tuple[int, int, int, int]) -> np.ndarray:
        """Per pixel of the window: the parcel row + 1 whose polygon holds its centre (0: none)."""
        xoff, yoff, xs, ys = win
        wgrid = grid.window(xoff, yoff, xs, ys)
        mem = gdal.GetDriverByName("MEM").Create("", xs, ys, 1, gdal.GDT_Int32)
        mem.SetGeoTransform(wgrid.geotransform)
        if grid.crs_wkt:
            mem.SetProjection(grid.crs_wkt)
        layer = self.mapped.GetLayer(0)
        xmin, ymin, xmax, ymax = wgrid.bounds
        layer.SetSpatialFilterRect(xmin, ymin, xmax, ymax)
        gdal.RasterizeLayer(mem, [1], layer, options=["ATTRIBUTE=crops_row"])
        layer.SetSpatialFilter(None)
        return mem.ReadAsArray()

    def close(self) -> None:
        self.mapped = None
        gdal.Unlink(self.path)


def osr_wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def _same_grid(path: str, ds: gdal.Dataset, grid: Grid, name: str, bands: int | None) -> None:
    if not Grid.of(ds).same_as(grid):
        raise CropsError(f"{name} {path} is not on the class map's grid; give the {name.lower()} raster infer wrote "
                         "with this class map.")
    if bands is not None and ds.RasterCount != bands:
        raise CropsError(f"{name} {path} has {ds.RasterCount} bands but the class map has {bands} classes; give "
                         "the probabilities infer wrote with this class map.")


def _strips(grid: Grid) -> list[tuple[int, int, int, int]]:
    rows = max(1, STRIP_PIXELS // max(grid.width, 1))
    return [(0, y, grid.width, min(rows, grid.height - y)) for y in range(0, grid.height, rows)]


def field_classes(
    parcels: str,
    class_map: str | os.PathLike[str],
    output: str | os.PathLike[str],
    rule: str = "majority",
    confidence: str | os.PathLike[str] | None = None,
    probabilities: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the per-field GeoPackage `output` (see the module doc); returns counts and areas per class."""
    from .evaluate import prediction_classes

    progress = progress or silent()
    if rule not in RULES:
        raise CropsError(f"RULE {rule!r} is not one of {', '.join(RULES)}.")
    output = Path(output)
    if output.suffix.lower() != ".gpkg":
        raise CropsError(f"OUTPUT {output} must be a GeoPackage (.gpkg).")
    ds = open_raster(class_map)
    grid = Grid.of(ds)
    classes = prediction_classes(class_map, ds, model, progress).classes
    band = ds.GetRasterBand(1)
    nodata = band.GetNoDataValue()
    lookup = np.full(65536, -1, np.int64)  # class map value -> class column
    for column, c in enumerate(classes):
        lookup[int(c.value)] = column
    conf_ds = open_raster(confidence) if confidence else None
    prob_ds = open_raster(probabilities) if probabilities else None
    if conf_ds is not None:
        _same_grid(str(confidence), conf_ds, grid, "CONFIDENCE", None)
    if prob_ds is not None:
        _same_grid(str(probabilities), prob_ds, grid, "PROBABILITIES", len(classes))
    if rule == "mean_probability" and prob_ds is None:
        raise CropsError("RULE mean_probability needs PROBABILITIES (the class probabilities raster of infer).")
    fields = Parcels(parcels, grid)
    try:
        totals = FieldTotals.empty(len(fields.fids), len(classes), conf_ds is not None, prob_ds is not None)
        map_pixels = np.zeros(len(classes), np.int64)
        strips = _strips(grid)
        for i, win in enumerate(strips):
            progress(i / len(strips), f"Counting the fields' pixels, rows {win[1]}..{win[1] + win[3]}")
            values = band.ReadAsArray(*win).astype(np.int64)
            column = lookup[np.clip(values, 0, 65535)]
            valid = column >= 0
            if nodata is not None:
                valid &= values != nodata
            map_pixels += np.bincount(column[valid], minlength=len(classes))
            rows = fields.rows_in(grid, win)
            inside = valid & (rows > 0)
            if not inside.any():
                continue
            conf = conf_ds.GetRasterBand(1).ReadAsArray(*win)[inside].astype(np.float64) if conf_ds else None
            probs = (np.stack([prob_ds.GetRasterBand(b + 1).ReadAsArray(*win)[inside] for b in range(len(classes))])
                     .astype(np.float64) if prob_ds else None)
            totals.add(rows[inside] - 1, column[inside], conf, probs)
        decision = decide(totals, rule)
        progress(0.95, "Writing the fields")
        _write_fields(fields, decision, classes, output)
    finally:
        fields.close()
    return _summary(output, fields, decision, classes, map_pixels, grid, progress)


def _write_fields(fields: Parcels, decision: dict[str, np.ndarray], classes: list[CropClass], output: Path) -> None:
    """The parcels (own CRS, own attributes) plus the results, as a GeoPackage written atomically."""
    with atomic_path(output) as tmp:
        out = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
        src_defn = fields.layer.GetLayerDefn()
        layer = out.CreateLayer("field_classes", fields.srs, ogr.wkbMultiPolygon)
        own = [src_defn.GetFieldDefn(i) for i in range(src_defn.GetFieldCount())]
        taken = {d.GetName().lower() for d in own}
        for d in own:
            layer.CreateField(d)
        kinds = {"class_value": ogr.OFTInteger, "class_name": ogr.OFTString, "class_share": ogr.OFTReal,
                 "confidence": ogr.OFTReal, "pixels": ogr.OFTInteger64, "area_ha": ogr.OFTReal}
        names = {k: (k if k not in taken else f"crops_{k}") for k in RESULT_FIELDS}
        for key in RESULT_FIELDS:
            layer.CreateField(ogr.FieldDefn(names[key], kinds[key]))
        index = {fid: row for row, fid in enumerate(fields.fids)}
        layer.StartTransaction()
        for feature in fields.layer:
            row = index.get(feature.GetFID())
            if row is None:
                continue
            f = ogr.Feature(layer.GetLayerDefn())
            for i, d in enumerate(own):
                f.SetField(d.GetName(), feature.GetField(i))
            f.SetGeometry(ogr.ForceToMultiPolygon(feature.GetGeometryRef().Clone()))
            winner = int(decision["winner"][row])
            if winner >= 0:
                f.SetField(names["class_value"], int(classes[winner].value))
                f.SetField(names["class_name"], classes[winner].name)
                f.SetField(names["class_share"], round(float(decision["share"][row]), 6))
                if math.isfinite(decision["confidence"][row]):
                    f.SetField(names["confidence"], round(float(decision["confidence"][row]), 6))
            f.SetField(names["pixels"], int(decision["pixels"][row]))
            f.SetField(names["area_ha"], round(fields.areas[row], 6))
            layer.CreateFeature(f)
        layer.CommitTransaction()
        fields.layer.ResetReading()
        out = None  # noqa: F841 - closing writes the file
        write_field_classes_style(tmp, classes, names["class_name"])  # moves with the GeoPackage


def _summary(output: Path, fields: Parcels, decision: dict[str, np.ndarray], classes: list[CropClass],
             map_pixels: np.ndarray, grid: Grid, progress: Progress) -> dict[str, Any]:
    winner = decision["winner"]
    empty = int((winner < 0).sum())
    areas = np.asarray(fields.areas)
    by_class = {c.name: round(float(areas[winner == k].sum()), 4) for k, c in enumerate(classes)}
    dx, dy = grid.pixel_size
    projected = bool(grid.crs_wkt) and _srs(grid.crs_wkt).IsProjected()
    map_area = ({c.name: round(float(map_pixels[k] * abs(dx * dy) / 1e4), 4) for k, c in enumerate(classes)}
                if projected else None)
    lines = [f"{name}: {ha:.2f} ha in fields" + (f", {map_area[name]:.2f} ha mapped" if map_area else "")
             for name, ha in by_class.items()]
    progress.log("Area per class:\n" + "\n".join(lines))
    if empty:
        progress.warn(f"{empty} of {len(winner)} parcels hold no mapped pixel (outside the map, smaller than a "
                      "pixel, or all nodata): their class is left empty.")
    progress(1.0, "Done")
    return {"output": str(output), "fields": len(winner), "fields_without_pixels": empty,
            "area_ha_by_class": by_class, "mapped_area_ha_by_class": map_area}

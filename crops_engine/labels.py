"""Training labels on the composite's grid, from a code raster or a polygon layer, via a CLASS_MAP.

A label source reads class values (uint8, IGNORE_INDEX = 255 where no class) window by window
on the composite's grid: a code raster is warped onto it (nearest) when it lies on another grid;
polygons are reprojected once and rasterised per window. Codes become classes through a
`class_map.ClassMap` (the CLASS_MAP text, or the codes themselves when none is given). Pixels
without a class, and the label raster's nodata pixels, are ignore.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from .class_map import ClassMap, Code, as_code, class_map_from_codes, parse_class_map, sorted_codes
from .classes import CropClass
from .errors import CropsError
from .extent import parse_crs
from .metrics import IGNORE_INDEX
from .progress import Progress, silent
from .raster import Grid, iter_windows, open_raster, unreadable
from .vector import LayerSpec, declared_srs

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()

CLASS_FIELD = "crops_class"
FIELD_ROW = "crops_field"  # a polygon's row + 1 among the fields read (per-field scores)


def classes_csv_beside(labels: str | os.PathLike[str]) -> Path | None:
    """`classes.csv` in the labels' folder, when there is one."""
    path = Path(LayerSpec.parse(str(labels)).path).parent / "classes.csv"
    return path if path.is_file() else None


class LabelSource:
    """Class values (uint8, IGNORE_INDEX = no class) on the composite's grid, read window by window."""

    classes: list[CropClass]
    class_map: ClassMap
    description: str

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        raise NotImplementedError


class RasterLabels(LabelSource):
    """Codes from band 1 of a raster, warped (nearest) onto the composite's grid when needed."""

    def __init__(
        self,
        path: str,
        grid: Grid,
        window: tuple[int, int, int, int],
        class_map: ClassMap | None,
        progress: Progress,
        labels_crs: str | None = None,
        crs_param: str = "LABELS_CRS",
    ) -> None:
        self.path = path
        src = open_raster(path)
        self._alpha = False
        if not src.GetProjection() and labels_crs:
            self._unassigned = src  # the VRT reads from it
            src = gdal.Translate("", src, format="VRT", outputSRS=parse_crs(labels_crs, crs_param))
            progress.log(f"Label raster {path} has no CRS: taking it to be in {crs_param} {labels_crs}.")
        elif labels_crs:
            progress.warn(f"{crs_param} {labels_crs} is not used: the label raster {path} has its own CRS.")
        if Grid.of(src).same_as(grid):
            self._ds = src
        else:
            if not src.GetProjection():
                raise CropsError(
                    f"Label raster {path} has no CRS, so it cannot be placed on the composite: give {crs_param} "
                    "(the CRS its coordinates are in, e.g. EPSG:32631) or assign one (gdal_edit.py -a_srs EPSG:32631)."
                )
            progress.warn(f"Label raster {path} is on another grid than the composite; warping it (nearest) onto it.")
            self._ds = gdal.Warp(
                "", src, format="VRT", outputBounds=grid.bounds, width=grid.width, height=grid.height,
                dstSRS=grid.crs_wkt, resampleAlg="near", dstAlpha=True,
            )
            self._src = src  # the VRT reads from it
            self._alpha = True
        band = self._ds.GetRasterBand(1)
        self._nodata = band.GetNoDataValue()
        codes = self._codes_in(window, progress)
        self.description = f"raster {path}"
        given = class_map is not None
        if class_map is None:
            class_map = class_map_from_codes(codes, classes_csv_beside(path))
        self.class_map = class_map
        self.classes = class_map.classes
        seen = codes + ([as_code(self._nodata)] if self._nodata is not None and self._nodata_seen else [])
        _check_matches(class_map, codes, self.description, progress, warn_unmatched=given, seen=seen)

    def _codes_in(self, window: tuple[int, int, int, int], progress: Progress) -> list[Code]:
        xoff, yoff, xsize, ysize = window
        found: set[Code | None] = set()
        self._nodata_seen = False
        rows = max(1, 4_000_000 // max(xsize, 1))
        for _, y, _, h in iter_windows(xsize, ysize, xsize, rows):
            progress.check()
            codes, keep = self._raw(xoff, yoff + y, xsize, h)
            self._nodata_seen = self._nodata_seen or not keep.all()
            found.update(as_code(v) for v in np.unique(codes.reshape(-1)[keep.reshape(-1)]).tolist())
        return sorted_codes(found)

    def _raw(self, xoff: int, yoff: int, xsize: int, ysize: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            codes = self._ds.GetRasterBand(1).ReadAsArray(xoff, yoff, xsize, ysize)
            alpha = self._ds.GetRasterBand(2).ReadAsArray(xoff, yoff, xsize, ysize) if self._alpha else None
        except RuntimeError as exc:
            raise unreadable(self.path, f"label raster: {exc}") from None
        keep = np.ones(codes.shape, dtype=bool)
        if self._nodata is not None and not math.isnan(self._nodata):
            keep &= codes != self._nodata
        if codes.dtype.kind == "f":
            keep &= np.isfinite(codes)
        if alpha is not None:
            keep &= alpha > 0
        return codes, keep

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        codes, keep = self._raw(xoff, yoff, xsize, ysize)
        values = self.class_map.lookup(codes)
        np.copyto(values, np.uint8(IGNORE_INDEX), where=~keep)  # nodata, NaN, outside a warped raster
        return values


class PolygonLabels(LabelSource):
    """Polygons with a class attribute, reprojected to the composite's CRS and rasterised per window.

    GDAL's rule: a pixel takes a polygon's class when its centre lies inside (all-touched off);
    where polygons overlap, the later feature in the layer wins.
    """

    def __init__(
        self,
        path: str,
        grid: Grid,
        window: tuple[int, int, int, int],
        label_field: str | None,
        class_map: ClassMap | None,
        progress: Progress,
        labels_crs: str | None = None,
        crs_param: str = "LABELS_CRS",
    ) -> None:
        spec = LayerSpec.parse(path)
        self.labels_crs = labels_crs
        self.crs_param = crs_param
        file = spec.path
        self.path = path
        self.grid = grid
        try:
            src = gdal.OpenEx(file, gdal.OF_VECTOR)
        except RuntimeError as exc:
            raise CropsError(f"Cannot read label layer {file}: {exc}. Is it complete (a copy cut short?): copy or "
                             "re-create it, then run again.") from None
        if src is None or src.GetLayerCount() == 0:
            raise CropsError(f"{file} is neither a raster nor a vector layer GDAL can read.")
        layer = spec.layer(src)
        if layer is None:
            names = [src.GetLayer(i).GetName() for i in range(src.GetLayerCount())]
            raise CropsError(f"{file} has no layer {spec.which}; its layers are {', '.join(names)}.")
        fields = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
        if not label_field:
            raise CropsError(
                f"{path} is a vector layer: give LABEL_FIELD, the attribute holding each polygon's class "
                f"(fields: {', '.join(fields) or 'none'})."
            )
        if label_field not in fields:
            raise CropsError(f"{path} has no field {label_field!r}; its fields are {', '.join(fields) or 'none'}.")
        self.description = f"layer {path}, field {label_field}"
        features = self._read(layer, label_field, window, progress)
        codes = sorted_codes(c for c, _ in features)
        given = class_map is not None
        if class_map is None:
            class_map = class_map_from_codes(codes, classes_csv_beside(file))
        self.class_map = class_map
        self.classes = class_map.classes
        _check_matches(class_map, codes, self.description, progress, warn_unmatched=given)
        self._mem = ogr.GetDriverByName("Memory").CreateDataSource("labels")
        srs = osr.SpatialReference()
        srs.ImportFromWkt(grid.crs_wkt)
        self._layer = self._mem.CreateLayer("labels", srs, ogr.wkbUnknown)
        self._layer.CreateField(ogr.FieldDefn(CLASS_FIELD, ogr.OFTInteger))
        self._layer.CreateField(ogr.FieldDefn(FIELD_ROW, ogr.OFTInteger))
        defn = self._layer.GetLayerDefn()
        # Per polygon (a field): its feature id and class value, for scores per field (`read_fields`).
        self.field_classes = [class_map.value_of(code) for code, _ in features]
        for row, (code, geom) in enumerate(features):  # layer order kept: later polygons win where they overlap
            feat = ogr.Feature(defn)
            feat.SetField(CLASS_FIELD, class_map.value_of(code))
            feat.SetField(FIELD_ROW, row + 1)
            feat.SetGeometry(geom)
            self._layer.CreateFeature(feat)

    def _read(
        self, layer: ogr.Layer, field: str, window: tuple[int, int, int, int], progress: Progress
    ) -> list[tuple[Code | None, ogr.Geometry]]:
        """Features whose envelope meets the window, geometry in the composite's CRS."""
        grid_srs = osr.SpatialReference()
        grid_srs.ImportFromWkt(self.grid.crs_wkt)
        grid_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        layer_srs = declared_srs(layer)
        if layer_srs is not None and self.labels_crs:
            progress.warn(f"{self.crs_param} {self.labels_crs} is not used: the layer {self.path} has its own CRS.")
        elif layer_srs is None and self.labels_crs:
            layer_srs = osr.SpatialReference()
            layer_srs.ImportFromWkt(parse_crs(self.labels_crs, self.crs_param))
            progress.log(f"{self.path} has no CRS: taking it to be in {self.crs_param} {self.labels_crs}.")
        elif layer_srs is None:
            raise CropsError(
                f"The label layer {self.path} has no CRS, so where its polygons lie is unknown: give {self.crs_param} "
                "(the CRS its coordinates are in, e.g. EPSG:32631), or assign one (QGIS: Layer Properties > Source; "
                "ogr2ogr -a_srs EPSG:32631)."
            )
        transform = None
        xmin, ymin, xmax, ymax = self.grid.window(*window).bounds
        filter_rect: tuple[float, ...] | None = (xmin, ymin, xmax, ymax)
        layer_srs = layer_srs.Clone()
        layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not layer_srs.IsSame(grid_srs):
            progress.log(f"Reprojecting {self.path} to the composite's CRS.")
            transform = osr.CoordinateTransformation(layer_srs, grid_srs)
            try:
                filter_rect = osr.CoordinateTransformation(grid_srs, layer_srs).TransformBounds(
                    xmin, ymin, xmax, ymax, 21
                )
            except RuntimeError:
                filter_rect = None  # the window has no bounds there: test every feature
        if filter_rect is not None:
            layer.SetSpatialFilterRect(*filter_rect)
        out = []
        self.field_ids: list[int] = []
        layer.ResetReading()
        for n, feat in enumerate(layer):
            if n % 1000 == 0:
                progress.check()
            geom = feat.GetGeometryRef()
            if geom is None or geom.IsEmpty():
                continue
            geom = geom.Clone()
            if transform is not None:
                try:
                    geom.Transform(transform)
                except RuntimeError as exc:
                    raise CropsError(f"Cannot reproject feature {feat.GetFID()} of {self.path}: {exc}") from None
            gx0, gx1, gy0, gy1 = geom.GetEnvelope()
            if gx1 < xmin or gx0 > xmax or gy1 < ymin or gy0 > ymax:
                continue
            code = as_code(feat.GetField(field)) if feat.IsFieldSet(field) and not feat.IsFieldNull(field) else None
            out.append((code, geom))
            self.field_ids.append(feat.GetFID())
        layer.SetSpatialFilter(None)
        if not out:
            raise CropsError(
                f"No polygon of {self.path} overlaps the composite's extent "
                f"({xmin:.2f}, {ymin:.2f}, {xmax:.2f}, {ymax:.2f}); "
                "check that the layer covers the composite (and its CRS)."
            )
        return out

    def read_fields(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        """Per pixel: the row + 1 in `field_ids` of the polygon that gives it its class (0: none), int32."""
        return self._rasterise(xoff, yoff, xsize, ysize, FIELD_ROW, gdal.GDT_Int32, 0).astype(np.int32, copy=False)

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        return self._rasterise(xoff, yoff, xsize, ysize, CLASS_FIELD, gdal.GDT_Byte, IGNORE_INDEX).astype(
            np.uint8, copy=False)

    def _rasterise(self, xoff: int, yoff: int, xsize: int, ysize: int, attribute: str, gdal_type: int,
                   fill: int) -> np.ndarray:
        win = self.grid.window(xoff, yoff, xsize, ysize)
        ds = gdal.GetDriverByName("MEM").Create("", xsize, ysize, 1, gdal_type)
        ds.SetGeoTransform(win.geotransform)
        ds.SetProjection(self.grid.crs_wkt)
        band = ds.GetRasterBand(1)
        band.Fill(fill)
        xmin, ymin, xmax, ymax = win.bounds
        self._layer.SetSpatialFilterRect(xmin, ymin, xmax, ymax)
        try:
            gdal.RasterizeLayer(ds, [1], self._layer, options=[f"ATTRIBUTE={attribute}"])
        finally:
            self._layer.SetSpatialFilter(None)
        return band.ReadAsArray()


def _check_matches(
    class_map: ClassMap,
    codes: list[Code],
    what: str,
    progress: Progress,
    warn_unmatched: bool = True,
    seen: list[Code | None] | None = None,
) -> None:
    """Raise when no code gets a class; warn about entries no code (`seen`: also nodata) falls under."""
    shown = ", ".join(str(c) for c in codes[:20]) + (" ..." if len(codes) > 20 else "")
    if not any(class_map.value_of(c) != IGNORE_INDEX for c in codes):
        raise CropsError(
            f"The class map '{class_map.text}' gives no class to any label value of {what} in the composite's "
            f"extent (values found: {shown or 'none'}); fix the codes in the class map."
        )
    for entry in class_map.unmatched_entries(codes if seen is None else seen) if warn_unmatched else []:
        progress.warn(f"Class map entry '{entry}' matches no label value in the composite's extent.")


def is_raster(path: str) -> bool:
    """True when GDAL opens `path` as a raster (else it is taken as a vector layer)."""
    file = LayerSpec.parse(path).path
    if not file.startswith("/vsi") and not os.path.exists(file):
        raise CropsError(f"Labels not found: {file}. Check the path.")
    try:
        ds = gdal.OpenEx(file, gdal.OF_RASTER)
    except RuntimeError:
        return False
    return ds is not None and ds.RasterCount > 0


def open_labels(
    path: str | os.PathLike[str],
    grid: Grid,
    window: tuple[int, int, int, int] | None = None,
    label_field: str | None = None,
    class_map: str | ClassMap | None = None,
    progress: Progress | None = None,
    labels_crs: str | None = None,
    crs_param: str = "LABELS_CRS",
) -> LabelSource:
    """Labels as class values on `grid`: a code raster, or polygons when `label_field` is given.

    `window` (xoff, yoff, xsize, ysize) is the part of the grid that will be read: the codes
    found there decide the classes (without a CLASS_MAP) and the "matches nothing" check.
    `labels_crs` (LABELS_CRS) is the CRS of labels that declare none; without it such labels are an error.
    """
    progress = progress or silent()
    path = str(path)
    window = window or (0, 0, grid.width, grid.height)
    cmap = parse_class_map(class_map) if isinstance(class_map, str) and class_map.strip() else class_map
    if isinstance(cmap, str):
        cmap = None
    if is_raster(path):
        if label_field:
            progress.warn(f"{path} is a raster: LABEL_FIELD {label_field!r} is not used (its values are the codes).")
        return RasterLabels(path, grid, window, cmap, progress, labels_crs or None, crs_param)
    return PolygonLabels(path, grid, window, label_field, cmap, progress, labels_crs or None, crs_param)

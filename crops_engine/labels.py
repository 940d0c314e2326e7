"""Training labels on the composite's grid, from a code raster or a polygon layer, via a CLASS_MAP.

A CLASS_MAP maps label codes (raster values, or values of a polygon attribute) to classes:
`1200=maize; 1110,1120=winter cereals #d95f02; 1300-1399=other cereals; *=other; 0=ignore`.
Entries are separated by `;` or new lines. A key is an integer code, a range `lo-hi`
(inclusive), a text attribute value (matched case-insensitively), several of those separated
by commas, or `*` (every code no other entry names). The class name may end with a colour
`#rrggbb`; the name `ignore` drops those pixels. Exact keys win over ranges, ranges over `*`.

Classes get values 0..K-1 in the order they first appear (the model's output index); each
CropClass keeps its source `code` when exactly one code maps to it. Without a CLASS_MAP the
label values are the classes (0 = ignore), ordered by code and named from a `classes.csv`
beside the labels when there is one. Pixels without a class, and the label raster's nodata
pixels, are ignore (255).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

from .classes import CropClass, default_colour, read_classes_csv
from .errors import CropsError
from .progress import Progress, silent
from .raster import Grid, iter_windows, open_raster

gdal.UseExceptions()
ogr.UseExceptions()
osr.UseExceptions()

IGNORE = 255
"""Label value of pixels that carry no class (loss ignore index)."""

MAX_CLASSES = 255
CLASS_FIELD = "crops_class"

Code = int | str

_RANGE_RE = re.compile(r"^(-?\d+)\s*-\s*(-?\d+)$")
_VALUE_RE = re.compile(r"^(?P<name>.*?)[\s:]*(?P<colour>#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?)?$")


def _as_code(value: object) -> Code | None:
    """An attribute or raster value as a code: int when integral, stripped text otherwise."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() else str(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


@dataclass(frozen=True)
class _Rule:
    text: str  # the entry as written, for messages
    value: int  # class value or IGNORE


class ClassMap:
    """Codes -> class values (0..K-1, IGNORE); built by `parse_class_map` or `class_map_from_codes`."""

    def __init__(
        self,
        classes: list[CropClass],
        rules: list[_Rule],
        exact: dict[Code, int],
        ranges: list[tuple[int, int, int]],
        default: int | None,
        text: str,
    ) -> None:
        self.classes = classes
        self.text = text
        self._rules = rules
        self._exact = exact  # key (int, or casefolded text) -> rule index
        self._ranges = ranges  # (lo, hi, rule index)
        self._default = default  # rule index of '*'
        self._cache: dict[Code | None, int] = {}
        self._tables: dict[np.dtype, np.ndarray] = {}

    def rule_of(self, code: object) -> int | None:
        """Index of the entry that decides `code`, None when no entry does."""
        c = _as_code(code)
        if c is None:
            return None
        if isinstance(c, str):
            if c.casefold() in self._exact:
                return self._exact[c.casefold()]
        elif c in self._exact:
            return self._exact[c]
        if isinstance(c, int):
            for lo, hi, rule in self._ranges:
                if lo <= c <= hi:
                    return rule
        return self._default

    def value_of(self, code: object) -> int:
        """Class value of one code or attribute value; IGNORE when nothing maps it."""
        key = _as_code(code)
        if key not in self._cache:
            rule = self.rule_of(key)
            self._cache[key] = IGNORE if rule is None else self._rules[rule].value
        return self._cache[key]

    def lookup(self, codes: np.ndarray) -> np.ndarray:
        """An array of codes -> uint8 class values (IGNORE where no class)."""
        codes = np.asarray(codes)
        if codes.dtype in (np.uint8, np.uint16):  # the usual label rasters: one table for all values
            if codes.dtype not in self._tables:
                top = np.iinfo(codes.dtype).max
                self._tables[codes.dtype] = np.array([self.value_of(v) for v in range(top + 1)], dtype=np.uint8)
            return self._tables[codes.dtype][codes]
        uniq, inverse = np.unique(codes, return_inverse=True)
        values = np.array([self.value_of(u.item()) for u in uniq], dtype=np.uint8)
        return values[inverse].reshape(codes.shape)

    def unmatched_entries(self, codes: Iterable[object]) -> list[str]:
        """Entries (as written) that none of `codes` falls under: likely typos."""
        used = {self.rule_of(c) for c in codes}
        return [r.text for i, r in enumerate(self._rules) if i not in used]

    def __repr__(self) -> str:
        return f"ClassMap({self.text!r}, classes={[c.name for c in self.classes]})"


def parse_class_map(text: str) -> ClassMap:
    """Parse CLASS_MAP text (see the module docstring); raises CropsError naming the bad entry."""
    entries = [e.strip() for e in re.split(r"[;\n]", text or "") if e.strip()]
    if not entries:
        raise CropsError("The class map is empty; write entries like '1200=maize; *=other; 0=ignore'.")
    classes: list[CropClass] = []
    by_name: dict[str, int] = {}
    codes_of: dict[int, list[Code]] = {}
    rules: list[_Rule] = []
    exact: dict[Code, int] = {}
    ranges: list[tuple[int, int, int]] = []
    default: int | None = None
    for entry in entries:
        key_text, sep, value_text = entry.partition("=")
        if not sep or not key_text.strip() or not value_text.strip():
            raise CropsError(f"Class map entry {entry!r} is not 'code=name' (e.g. '1200=maize' or '*=other').")
        match = _VALUE_RE.match(value_text.strip())
        name = match.group("name").strip() if match else ""
        colour = match.group("colour") if match else None
        if not name:
            raise CropsError(f"Class map entry {entry!r} has no class name after '='.")
        if name.lower() == "ignore":
            value = IGNORE
        elif name in by_name:
            value = by_name[name]
            if colour and classes[value].colour.lower() != colour.lower():
                raise CropsError(f"Class {name!r} is given two colours in the class map; give it one.")
        else:
            value = len(classes)
            if value >= MAX_CLASSES:
                raise CropsError(f"The class map names more than {MAX_CLASSES} classes; merge some.")
            by_name[name] = value
            classes.append(CropClass(value, name, colour or default_colour(value)))
        rule = len(rules)
        rules.append(_Rule(entry, value))
        for key in (k.strip() for k in key_text.split(",")):
            if not key:
                raise CropsError(f"Class map entry {entry!r} has an empty key.")
            if key == "*":
                if default is not None:
                    raise CropsError("The class map has '*' twice; keep one '*=name' entry.")
                default = rule
                if value != IGNORE:
                    codes_of.setdefault(value, []).append(None)  # many codes: no single source code
                continue
            m = _RANGE_RE.match(key)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo > hi:
                    raise CropsError(f"Class map range {key!r} is empty; write it low-high.")
                ranges.append((lo, hi, rule))
                if value != IGNORE:
                    codes_of.setdefault(value, []).append(None)
                continue
            code = _as_code(key)
            norm = code.casefold() if isinstance(code, str) else code
            if norm in exact:
                raise CropsError(f"Class map key {key!r} appears twice; give each code one class.")
            exact[norm] = rule
            if value != IGNORE:
                codes_of.setdefault(value, []).append(code)
    if not classes:
        raise CropsError("The class map sends every code to 'ignore'; name at least one class (e.g. '1200=maize').")
    classes = [
        CropClass(c.value, c.name, c.colour, _single_int(codes_of.get(c.value, []))) for c in classes
    ]
    return ClassMap(classes, rules, exact, ranges, default, "; ".join(entries))


def _sorted_codes(codes: Iterable[Code | None]) -> list[Code]:
    """Distinct codes, integers first (numerically), then texts."""
    return sorted({c for c in codes if c is not None}, key=lambda c: (isinstance(c, str), c))


def _single_int(codes: list[Code | None]) -> int | None:
    return codes[0] if len(codes) == 1 and isinstance(codes[0], int) else None


def classes_csv_beside(labels: str | os.PathLike[str]) -> Path | None:
    """`classes.csv` in the labels' folder, when there is one."""
    path = Path(_split_layer(str(labels))[0]).parent / "classes.csv"
    return path if path.is_file() else None


def class_map_from_codes(codes: Iterable[object], classes_csv: str | os.PathLike[str] | None = None) -> ClassMap:
    """The classes when no CLASS_MAP is given: label values are classes, 0 is ignore.

    With a classes.csv every row but id 0 becomes a class, in id order (so stores built on
    different areas share classes); a code in the labels that the file does not list is an
    error. Without one the codes found become classes, named `class <code>`; text attribute
    values become classes named by the text.
    """
    found = _sorted_codes(c for c in (_as_code(v) for v in codes) if c != 0)
    if classes_csv is not None:
        rows = sorted((c for c in read_classes_csv(classes_csv) if c.value != 0), key=lambda c: c.value)
        listed = {c.value for c in rows}
        missing = [c for c in found if c not in listed]
        if missing:
            raise CropsError(
                f"Label values {missing[:10]} are not listed in {classes_csv}; add rows for them "
                "or give a CLASS_MAP (e.g. '1200=maize; *=other; 0=ignore')."
            )
        pairs = [(c.value, c.name, c.colour) for c in rows]
    else:
        pairs = [(c, f"class {c}" if isinstance(c, int) else str(c), None) for c in found]
    if len(pairs) > MAX_CLASSES:
        raise CropsError(
            f"The labels hold {len(pairs)} classes, more than {MAX_CLASSES}; give a CLASS_MAP merging them."
        )
    if not pairs:
        raise CropsError("The labels hold no class value other than 0 (ignore) in the composite's extent.")
    classes, rules, exact = [], [], {}
    for value, (code, name, colour) in enumerate(pairs):
        classes.append(CropClass(value, name, colour or default_colour(value), code if isinstance(code, int) else None))
        exact[code.casefold() if isinstance(code, str) else code] = value
        rules.append(_Rule(f"{code}={name}", value))
    exact[0] = len(rules)
    rules.append(_Rule("0=ignore", IGNORE))
    text = "; ".join(r.text for r in rules)
    return ClassMap(classes, rules, exact, [], None, text)


# -- label sources ---------------------------------------------------------------------------


class LabelSource:
    """Class values (uint8, IGNORE = no class) on the composite's grid, read window by window."""

    classes: list[CropClass]
    class_map: ClassMap
    description: str

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        raise NotImplementedError


def _split_layer(path: str) -> tuple[str, str | None]:
    """QGIS-style `file.gpkg|layername=parcels` -> (file, layer)."""
    file, _, rest = path.partition("|")
    layer = None
    for part in rest.split("|"):
        k, _, v = part.partition("=")
        if k.strip().lower() == "layername" and v:
            layer = v.strip()
    return file, layer


class RasterLabels(LabelSource):
    """Codes from band 1 of a raster, warped (nearest) onto the composite's grid when needed."""

    def __init__(
        self,
        path: str,
        grid: Grid,
        window: tuple[int, int, int, int],
        class_map: ClassMap | None,
        progress: Progress,
    ) -> None:
        self.path = path
        src = open_raster(path)
        self._alpha = False
        if Grid.of(src).same_as(grid):
            self._ds = src
        else:
            if not src.GetProjection():
                raise CropsError(f"Label raster {path} has no CRS; assign one so it can be placed on the composite.")
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
        seen = codes + ([_as_code(self._nodata)] if self._nodata is not None and self._nodata_seen else [])
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
            found.update(_as_code(v) for v in np.unique(codes.reshape(-1)[keep.reshape(-1)]).tolist())
        return _sorted_codes(found)

    def _raw(self, xoff: int, yoff: int, xsize: int, ysize: int) -> tuple[np.ndarray, np.ndarray]:
        codes = self._ds.GetRasterBand(1).ReadAsArray(xoff, yoff, xsize, ysize)
        keep = np.ones(codes.shape, dtype=bool)
        if self._nodata is not None and not math.isnan(self._nodata):
            keep &= codes != self._nodata
        if codes.dtype.kind == "f":
            keep &= np.isfinite(codes)
        if self._alpha:
            keep &= self._ds.GetRasterBand(2).ReadAsArray(xoff, yoff, xsize, ysize) > 0
        return codes, keep

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        codes, keep = self._raw(xoff, yoff, xsize, ysize)
        values = self.class_map.lookup(codes)
        np.copyto(values, np.uint8(IGNORE), where=~keep)  # nodata, NaN, outside a warped raster
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
    ) -> None:
        file, layer_name = _split_layer(path)
        self.path = path
        self.grid = grid
        try:
            src = gdal.OpenEx(file, gdal.OF_VECTOR)
        except RuntimeError as exc:
            raise CropsError(f"Cannot read label layer {file}: {exc}") from None
        if src is None or src.GetLayerCount() == 0:
            raise CropsError(f"{file} is neither a raster nor a vector layer GDAL can read.")
        layer = src.GetLayerByName(layer_name) if layer_name else src.GetLayer(0)
        if layer is None:
            names = [src.GetLayer(i).GetName() for i in range(src.GetLayerCount())]
            raise CropsError(f"{file} has no layer {layer_name!r}; its layers are {', '.join(names)}.")
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
        codes = _sorted_codes(c for c, _ in features)
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
        defn = self._layer.GetLayerDefn()
        for code, geom in features:  # layer order kept: later polygons win where they overlap
            feat = ogr.Feature(defn)
            feat.SetField(CLASS_FIELD, class_map.value_of(code))
            feat.SetGeometry(geom)
            self._layer.CreateFeature(feat)

    def _read(
        self, layer: ogr.Layer, field: str, window: tuple[int, int, int, int], progress: Progress
    ) -> list[tuple[Code | None, ogr.Geometry]]:
        """Features whose envelope meets the window, geometry in the composite's CRS."""
        grid_srs = osr.SpatialReference()
        grid_srs.ImportFromWkt(self.grid.crs_wkt)
        grid_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        layer_srs = layer.GetSpatialRef()
        transform = None
        xmin, ymin, xmax, ymax = self.grid.window(*window).bounds
        filter_rect: tuple[float, ...] | None = (xmin, ymin, xmax, ymax)
        if layer_srs is None:
            progress.warn(f"{self.path} has no CRS; taking it to be the composite's CRS.")
        else:
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
            code = _as_code(feat.GetField(field)) if feat.IsFieldSet(field) and not feat.IsFieldNull(field) else None
            out.append((code, geom))
        layer.SetSpatialFilter(None)
        if not out:
            raise CropsError(
                f"No polygon of {self.path} overlaps the composite's extent "
                f"({xmin:.2f}, {ymin:.2f}, {xmax:.2f}, {ymax:.2f}); "
                "check that the layer covers the composite (and its CRS)."
            )
        return out

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> np.ndarray:
        win = self.grid.window(xoff, yoff, xsize, ysize)
        ds = gdal.GetDriverByName("MEM").Create("", xsize, ysize, 1, gdal.GDT_Byte)
        ds.SetGeoTransform(win.geotransform)
        ds.SetProjection(self.grid.crs_wkt)
        band = ds.GetRasterBand(1)
        band.Fill(IGNORE)
        xmin, ymin, xmax, ymax = win.bounds
        self._layer.SetSpatialFilterRect(xmin, ymin, xmax, ymax)
        try:
            gdal.RasterizeLayer(ds, [1], self._layer, options=[f"ATTRIBUTE={CLASS_FIELD}"])
        finally:
            self._layer.SetSpatialFilter(None)
        return band.ReadAsArray().astype(np.uint8, copy=False)


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
    if not any(class_map.value_of(c) != IGNORE for c in codes):
        raise CropsError(
            f"The class map '{class_map.text}' gives no class to any label value of {what} in the composite's "
            f"extent (values found: {shown or 'none'}); fix the codes in the class map."
        )
    for entry in class_map.unmatched_entries(codes if seen is None else seen) if warn_unmatched else []:
        progress.warn(f"Class map entry '{entry}' matches no label value in the composite's extent.")


def is_raster(path: str) -> bool:
    """True when GDAL opens `path` as a raster (else it is taken as a vector layer)."""
    file = _split_layer(path)[0]
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
) -> LabelSource:
    """Labels as class values on `grid`: a code raster, or polygons when `label_field` is given.

    `window` (xoff, yoff, xsize, ysize) is the part of the grid that will be read: the codes
    found there decide the classes (without a CLASS_MAP) and the "matches nothing" check.
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
        return RasterLabels(path, grid, window, cmap, progress)
    return PolygonLabels(path, grid, window, label_field, cmap, progress)

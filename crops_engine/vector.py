"""Vector layers named the way QGIS names them: `path`, `path|layername=name` or `path|layerid=n`.

QGIS hands a layer of a multi-layer file (a GeoPackage) to Processing as its path plus `|key=value`
parts; label polygons and area-of-interest masks both accept that text, so both parse it here.
Parts other than `layername` and `layerid` (e.g. `subset=`) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from osgeo import gdal, ogr, osr

from .errors import CropsError


@dataclass(frozen=True)
class LayerSpec:
    """Which layer of which file: by name, else by 0-based index, else the first one."""

    path: str
    name: str | None = None
    index: int | None = None

    @classmethod
    def parse(cls, spec: str) -> LayerSpec:
        path, *parts = str(spec).split("|")
        name = index = None
        for part in parts:
            key, _, value = part.partition("=")
            key, value = key.strip().lower(), value.strip()
            if key == "layername" and value:
                name = value
            elif key == "layerid" and value:
                try:
                    index = int(value)
                except ValueError:
                    raise CropsError(f"{spec}: layerid={value!r} is not a layer number.") from None
        return cls(path, name, index)

    def layer(self, ds: gdal.Dataset) -> ogr.Layer | None:
        """The layer of the opened file, None when it has no such layer."""
        return ds.GetLayerByName(self.name) if self.name else ds.GetLayer(self.index or 0)

    @property
    def which(self) -> str:
        """The layer asked for, for messages: `'parcels'` or `number 2`."""
        return repr(self.name) if self.name else f"number {self.index or 0}"


def declared_srs(layer: ogr.Layer) -> osr.SpatialReference | None:
    """The layer's CRS; None when it has none, or only GeoPackage's placeholders for none ('Undefined
    geographic SRS', 'Undefined Cartesian SRS', what QGIS and GDAL write for a layer without a CRS)."""
    srs = layer.GetSpatialRef()
    if srs is None:
        return None
    name = (srs.GetName() or "").strip().lower()
    if name.startswith("undefined") and not srs.GetAuthorityCode(None):
        return None
    return srs

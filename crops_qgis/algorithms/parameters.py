"""Processing parameters and outputs made from the engine's command declarations (`command_spec`).

Each `Param` kind has one Processing type; choices are static strings (`ARCH=unet` in `qgis_process`,
the modeler and `processing.run`), labels are translated in the parameter's context, the help
becomes the tooltip. `engine_value` turns a parameter's value back into the engine's argument text.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QCoreApplication

from ...crops_engine.command_spec import SHARED_CONTEXT, Output, Param

# The dialog widgets of `widgets`, by name: qgis_process never imports that module (it needs the Processing GUI).
CHOICE_WIDGET = f"{__package__}.widgets.ChoiceWidgetWrapper"
LAYER_WIDGET = f"{__package__}.widgets.LayerWidgetWrapper"
_LAYER_TYPES = {"raster": QgsProcessing.TypeRaster, "polygons": QgsProcessing.TypeVectorPolygon}
DESTINATION_KINDS = ("raster_out", "vector_out", "file_out", "folder_out")


def translate(context: str, text: str) -> str:
    """`text` in the user's language: the parameter's own context first, then the shared one."""
    translated = QCoreApplication.translate(context, text)
    return translated if translated != text else QCoreApplication.translate(SHARED_CONTEXT, text)


def extent_text(rect: QgsRectangle, crs_id: str) -> str:
    """The engine's extent syntax (QGIS order): "xmin,xmax,ymin,ymax [EPSG:n]" ("" crs: no suffix)."""
    text = f"{rect.xMinimum()!r},{rect.xMaximum()!r},{rect.yMinimum()!r},{rect.yMaximum()!r}"
    return f"{text} [{crs_id}]" if crs_id else text


def _number(p: Param, label: str, optional: bool) -> QgsProcessingParameterNumber:
    kind = QgsProcessingParameterNumber.Integer if p.kind == "int" else QgsProcessingParameterNumber.Double
    kwargs: dict[str, Any] = {}
    if p.minimum is not None:
        kwargs["minValue"] = p.minimum
    if p.maximum is not None:
        kwargs["maxValue"] = p.maximum
    return QgsProcessingParameterNumber(p.name, label, kind, p.default, optional, **kwargs)


def _file(p: Param, label: str, optional: bool) -> QgsProcessingParameterFile:
    behaviour = QgsProcessingParameterFile.Folder if p.kind == "folder" else QgsProcessingParameterFile.File
    if p.extension:
        return QgsProcessingParameterFile(p.name, label, behaviour, p.extension, p.default or None, optional)
    return QgsProcessingParameterFile(p.name, label, behaviour, "", p.default or None, optional,
                                      fileFilter=p.file_filter)


def definition(p: Param) -> QgsProcessingParameterDefinition:
    """The Processing parameter of `p` (hidden parameters have none: callers skip them)."""
    label = translate(p.context, p.label)
    optional = p.optional
    if p.kind in ("int", "float"):
        d: QgsProcessingParameterDefinition = _number(p, label, optional)
    elif p.kind == "bool":
        d = QgsProcessingParameterBoolean(p.name, label, p.default, optional)
    elif p.kind == "choice":
        d = QgsProcessingParameterEnum(p.name, label, options=list(p.choices), allowMultiple=False,
                                       defaultValue=p.default, optional=optional, usesStaticStrings=True)
        if p.labels:  # the dialog shows words, the value stays the static string
            d.setMetadata({"widget_wrapper": {"class": CHOICE_WIDGET,
                                              "labels": [[c, translate(p.context, w)] for c, w in p.labels]}})
    elif p.kind in ("text", "list"):
        d = QgsProcessingParameterString(p.name, label, p.default if p.default not in (None, ()) else None,
                                         optional=optional)
    elif p.kind in ("file", "folder"):
        d = _file(p, label, optional)
    elif p.kind == "raster":
        d = QgsProcessingParameterRasterLayer(p.name, label, optional=optional)
    elif p.kind == "map_layer":
        d = QgsProcessingParameterMapLayer(p.name, label, optional=optional,
                                           types=[_LAYER_TYPES[t] for t in p.layer_types])
    elif p.kind == "polygons":
        d = QgsProcessingParameterFeatureSource(p.name, label, [QgsProcessing.TypeVectorPolygon], optional=optional)
    elif p.kind == "rasters":
        d = QgsProcessingParameterMultipleLayers(p.name, label, QgsProcessing.TypeRaster, optional=optional)
    elif p.kind == "extent":
        d = QgsProcessingParameterExtent(p.name, label, optional=optional)
    elif p.kind == "crs":
        d = QgsProcessingParameterCrs(p.name, label, optional=optional)
    elif p.kind == "field":
        d = QgsProcessingParameterField(p.name, label, parentLayerParameterName=p.parent, optional=optional)
    elif p.kind == "raster_out":
        d = QgsProcessingParameterRasterDestination(p.name, label, optional=optional,
                                                    createByDefault=p.create_by_default)
    elif p.kind == "vector_out":
        d = QgsProcessingParameterVectorDestination(p.name, label, QgsProcessing.TypeVectorPolygon, optional=optional,
                                                    createByDefault=p.create_by_default)
    elif p.kind == "file_out":
        d = QgsProcessingParameterFileDestination(p.name, label, translate(p.context, p.file_filter) or "",
                                                  optional=optional, createByDefault=p.create_by_default)
    elif p.kind == "folder_out":
        d = QgsProcessingParameterFolderDestination(p.name, label, optional=optional,
                                                    createByDefault=p.create_by_default)
    else:  # pragma: no cover - command_spec.Param refuses unknown kinds
        raise ValueError(p.kind)
    if p.kind in ("raster", "map_layer", "polygons") and not optional:  # start empty: no unrelated layer preselected
        d.setMetadata({"widget_wrapper": {"class": LAYER_WIDGET}})
    if p.advanced:
        d.setFlags(d.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    if p.help:
        d.setHelp(p.help)
    return d


def output_definition(o: Output) -> Any:
    """The Processing output of a reported value."""
    label = translate(o.context, o.label)
    cls = {"number": QgsProcessingOutputNumber, "file": QgsProcessingOutputFile, "string": QgsProcessingOutputString,
           "bool": QgsProcessingOutputBoolean}[o.kind]
    return cls(o.name, label)


def choice_value(p: Param, value: Any) -> str | None:
    """A choice as its static string; an index (how older scripts and models pass one) is accepted too."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):  # a modeler/batch value can come as a one-item list
        value = value[0] if len(value) == 1 else value
    text = str(value)
    if text in p.choices:
        return text
    if isinstance(value, int) or text.isdigit():
        index = int(text)
        if 0 <= index < len(p.choices):
            return p.choices[index]
    raise ValueError(f"{p.name}: {value!r} is not one of {', '.join(p.choices)}")

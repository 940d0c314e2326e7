"""The Processing algorithm of an engine command: parameters from its declaration, engine call out.

`algorithm_class(spec)` makes the algorithm of a `command_spec.Command`: its parameters, outputs,
help and translations all come from the declaration. A parameter `FOO_BAR` is passed as engine
option `--foo-bar` (layers as file paths, extents as "xmin,xmax,ymin,ymax [EPSG:n]", booleans as
true/false, choices as their static string). The engine's result keys (lower-case output names)
fill the algorithm's outputs; raster outputs are styled from the `.qml` the engine writes beside them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ...crops_engine.command_spec import Command, Param, option
from ..worker import run_engine
from .parameters import DESTINATION_KINDS, choice_value, definition, extent_text, output_definition, translate

ICON = str(Path(__file__).resolve().parents[2] / "resources" / "icons" / "crops.svg")
README = Path(__file__).resolve().parents[2] / "README.md"  # shipped in the plugin folder (make package)


def help_url(command: str) -> str:
    """The README's section on `command` (`### ndvi-qm`) as a file URL; the README itself when it has none; ""
    when the README is missing (QGIS then shows no help link). The project has no public web page to link."""
    if not README.is_file():
        return ""
    from qgis.PyQt.QtCore import QUrl

    url = QUrl.fromLocalFile(str(README))
    if f"\n### {command}\n" in README.read_text(encoding="utf-8"):
        url.setFragment(command)
    return url.toString()

_GROUP_NAMES = {
    "data": QT_TRANSLATE_NOOP("CropsAlgorithm", "1. Data"),
    "preprocessing": QT_TRANSLATE_NOOP("CropsAlgorithm", "2. Pre-processing"),
    "training": QT_TRANSLATE_NOOP("CropsAlgorithm", "3. Source model"),
    "adaptation": QT_TRANSLATE_NOOP("CropsAlgorithm", "4. Adaptation"),
    "inference": QT_TRANSLATE_NOOP("CropsAlgorithm", "5. Mapping and evaluation"),
    "tools": QT_TRANSLATE_NOOP("CropsAlgorithm", "Tools"),
}
_NUMBERED_GROUPS = ("data", "preprocessing", "training", "adaptation", "inference")  # "1." .. "5." above


def step_numbers() -> dict[str, str]:
    """{algorithm: "2.1"}: group number and place in the pipeline (the commands' declared order), so the
    Toolbox, which sorts a group's algorithms by name, lists them in the order they are run."""
    from ...crops_engine.commands import command_specs

    numbers: dict[str, str] = {}
    seen: dict[str, int] = {}
    for spec in command_specs():
        if spec.group in _NUMBERED_GROUPS:
            seen[spec.group] = seen.get(spec.group, 0) + 1
            numbers[spec.algorithm] = f"{_NUMBERED_GROUPS.index(spec.group) + 1}.{seen[spec.group]}"
    return numbers


_STEP_NUMBERS: dict[str, str] = {}
class StyleFromSidecar(QgsProcessingLayerPostProcessorInterface):
    """Prepares an output layer QGIS loads on completion: the engine's `.qml` sidecar as its style, a name that says
    what it is ("Class map", not the file stem) and, in a project, a group per run that holds the run's layers."""

    _alive: list[StyleFromSidecar] = []  # QGIS does not own post-processors: keep them alive

    def __init__(self, qml: str, name: str = "", group: str = "") -> None:
        super().__init__()
        self.qml = qml
        self.name = name
        self.group = group
        StyleFromSidecar._alive.append(self)

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: D401 - QGIS API
        if not isinstance(layer, (QgsRasterLayer, QgsVectorLayer)):
            return
        if self.qml and Path(self.qml).is_file():
            layer.loadNamedStyle(self.qml)
        if self.name:
            layer.setName(self.name)
        project = context.project() if context is not None else None
        if self.group and project is not None:
            move_into_group(project, layer, self.group)
        layer.triggerRepaint()


def move_into_group(project: Any, layer: Any, group_name: str) -> None:
    """Move `layer`'s node of `project`'s layer tree into top-level group `group_name` (made on first use)."""
    root = project.layerTreeRoot()
    node = root.findLayer(layer.id())
    if node is None:
        return
    group = root.findGroup(group_name) or root.insertGroup(0, group_name)
    if node.parent() is group:
        return
    group.addChildNode(node.clone())
    node.parent().removeChildNode(node)


class CropsAlgorithm(QgsProcessingAlgorithm):
    """Runs engine command `SPEC` (set by `algorithm_class`)."""

    SPEC: Command

    # -- identity ------------------------------------------------------------------------
    def name(self) -> str:
        return self.SPEC.algorithm

    def displayName(self) -> str:
        if not _STEP_NUMBERS:
            _STEP_NUMBERS.update(step_numbers())
        name = translate(self.SPEC.context, self.SPEC.display_name)
        number = _STEP_NUMBERS.get(self.SPEC.algorithm)
        return f"{number} {name}" if number else name

    def shortHelpString(self) -> str:
        return translate(self.SPEC.context, self.SPEC.help)

    def group(self) -> str:
        return QCoreApplication.translate("CropsAlgorithm", _GROUP_NAMES[self.SPEC.group])

    def groupId(self) -> str:
        return self.SPEC.group

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def helpUrl(self) -> str:
        return help_url(self.SPEC.name)

    def createInstance(self) -> CropsAlgorithm:
        return type(self)()

    def initAlgorithm(self, config=None) -> None:
        for p in self.SPEC.params:
            if not p.hidden:
                self.addParameter(definition(p))
        for o in self.SPEC.outputs:
            self.addOutput(output_definition(o))

    def checkParameterValues(self, parameters: dict[str, Any], context: QgsProcessingContext) -> tuple[bool, str]:
        """Choices given as an index (older scripts, models, `qgis_process` with numbers) are accepted too."""
        values = dict(parameters)
        for p in self.SPEC.params:
            if p.kind == "choice" and p.name in values:
                try:
                    values[p.name] = choice_value(p, values[p.name])
                except ValueError as exc:
                    return False, str(exc)
        return super().checkParameterValues(values, context)

    # -- the engine call -----------------------------------------------------------------
    def engine_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[list[str], dict[str, str]]:
        """(argv for the engine, {output name: path}) from the parameter values."""
        argv: list[str] = []
        destinations: dict[str, str] = {}
        for p in self.SPEC.params:
            if p.hidden:
                values = self.hidden_values(p)
            elif p.name not in parameters or parameters[p.name] is None:
                continue
            else:
                values = self.parameter_values(p, parameters, context)
            if p.kind in DESTINATION_KINDS and values:
                destinations[p.name] = values[0]
            if values:
                argv += [option(p.name), *values]
        return argv, destinations

    @staticmethod
    def hidden_values(p: Param) -> list[str]:
        """Values the plugin itself supplies (the QGIS version for diagnostics)."""
        return [Qgis.QGIS_VERSION] if p.name == "QGIS_VERSION" else []

    def parameter_values(self, p: Param, parameters: dict[str, Any], context: QgsProcessingContext) -> list[str]:
        """One parameter's value(s) as engine argument strings; [] means leave it out."""
        name = p.name
        if p.kind in ("raster", "map_layer"):
            layer = self.parameterAsLayer(parameters, name, context)
            return [layer.source()] if layer is not None else []
        if p.kind == "rasters":
            return [layer.source() for layer in self.parameterAsLayerList(parameters, name, context)]
        if p.kind == "polygons":
            if self.parameterAsSource(parameters, name, context) is None:
                return []
            path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
                parameters, name, context, ["gpkg", "shp"]
            )
            return [f"{path}|layername={layer_name}" if layer_name else path]
        if p.kind == "extent":
            if parameters[name] in ("", None):
                return []  # only an unset extent means "everything"; an empty one is the engine's to refuse
            extent = self.parameterAsExtent(parameters, name, context)
            crs = self.parameterAsExtentCrs(parameters, name, context)
            return [extent_text(extent, (crs.authid() or crs.toWkt()) if crs.isValid() else "")]
        if p.kind == "crs":
            crs = self.parameterAsCrs(parameters, name, context)
            return [crs.authid() or crs.toWkt()] if crs.isValid() else []
        if p.kind == "bool":
            return ["true" if self.parameterAsBoolean(parameters, name, context) else "false"]
        if p.kind == "choice":
            value = choice_value(p, parameters[name])
            return [value] if value is not None else []
        if p.kind in ("int", "float"):
            if parameters[name] in ("", None):
                return []  # an optional number left empty: the engine's default applies
            if p.kind == "int":
                return [str(self.parameterAsInt(parameters, name, context))]
            return [repr(self.parameterAsDouble(parameters, name, context))]
        if p.kind in ("raster_out", "vector_out"):
            value = self.parameterAsOutputLayer(parameters, name, context)
            return [value] if value else []
        if p.kind in ("file_out", "folder_out"):
            value = self.parameterAsFileOutput(parameters, name, context)
            return [value] if value else []
        if p.kind in ("file", "folder"):
            value = self.parameterAsFile(parameters, name, context)
            return [value] if value else []
        value = self.parameterAsString(parameters, name, context)
        if p.kind == "text":
            return [value or ""]  # an empty text is a value too (e.g. MASK_SUFFIX: no mask)
        return [value] if value else []

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        argv, destinations = self.engine_arguments(parameters, context)
        result = run_engine(
            self.SPEC.name,
            argv,
            feedback,
            outputs=list(destinations.values()),
            require_torch=self.SPEC.requires_torch,
        )
        outputs: dict[str, Any] = dict(destinations)
        for out in self.outputDefinitions():  # declared outputs and those of destination parameters
            key = out.name().lower()
            if key in result:
                value = result[key]
                if out.type() == "outputString" and isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                outputs[out.name()] = value
        group = f"{translate(self.SPEC.context, self.SPEC.display_name)} ({time.strftime('%H:%M:%S')})"
        for name, path in destinations.items():
            self.style_on_load(str(outputs.get(name, path)), context, self.output_label(name), group)
        return outputs

    def output_label(self, name: str) -> str:
        """The words of output parameter `name` (a layer's name in the project), in the user's language."""
        param = next((p for p in self.SPEC.params if p.name == name), None)
        return translate(self.SPEC.context, param.label) if param is not None else name

    @staticmethod
    def style_on_load(path: str, context: QgsProcessingContext, name: str = "", group: str = "") -> None:
        if context.willLoadLayerOnCompletion(path):
            qml = str(Path(path).with_suffix(".qml"))
            details = context.layerToLoadOnCompletionDetails(path)
            if name:
                details.name = name
            details.setPostProcessor(StyleFromSidecar(qml if Path(qml).is_file() else "", name, group))


def algorithm_class(spec: Command) -> type[CropsAlgorithm]:
    """The Processing algorithm class of engine command `spec`, named as its translation context."""
    return type(spec.context, (CropsAlgorithm,), {"SPEC": spec, "__doc__": spec.summary})

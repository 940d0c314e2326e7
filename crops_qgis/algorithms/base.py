"""Base class of every CROPS Processing algorithm: parameters in, engine command out.

A subclass declares its parameters in `initAlgorithm`, its help, and `COMMAND` (the
engine sub-command). Parameter `FOO_BAR` becomes engine option `--foo-bar`; the value is
converted by type (layers to file paths, extents to "xmin,xmax,ymin,ymax [EPSG:n]",
booleans to true/false). The engine's result keys (lower-case output names) fill the
algorithm's outputs; raster outputs are styled from the `.qml` the engine writes beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
    QgsProcessingParameterVectorLayer,
    QgsRasterLayer,
)
from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..worker import run_engine

ICON = str(Path(__file__).resolve().parents[2] / "resources" / "icons" / "crops.svg")
HELP_URL = "https://github.com/crops-qgis/crops-qgis#{anchor}"

_GROUP_NAMES = {
    "data": QT_TRANSLATE_NOOP("CropsAlgorithm", "1. Data"),
    "preprocessing": QT_TRANSLATE_NOOP("CropsAlgorithm", "2. Pre-processing"),
    "training": QT_TRANSLATE_NOOP("CropsAlgorithm", "3. Source model"),
    "adaptation": QT_TRANSLATE_NOOP("CropsAlgorithm", "4. Adaptation"),
    "inference": QT_TRANSLATE_NOOP("CropsAlgorithm", "5. Mapping and evaluation"),
    "tools": QT_TRANSLATE_NOOP("CropsAlgorithm", "Tools"),
}
DEVICES = ["auto", "cpu", "cuda"]
_DESTINATIONS = (
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterVectorDestination,
)


def option(name: str) -> str:
    """The engine option of a parameter (the same rule as crops_engine.cli.option)."""
    return "--" + name.lower().replace("_", "-")


class StyleFromSidecar(QgsProcessingLayerPostProcessorInterface):
    """Applies the engine's `.qml` sidecar to an output layer QGIS loads on completion."""

    _alive: list[StyleFromSidecar] = []  # QGIS does not own post-processors: keep them alive

    def __init__(self, qml: str) -> None:
        super().__init__()
        self.qml = qml
        StyleFromSidecar._alive.append(self)

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: D401 - QGIS API
        if isinstance(layer, QgsRasterLayer) and Path(self.qml).is_file():
            layer.loadNamedStyle(self.qml)
            layer.triggerRepaint()


class CropsAlgorithm(QgsProcessingAlgorithm):
    NAME = ""
    COMMAND = ""
    GROUP = "tools"
    HELP_ANCHOR = "algorithms"
    REQUIRES_TORCH = True

    # -- identity ------------------------------------------------------------------------
    def name(self) -> str:
        return self.NAME

    def group(self) -> str:
        return QCoreApplication.translate("CropsAlgorithm", _GROUP_NAMES[self.GROUP])

    def groupId(self) -> str:
        return self.GROUP

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def helpUrl(self) -> str:
        return HELP_URL.format(anchor=self.HELP_ANCHOR)

    def createInstance(self) -> CropsAlgorithm:
        return type(self)()

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    # -- parameters several algorithms share (one definition, translated in the CropsAlgorithm context) --
    def add_advanced(self, parameters: list[QgsProcessingParameterDefinition]) -> None:
        """Adds `parameters` under the dialog's Advanced Parameters."""
        for parameter in parameters:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
            self.addParameter(parameter)

    @staticmethod
    def device_parameter() -> QgsProcessingParameterEnum:
        """DEVICE: auto (CUDA when the engine sees a GPU), cpu or cuda."""
        return QgsProcessingParameterEnum("DEVICE", QCoreApplication.translate("CropsAlgorithm", "Device"),
                                          options=DEVICES, defaultValue=0)

    @staticmethod
    def seed_parameter() -> QgsProcessingParameterNumber:
        return QgsProcessingParameterNumber("SEED", QCoreApplication.translate("CropsAlgorithm", "Random seed"),
                                            QgsProcessingParameterNumber.Integer, 0)

    @staticmethod
    def adaptation_resume_parameter() -> QgsProcessingParameterFile:
        """RESUME of the adaptation algorithms: a resume state, or an adapted model with one beside it."""
        return QgsProcessingParameterFile(
            "RESUME", QCoreApplication.translate("CropsAlgorithm", "Resume from (resume state or adapted model)"),
            optional=True, fileFilter="safetensors (*.safetensors)")

    def add_adaptation_outputs(self) -> None:
        """OUTPUT, the adapted model, and what every adaptation algorithm reports beside it."""
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", QCoreApplication.translate("CropsAlgorithm", "Adapted model"),
            QCoreApplication.translate("CropsAlgorithm", "Model (*.safetensors)")))
        self.addOutput(QgsProcessingOutputFile(
            "LOG", QCoreApplication.translate("CropsAlgorithm", "Adaptation log (JSON)")))
        self.addOutput(QgsProcessingOutputFile(
            "RESUME_STATE", QCoreApplication.translate("CropsAlgorithm", "Resume state")))
        self.addOutput(QgsProcessingOutputNumber(
            "STEPS", QCoreApplication.translate("CropsAlgorithm", "Steps done")))
        self.addOutput(QgsProcessingOutputNumber(
            "FINAL_LOSS", QCoreApplication.translate("CropsAlgorithm", "Final loss")))

    @staticmethod
    def optimisation_parameters(checkpoints: bool) -> list[QgsProcessingParameterDefinition]:
        """The advanced optimiser and runtime settings of every training-style command (training, adaptation);
        `checkpoints` adds CHECKPOINT_EVERY (adaptation saves on a step count or a clock)."""
        parameters: list[QgsProcessingParameterDefinition] = [
            QgsProcessingParameterNumber("WEIGHT_DECAY", QCoreApplication.translate("CropsAlgorithm", "Weight decay"),
                                         QgsProcessingParameterNumber.Double, 0.0001, minValue=0.0),
            QgsProcessingParameterNumber(
                "WARMUP", QCoreApplication.translate("CropsAlgorithm", "Warm-up (fraction of the steps)"),
                QgsProcessingParameterNumber.Double, 0.05, minValue=0.0, maxValue=0.99),
            QgsProcessingParameterBoolean(
                "AMP", QCoreApplication.translate("CropsAlgorithm", "Mixed precision on CUDA"), True),
            QgsProcessingParameterNumber(
                "THREADS", QCoreApplication.translate("CropsAlgorithm", "CPU threads (0: all)"),
                QgsProcessingParameterNumber.Integer, 0, minValue=0),
        ]
        if checkpoints:
            parameters.insert(3, QgsProcessingParameterNumber(
                "CHECKPOINT_EVERY",
                QCoreApplication.translate("CropsAlgorithm", "Checkpoint every N steps (0: every 2 minutes)"),
                QgsProcessingParameterNumber.Integer, 0, minValue=0))
        return parameters

    # -- the engine call -----------------------------------------------------------------
    def engine_arguments(
        self, parameters: dict[str, Any], context: QgsProcessingContext
    ) -> tuple[list[str], dict[str, str]]:
        """(argv for the engine, {output name: path}) from the parameter values."""
        argv: list[str] = []
        destinations: dict[str, str] = {}
        for definition in self.parameterDefinitions():
            name = definition.name()
            if name not in parameters or parameters[name] is None:
                continue
            values = self.parameter_values(definition, parameters, context)
            if isinstance(definition, _DESTINATIONS) and values:
                destinations[name] = values[0]
            if values:
                argv += [option(name), *values]
        return argv, destinations

    def parameter_values(self, definition, parameters: dict[str, Any], context: QgsProcessingContext) -> list[str]:
        """One parameter's value(s) as engine argument strings; [] means leave it out."""
        name = definition.name()
        if isinstance(definition, QgsProcessingParameterRasterLayer):
            layer = self.parameterAsRasterLayer(parameters, name, context)
            return [layer.source()] if layer is not None else []
        if isinstance(definition, QgsProcessingParameterMultipleLayers):
            return [layer.source() for layer in self.parameterAsLayerList(parameters, name, context)]
        if isinstance(definition, QgsProcessingParameterMapLayer):  # a raster or a vector layer: its file
            layer = self.parameterAsLayer(parameters, name, context)
            return [layer.source()] if layer is not None else []
        if isinstance(definition, (QgsProcessingParameterFeatureSource, QgsProcessingParameterVectorLayer)):
            if self.parameterAsSource(parameters, name, context) is None:
                return []
            path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
                parameters, name, context, ["gpkg", "shp"]
            )
            return [f"{path}|layername={layer_name}" if layer_name else path]
        if isinstance(definition, QgsProcessingParameterExtent):
            extent = self.parameterAsExtent(parameters, name, context)
            if extent.isNull() or extent.isEmpty():
                return []
            crs = self.parameterAsExtentCrs(parameters, name, context)
            text = f"{extent.xMinimum()!r},{extent.xMaximum()!r},{extent.yMinimum()!r},{extent.yMaximum()!r}"
            if crs.isValid():
                text += f" [{crs.authid() or crs.toWkt()}]"
            return [text]
        if isinstance(definition, QgsProcessingParameterBoolean):
            return ["true" if self.parameterAsBoolean(parameters, name, context) else "false"]
        if isinstance(definition, QgsProcessingParameterEnum):
            index = self.parameterAsEnum(parameters, name, context)
            return [definition.options()[index]]
        if isinstance(definition, QgsProcessingParameterNumber):
            if definition.dataType() == QgsProcessingParameterNumber.Integer:
                return [str(self.parameterAsInt(parameters, name, context))]
            return [repr(self.parameterAsDouble(parameters, name, context))]
        if isinstance(definition, QgsProcessingParameterRasterDestination):
            return [self.parameterAsOutputLayer(parameters, name, context)]
        if isinstance(definition, QgsProcessingParameterVectorDestination):
            return [self.parameterAsOutputLayer(parameters, name, context)]
        if isinstance(definition, (QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination)):
            value = self.parameterAsFileOutput(parameters, name, context)
            return [value] if value else []
        if isinstance(definition, QgsProcessingParameterFile):
            value = self.parameterAsFile(parameters, name, context)
            return [value] if value else []
        value = self.parameterAsString(parameters, name, context)
        return [value] if value not in (None, "") else []

    def processAlgorithm(
        self, parameters: dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> dict[str, Any]:
        argv, destinations = self.engine_arguments(parameters, context)
        argv += self.extra_arguments(parameters, context)
        result = run_engine(
            self.COMMAND,
            argv,
            feedback,
            outputs=list(destinations.values()),
            require_torch=self.REQUIRES_TORCH,
        )
        outputs: dict[str, Any] = dict(destinations)
        for out in self.outputDefinitions():
            key = out.name().lower()
            if key in result:
                outputs[out.name()] = result[key]
        for name, path in destinations.items():
            self.style_on_load(str(outputs.get(name, path)), context)
        return outputs

    def extra_arguments(self, parameters: dict[str, Any], context: QgsProcessingContext) -> list[str]:
        """Arguments that are not parameters (e.g. the QGIS version); none by default."""
        return []

    @staticmethod
    def style_on_load(path: str, context: QgsProcessingContext) -> None:
        qml = str(Path(path).with_suffix(".qml"))
        if context.willLoadLayerOnCompletion(path) and Path(qml).is_file():
            context.layerToLoadOnCompletionDetails(path).setPostProcessor(StyleFromSidecar(qml))

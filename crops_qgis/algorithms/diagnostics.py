"""crops:diagnostics: what the engine runs on (proves the QGIS-engine bridge end to end)."""

from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputString,
    QgsProcessingParameterFileDestination,
)

from .base import CropsAlgorithm


class DiagnosticsAlgorithm(CropsAlgorithm):
    NAME = "diagnostics"
    COMMAND = "diagnostics"
    GROUP = "tools"
    HELP_ANCHOR = "diagnostics"
    REQUIRES_TORCH = False  # it should report a missing torch, not refuse to run

    def displayName(self) -> str:
        return self.tr("Diagnostics")

    def shortHelpString(self) -> str:
        return self.tr(
            "Reports the engine Python in use and the versions of QGIS, GDAL, Python, torch, timm, h5py and "
            "numpy, whether CUDA is available and which devices were found.\n\n"
            "Report: an HTML (.html) or text (.txt) file.\n\n"
            "Run it first when setting CROPS up, and attach the report to bug reports."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT", self.tr("Report"), self.tr("HTML files (*.html);;Text files (*.txt)")
            )
        )
        self.addOutput(QgsProcessingOutputBoolean("CUDA_AVAILABLE", self.tr("CUDA available")))
        self.addOutput(QgsProcessingOutputString("DEVICES", self.tr("Devices")))
        self.addOutput(QgsProcessingOutputString("ENGINE_PYTHON", self.tr("Engine Python")))

    def extra_arguments(self, parameters, context) -> list[str]:
        return ["--qgis-version", Qgis.QGIS_VERSION]

    def processAlgorithm(self, parameters, context, feedback):
        outputs = super().processAlgorithm(parameters, context, feedback)
        if isinstance(outputs.get("DEVICES"), list):
            outputs["DEVICES"] = ", ".join(outputs["DEVICES"])
        return outputs

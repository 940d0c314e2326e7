"""The `crops` Processing provider: algorithms plus the Engine Python setting."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .algorithms import ALGORITHMS
from .engine_python import SETTING_ENGINE_PYTHON, SETTING_PROCESSES

ICON = str(Path(__file__).resolve().parents[1] / "resources" / "icons" / "crops.svg")


def _processing_config():
    try:
        from processing.core.ProcessingConfig import ProcessingConfig, Setting
    except ImportError:  # plain PyQGIS without the processing plugin: no settings page
        return None, None
    return ProcessingConfig, Setting


class CropsProvider(QgsProcessingProvider):
    def id(self) -> str:
        return "crops"

    def name(self) -> str:
        return "CROPS"

    def longName(self) -> str:
        return QCoreApplication.translate("CropsProvider", "CROPS crop-type mapping (source-free domain adaptation)")

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def svgIconPath(self) -> str:
        return ICON

    def load(self) -> bool:
        config, setting = _processing_config()
        if config is not None:
            config.settingIcons[self.name()] = self.icon()
            config.addSetting(
                setting(
                    self.name(),
                    SETTING_ENGINE_PYTHON,
                    QCoreApplication.translate(
                        "CropsProvider", "Engine Python (interpreter with torch, timm, h5py, safetensors)"
                    ),
                    "",
                    valuetype=setting.FILE,
                )
            )
            config.addSetting(
                setting(
                    self.name(),
                    SETTING_PROCESSES,
                    QCoreApplication.translate(
                        "CropsProvider", "Processes per run (more than 1: through torchrun, one process per GPU)"
                    ),
                    1,
                    valuetype=setting.INT,
                )
            )
            config.readSettings()
        self.refreshAlgorithms()
        return True

    def unload(self) -> None:
        config, _ = _processing_config()
        if config is not None:
            config.removeSetting(SETTING_ENGINE_PYTHON)
            config.removeSetting(SETTING_PROCESSES)

    def loadAlgorithms(self) -> None:
        for cls in ALGORITHMS:
            self.addAlgorithm(cls())

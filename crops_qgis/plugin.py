"""The plugin object QGIS creates: registers the provider; on the desktop, the panel too."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from .i18n import install_translator, remove_translators
from .provider import CropsProvider

ICON = str(Path(__file__).resolve().parents[1] / "resources" / "icons" / "crops.svg")


class CropsPlugin:
    def __init__(self, iface) -> None:
        self.iface = iface
        install_translator()
        self.provider: CropsProvider | None = None
        self.action: QAction | None = None
        self.environment_action: QAction | None = None
        self.dock = None

    def initProcessing(self) -> None:
        """Called by qgis_process (and by initGui): the provider is all that is needed there."""
        if self.provider is None:
            self.provider = CropsProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()
        self.action = QAction(QIcon(ICON), QCoreApplication.translate("CropsPlugin", "CROPS crop mapping"))
        self.action.setCheckable(True)
        self.action.toggled.connect(self.toggle_dock)
        self.iface.addToolBarIcon(self.action)
        self.iface.addPluginToRasterMenu("&CROPS", self.action)
        self.environment_action = QAction(
            QIcon(ICON), QCoreApplication.translate("CropsPlugin", "CROPS engine environment…")
        )
        self.environment_action.triggered.connect(self.show_environment)
        self.iface.addPluginToRasterMenu("&CROPS", self.environment_action)

    def show_environment(self) -> None:
        from .environment_dialog import EnvironmentDialog

        EnvironmentDialog(self.iface.mainWindow()).exec_()

    def toggle_dock(self, visible: bool) -> None:
        if self.dock is None:
            from .dock import CropsDock

            self.dock = CropsDock(self.iface.mapCanvas(), self.iface.mainWindow())
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
            self.dock.visibilityChanged.connect(self.action.setChecked)
        self.dock.setVisible(visible)

    def unload(self) -> None:
        if self.action is not None:
            self.iface.removeToolBarIcon(self.action)
            self.iface.removePluginRasterMenu("&CROPS", self.action)
            self.action = None
        if self.environment_action is not None:
            self.iface.removePluginRasterMenu("&CROPS", self.environment_action)
            self.environment_action = None
        if self.dock is not None:
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translators()

"""The plugin object QGIS creates: registers the provider for the desktop and qgis_process."""

from __future__ import annotations

from qgis.core import QgsApplication

from .provider import CropsProvider


class CropsPlugin:
    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: CropsProvider | None = None

    def initProcessing(self) -> None:
        """Called by qgis_process (and by initGui): the provider is all that is needed there."""
        if self.provider is None:
            self.provider = CropsProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()

    def unload(self) -> None:
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None

"""QGIS entry point of the CROPS plugin: QGIS calls classFactory(iface) and nothing else here."""


def classFactory(iface):  # noqa: N802 - name fixed by QGIS
    from .crops_qgis.plugin import CropsPlugin

    return CropsPlugin(iface)

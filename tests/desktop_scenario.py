"""Walks through the real QGIS desktop like a new user (run by test_desktop.py as `qgis --code` under Xvfb).

The packaged plugin is installed in a fresh profile. Step by step, each after the window settled: the
plugin and its provider are loaded; the Toolbox lists the CROPS groups in pipeline order; the dialog of
crops:infer shows choices in words and no preselected composite; the map panel opens. Each step saves a
screenshot beside the JSON report (CROPS_DESKTOP_OUT), then QGIS quits.
"""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget, QTreeView
from qgis.utils import iface, plugins

OUT = Path(os.environ["CROPS_DESKTOP_OUT"])
report: dict = {"steps": [], "errors": []}


def shot(widget, name: str) -> None:
    QgsApplication.processEvents()
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    report["steps"].append(name)


def toolbox_names() -> dict[str, list[str]]:
    """{group: algorithm names} as the Toolbox's tree shows them (top to bottom)."""
    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    dock.show()
    dock.raise_()
    QgsApplication.processEvents()
    view = dock.findChild(QTreeView)
    model = view.model()
    shown: dict[str, list[str]] = {}

    def children(parent):
        return [model.index(r, 0, parent) for r in range(model.rowCount(parent))]

    for provider in children(view.rootIndex()):
        if model.data(provider) != "CROPS":
            continue
        view.expand(provider)
        view.scrollTo(provider, QTreeView.PositionAtTop)  # the screenshot shows the CROPS groups
        for group in children(provider):
            view.expand(group)
            shown[model.data(group)] = [model.data(a) for a in children(group)]
    return shown


def step_plugin() -> None:
    report["plugin_loaded"] = "crops" in plugins
    provider = QgsApplication.processingRegistry().providerById("crops")
    report["algorithms"] = len(provider.algorithms()) if provider else 0
    report["toolbox"] = toolbox_names()
    shot(iface.mainWindow(), "1_toolbox")


def step_dialog() -> None:
    import processing

    dlg = processing.createAlgorithmDialog("crops:infer")
    dlg.show()
    panel = dlg.mainWidget()
    combo = panel.wrappers["DEVICE"].widget
    report["device_choices"] = [combo.itemText(i) for i in range(combo.count())]
    report["device_value"] = panel.wrappers["DEVICE"].value()
    report["composite_value"] = panel.wrappers["INPUT"].value()
    shot(dlg, "2_infer_dialog")
    dlg.close()


def step_panel() -> None:
    plugin = plugins["crops"]
    plugin.toggle_dock(True)
    QgsApplication.processEvents()
    report["panel_shown"] = plugin.dock is not None and plugin.dock.isVisible()
    shot(iface.mainWindow(), "3_panel")


def finish() -> None:
    (OUT / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    QgsProject.instance().setDirty(False)
    QgsApplication.exit(0)


def run(steps: list) -> None:
    """One step per timer tick, so the window paints between them."""
    if not steps:
        finish()
        return
    try:
        steps[0]()
    except Exception:  # noqa: BLE001 - reported to the test, which fails with it
        report["errors"].append(traceback.format_exc())
    QTimer.singleShot(500, lambda: run(steps[1:]))


QTimer.singleShot(1500, lambda: run([step_plugin, step_dialog, step_panel]))

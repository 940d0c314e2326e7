"""Drives the CROPS panel like a user, in a real QGIS canvas window (run under Xvfb by test_gui.py).

argv: model composite output_folder screenshot.png -> prints one JSON line with what happened.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "build" / "qgis-plugins"), str(ROOT)]

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsLayerTreeLayer,
    QgsLayerTreeModel,  # noqa: E402
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
)
from qgis.gui import QgsLayerTreeMapCanvasBridge, QgsLayerTreeView, QgsMapCanvas  # noqa: E402
from qgis.PyQt.QtCore import QPoint, Qt  # noqa: E402
from qgis.PyQt.QtTest import QTest  # noqa: E402
from qgis.PyQt.QtWidgets import QHBoxLayout, QWidget  # noqa: E402


def wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        QgsApplication.processEvents()
        time.sleep(0.02)
    return condition()


def main(model: str, composite: str, output: str, screenshot: str) -> None:
    app = QgsApplication([], True)
    app.initQgis()
    from crops.crops_qgis.dock import CropsDock

    project = QgsProject.instance()
    window = QWidget()
    window.setWindowTitle("CROPS GUI test")
    canvas = QgsMapCanvas()
    legend = QgsLayerTreeView()
    legend_model = QgsLayerTreeModel(project.layerTreeRoot())  # the view does not own its model
    legend.setModel(legend_model)
    bridge = QgsLayerTreeMapCanvasBridge(project.layerTreeRoot(), canvas)
    bridge.setAutoSetupOnFirstLayer(False)  # keep the Web Mercator canvas set below
    row = QHBoxLayout(window)
    row.addWidget(legend, 1)
    row.addWidget(canvas, 3)
    window.resize(1000, 640)
    window.show()

    layer = QgsRasterLayer(composite, "composite")
    assert layer.isValid(), composite
    project.addMapLayer(layer)
    # The canvas shows Web Mercator, the raster is in UTM: the drawn area must be transformed.
    canvas_crs = QgsCoordinateReferenceSystem("EPSG:3857")
    canvas.setDestinationCrs(canvas_crs)
    to_canvas = QgsCoordinateTransform(layer.crs(), canvas_crs, project)
    canvas.setExtent(to_canvas.transformBoundingBox(layer.extent()))
    canvas.refresh()
    wait(lambda: not canvas.isDrawing(), 30)

    dock = CropsDock(canvas)
    dock.model_widget.setFilePath(model)
    dock.input_combo.setLayer(layer)
    dock.output_widget.setFilePath(output)
    dock.show()
    dock.draw_button.click()
    assert canvas.mapTool() is dock.tool

    viewport = canvas.viewport()
    w, h = viewport.width(), viewport.height()
    start, end = QPoint(int(w * 0.25), int(h * 0.2)), QPoint(int(w * 0.8), int(h * 0.75))
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(viewport, QPoint(int(w * 0.5), int(h * 0.5)))
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, end)
    QgsApplication.processEvents()

    pixel_to_map = canvas.getCoordinateTransform()
    p0, p1 = pixel_to_map.toMapCoordinates(start), pixel_to_map.toMapCoordinates(end)
    expected = QgsCoordinateTransform(canvas_crs, layer.crs(), project).transformBoundingBox(QgsRectangle(p0, p1))
    drawn = dock.area_in_layer_crs()

    finished: list[bool] = []
    dock.jobFinished.connect(finished.append)
    task = dock.run()
    assert task is not None, dock.log.toPlainText()
    wait(lambda: bool(finished), 600)

    group = project.layerTreeRoot().children()[0]
    added = [child.layer() for child in group.children() if isinstance(child, QgsLayerTreeLayer)]
    renderers = {lyr.name(): lyr.renderer().type() for lyr in added}
    classes = []
    for lyr in added:
        if lyr.renderer().type() == "paletted":
            classes = [c.label for c in lyr.renderer().classes()]
            canvas.setExtent(to_canvas.transformBoundingBox(lyr.extent()))
    layer_tree_layer = project.layerTreeRoot().findLayer(layer.id())
    layer_tree_layer.setItemVisibilityChecked(False)
    legend.expandAll()
    rendered: list[bool] = []
    canvas.mapCanvasRefreshed.connect(lambda: rendered.append(True))
    QgsApplication.processEvents()
    canvas.refreshAllLayers()
    wait(lambda: bool(rendered) and not canvas.isDrawing(), 60)
    dock.tool.clear()
    QgsApplication.processEvents()
    window.grab().save(screenshot)
    result = {
        "finished": finished,
        "expected": [expected.xMinimum(), expected.yMinimum(), expected.xMaximum(), expected.yMaximum()],
        "drawn": None if drawn is None else [drawn.xMinimum(), drawn.yMinimum(), drawn.xMaximum(), drawn.yMaximum()],
        "group": group.name(),
        "renderers": renderers,
        "classes": classes,
        "class_map_extent": [
            e
            for lyr in added
            if lyr.renderer().type() == "paletted"
            for e in (
                lyr.extent().xMinimum(),
                lyr.extent().yMinimum(),
                lyr.extent().xMaximum(),
                lyr.extent().yMaximum(),
            )
        ],
        "log": dock.log.toPlainText(),
    }
    print(json.dumps(result), flush=True)
    # Tearing down canvas, project and application in Python's order crashes PyQGIS scripts:
    # the result is out, leave without teardown.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:5])

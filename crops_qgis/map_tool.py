"""Draw the area of interest on the canvas: a rectangle by drag."""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapToolEmitPoint, QgsRubberBand
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtGui import QColor

AOI_COLOUR = QColor(255, 140, 0, 160)


def to_crs(
    rect: QgsRectangle, source: QgsCoordinateReferenceSystem, target: QgsCoordinateReferenceSystem
) -> QgsRectangle:
    """A canvas rectangle as an extent in a layer's CRS (its bounding box after transform)."""
    if not target.isValid() or source == target:
        return QgsRectangle(rect)
    transform = QgsCoordinateTransform(source, target, QgsProject.instance())
    return transform.transformBoundingBox(rect)


class RectangleMapTool(QgsMapToolEmitPoint):
    """Press, drag and release to draw a rectangle; emits it in the canvas CRS."""

    rectangleDrawn = pyqtSignal(QgsRectangle)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.band = QgsRubberBand(canvas, QgsWkbTypes.PolygonGeometry)
        self.band.setColor(AOI_COLOUR)
        self.band.setFillColor(QColor(255, 140, 0, 40))
        self.band.setWidth(2)
        self.start: QgsPointXY | None = None

    def canvasPressEvent(self, event) -> None:
        self.start = self.toMapCoordinates(event.pos())
        self.band.reset(QgsWkbTypes.PolygonGeometry)

    def canvasMoveEvent(self, event) -> None:
        if self.start is not None:
            self.show_rectangle(QgsRectangle(self.start, self.toMapCoordinates(event.pos())))

    def canvasReleaseEvent(self, event) -> None:
        if self.start is None:
            return
        rect = QgsRectangle(self.start, self.toMapCoordinates(event.pos()))
        rect.normalize()
        self.start = None
        if rect.width() > 0 and rect.height() > 0:
            self.show_rectangle(rect)
            self.rectangleDrawn.emit(rect)

    def show_rectangle(self, rect: QgsRectangle) -> None:
        self.band.setToGeometry(QgsGeometry.fromRect(rect), None)

    def clear(self) -> None:
        self.band.reset(QgsWkbTypes.PolygonGeometry)

    def deactivate(self) -> None:
        super().deactivate()
        self.start = None

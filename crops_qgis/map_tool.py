"""Draw the area of interest on the canvas: a rectangle by drag, or a clicked polygon feature."""

from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsMapCanvas, QgsMapTool, QgsMapToolEmitPoint, QgsRubberBand
from qgis.PyQt.QtCore import Qt, pyqtSignal
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


class PolygonPickTool(QgsMapTool):
    """Click a polygon of the active vector layer; emits its geometry in the canvas CRS."""

    polygonPicked = pyqtSignal(QgsGeometry)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setCursor(Qt.PointingHandCursor)

    def canvasReleaseEvent(self, event) -> None:
        layer = self.canvas.currentLayer()
        if not isinstance(layer, QgsVectorLayer) or layer.geometryType() != QgsWkbTypes.PolygonGeometry:
            return
        point = self.toLayerCoordinates(layer, event.pos())
        radius = self.searchRadiusMU(self.canvas)
        rect = QgsRectangle(point.x() - radius, point.y() - radius, point.x() + radius, point.y() + radius)
        for feature in layer.getFeatures(rect):
            geometry = QgsGeometry(feature.geometry())
            if geometry.intersects(QgsGeometry.fromPointXY(point)):
                transform = QgsCoordinateTransform(
                    layer.crs(), self.canvas.mapSettings().destinationCrs(), QgsProject.instance()
                )
                geometry.transform(transform)
                self.polygonPicked.emit(geometry)
                return

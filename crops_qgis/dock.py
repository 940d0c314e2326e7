"""The CROPS panel: pick a model and a composite, draw an area, run; styled layers appear.

Jobs run as an EngineTask (task manager: progress and cancel); QGIS stays responsive.
Outputs go to a layer group named after the job, styled by the `.qml` the engine writes.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsGeometry,
    QgsLayerTreeGroup,
    QgsMapLayerProxyModel,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsUnitTypes,
)
from qgis.gui import QgsFileWidget, QgsMapCanvas, QgsMapLayerComboBox
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .algorithms.parameters import extent_text
from .engine_task import EngineStep, EngineTask
from .map_tool import RectangleMapTool, to_crs


class CropsDock(QDockWidget):
    """Map an area: model + composite + drawn rectangle -> class map and confidence."""

    jobFinished = pyqtSignal(bool)

    def __init__(self, canvas: QgsMapCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("CROPS crop mapping"))
        self.setObjectName("CropsDock")
        self.canvas = canvas
        self.area: QgsRectangle | None = None  # in the canvas CRS
        self.task: EngineTask | None = None
        self.tool = RectangleMapTool(canvas)
        self.tool.rectangleDrawn.connect(self.set_area)

        body = QWidget()
        form = QFormLayout()
        self.model_widget = QgsFileWidget()
        self.model_widget.setFilter(self.tr("CROPS model (*.safetensors)"))
        form.addRow(self.tr("Model"), self.model_widget)
        self.input_combo = QgsMapLayerComboBox()
        self.input_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        form.addRow(self.tr("Composite"), self.input_combo)
        self.output_widget = QgsFileWidget()
        self.output_widget.setStorageMode(QgsFileWidget.GetDirectory)
        self.output_widget.setFilePath(str(Path(tempfile.gettempdir()) / "crops"))
        form.addRow(self.tr("Output folder"), self.output_widget)

        area_row = QHBoxLayout()
        self.draw_button = QPushButton(self.tr("Draw area"))
        self.draw_button.setCheckable(True)
        self.draw_button.toggled.connect(self.toggle_drawing)
        self.whole_button = QPushButton(self.tr("Whole composite"))
        self.whole_button.setEnabled(False)
        self.whole_button.clicked.connect(self.clear_area)
        self.area_label = QLabel(self.tr("Whole composite"))
        area_row.addWidget(self.draw_button)
        area_row.addWidget(self.whole_button)
        area_row.addWidget(self.area_label, 1)

        run_row = QHBoxLayout()
        self.run_button = QPushButton(self.tr("Run"))
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)

        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)

        layout = QVBoxLayout(body)
        layout.addLayout(form)
        layout.addLayout(area_row)
        layout.addLayout(run_row)
        layout.addWidget(self.log, 1)
        self.setWidget(body)

    # -- area of interest ------------------------------------------------------------------
    def toggle_drawing(self, on: bool) -> None:
        if on:
            self.canvas.setMapTool(self.tool)
        elif self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)

    def set_area(self, rect: QgsRectangle) -> None:
        self.area = QgsRectangle(rect)
        width, height, hectares = area_size(rect, self.canvas.mapSettings().destinationCrs())
        self.area_label.setText(
            self.tr("Drawn area: {w} x {h} ({ha:,.1f} ha)").format(w=metres(width), h=metres(height), ha=hectares)
        )
        self.whole_button.setEnabled(True)
        self.draw_button.setChecked(False)

    def clear_area(self) -> None:
        """Back to mapping the whole composite."""
        self.area = None
        self.tool.clear()
        self.area_label.setText(self.tr("Whole composite"))
        self.whole_button.setEnabled(False)

    def area_in_layer_crs(self) -> QgsRectangle | None:
        layer = self.input_combo.currentLayer()
        if self.area is None or layer is None:
            return None
        return to_crs(self.area, self.canvas.mapSettings().destinationCrs(), layer.crs())

    # -- jobs ---------------------------------------------------------------------------------
    def build_steps(self) -> tuple[list[EngineStep], dict[str, str]]:
        """Engine steps for the chosen job, and {layer name: output raster} to add afterwards."""
        layer = self.input_combo.currentLayer()
        model = self.model_widget.filePath().strip()
        if layer is None:
            raise ValueError(self.tr("Choose the composite raster to map."))
        if not model or not Path(model).is_file():
            raise ValueError(self.tr("Choose a CROPS model file (.safetensors)."))
        folder = Path(self.output_widget.filePath() or tempfile.gettempdir()) / time.strftime("crops_%Y%m%d_%H%M%S")
        classes = str(folder / "classes.tif")
        confidence = str(folder / "confidence.tif")
        argv = ["--model", model, "--input", layer.source(), "--output", classes, "--output-confidence", confidence]
        area = self.area_in_layer_crs()
        if area is not None:
            argv += ["--extent", extent_text(area, layer.crs().authid())]
        step = EngineStep("infer", argv, [classes, confidence], self.tr("Mapping crop classes"))
        return [step], {self.tr("Crop classes"): classes, self.tr("Confidence"): confidence}

    def run(self) -> EngineTask | None:
        try:
            steps, layers = self.build_steps()
        except ValueError as exc:
            self.log.appendPlainText(str(exc))
            return None
        Path(steps[0].outputs[0]).parent.mkdir(parents=True, exist_ok=True)
        name = f"CROPS {self.tr('Map crop classes')} {time.strftime('%H:%M:%S')}"
        self.task = EngineTask(name, steps, on_done=lambda task: self.job_done(task, name, layers))
        self.task.message.connect(self.log.appendPlainText)  # the engine's lines, as it works
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.log.appendPlainText(self.tr("Started: {name}").format(name=name))
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def job_done(self, task: EngineTask, name: str, layers: dict[str, str]) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.task = None
        if task.isCanceled():
            self.log.appendPlainText(self.tr("Cancelled: {name}; nothing was added.").format(name=name))
            self.jobFinished.emit(False)
            return
        if task.error:
            self.log.appendPlainText(self.tr("Failed: {error}").format(error=task.error))
            self.jobFinished.emit(False)
            return
        group = add_styled_group(name, layers)
        self.log.appendPlainText(
            self.tr("Done: {n} layers added to '{group}'").format(n=len(group.children()), group=name)
        )
        self.jobFinished.emit(True)

    def closeEvent(self, event) -> None:
        self.tool.clear()
        self.toggle_drawing(False)
        super().closeEvent(event)


def metres(value: float) -> str:
    """A length for the panel: metres, or kilometres from 10 km."""
    return f"{value / 1000:,.1f} km" if value >= 10_000 else f"{value:,.0f} m"


def area_size(rect: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> tuple[float, float, float]:
    """(width m, height m, hectares) of a canvas rectangle, measured on the ellipsoid in any CRS (degrees too)."""
    measure = QgsDistanceArea()
    measure.setSourceCrs(crs, QgsProject.instance().transformContext())
    ellipsoid = QgsProject.instance().ellipsoid()
    measure.setEllipsoid(ellipsoid if ellipsoid not in ("", "NONE") else "WGS84")  # a planar project: WGS 84
    y = (rect.yMinimum() + rect.yMaximum()) / 2
    x = (rect.xMinimum() + rect.xMaximum()) / 2
    width = measure.measureLine(QgsPointXY(rect.xMinimum(), y), QgsPointXY(rect.xMaximum(), y))
    height = measure.measureLine(QgsPointXY(x, rect.yMinimum()), QgsPointXY(x, rect.yMaximum()))
    area = measure.measureArea(QgsGeometry.fromRect(rect))
    return (measure.convertLengthMeasurement(width, QgsUnitTypes.DistanceMeters),
            measure.convertLengthMeasurement(height, QgsUnitTypes.DistanceMeters),
            measure.convertAreaMeasurement(area, QgsUnitTypes.AreaHectares))


def add_styled_group(name: str, layers: dict[str, str]) -> QgsLayerTreeGroup:
    """Add rasters to a new top group; each loads its `.qml` sidecar as its default style."""
    project = QgsProject.instance()
    group = project.layerTreeRoot().insertGroup(0, name)
    for title, path in layers.items():
        if not Path(path).is_file():
            continue
        layer = QgsRasterLayer(path, title)
        if layer.isValid():
            project.addMapLayer(layer, False)
            group.addLayer(layer)
    return group

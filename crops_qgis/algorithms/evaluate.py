"""crops:evaluate: accuracy of a class map against reference labels, as an HTML table and JSON."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm


class EvaluateAlgorithm(CropsAlgorithm):
    NAME = "evaluate"
    COMMAND = "evaluate"
    GROUP = "inference"
    HELP_ANCHOR = "evaluate"
    REQUIRES_TORCH = False  # numpy and GDAL only

    def displayName(self) -> str:
        return self.tr("Evaluate class map")

    def shortHelpString(self) -> str:
        return self.tr(
            "Compares a class map (e.g. the output of crops:infer) with reference labels and reports overall accuracy, "
            "Cohen's kappa, and per class IoU, F1, precision and recall, with the confusion matrix.\n\n"
            "Reference: a raster of label codes, or polygons with a Label field (any CRS: reprojected), put on "
            "the class map's grid. Class map: codes to classes, e.g. '1200=maize; *=other; 0=ignore'; empty: the "
            "model's training class map when the model is known, else the label values are the classes (names "
            "from a classes.csv beside the labels).\n"
            "The class map's values are named by Model when given, else by the model recorded in the class "
            "map, its category names or its .qml style. Reference classes are matched to the map's classes by "
            "name, then by code; a reference class the map does not know counts as never predicted.\n"
            "Only pixels where the reference has a class and the class map is not nodata count.\n\n"
            "Outputs: an HTML report and the same figures as JSON."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Class map")))
        self.addParameter(
            QgsProcessingParameterMapLayer(
                "REFERENCE", self.tr("Reference labels (raster or polygons)"),
                types=[QgsProcessing.TypeRaster, QgsProcessing.TypeVectorPolygon],
            )
        )
        self.addParameter(
            QgsProcessingParameterField("LABEL_FIELD", self.tr("Label field (polygons)"),
                                        parentLayerParameterName="REFERENCE", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterString("CLASS_MAP", self.tr("Class map (codes to classes)"), "", multiLine=False,
                                         optional=True)
        )
        self.addParameter(
            QgsProcessingParameterFile("MODEL", self.tr("Model (names the class map's values)"), optional=True,
                                       fileFilter="Model (*.safetensors)")
        )
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Report"), self.tr("HTML files (*.html)"))
        )
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT_JSON", self.tr("Metrics (JSON)"),
                                                  self.tr("JSON files (*.json)"), optional=True,
                                                  createByDefault=False)
        )
        self.addOutput(QgsProcessingOutputNumber("OVERALL_ACCURACY", self.tr("Overall accuracy")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_IOU", self.tr("Mean IoU")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_F1", self.tr("Mean F1")))
        self.addOutput(QgsProcessingOutputNumber("KAPPA", self.tr("Kappa")))
        self.addOutput(QgsProcessingOutputNumber("PIXELS", self.tr("Pixels evaluated")))

"""crops:infer: map a composite with a model (streaming sliding-window inference) to a styled class map."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm

OPTIONAL_OUTPUTS = ("OUTPUT_CONFIDENCE", "OUTPUT_ENTROPY", "OUTPUT_PROBABILITIES")


class InferAlgorithm(CropsAlgorithm):
    NAME = "infer"
    COMMAND = "infer"
    GROUP = "inference"
    HELP_ANCHOR = "infer"

    def displayName(self) -> str:
        return self.tr("Map crops (inference)")

    def shortHelpString(self) -> str:
        return self.tr(
            "Runs a model (from Train source model or an adaptation) over a composite and writes the class map, "
            "coloured and labelled with the model's classes.\n\n"
            "Composite: a raster with exactly the features the model was trained on (same bands, same order; "
            "Extra bands as used for training, PATH or PATH@BANDS separated by ';'). A clear error lists "
            "missing or extra features.\n"
            "Extent and/or Area of interest (polygons, any CRS) limit the map; pixels outside the polygons and "
            "pixels with nodata in any feature are nodata.\n"
            "The raster is processed in overlapping tiles blended with a smooth window, so no seams show, and "
            "streamed to disk: memory does not grow with the raster's height. Tile size: 0 = the model's block "
            "size rounded up to a multiple of the model's stride. Overlap in pixels: -1 = a quarter of the tile. "
            "Batch size: 0 = 4 on CPU, sized to the free memory on a GPU (halved automatically if it runs out). "
            "Device: auto uses a CUDA GPU when the engine's torch has one; mixed precision on CUDA.\n\n"
            "Outputs: class map (Byte, 255 = nodata) and optionally the confidence (the winning class's "
            "probability), the normalised entropy (0 certain .. 1 undecided) and the probabilities (one band per "
            "class), Float32 with -1 = nodata. All are tiled, compressed GeoTIFFs with overviews and a .qml style."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterFile("MODEL", self.tr("Model (.safetensors)"), extension="safetensors")
        )
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Composite")))
        self.addParameter(QgsProcessingParameterExtent("EXTENT", self.tr("Extent"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "MASK", self.tr("Area of interest (polygons)"), [QgsProcessing.TypeVectorPolygon], optional=True
            )
        )
        self.addParameter(self.device_parameter())
        advanced = [
            QgsProcessingParameterString("EXTRA_BANDS", self.tr("Extra bands (PATH or PATH@BANDS; ';' separated)"),
                                         "", optional=True),
            QgsProcessingParameterNumber("TILE_SIZE", self.tr("Tile size (pixels; 0: automatic)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("OVERLAP", self.tr("Overlap (pixels; -1: a quarter of the tile)"),
                                         QgsProcessingParameterNumber.Integer, -1, minValue=-1),
            QgsProcessingParameterNumber("BATCH_SIZE", self.tr("Batch size (tiles; 0: automatic)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterBoolean("AMP", self.tr("Mixed precision on CUDA"), True),
        ]
        self.add_advanced(advanced)
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Class map")))
        labels = {
            "OUTPUT_CONFIDENCE": self.tr("Confidence"),
            "OUTPUT_ENTROPY": self.tr("Entropy"),
            "OUTPUT_PROBABILITIES": self.tr("Class probabilities"),
        }
        for name in OPTIONAL_OUTPUTS:
            self.addParameter(
                QgsProcessingParameterRasterDestination(name, labels[name], optional=True, createByDefault=False)
            )
        self.addOutput(QgsProcessingOutputNumber("VALID_PIXELS", self.tr("Mapped pixels")))

    def parameter_values(self, definition, parameters, context) -> list[str]:
        values = super().parameter_values(definition, parameters, context)
        if definition.name() in OPTIONAL_OUTPUTS:
            return [v for v in values if v]  # a skipped output has no path: the engine does not write it
        return values

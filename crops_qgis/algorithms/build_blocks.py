"""crops:build_blocks: cut a composite (plus extra bands and labels) into the HDF5 block store."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterExtent,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm


class BuildBlocksAlgorithm(CropsAlgorithm):
    NAME = "build_blocks"
    COMMAND = "build-blocks"
    GROUP = "preprocessing"
    HELP_ANCHOR = "build-blocks"
    REQUIRES_TORCH = False  # GDAL, numpy and h5py

    def displayName(self) -> str:
        return self.tr("Build blocks")

    def shortHelpString(self) -> str:
        return self.tr(
            "Cuts a composite (e.g. the NDVI quality mosaic) into square blocks and writes them, normalisation "
            "statistics included, to an HDF5 block store for training and adaptation.\n\n"
            "Labels (source area): a raster of label codes, or polygons with a Label field (any CRS: "
            "reprojected). Class map: codes to classes, e.g. '1200=maize; *=other; 0=ignore' (optional colour: "
            "'1200=maize #e6ab02'); empty: the label values are the classes (0 = ignore), named from a "
            "classes.csv beside the labels. Without labels (target area) the store holds images only.\n"
            "Extra bands: more features on the composite's grid, PATH or PATH@BANDS separated by ';' "
            "(e.g. qa.tif@day_of_year).\n"
            "Block size and stride in pixels (stride 0: the block size, no overlap). A validation fraction of "
            "the blocks, in whole spatial groups, is set aside for validation.\n"
            "Only blocks with a labelled pixel (source) or a valid pixel (target) are written."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(QgsProcessingParameterRasterLayer("COMPOSITE", self.tr("Composite")))
        self.addParameter(
            QgsProcessingParameterMapLayer(
                "LABELS", self.tr("Labels (raster or polygons; empty for a target store)"),
                types=[QgsProcessing.TypeRaster, QgsProcessing.TypeVectorPolygon], optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterField("LABEL_FIELD", self.tr("Label field (polygons)"),
                                        parentLayerParameterName="LABELS", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterString("CLASS_MAP", self.tr("Class map (codes to classes)"), "", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterNumber("BLOCK_SIZE", self.tr("Block size (pixels)"),
                                         QgsProcessingParameterNumber.Integer, 224, minValue=2)
        )
        self.addParameter(QgsProcessingParameterExtent("EXTENT", self.tr("Extent"), optional=True))
        advanced = [
            QgsProcessingParameterString("EXTRA_BANDS", self.tr("Extra bands (PATH or PATH@BANDS; ';' separated)"),
                                         "", optional=True),
            QgsProcessingParameterNumber("STRIDE", self.tr("Stride (pixels; 0: block size)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("VAL_FRACTION", self.tr("Validation fraction"),
                                         QgsProcessingParameterNumber.Double, 0.2, minValue=0.0, maxValue=0.95),
            QgsProcessingParameterNumber("VAL_GROUP_SIZE", self.tr("Validation group size (blocks; 0: automatic)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("SEED", self.tr("Seed of the validation split"),
                                         QgsProcessingParameterNumber.Integer, 0),
        ]
        self.add_advanced(advanced)
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT", self.tr("Block store"), self.tr("HDF5 files (*.h5)"))
        )
        self.addOutput(QgsProcessingOutputNumber("BLOCKS", self.tr("Blocks written")))
        self.addOutput(QgsProcessingOutputNumber("TRAIN_BLOCKS", self.tr("Training blocks")))
        self.addOutput(QgsProcessingOutputNumber("VAL_BLOCKS", self.tr("Validation blocks")))

"""crops:partition: easy / hard target blocks by the source model's confidence, with map outputs."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm

SCORES = ["max_probability", "entropy", "confident_fraction"]


class PartitionAlgorithm(CropsAlgorithm):
    NAME = "partition"
    COMMAND = "partition"
    GROUP = "adaptation"
    HELP_ANCHOR = "partition"

    def displayName(self) -> str:
        return self.tr("Partition easy / hard")

    def shortHelpString(self) -> str:
        return self.tr(
            "Runs the source model over the target blocks and splits them into easy blocks (where it is confident) "
            "and hard blocks, so you see where the model is unsure before adapting it.\n\n"
            "Target: a block store (Build blocks without labels; the partition is written into it), or a target "
            "composite from which a store is built into Output block store (Block size 0: the model's).\n"
            "Score per block, higher = easier: max_probability (mean probability of the predicted class over "
            "valid pixels), entropy (1 - mean normalised entropy) or confident_fraction (share of pixels whose "
            "probability reaches Confidence threshold).\n"
            "Split: the Easy fraction of the blocks with the highest scores is easy, or, when Score threshold is "
            "set, the blocks scoring at least that. Per class splits within each predicted dominant class, so a "
            "rare class still has easy blocks.\n\n"
            "Outputs: the easy / hard mask (1 easy in blue, 2 hard in red) and the per-pixel confidence (grey, "
            "0..1). Where blocks overlap (stride < block size), each pixel shows the block whose centre is "
            "nearest. The store gets scores, split/easy and split/hard, which Adapt and SPCL use."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterFile("MODEL", self.tr("Source model"), fileFilter="Model (*.safetensors)")
        )
        self.addParameter(
            QgsProcessingParameterFile("BLOCKS", self.tr("Target block store"), extension="h5", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterRasterLayer("COMPOSITE", self.tr("or target composite"), optional=True)
        )
        self.addParameter(QgsProcessingParameterEnum("SCORE", self.tr("Score"), options=SCORES, defaultValue=0))
        self.addParameter(
            QgsProcessingParameterNumber("EASY_FRACTION", self.tr("Easy fraction"), QgsProcessingParameterNumber.Double,
                                         0.5, minValue=0.0, maxValue=1.0)
        )
        self.addParameter(
            QgsProcessingParameterNumber("SCORE_THRESHOLD", self.tr("Score threshold (overrides easy fraction)"),
                                         QgsProcessingParameterNumber.Double, None, optional=True, minValue=0.0,
                                         maxValue=1.0)
        )
        self.addParameter(
            QgsProcessingParameterBoolean("PER_CLASS", self.tr("Split per predicted dominant class"), False)
        )
        advanced = [
            QgsProcessingParameterNumber("CONF_THRESHOLD", self.tr("Confidence threshold (confident_fraction)"),
                                         QgsProcessingParameterNumber.Double, 0.9, minValue=0.0001, maxValue=1.0),
            QgsProcessingParameterString("EXTRA_BANDS", self.tr("Extra bands with a composite (';' separated)"), "",
                                         optional=True),
            QgsProcessingParameterNumber("BLOCK_SIZE", self.tr("Block size with a composite (0: the model's)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterNumber("STRIDE", self.tr("Stride with a composite (0: block size)"),
                                         QgsProcessingParameterNumber.Integer, 0, minValue=0),
            QgsProcessingParameterExtent("EXTENT", self.tr("Extent with a composite"), optional=True),
            QgsProcessingParameterNumber("BATCH_SIZE", self.tr("Batch size (blocks)"),
                                         QgsProcessingParameterNumber.Integer, 16, minValue=1),
            self.device_parameter(),
        ]
        self.add_advanced(advanced)
        self.addParameter(
            QgsProcessingParameterFileDestination("OUTPUT_BLOCKS", self.tr("Output block store (with a composite)"),
                                                  self.tr("HDF5 files (*.h5)"), optional=True, createByDefault=False)
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination("OUTPUT_MASK", self.tr("Easy / hard mask"), optional=True)
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination("OUTPUT_CONFIDENCE", self.tr("Confidence"), optional=True)
        )
        self.addOutput(QgsProcessingOutputNumber("EASY_BLOCKS", self.tr("Easy blocks")))
        self.addOutput(QgsProcessingOutputNumber("HARD_BLOCKS", self.tr("Hard blocks")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_SCORE_EASY", self.tr("Mean score of easy blocks")))
        self.addOutput(QgsProcessingOutputNumber("MEAN_SCORE_HARD", self.tr("Mean score of hard blocks")))

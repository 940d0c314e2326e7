"""crops:sample_data: a synthetic Sentinel-2 season with labels, for demos, tests and benchmarks."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm


class SampleDataAlgorithm(CropsAlgorithm):
    NAME = "sample_data"
    COMMAND = "sample-data"
    GROUP = "data"
    HELP_ANCHOR = "sample-data"
    REQUIRES_TORCH = False

    def displayName(self) -> str:
        return self.tr("Generate sample data")

    def shortHelpString(self) -> str:
        return self.tr(
            "Writes a realistic synthetic Sentinel-2 L2A season: one 10-band UInt16 GeoTIFF per date "
            "(scenes/S2_L2A_YYYYMMDD.tif, reflectance = DN / 10000), its scene classification "
            "(scenes/S2_L2A_YYYYMMDD_SCL.tif), the crop labels (labels.tif), the parcels (fields.gpkg) and the "
            "class list (classes.csv), in the same layout as real data.\n\n"
            "Preset: 'source' and 'target' are two places with a clear but learnable shift (phenology, "
            "class proportions, atmosphere, clouds, field size); 'pair' writes both into "
            "Output folder/source and Output folder/target.\n"
            "Size: width and height in pixels (10 m). Dates: the season, YYYY-MM-DD; one acquisition "
            "every Revisit days. The same seed always gives the same data."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterEnum(
                "PRESET", self.tr("Preset"), options=["pair", "source", "target"], defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "SIZE", self.tr("Size (pixels)"), QgsProcessingParameterNumber.Integer, 512, minValue=32, maxValue=20000
            )
        )
        self.addParameter(
            QgsProcessingParameterString("START_DATE", self.tr("Season start (YYYY-MM-DD)"), "2019-03-01")
        )
        self.addParameter(QgsProcessingParameterString("END_DATE", self.tr("Season end (YYYY-MM-DD)"), "2019-10-31"))
        self.addParameter(
            QgsProcessingParameterNumber(
                "REVISIT_DAYS", self.tr("Revisit (days)"), QgsProcessingParameterNumber.Integer, 5, minValue=1
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber("SEED", self.tr("Random seed"), QgsProcessingParameterNumber.Integer, 0)
        )
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr("Output folder")))

"""crops:ndvi_qm: NDVI quality mosaic, per pixel all bands of the clear date with the highest NDVI."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterCrs,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from .base import CropsAlgorithm

RESAMPLING = ["near", "bilinear", "cubic", "average", "mode"]


class NdviQmAlgorithm(CropsAlgorithm):
    NAME = "ndvi_qm"
    COMMAND = "ndvi-qm"
    GROUP = "preprocessing"
    HELP_ANCHOR = "ndvi-qm"
    REQUIRES_TORCH = False

    def displayName(self) -> str:
        return self.tr("NDVI quality mosaic")

    def shortHelpString(self) -> str:
        return self.tr(
            "Per pixel, takes all bands of the clear acquisition with the highest NDVI in the date window "
            "(Earth Engine's qualityMosaic('NDVI')), so every field shows at its peak. The first step of "
            "domain adaptation: build one composite for the source and one for the target.\n\n"
            "Scenes: raster layers or files, and/or a Folder with a file-name Pattern; one multi-band raster "
            "per date, dated by its ACQUISITION_DATE metadata or a YYYYMMDD in the file name.\n"
            "Cloud mask: a companion raster named like the scene plus the Mask suffix (Sen2Cor _SCL by "
            "default; empty for no mask), or a Mask band of the scene; pixels of the Invalid classes "
            "(default SCL 0,1,3,8,9,10) and nodata in the red or NIR band are not clear.\n"
            "Red / NIR band: 1-based (3 and 7 for the B02 B03 B04 B05 B06 B07 B08 B8A B11 B12 order). "
            "Reflectance = DN x Scale + Offset; leave Offset empty to read BOA_ADD_OFFSET metadata "
            "(Sentinel-2 baseline 04.00+: -1000 DN, i.e. -0.1).\n"
            "Ties go to the earliest date; pixels without a clear observation are nodata.\n"
            "Extent / Area of interest: limit the work and the output (pixels outside the polygons are nodata). "
            "Scenes on another grid are warped to the first scene's grid, or to the Target CRS / Resolution.\n\n"
            "Outputs: the composite (input data type and band names, natural-colour style) and an optional QA "
            "raster: max NDVI, day of year of the chosen date, number of clear observations."
        )

    def initAlgorithm(self, config=None) -> None:
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "SCENES", self.tr("Scenes"), QgsProcessing.TypeRaster, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "FOLDER", self.tr("Folder of scenes"), QgsProcessingParameterFile.Folder, optional=True
            )
        )
        self.addParameter(QgsProcessingParameterString("PATTERN", self.tr("File-name pattern"), "*.tif"))
        self.addParameter(
            QgsProcessingParameterString("MASK_SUFFIX", self.tr("Mask suffix (empty: no mask)"), "_SCL", optional=True)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "MASK_BAND", self.tr("Mask band of the scene (instead of mask files)"),
                QgsProcessingParameterNumber.Integer, None, optional=True, minValue=0,
            )
        )
        self.addParameter(
            QgsProcessingParameterString("INVALID_CLASSES", self.tr("Invalid mask classes"), "0,1,3,8,9,10")
        )
        self.addParameter(
            QgsProcessingParameterNumber("RED_BAND", self.tr("Red band"), QgsProcessingParameterNumber.Integer, 3,
                                         minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("NIR_BAND", self.tr("NIR band"), QgsProcessingParameterNumber.Integer, 7,
                                         minValue=1)
        )
        self.addParameter(
            QgsProcessingParameterNumber("SCALE", self.tr("Scale (DN to reflectance)"),
                                         QgsProcessingParameterNumber.Double, 0.0001)
        )
        self.addParameter(
            QgsProcessingParameterNumber("OFFSET", self.tr("Offset (empty: from BOA_ADD_OFFSET metadata)"),
                                         QgsProcessingParameterNumber.Double, None, optional=True)
        )
        self.addParameter(
            QgsProcessingParameterString("START_DATE", self.tr("Start date (YYYY-MM-DD)"), optional=True)
        )
        self.addParameter(QgsProcessingParameterString("END_DATE", self.tr("End date (YYYY-MM-DD)"), optional=True))
        self.addParameter(QgsProcessingParameterExtent("EXTENT", self.tr("Extent"), optional=True))
        self.addParameter(
            QgsProcessingParameterFeatureSource(
                "MASK", self.tr("Area of interest (polygons)"), [QgsProcessing.TypeVectorPolygon], optional=True
            )
        )
        advanced = [
            QgsProcessingParameterCrs("TARGET_CRS", self.tr("Target CRS (default: the first scene's)"),
                                      optional=True),
            QgsProcessingParameterNumber("RESOLUTION", self.tr("Resolution (CRS units)"),
                                         QgsProcessingParameterNumber.Double, None, optional=True, minValue=0),
            QgsProcessingParameterEnum("RESAMPLING", self.tr("Resampling of scenes on another grid"),
                                       options=RESAMPLING, defaultValue=0),
        ]
        self.add_advanced(advanced)
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("NDVI quality mosaic")))
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                "OUTPUT_QA", self.tr("QA (max NDVI, day of year, clear observations)"), optional=True,
                createByDefault=False,
            )
        )

    def parameter_values(self, definition, parameters, context) -> list[str]:
        name = definition.name()
        if name == "MASK_SUFFIX":  # empty means no mask; the engine's default would bring _SCL back
            return [self.parameterAsString(parameters, name, context) or "none"]
        if name == "TARGET_CRS":
            crs = self.parameterAsCrs(parameters, name, context)
            return [crs.authid() or crs.toWkt()] if crs.isValid() else []
        if name in ("OFFSET", "RESOLUTION", "MASK_BAND") and parameters.get(name) in (None, ""):
            return []
        return super().parameter_values(definition, parameters, context)

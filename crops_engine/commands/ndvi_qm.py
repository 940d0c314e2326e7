"""The `ndvi-qm` command (Processing `crops:ndvi_qm`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Param
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="ndvi-qm", algorithm="ndvi_qm", context="NdviQmAlgorithm", display_name="NDVI quality mosaic",
    group="preprocessing", requires_torch=False,
    summary="NDVI quality mosaic: per pixel, all bands of the clear date with the highest NDVI.",
    help=(
        "Per pixel, takes all bands of the clear acquisition with the highest NDVI in the date window (Earth Engine's "
        "qualityMosaic('NDVI')), so every field shows at its peak. The first step of domain adaptation: build one "
        "composite for the source and one for the target.\n"
        "\n"
        "Scenes: raster layers or files, and/or a Folder with a file-name Pattern; one multi-band raster per date, "
        "dated by its ACQUISITION_DATE metadata or a YYYYMMDD in the file name.\n"
        "Cloud mask: a companion raster named like the scene plus the Mask suffix (Sen2Cor _SCL by default; empty for "
        "no mask), or a Mask band of the scene; pixels of the Invalid classes (default SCL 0,1,3,8,9,10) and nodata "
        "in the red or NIR band are not clear.\n"
        "Red / NIR band: a 1-based number (3 and 7 for the B02 B03 B04 B05 B06 B07 B08 B8A B11 B12 order) or a band "
        "name, i.e. the band description (B04, B8A; Sentinel-2 products are named so); an unknown name lists the "
        "scene's bands. Reflectance = DN x "
        "Scale + Offset; leave Offset empty to read BOA_ADD_OFFSET metadata (Sentinel-2 baseline 04.00+: -1000 DN, "
        "i.e. -0.1).\n"
        "Ties go to the earliest date; pixels without a clear observation are nodata.\n"
        "Extent / Area of interest: limit the work and the output (pixels outside the polygons are nodata). Scenes on "
        "another grid are warped to the first scene's grid, or to the Target CRS / Resolution.\n"
        "\n"
        "Outputs: the composite (input data type and band names, natural-colour style) and an optional QA raster: max "
        "NDVI, day of year of the chosen date, number of clear observations."
    ),
    params=(
        Param("SCENES", "rasters", "Scenes",
              "scene rasters, one per date (the CLI takes Sentinel-2 products too: SAFE, band folders, STAC JSON)",
              optional=True),
        Param("FOLDER", "folder", "Folder of scenes",
              "folder holding the scenes (a GeoTIFF per date) or Sentinel-2 products (SAFE folders or .zip, "
              "per-band COG folders, STAC item JSON)", optional=True),
        Param("PATTERN", "text", "File-name pattern", "file-name pattern of scenes in FOLDER", default="*.tif"),
        Param("MASK_SUFFIX", "text", "Mask suffix (empty: no mask)",
              "companion mask = scene name + this suffix ('' or none: no mask)", default="_SCL", optional=True),
        Param("MASK_BAND", "text", "Mask band of the scene (instead of mask files)",
              "the scene band that holds the mask: a number (1-based) or a band name such as SCL (0 or empty: none)",
              optional=True),
        Param("INVALID_CLASSES", "text", "Invalid mask classes", "mask values that are not clear (comma-separated)",
              default="0,1,3,8,9,10"),
        Param("RED_BAND", "text", "Red band (number or name, e.g. B04)",
              "red band: a number (1-based) or the band's name (description) such as B04", default="3"),
        Param("NIR_BAND", "text", "NIR band (number or name, e.g. B08 or B8A)",
              "NIR band: a number (1-based) or the band's name (description) such as B08 or B8A", default="7"),
        Param("SCALE", "float", "Scale (DN to reflectance)", "reflectance = DN * scale + offset", default=0.0001),
        Param("OFFSET", "float", "Offset (empty: from BOA_ADD_OFFSET metadata)",
              "reflectance offset; default: BOA_ADD_OFFSET metadata * scale, else 0", optional=True),
        Param("START_DATE", "text", "Start date (YYYY-MM-DD)", "first date, YYYY-MM-DD (inclusive)", optional=True),
        Param("END_DATE", "text", "End date (YYYY-MM-DD)", "last date, YYYY-MM-DD (inclusive)", optional=True),
        Param("EXTENT", "extent", "Extent", "area of interest 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS order)",
              optional=True),
        Param("MASK", "polygons", "Area of interest (polygons)",
              "polygon layer ('path' or 'path|layername=name') limiting the output (pixels outside are nodata)",
              optional=True),
        Param("TARGET_CRS", "crs", "Target CRS (default: the first scene's)", "output CRS (default: the first scene's)",
              optional=True, advanced=True),
        Param("RESOLUTION", "float", "Resolution (CRS units)", "output pixel size in CRS units", optional=True,
              minimum=0.0, advanced=True),
        Param("RESAMPLING", "choice", "Resampling of scenes on another grid", "resampling of scenes on another grid",
              default="near", choices=("near", "bilinear", "cubic", "average", "mode"), advanced=True,
              labels={"near": "Nearest neighbour", "bilinear": "Bilinear", "cubic": "Cubic", "average": "Average",
                      "mode": "Mode (most frequent value)"}),
        Param("WORKERS", "int", "Threads compositing windows", "threads compositing windows", default=2, minimum=1,
              advanced=True),
        Param("OUTPUT", "raster_out", "NDVI quality mosaic", "composite GeoTIFF"),
        Param("OUTPUT_QA", "raster_out", "QA (max NDVI, day of year, clear observations)",
              "QA GeoTIFF: max NDVI, day of year, valid observations", optional=True, create_by_default=False),
    ),
)


def _int_list(text: str) -> tuple[int, ...]:
    text = (text or "").strip()
    if not text or text.lower() == "none":
        return ()
    try:
        return tuple(int(v) for v in text.replace(";", ",").replace(" ", ",").split(",") if v)
    except ValueError:
        raise CropsError(
            f"INVALID_CLASSES {text!r} is not a comma-separated list of integers (e.g. 0,1,3,8,9,10)."
        ) from None


def _band(text: str | int | None, name: str = "") -> int | str | None:
    """A band parameter: a number (as int), a band name (kept for the plan to look up), or None (0 / empty)."""
    text = "" if text is None else str(text).strip()
    if not text or text.lower() == "none" or (text == "0" and not name):
        if name:
            raise CropsError(f"{name} is empty; give a band number (1-based) or a band name such as B04.")
        return None
    return int(text) if text.lstrip("+-").isdigit() else text


def read_scenes(args: argparse.Namespace, progress: Progress) -> tuple[list[Any], Any]:
    """The scenes and the compositing options of a command that declares this command's scene parameters.

    build-series and infer-series declare a subset of them: what a command lacks (mask band, area of interest,
    target grid) takes CompositeOptions' default, and they composite a window at a time on one thread.
    """
    from ..composite import CompositeOptions
    from ..extent import parse_extent
    from ..scenes import load_scenes, parse_date

    start, end = parse_date(args.start_date), parse_date(args.end_date)
    mask_band = _band(getattr(args, "mask_band", None))
    suffix = (args.mask_suffix or "").strip()
    if suffix.lower() == "none" or mask_band is not None:
        suffix = ""
    resampling = getattr(args, "resampling", "near")
    progress(0.0, "Reading the scenes' dates")
    scenes = load_scenes(args.scenes, args.folder, args.pattern, suffix or None, start, end, resampling)
    options = CompositeOptions(
        red_band=_band(args.red_band, "RED_BAND"),
        nir_band=_band(args.nir_band, "NIR_BAND"),
        scale=args.scale,
        offset=args.offset,
        start_date=start,
        end_date=end,
        mask_band=mask_band,
        invalid_classes=_int_list(args.invalid_classes),
        extent=parse_extent(args.extent) if args.extent else None,
        aoi=getattr(args, "mask", None) or None,
        target_crs=getattr(args, "target_crs", None) or None,
        resolution=getattr(args, "resolution", None),  # None when unset; 0 is refused, not taken as unset
        resampling=resampling,
        workers=getattr(args, "workers", 1),
    )
    return scenes, options


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..composite import ndvi_quality_mosaic

    scenes, options = read_scenes(args, progress)
    return ndvi_quality_mosaic(scenes, args.output, options, args.output_qa or None, progress)

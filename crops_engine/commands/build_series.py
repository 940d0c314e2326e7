"""The `build-series` command (Processing `crops:build_series`): scenes -> a temporal block store (issue 17)."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress
from .build_blocks import CLASS_MAP_HELP, LABELS_CRS_HELP

SPEC = Command(
    name="build-series", algorithm="build_series", context="BuildSeriesAlgorithm",
    display_name="Build time-series blocks", group="preprocessing", requires_torch=False,
    summary="Scenes to a time series (a composite every STEP_DAYS, gaps interpolated) cut into blocks for training.",
    help=(
        "Builds a block store whose images are a time series rather than one composite: a regular temporal grid "
        "from the Start date to the End date in steps of Step days. Each step is the NDVI quality mosaic of the "
        "scenes acquired in it (per pixel, all bands of the clear date with the highest NDVI); where a step has no "
        "clear observation, its values are interpolated linearly in time from the steps before and after (the "
        "store keeps a mask of the observed steps). A temporal model (train-source, architecture U-TAE) learns "
        "when each crop is green.\n"
        "\n"
        "Scenes, cloud mask, red / NIR band, scale and offset: as for the NDVI quality mosaic. Start / end date: "
        "empty for the first / last scene's date; source and target series should span the same part of their "
        "seasons with the same Step days, so they have as many steps.\n"
        "Labels, class map, block size, stride and the validation split: as for Build blocks."
    ),
    params=(
        Param("SCENES", "rasters", "Scenes", "scene rasters, one per date", optional=True),
        Param("FOLDER", "folder", "Folder of scenes", "folder holding the scenes (a GeoTIFF per date)",
              optional=True),
        Param("PATTERN", "text", "File-name pattern", "file-name pattern of scenes in FOLDER", default="*.tif"),
        Param("MASK_SUFFIX", "text", "Mask suffix (empty: no mask)",
              "companion mask = scene name + this suffix ('' or none: no mask)", default="_SCL", optional=True),
        Param("INVALID_CLASSES", "text", "Invalid mask classes", "mask values that are not clear (comma-separated)",
              default="0,1,3,8,9,10"),
        Param("RED_BAND", "text", "Red band (number or name, e.g. B04)",
              "red band: a number (1-based) or the band's name (description) such as B04", default="3"),
        Param("NIR_BAND", "text", "NIR band (number or name, e.g. B08 or B8A)",
              "NIR band: a number (1-based) or the band's name (description) such as B08 or B8A", default="7"),
        Param("SCALE", "float", "Scale (DN to reflectance)", "reflectance = DN * scale + offset", default=0.0001,
              advanced=True),
        Param("OFFSET", "float", "Offset (empty: from BOA_ADD_OFFSET metadata)",
              "reflectance offset; default: BOA_ADD_OFFSET metadata * scale, else 0", optional=True, advanced=True),
        Param("START_DATE", "text", "Start date (YYYY-MM-DD)",
              "first day of the first step, YYYY-MM-DD (empty: the first scene's date)", optional=True),
        Param("END_DATE", "text", "End date (YYYY-MM-DD)",
              "last day of the last step, YYYY-MM-DD, inclusive (empty: the last scene's date)", optional=True),
        Param("STEP_DAYS", "int", "Step (days)", "length of each time step in days (e.g. 30: monthly, 10, 15)",
              default=30, minimum=1, maximum=366),
        Param("EXTENT", "extent", "Extent", "area to cut: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)",
              optional=True),
        Param("LABELS", "map_layer", "Labels (raster or polygons; empty for a target store)",
              "label raster (codes) or polygon layer (with LABEL_FIELD)", optional=True,
              layer_types=("raster", "polygons")),
        Param("LABEL_FIELD", "field", "Label field (polygons)",
              "attribute of the polygon layer holding the class code or name", optional=True, parent="LABELS"),
        Param("CLASS_MAP", "text", "Class map (codes to classes)", CLASS_MAP_HELP, default="", optional=True),
        Param("LABELS_CRS", "crs", "CRS of labels that have none", LABELS_CRS_HELP, optional=True, advanced=True),
        Param("BLOCK_SIZE", "int", "Block size (pixels)", "block width and height in pixels", default=224, minimum=2),
        Param("STRIDE", "int", "Stride (pixels; 0: block size)", "step between blocks in pixels (0 = block size)",
              default=0, minimum=0, advanced=True),
        Param("VAL_FRACTION", "float", "Validation fraction",
              "fraction of blocks for validation (whole spatial groups)",
              default=0.2, minimum=0.0, maximum=0.95, advanced=True),
        Param("VAL_GROUP_SIZE", "int", "Validation group size (blocks; 0: automatic)",
              "validation groups of N x N blocks (0 = automatic)", default=0, minimum=0, advanced=True),
        Param("SEED", "int", "Seed of the validation split", "seed of the validation split", default=0, advanced=True),
        Param("OUTPUT", "file_out", "Block store", "block store to write (.h5)", file_filter="HDF5 files (*.h5)"),
    ),
    outputs=(
        Output("BLOCKS", "number", "Blocks written"),
        Output("TRAIN_BLOCKS", "number", "Training blocks"),
        Output("VAL_BLOCKS", "number", "Validation blocks"),
        Output("STEPS", "number", "Time steps"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..composite import CompositeOptions
    from ..extent import parse_extent
    from ..scenes import load_scenes, parse_date
    from ..series import build_series_store
    from .ndvi_qm import _band, _int_list

    start, end = parse_date(args.start_date), parse_date(args.end_date)
    suffix = (args.mask_suffix or "").strip()
    if suffix.lower() == "none":
        suffix = ""
    progress(0.0, "Reading the scenes' dates")
    scenes = load_scenes(args.scenes, args.folder, args.pattern, suffix or None, start, end)
    options = CompositeOptions(
        red_band=_band(args.red_band, "RED_BAND"),
        nir_band=_band(args.nir_band, "NIR_BAND"),
        scale=args.scale,
        offset=args.offset,
        start_date=start,
        end_date=end,
        invalid_classes=_int_list(args.invalid_classes),
        extent=parse_extent(args.extent) if args.extent else None,
        workers=1,
    )
    return build_series_store(
        scenes,
        args.output,
        step_days=args.step_days,
        options=options,
        labels=args.labels or None,
        label_field=args.label_field or None,
        class_map=args.class_map or None,
        labels_crs=args.labels_crs or None,
        block_size=args.block_size,
        stride=args.stride or None,
        val_fraction=args.val_fraction,
        seed=args.seed,
        val_group_size=args.val_group_size or None,
        progress=progress,
    )

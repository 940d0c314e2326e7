"""NDVI quality mosaic: per pixel, all bands of the clear date with the highest NDVI.

Scenes are files (--scenes) and/or a folder with a file-name pattern (--folder, --pattern);
each is one multi-band raster dated by ACQUISITION_DATE-style metadata or a YYYYMMDD in its
name. Cloud mask: a companion raster named like the scene plus --mask-suffix (default _SCL;
'' or 'none' for no mask) or --mask-band of the scene, with --invalid-classes (default Sen2Cor
SCL 0,1,3,8,9,10). --extent is QGIS's 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (x first, then y);
--mask is a polygon layer (path, or 'path|layername=name') that limits the output.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import CropsError
from ..progress import Progress


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenes", nargs="*", default=[], metavar="FILE", help="scene rasters, one per date")
    parser.add_argument("--folder", help="folder holding the scenes")
    parser.add_argument("--pattern", default="*.tif", help="file-name pattern of scenes in --folder (default *.tif)")
    parser.add_argument("--mask-suffix", default="_SCL",
                        help="companion mask = scene name + this suffix (default _SCL; '' or none: no mask)")
    parser.add_argument("--mask-band", type=int, default=None, help="the scene band that holds the mask (0: none)")
    parser.add_argument("--invalid-classes", default="0,1,3,8,9,10", help="mask values that are not clear")
    parser.add_argument("--red-band", type=int, default=3, help="red band, 1-based (default 3)")
    parser.add_argument("--nir-band", type=int, default=7, help="NIR band, 1-based (default 7)")
    parser.add_argument("--scale", type=float, default=0.0001, help="reflectance = DN * scale + offset")
    parser.add_argument("--offset", type=float, default=None,
                        help="reflectance offset; default: BOA_ADD_OFFSET metadata * scale, else 0")
    parser.add_argument("--start-date", help="first date, YYYY-MM-DD (inclusive)")
    parser.add_argument("--end-date", help="last date, YYYY-MM-DD (inclusive)")
    parser.add_argument("--extent", help="area of interest 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS order)")
    parser.add_argument("--mask", help="polygon layer limiting the output (pixels outside are nodata)")
    parser.add_argument("--target-crs", help="output CRS (default: the first scene's)")
    parser.add_argument("--resolution", type=float, default=None, help="output pixel size in CRS units")
    parser.add_argument("--resampling", default="near", help="resampling of scenes on another grid (default near)")
    parser.add_argument("--workers", type=int, default=2, help="threads compositing windows (default 2)")
    parser.add_argument("--output", required=True, help="composite GeoTIFF")
    parser.add_argument("--output-qa", help="QA GeoTIFF: max NDVI, day of year, valid observations")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..composite import CompositeOptions, ndvi_quality_mosaic
    from ..extent import parse_extent
    from ..scenes import load_scenes, parse_date

    start, end = parse_date(args.start_date), parse_date(args.end_date)
    mask_band = args.mask_band or None
    suffix = (args.mask_suffix or "").strip()
    if suffix.lower() == "none" or mask_band is not None:
        suffix = ""
    progress(0.0, "Reading the scenes' dates")
    scenes = load_scenes(args.scenes, args.folder, args.pattern, suffix or None, start, end)
    options = CompositeOptions(
        red_band=args.red_band,
        nir_band=args.nir_band,
        scale=args.scale,
        offset=args.offset,
        start_date=start,
        end_date=end,
        mask_band=mask_band,
        invalid_classes=_int_list(args.invalid_classes),
        extent=parse_extent(args.extent) if args.extent else None,
        aoi=args.mask or None,
        target_crs=args.target_crs or None,
        resolution=args.resolution or None,
        resampling=args.resampling,
        workers=args.workers,
    )
    return ndvi_quality_mosaic(scenes, args.output, options, args.output_qa or None, progress)

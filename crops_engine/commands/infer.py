"""Map a composite with a model: streaming sliding-window inference to a class map GeoTIFF.

INPUT must give exactly the features the model was trained on (the composite, plus the same
EXTRA_BANDS). Tiles of TILE_SIZE pixels (0: the checkpoint's block size rounded up to a multiple
of the model's stride) overlap by OVERLAP pixels (-1: a quarter of the tile) and are blended with a
cosine window, so no seam shows. EXTENT ('xmin,xmax,ymin,ymax [EPSG:xxxx]', QGIS order) limits the
output grid; MASK (a polygon layer, any CRS) sets pixels outside its polygons to nodata. Outputs:
the class map (UInt8, 255 = nodata, paletted with the checkpoint's classes) and optionally the
confidence (max probability), normalised entropy and per-class probabilities (Float32, -1 = nodata).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import add_torch_arguments, extra_band_specs, option
from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("MODEL"), required=True, help="model checkpoint (.safetensors)")
    parser.add_argument(option("INPUT"), required=True, help="composite GeoTIFF with the model's features")
    parser.add_argument(
        option("EXTRA_BANDS"),
        action="append",
        default=[],
        help="extra feature bands the model was trained with, on INPUT's grid: PATH or PATH@BANDS "
        "(e.g. qa.tif@doy); repeat the option or separate with ';'",
    )
    parser.add_argument(option("EXTENT"), help="area to map: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)")
    parser.add_argument(option("MASK"), help="polygon layer ('path' or 'path|layername=name'): nodata outside")
    parser.add_argument(option("TILE_SIZE"), type=int, default=0, help="tile width and height in pixels (0: auto)")
    parser.add_argument(option("OVERLAP"), type=int, default=-1, help="overlap of tiles in pixels (-1: tile / 4)")
    parser.add_argument(option("BATCH_SIZE"), type=int, default=0,
                        help="tiles per batch (0: 4 on CPU, sized to free GPU memory on CUDA)")
    add_torch_arguments(parser, seed=False)
    parser.add_argument(option("OUTPUT"), required=True, help="class map GeoTIFF")
    parser.add_argument(option("OUTPUT_CONFIDENCE"), help="confidence GeoTIFF (max class probability)")
    parser.add_argument(option("OUTPUT_ENTROPY"), help="entropy GeoTIFF (0 certain .. 1 undecided)")
    parser.add_argument(option("OUTPUT_PROBABILITIES"), help="probabilities GeoTIFF, one band per class")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..extent import parse_extent
    from ..infer import InferOptions, Outputs, available_cpus, infer

    extra = extra_band_specs(args.extra_bands)
    options = InferOptions(
        tile_size=args.tile_size,
        overlap=args.overlap,
        batch_size=args.batch_size,
        device=args.device,
        extent=parse_extent(args.extent) if args.extent else None,
        mask=args.mask or None,
        extra_bands=extra,
        amp=args.amp,
        threads=args.threads or available_cpus(),
    )
    outputs = Outputs(
        classes=args.output,
        confidence=args.output_confidence or None,
        entropy=args.output_entropy or None,
        probabilities=args.output_probabilities or None,
    )
    return infer(args.model, args.input, outputs, options, progress)

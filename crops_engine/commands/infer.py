"""The `infer` command (Processing `crops:infer`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import AMP, DEVICE, STATISTICS_ALIGNMENT, THREADS, Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="infer", algorithm="infer", context="InferAlgorithm", display_name="Map crops (inference)",
    group="inference",
    summary="Map a composite with a model: streaming sliding-window inference to a class map GeoTIFF.",
    help=(
        "Runs a model (from Train source model or an adaptation) over a composite and writes the class map, coloured "
        "and labelled with the model's classes.\n"
        "\n"
        "Composite: a raster with exactly the features the model was trained on (same bands, same order; Extra bands "
        "as used for training, PATH or PATH@BANDS separated by ';'). A clear error lists missing or extra features.\n"
        "Extent and/or Area of interest (polygons, any CRS) limit the map; pixels outside the polygons and pixels "
        "with nodata in any feature are nodata.\n"
        "The raster is processed in overlapping tiles blended with a smooth window, so no seams show, and streamed to "
        "disk: memory does not grow with the raster's height. Tile size: 0 = the model's block size rounded up to a "
        "multiple of the model's stride. Overlap in pixels: -1 = a quarter of the tile. Batch size: 0 = 4 on CPU, "
        "sized to the free memory on a GPU (halved automatically if it runs out). Device: auto uses a CUDA GPU when "
        "the engine's torch has one; mixed precision on CUDA.\n"
        "\n"
        "Outputs: class map (Byte, 255 = nodata) and optionally the confidence (the winning class's probability), the "
        "normalised entropy (0 certain .. 1 undecided) and the probabilities (one band per class), Float32 with -1 = "
        "nodata. All are tiled, compressed GeoTIFFs with overviews and a .qml style."
    ),
    params=(
        Param("MODEL", "file", "Model (.safetensors)", "model checkpoint (.safetensors)", extension="safetensors"),
        Param("INPUT", "raster", "Composite", "composite GeoTIFF with the model's features"),
        Param("EXTENT", "extent", "Extent", "area to map: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)",
              optional=True),
        Param("MASK", "polygons", "Area of interest (polygons)",
              "polygon layer ('path' or 'path|layername=name'): nodata outside", optional=True),
        DEVICE,
        Param("EXTRA_BANDS", "list", "Extra bands (PATH or PATH@BANDS; ';' separated)",
              "extra feature bands the model was trained with, on INPUT's grid: PATH or PATH@BANDS (e.g. qa.tif@doy); "
              "repeat the option or separate with ';'", optional=True, advanced=True),
        Param("TILE_SIZE", "int", "Tile size (pixels; 0: automatic)", "tile width and height in pixels (0: auto)",
              default=0, minimum=0, advanced=True),
        Param("OVERLAP", "int", "Overlap (pixels; -1: a quarter of the tile)",
              "overlap of tiles in pixels (-1: tile / 4)",
              default=-1, minimum=-1, advanced=True),
        Param("BATCH_SIZE", "int", "Batch size (tiles; 0: automatic)",
              "tiles per batch (0: 4 on CPU, sized to free GPU memory on CUDA)", default=0, minimum=0, advanced=True),
        STATISTICS_ALIGNMENT,
        AMP,
        THREADS,
        Param("OUTPUT", "raster_out", "Class map", "class map GeoTIFF"),
        Param("OUTPUT_CONFIDENCE", "raster_out", "Confidence", "confidence GeoTIFF (max class probability)",
              optional=True, create_by_default=False),
        Param("OUTPUT_ENTROPY", "raster_out", "Entropy", "entropy GeoTIFF (0 certain .. 1 undecided)", optional=True,
              create_by_default=False),
        Param("OUTPUT_PROBABILITIES", "raster_out", "Class probabilities", "probabilities GeoTIFF, one band per class",
              optional=True, create_by_default=False),
    ),
    outputs=(Output("VALID_PIXELS", "number", "Mapped pixels"),),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..extent import parse_extent
    from ..infer import InferOptions, Outputs, available_cpus, infer
    from ..statistics_alignment import check_model_alignment, raster_band_map

    check_model_alignment(args.model, args.statistics_alignment, progress)
    band_map = raster_band_map(args.model, args.input, args.statistics_alignment, args.extra_bands, progress)
    options = InferOptions(
        tile_size=args.tile_size,
        overlap=args.overlap,
        batch_size=args.batch_size,
        device=args.device,
        extent=parse_extent(args.extent) if args.extent else None,
        mask=args.mask or None,
        extra_bands=args.extra_bands,
        amp=args.amp,
        threads=args.threads or available_cpus(),
        band_map=band_map,
    )
    outputs = Outputs(
        classes=args.output,
        confidence=args.output_confidence or None,
        entropy=args.output_entropy or None,
        probabilities=args.output_probabilities or None,
    )
    return infer(args.model, args.input, outputs, options, progress)

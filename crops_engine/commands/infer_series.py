"""The `infer-series` command (Processing `crops:infer_series`): map scenes with a model of a time series."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import AMP, DEVICE, THREADS, Command, Output, Param
from ..progress import Progress
from .build_series import SPEC as BUILD_SERIES

_SERIES_PARAMS = ("SCENES", "FOLDER", "PATTERN", "MASK_SUFFIX", "INVALID_CLASSES", "RED_BAND", "NIR_BAND", "SCALE",
                  "OFFSET", "START_DATE", "END_DATE", "STEP_DAYS")

SPEC = Command(
    name="infer-series", algorithm="infer_series", context="InferSeriesAlgorithm",
    display_name="Map crops from a time series (inference)", group="inference",
    summary="Map scenes with a model of a time series: the series composited tile by tile, sliding-window inference.",
    help=(
        "Runs a model trained on a time series (Build time-series blocks, then Train source model, e.g. with the "
        "U-TAE architecture, or an adaptation of it) over the scenes and writes the class map.\n"
        "\n"
        "Scenes, cloud mask, bands, Start / End date and Step days: as for Build time-series blocks. The series must "
        "have as many steps and the same bands as the model's (a clear error says otherwise): for a map in season, "
        "an earlier End date with a model trained on as many steps.\n"
        "Each overlapping tile is composited from the scenes step by step (the max-NDVI of each step, gaps "
        "interpolated in time) and blended with a smooth window as Map crops does, so memory does not grow with the "
        "raster's height or the number of scenes. Tile size, overlap, batch size, device: as for Map crops.\n"
        "\n"
        "Outputs: class map (Byte, 255 = nodata) and optionally the confidence, the normalised entropy and the "
        "probabilities, as Map crops writes them."
    ),
    params=(
        Param("MODEL", "file", "Model (.safetensors)", "model checkpoint (.safetensors) of a time-series model",
              extension="safetensors"),
        *(BUILD_SERIES.param(name) for name in _SERIES_PARAMS),
        Param("EXTENT", "extent", "Extent", "area to map: 'xmin,xmax,ymin,ymax [EPSG:xxxx]' (QGIS extent text)",
              optional=True),
        DEVICE,
        Param("TILE_SIZE", "int", "Tile size (pixels; 0: automatic)", "tile width and height in pixels (0: auto)",
              default=0, minimum=0, advanced=True),
        Param("OVERLAP", "int", "Overlap (pixels; -1: a quarter of the tile)",
              "overlap of tiles in pixels (-1: tile / 4)", default=-1, minimum=-1, advanced=True),
        Param("BATCH_SIZE", "int", "Batch size (tiles; 0: automatic)",
              "tiles per batch (0: 4 on CPU, sized to free GPU memory on CUDA)", default=0, minimum=0, advanced=True),
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
    outputs=(Output("VALID_PIXELS", "number", "Mapped pixels"), Output("STEPS", "number", "Time steps")),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..infer import InferOptions, Outputs, available_cpus
    from ..series.infer import infer_series
    from .ndvi_qm import read_scenes

    scenes, composite = read_scenes(args, progress)
    options = InferOptions(tile_size=args.tile_size, overlap=args.overlap, batch_size=args.batch_size,
                           device=args.device, amp=args.amp, threads=args.threads or available_cpus())
    outputs = Outputs(
        classes=args.output,
        confidence=args.output_confidence or None,
        entropy=args.output_entropy or None,
        probabilities=args.output_probabilities or None,
    )
    return infer_series(args.model, scenes, outputs, args.step_days, composite, options, progress)

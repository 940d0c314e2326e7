"""Accuracy of a class map against reference labels: per-class IoU, F1, precision, recall, kappa.

INPUT is a class map (e.g. from infer). REFERENCE is a code raster, or a polygon layer with
LABEL_FIELD ('path' or 'path|layername=name', any CRS: reprojected), put on the class map's grid.
CLASS_MAP turns reference codes into classes ('1200=maize; *=other; 0=ignore'); without it the
model's training class map is used when the model is known, else the label values are the classes
(names from a classes.csv beside the labels). The class map's values are named by MODEL when given,
else by the checkpoint recorded in the map, its category names or its .qml style. Classes are
matched by name, then by code. Only pixels where the reference has a class and the map is not
nodata count. Writes an HTML report (OUTPUT) and/or JSON (OUTPUT_JSON).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..cli import option
from ..errors import CropsError
from ..progress import Progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(option("INPUT"), required=True, help="class map GeoTIFF to evaluate")
    parser.add_argument(option("REFERENCE"), required=True,
                        help="reference labels: code raster, or polygon layer ('path' or 'path|layername=name')")
    parser.add_argument(option("LABEL_FIELD"), help="attribute of the polygon layer holding the class code or name")
    parser.add_argument(option("CLASS_MAP"), help="reference codes to classes, e.g. '1200=maize; *=other; 0=ignore'")
    parser.add_argument(option("MODEL"), help="checkpoint (.safetensors) whose classes the class map's values are")
    parser.add_argument(option("OUTPUT"), help="HTML report")
    parser.add_argument(option("OUTPUT_JSON"), help="metrics as JSON")


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..evaluate import evaluate_class_map

    if not args.output and not args.output_json:
        raise CropsError("Give OUTPUT (HTML report) or OUTPUT_JSON (or both) for the metrics.")
    return evaluate_class_map(
        args.input,
        args.reference,
        output=args.output or None,
        output_json=args.output_json or None,
        label_field=args.label_field or None,
        reference_class_map=args.class_map or None,
        model=args.model or None,
        progress=progress,
    )

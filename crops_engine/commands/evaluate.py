"""The `evaluate` command (Processing `crops:evaluate`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="evaluate", algorithm="evaluate", context="EvaluateAlgorithm", display_name="Evaluate class map",
    group="inference", requires_torch=False,
    summary="Accuracy of a class map against reference labels: per-class IoU, F1, precision, recall, kappa.",
    help=(
        "Compares a class map (e.g. the output of crops:infer) with reference labels and reports overall accuracy, "
        "Cohen's kappa, and per class IoU, F1, precision and recall, with the confusion matrix.\n"
        "\n"
        "Reference: a raster of label codes, or polygons with a Label field (any CRS: reprojected), put on the class "
        "map's grid. Class map: codes to classes, e.g. '1200=maize; *=other; 0=ignore'; empty: the model's training "
        "class map when the model is known, else the label values are the classes (names from a classes.csv beside "
        "the labels).\n"
        "The class map's values are named by Model when given, else by the model recorded in the class map, its "
        "category names or its .qml style. Reference classes are matched to the map's classes by name, then by code; "
        "a reference class the map does not know counts as never predicted.\n"
        "Only pixels where the reference has a class and the class map is not nodata count.\n"
        "Polygons are scored per field too: each field's majority class (of its evaluated pixels) against its "
        "reference class, with the fields' confusion matrix and every field listed in the JSON.\n"
        "Reference is a probability sample: tick it when the reference was drawn at random (simple random, or "
        "stratified random with the map's classes as strata), not where labels happened to be. The report then "
        "adds the area-adjusted estimates of Olofsson et al. (2014): each class's area with its 95 % confidence "
        "interval, user's and producer's accuracy and overall accuracy weighted by the mapped area shares. The "
        "sample units are the reference's pixels, or its fields for polygons.\n"
        "\n"
        "Outputs: an HTML report (pictures, areas per class) and the same figures as JSON."
    ),
    params=(
        Param("INPUT", "raster", "Class map", "class map GeoTIFF to evaluate"),
        Param("REFERENCE", "map_layer", "Reference labels (raster or polygons)",
              "reference labels: code raster, or polygon layer ('path' or 'path|layername=name')",
              layer_types=("raster", "polygons")),
        Param("LABEL_FIELD", "field", "Label field (polygons)",
              "attribute of the polygon layer holding the class code or name", optional=True, parent="REFERENCE"),
        Param("CLASS_MAP", "text", "Class map (codes to classes)",
              "reference codes to classes, e.g. '1200=maize; *=other; 0=ignore'", default="", optional=True),
        Param("REFERENCE_CRS", "crs", "CRS of a reference that has none",
              "the CRS the reference's coordinates are in, for a reference that declares none (one that has a CRS "
              "keeps its own); without it such a reference is refused", optional=True, advanced=True),
        Param("REFERENCE_IS_SAMPLE", "bool", "Reference is a probability sample (area-adjusted estimates)",
              "the reference was drawn at random (simple, or stratified by map class): add the area-adjusted "
              "class areas with 95% confidence intervals and accuracies of Olofsson et al. (2014)", default=False),
        Param("MODEL", "file", "Model (names the class map's values)",
              "checkpoint (.safetensors) whose classes the class map's values are", optional=True,
              file_filter="Model (*.safetensors)"),
        Param("OUTPUT", "file_out", "Report", "HTML report", optional=True, file_filter="HTML files (*.html)"),
        Param("OUTPUT_JSON", "file_out", "Metrics (JSON)", "metrics as JSON", optional=True,
              file_filter="JSON files (*.json)", create_by_default=False),
    ),
    outputs=(
        Output("OVERALL_ACCURACY", "number", "Overall accuracy"),
        Output("MEAN_IOU", "number", "Mean IoU"),
        Output("MEAN_F1", "number", "Mean F1"),
        Output("KAPPA", "number", "Kappa"),
        Output("PIXELS", "number", "Pixels evaluated"),
        Output("FIELD_ACCURACY", "number", "Overall accuracy of the fields (polygon reference)"),
        Output("AREA_ADJUSTED_ACCURACY", "number", "Area-adjusted overall accuracy (probability sample)"),
    ),
)


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
        reference_crs=args.reference_crs or None,
        reference_is_sample=bool(args.reference_is_sample),
    )

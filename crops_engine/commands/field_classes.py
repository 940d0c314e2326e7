"""The `field-classes` command (Processing `crops:field_classes`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import Command, Output, Param
from ..progress import Progress

SPEC = Command(
    name="field-classes", algorithm="field_classes", context="FieldClassesAlgorithm",
    display_name="Crop per field", group="inference", requires_torch=False,
    summary="The crop of each field (parcel polygons) from a class map, with confidence, share and area.",
    help=(
        "Gives every field (a parcel polygon, any CRS) the crop the class map shows in it, and writes the fields "
        "as a GeoPackage styled by crop with the map's colours.\n"
        "\n"
        "Rule: majority (the class with the most pixels whose centre lies in the field) or mean_probability (the "
        "class with the highest mean probability; needs Class probabilities from Map crops). Each field gets "
        "class_value, class_name, class_share (the winning class's share of the field's pixels), confidence (the "
        "mean of the Confidence raster, or the winning class's mean probability), pixels and area_ha (in the "
        "map's CRS, or an equal-area CRS when the map is in degrees), beside its own attributes. Fields with no "
        "mapped pixel keep an empty class.\n"
        "The log lists the hectares per crop, in fields and on the whole map. Model: the checkpoint that made the "
        "class map, when the map does not name its classes itself."
    ),
    params=(
        Param("PARCELS", "polygons", "Fields (parcel polygons)", "parcel polygons ('path' or 'path|layername=name')"),
        Param("INPUT", "raster", "Class map", "class map GeoTIFF (from infer)"),
        Param("RULE", "choice", "Class of a field", "majority of its pixels, or the highest mean probability",
              default="majority", choices=("majority", "mean_probability"),
              labels={"majority": "Majority of its pixels", "mean_probability": "Highest mean probability"}),
        Param("CONFIDENCE", "raster", "Confidence (optional)", "confidence GeoTIFF infer wrote with the class map",
              optional=True),
        Param("PROBABILITIES", "raster", "Class probabilities (optional)",
              "class probabilities GeoTIFF infer wrote with the class map (needed by mean_probability)",
              optional=True),
        Param("MODEL", "file", "Model (names the class map's values)",
              "checkpoint (.safetensors) whose classes the class map's values are", optional=True,
              file_filter="Model (*.safetensors)", advanced=True),
        Param("OUTPUT", "vector_out", "Fields with their crop", "GeoPackage of the fields with their crop (.gpkg)"),
    ),
    outputs=(
        Output("FIELDS", "number", "Fields"),
        Output("FIELDS_WITHOUT_PIXELS", "number", "Fields without a mapped pixel"),
    ),
)


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..field_classes import field_classes

    return field_classes(args.parcels, args.input, args.output, rule=args.rule, confidence=args.confidence or None,
                         probabilities=args.probabilities or None, model=args.model or None, progress=progress)

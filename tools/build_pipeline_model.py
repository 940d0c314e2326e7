"""Writes resources/models/crops_pipeline.model3: the whole CROPS chain as a Processing model.

scenes (source, target) -> NDVI-QM -> source blocks -> source model -> partition of the
target -> SPCL adaptation -> class map of the target. Run with QGIS's Python
(`make pipeline-model`); the model opens in the graphical modeler and runs with
`qgis_process.bin run resources/models/crops_pipeline.model3 -- ...`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "resources" / "models" / "crops_pipeline.model3"
sys.path.insert(0, str(ROOT))

from crops_engine.command_spec import OUTPUT_KINDS  # noqa: E402
from crops_engine.commands import command_specs  # noqa: E402

SPECS = {spec.algorithm: spec for spec in command_specs()}


def build():
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFile,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterString,
    )

    model = QgsProcessingModelAlgorithm("crops_pipeline", "CROPS")
    model.setHelpContent(
        {
            "ALG_DESC": "The whole CROPS chain: NDVI quality mosaics of a labelled source season and an "
            "unlabelled target season, a source model, the easy/hard partition of the target, SPCL "
            "adaptation (target images only) and the target's crop map.",
        }
    )
    inputs = [
        QgsProcessingParameterFile("source_scenes", "Source scenes folder", QgsProcessingParameterFile.Folder),
        QgsProcessingParameterRasterLayer("source_labels", "Source labels (class ids; classes.csv beside)"),
        QgsProcessingParameterFile("target_scenes", "Target scenes folder", QgsProcessingParameterFile.Folder),
        QgsProcessingParameterString("start_date", "Season start (YYYY-MM-DD)", "2019-03-01"),
        QgsProcessingParameterString("end_date", "Season end (YYYY-MM-DD)", "2019-10-31"),
        QgsProcessingParameterNumber("block_size", "Block size", QgsProcessingParameterNumber.Integer, 64, False, 16),
        QgsProcessingParameterNumber(
            "train_iterations", "Source training iterations", QgsProcessingParameterNumber.Integer, 400, False, 1
        ),
        QgsProcessingParameterNumber(
            "adapt_iterations", "SPCL iterations", QgsProcessingParameterNumber.Integer, 200, False, 1
        ),
    ]
    for definition in inputs:
        model.addModelParameter(definition, QgsProcessingModelParameter(definition.name()))

    def param(name):
        return [QgsProcessingModelChildParameterSource.fromModelParameter(name)]

    def static(value):
        return [QgsProcessingModelChildParameterSource.fromStaticValue(value)]

    def output_of(child_id, name):
        return [QgsProcessingModelChildParameterSource.fromChildOutput(child_id, name)]

    from qgis.PyQt.QtCore import QPointF

    column = iter(range(100))

    def child(child_id, algorithm, description, sources, outputs=()):
        step = QgsProcessingModelChildAlgorithm(algorithm)
        step.setChildId(child_id)
        step.setDescription(description)
        step.setPosition(QPointF(120 + 250 * next(column), 300))  # left to right in pipeline order
        spec = SPECS[algorithm.split(":", 1)[1]]
        for p in spec.params:  # every other parameter at its declared default (static strings for choices)
            if p.name not in sources and not p.hidden and p.kind not in OUTPUT_KINDS and p.default not in (None, ""):
                sources[p.name] = static(p.default)
        for name, source in sources.items():
            step.addParameterSources(name, source)
        model_outputs = {}
        for out_name, child_output, title in outputs:
            out = QgsProcessingModelOutput(out_name, title)
            out.setChildId(child_id)
            out.setChildOutputName(child_output)
            model_outputs[out_name] = out
        step.setModelOutputs(model_outputs)
        model.addChildAlgorithm(step)

    season = {
        "PATTERN": static("S2_L2A_????????.tif"),
        "START_DATE": param("start_date"),
        "END_DATE": param("end_date"),
    }
    child("source_qm", "crops:ndvi_qm", "Source NDVI quality mosaic", {"FOLDER": param("source_scenes"), **season})
    child("target_qm", "crops:ndvi_qm", "Target NDVI quality mosaic", {"FOLDER": param("target_scenes"), **season})
    child(
        "blocks",
        "crops:build_blocks",
        "Source training blocks",
        {
            "COMPOSITE": output_of("source_qm", "OUTPUT"),
            "LABELS": param("source_labels"),
            "BLOCK_SIZE": param("block_size"),
        },
    )
    child(
        "train",
        "crops:train_source",
        "Source model",
        {"BLOCKS": output_of("blocks", "OUTPUT"), "ITERATIONS": param("train_iterations")},
        [("source_model", "OUTPUT", "Source model")],
    )
    child(
        "partition",
        "crops:partition",
        "Easy/hard partition of the target",
        {
            "MODEL": output_of("train", "OUTPUT"),
            "COMPOSITE": output_of("target_qm", "OUTPUT"),
            "BLOCK_SIZE": param("block_size"),
        },
        [("easy_hard", "OUTPUT_MASK", "Easy/hard blocks")],
    )
    child(
        "adapt",
        "crops:adapt_spcl",
        "SPCL adaptation (target images only)",
        {
            "MODEL": output_of("train", "OUTPUT"),
            "BLOCKS": output_of("partition", "OUTPUT_BLOCKS"),
            "ITERATIONS": param("adapt_iterations"),
        },
        [("adapted_model", "OUTPUT", "Adapted model")],
    )
    child(
        "map",
        "crops:infer",
        "Target crop map",
        {"MODEL": output_of("adapt", "OUTPUT"), "INPUT": output_of("target_qm", "OUTPUT")},
        [("class_map", "OUTPUT", "Crop classes"), ("confidence", "OUTPUT_CONFIDENCE", "Confidence")],
    )
    return model


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    model = build()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    if not model.toFile(str(OUTPUT)):
        print(f"could not write {OUTPUT}", file=sys.stderr)
        return 1
    print(OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

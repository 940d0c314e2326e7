"""Real data through qgis_process: crops:ndvi_qm -> build_blocks -> train_source -> infer -> evaluate.

Flanders 2018 (64 x 64 px): maize vs. other, code 0 ignored, composite over 2018-03-01..2018-10-31,
blocks of 32 px. Few iterations: this proves the chain and the files, not the accuracy.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

FLANDERS = Path(__file__).resolve().parents[1].parent / "shared/data/worldcereal" / "flanders2018_31UDS"
CLASS_MAP = "1200=maize; *=other; 0=ignore"


@pytest.fixture(scope="module")
def flanders() -> Path:
    if not (FLANDERS / "scenes").is_dir() or not (FLANDERS / "labels_crop_type.tif").is_file():
        pytest.skip(f"real Flanders 2018 data not found at {FLANDERS}")
    return FLANDERS


def test_train_source_on_flanders_through_qgis_process(qgis_process, flanders, tmp_path):
    composite = tmp_path / "composite.tif"
    qgis_process(
        "crops:ndvi_qm", FOLDER=flanders / "scenes", PATTERN="S2_L2A_????????.tif", START_DATE="2018-03-01",
        END_DATE="2018-10-31", OUTPUT=composite,
    )
    blocks = tmp_path / "blocks.h5"
    built = qgis_process(
        "crops:build_blocks", COMPOSITE=composite, LABELS=flanders / "labels_crop_type.tif", CLASS_MAP=CLASS_MAP,
        BLOCK_SIZE=32, VAL_FRACTION=0.25, OUTPUT=blocks,
    )["results"]
    assert built["BLOCKS"] == 4 and built["VAL_BLOCKS"] == 1

    model = tmp_path / "maize.safetensors"
    result = qgis_process(
        "crops:train_source", BLOCKS=blocks, ITERATIONS=3, BATCH_SIZE=2, ARCH="unet", DEVICE="cpu", SEED=1,
        THREADS=1,
        OUTPUT=model,
    )["results"]
    assert result["OUTPUT"] == str(model) and result["STEPS"] == 3
    metrics = json.loads(Path(result["METRICS_JSON"]).read_text())
    assert [row["step"] for row in metrics["epochs"]] == [2, 3]  # 3 training blocks, batch 2: 2 steps an epoch
    assert [c["name"] for c in metrics["epochs"][-1]["val_classes"]] == ["maize", "other"]
    with open(result["METRICS_CSV"], newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    assert Path(result["RESUME_STATE"]).is_file()

    from crops_engine.checkpoint import read_metadata

    meta = read_metadata(model)
    assert meta.class_names == ["maize", "other"] and meta.classes[0].code == 1200
    assert meta.block_size == 32 and len(meta.features) == 10
    assert meta.provenance["class_map"] == CLASS_MAP

    # map the composite with the model, then evaluate the class map against the reference
    class_map = tmp_path / "maize.tif"
    qgis_process("crops:infer", MODEL=model, INPUT=composite, DEVICE=1, OUTPUT=class_map)
    report, figures = tmp_path / "report.html", tmp_path / "metrics.json"
    evaluated = qgis_process(
        "crops:evaluate", INPUT=class_map, REFERENCE=flanders / "labels_crop_type.tif", CLASS_MAP=CLASS_MAP,
        OUTPUT=report, OUTPUT_JSON=figures,
    )["results"]
    doc = json.loads(figures.read_text())
    assert evaluated["PIXELS"] == doc["pixels"] == 1249 + 835 + 96 + 31 + 25  # every labelled pixel (README)
    assert [c["name"] for c in doc["per_class"]] == ["maize", "other"]
    assert "Confusion matrix" in report.read_text()

"""crops:partition and crops:adapt end to end through qgis_process on the sample pair; the masks open styled."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def pipeline(sample_pipeline):
    return sample_pipeline


def test_partition_and_adapt_through_qgis_process(qgis_process, qgis_app, pipeline, tmp_path):
    from qgis.core import QgsRasterLayer

    from crops_engine.blocks import BlockStore

    store = tmp_path / "target.h5"
    mask, confidence = tmp_path / "mask.tif", tmp_path / "confidence.tif"
    result = qgis_process(
        "crops:partition", MODEL=pipeline["model"], COMPOSITE=pipeline["target_composite"], OUTPUT_BLOCKS=store,
        EASY_FRACTION=0.5, PER_CLASS="true", SCORE="entropy", DEVICE="cpu", OUTPUT_MASK=mask,
        OUTPUT_CONFIDENCE=confidence,
    )["results"]
    assert result["OUTPUT_MASK"] == str(mask) and result["OUTPUT_CONFIDENCE"] == str(confidence)
    assert result["OUTPUT_BLOCKS"] == str(store)
    with BlockStore(store) as s:
        assert not s.has_labels
        assert len(s.split("easy")) == result["EASY_BLOCKS"] > 0 and len(s.split("hard")) == result["HARD_BLOCKS"] > 0
        assert s.partition_info["score"] == "entropy" and s.partition_info["per_class"] is True
    assert result["MEAN_SCORE_EASY"] > result["MEAN_SCORE_HARD"]

    layer = QgsRasterLayer(str(mask), "mask")  # loads mask.qml, as QGIS does when the output is opened
    assert layer.isValid() and layer.renderer().type() == "paletted"
    entries = [(int(c.value), c.label, c.color.name()) for c in layer.renderer().classes()]
    assert entries == [(1, "easy", "#2c7bb6"), (2, "hard", "#d7191c")]
    grey = QgsRasterLayer(str(confidence), "confidence")
    assert grey.isValid() and grey.renderer().type() == "singlebandgray"

    # the partitioned store feeds the baseline adaptation (BLOCKS mode of partition re-splits in place)
    again = qgis_process("crops:partition", MODEL=pipeline["model"], BLOCKS=store, EASY_FRACTION=0.25, DEVICE=1)
    assert again["results"]["OUTPUT_BLOCKS"] == str(store)
    adapted = tmp_path / "adapted.safetensors"
    out = qgis_process(
        "crops:adapt", METHOD="self_training", MODEL=pipeline["model"], BLOCKS=store, SPLIT="easy", ITERATIONS=2,
        BATCH_SIZE=2,
        DEVICE="cpu", CALIBRATION_BLOCKS=4, THREADS=1, OUTPUT=adapted,
    )["results"]
    assert out["OUTPUT"] == str(adapted) and out["STEPS"] == 2 and Path(out["LOG"]).is_file()
    from crops_engine.checkpoint import read_metadata

    prov = read_metadata(adapted).provenance
    assert prov["method"] == "self_training" and prov["target_store"]["split"] == "easy"

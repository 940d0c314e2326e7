"""crops:pretrain through qgis_process: a tiny run with an evaluation; the encoder, its report and the encoder
loaded by crops:train_source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TINY_UNET, write_scene

pytestmark = pytest.mark.qgis


def test_pretrain_through_qgis_process(qgis_process, tmp_path):
    from crops_engine.blocks import build_block_store

    composite, labels = write_scene(tmp_path / "scene", 3, unlabelled_columns=4)
    store = tmp_path / "labelled.h5"
    build_block_store(composite, store, labels=labels, class_map="1200=maize; *=other; 0=ignore", block_size=32,
                      stride=16, val_fraction=0.25, val_group_size=1, seed=0)
    encoder, report = tmp_path / "encoder.safetensors", tmp_path / "report.html"
    result = qgis_process(
        "crops:pretrain", COMPOSITES=composite, BLOCKS=store, ITERATIONS=4, BATCH_SIZE=4, DEVICE="cpu", SEED=1,
        THREADS=1, ARCH_ARGS=json.dumps(TINY_UNET), PROJECTION_DIM=16, PREDICTION_DIM=4, EVAL_BLOCKS=store,
        EVAL_ITERATIONS=2, OUTPUT=encoder, OUTPUT_REPORT=report,
    )["results"]
    assert result["OUTPUT"] == str(encoder) and result["OUTPUT_REPORT"] == str(report) and result["STEPS"] == 4
    assert Path(result["RESUME_STATE"]).is_file()
    for key in ("PROBE_MIOU", "FINE_TUNE_MIOU", "RANDOM_INIT_MIOU"):
        assert 0.0 <= result[key] <= 1.0
    assert report.read_text(encoding="utf-8").count("data:image/png;base64,") == 5
    from crops_engine.pretrain.encoder import read_encoder_meta

    meta = read_encoder_meta(encoder)
    assert meta.features == ["b1", "b2", "b3"] and meta.provenance["steps"] == 4
    assert [i["kind"] for i in meta.provenance["inputs"]] == ["composite", "blocks"]

    model = tmp_path / "model.safetensors"
    trained = qgis_process(
        "crops:train_source", BLOCKS=store, PRETRAINED=encoder, ENCODER_LR_SCALE=0.1, ARCH_ARGS=json.dumps(
            {"decoder_channels": [8, 8, 8, 8, 8]}), ITERATIONS=2, BATCH_SIZE=4, DEVICE="cpu", THREADS=1, OUTPUT=model,
    )["results"]
    assert trained["STEPS"] == 2
    from crops_engine.checkpoint import read_metadata

    assert read_metadata(model).provenance["encoder_lr_scale"] == 0.1

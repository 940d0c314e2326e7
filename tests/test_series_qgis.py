"""Real data through qgis_process (issue 17): crops:build_series -> crops:train_source with ARCH utae ->
crops:infer_series -> crops:evaluate.

Flanders 2018 (64 x 64 px), maize vs. other, April..September in 30-day steps, blocks of 32 px. Few
iterations: this proves the chain, the store and the checkpoint's steps, not the accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.qgis

FLANDERS = Path(__file__).resolve().parents[1].parent / "shared/data/worldcereal" / "flanders2018_31UDS"
CLASS_MAP = "1200=maize; *=other; 0=ignore"
TINY = '{"encoder": "test_resnet", "decoder_channels": [16, 8, 8, 8, 8], "embedding_dim": 8, "heads": 2, "key_dim": 4}'


@pytest.fixture(scope="module")
def flanders() -> Path:
    if not (FLANDERS / "scenes").is_dir() or not (FLANDERS / "labels_crop_type.tif").is_file():
        pytest.skip(f"real Flanders 2018 data not found at {FLANDERS}")
    return FLANDERS


def test_series_to_a_temporal_model_through_qgis_process(qgis_process, flanders, tmp_path):
    blocks = tmp_path / "series.h5"
    built = qgis_process(
        "crops:build_series", FOLDER=flanders / "scenes", PATTERN="S2_L2A_????????.tif", START_DATE="2018-04-01",
        END_DATE="2018-09-27", STEP_DAYS=30, LABELS=flanders / "labels_crop_type.tif", CLASS_MAP=CLASS_MAP,
        BLOCK_SIZE=32, VAL_FRACTION=0.25, OUTPUT=blocks,
    )["results"]
    assert built["BLOCKS"] == 4 and built["VAL_BLOCKS"] == 1 and built["STEPS"] == 6

    from crops_engine.blocks import BlockStore

    with BlockStore(blocks) as store:
        assert store.steps == 6 and store.series(0).shape == (6, 10, 32, 32)
        dates = [s["start"] for s in store.series_info["steps"]]
        assert dates[0] == "2018-04-01" and dates[-1] == "2018-08-29"

    model = tmp_path / "utae.safetensors"
    result = qgis_process(
        "crops:train_source", BLOCKS=blocks, ITERATIONS=2, BATCH_SIZE=2, ARCH="utae", ARCH_ARGS=TINY, DEVICE="cpu",
        SEED=1, THREADS=1, OUTPUT=model,
    )["results"]
    assert result["OUTPUT"] == str(model) and result["STEPS"] == 2
    metrics = json.loads(Path(result["METRICS_JSON"]).read_text())
    assert [c["name"] for c in metrics["epochs"][-1]["val_classes"]] == ["maize", "other"]

    from crops_engine.checkpoint import read_metadata

    meta = read_metadata(model)
    assert meta.arch == "utae" and meta.arch_args["steps"] == 6 and meta.arch_args["dates"] == dates
    assert len(meta.features) == 60 and meta.features[:2] == ["t01:B02", "t01:B03"]

    # map the scenes with the temporal model (tiles composited step by step), then evaluate the class map
    class_map = tmp_path / "maize.tif"
    mapped = qgis_process(
        "crops:infer_series", MODEL=model, FOLDER=flanders / "scenes", PATTERN="S2_L2A_????????.tif",
        START_DATE="2018-04-01", END_DATE="2018-09-27", STEP_DAYS=30, TILE_SIZE=32, OVERLAP=8, DEVICE="cpu",
        OUTPUT=class_map,
    )["results"]
    assert mapped["STEPS"] == 6 and mapped["VALID_PIXELS"] == 64 * 64
    figures = tmp_path / "metrics.json"
    evaluated = qgis_process(
        "crops:evaluate", INPUT=class_map, REFERENCE=flanders / "labels_crop_type.tif", CLASS_MAP=CLASS_MAP,
        OUTPUT=tmp_path / "report.html", OUTPUT_JSON=figures,
    )["results"]
    assert evaluated["PIXELS"] == 1249 + 835 + 96 + 31 + 25  # every labelled pixel (README)
    assert [c["name"] for c in json.loads(figures.read_text())["per_class"]] == ["maize", "other"]

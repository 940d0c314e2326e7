"""The seeds' other methods through the real qgis_process binary: crops:adapt METHOD=co_training (a tiny run, and its
refusal of one model and one round), crops:adapt_spcl PROTOTYPES=probabilistic, and crops:align_statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.qgis

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from test_spcl import TINY, write_scene

    from crops_engine.blocks import BlockStore, build_block_store
    from crops_engine.partition import PartitionOptions, partition
    from crops_engine.train import TrainConfig, train_source

    root = tmp_path_factory.mktemp("issue15_qgis")
    composite, labels = write_scene(root / "source")
    store = root / "source.h5"
    build_block_store(composite, store, labels=labels, class_map="1200=maize; *=other", block_size=32,
                      val_fraction=0.25, val_group_size=1, seed=0)
    model = root / "source.safetensors"
    train_source(TrainConfig(blocks=str(store), output=str(model), arch_args=TINY, batch_size=4, lr=3e-3,
                             device="cpu", iterations=20))
    target_composite, _ = write_scene(root / "target", shift=0.05, seed=1)
    target = root / "target.h5"
    build_block_store(target_composite, target, block_size=32)
    partition(model, target, options=PartitionOptions(device="cpu"))
    assert len(BlockStore(target).split("easy"))
    return {"model": model, "target": target, "composite": target_composite}


def test_co_training_headless(qgis_process, prepared, tmp_path):
    from crops_engine.checkpoint import read_metadata

    out = tmp_path / "co.safetensors"
    result = qgis_process("crops:adapt", METHOD="co_training", MODEL=prepared["model"], BLOCKS=prepared["target"],
                          ITERATIONS=4, BATCH_SIZE=4, CALIBRATION_BLOCKS=4, CO_ROUNDS=1, CO_EPOCHS=1,
                          CO_FINAL_EPOCHS=1, CO_FUSION="agreement", CO_SHARE=0.6, CO_MIN_PIXELS=8,
                          CO_DIVERSITY="seeds", DEVICE="cpu", SEED=2, OUTPUT=out)
    outputs = result["results"]
    assert outputs["OUTPUT"] == str(out) and out.is_file() and outputs["LOG"].endswith("co.adapt.json")
    prov = read_metadata(out).provenance
    assert prov["method"] == "co_training"
    hp = prov["summary"]["run_hyperparameters"]
    assert (hp["co_rounds"], hp["co_fusion"], hp["co_share"], hp["co_min_pixels"], hp["co_diversity"]) == (
        1, "agreement", 0.6, 8, "seeds")
    log = json.loads((tmp_path / "co.adapt.json").read_text())
    assert [r["round"] for r in log["summary"]["rounds"]] == [1, "final"]
    assert all("agreement" in r and "pseudo_label_class_shares" in r for r in log["summary"]["rounds"])


def test_co_training_with_one_model_and_one_round_is_refused(qgis_process, prepared, tmp_path):
    from conftest import run_qgis_process

    out = tmp_path / "one.safetensors"
    proc = run_qgis_process("run", "crops:adapt", "--", "METHOD=co_training", f"MODEL={prepared['model']}",
                            f"BLOCKS={prepared['target']}", "CO_MODELS=1", "CO_ROUNDS=1", "DEVICE=cpu",
                            f"OUTPUT={out}")
    assert proc.returncode != 0 and not out.exists()
    assert "one model and one round is no co-training" in proc.stdout + proc.stderr


def test_spcl_probabilistic_and_align_statistics_headless(qgis_process, prepared, tmp_path):
    from osgeo import gdal

    from crops_engine.checkpoint import read_metadata

    out = tmp_path / "pppc.safetensors"
    qgis_process("crops:adapt_spcl", MODEL=prepared["model"], BLOCKS=prepared["target"], ITERATIONS=3, BATCH_SIZE=2,
                 CONF_THRESHOLD=0.6, PROTOTYPES="probabilistic", STATISTICS_ALIGNMENT="none", DEVICE="cpu", OUTPUT=out)
    prov = read_metadata(out).provenance
    assert prov["hyperparameters"]["prototypes"] == "probabilistic" and "prototype_variances" in prov["summary"]

    aligned = tmp_path / "aligned.tif"
    result = qgis_process("crops:align_statistics", MODEL=prepared["model"], INPUT=prepared["composite"],
                          STATISTICS_ALIGNMENT="histogram", OUTPUT=aligned)
    assert result["results"]["OUTPUT"] == str(aligned) and result["results"]["BANDS"] > 0
    assert aligned.with_suffix(".qml").is_file()
    ds = gdal.Open(str(aligned))
    src = gdal.Open(str(prepared["composite"]))
    assert ds.RasterCount == src.RasterCount and ds.GetMetadataItem("STATISTICS_ALIGNMENT") == "histogram"
    band = ds.GetRasterBand(1).ReadAsArray()
    assert np.isfinite(band).any()

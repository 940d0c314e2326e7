"""crops:adapt_spcl through the real qgis_process binary, then crops:infer with the adapted model.

The source model and the partitioned target store are made with the engine (fast); the two steps a
user runs after partition go through Processing, headless, exactly as the demo chain does.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qgis

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from test_spcl import TINY, write_scene

    from crops_engine.blocks import BlockStore, build_block_store, write_partition
    from crops_engine.train import TrainConfig, train_source

    root = tmp_path_factory.mktemp("spcl_qgis")
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
    n = len(BlockStore(target))
    write_partition(target, np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    return {"model": model, "target": target, "composite": target_composite, "root": root}


def test_adapt_spcl_then_infer_headless(qgis_process, prepared, tmp_path):
    from osgeo import gdal

    from crops_engine.checkpoint import file_sha256, read_metadata

    adapted = tmp_path / "adapted.safetensors"
    result = qgis_process(
        "crops:adapt_spcl",
        MODEL=prepared["model"],
        BLOCKS=prepared["target"],
        ITERATIONS=4,
        BATCH_SIZE=2,
        LR=0.001,
        EMA=0.99,
        TEMPERATURE=0.2,
        CONF_THRESHOLD=0.6,
        LAMBDA_CONTRAST=0.5,
        HARD_SCHEDULE="linear",
        MIX_WEIGHTING=1,  # confidence
        RECALIBRATE_BN=False,
        DEVICE="cpu",
        SEED=3,
        OUTPUT=adapted,
    )
    outputs = result["results"]
    assert outputs["OUTPUT"] == str(adapted) and adapted.is_file()
    assert outputs["STEPS"] == 4 and outputs["LOG"].endswith("adapted.adapt.json")
    prov = read_metadata(adapted).provenance
    assert prov["method"] == "spcl" and prov["source_checkpoint"]["sha256"] == file_sha256(prepared["model"])
    hp = prov["hyperparameters"]
    assert (hp["iterations"], hp["batch_size"], hp["ema"], hp["temperature"], hp["seed"]) == (4, 2, 0.99, 0.2, 3)
    assert (hp["conf_threshold"], hp["lambda_contrast"], hp["hard_schedule"], hp["mix_weighting"]) == (
        0.6, 0.5, "linear", "confidence")
    assert hp["recalibrate_bn"] is False
    assert prov["device"] == "cpu"

    classes = tmp_path / "classes.tif"
    qgis_process("crops:infer", MODEL=adapted, INPUT=prepared["composite"], DEVICE=1, OUTPUT=classes)
    ds = gdal.Open(str(classes))
    values = set(np.unique(ds.GetRasterBand(1).ReadAsArray()).tolist())
    assert ds.RasterXSize == 128 and ds.RasterYSize == 64
    assert values and values <= {0, 1}

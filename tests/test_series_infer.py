"""Mapping with a model of a series (issue 17): tiles of (T * C, tile, tile) composited from the scenes, blended
as `infer` blends, equal to the series the model was trained on; a model of another step count refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import torch
from osgeo import gdal

from crops_engine.block_dataset import checkpoint_inputs
from crops_engine.blocks import BlockStore
from crops_engine.checkpoint import save_checkpoint
from crops_engine.composite import CompositeOptions
from crops_engine.errors import CropsError
from crops_engine.infer import InferOptions, Outputs
from crops_engine.models import build_model
from crops_engine.scenes import load_scenes
from crops_engine.series import build_series_store
from crops_engine.series.infer import infer_series

torch.set_num_threads(1)

TINY = dict(encoder="test_resnet", decoder_channels=[16, 8, 8, 8, 8], embedding_dim=8, heads=2, key_dim=4)
START, END = date(2018, 4, 1), date(2018, 9, 27)


@pytest.fixture(scope="module")
def series(worldcereal: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The 2018 patch as one 64 px block of six 30-day steps, and a (random-weight) U-TAE checkpoint for it."""
    folder = tmp_path_factory.mktemp("series-infer")
    patch = worldcereal / "flanders2018_31UDS"
    scenes = load_scenes(folder=patch / "scenes", start=START, end=END)
    options = CompositeOptions(start_date=START, end_date=END)
    store_path = folder / "series.h5"
    build_series_store(scenes, store_path, 30, options, labels=patch / "labels_crop_type.tif",
                       class_map="1200=maize; *=other; 0=ignore", block_size=64, val_fraction=0)
    torch.manual_seed(0)
    with BlockStore(store_path) as store:
        model = build_model("utae", len(store.feature_names), 2, steps=store.steps,
                            step_days=store.series_info["days"], **TINY)
        meta = checkpoint_inputs(store) | {"classes": store.classes, "provenance": {}}
        x, valid = store.inputs(0), store.valid(0)
    checkpoint = folder / "utae.safetensors"
    save_checkpoint(checkpoint, model.eval(), meta)
    return {"scenes": scenes, "options": options, "checkpoint": checkpoint, "inputs": x, "valid": valid,
            "folder": folder, "model": model}


def pixel_softmax(channels: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.5, (2, channels)).astype(np.float32)

    def predict(batch: np.ndarray) -> np.ndarray:
        logits = np.einsum("kc,nchw->nkhw", a, batch)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    return predict


@pytest.mark.parametrize("tile,overlap", [(32, 8), (32, 0)])
def test_tiled_series_equals_the_store_for_a_per_pixel_model(series: dict, tmp_path: Path, tile: int,
                                                             overlap: int) -> None:
    """Each tile composites its own window of the scenes: per pixel, the same series build-series stored."""
    x, valid = series["inputs"], series["valid"]
    predict = pixel_softmax(x.shape[0])
    expected = predict(x[None])[0]
    out = Outputs(tmp_path / "classes.tif", probabilities=tmp_path / "probs.tif")
    result = infer_series(series["checkpoint"], series["scenes"], out, 30, series["options"],
                          InferOptions(tile_size=tile, overlap=overlap, batch_size=2, device="cpu"), predict=predict)
    assert result["steps"] == 6 and result["step_starts"][0] == "2018-04-01" and result["tiles"] >= 4
    probs = gdal.Open(str(tmp_path / "probs.tif")).ReadAsArray()
    np.testing.assert_allclose(probs[:, valid], expected[:, valid], rtol=0, atol=2e-6)
    classes = gdal.Open(str(tmp_path / "classes.tif"))
    assert "2018-04-01" in classes.GetMetadataItem("CROPS_STEP_STARTS")
    np.testing.assert_array_equal(classes.ReadAsArray()[valid], expected.argmax(0)[valid])


def test_tiled_series_with_the_real_model_agrees_with_the_whole_image(series: dict, tmp_path: Path) -> None:
    """A CNN sees past its tile: tiles cannot equal the whole image exactly, blended overlaps keep them close."""
    whole = Outputs(tmp_path / "whole.tif", probabilities=tmp_path / "whole_p.tif")
    tiled = Outputs(tmp_path / "tiled.tif", probabilities=tmp_path / "tiled_p.tif")
    infer_series(series["checkpoint"], series["scenes"], whole, 30, series["options"],
                 InferOptions(tile_size=64, overlap=0, batch_size=1, device="cpu", amp=False))
    infer_series(series["checkpoint"], series["scenes"], tiled, 30, series["options"],
                 InferOptions(tile_size=32, overlap=16, batch_size=2, device="cpu", amp=False))
    with torch.no_grad():
        direct = torch.softmax(series["model"](torch.from_numpy(series["inputs"][None])).logits, 1)[0].numpy()
    valid = series["valid"]
    p_whole = gdal.Open(str(tmp_path / "whole_p.tif")).ReadAsArray()
    np.testing.assert_allclose(p_whole[:, valid], direct[:, valid], atol=1e-4)  # one tile: the model itself
    p_tiled = gdal.Open(str(tmp_path / "tiled_p.tif")).ReadAsArray()
    inner = np.zeros_like(valid)
    inner[8:-8, 8:-8] = True
    inner &= valid
    assert np.abs(p_tiled[:, inner] - p_whole[:, inner]).mean() < 0.05


def test_a_model_of_another_step_count_is_refused_before_any_output(series: dict, tmp_path: Path) -> None:
    out = Outputs(tmp_path / "classes.tif")
    options = CompositeOptions(start_date=START, end_date=date(2018, 7, 29))
    with pytest.raises(CropsError, match="made for a series of 6 steps but the input has 4"):
        infer_series(series["checkpoint"], series["scenes"], out, 30, options, InferOptions(device="cpu"))
    assert not list(tmp_path.iterdir())
    with pytest.raises(CropsError, match="no MASK polygons or EXTRA_BANDS"):
        infer_series(series["checkpoint"], series["scenes"], out, 30, series["options"],
                     InferOptions(device="cpu", extra_bands=("x.tif",)))

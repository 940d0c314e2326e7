"""Source-free statistics alignment: the quantiles source training records, histogram matching of a shifted raster onto
them, mean/std alignment, a checkpoint without quantiles, the aligned block store, and the option of partition,
adaptation and inference."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("h5py")

from test_partition import make_random_target  # noqa: E402

from crops_engine.checkpoint import CheckpointMeta, read_metadata  # noqa: E402
from crops_engine.classes import CropClass  # noqa: E402
from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff, open_raster  # noqa: E402
from crops_engine.statistics_alignment import (  # noqa: E402
    QUANTILE_LEVELS,
    AlignedBlockStore,
    align_composite,
    align_store,
    fit_band_map,
    quantiles_of,
    raster_sample,
    reopen_store,
)

GRID = Grid(64, 48, (600000.0, 10.0, 0.0, 5700000.0, 0.0, -10.0), epsg_wkt(32631))
NAMES = ["B04", "B08"]


def write_raster(path, data, nodata=-9999.0, names=NAMES):
    ds = create_geotiff(path, GRID, data.shape[0], np.float32, nodata, names)
    for i in range(data.shape[0]):
        ds.GetRasterBand(i + 1).WriteArray(data[i])
    finish_geotiff(ds)
    del ds
    return path


def source_model(path, source: np.ndarray, quantiles: bool = True):
    """A checkpoint whose normalisation is the statistics of `source` (C, P), with or without quantiles."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("timm")
    from crops_engine.checkpoint import save_checkpoint
    from crops_engine.models import build_model

    torch.manual_seed(0)
    model = build_model("unet", source.shape[0], 2, encoder="lcnet_050", decoder_channels=[8, 8, 8, 8, 8],
                        embedding_dim=8)
    norm = {"mean": source.mean(axis=1).tolist(), "std": source.std(axis=1).tolist()}
    if quantiles:
        norm["quantiles"] = {"levels": list(QUANTILE_LEVELS), "values": quantiles_of(source).tolist()}
    save_checkpoint(path, model, {"features": NAMES, "classes": [CropClass(0, "a", "#ff0000", 1),
                                                                 CropClass(1, "b", "#00ff00", 2)],
                                  "block_size": 16, "normalisation": norm})
    return path


@pytest.fixture()
def shifted(tmp_path):
    rng = np.random.default_rng(0)
    source = np.stack([rng.gamma(2.0, 300.0, 20000), rng.normal(3000.0, 600.0, 20000)])
    target = np.stack([rng.gamma(2.0, 300.0, GRID.height * GRID.width) * 1.4 + 250.0,
                       rng.normal(3000.0, 600.0, GRID.height * GRID.width) ** 1.05 * 0.7]).reshape(2, GRID.height,
                                                                                                  GRID.width)
    target = target.astype(np.float32)
    target[:, :5, :7] = -9999.0  # nodata stays nodata
    return {"source": source, "target": write_raster(tmp_path / "target.tif", target),
            "model": source_model(tmp_path / "model.safetensors", source)}


def test_histogram_matching_maps_a_shifted_rasters_quantiles_onto_the_recorded_ones(shifted, tmp_path):
    out = tmp_path / "aligned.tif"
    before = quantiles_of(raster_sample(shifted["target"])[0])
    recorded = np.asarray(read_metadata(shifted["model"]).normalisation["quantiles"]["values"])
    result = align_composite(shifted["model"], shifted["target"], out, "histogram", Progress())
    assert result["bands"] == 2 and out.with_suffix(".qml").is_file()
    sample, names = raster_sample(out)
    after = quantiles_of(sample)
    spread = recorded[:, 95] - recorded[:, 5]
    inner = slice(2, 99)
    assert (np.abs(before - recorded)[:, inner].max(axis=1) / spread > 0.1).all()  # it was shifted
    assert (np.abs(after - recorded)[:, inner].max(axis=1) / spread < 0.01).all()  # now it is not
    assert names == NAMES and sample.shape[1] == raster_sample(shifted["target"])[0].shape[1]  # nodata kept
    ds = open_raster(out)
    assert np.isnan(ds.GetRasterBand(1).ReadAsArray()[:5, :7]).all() and ds.GetMetadataItem("STATISTICS_ALIGNMENT")


def test_mean_std_alignment_matches_the_recorded_mean_and_std(shifted, tmp_path):
    out = tmp_path / "aligned_ms.tif"
    align_composite(shifted["model"], shifted["target"], out, "mean_std")
    sample, _ = raster_sample(out)
    norm = read_metadata(shifted["model"]).normalisation
    assert np.allclose(sample.mean(axis=1), norm["mean"], rtol=1e-4)
    assert np.allclose(sample.std(axis=1), norm["std"], rtol=1e-3)


def test_a_checkpoint_without_quantiles_refuses_histogram_matching_and_aligns_mean_std(shifted, tmp_path):
    old = source_model(tmp_path / "old.safetensors", shifted["source"], quantiles=False)
    assert "quantiles" not in read_metadata(old).normalisation
    with pytest.raises(CropsError, match="trained before CROPS recorded them.*mean_std"):
        align_composite(old, shifted["target"], tmp_path / "h.tif", "histogram")
    assert not (tmp_path / "h.tif").exists()
    align_composite(old, shifted["target"], tmp_path / "m.tif", "mean_std")
    assert (tmp_path / "m.tif").is_file()


def test_bad_inputs_are_clear_errors(shifted, tmp_path):
    with pytest.raises(CropsError, match="GeoTIFF"):
        align_composite(shifted["model"], shifted["target"], tmp_path / "a.h5")
    with pytest.raises(CropsError, match="overwrite the composite"):
        align_composite(shifted["model"], shifted["target"], shifted["target"])
    other = write_raster(tmp_path / "other.tif", np.ones((2, GRID.height, GRID.width), np.float32), names=["X", "Y"])
    with pytest.raises(CropsError, match=r"Bands \['X', 'Y'\].*not among the features"):
        align_composite(shifted["model"], other, tmp_path / "o.tif")
    with pytest.raises(CropsError, match="none aligns nothing"):
        align_composite(shifted["model"], shifted["target"], tmp_path / "n.tif", "none")


def test_ties_in_the_target_quantiles_give_a_monotone_map():
    norm = {"mean": [1.0], "std": [1.0], "quantiles": {"levels": [0.0, 0.5, 1.0], "values": [[0.0, 1.0, 2.0]]}}
    sample = np.array([[0.0] * 70 + [5.0, 6.0, 7.0] * 10])  # 70 % zeros: the lower quantiles tie
    band_map = fit_band_map("histogram", norm, sample)
    assert np.all(np.diff(band_map.x[0]) > 0) and np.all(np.diff(band_map.y[0]) >= 0)
    out = band_map.apply(np.array([[[0.0, 6.0, 100.0, np.nan]]], dtype=np.float32))
    assert out[0, 0, 2] == pytest.approx(2.0) and np.isnan(out[0, 0, 3]) and out[0, 0, 0] <= out[0, 0, 1]


def test_checkpoint_quantiles_are_validated_and_kept():
    base = {"arch": "unet", "arch_args": {}, "in_channels": 1, "num_classes": 1, "features": ["B1"],
            "classes": [{"value": 0, "name": "a", "colour": "#ff0000", "code": 1}], "block_size": 8}
    good = {"mean": [1.0], "std": [2.0], "quantiles": {"levels": [0.0, 1.0], "values": [[0.0, 3.0]]}}
    try:
        meta = CheckpointMeta.from_dict(base | {"normalisation": good})
    except ValueError as exc:  # this CROPS may check arch_args against the registry
        pytest.skip(f"metadata check needs a buildable architecture: {exc}")
    assert meta.to_dict()["normalisation"]["quantiles"] == good["quantiles"]
    assert "quantiles" not in CheckpointMeta.from_dict(base | {"normalisation": {"mean": [1.0], "std": [2.0]}}
                                                       ).to_dict()["normalisation"]
    for bad in ({"levels": [0.0, 1.0], "values": [[3.0, 0.0]]}, {"levels": [1.0, 0.0], "values": [[0.0, 3.0]]},
                {"levels": [0.0, 1.0], "values": [[0.0, 3.0], [0.0, 3.0]]}, {"levels": [0.0], "values": [[0.0]]}):
        with pytest.raises(ValueError, match="quantiles"):
            CheckpointMeta.from_dict(base | {"normalisation": good | {"quantiles": bad}})


# -- block stores, partition, adaptation, inference ---------------------------------------------------------


@pytest.fixture(scope="module")
def random_target(tmp_path_factory):
    return make_random_target(tmp_path_factory.mktemp("alignment-target"))


def test_training_records_the_quantiles_of_its_blocks(sample_pipeline):
    from crops_engine.blocks import BlockStore
    from crops_engine.statistics_alignment import store_sample

    norm = read_metadata(sample_pipeline["model"]).normalisation
    q = norm["quantiles"]
    assert q["levels"] == list(QUANTILE_LEVELS) and len(q["values"]) == len(norm["mean"])
    assert all(np.all(np.diff(band) >= 0) for band in q["values"])
    with BlockStore(sample_pipeline["source_store"]) as store:
        train = store.split("train") if "train" in store.splits else np.arange(len(store))
        expected = quantiles_of(store_sample(store, train))
    assert np.allclose(q["values"], expected, rtol=1e-5)


def test_an_aligned_store_aligns_its_images_only(random_target):
    from crops_engine.blocks import BlockStore

    meta = read_metadata(random_target["model"])
    store = BlockStore(random_target["store"])
    shifted_norm = {"mean": [m * 2 + 1 for m in meta.normalisation["mean"]], "std": meta.normalisation["std"]}
    aligned = align_store(store, shifted_norm, "mean_std", "m")
    assert isinstance(aligned, AlignedBlockStore)
    raw, new = BlockStore(random_target["store"]).images(np.arange(3)), aligned.images(np.arange(3))
    valid = aligned.valid(np.arange(3))
    assert np.array_equal(np.isfinite(raw), np.isfinite(new))
    m = np.moveaxis(new, 1, 0)[:, valid]
    assert not np.allclose(m, np.moveaxis(raw, 1, 0)[:, valid])
    again = reopen_store(aligned)
    assert isinstance(again, AlignedBlockStore) and np.array_equal(again.images(0), aligned.images(0), equal_nan=True)
    assert align_store(store, shifted_norm, "none") is store
    with pytest.raises(CropsError, match="STATISTICS_ALIGNMENT 'both'"):
        align_store(store, shifted_norm, "both")
    with pytest.raises(CropsError, match="histogram needs the per-band quantiles"):
        align_store(store, shifted_norm, "histogram", "m")


def test_partition_adaptation_and_inference_take_the_option(random_target, tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("timm")
    import shutil
    import threading

    from crops_engine.adapt import adapt, make_config
    from crops_engine.blocks import BlockStore
    from crops_engine.commands import command_module
    from crops_engine.partition import PartitionOptions, partition

    torch.set_num_threads(1)
    store, plain = tmp_path / "target.h5", tmp_path / "plain.h5"
    shutil.copyfile(random_target["store"], store)
    shutil.copyfile(random_target["store"], plain)
    partition(random_target["model"], store, options=PartitionOptions(device="cpu", statistics_alignment="mean_std"))
    partition(random_target["model"], plain, options=PartitionOptions(device="cpu"))
    with BlockStore(store) as s, BlockStore(plain) as p:
        assert s.partition_info["statistics_alignment"] == "mean_std"
        assert not np.allclose(s.partition.scores, p.partition.scores)  # scored on aligned blocks
    out = tmp_path / "adapted.safetensors"
    cfg = make_config("entropy", model=str(random_target["model"]), blocks=str(store), output=str(out), iterations=2,
                      batch_size=4, device="cpu", statistics_alignment="mean_std")
    logs, readers = [], set()
    original = AlignedBlockStore.images

    def recording(self, idx):
        readers.add(threading.current_thread().name)
        return original(self, idx)

    AlignedBlockStore.images = recording
    try:
        adapt("entropy", cfg, Progress(lambda e, p: logs.append(p.get("text", ""))))
    finally:
        AlignedBlockStore.images = original
    assert any("Statistics alignment (mean_std)" in t for t in logs)
    assert "crops-prefetch" in readers  # the training batches are read aligned too
    assert read_metadata(out).provenance["hyperparameters"]["statistics_alignment"] == "mean_std"
    # inference: the same map on the fly, and a warning when the model was adapted with another alignment
    import argparse

    from crops_engine.command_spec import add_arguments

    infer = command_module("infer")
    parser = argparse.ArgumentParser()
    add_arguments(parser, infer.SPEC)
    events = []
    for kind in ("mean_std", "none"):
        args = parser.parse_args(["--model", str(out), "--input", str(random_target["composite"]), "--device", "cpu",
                                  "--statistics-alignment", kind, "--output", str(tmp_path / f"map_{kind}.tif"),
                                  "--output-confidence", str(tmp_path / f"conf_{kind}.tif")])
        infer.run(args, Progress(lambda e, p: events.append((e, p))))
    warnings = [p["text"] for e, p in events if e == "log" and p.get("level") == "warning"]
    assert len([w for w in warnings if "adapted on target blocks with STATISTICS_ALIGNMENT mean_std" in w]) == 1
    ds_a, ds_b = open_raster(tmp_path / "conf_mean_std.tif"), open_raster(tmp_path / "conf_none.tif")
    a, b = ds_a.GetRasterBand(1).ReadAsArray(), ds_b.GetRasterBand(1).ReadAsArray()
    assert a.shape == b.shape and not np.array_equal(a, b)  # the alignment changed the input
    assert json.dumps(read_metadata(out).provenance["hyperparameters"])  # JSON-able


def test_no_method_reads_a_target_label_with_statistics_alignment(random_target, tmp_path, monkeypatch):
    """The registry-wide label-read guard (tests/test_spcl.py) with the target aligned: measuring the target's
    statistics, partition and every adaptation method (co-training's labelling passes open their own aligned
    store) on a store that holds labels read neither them nor their class counts."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("timm")
    from dataclasses import replace

    from crops_engine.adapt import METHODS, adapt, make_config
    from crops_engine.blocks import BlockStore, build_block_store
    from crops_engine.checkpoint import load_model, save_checkpoint
    from crops_engine.partition import PartitionOptions, partition

    torch.set_num_threads(1)
    labelled = tmp_path / "labelled.h5"
    build_block_store(random_target["composite"], labelled, labels=random_target["labels"], block_size=16, stride=8,
                      val_fraction=0.0)
    model, meta = load_model(random_target["model"])
    with BlockStore(random_target["store"]) as store:  # a model with recorded quantiles: histogram matching works
        everything = np.arange(len(store))
        images, valid = store.images(everything), store.valid(everything)
    quantiles = {"levels": list(QUANTILE_LEVELS), "values": quantiles_of(np.moveaxis(images, 1, 0)[:, valid]).tolist()}
    recorded = tmp_path / "recorded.safetensors"
    save_checkpoint(recorded, model, replace(meta, normalisation={**meta.normalisation, "quantiles": quantiles}))

    def refuse(*args, **kwargs):
        raise AssertionError("statistics alignment or a method read target labels")

    monkeypatch.setattr(BlockStore, "labels", refuse)
    monkeypatch.setattr(BlockStore, "class_counts", refuse)
    logs: list[str] = []
    progress = Progress(lambda e, p: logs.append(p.get("text", "")) if e == "log" else None)
    partition(recorded, labelled, options=PartitionOptions(device="cpu", statistics_alignment="histogram"),
              progress=progress)
    quick = {"co_rounds": 1, "co_epochs": 1, "co_final_epochs": 1, "co_min_pixels": 0, "conf_threshold": 0.5}
    for method in sorted(METHODS):
        out = tmp_path / f"{method}.safetensors"
        cfg = make_config(method, model=str(recorded), blocks=str(labelled), output=str(out), iterations=2,
                          batch_size=4, device="cpu", calibration_blocks=4, statistics_alignment="histogram",
                          prototypes="probabilistic", **quick)
        assert adapt(method, cfg, progress)["output"] == str(out)
        assert read_metadata(out).provenance["hyperparameters"]["statistics_alignment"] == "histogram"
    aligned = [t for t in logs if t.startswith("Statistics alignment (histogram)")]
    assert len(aligned) >= 1 + len(METHODS)  # partition and every method aligned the target (co-training: more)

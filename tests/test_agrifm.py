"""AgriFM-format samples: import into a block store, export back, several sources, bad inputs, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from engine_runs import TINY_ARGS, engine

from crops_engine.blocks.store import BlockStore
from crops_engine.errors import CropsError
from crops_engine.series.agrifm import export_agrifm, import_agrifm

S2_BANDS = ["B02", "B03", "B04"]


def write_samples(folder: Path, n: int = 6, size: int = 16, s2=(4, 3), s1: tuple[int, int] | None = None,
                  lists: dict[str, list[int]] | None = None, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """`n` AgriFM samples (S2, optionally S1, label codes 0 / 11 / 22) and data_lists; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i in range(n):
        arrays = {"S2": rng.normal(1000, 200, (*s2, size, size)).astype(np.float32)}
        if s1:
            arrays["S1"] = rng.normal(-12, 3, (*s1, size, size)).astype(np.float32)
        label = rng.choice(np.array([0, 11, 22], dtype=np.uint8), (size, size))
        label[0, :4] = [0, 11, 22, 11]  # every code in every sample
        arrays["label"] = label
        with h5py.File(folder / f"sample_{i:02d}.h5", "w") as h5:
            for name, value in arrays.items():
                h5.create_dataset(name, data=value)
            h5["S2"].attrs["bands"] = S2_BANDS[:s2[1]] if s2[1] <= 3 else [f"X{j}" for j in range(s2[1])]
        written[f"sample_{i:02d}"] = arrays
    lists = lists if lists is not None else {"train": list(range(n - 2)), "val": [n - 2, n - 1]}
    if lists:
        (folder / "data_lists").mkdir(exist_ok=True)
        for split, idx in lists.items():
            (folder / "data_lists" / f"{split}.txt").write_text("".join(f"sample_{i:02d}.h5\n" for i in idx))
    return written


def test_import_makes_a_series_store_like_build_series(tmp_path: Path) -> None:
    arrays = write_samples(tmp_path / "in")
    result = import_agrifm(tmp_path / "in", tmp_path / "store.h5", class_map="11=wheat; 22=maize; 0=ignore")
    assert result["blocks"] == 6 and result["train_blocks"] == 4 and result["val_blocks"] == 2
    with BlockStore(tmp_path / "store.h5") as store:
        assert len(store) == 6 and store.block_size == 16 and store.steps == 4
        assert store.feature_names[:4] == ["t01:B02", "t01:B03", "t01:B04", "t02:B02"]
        assert len(store.feature_names) == 12
        assert [c.name for c in store.classes] == ["wheat", "maize"] and [c.code for c in store.classes] == [11, 22]
        images = store.images(np.arange(6))
        assert images.dtype == np.float32 and images.shape == (6, 12, 16, 16)
        first = arrays["sample_00"]
        np.testing.assert_array_equal(store.series(0), first["S2"])
        labels = store.labels(0)
        assert labels.dtype == np.uint8
        np.testing.assert_array_equal(labels, np.select([first["label"] == 11, first["label"] == 22], [0, 1], 255))
        assert store.split("train").tolist() == [0, 1, 2, 3] and store.split("val").tolist() == [4, 5]
        stacked = np.concatenate([a["S2"].reshape(12, -1) for a in arrays.values()], axis=1)
        np.testing.assert_allclose(store.mean, stacked.mean(axis=1), rtol=1e-5)
        np.testing.assert_allclose(store.std, stacked.std(axis=1), rtol=1e-4)
        assert store.series_info["bands"] == S2_BANDS and len(store.series_info["days"]) == 4
        assert store.step_valid(0).all()
        assert store.class_counts(0).sum() == int((first["label"] != 0).sum())
        assert json.loads(store.attrs["sources"])[0]["name"] == "S2"


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    write_samples(tmp_path / "in", n=5, lists={"train": [0, 2, 4], "val": [1, 3]})
    import_agrifm(tmp_path / "in", tmp_path / "a.h5")
    result = export_agrifm(tmp_path / "a.h5", tmp_path / "out")
    assert result["samples"] == 5 and result["splits"] == {"train": 3, "val": 2}
    with h5py.File(tmp_path / "out" / "sample_02.h5", "r") as h5, \
            h5py.File(tmp_path / "in" / "sample_02.h5", "r") as orig:
        assert h5["S2"].shape == (4, 3, 16, 16) and h5["S2"].dtype == np.float32
        np.testing.assert_array_equal(h5["S2"][()], orig["S2"][()])
        np.testing.assert_array_equal(h5["label"][()], orig["label"][()])  # codes back, 0 = ignore
        assert h5["label"].shape == (16, 16)
    for split in ("train", "val"):
        assert (tmp_path / "out" / "data_lists" / f"{split}.txt").read_text() == \
            (tmp_path / "in" / "data_lists" / f"{split}.txt").read_text()
    import_agrifm(tmp_path / "out", tmp_path / "b.h5")
    with BlockStore(tmp_path / "a.h5") as a, BlockStore(tmp_path / "b.h5") as b:
        assert a.feature_names == b.feature_names and a.classes == b.classes
        assert a.series_info["steps"] == b.series_info["steps"]  # dates travel as the `dates` attribute
        np.testing.assert_array_equal(a.images(np.arange(5)), b.images(np.arange(5)))
        np.testing.assert_array_equal(a.labels(np.arange(5)), b.labels(np.arange(5)))
        for split in ("train", "val"):
            assert a.split(split).tolist() == b.split(split).tolist()


def test_two_sources_are_named_in_the_features_and_recorded(tmp_path: Path) -> None:
    arrays = write_samples(tmp_path / "in", n=3, s2=(4, 3), s1=(6, 2), lists={"train": [0, 1], "val": [2]})
    import_agrifm(tmp_path / "in", tmp_path / "two.h5", sources=["S2", "S1"], start_date="2021-03-01", step_days=10)
    with BlockStore(tmp_path / "two.h5") as store:
        names = store.feature_names
        assert len(names) == 4 * 3 + 6 * 2
        assert names[0] == "S2:t01:B02" and names[11] == "S2:t04:B04"
        assert names[12] == "S1:t01:b01" and names[-1] == "S1:t06:b02"
        sources = json.loads(store.attrs["sources"])
        assert [s["name"] for s in sources] == ["S2", "S1"]
        assert [len(s["steps"]) for s in sources] == [4, 6] and sources[1]["steps"][0]["start"] == "2021-03-01"
        assert store.series_info is None  # two time grids: not one series
        x = store.images(1)
        np.testing.assert_array_equal(x[:12], arrays["sample_01"]["S2"].reshape(12, 16, 16))
        np.testing.assert_array_equal(x[12:], arrays["sample_01"]["S1"].reshape(12, 16, 16))
    export_agrifm(tmp_path / "two.h5", tmp_path / "out")
    with h5py.File(tmp_path / "out" / "sample_01.h5", "r") as h5:
        assert h5["S2"].shape == (4, 3, 16, 16) and h5["S1"].shape == (6, 2, 16, 16)
        np.testing.assert_array_equal(h5["S1"][()], arrays["sample_01"]["S1"])
        assert [d.decode() if isinstance(d, bytes) else d for d in h5["S1"].attrs["dates"]][1] == "2021-03-11"
    # only the sources asked for are read
    import_agrifm(tmp_path / "in", tmp_path / "s1.h5", sources=["S1"])
    with BlockStore(tmp_path / "s1.h5") as store:
        assert store.steps == 6 and store.feature_names[0] == "t01:b01"


def _expect(match: str, *args, **kwargs) -> None:
    with pytest.raises(CropsError, match=match):
        import_agrifm(*args, **kwargs)


def test_bad_inputs_are_named_and_leave_no_store(tmp_path: Path) -> None:
    out = tmp_path / "store.h5"
    (tmp_path / "empty").mkdir()
    _expect("holds no .h5 file", tmp_path / "empty", out)

    write_samples(tmp_path / "nolabel", n=2, lists={})
    with h5py.File(tmp_path / "nolabel" / "sample_01.h5", "a") as h5:
        del h5["label"]
    _expect("sample_01.h5 has no `label`", tmp_path / "nolabel", out)

    write_samples(tmp_path / "hw", n=2, s1=(2, 2), lists={})
    with h5py.File(tmp_path / "hw" / "sample_00.h5", "a") as h5:
        del h5["S1"]
        h5.create_dataset("S1", data=np.zeros((2, 2, 8, 8), np.float32))
    _expect("Source S1 of .*sample_00.h5 is 8 x 8 pixels but its label is 16 x 16", tmp_path / "hw", out,
            sources=["S2", "S1"])

    write_samples(tmp_path / "ok", n=2, lists={})
    _expect("Source L8 is not in .*it has S2", tmp_path / "ok", out, sources=["S2", "L8"])

    write_samples(tmp_path / "sizes", n=2, lists={})
    write_samples(tmp_path / "sizes" / "big", n=1, size=24, lists={})
    (tmp_path / "sizes" / "big" / "sample_00.h5").rename(tmp_path / "sizes" / "sample_99.h5")
    _expect(r"sample_99.h5 is 24 x 24 pixels; a block store needs square samples of one size \(16 px\)",
            tmp_path / "sizes", out)

    write_samples(tmp_path / "corrupt", n=2, lists={})
    (tmp_path / "corrupt" / "sample_01.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    _expect("sample_01.h5 is not a readable HDF5 file", tmp_path / "corrupt", out)

    other = tmp_path / "someone.h5"
    with h5py.File(other, "w") as h5:
        h5["data"] = np.arange(3)
    _expect("exists and is not a CROPS block store", tmp_path / "ok", other)
    with h5py.File(other, "r") as h5:
        assert h5["data"][()].tolist() == [0, 1, 2]  # untouched

    (tmp_path / "ok" / "data_lists").mkdir()
    (tmp_path / "ok" / "data_lists" / "train.txt").write_text("sample_00.h5\nmissing.h5\n")
    _expect("names missing.h5, which is not in", tmp_path / "ok", out)
    assert not out.exists() and not list(tmp_path.glob("store*"))

    import_agrifm(tmp_path / "hw", out)  # the default source (S2) of the same files is fine
    import_agrifm(tmp_path / "hw", out)  # and an existing store is replaced
    with pytest.raises(CropsError, match="exists and is not empty"):
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x.txt").write_text("x")
        export_agrifm(out, tmp_path / "full")


def test_cli_import_gives_a_store_train_source_reads(tmp_path: Path) -> None:
    write_samples(tmp_path / "in", n=4, size=32, lists={"train": [0, 1, 2], "val": [3]})
    store = tmp_path / "store.h5"
    run = engine("import-agrifm", "--input", tmp_path / "in", "--sources", "S2",
                 "--class-map", "11=wheat; 22=maize; 0=ignore", "--output", store)
    assert run.returncode == 0, run.describe()
    assert run.result["blocks"] == 4 and run.result["val_blocks"] == 1
    model = tmp_path / "model.safetensors"
    run = engine("train-source", "--blocks", store, "--arch", "unet", "--arch-args", TINY_ARGS, "--iterations", "2",
                 "--batch-size", "2", "--device", "cpu", "--threads", "1", "--output", model, timeout=300)
    assert run.returncode == 0, run.describe()
    from crops_engine.checkpoint import read_metadata

    meta = read_metadata(model)
    with BlockStore(store) as s:
        assert meta.features == s.feature_names and [c.name for c in meta.classes] == ["wheat", "maize"]
    # partition and adaptation read the imported store unchanged
    run = engine("partition", "--model", model, "--blocks", store, "--device", "cpu", "--batch-size", "2",
                 "--output-mask", tmp_path / "mask.tif", timeout=300)
    assert run.returncode == 0, run.describe()
    with BlockStore(store) as s:
        assert len(s.split("easy")) + len(s.split("hard")) == 4
    run = engine("adapt", "--method", "entropy", "--model", model, "--blocks", store, "--iterations", "1",
                 "--batch-size", "2", "--device", "cpu", "--threads", "1", "--output", tmp_path / "adapted.safetensors",
                 timeout=300)
    assert run.returncode == 0, run.describe()
    run = engine("export-agrifm", "--input", store, "--output-folder", tmp_path / "out")
    assert run.returncode == 0, run.describe()
    assert run.result["samples"] == 4
    assert (tmp_path / "out" / "data_lists" / "val.txt").read_text() == "sample_03.h5\n"
    bad = engine("import-agrifm", "--input", tmp_path / "nowhere", "--output", tmp_path / "x.h5")
    assert bad.returncode != 0 and "not a folder" in bad.message


def test_a_build_series_store_round_trips_through_agrifm(worldcereal: Path, tmp_path: Path) -> None:
    from datetime import date

    from crops_engine.composite import CompositeOptions
    from crops_engine.scenes import load_scenes
    from crops_engine.series import build_series_store

    folder = worldcereal / "flanders2018_31UDS"
    start, end = date(2018, 4, 1), date(2018, 8, 20)  # the last step is shorter: its end must travel too
    x0, y0 = 501360 + 120, 5629680 - 200
    options = CompositeOptions(start_date=start, end_date=end, extent=(x0, y0 - 320, x0 + 480, y0, None))
    scenes = load_scenes(folder=folder / "scenes", start=start, end=end)
    built = tmp_path / "series.h5"
    build_series_store(scenes, built, 30, options, labels=folder / "labels_crop_type.tif",
                       class_map="1200=maize; *=other; 0=ignore", block_size=16, val_fraction=0.34, val_group_size=1)
    export_agrifm(built, tmp_path / "agrifm")
    import_agrifm(tmp_path / "agrifm", tmp_path / "back.h5")
    with BlockStore(built) as a, BlockStore(tmp_path / "back.h5") as b:
        n = len(a)
        assert n == len(b) > 2 and a.feature_names == b.feature_names and a.block_size == b.block_size
        assert a.series_info["steps"] == b.series_info["steps"] and a.series_info["days"] == b.series_info["days"]
        assert [(c.name, c.colour) for c in a.classes] == [(c.name, c.colour) for c in b.classes]
        np.testing.assert_array_equal(a.images(np.arange(n)), b.images(np.arange(n)))  # NaN padding included
        np.testing.assert_array_equal(a.valid(np.arange(n)), b.valid(np.arange(n)))
        np.testing.assert_array_equal(a.labels(np.arange(n)), b.labels(np.arange(n)))
        assert a.split("train").tolist() == b.split("train").tolist() and len(a.split("val")) > 0
        assert a.split("val").tolist() == b.split("val").tolist()


def test_a_model_of_two_sources_records_them_and_refuses_other_sources(tmp_path: Path) -> None:
    import torch

    from crops_engine.checkpoint import read_metadata
    from crops_engine.partition import PartitionOptions, partition
    from crops_engine.progress import Progress
    from crops_engine.train import TrainConfig, train_source

    torch.set_num_threads(1)
    write_samples(tmp_path / "in", n=4, size=32, s1=(3, 2), lists={"train": [0, 1, 2], "val": [3]})
    import_agrifm(tmp_path / "in", tmp_path / "two.h5", sources=["S2", "S1"])
    import_agrifm(tmp_path / "in", tmp_path / "s2.h5", sources=["S2"])
    model = tmp_path / "m.safetensors"
    train_source(TrainConfig(blocks=str(tmp_path / "two.h5"), output=str(model), arch="unet",
                             arch_args=json.loads(TINY_ARGS), batch_size=2, device="cpu", iterations=1), Progress())
    features = read_metadata(model).features
    assert features[0] == "S2:t01:B02" and features[-1] == "S1:t03:b02" and len(features) == 4 * 3 + 3 * 2
    partition(model, tmp_path / "two.h5", tmp_path / "mask.tif", options=PartitionOptions(device="cpu"))
    with pytest.raises(CropsError, match=r"made for the sources S2, S1 but the input has one source.*SOURCES S2;S1"):
        partition(model, tmp_path / "s2.h5", tmp_path / "mask2.tif", options=PartitionOptions(device="cpu"))

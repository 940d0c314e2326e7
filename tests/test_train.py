"""Source training: loss goes down, self-describing checkpoint, metrics files, exact resume, cancel, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_UNET, Recorder, write_scene

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.checkpoint import file_sha256, load_model, read_metadata  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.schedule import warmup_cosine  # noqa: E402
from crops_engine.train import TrainConfig, metrics_paths, train_source  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)

TINY = TINY_UNET


def make_store(folder, bands=3, with_labels=True):
    folder.mkdir(parents=True, exist_ok=True)
    composite, labels = write_scene(folder, bands, unlabelled_columns=4)
    store = folder / "blocks.h5"
    build_block_store(
        composite, store, labels=labels if with_labels else None,
        class_map="1200=maize; *=other; 0=ignore" if with_labels else None,
        block_size=32, val_fraction=0.25, val_group_size=1, seed=0,
    )
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = make_store(tmp_path_factory.mktemp("train") / "src")
    with BlockStore(path) as s:
        assert len(s) == 8 and len(s.split("val")) == 2
    return path


def config(store, output, **kw):
    base = dict(blocks=str(store), output=str(output), arch_args=TINY, batch_size=4, lr=3e-3, device="cpu",
                seed=3, iterations=12)
    base.update(kw)
    return TrainConfig(**base)



def test_training_lowers_loss_and_writes_a_self_describing_model(store, tmp_path):
    out = tmp_path / "model.safetensors"
    rec = Recorder()
    result = train_source(config(store, out, iterations=0, epochs=12), rec.progress())
    history = json.loads((tmp_path / "model.metrics.json").read_text())["epochs"]
    assert len(history) == 12 and [r["step"] for r in history] == [2 * (i + 1) for i in range(12)]  # 6 blocks / 4
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]
    assert result["best_val_miou"] == max(r["val_miou"] for r in history)
    assert result["steps"] == 24 and result["train_blocks_per_s"] > 0

    model, meta = load_model(out)
    with BlockStore(store) as s:
        assert meta.features == s.feature_names == ["b1", "b2", "b3"]
        np.testing.assert_allclose(meta.normalisation["mean"], s.mean)
        np.testing.assert_allclose(meta.normalisation["std"], s.std)
        assert [c.name for c in meta.classes] == ["maize", "other"] and meta.classes[0].code == 1200
        assert meta.block_size == 32 and meta.nodata == -9999.0
    prov = meta.provenance
    assert prov["block_store"]["sha256"] == file_sha256(store)
    assert prov["seed"] == 3 and prov["lr"] == 3e-3 and prov["class_map"].startswith("1200=maize")
    best = [r for r in history if r["best"]][-1]
    assert prov["iterations"] == best["step"] and prov["best"]["val_miou"] == best["val_miou"]
    assert [c["name"] for c in prov["best"]["val_classes"]] == ["maize", "other"]
    assert meta.arch == "unet" and meta.arch_args["encoder"] == "test_resnet"

    assert (tmp_path / "model.metrics.png").read_bytes().startswith(b"\x89PNG")  # the curves, as a picture
    rows = (tmp_path / "model.metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:6] == ["epoch", "step", "lr", "train_loss", "val_loss", "val_miou"]
    assert rows[0].endswith("iou_maize,iou_other") and len(rows) == 13
    assert any(e == "metric" and p["name"] == "val_miou" for e, p in rec.events)
    assert any(e == "progress" and "loss" in p.get("text", "") for e, p in rec.events)
    assert not list(tmp_path.glob("*crops-tmp*"))


def test_cancel_keeps_last_checkpoint_and_resume_continues_exactly(store, tmp_path):
    straight = tmp_path / "straight.safetensors"
    train_source(config(store, straight, val_every=4), Recorder().progress())

    cut = tmp_path / "cut.safetensors"
    rec = Recorder(cancel_at=6)
    with pytest.raises(Cancelled):
        train_source(config(store, cut, val_every=4), rec.progress())
    # the model of the last validation (step 4) is kept; the resume state is at the cancelled step
    assert read_metadata(cut).provenance["iterations"] == 4
    assert [r["step"] for r in json.loads(metrics_paths(cut)[0].read_text())["epochs"]] == [4]
    state = load_training_state(resume_path(cut))
    assert state.step == 6
    assert not list(tmp_path.glob("*crops-tmp*"))

    result = train_source(config(store, cut, val_every=4, resume=str(resume_path(cut))), Recorder().progress())
    assert result["steps"] == 12
    a, b = load_training_state(resume_path(straight)), load_training_state(resume_path(cut))
    assert a.step == b.step == 12
    for name, tensor in a.model.items():
        torch.testing.assert_close(b.model[name], tensor, rtol=0, atol=0, msg=name)
    for key, moments in a.optimizer["state"].items():
        torch.testing.assert_close(b.optimizer["state"][key]["exp_avg"], moments["exp_avg"], rtol=0, atol=0)
        assert float(b.optimizer["state"][key]["step"]) == 12
    assert b.optimizer["param_groups"][0]["lr"] == pytest.approx(a.optimizer["param_groups"][0]["lr"])
    assert b.optimizer["param_groups"][0]["lr"] == pytest.approx(3e-3 * warmup_cosine(12, 12, 0))
    hist_a = json.loads(metrics_paths(straight)[0].read_text())["epochs"]
    hist_b = json.loads(metrics_paths(cut)[0].read_text())["epochs"]
    assert [r["step"] for r in hist_b] == [4, 8, 12]
    assert hist_b[-1]["val_miou"] == pytest.approx(hist_a[-1]["val_miou"])

    # extending the run continues from step 12 on a longer schedule
    longer = train_source(config(store, cut, val_every=4, iterations=16, resume=str(cut)), Recorder().progress())
    assert longer["steps"] == 16
    with pytest.raises(CropsError, match="already trained 16 steps"):
        train_source(config(store, cut, iterations=16, resume=str(cut)), Recorder().progress())


def test_model_whose_features_do_not_match_the_store(store, tmp_path):
    out = tmp_path / "m.safetensors"
    train_source(config(store, out, iterations=2), Recorder().progress())
    other = make_store(tmp_path / "four", bands=4)
    with pytest.raises(CropsError, match=r"missing|extra") as info:
        train_source(config(other, tmp_path / "x.safetensors", resume=str(out)), Recorder().progress())
    assert "b4" in str(info.value)
    resume_path(out).unlink()  # a model alone: its weights would start the run
    with pytest.raises(CropsError, match="b4"):
        train_source(config(other, tmp_path / "y.safetensors", resume=str(out)), Recorder().progress())


def test_bad_input(store, tmp_path):
    with pytest.raises(CropsError, match="safetensors"):
        train_source(config(store, tmp_path / "m.pt"), Recorder().progress())
    unlabelled = make_store(tmp_path / "target", with_labels=False)
    with pytest.raises(CropsError, match="without labels"):
        train_source(config(unlabelled, tmp_path / "m.safetensors"), Recorder().progress())
    with pytest.raises(CropsError, match="ENCODER"):
        train_source(config(store, tmp_path / "m.safetensors", arch="transunet", encoder="resnet18", arch_args={}),
                     Recorder().progress())
    with pytest.raises(CropsError, match="not a CROPS checkpoint|without CROPS"):
        train_source(config(store, tmp_path / "m.safetensors", resume=str(store)), Recorder().progress())
    assert not list(tmp_path.glob("m.*"))


def test_cli_trains_with_class_weights_and_dice(store, tmp_path, capsys):
    from crops_engine.cli import main

    out = tmp_path / "cli.safetensors"
    code = main([
        "train-source", "--blocks", str(store), "--output", str(out), "--iterations", "4", "--batch-size", "4",
        "--arch-args", json.dumps(TINY), "--class-weights", "balanced", "--dice-weight", "0.5", "--device", "cpu",
        "--amp", "false", "--threads", "1",
    ])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["output"] == str(out) and result["steps"] == 4
    prov = read_metadata(out).provenance
    assert prov["class_weights"] == "balanced" and prov["dice_weight"] == 0.5 and prov["amp"] is False

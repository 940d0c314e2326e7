"""Baseline adaptation: pseudo-labels and class thresholds, the entropy and self-training methods
(what they train, loss terms, provenance), cancel + exact resume, target labels never read, errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import Recorder

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from test_partition import make_random_target  # noqa: E402

from crops_engine import cli  # noqa: E402
from crops_engine.adapt import METHODS, adapt, make_config, method_class  # noqa: E402
from crops_engine.adapt.entropy import diversity, norm_parameters  # noqa: E402
from crops_engine.adapt.pseudo_labels import ConfidenceHistogram, pseudo_labels  # noqa: E402
from crops_engine.adapt.task import log_path  # noqa: E402
from crops_engine.adapt.teacher import photometric_jitter  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.checkpoint import file_sha256, load_model, read_metadata  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    return make_random_target(tmp_path_factory.mktemp("adapt-target"))


def config(method: str, t: dict, out: Path, **kw):
    values = dict(model=str(t["model"]), blocks=str(t["store"]), output=str(out), iterations=6, batch_size=4,
                  device="cpu", calibration_blocks=8, seed=3)
    values.update(kw)
    return make_config(method, **values)



# -- pieces --------------------------------------------------------------------------------------------


def test_pseudo_labels_use_the_threshold_of_the_predicted_class():
    probs = torch.tensor([[[[0.9, 0.6, 0.3, 0.2]], [[0.1, 0.4, 0.7, 0.8]]]])  # (1, 2, 1, 4)
    valid = torch.tensor([[[True, True, True, False]]])
    labels, confidence = pseudo_labels(probs, valid, torch.tensor([0.95, 0.65]))
    assert labels.tolist() == [[[IGNORE_INDEX, IGNORE_INDEX, 1, IGNORE_INDEX]]]
    torch.testing.assert_close(confidence, torch.tensor([[[0.9, 0.6, 0.7, 0.8]]]))
    labels, _ = pseudo_labels(probs, valid, 0.6)
    assert labels.tolist() == [[[0, 0, 1, IGNORE_INDEX]]]


def test_class_thresholds_keep_each_class_most_confident_share():
    rng = np.random.default_rng(0)
    conf0 = rng.uniform(0.5, 1.0, 4000)
    conf1 = rng.uniform(0.5, 0.8, 1000)  # a class the model is less sure of
    probs = torch.zeros(1, 3, 1, 5000)
    probs[0, 0, 0, :4000] = torch.from_numpy(conf0).float()
    probs[0, 1, 0, :4000] = torch.from_numpy(1 - conf0).float()
    probs[0, 1, 0, 4000:] = torch.from_numpy(conf1).float()
    probs[0, 0, 0, 4000:] = torch.from_numpy(1 - conf1).float()
    hist = ConfidenceHistogram(3, bins=200)
    hist.update(probs, torch.ones(1, 1, 5000, dtype=torch.bool))
    thresholds = hist.thresholds(portion=0.5, cap=0.9).numpy()
    assert abs(thresholds[0] - np.quantile(conf0, 0.5)) < 0.006
    assert abs(thresholds[1] - np.quantile(conf1, 0.5)) < 0.006  # lower: class 1 still gets labels
    assert thresholds[2] == pytest.approx(0.9)  # never predicted: the cap
    assert hist.thresholds(portion=0.05, cap=0.9).numpy()[0] == pytest.approx(0.9)  # capped
    np.testing.assert_allclose(hist.class_shares(), [0.8, 0.2, 0.0])
    kept = (conf1 >= thresholds[1]).mean()
    assert 0.48 < kept < 0.53


def test_jitter_and_diversity():
    x = torch.ones(2, 3, 4, 4)
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    valid[:, 0] = False
    g = torch.Generator().manual_seed(0)
    out = photometric_jitter(x, valid, 0.2, g)
    assert (out[:, :, 0] == 0).all() and not torch.equal(out[:, :, 1:], x[:, :, 1:])
    assert torch.equal(photometric_jitter(x, valid, 0.0, g), x)
    prior = torch.tensor([0.7, 0.3])
    assert float(diversity(prior, prior)) == pytest.approx(0.0, abs=1e-6)
    assert float(diversity(torch.tensor([0.5, 0.5]), torch.tensor([0.5, 0.5]))) == pytest.approx(0.0, abs=1e-6)
    assert float(diversity(torch.tensor([0.99, 0.01]), prior)) > 0.1


def test_registry():
    assert {"entropy", "self_training"} <= set(METHODS)
    assert method_class("entropy").name == "entropy"
    with pytest.raises(CropsError, match="Unknown adaptation METHOD"):
        method_class("magic")
    cfg = make_config("self_training", model="m", blocks="b", output="o.safetensors", portion=0.3, unknown=1)
    assert cfg.portion == 0.3 and cfg.lr == 3e-5


# -- runs ---------------------------------------------------------------------------------------------


def test_entropy_norm_mode_trains_only_normalisation_layers_and_records_provenance(target, tmp_path):
    out = tmp_path / "entropy.safetensors"
    rec = Recorder()
    cfg = config("entropy", target, out, iterations=10, lr=5e-3, diversity_weight=0.5)
    result = adapt("entropy", cfg, rec.progress())
    assert result["steps"] == 10 and result["method"] == "entropy" and Path(result["output"]) == out
    source, _ = load_model(target["model"])
    adapted, meta = load_model(out)
    norm_ids = {id(p) for p in norm_parameters(adapted)}
    moved_norm = 0.0
    for (name, a), b in zip(adapted.named_parameters(), source.parameters(), strict=True):
        if id(a) in norm_ids:
            moved_norm += float((a - b).detach().abs().sum())
        else:
            assert torch.equal(a.detach(), b.detach()), f"{name} changed in norm mode"
    assert moved_norm > 0
    prov = meta.provenance
    assert prov["task"] == "adapt" and prov["method"] == "entropy" and prov["iterations"] == 10
    assert prov["source_checkpoint"]["sha256"] == file_sha256(target["model"])
    assert prov["target_store"]["path"] == str(Path(target["store"]).resolve())
    assert prov["target_store"]["sha256"] == file_sha256(target["store"])
    hp = prov["hyperparameters"]
    assert hp["parameters"] == "norm" and hp["diversity_weight"] == 0.5 and hp["lr"] == 5e-3 and hp["seed"] == 3
    assert len(prov["summary"]["diversity_prior"]) == 3
    assert meta.features == read_metadata(target["model"]).features
    assert meta.normalisation == read_metadata(target["model"]).normalisation
    history = json.loads(log_path(out).read_text())["history"]
    assert {"loss", "entropy", "diversity", "lr"} <= set(history[-1])
    assert log_path(out).with_suffix(".png").read_bytes().startswith(b"\x89PNG")  # adapted.adapt.png: the curves
    steps = [p["text"] for e, p in rec.events if e == "progress" and p.get("text", "").startswith("Step 1/10")]
    assert steps and "entropy" in steps[0] and "diversity" in steps[0]


def test_entropy_lowers_the_entropy_of_target_predictions(target, tmp_path):
    out = tmp_path / "e.safetensors"
    adapt("entropy", config("entropy", target, out, iterations=30, lr=1e-2, parameters="all",
                            diversity_weight=0.0), Progress())
    history = json.loads(log_path(out).read_text())["history"]
    assert history[-1]["entropy"] < 0.8 * history[0]["entropy"]


def test_self_training_cancel_keeps_last_checkpoint_and_resume_matches_uninterrupted(target, tmp_path):
    straight = tmp_path / "straight.safetensors"
    adapt("self_training", config("self_training", target, straight, rounds=2, conf_threshold=0.5), Progress())
    out2 = tmp_path / "cut2.safetensors"
    with pytest.raises(Cancelled):
        adapt("self_training", config("self_training", target, out2, rounds=2, conf_threshold=0.5,
                                      checkpoint_every=2), Recorder(cancel_at=3).progress())
    assert read_metadata(out2).provenance["iterations"] == 2  # the last complete checkpoint stays
    assert load_training_state(resume_path(out2)).step == 3
    assert not list(tmp_path.glob("*crops-tmp*"))
    adapt("self_training", config("self_training", target, out2, rounds=2, conf_threshold=0.5,
                                  resume=str(out2)), Progress())
    a, _ = load_model(straight)
    b, meta = load_model(out2)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6, msg=name)
    assert meta.provenance["resumed_from"].endswith(".resume.safetensors")
    summary = read_metadata(straight).provenance["summary"]
    assert summary["rounds_done"] == 2 and len(summary["thresholds"]) == 3
    with pytest.raises(CropsError, match="raise ITERATIONS"):
        adapt("self_training", config("self_training", target, out2, resume=str(out2)), Progress())


def test_target_labels_are_never_read(target, tmp_path, monkeypatch):
    labelled = tmp_path / "labelled.h5"
    build_block_store(target["composite"], labelled, labels=target["labels"], block_size=16, stride=8,
                      val_fraction=0.0)

    def refuse(*args, **kwargs):
        raise AssertionError("adaptation read target labels")

    monkeypatch.setattr(BlockStore, "labels", refuse)
    monkeypatch.setattr(BlockStore, "class_counts", refuse)
    rec = Recorder()
    for method in ("entropy", "self_training"):
        adapt(method, config(method, target, tmp_path / f"{method}.safetensors", blocks=str(labelled),
                             iterations=2), rec.progress())
    assert any("does not read them" in p.get("text", "") for e, p in rec.events if e == "log")


def test_bad_input_is_a_clear_error_and_writes_nothing(target, tmp_path):
    with pytest.raises(CropsError, match="overwrite the source MODEL"):
        adapt("entropy", config("entropy", target, target["model"]))
    with pytest.raises(CropsError, match="ITERATIONS"):
        adapt("entropy", config("entropy", target, tmp_path / "a.safetensors", iterations=0))
    with pytest.raises(CropsError, match="PARAMETERS"):
        adapt("entropy", config("entropy", target, tmp_path / "a.safetensors", parameters="some"))
    with pytest.raises(CropsError, match="PORTION"):
        adapt("self_training", config("self_training", target, tmp_path / "a.safetensors", portion=0.0))
    with pytest.raises(CropsError, match="no split 'easy'"):
        adapt("entropy", config("entropy", target, tmp_path / "a.safetensors", split="easy"))
    with pytest.raises(CropsError, match="is not the resume state of a entropy"):
        straight = tmp_path / "s.safetensors"
        adapt("self_training", config("self_training", target, straight, iterations=1), Progress())
        adapt("entropy", config("entropy", target, tmp_path / "a.safetensors", resume=str(straight)))
    other = make_random_target(tmp_path / "other", size=32, seed=1)  # same features, another model
    with pytest.raises(CropsError, match="another source model"):
        adapt("self_training", config("self_training", other, tmp_path / "b.safetensors", resume=str(straight)))
    assert not list(tmp_path.glob("a*")) and not list(tmp_path.glob("b*"))


def test_cli_adapt(target, tmp_path, capsys):
    out = tmp_path / "cli.safetensors"
    code = cli.main(["--json-events", "adapt", "--method", "self_training", "--model", str(target["model"]),
                     "--blocks", str(target["store"]), "--iterations", "2", "--batch-size", "2", "--portion", "0.4",
                     "--rounds", "1", "--ema", "0.9", "--amp", "false", "--device", "cpu",
                     "--calibration-blocks", "4", "--output", str(out)])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 0, events[-1]
    result = events[-1]["outputs"]
    assert result["output"] == str(out) and result["steps"] == 2 and Path(result["log"]).exists()
    hp = read_metadata(out).provenance["hyperparameters"]
    assert hp["portion"] == 0.4 and hp["ema"] == 0.9 and hp["rounds"] == 1 and hp["lr"] == 3e-5
    assert any(e["event"] == "log" and "thresholds per class" in e["text"] for e in events)

"""Co-training (METHOD=co_training): fusion rules and per-class thresholds on small hand-made maps, the minimum
pixels per class per block, pseudo-labels that follow the images' flips, a tiny run (two models that differ, per-round
figures in the log, the final model's provenance), RESUME and the refusals of settings that are no co-training."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from conftest import Recorder

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from test_partition import make_random_target  # noqa: E402

from crops_engine.adapt import adapt, make_config  # noqa: E402
from crops_engine.adapt.co_training import (  # noqa: E402
    PseudoLabelRows,
    class_shares,
    class_thresholds,
    fuse,
    select_pseudo_labels,
    work_folder,
)
from crops_engine.adapt.target import TargetBlocks  # noqa: E402
from crops_engine.batches import BatchStream  # noqa: E402
from crops_engine.blocks import BlockStore  # noqa: E402
from crops_engine.checkpoint import load_model, read_metadata  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402

torch.set_num_threads(1)
I = IGNORE_INDEX  # noqa: E741


def maps(*pixels):
    """(1, K, 1, P) probabilities from per-pixel class probability lists."""
    return torch.tensor(pixels, dtype=torch.float32).T.reshape(1, len(pixels[0]), 1, len(pixels))


# -- fusion and thresholds -----------------------------------------------------------------------------


def test_fusion_rules_on_hand_made_maps():
    a = maps([0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.5, 0.5])
    b = maps([0.7, 0.3], [0.1, 0.9], [0.4, 0.6], [0.3, 0.7])
    valid = torch.tensor([[[True, True, True, False]]])
    labels, conf = fuse(a, b, valid, "agreement")
    assert labels.tolist() == [[[0, I, 1, I]]]  # disagreeing and invalid pixels dropped
    assert conf[0, 0, :3].tolist() == pytest.approx([0.8, 0.75, 0.7])  # the mean of the two confidences
    labels, conf = fuse(a, b, valid, "confidence")
    assert labels.tolist() == [[[0, 1, 1, I]]]  # where they disagree, the more confident (b's 0.9 over a's 0.6)
    assert conf[0, 0, :3].tolist() == pytest.approx([0.9, 0.9, 0.8])
    labels, conf = fuse(a, b, valid, "mean")
    assert labels.tolist() == [[[0, 1, 1, I]]]  # mean of pixel 2: (0.35, 0.65)
    assert conf[0, 0, :3].tolist() == pytest.approx([0.8, 0.65, 0.7])
    labels, conf = fuse(a, None, valid, "agreement")  # one model: its own labels
    assert labels.tolist() == [[[0, 0, 1, I]]] and conf[0, 0, :3].tolist() == pytest.approx([0.9, 0.6, 0.8])


def test_a_class_with_few_confident_pixels_keeps_its_own_threshold():
    # class 0 is confident everywhere, class 1 nowhere above 0.6: a global 0.9 would give class 1 nothing
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, I])
    conf = np.array([0.99, 0.98, 0.97, 0.96, 0.60, 0.55, 0.50, 0.45, 0.99])
    thr = class_thresholds(labels, conf, 3, 0.5)
    assert thr[0] == pytest.approx(0.98) and thr[1] == pytest.approx(0.55) and thr[2] == np.inf
    kept = select_pseudo_labels(labels.reshape(1, 1, -1), conf.reshape(1, 1, -1), thr, 0)
    assert kept.tolist() == [[[0, 0, I, I, 1, 1, I, I, I]]]  # the top half of each class, whatever its level
    assert class_thresholds(labels, conf, 3, 0.25).tolist()[:2] == pytest.approx([0.99, 0.60])  # one pixel each
    assert class_thresholds(labels, conf, 3, 0.3).tolist()[:2] == pytest.approx([0.98, 0.55])  # ceil(0.3 x 4) = 2
    assert class_thresholds(labels, conf, 3, 1.0)[1] == pytest.approx(0.45)


def test_a_block_keeps_a_class_only_with_its_minimum_pixels():
    labels = np.array([[[0, 0, 0, 1]], [[1, 1, 0, 0]]])
    conf = np.full(labels.shape, 0.9)
    kept = select_pseudo_labels(labels, conf, np.array([0.5, 0.5]), 2)
    assert kept.tolist() == [[[0, 0, 0, I]], [[1, 1, 0, 0]]]  # block 0's lone class-1 pixel is dropped
    assert select_pseudo_labels(labels, conf, np.array([0.5, 0.5]), 0).tolist() == labels.tolist()
    assert class_shares(kept, 8, 2) == [0.625, 0.25]


def test_pseudo_labels_follow_the_images_flips_and_rotations(tmp_path):
    t = make_random_target(tmp_path)
    store = BlockStore(t["store"])
    meta = read_metadata(t["model"])
    indices = np.arange(len(store))
    images = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], indices)
    # pseudo-labels computed from the (unflipped) images: after the same flips they must still fit the images
    raw = store.images(indices)
    labels = np.where(np.isfinite(raw[:, 0]), (raw[:, 0] > np.nanmedian(raw[:, 0])).astype(np.uint8), I)
    loop = BatchStream(images, 4, seed=5)
    rows = BatchStream(PseudoLabelRows(labels.astype(np.uint8), indices), 4, seed=5)
    for step in range(6):
        batch, pseudo = loop.batch(step), rows.batch(step)
        assert torch.equal(batch["index"], pseudo["index"])
        x = batch["image"][:, 0] * float(meta.normalisation["std"][0]) + float(meta.normalisation["mean"][0])
        expected = (x > float(np.nanmedian(raw[:, 0]))).long()
        assert torch.equal(torch.where(batch["valid"], expected, I), torch.where(batch["valid"], pseudo["label"], I))


# -- settings --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    return make_random_target(tmp_path_factory.mktemp("co-training-target"))


def co_config(t, out, **kw):
    values = dict(model=str(t["model"]), blocks=str(t["store"]), output=str(out), iterations=4, batch_size=4,
                  device="cpu", calibration_blocks=8, seed=3, co_rounds=1, co_epochs=1, co_final_epochs=1,
                  co_min_pixels=4, lr=1e-3)
    values.update(kw)
    return make_config("co_training", **values)


def test_one_model_and_one_round_is_refused_with_the_reason(target, tmp_path):
    out = tmp_path / "one.safetensors"
    with pytest.raises(CropsError, match="one model and one round is no co-training.*CO_MODELS 2"):
        adapt("co_training", co_config(target, out, co_models=1, co_rounds=1), Progress())
    assert not out.exists() and not work_folder(out).exists()
    for bad, match in (({"co_fusion": "vote"}, "CO_FUSION"), ({"co_share": 0.0}, "CO_SHARE"),
                       ({"co_models": 3}, "CO_MODELS"), ({"co_diversity": "both"}, "CO_DIVERSITY"),
                       ({"iterations": 1}, "snapshots .* ITERATIONS"), ({"co_final_epochs": 0}, "CO_FINAL_EPOCHS")):
        with pytest.raises(CropsError, match=match):
            adapt("co_training", co_config(target, out, **bad), Progress())
    with pytest.raises(CropsError, match="no co-training run to continue"):
        adapt("co_training", co_config(target, out, resume=str(target["model"])), Progress())


# -- a tiny run --------------------------------------------------------------------------------------------


def weights_differ(a, b) -> bool:
    ma, mb = load_model(a)[0].state_dict(), load_model(b)[0].state_dict()
    return any(not torch.equal(ma[k], mb[k]) for k in ma if ma[k].is_floating_point())


def test_a_tiny_co_training_run(target, tmp_path):
    out = tmp_path / "co.safetensors"
    rec = Recorder()
    result = adapt("co_training", co_config(target, out), rec.progress())
    work = work_folder(out)
    steps_per_epoch = -(-len(BlockStore(target["store"])) // 4)
    assert result["steps"] == 4 + 2 * steps_per_epoch + steps_per_epoch  # self-training, two retrainings, final
    assert result["stages"] == ["self_training_a", "retrain_a_1", "retrain_b_1", "final"]
    # the two models differ: the self-training stage's snapshot half-way and its end, and after their retraining
    assert weights_differ(work / "model_a_0.safetensors", work / "model_b_0.safetensors")
    assert weights_differ(work / "model_a_1.safetensors", work / "model_b_1.safetensors")
    # per-round figures in the log JSON and the checkpoint
    log = json.loads((tmp_path / "co.adapt.json").read_text())
    rounds = log["summary"]["rounds"]
    assert [r["round"] for r in rounds] == [1, "final"]
    for r in rounds:
        assert 0.0 <= r["agreement"] <= 1.0 and len(r["pseudo_label_class_shares"]) == 3
        assert len(r["model_class_shares"]) == 2 and len(r["thresholds"]) == 3
        assert sum(r["pseudo_label_class_shares"]) == pytest.approx(r["labelled_share"], abs=2e-3)
    meta = read_metadata(out)
    assert meta.provenance["method"] == "co_training" and meta.provenance["summary"]["rounds"] == rounds
    assert meta.provenance["source_checkpoint"]["path"] == str(target["model"].resolve())  # from the source model
    assert meta.provenance["hyperparameters"]["co_fusion"] == "confidence"
    assert "pseudo_labels" not in meta.provenance["hyperparameters"]
    labels = np.load(work / "labels_final.npy")
    assert labels.shape[0] == len(BlockStore(target["store"])) and set(np.unique(labels)) <= {0, 1, 2, I}


def test_seeds_give_two_self_training_runs_and_one_model_is_an_ablation(target, tmp_path):
    out = tmp_path / "seeds.safetensors"
    result = adapt("co_training", co_config(target, out, co_diversity="seeds"), Progress())
    assert result["stages"][:2] == ["self_training_a", "self_training_b"]
    work = work_folder(out)
    assert weights_differ(work / "model_a_0.safetensors", work / "model_b_0.safetensors")
    one = tmp_path / "one.safetensors"
    result = adapt("co_training", co_config(target, one, co_models=1, co_rounds=2), Progress())
    assert result["stages"] == ["self_training_a", "retrain_a_1", "retrain_a_2", "final"]
    assert all(r["agreement"] is None and len(r["model_class_shares"]) == 1 for r in result["rounds"])


def test_resume_continues_from_the_stage_that_was_running(target, tmp_path):
    out = tmp_path / "resumed.safetensors"
    straight = tmp_path / "straight.safetensors"
    adapt("co_training", co_config(target, straight), Progress())

    cancel, seen = threading.Event(), []

    def report(event: str, payload: dict) -> None:  # cancel at the first step of round 1's first retraining
        text = payload.get("text", "")
        if event == "log" and "Co-training round 1" in text:
            seen.append(True)
        if seen and event == "progress" and "Step 1/" in text:
            cancel.set()

    stop = Progress(report, cancel)
    with pytest.raises(Cancelled):
        adapt("co_training", co_config(target, out), stop)
    state = json.loads((work_folder(out) / "state.json").read_text())
    assert state["done"] == ["self_training_a", "labels_1"]
    resume = work_folder(out) / "model_a_1.resume.safetensors"
    assert resume.is_file()
    logs: list[str] = []
    result = adapt("co_training", co_config(target, out, resume=str(resume)),
                   Progress(lambda e, p: logs.append(p.get("text", "")) if e == "log" else None))
    assert any(t.startswith("Resuming from") and "model_a_1.resume" in t for t in logs), "the stage started over"
    assert result["stages"] == ["self_training_a", "retrain_a_1", "retrain_b_1", "final"]
    a, b = load_model(out)[0].state_dict(), load_model(straight)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "a resumed co-training run differs from an uninterrupted one"
    with pytest.raises(CropsError, match="another MODEL, target store or settings"):
        adapt("co_training", co_config(target, out, resume=str(resume), co_share=0.3), Progress())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A briefly trained two-class source model and a shifted target store (its models disagree somewhere)."""
    from conftest import TINY_UNET, write_scene

    from crops_engine.blocks import build_block_store
    from crops_engine.train import TrainConfig, train_source

    root = tmp_path_factory.mktemp("co-training-trained")
    composite, labels = write_scene(root / "source")
    build_block_store(composite, root / "source.h5", labels=labels, class_map="1200=maize; *=other", block_size=32,
                      val_fraction=0.25, val_group_size=1, seed=0)
    train_source(TrainConfig(blocks=str(root / "source.h5"), output=str(root / "source.safetensors"),
                             arch_args=TINY_UNET, batch_size=4, lr=3e-3, device="cpu", iterations=20, seed=0))
    target_composite, _ = write_scene(root / "target", shift=0.05, seed=1)
    build_block_store(target_composite, root / "target.h5", block_size=32)
    return {"model": root / "source.safetensors", "store": root / "target.h5"}


def test_agreement_fusion_labels_exactly_the_pixels_the_two_models_agree_on(trained, tmp_path):
    out = tmp_path / "agree.safetensors"
    result = adapt("co_training", co_config(trained, out, co_fusion="agreement", co_share=1.0, co_min_pixels=0,
                                            co_diversity="seeds", iterations=6), Progress())
    for r in result["rounds"]:
        assert r["agreement"] < 1.0  # the two models differ somewhere
        assert r["fused_labelled_share"] == pytest.approx(r["agreement"], abs=1e-4)
        assert r["labelled_share"] == pytest.approx(r["agreement"], abs=1e-4)  # share 1, no minimum: all kept


def test_a_retraining_step_is_the_cross_entropy_of_classmix_on_the_pseudo_labels(target, tmp_path):
    from crops_engine.adapt.classmix import class_mix
    from crops_engine.adapt.co_training import CoTraining
    from crops_engine.adapt.method import AdaptationContext
    from crops_engine.adapt.teacher import photometric_jitter
    from crops_engine.losses import masked_cross_entropy

    store = BlockStore(target["store"])
    indices = np.arange(len(store))
    student, meta = load_model(target["model"])
    student.train()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=(len(store), store.block_size, store.block_size)).astype(np.uint8)
    labels[:, :3] = I
    path = tmp_path / "labels.npy"
    np.save(path, labels)
    cfg = co_config(target, tmp_path / "stage.safetensors", pseudo_labels=str(path), stage="retrain_a_1", jitter=0.1)
    method = CoTraining(cfg, student, Progress())
    dataset = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], indices)
    method.setup(AdaptationContext(cfg, meta, dataset, torch.device("cpu"), False, 5, Progress()))
    batch = BatchStream(dataset, cfg.batch_size, seed=cfg.seed).batch(2)
    loss, terms = method.loss(batch, 2)
    # by hand: the batch's pseudo-labels, flipped with it; block i gets classes of block i - 1 pasted on
    pseudo = BatchStream(PseudoLabelRows(labels, indices), cfg.batch_size, seed=cfg.seed).batch(2)["label"]
    valid = batch["valid"]
    pseudo = torch.where(valid, pseudo, I)
    g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + 2)
    ones = torch.ones(pseudo.shape)
    x = batch["image"]
    mixed = class_mix(x.roll(1, 0), valid.roll(1, 0), pseudo.roll(1, 0), ones, x, valid, pseudo, ones, 3, g,
                      "confidence")
    assert mixed.mask.any() and not mixed.mask.all()  # a real mix
    view = photometric_jitter(mixed.image, mixed.valid, 0.1, g)
    expected = masked_cross_entropy(student(view, False).logits, mixed.labels, mixed.weight)
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-5)
    assert terms["labelled"] == pytest.approx(float((mixed.labels != I).sum() / mixed.valid.sum()))

"""SPCL: prototype estimator, contrastive loss, ClassMix, EMA, curriculum, the adaptation run (loss,
provenance, cancel + exact resume, bad input, CLI) and that no adaptation method opens source data."""

from __future__ import annotations

import builtins
import io
import json
import math
import threading

import numpy as np
import pytest
from conftest import TINY_UNET, Recorder, write_scene

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from crops_engine.adapt import METHODS, adapt, make_config  # noqa: E402
from crops_engine.adapt.classmix import IGNORE_INDEX, class_mix, class_mix_masks, mix_weights  # noqa: E402
from crops_engine.adapt.prototypes import PrototypeEstimator, prototype_contrastive_loss  # noqa: E402
from crops_engine.adapt.spcl import SpclConfig, hard_count, hard_share  # noqa: E402
from crops_engine.adapt.task import log_path  # noqa: E402
from crops_engine.adapt.teacher import EmaTeacher, recalibrate_batchnorm  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store, write_partition  # noqa: E402
from crops_engine.checkpoint import file_sha256, load_model, read_metadata  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.train import TrainConfig, train_source  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)

TINY = TINY_UNET


# -- a tiny source / target pair ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """{source_store, model, target, ...}: a source model trained briefly, a partitioned target store."""
    root = tmp_path_factory.mktemp("spcl")
    composite, labels = write_scene(root / "source")
    source_store = root / "source.h5"
    build_block_store(composite, source_store, labels=labels, class_map="1200=maize; *=other",
                      block_size=32, val_fraction=0.25, val_group_size=1, seed=0)
    model = root / "source.safetensors"
    train_source(TrainConfig(blocks=str(source_store), output=str(model), arch_args=TINY, batch_size=4, lr=3e-3,
                             device="cpu", iterations=30, seed=0))
    target_composite, target_labels = write_scene(root / "target", shift=0.05, seed=1)
    target = root / "target.h5"
    build_block_store(target_composite, target, block_size=32)
    n = len(BlockStore(target))
    write_partition(target, np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    return {"root": root, "source_store": source_store, "source_folder": root / "source", "model": model,
            "target": target, "target_folder": root / "target"}


def spcl_config(pair, output, **kw):
    base = dict(model=str(pair["model"]), blocks=str(pair["target"]), output=str(output), iterations=6,
                batch_size=2, lr=1e-3, device="cpu", seed=1, conf_threshold=0.6, checkpoint_every=2)
    base.update(kw)
    return SpclConfig(**base)



# -- prototypes and the contrastive loss ------------------------------------------------------------


def test_prototype_estimator_equals_the_direct_mean_however_batched():
    gen = torch.Generator().manual_seed(0)
    k, d = 3, 5
    batches = []
    for n in (2, 1, 3):
        emb = torch.nn.functional.normalize(torch.randn(n, d, 4, 6, generator=gen), dim=1)
        labels = torch.randint(0, k, (n, 4, 6), generator=gen)
        labels[:, 0, :] = IGNORE_INDEX
        mask = torch.rand(n, 4, 6, generator=gen) > 0.3
        batches.append((emb, labels, mask))
    est = PrototypeEstimator(k, d)
    for emb, labels, mask in batches:
        est.update(emb, labels, mask)
    flat = torch.cat([e.permute(0, 2, 3, 1).reshape(-1, d) for e, _, _ in batches]).double()
    lab = torch.cat([la.reshape(-1) for _, la, _ in batches])
    keep = torch.cat([m.reshape(-1) for _, _, m in batches]) & (lab != IGNORE_INDEX)
    for c in range(k):
        members = flat[keep & (lab == c)]
        assert est.count[c] == len(members) > 0
        torch.testing.assert_close(est.mean[c], members.mean(dim=0), rtol=0, atol=1e-12)
    one = PrototypeEstimator(k, d)  # all at once gives the same
    one.update(flat.float(), torch.where(keep, lab, torch.full_like(lab, IGNORE_INDEX)))
    torch.testing.assert_close(one.mean, est.mean, rtol=0, atol=1e-7)
    assert est.norms().shape == (k,) and bool((est.norms() <= 1.0 + 1e-6).all())
    restored = PrototypeEstimator(k, d)
    restored.load_state_dict(est.state_dict())
    assert torch.equal(restored.mean, est.mean) and torch.equal(restored.count, est.count)


def test_contrastive_loss_matches_a_hand_computed_value():
    protos = torch.tensor([[2.0, 0.0], [0.0, 3.0], [-1.0, -1.0]])  # normalised inside: (1,0), (0,1), -(1,1)/sqrt2
    emb = torch.tensor([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]])
    labels = torch.tensor([1, 0, 2])
    t = 0.5
    s = 1 / math.sqrt(2)
    sims = [[0.6, 0.8, -(0.6 + 0.8) * s], [1.0, 0.0, -s], [0.0, -1.0, s]]

    def ce(row, target):
        return -(row[target] / t) + math.log(sum(math.exp(v / t) for v in row))

    expected = (ce(sims[0], 1) + ce(sims[1], 0) + ce(sims[2], 2)) / 3
    loss = prototype_contrastive_loss(emb, labels, protos, t)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    # ignored labels, masked pixels and classes without prototype are left out
    left = prototype_contrastive_loss(emb, torch.tensor([1, IGNORE_INDEX, 2]), protos, t,
                                      mask=torch.tensor([True, True, False]))
    assert float(left) == pytest.approx(ce(sims[0], 1), rel=1e-6)
    known = torch.tensor([True, False, True])
    assert float(prototype_contrastive_loss(emb, labels, protos, t, known=known)) == pytest.approx(
        (ce(sims[1], 0) + ce(sims[2], 2)) / 2, rel=1e-6)
    # the (N, D, H, W) layout gives the same as the flat one, and gradients reach the embeddings
    grid = emb.T.reshape(1, 2, 1, 3).clone().requires_grad_(True)
    loss4 = prototype_contrastive_loss(grid, labels.reshape(1, 1, 3), protos, t)
    assert float(loss4.detach()) == pytest.approx(expected, rel=1e-6)
    loss4.backward()
    assert grid.grad is not None and float(grid.grad.abs().sum()) > 0
    none = prototype_contrastive_loss(grid, torch.full((1, 1, 3), IGNORE_INDEX), protos, t)
    assert float(none.detach()) == 0.0
    dense = prototype_contrastive_loss(grid, labels.reshape(1, 1, 3), protos, t,
                                       mask=torch.tensor([[[True, True, False]]]), known=known)
    assert float(dense.detach()) == pytest.approx(ce(sims[1], 0), rel=1e-6)  # the dense path leaves out alike


# -- ClassMix ----------------------------------------------------------------------------------------------


def test_classmix_pastes_whole_classes_and_never_all_or_nothing_with_two_classes():
    n, h, w = 64, 8, 8
    labels = torch.zeros(n, h, w, dtype=torch.long)
    labels[:, :, 4:] = 1  # two classes in every block
    labels[0] = 1  # block 0: one class only
    valid = torch.ones(n, h, w, dtype=torch.bool)
    valid[:, 0, :] = False
    gen = torch.Generator().manual_seed(3)
    masks = class_mix_masks(labels, valid, 2, gen)
    assert not bool(masks[~valid].any())  # invalid pixels are never pasted
    chosen = []
    for i in range(1, n):
        for c in (0, 1):
            sel = masks[i][valid[i] & (labels[i] == c)]
            assert bool(sel.all()) or not bool(sel.any())  # whole classes
        pasted = [c for c in (0, 1) if bool(masks[i][labels[i] == c].any())]
        assert len(pasted) == 1  # with two classes present: exactly one, never all or none
        chosen.append(pasted[0])
    assert 0 < sum(chosen) < len(chosen)  # both classes get chosen over the blocks
    whole = [bool(class_mix_masks(labels[:1], valid[:1], 2, torch.Generator().manual_seed(s)).any())
             for s in range(20)]
    assert any(whole) and not all(whole)  # one class present: pasted whole or not, both happen


def test_classmix_mixes_image_labels_and_weights():
    gen = torch.Generator().manual_seed(0)
    n, c, h, w = 3, 2, 6, 6
    easy_x, hard_x = torch.randn(n, c, h, w, generator=gen), torch.randn(n, c, h, w, generator=gen)
    easy_lab = torch.randint(0, 3, (n, h, w), generator=gen)
    hard_lab = torch.randint(0, 3, (n, h, w), generator=gen)
    easy_conf, hard_conf = torch.rand(n, h, w, generator=gen), torch.rand(n, h, w, generator=gen)
    easy_valid = torch.ones(n, h, w, dtype=torch.bool)
    hard_valid = torch.ones(n, h, w, dtype=torch.bool)
    hard_valid[:, :, 0] = False
    mixed = class_mix(easy_x, easy_valid, easy_lab, easy_conf, hard_x, hard_valid, hard_lab, hard_conf, 3,
                      torch.Generator().manual_seed(5), "confidence", 0.5)
    m = mixed.mask
    assert bool(m.any()) and not bool(m.all())
    assert torch.equal(mixed.image, torch.where(m[:, None], easy_x, hard_x))
    valid = torch.where(m, easy_valid, hard_valid)
    assert torch.equal(mixed.valid, valid)
    assert torch.equal(mixed.labels, torch.where(valid, torch.where(m, easy_lab, hard_lab), IGNORE_INDEX))
    conf = torch.where(m, easy_conf, hard_conf)
    assert torch.equal(mixed.weight, conf * valid)  # the teacher's confidence of the pixel's origin
    share = mix_weights(conf, valid, "share", 0.5)
    for i in range(n):
        expected = float(((conf[i] >= 0.5) & valid[i]).sum()) / float(valid[i].sum())
        assert torch.allclose(share[i][valid[i]], torch.tensor(expected))
        assert float(share[i][~valid[i]].abs().sum()) == 0.0


# -- EMA teacher and curriculum ---------------------------------------------------------------------------


def test_ema_update_follows_the_warm_up_formula():
    torch.manual_seed(0)
    student = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3))
    teacher = EmaTeacher(student, momentum=0.9)
    assert not teacher.model.training
    before = [p.clone() for p in teacher.model.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    teacher.update(student, 0)  # min(1 - 1/1, 0.9) = 0: the teacher becomes the student
    for t, s in zip(teacher.model.parameters(), student.parameters(), strict=True):
        assert torch.equal(t, s)
    before = [p.clone() for p in teacher.model.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.mul_(2.0)
    teacher.update(student, 3)  # min(1 - 1/4, 0.9) = 0.75
    for t, b, s in zip(teacher.model.parameters(), before, student.parameters(), strict=True):
        torch.testing.assert_close(t, 0.75 * b + 0.25 * s)
    before = [p.clone() for p in teacher.model.parameters()]
    teacher.update(student, 100)  # min(0.990.., 0.9) = 0.9
    for t, b, s in zip(teacher.model.parameters(), before, student.parameters(), strict=True):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * s)
    assert all(not p.requires_grad for p in teacher.model.parameters())


def test_batchnorm_recalibration_averages_the_target_statistics():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.BatchNorm2d(3, momentum=0.3)).eval()
    batches = [torch.randn(2, 3, 4, 4) * (i + 1) + i for i in range(3)]
    assert recalibrate_batchnorm(model, iter(batches)) == 3
    bn = model[0]
    expected_mean = torch.stack([b.mean(dim=(0, 2, 3)) for b in batches]).mean(0)
    expected_var = torch.stack([b.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for b in batches]).mean(0)
    torch.testing.assert_close(bn.running_mean, expected_mean)
    torch.testing.assert_close(bn.running_var, expected_var)
    assert bn.momentum == 0.3 and not model.training  # restored
    before = bn.running_mean.clone()
    assert recalibrate_batchnorm(model, iter([])) == 0
    assert torch.equal(bn.running_mean, before)  # nothing seen: statistics kept


def test_spcl_setup_recalibrates_batchnorm_on_the_target_only_when_asked(pair, tmp_path):
    from crops_engine.adapt.method import AdaptationContext
    from crops_engine.adapt.spcl import SPCL
    from crops_engine.adapt.target import TargetBlocks

    def setup(**kw):
        cfg = spcl_config(pair, tmp_path / "unused.safetensors", **kw)
        student, meta = load_model(pair["model"])
        student.train()
        store = BlockStore(pair["target"])
        hard = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], store.split("hard"))
        method = SPCL(cfg, student, Progress())
        method.setup(AdaptationContext(cfg, meta, hard, torch.device("cpu"), False, cfg.iterations, Progress()))
        bn = next(m for m in student.modules() if isinstance(m, torch.nn.BatchNorm2d))
        return bn.running_mean.clone(), method, store

    source_model, _ = load_model(pair["model"])
    source_bn = next(m for m in source_model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    kept, _, store = setup(recalibrate_bn=False)
    store.close()
    torch.testing.assert_close(kept, source_bn.running_mean)  # the source statistics
    moved, method, store = setup(recalibrate_bn=True)
    assert not torch.allclose(moved, source_bn.running_mean)
    assert method.teacher is not None
    teacher_bn = next(m for m in method.teacher.model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    torch.testing.assert_close(teacher_bn.running_mean, moved)  # the first teacher sees the target statistics
    store.close()


def test_distribution_alignment_holds_the_pseudo_labels_at_the_reference(pair, tmp_path):
    from crops_engine.adapt.alignment import class_distribution
    from crops_engine.adapt.spcl import SPCL

    probs = torch.tensor([[[[0.9, 0.6, 0.0]], [[0.1, 0.4, 1.0]]]])  # (1, 2, 1, 3)
    valid = torch.tensor([[[True, True, False]]])
    torch.testing.assert_close(class_distribution(probs, valid), torch.tensor([0.75, 0.25], dtype=torch.float64))

    student, _ = load_model(pair["model"])
    method = SPCL(spcl_config(pair, tmp_path / "unused.safetensors"), student, Progress())
    biased = torch.tensor([0.8, 0.2])[None, :, None, None].expand(2, 2, 4, 4)
    everywhere = torch.ones(2, 4, 4, dtype=torch.bool)
    torch.testing.assert_close(method.alignment(biased, everywhere), biased)  # no reference yet: unchanged
    method.alignment.start(torch.tensor([0.5, 0.5], dtype=torch.float64))
    first = method.alignment(biased, everywhere)
    assert 0.5 < float(first[0, 0, 0, 0]) < 0.8  # one biased batch moves the running distribution a little
    torch.testing.assert_close(first.sum(dim=1), torch.ones(2, 4, 4))
    for _ in range(2000):  # a teacher that keeps predicting 80 % class 0 ...
        aligned = method.alignment(biased, everywhere)
    torch.testing.assert_close(aligned, torch.full_like(aligned, 0.5), atol=1e-3, rtol=0)  # ... is held at 50 / 50
    assert float(method.alignment.running[0]) == pytest.approx(0.8, abs=1e-3)


def test_prototype_rectification_weights_the_teacher_by_prototype_similarity():
    from crops_engine.adapt.prototypes import rectified

    prototypes = torch.tensor([[2.0, 0.0], [0.0, 0.5], [0.0, 0.0]], dtype=torch.float64)  # normalised inside
    known = torch.tensor([True, True, False])
    # one block of 1 x 2 embedding pixels on a stride-2 grid: upsampled to 2 x 4, cut to the 2 x 3 probability pixels
    embedding = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).T.reshape(1, 2, 1, 2)
    probs = torch.tensor([0.5, 0.3, 0.2])[None, :, None, None].expand(1, 3, 2, 3).clone()
    out = rectified(probs, embedding, prototypes, known, temperature=0.5, stride=2)
    assert out.shape == probs.shape
    torch.testing.assert_close(out.sum(dim=1), torch.ones(1, 2, 3))

    def expected(cos0: float, cos1: float) -> torch.Tensor:
        w = torch.tensor([math.exp(cos0 / 0.5), math.exp(cos1 / 0.5)])
        w = torch.cat([w / w.sum() * 2 / 3, torch.tensor([1 / 3])])  # the class without a prototype: 1 / K
        p = torch.tensor([0.5, 0.3, 0.2]) * w
        return p / p.sum()

    left, right = expected(1.0, 0.0), expected(0.0, 1.0)
    for row in range(2):
        for col in range(2):  # the first embedding pixel covers 2 x 2 probability pixels ...
            torch.testing.assert_close(out[0, :, row, col], left)
        torch.testing.assert_close(out[0, :, row, 2], right)  # ... the second the rest
    assert int(out[0, :, 0, 2].argmax()) == 1  # by its embedding the pixel belongs to class 1: its label changes


def test_teacher_pseudo_labels_go_through_the_rectification_only_when_asked(pair, tmp_path):
    from crops_engine.adapt.method import AdaptationContext
    from crops_engine.adapt.spcl import SPCL
    from crops_engine.adapt.target import TargetBlocks

    def labels(rectify: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's labels on two hard blocks, with the set-up's prototypes and with class 0 and 1 swapped."""
        cfg = spcl_config(pair, tmp_path / "unused.safetensors", prototype_rectification=rectify, temperature=0.02,
                          distribution_alignment=False)
        student, meta = load_model(pair["model"])
        with BlockStore(pair["target"]) as store:
            hard = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], store.split("hard"))
            method = SPCL(cfg, student, Progress())
            method.setup(AdaptationContext(cfg, meta, hard, torch.device("cpu"), False, cfg.iterations, Progress()))
            x = torch.stack([hard[i]["image"] for i in range(2)])
            valid = torch.stack([hard[i]["valid"] for i in range(2)])
            assert bool(method.prototypes.initialised.all())
            plain = method._teacher_view(x, valid, embed=False)[0]
            method.prototypes.mean = method.prototypes.mean[[1, 0]].clone()  # prototypes that contradict it
            swapped = method._teacher_view(x, valid, embed=False)[0]
        return plain, swapped

    plain, swapped = labels(rectify=False)
    assert torch.equal(plain, swapped)  # without rectification the prototypes do not touch the pseudo-labels
    plain, swapped = labels(rectify=True)
    assert float((plain != swapped).float().mean()) > 0.5  # with it, sharp contradicting prototypes flip most


def test_hard_share_curriculum():
    assert hard_share("constant", 0.5, 0, 100) == 1.0
    assert hard_share("linear", 0.5, 0, 101) == 0.5
    assert hard_share("linear", 0.5, 50, 101) == pytest.approx(0.75)
    assert hard_share("linear", 0.5, 100, 101) == 1.0
    assert [hard_count(s, 4) for s in (0.0, 0.1, 0.5, 0.6, 1.0)] == [0, 1, 2, 2, 4]
    with pytest.raises(CropsError, match="HARD_SCHEDULE"):
        hard_share("cosine", 0.5, 0, 10)


# -- the adaptation run --------------------------------------------------------------------------------------


def test_spcl_loss_decreases_and_checkpoint_has_provenance(pair, tmp_path):
    out = tmp_path / "adapted.safetensors"
    rec = Recorder()
    cfg = spcl_config(pair, out, iterations=40, batch_size=2, lr=2e-3, checkpoint_every=0, lambda_contrast=1.0,
                      hard_schedule="linear")
    result = adapt("spcl", cfg, rec.progress())
    assert result["steps"] == 40 and result["method"] == "spcl"
    doc = json.loads(log_path(out).read_text())
    history = doc["history"]
    assert len(history) == 4 and {"mix_ce", "contrast", "confident", "hard_share"} <= set(history[0])
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[0]["contrast"] > 0  # confident pixels and prototypes exist
    assert history[0]["hard_share"] < history[-1]["hard_share"] <= 1.0  # the linear curriculum
    meta = read_metadata(out)
    prov = meta.provenance
    assert prov["method"] == "spcl"
    assert prov["source_checkpoint"]["sha256"] == file_sha256(pair["model"])
    assert prov["target_store"]["sha256"] == file_sha256(pair["target"])
    hp = prov["hyperparameters"]
    for key in ("iterations", "batch_size", "lr", "ema", "temperature", "conf_threshold", "lambda_contrast",
                "hard_schedule", "seed"):
        assert hp[key] == getattr(cfg, key)
    summary = prov["summary"]
    assert len(summary["prototype_norms"]) == 2 and all(0 < v <= 1 for v in summary["prototype_norms"])
    assert sum(summary["pseudo_label_class_shares"]) == pytest.approx(1.0, abs=1e-3)
    logs = rec.logs()
    assert any(t.startswith("Step 10: pseudo-labels maize") and "|p|" in t for t in logs)
    metrics = {p["name"] for e, p in rec.events if e == "metric"}
    assert {"pseudo_label_share", "prototype_norm", "prototype_max_similarity", "contrast", "mix_ce"} <= metrics
    model, _ = load_model(out)  # the saved model is the teacher and loads as any checkpoint
    source, _ = load_model(pair["model"])
    moved = sum(float((a - b).abs().sum()) for a, b in zip(model.state_dict().values(),
                                                           source.state_dict().values(), strict=True)
                if a.is_floating_point())
    assert moved > 0


def test_cancel_keeps_the_last_checkpoint_and_resume_matches_an_uninterrupted_run(pair, tmp_path):
    straight = tmp_path / "straight.safetensors"
    adapt("spcl", spcl_config(pair, straight), Progress())
    out = tmp_path / "cut.safetensors"
    rec = Recorder(cancel_at=3)
    with pytest.raises(Cancelled):
        adapt("spcl", spcl_config(pair, out), rec.progress())
    assert read_metadata(out).provenance["iterations"] == 2  # the last complete checkpoint (every 2 steps)
    assert load_training_state(resume_path(out)).step == 3
    assert not list(tmp_path.glob("*crops-tmp*"))
    adapt("spcl", spcl_config(pair, out, resume=str(resume_path(out))), Progress())
    a, _ = load_model(straight)
    b, _ = load_model(out)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6, msg=name)
    pa = load_training_state(resume_path(straight)).model
    pb = load_training_state(resume_path(out)).model
    torch.testing.assert_close(pa["method.prototypes.mean"], pb["method.prototypes.mean"])
    assert torch.equal(pa["method.prototypes.count"], pb["method.prototypes.count"])


def test_bad_input_is_a_clear_error(pair, tmp_path):
    with pytest.raises(CropsError, match="TEMPERATURE"):
        adapt("spcl", spcl_config(pair, tmp_path / "a.safetensors", temperature=0.0))
    with pytest.raises(CropsError, match="HARD_SCHEDULE"):
        adapt("spcl", spcl_config(pair, tmp_path / "a.safetensors", hard_schedule="sometimes"))
    # a store without partition; one whose blocks are all hard
    composite = pair["target_folder"] / "composite.tif"
    plain = tmp_path / "plain.h5"
    build_block_store(composite, plain, block_size=32)
    with pytest.raises(CropsError, match="partition"):
        adapt("spcl", spcl_config(pair, tmp_path / "b.safetensors", blocks=str(plain)))
    n = len(BlockStore(plain))
    write_partition(plain, np.zeros(n), np.zeros(0, dtype=np.int64), np.arange(n))
    with pytest.raises(CropsError, match="no easy block"):
        adapt("spcl", spcl_config(pair, tmp_path / "b.safetensors", blocks=str(plain)))
    assert not list(tmp_path.glob("a*")) and not list(tmp_path.glob("b*"))


def test_cli_adapt_spcl(pair, tmp_path, capsys):
    from crops_engine.cli import main

    out = tmp_path / "cli.safetensors"
    code = main(["--json-events", "adapt-spcl", "--model", str(pair["model"]), "--blocks", str(pair["target"]),
                 "--iterations", "2", "--batch-size", "2", "--conf-threshold", "0.6", "--hard-schedule", "constant",
                 "--mix-weighting", "confidence", "--easy-weight", "0.5", "--recalibrate-bn", "false",
                 "--prototype-rectification", "false", "--amp", "false", "--device", "cpu",
                 "--output", str(out)])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert code == 0, events[-1]
    result = events[-1]
    assert result["event"] == "result" and result["outputs"]["output"] == str(out)
    hp = read_metadata(out).provenance["hyperparameters"]
    assert hp["hard_schedule"] == "constant" and hp["mix_weighting"] == "confidence" and hp["easy_weight"] == 0.5
    assert hp["recalibrate_bn"] is False and hp["prototype_rectification"] is False
    assert hp["lambda_contrast"] == SpclConfig.lambda_contrast  # a default
    steps = [e for e in events if e["event"] == "progress" and e.get("text", "").startswith("Step 1/2")]
    assert steps and "mix_ce" in steps[0]["text"] and "contrast" in steps[0]["text"] and "easy_ce" in steps[0]["text"]


# -- source-free: what every method opens --------------------------------------------------------------------

# the shortest run of every method (keys a method's configuration lacks are ignored)
QUICK = {"co_rounds": 1, "co_epochs": 1, "co_final_epochs": 1, "co_min_pixels": 0}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("prototypes", ["point", "probabilistic"])
def test_no_method_reads_a_target_label(pair, tmp_path, monkeypatch, method, prototypes):
    """Registry-wide (every method of `METHODS`, so every future one too): with a target store that holds labels,
    no method (SPCL with either prototypes, co-training's stages and labelling passes) reads them, nor their class
    counts, through the store or the HDF5 file below it."""
    if prototypes == "probabilistic" and method != "spcl":
        pytest.skip("PROTOTYPES is SPCL's")
    labelled = tmp_path / "labelled.h5"
    composite = pair["target_folder"] / "composite.tif"
    labels = pair["target_folder"] / "labels.tif"
    build_block_store(composite, labelled, labels=labels, class_map="1200=maize; *=other", block_size=32)
    n = len(BlockStore(labelled))
    write_partition(labelled, np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))

    def refuse(*args, **kwargs):
        raise AssertionError(f"{method} read target labels")

    monkeypatch.setattr(BlockStore, "labels", refuse)
    monkeypatch.setattr(BlockStore, "class_counts", refuse)
    # and below the store: reading the labels dataset of the HDF5 file by any route
    import h5py

    def guarded(read):
        def wrapper(self, *args, **kwargs):
            if self.name is not None and self.name.rsplit("/", 1)[-1] == "labels":
                refuse()
            return read(self, *args, **kwargs)

        return wrapper

    for name in ("__getitem__", "read_direct", "__array__", "astype", "asstr", "fields", "iter_chunks"):
        if hasattr(h5py.Dataset, name):
            monkeypatch.setattr(h5py.Dataset, name, guarded(getattr(h5py.Dataset, name)))
    cfg = make_config(method, model=str(pair["model"]), blocks=str(labelled), output=str(tmp_path / "a.safetensors"),
                      iterations=2, batch_size=2, device="cpu", calibration_blocks=2, conf_threshold=0.6,
                      prototypes=prototypes, **QUICK)
    assert adapt(method, cfg, Progress())["output"]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_no_source_data_is_opened_by_any_method(pair, tmp_path, monkeypatch, method):
    """Every file an adaptation run opens, by any route (h5py, GDAL, open(), safetensors), is the source
    checkpoint, the target store or an output; the source store and scenes named in the checkpoint's
    provenance are never touched."""
    import h5py
    import safetensors
    import safetensors.torch
    from osgeo import gdal

    opened: list[str] = []
    lock = threading.Lock()

    def recording(fn, position=0):
        def wrapper(*args, **kwargs):
            target = args[position] if len(args) > position else kwargs.get("name", kwargs.get("filename"))
            if isinstance(target, str | bytes) or hasattr(target, "__fspath__"):
                with lock:
                    opened.append(str(target if not isinstance(target, bytes) else target.decode()))
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(h5py, "File", recording(h5py.File))
    monkeypatch.setattr(gdal, "Open", recording(gdal.Open))
    monkeypatch.setattr(gdal, "OpenEx", recording(gdal.OpenEx))
    monkeypatch.setattr(builtins, "open", recording(builtins.open))
    monkeypatch.setattr(io, "open", recording(io.open))
    monkeypatch.setattr(safetensors, "safe_open", recording(safetensors.safe_open))
    monkeypatch.setattr(safetensors.torch, "load_file", recording(safetensors.torch.load_file))
    monkeypatch.setattr(safetensors.torch, "safe_open", recording(safetensors.torch.safe_open))
    monkeypatch.setattr(safetensors.torch, "save_file", recording(safetensors.torch.save_file, position=1))

    out = tmp_path / f"{method}.safetensors"
    cfg = make_config(method, model=str(pair["model"]), blocks=str(pair["target"]), output=str(out), iterations=2,
                      batch_size=2, device="cpu", calibration_blocks=2, conf_threshold=0.6, **QUICK)
    adapt(method, cfg, Progress())
    monkeypatch.undo()

    from pathlib import Path

    root = pair["root"].resolve()
    touched = {Path(p).resolve() for p in opened}
    inside = {p for p in touched if root in p.parents or tmp_path.resolve() in p.parents}
    from crops_engine.blocks import partition_path

    # the target store and its partition file beside it (issue 19: partition no longer edits the store)
    allowed = {pair["model"].resolve(), pair["target"].resolve(), partition_path(pair["target"]).resolve()}
    # the outputs, and a method's own work folder beside them (co-training's stages: `<stem>.co_training/`)
    outputs = {p for p in inside if (p.parent == tmp_path.resolve() and p.name.startswith(method))
               or (p.parent.parent == tmp_path.resolve() and p.parent.name.startswith(method))}
    assert pair["model"].resolve() in touched and pair["target"].resolve() in touched  # the recorder works
    assert outputs, "the outputs were written through a recorded route"
    assert inside - outputs <= allowed, f"{method} opened {sorted(map(str, inside - outputs - allowed))}"
    source = read_metadata(pair["model"]).provenance["block_store"]["path"]
    assert Path(source).resolve() == pair["source_store"].resolve() and Path(source).exists()
    assert not any(p == Path(source).resolve() or pair["source_folder"].resolve() in p.parents for p in touched)

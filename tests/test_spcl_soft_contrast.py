"""SPCL's two issue-14 options, pinned: CONTRAST_TARGETS soft (every hard pixel of the mixed block, soft targets
from the teacher's prototype similarities, weighted by its margin) and PROTOTYPE_MOMENTUM (exponential moving
prototypes after the first pass; 0 keeps the exact cumulative mean). Unit tests on hand-made tensors, then one real
SPCL step on the tiny pair of test_spcl against the source model (the plain teacher of test_spcl_mutations).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from test_spcl import pair, spcl_config  # noqa: E402, F401 - the module's fixture, shared
from test_spcl_mutations import Spy, fold, hard_batch, one_step, plain_teacher, spcl_setup  # noqa: E402

from crops_engine.adapt import spcl as spcl_module  # noqa: E402
from crops_engine.adapt.prototypes import (  # noqa: E402
    PrototypeEstimator,
    dense_prototype_logits,
    margin_weights,
    soft_contrastive_loss,
)
from crops_engine.adapt.spcl import check_spcl_config  # noqa: E402
from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402

torch.set_num_threads(1)


# -- the soft loss on hand-made tensors ------------------------------------------------------------------------


def test_margin_is_top1_minus_top2_and_zero_on_the_boundary():
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [0.4, 0.4, 0.2], [0.2, 0.3, 0.5]]).T[None, :, :, None]
    torch.testing.assert_close(margin_weights(probs)[0, :, 0], torch.tensor([0.0, 0.85, 0.0, 0.2]))


def test_soft_loss_is_the_margin_weighted_cross_entropy_against_teacher_similarities():
    gen = torch.Generator().manual_seed(0)
    k, d = 3, 4
    protos = torch.randn(k, d, generator=gen)
    student = torch.nn.functional.normalize(torch.randn(1, d, 2, 3, generator=gen), dim=1).requires_grad_(True)
    teacher = torch.nn.functional.normalize(torch.randn(1, d, 2, 3, generator=gen), dim=1)
    weight = torch.tensor([[[0.0, 0.3, 1.0], [0.5, 0.2, 0.9]]])  # pixel (0, 0) on the boundary
    mask = torch.tensor([[[True, True, True], [True, True, False]]])  # pixel (1, 2): pasted from the easy block
    s_logits = dense_prototype_logits(student, protos, 0.1)
    t_logits = dense_prototype_logits(teacher, protos, 0.1)
    loss = soft_contrastive_loss(s_logits, t_logits, weight, mask)
    target = t_logits.softmax(dim=1)
    ce = -(target * s_logits.log_softmax(dim=1)).sum(dim=1)
    torch.testing.assert_close(loss, (weight * ce * mask).sum() / mask.sum())
    (grad,) = torch.autograd.grad(loss, student, retain_graph=True)
    per_pixel = grad.abs().sum(dim=1)[0]
    assert float(per_pixel[0, 0]) == 0.0, "a pixel on the decision boundary weighs nothing"
    assert float(per_pixel[1, 2]) == 0.0, "a pixel outside the mask (pasted) gets no gradient"
    assert bool((per_pixel[0, 1:] > 0).all()) and bool((per_pixel[1, :2] > 0).all())
    # the weight scales each pixel's pull: twice the weight, twice the gradient
    loss2 = soft_contrastive_loss(s_logits, t_logits, weight * torch.tensor([1.0, 2.0, 1.0])[None, None], mask)
    (grad2,) = torch.autograd.grad(loss2, student)
    torch.testing.assert_close(grad2[0, :, :, 1], 2 * grad[0, :, :, 1])


def test_soft_loss_leaves_out_classes_without_a_prototype():
    gen = torch.Generator().manual_seed(1)
    s_logits = torch.randn(1, 3, 2, 2, generator=gen, requires_grad=True)
    t_logits = torch.randn(1, 3, 2, 2, generator=gen)
    known = torch.tensor([True, False, True])
    mask, weight = torch.ones(1, 2, 2, dtype=torch.bool), torch.ones(1, 2, 2)
    loss = soft_contrastive_loss(s_logits, t_logits, weight, mask, known)
    two = [0, 2]
    expected = -(t_logits[:, two].softmax(dim=1) * s_logits[:, two].log_softmax(dim=1)).sum(dim=1).mean()
    torch.testing.assert_close(loss, expected)
    (grad,) = torch.autograd.grad(loss, s_logits)
    assert bool(torch.isfinite(grad).all()) and float(grad[:, 1].abs().sum()) == 0.0
    empty = soft_contrastive_loss(s_logits, t_logits, weight, torch.zeros_like(mask))
    assert float(empty.detach()) == 0.0 and empty.requires_grad


# -- momentum prototypes -----------------------------------------------------------------------------------------


def test_momentum_prototypes_follow_the_formula_on_a_hand_made_batch():
    est = PrototypeEstimator(3, 2, momentum=0.0)
    first = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    est.update(first, torch.tensor([0, 0, 1]))  # the first pass: exact mean
    start = est.mean.clone()
    torch.testing.assert_close(start[0], torch.tensor([0.5, 0.5], dtype=torch.float64))
    est.momentum = 0.9
    batch = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.8, 0.6]])
    est.update(batch, torch.tensor([0, 0, 2, IGNORE_INDEX]))  # class 1 absent, class 2 seen for the first time
    p0 = 0.9 * start[0] + 0.1 * torch.tensor([0.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(est.mean[0], p0 / p0.norm())
    torch.testing.assert_close(est.mean[1], start[1], rtol=0, atol=0)  # not in the batch: unchanged
    torch.testing.assert_close(est.mean[2], torch.tensor([1.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(est.count, torch.tensor([4.0, 1.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="momentum"):
        PrototypeEstimator(2, 2, momentum=1.0)


def test_momentum_zero_keeps_the_exact_cumulative_mean():
    gen = torch.Generator().manual_seed(2)
    est = PrototypeEstimator(2, 3, momentum=0.0)
    feats, labels = [], []
    for n in (3, 1, 4):
        f, lab = torch.randn(n, 3, generator=gen), torch.randint(0, 2, (n,), generator=gen)
        est.update(f, lab)
        feats.append(f)
        labels.append(lab)
    f, lab = torch.cat(feats).double(), torch.cat(labels)
    for c in range(2):
        torch.testing.assert_close(est.mean[c], f[lab == c].mean(dim=0), rtol=0, atol=1e-12)


# -- configuration ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    ({"contrast_targets": "hard"}, "CONTRAST_TARGETS 'hard' is not one of confident, soft"),
    ({"prototype_momentum": 1.0}, r"PROTOTYPE_MOMENTUM must be in \[0, 1\)"),
    ({"prototype_momentum": -0.1}, r"PROTOTYPE_MOMENTUM must be in \[0, 1\)"),
    ({"prototype_momentum": 0.9, "prototypes": "probabilistic"}, "needs PROTOTYPES point"),
])
def test_config_refuses_bad_values(change, message, tmp_path):
    from crops_engine.adapt.spcl import SpclConfig

    cfg = SpclConfig(model="m.safetensors", blocks="b.h5", output=str(tmp_path / "o.safetensors"))
    # the defaults the ablation kept (bench/results/adaptation_notes.md): soft targets, the cumulative mean, the
    # curriculum, no distribution alignment
    assert cfg.contrast_targets == "soft" and cfg.prototype_momentum == 0.0
    assert cfg.hard_schedule == "linear" and cfg.distribution_alignment is False and cfg.mix_weighting == "confidence"
    check_spcl_config(cfg)
    with pytest.raises(CropsError, match=message):
        check_spcl_config(replace(cfg, **change))


# -- a real SPCL step ------------------------------------------------------------------------------------------


def test_soft_contrast_reaches_the_low_confidence_hard_pixels_and_not_the_pasted_ones(pair, tmp_path,  # noqa: F811
                                                                                       monkeypatch):
    """With CONTRAST_TARGETS soft, the step's contrast counts every valid hard pixel ClassMix did not cover, with the
    teacher's (here the source model's) prototype similarities on the hard batch as targets and its margin as the
    weights: the hard pixels below CONF_THRESHOLD get a gradient, the pasted (easy) ones none."""
    with spcl_setup(pair, tmp_path, lambda_contrast=1.0, contrast_targets="soft") as (method, _, hard, source):
        cfg, s = method.cfg, method.cfg.pixel_stride
        soft = Spy(spcl_module.soft_contrastive_loss)
        monkeypatch.setattr(spcl_module, "soft_contrastive_loss", soft)
        step = one_step(method, hard_batch(hard), monkeypatch)
        assert not step["spies"]["contrast"].calls, "the confident-label contrast is not run with soft targets"
        assert len(soft.calls) == 1
        (student_logits, teacher_logits, weight, mask, known), _, loss = soft.calls[0]
        hard_x, hard_valid = step["hard"]
        mixed = step["spies"]["class_mix"].calls[0][2]
        pasted = mixed.mask[..., ::s, ::s]
        out = source(hard_x, True, s)
        probs = out.logits.float().softmax(dim=1)
        h = plain_teacher(source, hard_x, hard_valid, cfg.conf_threshold, s)
        assert student_logits.shape[0] == hard_x.shape[0]  # the mixed batch's, not the easy batch's
        torch.testing.assert_close(teacher_logits, dense_prototype_logits(
            out.embedding.float(), method.prototypes.prototypes(), cfg.temperature), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(weight, margin_weights(probs)[..., ::s, ::s], rtol=1e-5, atol=1e-5)
        valid = h["labels"][..., ::s, ::s] != IGNORE_INDEX
        assert torch.equal(mask.bool(), valid & ~pasted)
        (grad,) = torch.autograd.grad(loss, student_logits, retain_graph=True)
        reached = grad.abs().sum(dim=1) > 0
        unsure = valid & ~pasted & (probs.max(dim=1).values[..., ::s, ::s] < cfg.conf_threshold)
        assert bool(unsure.any()), "the hard blocks have low-confidence pixels: the test can see them reached"
        assert bool(pasted.any())
        assert bool(reached[unsure].all()), "every low-confidence hard pixel gets a signal"
        assert not bool(reached[pasted].any()), "no pasted (easy) pixel is pulled"
        assert step["terms"]["contrast"] > 0


def test_momentum_prototypes_in_a_step_follow_the_confident_easy_pixels(pair, tmp_path, monkeypatch):  # noqa: F811
    """PROTOTYPE_MOMENTUM 0.9: the set-up's prototypes stay the exact mean of its first pass; a step moves each class
    present among the easy batch's confident pixels to normalise(0.9 p + 0.1 batch mean), the others not."""
    m = 0.9
    with spcl_setup(pair, tmp_path, prototype_momentum=m) as (method, _, hard, source):
        cfg, k = method.cfg, method.num_classes
        assert method.prototypes.momentum == m
        before_norms = method.prototypes.mean.norm(dim=1)
        assert bool((before_norms < 1 - 1e-6).all()), "the first pass's prototypes are plain means (norm below 1)"
        step = one_step(method, hard_batch(hard), monkeypatch)
        easy_x, easy_valid = step["easy"]
        t = plain_teacher(source, easy_x, easy_valid, cfg.conf_threshold, cfg.pixel_stride)
        added, sums = fold(t["embedding"], t["confident"], k)
        assert bool((added > 0).any())
        mean = step["mean_before"]
        present = added > 0
        moved = m * mean + (1 - m) * sums / added.clamp_min(1)[:, None]
        expected = torch.where(present[:, None], torch.nn.functional.normalize(moved, dim=1), mean)
        torch.testing.assert_close(method.prototypes.mean, expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(method.prototypes.count, step["counts_before"] + added, rtol=0, atol=0)

"""SPCL's parts pinned one by one: each test observes one behaviour of a real SPCL step (on the tiny pair of
test_spcl) against an independent computation, so that breaking that part of the method fails it.

What each test catches (mutations applied by hand and checked, bench/results/adaptation_notes.md):
contrast on easy pixels too; prototypes from all blocks, or never updated; EMA never updated; ClassMix weights
ignored, or its direction reversed (easy is pasted onto hard); easy and hard batches swapped. The label-read guard
over the method registry is test_spcl.py::test_no_method_reads_a_target_label; the end-to-end gain over
source-only is test_spcl_gain.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from test_spcl import pair, spcl_config  # noqa: E402, F401 - the module's fixture, shared

from crops_engine.adapt import spcl as spcl_module  # noqa: E402
from crops_engine.adapt.method import AdaptationContext  # noqa: E402
from crops_engine.adapt.spcl import SPCL  # noqa: E402
from crops_engine.adapt.target import TargetBlocks  # noqa: E402
from crops_engine.blocks import BlockStore  # noqa: E402
from crops_engine.checkpoint import load_model  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402

torch.set_num_threads(1)

# The teacher's pseudo-labels are its plain argmax / max probability (no alignment, no rectification, source
# BatchNorm statistics), so a test can compute them from the source model itself. The contrast is the confident
# one (its soft targets, the default, are pinned in test_spcl_soft_contrast.py) and the hard batch all hard blocks
# (the curriculum's share is pinned in test_spcl.py).
PLAIN = dict(recalibrate_bn=False, distribution_alignment=False, prototype_rectification=False, init_blocks=0,
             jitter=0.0, hard_schedule="constant", contrast_targets="confident")


@contextmanager
def spcl_setup(pair, tmp_path, **kw: Any) -> Iterator[tuple[SPCL, BlockStore, TargetBlocks, Any]]:  # noqa: F811
    """An SPCL method set up on the pair's target (the runner's dataset: the hard split), and the source model."""
    cfg = spcl_config(pair, tmp_path / "unused.safetensors", **(PLAIN | kw))
    student, meta = load_model(pair["model"])
    student.train()
    source, _ = load_model(pair["model"])
    source.eval()
    with BlockStore(pair["target"]) as store:
        hard = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], store.split("hard"))
        method = SPCL(cfg, student, Progress())
        method.setup(AdaptationContext(cfg, meta, hard, torch.device("cpu"), False, cfg.iterations, Progress()))
        yield method, store, hard, source


@torch.no_grad()
def plain_teacher(model: torch.nn.Module, x: torch.Tensor, valid: torch.Tensor, threshold: float, stride: int
                  ) -> dict[str, torch.Tensor]:
    """The source model's labels / confidence on `x` and its confident labels and embedding on the stride grid."""
    out = model(x, True, stride)
    probs = out.logits.float().softmax(dim=1)
    confidence, labels = probs.max(dim=1)
    labels = torch.where(valid.bool(), labels, torch.full_like(labels, IGNORE_INDEX))
    confident = torch.where(confidence >= threshold, labels, torch.full_like(labels, IGNORE_INDEX))
    return {"labels": labels, "confidence": confidence, "confident": confident[..., ::stride, ::stride],
            "embedding": out.embedding.float()}


def fold(embedding: torch.Tensor, confident: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(counts (K,), sums (K, D)) of the embeddings of the confident pixels, float64."""
    flat = embedding.permute(0, 2, 3, 1).reshape(-1, embedding.shape[1]).double()
    lab = confident.reshape(-1)
    keep = lab != IGNORE_INDEX
    counts = torch.bincount(lab[keep], minlength=k).double()
    sums = torch.zeros(k, embedding.shape[1], dtype=torch.float64).index_add_(0, lab[keep], flat[keep])
    return counts, sums


def hard_batch(dataset: TargetBlocks, n: int = 2) -> dict[str, torch.Tensor]:
    samples = [dataset[i] for i in range(n)]
    return {"image": torch.stack([s["image"] for s in samples]), "valid": torch.stack([s["valid"] for s in samples])}


class Spy:
    """Wraps a callable, recording its arguments and result of every call."""

    def __init__(self, fn: Any) -> None:
        self.fn, self.calls = fn, []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.fn(*args, **kwargs)
        self.calls.append((args, kwargs, result))
        return result


def one_step(method: SPCL, batch: dict[str, torch.Tensor], monkeypatch) -> dict[str, Any]:
    """Run `method.loss` on `batch` at step 0 with spies on what a step draws, mixes and computes."""
    spies = {"draw": Spy(method.easy.draw), "hard_batch": Spy(method.hard_batch),
             "class_mix": Spy(spcl_module.class_mix), "ce": Spy(spcl_module.masked_cross_entropy),
             "contrast": Spy(spcl_module.prototype_contrastive_loss)}
    monkeypatch.setattr(method.easy, "draw", spies["draw"])
    monkeypatch.setattr(method, "hard_batch", spies["hard_batch"])
    for name, attr in (("class_mix", "class_mix"), ("ce", "masked_cross_entropy"),
                       ("contrast", "prototype_contrastive_loss")):
        monkeypatch.setattr(spcl_module, attr, spies[name])
    counts, mean = method.prototypes.count.clone(), method.prototypes.mean.clone()
    loss, terms = method.loss(batch, 0)
    monkeypatch.undo()
    easy = [r for (step, first, count), _, r in spies["draw"].calls if first == 0]
    assert len(easy) == 1, "one easy batch per step"
    hard_x, hard_valid, _ = spies["hard_batch"].calls[0][2]
    return {"loss": loss, "terms": terms, "easy": easy[0], "hard": (hard_x, hard_valid), "spies": spies,
            "counts_before": counts, "mean_before": mean}


# -- prototypes: from easy blocks only, and updated ---------------------------------------------------------------


def test_first_prototypes_are_the_mean_of_the_confident_easy_pixels_only(pair, tmp_path):  # noqa: F811
    """The set-up's prototypes are exactly the mean embedding of the source model's confident pixels of the easy
    blocks, and not of all blocks (the hard ones would add pixels)."""
    with spcl_setup(pair, tmp_path) as (method, store, hard, source):
        cfg, k = method.cfg, method.num_classes
        mean, std = store_norm(pair)
        easy = TargetBlocks(store, mean, std, store.split("easy"))
        counts, sums = fold_dataset(source, easy, cfg.conf_threshold, cfg.pixel_stride, k)
        hard_counts, _ = fold_dataset(source, hard, cfg.conf_threshold, cfg.pixel_stride, k)
        assert float(hard_counts.sum()) > 0, "the hard blocks have confident pixels: the test can tell them apart"
        assert bool((counts > 0).all())
        torch.testing.assert_close(method.prototypes.count, counts, rtol=0, atol=0)
        torch.testing.assert_close(method.prototypes.mean, sums / counts[:, None], rtol=0, atol=1e-6)


def store_norm(pair) -> tuple[list[float], list[float]]:  # noqa: F811
    _, meta = load_model(pair["model"])
    return meta.normalisation["mean"], meta.normalisation["std"]


def fold_dataset(model, dataset: TargetBlocks, threshold: float, stride: int, k: int):
    counts = torch.zeros(k, dtype=torch.float64)
    sums = None
    for i in range(len(dataset)):
        s = dataset[i]
        t = plain_teacher(model, s["image"][None], s["valid"][None], threshold, stride)
        c, su = fold(t["embedding"], t["confident"], k)
        counts += c
        sums = su if sums is None else sums + su
    return counts, sums


def test_a_step_folds_the_teachers_confident_easy_pixels_into_the_prototypes(pair, tmp_path, monkeypatch):  # noqa: F811
    """After one step the prototypes are the running mean with exactly the confident pixels of the step's easy
    batch added (never updated, or updated with the hard batch too, fails)."""
    with spcl_setup(pair, tmp_path) as (method, _, hard, source):
        cfg, k = method.cfg, method.num_classes
        step = one_step(method, hard_batch(hard), monkeypatch)
        easy_x, easy_valid = step["easy"]
        t = plain_teacher(source, easy_x, easy_valid, cfg.conf_threshold, cfg.pixel_stride)
        added, sums = fold(t["embedding"], t["confident"], k)
        hard_x, hard_valid = step["hard"]
        h = plain_teacher(source, hard_x, hard_valid, cfg.conf_threshold, cfg.pixel_stride)
        assert float(added.sum()) > 0 and float((h["confident"] != IGNORE_INDEX).sum()) > 0
        before, mean = step["counts_before"], step["mean_before"]
        torch.testing.assert_close(method.prototypes.count, before + added, rtol=0, atol=0)
        expected = (mean * before[:, None] + sums) / (before + added)[:, None]
        torch.testing.assert_close(method.prototypes.mean, expected, rtol=0, atol=1e-6)


# -- the contrastive loss: hard pixels only ------------------------------------------------------------------------


def test_contrast_reaches_the_hard_pixels_of_the_mixed_block_only(pair, tmp_path, monkeypatch):  # noqa: F811
    """The pixels the contrastive loss counts are exactly the hard block's confident pixels that ClassMix did not
    cover, with the teacher's hard labels: no pasted (easy) pixel, none of the easy batch."""
    with spcl_setup(pair, tmp_path, lambda_contrast=1.0) as (method, _, hard, source):
        cfg, s = method.cfg, method.cfg.pixel_stride
        step = one_step(method, hard_batch(hard), monkeypatch)
        calls = step["spies"]["contrast"].calls
        assert len(calls) == 1
        (embedding, labels, prototypes, _), kwargs, _ = calls[0]
        mask, known = kwargs["mask"], kwargs["known"]
        hard_x, hard_valid = step["hard"]
        mixed = step["spies"]["class_mix"].calls[0][2]
        h = plain_teacher(source, hard_x, hard_valid, cfg.conf_threshold, s)
        pasted = mixed.mask[..., ::s, ::s]
        assert embedding.shape[0] == hard_x.shape[0]  # the mixed batch's embeddings, not the easy batch's
        counted = (labels != IGNORE_INDEX) & mask.bool() & known[labels.clamp(max=len(known) - 1)]
        expected = (h["confident"] != IGNORE_INDEX) & ~pasted & known[h["confident"].clamp(max=len(known) - 1)]
        assert bool(expected.any()), "some hard pixels are confident and not covered"
        assert bool((pasted & (h["confident"] != IGNORE_INDEX)).any()), "the test can see pasted pixels counted"
        assert torch.equal(counted, expected)
        assert torch.equal(labels[counted], h["confident"][expected])
        assert step["terms"]["contrast"] > 0


# -- ClassMix: easy pasted onto hard, weighted ------------------------------------------------------------------


@pytest.mark.parametrize("weighting", ["share", "confidence"])
def test_classmix_pastes_easy_classes_onto_the_hard_blocks_and_weights_the_loss(pair, tmp_path, monkeypatch,  # noqa: F811
                                                                               weighting):
    """The student's mixed view is the hard batch with whole classes of the easy batch pasted on it (by the easy
    teacher labels), labelled by the teacher, and its cross-entropy is weighted as MIX_WEIGHTING says."""
    with spcl_setup(pair, tmp_path, mix_weighting=weighting) as (method, store, hard, source):
        cfg, k = method.cfg, method.num_classes
        batch = hard_batch(hard)
        step = one_step(method, batch, monkeypatch)
        easy_x, easy_valid = step["easy"]
        hard_x, hard_valid = step["hard"]
        # the hard batch is the runner's (hard split) batch; the easy one is drawn from the easy split
        assert torch.equal(hard_x, batch["image"]) and torch.equal(hard_valid, batch["valid"])
        assert sorted(method.easy.stream.dataset.indices.tolist()) == sorted(store.split("easy").tolist())
        assert not set(store.split("easy").tolist()) & set(store.split("hard").tolist())
        mixed = step["spies"]["class_mix"].calls[0][2]
        m = mixed.mask
        assert bool(m.any()) and not bool(m.all())
        e = plain_teacher(source, easy_x, easy_valid, cfg.conf_threshold, cfg.pixel_stride)
        h = plain_teacher(source, hard_x, hard_valid, cfg.conf_threshold, cfg.pixel_stride)
        assert torch.equal(mixed.image, torch.where(m[:, None], easy_x, hard_x))  # easy onto hard, not back
        assert not bool((m & (e["labels"] == IGNORE_INDEX)).any())  # pasted pixels are labelled easy pixels
        for i in range(m.shape[0]):  # whole classes of the easy block's teacher labels
            for c in range(k):
                sel = m[i][e["labels"][i] == c]
                assert bool(sel.all()) or not bool(sel.any())
        valid = torch.where(m, easy_valid, hard_valid)
        labels = torch.where(m, e["labels"], h["labels"])
        assert torch.equal(mixed.labels, torch.where(valid, labels, torch.full_like(labels, IGNORE_INDEX)))
        confidence = torch.where(m, e["confidence"], h["confidence"])
        v = valid.double()
        if weighting == "confidence":
            expected = confidence.double() * v
        else:
            share = ((confidence >= cfg.conf_threshold).double() * v).sum(dim=(1, 2)) / v.sum(dim=(1, 2))
            expected = share[:, None, None] * v
        torch.testing.assert_close(mixed.weight.double(), expected, rtol=0, atol=1e-6)
        # the mixed batch's cross-entropy is the first masked_cross_entropy of the step, with these weights
        (logits, ce_labels, weight), _, value = step["spies"]["ce"].calls[0]
        assert torch.equal(ce_labels, mixed.labels)
        assert weight is not None and torch.equal(weight, mixed.weight)
        assert float(weight[valid].std()) > 0 or weighting == "share"
        per_pixel = torch.nn.functional.cross_entropy(logits.detach().float(), ce_labels, ignore_index=IGNORE_INDEX,
                                                      reduction="none")
        counted = ce_labels != IGNORE_INDEX
        weighted = float((per_pixel * expected.float())[counted].sum() / counted.sum())
        assert step["terms"]["mix_ce"] == pytest.approx(weighted, rel=1e-5)
        assert abs(weighted - float(per_pixel[counted].mean())) > 1e-4  # the weights change the loss


def test_without_classmix_the_student_learns_the_hard_blocks_own_pseudo_labels(pair, tmp_path, monkeypatch):  # noqa: F811
    """CLASSMIX off (the ablation): nothing is pasted; the mixed batch's cross-entropy is the teacher's labels of the
    hard batch itself with the same per-pixel weights, and the contrast reaches every hard pixel."""
    with spcl_setup(pair, tmp_path, classmix=False, mix_weighting="confidence") as (method, _, hard, source):
        cfg = method.cfg
        batch = hard_batch(hard)
        step = one_step(method, batch, monkeypatch)
        assert not step["spies"]["class_mix"].calls
        h = plain_teacher(source, batch["image"], batch["valid"], cfg.conf_threshold, cfg.pixel_stride)
        (_, ce_labels, weight), _, _ = step["spies"]["ce"].calls[0]
        assert torch.equal(ce_labels, h["labels"])
        torch.testing.assert_close(weight.double(), h["confidence"].double() * batch["valid"].double(), rtol=0,
                                   atol=1e-6)
        args, kwargs, _ = step["spies"]["contrast"].calls[0]
        assert bool(kwargs["mask"].all())
        assert torch.equal(args[1], h["confident"])


@torch.no_grad()
def mean_probabilities(model: torch.nn.Module, dataset: TargetBlocks) -> torch.Tensor:
    """The model's mean class probability over the valid pixels of every block of `dataset` (float64)."""
    total, pixels = None, 0.0
    for i in range(len(dataset)):
        sample = dataset[i]
        probs = model(sample["image"][None], embed=False).logits.float().softmax(dim=1)[0].double()
        valid = sample["valid"].double()
        part = (probs * valid).sum(dim=(1, 2))
        total = part if total is None else total + part
        pixels += float(valid.sum())
    return total / pixels


@pytest.mark.parametrize("reference", ["first_teacher", "source"])
def test_alignment_holds_the_distribution_of_the_model_its_reference_names(pair, tmp_path, reference):  # noqa: F811
    """DISTRIBUTION_ALIGNMENT holds the pseudo-labels at the mean prediction over every target block (easy and hard)
    of the first teacher (after AdaBN) or, with ALIGNMENT_REFERENCE source, of the source model before AdaBN."""
    with spcl_setup(pair, tmp_path, recalibrate_bn=True, distribution_alignment=True,
                    alignment_reference=reference) as (method, store, hard, source):
        mean, std = store_norm(pair)
        everything = TargetBlocks(store, mean, std, np.concatenate([store.split("easy"), store.split("hard")]))
        of_source = mean_probabilities(source, everything)
        of_teacher = mean_probabilities(method.teacher.model, everything)
        assert float((of_source - of_teacher).abs().max()) > 1e-3, "AdaBN moves the distribution: the test can tell"
        expected = of_source if reference == "source" else of_teacher
        torch.testing.assert_close(method.alignment.reference, expected, rtol=0, atol=1e-5)


# -- the EMA teacher: updated after each step, and what is saved ---------------------------------------------------


def test_the_teacher_follows_the_student_by_ema_after_each_step(pair, tmp_path):  # noqa: F811
    """After each optimiser step the teacher moves towards the student by EMA (momentum min(1 - 1/(step+1), EMA)),
    the next pseudo-labels are the moved teacher's, and the saved model is the teacher."""
    with spcl_setup(pair, tmp_path, ema=0.9) as (method, _, hard, _):
        teacher = method.teacher.model
        assert method.model_to_save() is teacher
        optimiser = torch.optim.SGD(method.trainable_parameters(), lr=0.05)

        def learn(step: int) -> None:
            optimiser.zero_grad()
            method.loss(hard_batch(hard), step)[0].backward()
            optimiser.step()

        learn(0)
        moved = [p.clone() for p in method.student.parameters()]
        assert any(not torch.equal(t, s) for t, s in zip(teacher.parameters(), moved, strict=True))
        method.after_step(0)  # momentum min(1 - 1/1, EMA) = 0: the teacher becomes the student
        for t, s in zip(teacher.parameters(), method.student.parameters(), strict=True):
            torch.testing.assert_close(t, s, rtol=0, atol=0)
        before = [p.clone() for p in teacher.parameters()]
        learn(50)
        method.after_step(50)  # min(1 - 1/51, 0.9) = 0.9
        changed = 0
        for t, b, s in zip(teacher.parameters(), before, method.student.parameters(), strict=True):
            torch.testing.assert_close(t, 0.9 * b + 0.1 * s)
            changed += int(not torch.equal(t, b))
        assert changed > 0
        # the pseudo-labels of the next step are the teacher's (the moved one), not the source model's
        sample = method.easy.stream.dataset[0]
        x, valid = sample["image"][None], sample["valid"][None]
        _, _, confidence, _ = method._teacher_view(x, valid)
        with torch.no_grad():
            direct = teacher(x, False).logits.softmax(dim=1).max(dim=1).values
        torch.testing.assert_close(confidence, direct)


def test_the_curriculum_fills_the_hard_batch_with_easy_blocks_first_and_ends_with_hard_ones(pair, tmp_path):  # noqa: F811
    """HARD_SCHEDULE linear (the default): at the first step the hard batch holds HARD_START of the runner's hard
    blocks and easy blocks after them (drawn past the step's easy batch); at the last step only hard blocks."""
    with spcl_setup(pair, tmp_path, hard_schedule="linear", hard_start=0.5, iterations=11) as (method, _, hard, _):
        batch = hard_batch(hard, 2)
        x, valid, share = method.hard_batch(batch, 0)
        assert share == 0.5
        assert torch.equal(x[:1], batch["image"][:1]) and torch.equal(valid[:1], batch["valid"][:1])
        fill_x, fill_valid = method.easy.draw(0, 2, 1)
        assert torch.equal(x[1:], fill_x) and torch.equal(valid[1:], fill_valid)
        assert not torch.equal(x[1:], batch["image"][1:])
        easy_x, _ = method.easy.draw(0, 0, 2)
        assert not any(torch.equal(x[1], e) for e in easy_x)  # not a block of the step's easy batch
        x, valid, share = method.hard_batch(batch, 10)
        assert share == 1.0 and torch.equal(x, batch["image"]) and torch.equal(valid, batch["valid"])


def test_split_is_always_hard_whatever_is_asked(pair, tmp_path):  # noqa: F811
    """The runner's batches are SPCL's hard blocks; its easy ones come from its own stream."""
    for split in ("all", "easy", "hard"):
        assert spcl_config(pair, tmp_path / "x.safetensors", split=split).split == "hard"


def test_spies_see_a_real_step(pair, tmp_path, monkeypatch):  # noqa: F811
    """The spies above observe the step the method runs: one_step's loss equals an unobserved step's."""
    with spcl_setup(pair, tmp_path) as (method, _, hard, _):
        batch = hard_batch(hard)
        observed = float(one_step(method, batch, monkeypatch)["loss"].detach())
    with spcl_setup(pair, tmp_path) as (method, _, hard, _):
        plain = float(method.loss(hard_batch(hard), 0)[0].detach())
    assert observed == pytest.approx(plain, rel=1e-6)
    assert np.isfinite(plain)

"""The baselines' generic add-ons (issue 14): RECALIBRATE_BN (AdaBN before the first prediction) and
DISTRIBUTION_ALIGNMENT (predictions held at the first model's class distribution) in self-training and entropy
minimisation, observed on real runs against an independent computation; off, nothing changes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from test_adapt import config  # noqa: E402
from test_partition import make_random_target  # noqa: E402

from crops_engine.adapt import adapt  # noqa: E402
from crops_engine.adapt import entropy as entropy_module  # noqa: E402
from crops_engine.adapt import self_training as self_training_module  # noqa: E402
from crops_engine.adapt.alignment import DistributionAlignment  # noqa: E402
from crops_engine.adapt.target import TargetBlocks  # noqa: E402
from crops_engine.adapt.teacher import RECALIBRATION_BATCHES, recalibrate_batchnorm  # noqa: E402
from crops_engine.blocks import BlockStore  # noqa: E402
from crops_engine.checkpoint import load_model  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    return make_random_target(tmp_path_factory.mktemp("addons-target"))


def bn_means(model) -> list:
    return [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def adabn_of_source(t: dict, batch_size: int = 4) -> list:
    """The source model's BatchNorm means after AdaBN on every target block in near-equal batches of
    RECALIBRATION_BATCHES x BATCH_SIZE blocks (the documented recipe), computed here independently."""
    model, meta = load_model(t["model"])
    store = BlockStore(t["store"])
    try:
        blocks = TargetBlocks(store, meta.normalisation["mean"], meta.normalisation["std"], np.arange(len(store)))
        images = torch.stack([blocks[i]["image"] for i in range(len(blocks))])
    finally:
        store.close()
    n = len(images)
    parts = torch.tensor_split(images, max(1, min(-(-n // (batch_size * RECALIBRATION_BATCHES)), n // 2)))
    recalibrate_batchnorm(model, parts)
    return bn_means(model)


def spy_calibration(monkeypatch, module) -> list:
    """What the first calibration pass sees: the model's BatchNorm means and the class prior it returns."""
    seen: list = []
    real = module.calibrate

    def spy(model, context, blocks):
        histogram, prior = real(model, context, blocks)
        seen.append((bn_means(model), prior))
        return histogram, prior

    monkeypatch.setattr(module, "calibrate", spy)
    return seen


def spy_alignment(monkeypatch) -> list:
    calls: list = []
    real = DistributionAlignment.align

    def spy(self, probs, valid):
        out = real(self, probs, valid)
        calls.append((self.active, probs.detach().clone(), out.detach().clone()))
        return out

    monkeypatch.setattr(DistributionAlignment, "align", spy)
    monkeypatch.setattr(DistributionAlignment, "__call__", spy)
    return calls


@pytest.mark.parametrize("method", ["self_training", "entropy"])
def test_recalibrate_bn_gives_the_first_prediction_target_statistics(method, target, tmp_path, monkeypatch):
    module = self_training_module if method == "self_training" else entropy_module
    seen = spy_calibration(monkeypatch, module)
    source = bn_means(load_model(target["model"])[0])
    expected = adabn_of_source(target)
    extra = {"diversity_prior": "source"} if method == "entropy" else {}  # entropy calibrates only when asked
    for on in (False, True):
        adapt(method, config(method, target, tmp_path / f"{method}{on}.safetensors", iterations=1,
                             recalibrate_bn=on, **extra), Progress())
        means, _ = seen[-1]
        reference = expected if on else source
        for got, want in zip(means, reference, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert any(not torch.allclose(a, b, atol=1e-4) for a, b in zip(source, expected, strict=True))


def test_self_training_thresholds_the_aligned_teacher_probabilities(target, tmp_path, monkeypatch):
    seen = spy_calibration(monkeypatch, self_training_module)
    calls = spy_alignment(monkeypatch)
    labelled: list = []
    real_pseudo_labels = self_training_module.pseudo_labels

    def spy_pseudo_labels(probs, valid, thresholds):
        labelled.append(probs.detach().clone())
        return real_pseudo_labels(probs, valid, thresholds)

    monkeypatch.setattr(self_training_module, "pseudo_labels", spy_pseudo_labels)
    kept: list = []
    real_setup = self_training_module.SelfTraining.setup

    def keep(self, context):
        kept.append(self)
        return real_setup(self, context)

    monkeypatch.setattr(self_training_module.SelfTraining, "setup", keep)
    out = tmp_path / "aligned.safetensors"
    adapt("self_training", config("self_training", target, out, iterations=3, distribution_alignment=True),
          Progress())
    method = kept[-1]
    _, prior = seen[-1]
    assert method.alignment.active
    np.testing.assert_allclose(method.alignment.reference.numpy(), prior)
    steps = [c for c in calls if c[0]]
    assert len(steps) == 3 and len(labelled) == 3
    for (_, _raw, aligned), used in zip(steps, labelled, strict=True):
        assert torch.equal(aligned, used)  # the thresholds see the aligned probabilities
    assert any(not torch.allclose(raw, aligned) for _, raw, aligned in steps)
    calls.clear()
    labelled.clear()
    adapt("self_training", config("self_training", target, tmp_path / "plain.safetensors", iterations=2),
          Progress())
    assert not kept[-1].alignment.active and not [c for c in calls if c[0]]


def test_entropy_minimises_the_entropy_of_the_aligned_probabilities(target, tmp_path, monkeypatch):
    calls = spy_alignment(monkeypatch)
    entropies: list = []
    real_entropy_map = entropy_module.entropy_map

    def spy(probs):
        entropies.append(probs.detach().clone())
        return real_entropy_map(probs)

    monkeypatch.setattr(entropy_module, "entropy_map", spy)
    adapt("entropy", config("entropy", target, tmp_path / "e.safetensors", iterations=3, lr=1e-2,
                            distribution_alignment=True), Progress())
    steps = [c for c in calls if c[0]]
    assert len(steps) == 3 and len(entropies) == 3
    for (_, _raw, aligned), used in zip(steps, entropies, strict=True):
        assert torch.equal(aligned, used)
    assert any(not torch.allclose(raw, aligned) for _, raw, aligned in steps)


def test_alignment_keeps_no_graph_of_the_probabilities():
    alignment = DistributionAlignment()
    alignment.start(torch.tensor([0.7, 0.3], dtype=torch.float64))
    logits = torch.randn(2, 2, 4, 4, requires_grad=True)
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    for _ in range(2):  # a second step would fail to backward through the first's graph
        out = alignment(logits.softmax(dim=1), valid)
        out.sum().backward()
    assert alignment.running is not None and not alignment.running.requires_grad and alignment.running.shape == (2,)

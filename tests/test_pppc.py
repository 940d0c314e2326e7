"""Probabilistic prototypes (PPPC, SPCL's PROTOTYPES=probabilistic): the mutual likelihood score against hand-computed
values, the Gaussian prototypes against a numpy reference, the variance head, the variance in the rectification and the
contrastive loss, and a run of SPCL with them (resume state, checkpoint)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import TINY_UNET, write_scene

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from crops_engine.adapt import adapt, make_config  # noqa: E402
from crops_engine.adapt.pppc import (  # noqa: E402
    GaussianPrototypeEstimator,
    VarianceHead,
    dense_mutual_likelihood_score,
    forward_gaussian,
    mutual_likelihood_score,
)
from crops_engine.adapt.prototypes import dense_contrastive_loss, rectified  # noqa: E402
from crops_engine.blocks import BlockStore, build_block_store, write_partition  # noqa: E402
from crops_engine.checkpoint import load_model  # noqa: E402
from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.metrics import IGNORE_INDEX  # noqa: E402
from crops_engine.models import build_model  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.train import TrainConfig, train_source  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)


def hand_mls(mu, var, m, v):
    """-1/2 sum_d [(mu_d - m^_d)^2 / (var_d + v_d) + log(var_d + v_d)], m^ = m / |m|, written out."""
    norm = math.sqrt(sum(x * x for x in m))
    total = 0.0
    for d in range(len(mu)):
        s = var[d] + v[d]
        total += (mu[d] - m[d] / norm) ** 2 / s + math.log(s)
    return -0.5 * total


def test_mls_is_the_hand_computed_score():
    mu = torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    log_var = torch.log(torch.tensor([[0.1, 0.1]], dtype=torch.float64))
    protos = torch.tensor([[2.0, 0.0], [0.0, 0.5]], dtype=torch.float64)  # not unit: normalised inside
    proto_var = torch.tensor([[0.1, 0.3], [0.2, 0.2]], dtype=torch.float64)
    got = mutual_likelihood_score(mu, log_var, protos, proto_var)
    # by hand, prototype 0: sums 0.2, 0.4; squared differences 0.16, 0.64 -> -1/2 (0.8 + 1.6 + ln 0.2 + ln 0.4)
    by_hand = -0.5 * (0.16 / 0.2 + 0.64 / 0.4 + math.log(0.2) + math.log(0.4))
    assert float(got[0, 0]) == pytest.approx(by_hand, rel=1e-12)
    assert float(got[0, 0]) == pytest.approx(0.0628643, abs=1e-6)
    assert float(got[0, 1]) == pytest.approx(hand_mls([0.6, 0.8], [0.1, 0.1], [0.0, 0.5], [0.2, 0.2]), rel=1e-12)
    assert float(got[0, 1]) > float(got[0, 0])  # nearer (0.6, 0.8) is prototype 1's direction (0, 1)


def test_a_high_variance_pixel_scores_lower_and_pulls_less():
    mu = torch.tensor([[0.6, 0.8], [0.6, 0.8]], dtype=torch.float64)
    log_var = torch.log(torch.tensor([[0.05, 0.05], [1.0, 1.0]], dtype=torch.float64))
    protos = torch.tensor([[0.6, 0.8], [1.0, 0.0]], dtype=torch.float64)
    proto_var = torch.full((2, 2), 0.05, dtype=torch.float64)
    got = mutual_likelihood_score(mu, log_var, protos, proto_var)
    assert float(got[1, 0]) < float(got[0, 0])  # the same embedding, more uncertain: a lower score
    assert float(got[1, 0]) == pytest.approx(hand_mls([0.6, 0.8], [1.0, 1.0], [0.6, 0.8], [0.05, 0.05]), rel=1e-12)
    # and its scores differ less between the classes: it pulls less towards its own prototype
    assert float(got[1, 0] - got[1, 1]) < float(got[0, 0] - got[0, 1])
    pull = torch.softmax(got, dim=1)[:, 0]
    assert float(pull[1]) < float(pull[0])


def test_mls_with_equal_variances_is_the_point_similarity_over_a_temperature():
    g = torch.Generator().manual_seed(0)
    mu = torch.nn.functional.normalize(torch.randn(5, 4, generator=g, dtype=torch.float64), dim=1)
    protos = torch.randn(3, 4, generator=g, dtype=torch.float64)
    t = 0.1  # every sigma2 + v = t
    got = mutual_likelihood_score(mu, torch.full((5, 4), math.log(t / 2), dtype=torch.float64), protos,
                                  torch.full((3, 4), t / 2, dtype=torch.float64))
    cos = mu @ torch.nn.functional.normalize(protos, dim=1).T
    assert torch.allclose(got - got[:, :1], (cos - cos[:, :1]) / t, atol=1e-10)


def test_dense_mls_is_the_flat_one_per_pixel():
    g = torch.Generator().manual_seed(1)
    n, d, h, w, k = 2, 3, 4, 5, 4
    mu = torch.nn.functional.normalize(torch.randn(n, d, h, w, generator=g), dim=1)
    log_var = torch.randn(n, d, h, w, generator=g) * 0.5 - 2.0
    protos, proto_var = torch.randn(k, d, generator=g), torch.rand(k, d, generator=g) * 0.1 + 0.01
    dense = dense_mutual_likelihood_score(mu, log_var, protos, proto_var)
    flat = mutual_likelihood_score(mu.permute(0, 2, 3, 1).reshape(-1, d), log_var.permute(0, 2, 3, 1).reshape(-1, d),
                                   protos, proto_var)
    assert dense.shape == (n, k, h, w)
    assert torch.allclose(dense.permute(0, 2, 3, 1).reshape(-1, k), flat, atol=1e-5)


def numpy_gaussian_prototypes(mu: np.ndarray, var: np.ndarray, labels: np.ndarray, k: int):
    """The reference: precision-weighted mean, and variance about the unit mean direction of the class's mixture."""
    means, variances = np.zeros((k, mu.shape[1])), np.ones((k, mu.shape[1]))
    for c in range(k):
        sel = labels == c
        if not sel.any():
            continue
        w = 1.0 / var[sel]
        means[c] = (w * mu[sel]).sum(0) / w.sum(0)
        unit = means[c] / np.linalg.norm(means[c])
        variances[c] = (w * (var[sel] + (mu[sel] - unit) ** 2)).sum(0) / w.sum(0)
    return means, variances


def test_gaussian_prototypes_follow_the_numpy_reference_however_batched():
    rng = np.random.default_rng(0)
    k, d, n = 3, 4, 300
    mu = rng.normal(size=(n, d))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    mu[: n // 2] += np.array([2.0, 0, 0, 0])  # class structure, then unit again
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    var = np.exp(rng.normal(-3.0, 1.0, size=(n, d)))
    labels = rng.integers(0, k, size=n)
    labels[rng.random(n) < 0.2] = IGNORE_INDEX  # not confident: left out
    labels[labels == 2] = IGNORE_INDEX  # class 2 never seen
    est = GaussianPrototypeEstimator(k, d)
    for part in np.array_split(np.arange(n), 7):
        est.update(torch.from_numpy(mu[part]).float(), torch.from_numpy(labels[part]),
                   log_var=torch.from_numpy(np.log(var[part])).float())
    mu32, var32 = mu.astype(np.float32).astype(np.float64), np.exp(np.log(var).astype(np.float32).astype(np.float64))
    means, variances = numpy_gaussian_prototypes(mu32, var32, labels, k)
    assert np.allclose(est.prototypes(torch.float64).numpy(), means, atol=1e-9)
    assert np.allclose(est.variance(torch.float64).numpy(), variances, rtol=1e-6, atol=1e-9)
    assert est.initialised.tolist() == [True, True, False]
    assert est.count.tolist()[:2] == [int((labels == 0).sum()), int((labels == 1).sum())]
    # one update with everything gives the same prototypes
    once = GaussianPrototypeEstimator(k, d)
    once.update(torch.from_numpy(mu).float(), torch.from_numpy(labels), log_var=torch.from_numpy(np.log(var)).float())
    assert torch.allclose(once.prototypes(torch.float64), est.prototypes(torch.float64), atol=1e-12)
    assert torch.allclose(once.variance(torch.float64), est.variance(torch.float64), atol=1e-12)
    # a pixel's weight is its precision: an uncertain pixel moves its prototype less than a certain one
    a, b = GaussianPrototypeEstimator(1, 2), GaussianPrototypeEstimator(1, 2)
    pixels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    a.update(pixels, torch.tensor([0, 0]), log_var=torch.log(torch.tensor([[0.01, 0.01], [1.0, 1.0]])))
    b.update(pixels, torch.tensor([0, 0]), log_var=torch.log(torch.tensor([[1.0, 1.0], [1.0, 1.0]])))
    assert float(a.prototypes()[0, 0]) > 0.9 and float(b.prototypes()[0, 0]) == pytest.approx(0.5)
    state = est.state_dict()
    again = GaussianPrototypeEstimator(k, d)
    again.load_state_dict(state)
    assert torch.equal(again.variance(), est.variance()) and torch.equal(again.prototypes(), est.prototypes())


def test_variance_head_starts_at_the_given_variance_on_the_embedding_grid():
    torch.manual_seed(0)
    model = build_model("unet", 3, 2, **TINY_UNET)
    head = VarianceHead(int(model.projection_head.proj[0].in_channels), model.embedding_dim, 0.05)
    model.eval(), head.eval()
    x = torch.randn(2, 3, 16, 16)
    logits, embedding, log_var = forward_gaussian(model, head, x, True, 2)
    assert logits.shape == (2, 2, 16, 16) and embedding.shape == log_var.shape == (2, model.embedding_dim, 8, 8)
    assert torch.allclose(log_var, torch.full_like(log_var, math.log(0.05)))
    assert torch.equal(logits, model(x).logits) and torch.allclose(embedding, model(x, True, 2).embedding)
    assert forward_gaussian(model, head, x, False)[1:] == (None, None)
    assert not model.projection_head._forward_pre_hooks  # the capture hook is gone


def test_rectification_and_contrast_use_the_variance():
    """Rectification by MLS: a confident pixel's weights follow its embedding; the same pixel with a high variance
    has flatter weights, so the classifier's probabilities change less. The contrastive loss of MLS logits: the
    same pixels with a high variance give another loss (the variance is not ignored)."""
    protos = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    proto_var = torch.full((2, 2), 0.05)
    mu = torch.tensor([0.0, 1.0]).reshape(1, 2, 1, 1).expand(1, 2, 1, 2).contiguous()  # by prototype 1
    log_var = torch.log(torch.tensor([0.05, 2.0])).reshape(1, 1, 1, 2).expand(1, 2, 1, 2).contiguous()
    probs = torch.tensor([0.7, 0.3]).reshape(1, 2, 1, 1).expand(1, 2, 1, 2).contiguous()  # the classifier: class 0
    logits = dense_mutual_likelihood_score(mu, log_var, protos, proto_var)
    out = rectified(probs, None, None, torch.tensor([True, True]), 0.1, 1, logits=logits)
    assert float(out[0, 1, 0, 0]) > 0.9  # certain embedding by prototype 1: the label changes
    assert 0.3 < float(out[0, 1, 0, 1]) < float(out[0, 1, 0, 0])  # uncertain: moves less
    labels = torch.tensor([[[1, 1]]])
    certain = dense_contrastive_loss(dense_mutual_likelihood_score(mu, torch.full_like(log_var, math.log(0.05)),
                                                                   protos, proto_var), labels)
    uncertain = dense_contrastive_loss(logits, labels)
    assert float(uncertain) > float(certain)  # the uncertain pixel's softmax is flatter
    assert float(dense_contrastive_loss(logits, torch.full_like(labels, IGNORE_INDEX))) == 0.0


# -- SPCL with probabilistic prototypes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("pppc")
    composite, labels = write_scene(root / "source")
    source_store = root / "source.h5"
    build_block_store(composite, source_store, labels=labels, class_map="1200=maize; *=other", block_size=32,
                      val_fraction=0.25, val_group_size=1, seed=0)
    model = root / "source.safetensors"
    train_source(TrainConfig(blocks=str(source_store), output=str(model), arch_args=TINY_UNET, batch_size=4,
                             lr=3e-3, device="cpu", iterations=20, seed=0))
    target_composite, _ = write_scene(root / "target", shift=0.05, seed=1)
    target = root / "target.h5"
    build_block_store(target_composite, target, block_size=32)
    n = len(BlockStore(target))
    write_partition(target, np.linspace(1.0, 0.0, n), np.arange(0, n, 2), np.arange(1, n, 2))
    return {"model": model, "target": target}


def test_spcl_with_probabilistic_prototypes_trains_the_variance_head_and_keeps_it_out_of_the_checkpoint(pair, tmp_path):
    out = tmp_path / "pppc.safetensors"
    cfg = make_config("spcl", model=str(pair["model"]), blocks=str(pair["target"]), output=str(out), iterations=4,
                      batch_size=2, lr=1e-3, device="cpu", seed=1, conf_threshold=0.6, prototypes="probabilistic")
    result = adapt("spcl", cfg, Progress())
    assert result["steps"] == 4 and len(result["prototype_variances"]) == 2
    model, meta = load_model(out)  # a plain segmentation model: the variance head is not in it
    assert meta.provenance["hyperparameters"]["prototypes"] == "probabilistic"
    state = load_training_state(resume_path(out))
    heads = [k for k in state.model if ".variance_head." in f".{k}" or k.startswith("method.variance_head.")]
    teacher = [k for k in state.model if k.startswith("method.teacher_variance.")]
    assert heads and teacher and "method.prototypes.second" in state.model
    initial = math.log(cfg.temperature / 2)
    bias = state.model["method.variance_head.out.bias"]
    assert not torch.allclose(bias, torch.full_like(bias, initial)), "the variance head did not train"
    # RESUME restores the variance heads and Gaussian prototypes (a longer run continues from them)
    cont = make_config("spcl", **{**cfg.to_dict(), "iterations": 6, "resume": str(out)})
    assert adapt("spcl", cont, Progress())["steps"] == 6
    with pytest.raises(CropsError, match="PROTOTYPES"):
        adapt("spcl", make_config("spcl", **{**cfg.to_dict(), "output": str(tmp_path / "x.safetensors"),
                                             "prototypes": "fuzzy"}), Progress())


def test_spcl_teacher_rectifies_with_the_mutual_likelihood_of_its_variance(pair):
    from crops_engine.adapt.pppc import dense_mutual_likelihood_score
    from crops_engine.adapt.spcl import SPCL
    from crops_engine.adapt.teacher import EmaTeacher

    student, _ = load_model(pair["model"])
    cfg = make_config("spcl", model=str(pair["model"]), blocks=str(pair["target"]), output="x.safetensors",
                      prototypes="probabilistic", pixel_stride=2, distribution_alignment=False)
    method = SPCL(cfg, student, Progress())
    method.teacher = EmaTeacher(student, 0.9)
    torch.manual_seed(0)
    for p in method.variance_head.parameters():  # a variance that varies from pixel to pixel
        p.data.normal_(0.0, 0.5)
    method.teacher_variance = EmaTeacher(method.variance_head, 0.9)
    k, d = student.num_classes, student.embedding_dim
    method.prototypes = GaussianPrototypeEstimator(k, d)
    g = torch.Generator().manual_seed(3)
    method.prototypes.update(torch.nn.functional.normalize(torch.randn(40, d, generator=g), dim=1),
                             torch.arange(40) % k, log_var=torch.randn(40, d, generator=g) - 3.0)
    x = torch.randn(2, student.in_channels, 32, 32, generator=g)
    valid = torch.ones(2, 32, 32, dtype=torch.bool)
    _, _, confidence, _ = method._teacher_view(x, valid)
    logits, embedding, log_var = forward_gaussian(method.teacher.model, method.teacher_variance.model, x, True, 2)
    protos, proto_var = method.prototypes.prototypes(), method.prototypes.variance()
    mls = dense_mutual_likelihood_score(embedding, log_var, protos, proto_var)
    expected = rectified(logits.softmax(1), None, None, method.prototypes.initialised, cfg.temperature, 2, logits=mls)
    assert torch.allclose(confidence, expected.max(1).values, atol=1e-5)
    flat_var = dense_mutual_likelihood_score(embedding, torch.full_like(log_var, -3.0), protos, proto_var)
    assert not torch.allclose(mls, flat_var, atol=1e-3)  # the pixel variance changes the weights

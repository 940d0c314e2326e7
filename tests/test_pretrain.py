"""SimSiam pretraining: stop-gradient, the heads, the loss, augmentations, a tiny run on the sample data (loss
down, no collapse; collapse without the stop-gradient), exact resume, the encoder in train_source, the report."""

from __future__ import annotations

import base64
import io
import json
import re
import threading

import numpy as np
import pytest
from conftest import TINY_UNET, write_scene

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("timm")

from torch import nn  # noqa: E402

from crops_engine.blocks import BlockStore, build_block_store  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.pretrain import augment  # noqa: E402
from crops_engine.pretrain.encoder import is_encoder_checkpoint, load_encoder_tensors, read_encoder_meta  # noqa: E402
from crops_engine.pretrain.run import COLLAPSE_FRACTION, PretrainConfig, build_simsiam, pretrain  # noqa: E402
from crops_engine.pretrain.simsiam import healthy_std, output_std, simsiam_loss  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402
from crops_engine.train import TrainConfig, train_source  # noqa: E402
from crops_engine.training_state import load_training_state, resume_path  # noqa: E402

torch.set_num_threads(1)

TINY = dict(TINY_UNET)
TINY_TRANSUNET = dict(img_size=32, backbone_layers=[1, 1, 1], embed_dim=32, depth=1, num_heads=2,
                      decoder_channels=[16, 8, 8, 8], embedding_dim=8)
CLASS_MAP = "1200=maize; *=other; 0=ignore"


class Recorder:
    """Collects events; cancels once the progress text reports step `cancel_at`."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.events: list[tuple[str, dict]] = []
        self.cancel = threading.Event()
        self.cancel_at = cancel_at

    def __call__(self, event, payload):
        self.events.append((event, payload))
        if self.cancel_at is not None and event == "progress" and payload.get("text", "").startswith(
                f"Step {self.cancel_at}/"):
            self.cancel.set()

    def progress(self) -> Progress:
        return Progress(self, self.cancel)

    def warnings(self) -> list[str]:
        return [p["text"] for e, p in self.events if e == "log" and p["level"] == "warning"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """(composite, labels, labelled store with a val split) of a small 3-band scene."""
    folder = tmp_path_factory.mktemp("pretrain")
    composite, labels = write_scene(folder / "scene", 3, unlabelled_columns=4)
    store = folder / "labelled.h5"
    build_block_store(composite, store, labels=labels, class_map=CLASS_MAP, block_size=32, stride=16,
                      val_fraction=0.25, val_group_size=1, seed=0)
    return composite, labels, store


def config(output, **kw) -> PretrainConfig:
    base = dict(output=str(output), arch_args=TINY, iterations=8, batch_size=4, lr=0.5, device="cpu", seed=2,
                projection_dim=32, prediction_dim=8)
    base.update(kw)
    return PretrainConfig(**base)


def tiny_simsiam():
    torch.manual_seed(0)
    return build_simsiam("unet", TINY, 3, 32, 8)


# -- the method ------------------------------------------------------------------------------------------------


def test_stop_gradient_stops_the_target_branch():
    # the loss sends no gradient into its targets z (constants of the step), only into the predictions p
    p1, p2, z1, z2 = (torch.randn(4, 16, requires_grad=True) for _ in range(4))
    grads = torch.autograd.grad(simsiam_loss(p1, p2, z1, z2), [p1, p2, z1, z2], allow_unused=True)
    assert grads[0] is not None and grads[1] is not None and grads[2] is None and grads[3] is None

    # in the model, the encoder's gradient is then the one through the prediction branch alone
    model = tiny_simsiam().train()
    x1, x2 = torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)
    p1, p2, z1, z2 = model(x1, x2)
    loss = simsiam_loss(p1, p2, z1, z2)
    encoder = [p for p in model.encoder.parameters()]
    with_sg = torch.autograd.grad(loss, encoder, retain_graph=True)
    reference = simsiam_loss(p1, p2, z1.detach().clone(), z2.detach().clone(), stop_gradient=False)
    predictor_only = torch.autograd.grad(reference, encoder, retain_graph=True)
    for a, b in zip(with_sg, predictor_only, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # the ablation lets it through, and the encoder gets another gradient
    without = torch.autograd.grad(simsiam_loss(p1, p2, z1, z2, stop_gradient=False), encoder)
    assert any(not torch.allclose(a, b) for a, b in zip(without, with_sg, strict=True))


def test_projector_and_predictor_are_the_published_heads():
    model = tiny_simsiam()
    layers = list(model.projector)
    linear = [m for m in layers if isinstance(m, nn.Linear)]
    norms = [m for m in layers if isinstance(m, nn.BatchNorm1d)]
    assert len(linear) == 3 and len(norms) == 3 and all(m.bias is None for m in linear)
    assert isinstance(layers[-1], nn.BatchNorm1d)
    last = layers[-1]
    assert not last.affine and last.weight is None and last.bias is None
    assert all(m.affine for m in norms[:2])
    pred = [m for m in model.predictor if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in pred] == [(32, 8), (8, 32)]  # a bottleneck
    assert isinstance(model.predictor[1], nn.BatchNorm1d) and not isinstance(model.predictor[-1], nn.BatchNorm1d)
    assert model.encoder.out_channels == linear[0].in_features


def test_loss_of_identical_views_is_minus_one_at_the_optimum():
    z = torch.randn(8, 16)
    assert float(simsiam_loss(z, z, z, z)) == pytest.approx(-1.0, abs=1e-6)
    assert float(simsiam_loss(3 * z, 0.5 * z, z, z)) == pytest.approx(-1.0, abs=1e-6)  # scale does not matter
    assert float(simsiam_loss(-z, -z, z, z)) == pytest.approx(1.0, abs=1e-6)
    other = simsiam_loss(torch.randn(8, 16), torch.randn(8, 16), z, z)
    assert -1.0 < float(other) < 1.0


def test_views_are_random_resized_crops_with_flips_and_rotations():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, 16, 16)
    valid = torch.ones(6, 16, 16, dtype=torch.bool)
    valid[:, :, :3] = False
    x = x * valid[:, None]
    v1, v2 = augment.two_views(x, valid, g)
    assert v1.shape == v2.shape == x.shape and not torch.equal(v1, v2) and not torch.equal(v1, x)
    again = augment.two_views(x, valid, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], v1) and torch.equal(again[1], v2)  # a function of the generator only
    assert augment.generator_for(3, 5).initial_seed() == augment.generator_for(3, 5).initial_seed()
    assert augment.generator_for(3, 5).initial_seed() != augment.generator_for(3, 6).initial_seed()

    # geometry only, the whole block: each view is one of the 8 flips / rotations of the block, exactly
    plain = augment.AugmentConfig(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), jitter_p=0, blur_p=0, noise_p=0,
                                  dropout_p=0, solarise_p=0)
    x = torch.arange(2 * 8 * 8, dtype=torch.float32).reshape(1, 2, 8, 8).repeat(16, 1, 1, 1)
    out = augment.view(x, torch.ones(16, 8, 8, dtype=torch.bool), torch.Generator().manual_seed(1), plain)
    candidates = [torch.rot90(t, k, dims=(-2, -1)) for t in (x[0], torch.flip(x[0], dims=(-1,))) for k in range(4)]
    found = set()
    for view in out:
        matches = [i for i, c in enumerate(candidates) if torch.allclose(view, c, atol=1e-4)]
        assert len(matches) == 1
        found.add(matches[0])
    assert len(found) > 3

    # the asymmetric transform touches the second view only; invalid pixels stay 0
    always = augment.AugmentConfig(solarise_p=1.0)
    x = torch.randn(8, 3, 16, 16)
    valid = torch.ones(8, 16, 16, dtype=torch.bool)
    valid[:, 0] = False
    v1, v2 = augment.two_views(x * valid[:, None], valid, torch.Generator().manual_seed(2), always)
    assert (v2 <= 0).all() and (v1 > 0).any()
    assert len(augment.DEFAULT.describe()) == 7


def test_invalid_pixels_stay_zero_in_the_views():
    # a valid square in the middle, symmetric under the flips and rotations; the whole block is kept, and
    # jitter, blur and noise always apply: none of them may leak values into the invalid pixels
    full = augment.AugmentConfig(crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), jitter_p=1, blur_p=1, noise_p=1)
    x = torch.randn(4, 3, 16, 16)
    valid = torch.zeros(4, 16, 16, dtype=torch.bool)
    valid[:, 4:12, 4:12] = True
    for v in augment.two_views(x * valid[:, None], valid, torch.Generator().manual_seed(3), full):
        assert (v[:, :, ~valid[0]] == 0).all()
        assert (v[:, :, valid[0]] != 0).float().mean() > 0.5


# -- a run -----------------------------------------------------------------------------------------------------


def test_tiny_pretraining_lowers_the_loss_and_does_not_collapse(sample_pipeline, tmp_path):
    composites = [str(sample_pipeline["source_composite"]), str(sample_pipeline["target_composite"])]
    rec = Recorder()
    out = tmp_path / "encoder.safetensors"
    result = pretrain(config(out, composites=composites, arch_args={"encoder": "test_resnet"}, iterations=40,
                             batch_size=16, lr=2.0, projection_dim=64, prediction_dim=16), rec.progress())
    assert result["steps"] == 40 and not result["collapsed"] and rec.warnings() == []
    losses = [p["value"] for e, p in rec.events if e == "metric" and p["name"] == "pretrain_loss"]
    assert len(losses) == 20 and np.mean(losses[-3:]) < np.mean(losses[:3]) - 0.1
    assert result["output_std"] > 2 * COLLAPSE_FRACTION * healthy_std(64)
    meta = read_encoder_meta(out)
    with BlockStore(sample_pipeline["source_store"]) as s:
        assert meta.features == s.feature_names and meta.block_size == 32
    assert [i["kind"] for i in meta.provenance["inputs"]] == ["composite", "composite"]
    assert meta.provenance["optimizer"] == "SGD, momentum 0.9"
    assert meta.provenance["lr"] == pytest.approx(2.0 * 16 / 256)
    assert not list(tmp_path.glob(".crops-pretrain-*"))  # the blocks cut from the composites are gone


def test_collapse_statistic_and_warning(scene, tmp_path, monkeypatch):
    z = torch.randn(512, 64)
    assert output_std(z) == pytest.approx(healthy_std(64), rel=0.1)  # spread over the sphere
    assert output_std(torch.ones(512, 64) + 1e-3 * torch.randn(512, 64)) < 0.01 * healthy_std(64)  # one output
    # a run whose outputs collapse (the statistic forced to 0) says so once, in the result and the checkpoint
    from crops_engine.pretrain import run as run_module

    monkeypatch.setattr(run_module, "output_std", lambda t: 0.0)
    _, _, store = scene
    rec = Recorder()
    out = tmp_path / "collapsed.safetensors"
    result = pretrain(config(out, blocks=[str(store)], iterations=12), rec.progress())
    warnings = [w for w in rec.warnings() if "collapsing" in w]
    assert result["collapsed"] and len(warnings) == 1 and "Lower LR" in warnings[0]
    assert read_encoder_meta(out).provenance["collapse_warned"] is True


def test_resume_continues_bit_for_bit_and_cancel_keeps_the_encoder(scene, tmp_path):
    composite, _, store = scene
    straight = tmp_path / "straight.safetensors"
    pretrain(config(straight, composites=[str(composite)], blocks=[str(store)], save_every=2), Progress())

    cut = tmp_path / "cut.safetensors"
    rec = Recorder(cancel_at=5)
    with pytest.raises(Cancelled):
        pretrain(config(cut, composites=[str(composite)], blocks=[str(store)], save_every=2), rec.progress())
    assert read_encoder_meta(cut).provenance["steps"] == 4 and load_training_state(resume_path(cut)).step == 5
    assert any("continue with RESUME" in w for w in rec.warnings())
    assert not list(tmp_path.glob(".crops-pretrain-*")) and not list(tmp_path.glob("*crops-tmp*"))

    result = pretrain(config(cut, composites=[str(composite)], blocks=[str(store)], save_every=2, resume=str(cut)),
                      Progress())
    assert result["steps"] == 8
    a, b = load_training_state(resume_path(straight)), load_training_state(resume_path(cut))
    assert a.step == b.step == 8 and a.info["history"] == b.info["history"]
    for name, tensor in a.model.items():
        torch.testing.assert_close(b.model[name], tensor, rtol=0, atol=0, msg=name)
    for key, s in a.optimizer["state"].items():
        torch.testing.assert_close(b.optimizer["state"][key]["momentum_buffer"], s["momentum_buffer"], rtol=0, atol=0)
    ta, _ = load_encoder_tensors(straight)
    tb, _ = load_encoder_tensors(cut)
    assert set(ta) == set(tb) and all(k.startswith("encoder.") for k in ta)
    for name, tensor in ta.items():
        torch.testing.assert_close(tb[name], tensor, rtol=0, atol=0, msg=name)
    with pytest.raises(CropsError, match="already trained 8 steps"):
        pretrain(config(cut, blocks=[str(store)], composites=[str(composite)], resume=str(cut)), Progress())
    model = tmp_path / "model.safetensors"
    train_source(TrainConfig(blocks=str(store), output=str(model), arch_args=TINY, iterations=2, batch_size=4,
                             device="cpu"))
    with pytest.raises(CropsError, match="not of a pretrain run"):
        pretrain(config(tmp_path / "x.safetensors", blocks=[str(store)], resume=str(resume_path(model))), Progress())


def test_the_encoder_loads_into_train_source_and_a_mismatch_is_refused(scene, tmp_path):
    composite, labels, store = scene
    encoder = tmp_path / "encoder.safetensors"
    pretrain(config(encoder, blocks=[str(store)]), Progress())
    assert is_encoder_checkpoint(encoder) and not is_encoder_checkpoint(store)
    tensors, meta = load_encoder_tensors(encoder)
    assert meta.arch == "unet" and meta.encoder_args == {"encoder": "test_resnet"}

    # ENCODER empty: taken from the file; encoder LR scale 0: its weights stay those of the file
    model_path = tmp_path / "model.safetensors"
    rec = Recorder()
    train_source(TrainConfig(blocks=str(store), output=str(model_path), arch_args={"decoder_channels": [8] * 5},
                             pretrained=str(encoder), encoder_lr_scale=0.0, iterations=3, batch_size=4, device="cpu"),
                 rec.progress())
    from crops_engine.checkpoint import load_model

    model, model_meta = load_model(model_path)
    assert model_meta.arch_args["encoder"] == "test_resnet"
    assert model_meta.provenance["pretrained"]["sha256"] and model_meta.provenance["encoder_lr_scale"] == 0.0
    params = dict(model.named_parameters())
    assert all(torch.equal(params[k], v) for k, v in tensors.items() if k in params)
    assert any("pretrained encoder" in p["text"] for e, p in rec.events if e == "log")

    # another encoder, another architecture, other features: each refused, saying what to change
    with pytest.raises(CropsError, match="leave ENCODER empty"):
        train_source(TrainConfig(blocks=str(store), output=str(tmp_path / "m2.safetensors"), encoder="resnet18",
                                 pretrained=str(encoder), iterations=1, batch_size=4, device="cpu"))
    with pytest.raises(CropsError, match="set ARCH unet"):
        train_source(TrainConfig(blocks=str(store), output=str(tmp_path / "m3.safetensors"), arch="transunet",
                                 pretrained=str(encoder), iterations=1, batch_size=4, device="cpu"))
    folder = tmp_path / "four"
    composite4, labels4 = write_scene(folder, 4, unlabelled_columns=4)
    store4 = folder / "blocks.h5"
    build_block_store(composite4, store4, labels=labels4, class_map=CLASS_MAP, block_size=32, val_fraction=0.0)
    with pytest.raises(CropsError, match=r"pretrained on features \['b1', 'b2', 'b3'\].*extra \['b4'\]"):
        train_source(TrainConfig(blocks=str(store4), output=str(tmp_path / "m4.safetensors"), pretrained=str(encoder),
                                 iterations=1, batch_size=4, device="cpu"))


def test_transunet_hybrid_encoder_pretrains_and_loads(scene, tmp_path):
    _, _, store = scene
    encoder = tmp_path / "hybrid.safetensors"
    pretrain(config(encoder, blocks=[str(store)], arch="transunet", arch_args=TINY_TRANSUNET, iterations=2),
             Progress())
    tensors, meta = load_encoder_tensors(encoder)
    assert all(k.startswith("vit.") for k in tensors) and meta.encoder_args["embed_dim"] == 32
    assert any(k.startswith("vit.patch_embed.backbone.stem") for k in tensors)
    model_path = tmp_path / "hybrid_model.safetensors"
    train_source(TrainConfig(blocks=str(store), output=str(model_path), arch="transunet",
                             arch_args={"decoder_channels": [16, 8, 8, 8], "embedding_dim": 8},
                             pretrained=str(encoder), encoder_lr_scale=0.0, iterations=1, batch_size=4, device="cpu"))
    from crops_engine.checkpoint import load_model

    model, _ = load_model(model_path)
    params = dict(model.named_parameters())
    assert all(torch.equal(params[k], v) for k, v in tensors.items() if k in params)


def test_report_with_evaluation_holds_non_empty_plots(scene, tmp_path):
    from matplotlib.image import imread

    composite, _, store = scene
    out = tmp_path / "encoder.safetensors"
    report = tmp_path / "report.html"
    result = pretrain(config(out, composites=[str(composite)], report=str(report), eval_blocks=str(store),
                             eval_iterations=3), Progress())
    assert result["output_report"] == str(report)
    for key in ("probe_miou", "fine_tune_miou", "random_init_miou"):
        assert 0.0 <= result[key] <= 1.0
    text = report.read_text(encoding="utf-8")
    assert "Linear probe, pretrained" in text and "spectral solarisation" in text
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)"', text)
    assert [alt for alt, _ in images] == [
        "loss and learning rate per step", "collapse statistic per step", "two augmented views of a few blocks",
        "linear probe vs fine-tune vs random init", "example blocks with label and predictions"]
    for alt, data in images:
        png = base64.b64decode(data)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", alt
        pixels = imread(io.BytesIO(png))
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100 and float(pixels[..., :3].std()) > 0.05, alt

    # without EVAL_BLOCKS: three plots, beside the encoder by default
    out2 = tmp_path / "plain.safetensors"
    result = pretrain(config(out2, blocks=[str(store)], iterations=2), Progress())
    plain = tmp_path / "plain.report.html"
    assert result["output_report"] == str(plain) and result.get("probe_miou") is None
    assert len(re.findall(r"data:image/png;base64,", plain.read_text(encoding="utf-8"))) == 3


def test_bad_inputs_are_refused_with_what_to_fix(scene, tmp_path):
    composite, _, store = scene
    out = str(tmp_path / "e.safetensors")
    with pytest.raises(CropsError, match="at least one input"):
        pretrain(config(out), Progress())
    folder = tmp_path / "four"
    composite4, _ = write_scene(folder, 4)
    with pytest.raises(CropsError, match="same features in the same order"):
        pretrain(config(out, composites=[str(composite), str(composite4)]), Progress())
    with pytest.raises(CropsError, match="BLOCK_SIZE is 16 but the block store"):
        pretrain(config(out, blocks=[str(store)], block_size=16), Progress())
    with pytest.raises(CropsError, match="BATCH_SIZE must be at least 2"):
        pretrain(config(out, blocks=[str(store)], batch_size=1), Progress())
    with pytest.raises(CropsError, match="must be a .safetensors file"):
        pretrain(config(str(tmp_path / "e.pt"), blocks=[str(store)]), Progress())
    with pytest.raises(CropsError, match="neither a resume state"):
        pretrain(config(out, blocks=[str(store)], resume=str(store)), Progress())


def test_cli_pretrains_and_writes_the_result(scene, tmp_path, capsys):
    from crops_engine.cli import main

    _, _, store = scene
    out = tmp_path / "cli.safetensors"
    code = main(["pretrain", "--blocks", str(store), "--iterations", "2", "--batch-size", "4", "--device", "cpu",
                 "--arch-args", json.dumps(TINY), "--projection-dim", "16", "--prediction-dim", "4", "--output",
                 str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.find("{"):])
    assert result["steps"] == 2 and result["output"] == str(out)
    assert (tmp_path / "cli.report.html").is_file() and (tmp_path / "cli.run.json").is_file()

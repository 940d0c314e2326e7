"""Model registry: output contract of every architecture, padding, gradients, local pretrained weights."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")

from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.models import ARCHITECTURES, SegmentationOutput, build_model  # noqa: E402

torch.set_num_threads(1)

# Small configurations of every registered architecture; a new architecture must add one here.
TINY = {
    "unet": dict(encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8), embedding_dim=16),
    "transunet": dict(img_size=32, backbone_layers=(1, 1, 1), embed_dim=32, depth=1, num_heads=2,
                      decoder_channels=(32, 16, 16, 8), embedding_dim=16),
    # one step of five bands here; series of several steps: tests/test_series_model.py
    "utae": dict(steps=1, encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8), embedding_dim=16, heads=2,
                 key_dim=4),
    # one step of five bands here; series: tests/test_agrifm_model.py
    "agrifm": dict(steps=1, embed_dim=8, depths=(1, 1), num_heads=(2, 2), window_size=(2, 4, 4),
                   embedding_dim=16),
}
DIVISOR = {"unet": 32, "transunet": 16, "utae": 32, "agrifm": 4}
FIRST_CONV = {"unet": "encoder.conv1.weight", "transunet": "vit.patch_embed.backbone.stem.conv.weight",
              "utae": "encoder.conv1.weight", "agrifm": "backbone.patch_embed.proj.weight"}


def test_every_architecture_has_a_tiny_config():
    assert set(TINY) == set(ARCHITECTURES)


@pytest.fixture(scope="module", params=sorted(TINY))
def tiny(request):
    torch.manual_seed(0)
    return build_model(request.param, 5, 3, **TINY[request.param])


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (37, 45)])
def test_output_contract(tiny, size):
    tiny.train()
    x = torch.randn(2, 5, *size)
    out = tiny(x)
    assert isinstance(out, SegmentationOutput)
    assert out.logits.shape == (2, 3, *size)
    assert out.embedding.shape == (2, 16, *size)
    norms = out.embedding.norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms), atol=1e-5, rtol=0)
    assert torch.isfinite(out.logits).all()


def test_size_divisor_and_tiny_input(tiny):
    assert tiny.size_divisor == DIVISOR[tiny.arch]
    tiny.eval()
    with torch.no_grad():
        out = tiny(torch.randn(1, 5, 5, 7))  # smaller than the padding: replicate instead of reflect
    assert out.logits.shape == (1, 3, 5, 7)


def test_gradient_reaches_first_convolution(tiny):
    tiny.train()
    tiny.zero_grad()
    out = tiny(torch.randn(2, 5, 32, 32))
    loss = out.logits.logsumexp(1).mean() - (out.embedding[0] * out.embedding[1]).sum(0).mean()
    loss.backward()
    first = dict(tiny.named_parameters())[FIRST_CONV[tiny.arch]]
    assert first.shape[1] == 5
    assert first.grad is not None and first.grad.abs().sum() > 0
    missing = [n for n, p in tiny.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


def test_forward_skips_or_thins_the_embedding(tiny):
    """What SPCL asks of a forward pass: no projection head (`embed=False`), or on every s-th pixel only."""
    tiny.eval()
    x = torch.randn(2, 5, 20, 24)
    with torch.no_grad():
        out = tiny(x)
        logits, embedding = tiny(x, True, 1)
        torch.testing.assert_close(logits, out.logits)
        torch.testing.assert_close(embedding, out.embedding)
        logits, embedding = tiny(x, True, 2)
        torch.testing.assert_close(embedding, out.embedding[..., ::2, ::2])
        assert embedding.shape == (2, 16, 10, 12)
        logits, none = tiny(x, embed=False)
        assert none is None
        torch.testing.assert_close(logits, out.logits)


def test_arch_args_rebuild_the_same_model(tiny):
    args = json.loads(json.dumps(tiny.arch_args))
    assert args == tiny.arch_args
    again = build_model(tiny.arch, 5, 3, **args)
    assert {k: v.shape for k, v in again.state_dict().items()} == {k: v.shape for k, v in tiny.state_dict().items()}


def test_wrong_input_is_a_clear_error(tiny):
    with pytest.raises(CropsError, match=r"\(N, 5, H, W\)"):
        tiny(torch.randn(1, 4, 32, 32))
    with pytest.raises(CropsError, match="float"):
        tiny(torch.zeros(1, 5, 32, 32, dtype=torch.int64))


def test_registry_errors():
    with pytest.raises(CropsError, match="known: agrifm, transunet, unet"):
        build_model("segformer", 3, 2)
    with pytest.raises(CropsError, match="Unknown argument.*depht"):
        build_model("transunet", 3, 2, depht=1)
    with pytest.raises(CropsError, match="Unknown encoder"):
        build_model("unet", 3, 2, encoder="resnet_does_not_exist")
    with pytest.raises(CropsError, match="multiple of 16"):
        build_model("transunet", 3, 2, img_size=40)
    with pytest.raises(CropsError, match="decoder_channels needs 5"):
        build_model("unet", 3, 2, decoder_channels=(16, 8))


def test_unet_other_encoder_and_default_decoder():
    model = build_model("unet", 2, 2, encoder="efficientnet_b0")
    assert model.arch_args["decoder_channels"] == [256, 128, 64, 32, 16]
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 2, 40, 40)).logits.shape == (1, 2, 40, 40)


# --- pretrained encoder weights from a local file ---------------------------------------------


def _save_safetensors(path, state):
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def test_unet_encoder_weights_adapt_rgb_to_ten_channels(tmp_path):
    from timm.models import adapt_input_conv

    torch.manual_seed(1)
    rgb = timm.create_model("resnet18", pretrained=False, in_chans=3).state_dict()  # includes the fc head
    for path in (_save_safetensors(tmp_path / "r18.safetensors", rgb), tmp_path / "r18.pth"):
        if path.suffix == ".pth":
            torch.save({"state_dict": {"module." + k: v for k, v in rgb.items()}, "epoch": 3}, path)
        model = build_model("unet", 10, 2, encoder_weights=path, **TINY["unet"])
        enc = model.encoder.state_dict()
        torch.testing.assert_close(enc["conv1.weight"], adapt_input_conv(10, rgb["conv1.weight"]))
        assert enc["conv1.weight"].shape == (64, 10, 7, 7)
        torch.testing.assert_close(enc["layer4.1.conv2.weight"], rgb["layer4.1.conv2.weight"])
        torch.testing.assert_close(enc["bn1.running_var"], rgb["bn1.running_var"])


def test_encoder_weights_of_another_model_fail(tmp_path):
    other = _save_safetensors(tmp_path / "r34.safetensors", timm.create_model("resnet34").state_dict())
    with pytest.raises(CropsError, match="do not fit this encoder"):
        build_model("unet", 4, 2, encoder_weights=other, **TINY["unet"])
    with pytest.raises(CropsError, match="does not exist"):
        build_model("unet", 4, 2, encoder_weights=tmp_path / "nope.safetensors", **TINY["unet"])


class _Payload:
    """An arbitrary object: a weights file holding it must be refused, never unpickled."""

    def __reduce__(self):
        return (print, ("unpickled!",))


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "x": _Payload()}, path)
    with pytest.raises(CropsError, match="Cannot read pretrained weights"):
        build_model("unet", 4, 2, encoder_weights=path, **TINY["unet"])
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(CropsError, match="Cannot read pretrained weights"):
        build_model("unet", 4, 2, encoder_weights=tmp_path / "junk.safetensors", **TINY["unet"])


def test_transunet_loads_timm_hybrid_weights(tmp_path):
    from timm.models import adapt_input_conv

    torch.manual_seed(2)
    # timm's own registered R50+ViT hybrid, made small in its transformer: cls token, 14x14+1 positions, RGB stem
    hybrid = timm.create_model("vit_base_r50_s16_224", pretrained=False, depth=1, embed_dim=32, num_heads=2)
    state = hybrid.state_dict()
    assert state["pos_embed"].shape == (1, 197, 32)
    path = _save_safetensors(tmp_path / "hybrid.safetensors", state)
    model = build_model("transunet", 4, 2, encoder_weights=path, img_size=32, embed_dim=32, depth=1, num_heads=2,
                        decoder_channels=(32, 16, 16, 8))
    vit = model.vit.state_dict()
    stem = "patch_embed.backbone.stem.conv.weight"
    torch.testing.assert_close(vit[stem], adapt_input_conv(4, state[stem]))
    assert vit["pos_embed"].shape == (1, 4, 32)  # 2 x 2 grid for 32 x 32 blocks, class token dropped
    torch.testing.assert_close(vit["blocks.0.attn.qkv.weight"], state["blocks.0.attn.qkv.weight"])
    torch.testing.assert_close(vit["patch_embed.proj.weight"], state["patch_embed.proj.weight"])
    model.eval()
    with torch.no_grad():
        assert model(torch.randn(1, 4, 32, 32)).logits.shape == (1, 2, 32, 32)

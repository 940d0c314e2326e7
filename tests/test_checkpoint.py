"""Self-describing checkpoints: round trip, tampered/corrupt files, feature checks."""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crops_engine.checkpoint import (  # noqa: E402
    CheckpointMeta,
    check_features,
    checkpoint_stem,
    file_sha256,
    load_model,
    read_metadata,
    save_checkpoint,
    sibling,
)
from crops_engine.classes import CropClass  # noqa: E402
from crops_engine.errors import CropsError  # noqa: E402
from crops_engine.models import build_model  # noqa: E402

torch.set_num_threads(1)

TINY = {
    "unet": dict(encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8), embedding_dim=16),
    "transunet": dict(img_size=32, backbone_layers=(1, 1, 1), embed_dim=32, depth=1, num_heads=2,
                      decoder_channels=(32, 16, 16, 8), embedding_dim=16),
}
FEATURES = ["B02", "B03", "B04"]
CLASSES = [CropClass(0, "other", "#cccccc", None), CropClass(1, "maize", "#e6ab02", 1200)]


def _meta(**changes):
    meta = {
        "features": FEATURES,
        "normalisation": {"mean": [0.1, 0.2, 0.3], "std": [0.05, 0.06, 0.07]},
        "classes": CLASSES,
        "block_size": 32,
        "nodata": 0,
        "provenance": {"epochs": np.int64(3), "metrics": {"val_miou": np.float32(0.5)}, "data": "flanders2018"},
    }
    meta.update(changes)
    return meta


def _trained(arch):
    """A tiny model whose BatchNorm statistics moved, so buffers must survive the round trip too."""
    torch.manual_seed(0)
    model = build_model(arch, 3, 2, **TINY[arch])
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(2, 3, 32, 32) * 3 + 1)
    return model.eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "source.safetensors"
    model = _trained("unet")
    save_checkpoint(path, model, _meta())
    return path, model


@pytest.mark.parametrize("arch", sorted(TINY))
def test_round_trip_gives_identical_outputs(tmp_path, arch):
    model = _trained(arch)
    path = tmp_path / "model.safetensors"
    written = save_checkpoint(path, model, _meta())
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # nothing temporary left
    loaded, meta = load_model(path)
    assert not loaded.training
    assert meta == written
    assert meta.arch == arch and meta.arch_args == model.arch_args
    x = torch.randn(2, 3, 40, 36)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    torch.testing.assert_close(a.embedding, b.embedding, rtol=0, atol=0)


def test_metadata_contents(saved):
    path, _ = saved
    meta = read_metadata(path)
    assert meta.features == FEATURES
    assert meta.classes == CLASSES and meta.class_names == ["other", "maize"]
    assert meta.normalisation == {"mean": [0.1, 0.2, 0.3], "std": [0.05, 0.06, 0.07]}
    assert meta.block_size == 32 and meta.nodata == 0
    assert meta.provenance["epochs"] == 3 and meta.provenance["metrics"]["val_miou"] == pytest.approx(0.5)
    assert meta.in_channels == 3 and meta.num_classes == 2 and meta.format_version == 1
    assert CheckpointMeta.from_dict(json.loads(json.dumps(meta.to_dict()))) == meta
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def _header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def _write_header(path, header, body):
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


def _tamper(src, dst, edit, reseal=True):
    """A still well-formed safetensors file whose CROPS metadata was edited; `reseal` also recomputes the metadata
    digest (an edit made knowingly, so the checks after the digest are what catch it)."""
    from crops_engine.checkpoint import metadata_digest

    header, body = _header(src)
    meta = json.loads(header["__metadata__"]["crops"])
    edit(meta)
    header["__metadata__"]["crops"] = json.dumps(meta)
    if reseal:
        header["__metadata__"]["crops_sha256"] = metadata_digest(header["__metadata__"]["crops"],
                                                                 header["__metadata__"]["crops_weights_sha256"])
    _write_header(dst, header, body)
    return dst


def _scale_means(m):
    m["normalisation"]["mean"] = [10 * v for v in m["normalisation"]["mean"]]


def _rename_class(m):
    m["classes"][1]["name"] = "wheat"


@pytest.mark.parametrize(
    "edit",
    [_scale_means, _rename_class, lambda m: m.update(block_size=64), lambda m: m.update(nodata=-9999),
     lambda m: m["features"].reverse(), lambda m: m["arch_args"].update(embedding_dim=32)],
    ids=["normalisation x10", "class name", "block size", "nodata", "feature order", "arch args"],
)
def test_an_edited_header_fails_its_digest(saved, tmp_path, edit):
    """Issue 19: the digest covers every field that changes what the model computes or reports."""
    bad = _tamper(saved[0], tmp_path / "edited.safetensors", edit, reseal=False)
    for read in (read_metadata, load_model):
        with pytest.raises(CropsError, match="edited.safetensors was edited or is corrupt: its metadata"):
            read(bad)


def test_a_header_moved_onto_other_weights_or_without_its_digest_fails(saved, tmp_path):
    path, _ = saved
    header, body = _header(path)
    header["__metadata__"]["crops_weights_sha256"] = "0" * 64  # the weights digest of another file
    _write_header(tmp_path / "moved.safetensors", header, body)
    with pytest.raises(CropsError, match="was edited or is corrupt"):
        read_metadata(tmp_path / "moved.safetensors")
    header, body = _header(path)
    header["__metadata__"].pop("crops_sha256")
    _write_header(tmp_path / "nometa.safetensors", header, body)
    with pytest.raises(CropsError, match="records no digest of its metadata"):
        load_model(tmp_path / "nometa.safetensors")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"embedding_dim": 10**9}, r"embedding_dim must be an integer in 1\.\.4096"),
        ({"decoder_channels": [10**7] * 5}, "decoder_channels must be a list of 1 to 8 integers"),
        ({"encoder": "resnet18; rm -rf /"}, "encoder must be the name of a timm model"),
        ({"embedding_dim": "64"}, "embedding_dim must be an integer"),
    ],
)
def test_architecture_arguments_out_of_range_are_refused_before_building(saved, tmp_path, args, message):
    bad = _tamper(saved[0], tmp_path / "huge.safetensors", lambda m: m["arch_args"].update(args))
    with pytest.raises(CropsError, match="huge.safetensors has broken metadata: arch_args " + message):
        load_model(bad)
    with pytest.raises(CropsError, match=message):
        build_model("unet", 3, 2, **(TINY["unet"] | args))


def test_transunet_arguments_out_of_range_are_refused():
    for args, message in [({"depth": 10**6}, "depth must be an integer in 1..64"),
                          ({"embed_dim": 10**6}, "embed_dim must be an integer in 1..4096"),
                          ({"img_size": 1000}, "img_size must be an integer in 16..2048, a multiple of 16"),
                          ({"mlp_ratio": float("inf")}, "mlp_ratio must be a number")]:
        with pytest.raises(CropsError, match=message):
            build_model("transunet", 3, 2, **(TINY["transunet"] | args))


def test_a_model_larger_than_its_file_is_never_allocated(saved, tmp_path, monkeypatch):
    """Shapes are compared on the meta device: a header asking for a wide model fails before any allocation."""
    from crops_engine import models

    built = []
    real = models.build_model
    def recording(*a, **k):
        built.append(torch.empty(0).device.type)  # where tensors are made now
        return real(*a, **k)

    monkeypatch.setattr(models, "build_model", recording)
    bad = _tamper(saved[0], tmp_path / "wider.safetensors", lambda m: m["arch_args"].update(embedding_dim=4096))
    with pytest.raises(CropsError, match="does not match its architecture"):
        load_model(bad)
    assert built == ["meta"]  # built once, on the meta device only


def test_shapes_not_matching_the_architecture_fail(saved, tmp_path):
    path, _ = saved
    bad = _tamper(path, tmp_path / "wider.safetensors", lambda m: m["arch_args"].update(embedding_dim=32))
    read_metadata(bad)  # the metadata alone is consistent ...
    with pytest.raises(CropsError, match=r"wider.safetensors does not match its architecture.*wrong shapes"):
        load_model(bad)  # ... but the tensors are not those of that architecture


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.update(arch="segformer"), "Cannot rebuild the model.*Unknown architecture 'segformer'"),
        (lambda m: m["arch_args"].update(encoder="nope"), "Unknown encoder 'nope'"),
        (lambda m: m["arch_args"].update(encoder_weights="/etc/passwd"), "must not name an encoder weights file"),
        (lambda m: m.update(num_classes=3), "broken metadata: 2 classes for 3 model outputs"),
        (lambda m: m.pop("features"), "broken metadata: metadata lacks features"),
        (lambda m: m.update(format_version=99), "newer than this CROPS reads"),
        (lambda m: m["normalisation"].update(std=[1, 0, 1]), "stds finite and positive"),
    ],
)
def test_tampered_metadata_fails_loudly(saved, tmp_path, edit, message):
    bad = _tamper(saved[0], tmp_path / "bad.safetensors", edit)
    with pytest.raises(CropsError, match=message) as info:
        load_model(bad)
    assert "bad.safetensors" in str(info.value)


def test_corrupt_weights_fail_the_digest(saved, tmp_path):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte in the last tensor
    (tmp_path / "flipped.safetensors").write_bytes(bytes(data))
    read_metadata(tmp_path / "flipped.safetensors")  # header intact
    with pytest.raises(CropsError, match="flipped.safetensors is corrupt: its weights do not match the digest"):
        load_model(tmp_path / "flipped.safetensors")
    header, body = _header(path)
    header["__metadata__"].pop("crops_weights_sha256")
    _write_header(tmp_path / "nodigest.safetensors", header, body)
    with pytest.raises(CropsError, match="was edited or is corrupt"):  # the metadata digest covers it too
        load_model(tmp_path / "nodigest.safetensors")


def test_corrupt_files_fail_loudly(saved, tmp_path):
    path, _ = saved
    data = path.read_bytes()
    cases = {
        "truncated.safetensors": (data[: len(data) - 100], "truncated or corrupt"),
        "header_cut.safetensors": (data[:200], "header is cut off"),
        "tiny.safetensors": (b"abc", "too short"),
        "text.safetensors": (b"this is not a model, just some text\n" * 10, "not a CROPS checkpoint"),
        "broken_json.safetensors": (data.replace(b'"__metadata__"', b'"__metadata__"{', 1), "not JSON"),
    }
    for name, (content, message) in cases.items():
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(CropsError, match=message) as info:
            load_model(bad)
        assert name in str(info.value)
    header, body = _header(path)
    header["__metadata__"].pop("crops")
    _write_header(tmp_path / "plain.safetensors", header, body)
    with pytest.raises(CropsError, match="without CROPS metadata"):
        read_metadata(tmp_path / "plain.safetensors")
    with pytest.raises(CropsError, match="does not exist"):
        read_metadata(tmp_path / "missing.safetensors")


def test_save_refuses_incomplete_metadata(tmp_path):
    model = build_model("unet", 3, 2, **TINY["unet"])
    target = tmp_path / "m.safetensors"
    with pytest.raises(CropsError, match="2 feature names for 3 input channels"):
        save_checkpoint(target, model, _meta(features=["B02", "B03"]))
    with pytest.raises(CropsError, match="lacks classes"):
        save_checkpoint(target, model, {k: v for k, v in _meta().items() if k != "classes"})
    with pytest.raises(CropsError, match="num_classes=5"):
        save_checkpoint(target, model, _meta(num_classes=5))
    with pytest.raises(CropsError, match="safetensors file"):
        save_checkpoint(tmp_path / "m.pth", model, _meta())
    assert list(tmp_path.iterdir()) == []


def test_check_features(saved):
    meta = read_metadata(saved[0])
    check_features(meta, ["B02", "B03", "B04"])  # matching: no error
    with pytest.raises(CropsError, match=r"missing \['B04'\].*B02, B03, B04"):
        check_features(meta, ["B02", "B03"], source="composite.tif")
    with pytest.raises(CropsError, match=r"extra \['B08'\]"):
        check_features(meta, ["B02", "B03", "B04", "B08"])
    with pytest.raises(CropsError, match="another order"):
        check_features(meta, ["B04", "B03", "B02"])
    with pytest.raises(CropsError, match="trained on features.*but composite.tif has"):
        check_features(meta, ["B02", "B03", "B08"], source="composite.tif")


def test_files_beside_a_checkpoint_are_named_for_its_stem(tmp_path):
    assert checkpoint_stem(tmp_path / "model.v2.safetensors") == "model.v2"
    assert checkpoint_stem("model.pth") == "model"
    assert sibling(tmp_path / "model.safetensors", ".metrics.json") == tmp_path / "model.metrics.json"
    assert sibling("runs/a.b.safetensors", ".resume.safetensors").as_posix() == "runs/a.b.resume.safetensors"

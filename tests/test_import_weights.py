"""crops:import_weights (issue 17): a local AgriFM / Video Swin checkpoint -> agrifm encoder weights, mapped,
shape-checked and reported exactly; never unpickled; the output loads as the encoder of build_model("agrifm")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from crops_engine.errors import CropsError
from crops_engine.models import build_model
from crops_engine.weights_import import IMPORT_KEY, import_weights

torch.set_num_threads(1)

TINY = dict(embed_dim=8, depths=[2, 2], num_heads=[2, 4], window_size=[2, 4, 4], patch_size=[4, 2, 2])
BANDS = 3


class Opaque:
    """A custom object: only full unpickling could rebuild it."""

    def __init__(self) -> None:
        self.weights = torch.ones(2)


def _encoder_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return build_model("agrifm", 6 * BANDS, 2, steps=6, **TINY).backbone.state_dict()


def _checkpoint(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor], list[str]]:
    """An AgriFM-like training checkpoint: {"state_dict": ...}, encoder under `module.encoders.S2.`, a head and a
    buffer that are not the encoder's, and two encoder tensors left out."""
    encoder = _encoder_state()
    dropped = ["layers.1.blocks.1.mlp.fc2.weight", "layers.1.blocks.1.mlp.fc2.bias"]
    state = {f"module.encoders.S2.{k}": v for k, v in encoder.items() if k not in dropped}
    state["module.encoders.S2.layers.0.blocks.0.attn.relative_position_index"] = torch.zeros(32, 32, dtype=torch.long)
    state["module.head.cls.weight"] = torch.randn(2, 16)
    state["module.neck.fuse.bias"] = torch.randn(16)
    path = tmp_path / "agrifm_like.pth"
    torch.save({"state_dict": state, "meta": {"epoch": 5, "note": "trained"}}, path)
    return path, encoder, dropped


def test_a_checkpoint_is_mapped_and_reported_exactly(tmp_path: Path) -> None:
    path, encoder, dropped = _checkpoint(tmp_path)
    out = tmp_path / "encoder.safetensors"
    result = import_weights(path, out)
    kept = [k for k in encoder if k not in dropped]
    assert result["mapped"] == len(kept) and result["missing"] == 2 and result["unused"] == 2
    assert json.loads(result["encoder_args"]) == TINY | {"depths": [2, 2]}
    report = json.loads(Path(result["report"]).read_text())
    assert Path(result["report"]) == tmp_path / "encoder.import.json"
    assert report["mapped"] == {k: f"encoders.S2.{k}" for k in kept}  # `module.` unwrapped, the rest matched
    assert report["missing"] == dropped
    assert sorted(report["unused"]) == ["head.cls.weight", "neck.fuse.bias"]
    assert report["recomputed"] == ["encoders.S2.layers.0.blocks.0.attn.relative_position_index"]
    assert report["bands"] == BANDS and report["encoder_args"]["window_size"] == [2, 4, 4]
    from safetensors import safe_open

    with safe_open(str(out), framework="pt") as fh:
        assert sorted(fh.keys()) == sorted(kept)
        header = json.loads(fh.metadata()[IMPORT_KEY])
        torch.testing.assert_close(fh.get_tensor("patch_embed.proj.weight"), encoder["patch_embed.proj.weight"])
    assert header["arch"] == "agrifm" and header["missing"] == dropped
    assert not list(tmp_path.glob("*crops-tmp*"))


def test_the_output_loads_as_the_encoder_of_an_agrifm_model(tmp_path: Path) -> None:
    encoder = _encoder_state(seed=1)
    path = tmp_path / "video_swin.pth"
    torch.save({"model": {f"backbone.{k}": v for k, v in encoder.items()}}, path)
    out = tmp_path / "encoder.safetensors"
    assert import_weights(path, out)["missing"] == 0
    torch.manual_seed(7)
    model = build_model("agrifm", 4 * BANDS, 5, steps=4, encoder_weights=out, **TINY)
    for key, value in encoder.items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)
    with torch.no_grad():
        assert model(torch.randn(1, 4 * BANDS, 9, 9)).logits.shape == (1, 5, 9, 9)
    other = dict(TINY, embed_dim=16, num_heads=[2, 4])  # another encoder: refused with the file's arguments
    with pytest.raises(CropsError, match=r"do not fit this agrifm model.*embed_dim\": 8"):
        build_model("agrifm", 4 * BANDS, 5, steps=4, encoder_weights=out, **other)


def test_a_file_that_needs_full_unpickling_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.pth"
    torch.save({"state_dict": {"weights": Opaque()}}, path)
    out = tmp_path / "encoder.safetensors"
    with pytest.raises(CropsError, match=r"only full unpickling would rebuild.*re-save its tensors"):
        import_weights(path, out)
    assert not out.exists() and not list(tmp_path.glob("*.json"))


def test_unfit_files_are_refused_by_name(tmp_path: Path) -> None:
    path, _, _ = _checkpoint(tmp_path)
    with pytest.raises(CropsError, match="other shapes than the agrifm encoder"):
        import_weights(path, tmp_path / "a.safetensors", arch_args={"window_size": [2, 2, 2]})
    with pytest.raises(CropsError, match="PREFIX 'decoder.'"):
        import_weights(path, tmp_path / "a.safetensors", prefix="decoder.")
    with pytest.raises(CropsError, match="must be a .safetensors file"):
        import_weights(path, tmp_path / "a.pth")
    two = tmp_path / "two.pth"
    encoder = _encoder_state()
    torch.save({f"encoders.{s}.{k}": v for s in ("S1", "S2") for k, v in encoder.items()}, two)
    with pytest.raises(CropsError, match="exactly one 3-D patch embedding"):
        import_weights(two, tmp_path / "a.safetensors")
    result = import_weights(two, tmp_path / "s2.safetensors", prefix="encoders.S2.")
    assert result["mapped"] == len(encoder) and result["unused"] == len(encoder)
    assert not (tmp_path / "a.safetensors").exists()


def test_the_command_reports_its_outputs(tmp_path: Path) -> None:
    import argparse

    from crops_engine.commands import MODULES, command_module
    from crops_engine.progress import Progress

    names = list(MODULES)
    assert names.index("import-weights") == names.index("pretrain") + 1
    path, _, _ = _checkpoint(tmp_path)
    module = command_module("import-weights")
    out = tmp_path / "cli.safetensors"
    logs: list[str] = []
    progress = Progress(lambda event, payload: logs.append(payload["text"]) if event == "log" else None)
    result = module.run(argparse.Namespace(input=str(path), output=str(out), prefix="", arch_args=""), progress)
    assert {o.name.lower() for o in module.SPEC.outputs} <= set(result)
    assert result["mapped"] > 0 and result["missing"] == 2 and result["unused"] == 2
    assert any("2 encoder tensors missing" in line and "2 unused" in line for line in logs)
    with pytest.raises(CropsError, match="ARCH_ARGS is not valid JSON"):
        module.run(argparse.Namespace(input=str(path), output=str(out), prefix="", arch_args="{"), progress)

"""The AgriFM-style temporal backbone (issue 17): 3-D patches, windowed attention, time halved with space at each
merging, the SegmentationModel contract for any H, W and T, training, and the published size."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import torch

from crops_engine.errors import CropsError
from crops_engine.models import build_model, parameter_count
from crops_engine.models.agrifm import PUBLISHED_ARGS, shift_mask

torch.set_num_threads(1)

TINY = dict(embed_dim=8, depths=[2, 2], num_heads=[2, 2], window_size=[2, 4, 4], patch_size=[4, 2, 2],
            embedding_dim=8)


def tiny(steps: int = 6, bands: int = 3, classes: int = 3, **kw):
    return build_model("agrifm", steps * bands, classes, steps=steps, **(TINY | kw))


def test_patch_embedding_cuts_the_series_into_3d_patches() -> None:
    model = tiny(steps=8)
    series = torch.randn(2, 3, 8, 12, 10)  # (N, C, T, H, W)
    tokens = model.backbone.patch_embed(series)
    assert tokens.shape == (2, 8, 2, 6, 5)
    assert isinstance(model.backbone.patch_embed.proj, torch.nn.Conv3d)
    assert model.backbone.patch_embed.proj.kernel_size == (4, 2, 2)
    # T = 6 is not a multiple of 4: the last step is repeated to fill the second temporal patch
    short = series[:, :, :6]
    padded = torch.cat([short, short[:, :, -1:].expand(-1, -1, 2, -1, -1)], dim=2)
    torch.testing.assert_close(model.backbone.patch_embed(short), model.backbone.patch_embed(padded))


def test_each_stage_halves_time_with_space_while_there_are_steps() -> None:
    model = tiny(steps=16, depths=[1, 1, 1, 1], num_heads=[1, 2, 2, 4])
    assert model.size_divisor == 2 * 2 ** 3
    with torch.no_grad():
        stages = model.stage_tokens(torch.randn(1, 16 * 3, 32, 32))
    # (N, T, H, W, C): 16 steps / 4 = 4, then 2, 1, 1 (time stops at one step); space and channels as Swin's
    assert [tuple(s.shape) for s in stages] == [(1, 4, 16, 16, 8), (1, 2, 8, 8, 16), (1, 1, 4, 4, 32),
                                                (1, 1, 2, 2, 64)]
    odd = tiny(steps=10, depths=[1, 1, 1], num_heads=[1, 1, 1])  # 10 / 4 -> 3 patches -> 2 -> 1
    with torch.no_grad():
        assert [s.shape[1] for s in odd.stage_tokens(torch.randn(1, 30, 16, 16))] == [3, 2, 1]


def test_the_shifted_window_mask_keeps_regions_apart() -> None:
    mask = shift_mask((2, 4, 4), (2, 4, 4), (1, 2, 2), torch.device("cpu"))
    assert mask.shape == (1, 32, 32)
    assert (mask == 0).float().mean() < 1 and torch.all(mask.diagonal(dim1=1, dim2=2) == 0)
    assert set(mask.unique().tolist()) == {0.0, -100.0}


@pytest.mark.parametrize(("steps", "height", "width"), [(5, 13, 11), (7, 9, 17), (1, 8, 8)])
def test_outputs_keep_the_contract_for_odd_sizes_and_lengths(steps: int, height: int, width: int) -> None:
    torch.manual_seed(0)
    model = tiny(steps=steps).eval()
    x = torch.randn(2, steps * 3, height, width)
    with torch.no_grad():
        out = model(x)
        assert out.logits.shape == (2, 3, height, width) and out.embedding.shape == (2, 8, height, width)
        torch.testing.assert_close(out.embedding.norm(dim=1), torch.ones(2, height, width))
        torch.testing.assert_close(model(x.reshape(2, steps, 3, height, width)).logits, out.logits)
        assert model(x, embed=False).embedding is None
    with pytest.raises(CropsError, match=f"made for series of {steps} steps x 3 bands"):
        model(torch.randn(1, steps + 1, 3, height, width))


def test_the_order_of_steps_matters() -> None:
    torch.manual_seed(0)
    model = tiny(steps=8).eval()
    x = torch.randn(1, 8, 3, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(model(x).logits, model(x.flip(1)).logits, atol=1e-4)


def test_two_training_steps_backpropagate_and_lower_the_loss() -> None:
    torch.manual_seed(0)
    model = tiny(steps=6, classes=2)
    x = torch.randn(4, 18, 16, 16)
    labels = (x[:, 0] > 0).long()  # a pattern the model can fit at once
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(x, embed=False).logits, labels)
        optimiser.zero_grad()
        loss.backward()
        grads = [p.grad for n, p in model.named_parameters() if not n.startswith("projection_head")]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert model.backbone.layers[0].blocks[1].attn.relative_position_bias_table.grad.abs().sum() > 0
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_the_published_size_builds() -> None:
    with torch.device("meta"):  # constructed, never run
        model = build_model("agrifm", 32 * 10, 2, steps=32, **PUBLISHED_ARGS)
    assert model.arch_args["depths"] == [2, 2, 18, 2] and model.arch_args["embed_dim"] == 128
    assert [len(layer.blocks) for layer in model.backbone.layers] == [2, 2, 18, 2]
    assert model.backbone.layers[3].blocks[0].attn.num_heads == 32
    assert 85e6 < parameter_count(model.backbone) < 95e6  # Video Swin-B's encoder (88M) with 10-band patches
    assert model.size_divisor == 16


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(CropsError, match="num_heads"):
        build_model("agrifm", 18, 2, steps=6, embed_dim=8, depths=[2, 2], num_heads=[3, 2])
    with pytest.raises(CropsError, match="num_heads must be a list of 2"):
        build_model("agrifm", 18, 2, steps=6, depths=[2, 2], num_heads=[2])
    with pytest.raises(CropsError, match="steps x bands"):
        build_model("agrifm", 17, 2, steps=6)
    with pytest.raises(CropsError, match="agrifm is a temporal model"):
        from crops_engine.train import resolve_arch_args

        resolve_arch_args("agrifm", "", 32, {}, None)


def test_train_source_and_adaptation_run_on_a_series_store(worldcereal: Path, tmp_path: Path) -> None:
    from crops_engine.adapt import adapt, make_config
    from crops_engine.blocks import BlockStore
    from crops_engine.checkpoint import load_model, read_metadata
    from crops_engine.composite import CompositeOptions
    from crops_engine.progress import Progress
    from crops_engine.scenes import load_scenes
    from crops_engine.series import build_series_store
    from crops_engine.train import TrainConfig, train_source

    folder = worldcereal / "flanders2018_31UDS"
    start, end = date(2018, 4, 1), date(2018, 9, 27)
    store = tmp_path / "series.h5"
    build_series_store(load_scenes(folder=folder / "scenes", start=start, end=end), store, 30,
                       CompositeOptions(start_date=start, end_date=end), labels=folder / "labels_crop_type.tif",
                       class_map="1200=maize; *=other; 0=ignore", block_size=32, val_fraction=0.25, val_group_size=1)
    # encoder weights imported from a Video Swin-named state dict (crops:import_weights) start the training
    from crops_engine.weights_import import import_weights

    torch.manual_seed(5)
    donor = build_model("agrifm", 6 * 10, 2, steps=6, **TINY).backbone.state_dict()
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in donor.items()}}, tmp_path / "donor.pth")
    import_weights(tmp_path / "donor.pth", tmp_path / "encoder.safetensors")
    model_path = tmp_path / "agrifm.safetensors"
    logs: list[str] = []
    train_source(TrainConfig(blocks=str(store), output=str(model_path), arch="agrifm", arch_args=dict(TINY),
                             pretrained=str(tmp_path / "encoder.safetensors"), batch_size=2, lr=1e-6,
                             weight_decay=0.0, device="cpu", seed=3, iterations=3),
                 Progress(lambda event, payload: logs.append(payload.get("text", "")) if event == "log" else None))
    assert any("Encoder initialised from" in line for line in logs)
    trained, _ = load_model(model_path)
    # a learning rate of 1e-6 for 3 steps: the patch embedding is still the imported one, not a random one
    torch.testing.assert_close(trained.backbone.patch_embed.proj.weight, donor["patch_embed.proj.weight"],
                               atol=1e-4, rtol=0)
    meta = read_metadata(model_path)
    assert meta.arch == "agrifm" and meta.arch_args["steps"] == 6 and meta.arch_args["dates"][0] == "2018-04-01"
    adapted = tmp_path / "adapted.safetensors"
    adapt("entropy", make_config("entropy", model=str(model_path), blocks=str(store), output=str(adapted),
                                 iterations=2, batch_size=2, device="cpu", seed=3), Progress())
    model, _ = load_model(adapted)
    with BlockStore(store) as blocks, torch.no_grad():
        out = model(torch.from_numpy(blocks.inputs([0, 1])))
    assert out.logits.shape == (2, 2, 32, 32) and torch.isfinite(out.logits).all()

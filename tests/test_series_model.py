"""The temporal backbone (issue 17): U-TAE behind the SegmentationModel contract, trained by train-source on a
series store, adapted by every method unchanged, and refused clearly on a series of another length."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import torch

from crops_engine.adapt import METHODS, adapt, make_config
from crops_engine.blocks import BlockStore
from crops_engine.checkpoint import check_features, load_model, read_metadata
from crops_engine.composite import CompositeOptions
from crops_engine.errors import CropsError
from crops_engine.models import build_model
from crops_engine.partition import PartitionOptions, partition
from crops_engine.progress import Progress
from crops_engine.scenes import load_scenes
from crops_engine.series import build_series_store
from crops_engine.train import TrainConfig, train_source

torch.set_num_threads(1)

TINY = dict(encoder="test_resnet", decoder_channels=[16, 8, 8, 8, 8], embedding_dim=8, heads=2, key_dim=4)


def tiny(steps: int = 5, bands: int = 3, classes: int = 2, **kw):
    return build_model("utae", steps * bands, classes, steps=steps, step_days=[15.0 + 30 * k for k in range(steps)],
                       **(TINY | kw))


def test_utae_keeps_the_segmentation_contract() -> None:
    torch.manual_seed(0)
    model = tiny().eval()
    x = torch.randn(2, 15, 40, 24)  # any size: padded to the encoder's multiple inside
    out = model(x)
    assert out.logits.shape == (2, 2, 40, 24) and out.embedding.shape == (2, 8, 40, 24)
    torch.testing.assert_close(out.embedding.norm(dim=1), torch.ones(2, 40, 24))
    torch.testing.assert_close(model(x.reshape(2, 5, 3, 40, 24)).logits, out.logits)  # the series' own shape
    weights = model.attention(x)
    assert weights.shape[:3] == (2, 5, 2)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones_like(weights.sum(dim=1)))
    assert model(x, embed=False).embedding is None
    out.logits.sum().backward()  # trainable end to end
    assert model.temporal.query.grad is not None
    assert all(p.grad is not None for p in model.encoder.parameters())


def test_utae_is_guided_by_the_dates_and_the_order_of_steps() -> None:
    torch.manual_seed(0)
    model = tiny().eval()
    state = model.state_dict()
    other = build_model("utae", 15, 2, steps=5, step_days=[100.0, 130, 160, 190, 220], **TINY).eval()
    other.load_state_dict(state)
    x = torch.randn(1, 15, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(model(x).logits, other(x).logits)  # same weights, other dates
        shuffled = x.reshape(1, 5, 3, 32, 32)[:, [4, 3, 2, 1, 0]].reshape(1, 15, 32, 32)
        assert not torch.allclose(model(x).logits, model(shuffled).logits)


def test_utae_refuses_a_series_of_another_length() -> None:
    model = tiny()
    with pytest.raises(CropsError, match=r"\(N, 15, H, W\), a series of 5 steps x 3 bands, got 12 channels"):
        model(torch.randn(1, 12, 32, 32))
    with pytest.raises(CropsError, match="5 steps x 3 bands.*got 4 steps"):
        model(torch.randn(1, 4, 3, 32, 32))
    with pytest.raises(CropsError, match="do not split into 4 steps"):
        build_model("utae", 15, 2, steps=4, **TINY)
    with pytest.raises(CropsError, match="step_days"):
        build_model("utae", 15, 2, steps=5, step_days=[1, 2], **TINY)


def _series(folder: Path, out: Path, start: date, end: date, labels: bool = True, step_days: int = 30) -> Path:
    scenes = load_scenes(folder=folder / "scenes", start=start, end=end)
    options = CompositeOptions(start_date=start, end_date=end)
    build_series_store(scenes, out, step_days, options, labels=folder / "labels_crop_type.tif" if labels else None,
                       class_map="1200=maize; *=other; 0=ignore" if labels else None, block_size=32,
                       val_fraction=0.25, val_group_size=1)
    return out


@pytest.fixture(scope="module")
def trained(worldcereal: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A U-TAE trained on 2018's April..September (30-day steps) and the 2019 target of the same steps."""
    folder = tmp_path_factory.mktemp("series-model")
    source = _series(worldcereal / "flanders2018_31UDS", folder / "source.h5", date(2018, 4, 1), date(2018, 9, 27))
    target = _series(worldcereal / "flanders2019_31UES", folder / "target.h5", date(2019, 4, 1), date(2019, 9, 27),
                     labels=False)
    model = folder / "utae.safetensors"
    train_source(TrainConfig(blocks=str(source), output=str(model), arch="utae", arch_args=TINY, batch_size=2,
                             lr=3e-3, device="cpu", seed=3, iterations=6), Progress())
    # the partition into easy / hard target blocks (SPCL's input) scores the series' blocks unchanged
    partition(model, target, folder / "mask.tif", options=PartitionOptions(device="cpu", easy_fraction=0.5))
    return {"source": source, "target": target, "model": model, "folder": folder}


def test_train_source_builds_a_temporal_model_that_records_its_steps(trained: dict[str, Path]) -> None:
    meta = read_metadata(trained["model"])
    with BlockStore(trained["source"]) as store:
        assert store.steps == 6
        assert meta.arch == "utae" and meta.in_channels == 6 * 10 and meta.features == store.feature_names
        assert meta.arch_args["steps"] == 6
        assert meta.arch_args["dates"] == [s["start"] for s in store.series_info["steps"]]
        assert meta.arch_args["dates"][0] == "2018-04-01"
        assert meta.arch_args["step_days"] == store.series_info["days"]
        model, _ = load_model(trained["model"])
        with torch.no_grad():
            out = model(torch.from_numpy(store.inputs([0, 1])))
        assert out.logits.shape == (2, 2, 32, 32) and torch.isfinite(out.logits).all()


def test_a_temporal_model_meets_a_series_of_another_length_clearly(trained: dict[str, Path],
                                                                  worldcereal: Path) -> None:
    meta = read_metadata(trained["model"])
    short = _series(worldcereal / "flanders2019_31UES", trained["folder"] / "short.h5", date(2019, 4, 1),
                    date(2019, 7, 29), labels=False)
    with BlockStore(short) as store:
        assert store.steps == 4
        with pytest.raises(CropsError, match="made for a series of 6 steps but the input has 4"):
            check_features(meta, store.feature_names, str(short))
    composite = r"trained on a time series \(6 steps\) but the input is one composite: map the scenes with infer-series"
    with pytest.raises(CropsError, match=composite):
        check_features(meta, [f"B{b}" for b in range(1, 11)], "a composite")
    with BlockStore(trained["target"]) as target:  # 2019's steps: other dates, the same places in the season
        check_features(meta, target.feature_names, "the 2019 series")
    with pytest.raises(CropsError, match="utae is a temporal model"):
        from crops_engine.train import resolve_arch_args

        resolve_arch_args("utae", "", 32, {}, None)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_adaptation_method_runs_on_the_temporal_model(trained: dict[str, Path], method: str) -> None:
    out = trained["folder"] / f"adapted-{method}.safetensors"
    cfg = make_config(method, model=str(trained["model"]), blocks=str(trained["target"]), output=str(out),
                      iterations=2, batch_size=2, device="cpu", calibration_blocks=4, seed=3)
    adapt(method, cfg, Progress())
    model, meta = load_model(out)
    assert meta.arch == "utae" and meta.arch_args["steps"] == 6
    with BlockStore(trained["target"]) as store, torch.no_grad():
        x = torch.from_numpy(store.inputs([0]))
        assert torch.isfinite(model(x).logits).all()
    assert np.isfinite(meta.normalisation["mean"]).all()


def test_partition_splits_a_series_store(trained: dict[str, Path]) -> None:
    with BlockStore(trained["target"]) as store:
        easy, hard = store.split("easy"), store.split("hard")
        assert len(easy) + len(hard) == len(store) == 4 and len(easy) >= 1
    assert (trained["folder"] / "mask.tif").is_file()

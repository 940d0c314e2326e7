"""Temporal block stores (issue 17): the step grid, gap filling, and build-series against a numpy
reference on the real Flanders scenes."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from crops_engine.blocks import BlockStore
from crops_engine.composite import CompositeOptions
from crops_engine.errors import CropsError
from crops_engine.scenes import load_scenes
from crops_engine.series import (
    build_series_store,
    fill_gaps,
    series_feature_names,
    series_mismatch,
    series_of_features,
    step_grid,
)

INVALID = (0, 1, 3, 8, 9, 10)


def test_step_grid_covers_the_window_inclusive() -> None:
    steps = step_grid(date(2018, 3, 1), date(2018, 5, 30), 30)
    assert [(s.start, s.end) for s in steps] == [
        (date(2018, 3, 1), date(2018, 3, 31)), (date(2018, 3, 31), date(2018, 4, 30)),
        (date(2018, 4, 30), date(2018, 5, 31)),
    ]
    long_tail = step_grid(date(2018, 3, 1), date(2018, 5, 16), 30)  # 77 days: a 17-day last step
    assert [(s.end - s.start).days for s in long_tail] == [30, 30, 17]
    assert step_grid(date(2018, 3, 1), date(2018, 5, 31), 30)[-1].end == date(2018, 6, 1)  # one day joins the last
    with pytest.raises(CropsError, match="STEP_DAYS"):
        step_grid(date(2018, 3, 1), date(2018, 5, 30), 0)
    with pytest.raises(CropsError, match="swap"):
        step_grid(date(2018, 5, 1), date(2018, 3, 1), 10)
    with pytest.raises(CropsError, match="at most"):
        step_grid(date(2000, 1, 1), date(2019, 1, 1), 1)


def test_fill_gaps_is_numpy_interp_per_pixel() -> None:
    rng = np.random.default_rng(3)
    t, c, h, w = 7, 3, 5, 6
    x = rng.normal(size=(t, c, h, w)).astype(np.float32)
    observed = rng.random((t, h, w)) < 0.4
    observed[:, 0, 0] = False  # never observed
    observed[:, 0, 1] = False
    observed[3, 0, 1] = True  # observed once
    days = np.cumsum(rng.integers(5, 20, size=t)).astype(np.float64)
    x[~np.broadcast_to(observed[:, None], x.shape)] = np.nan
    want = x.copy()
    for i in range(h):
        for j in range(w):
            seen = observed[:, i, j]
            for b in range(c):
                want[:, b, i, j] = np.interp(days, days[seen], x[seen, b, i, j]) if seen.any() else np.nan
    got = fill_gaps(x.copy(), observed, days)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_feature_names_and_step_mismatch() -> None:
    steps = step_grid(date(2018, 3, 1), date(2018, 10, 31), 30)
    names = series_feature_names(steps, ["B04", "B08"])
    assert names[:3] == ["t01:B04", "t01:B08", "t02:B04"] and len(names) == 2 * len(steps)
    assert series_of_features(names) == ([f"{k + 1:02d}" for k in range(len(steps))], ["B04", "B08"])
    assert series_of_features(["B04", "B08"]) is None
    assert series_mismatch(names, names) is None
    fewer = series_feature_names(steps[:5], ["B04", "B08"])
    assert f"{len(steps)} steps but the input has 5" in series_mismatch(names, fewer)
    assert "one composite" in series_mismatch(names, ["B04", "B08"])
    assert "trained on one composite but the input is a time series" in series_mismatch(["B04", "B08"], names)
    assert "bands" in series_mismatch(names, series_feature_names(steps, ["B08", "B04"]))


def _reference(scenes: list, steps: list, window: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per step the max-NDVI clear observation (earliest on ties), gaps by numpy.interp on the step centres."""
    xoff, yoff, xs, ys = window
    t_count = len(steps)
    first = gdal.Open(str(scenes[0].path))
    c = first.RasterCount
    vals = np.full((t_count, c, ys, xs), np.nan, dtype=np.float32)
    observed = np.zeros((t_count, ys, xs), dtype=bool)
    for t, step in enumerate(steps):
        best = np.full((ys, xs), -np.inf, dtype=np.float32)
        for scene in scenes:
            if not step.start <= scene.date < step.end:
                continue
            dn = gdal.Open(str(scene.path)).ReadAsArray(xoff, yoff, xs, ys)
            scl = gdal.Open(str(scene.mask)).ReadAsArray(xoff, yoff, xs, ys)
            red, nir = dn[2].astype(np.float32) * np.float32(1e-4), dn[6].astype(np.float32) * np.float32(1e-4)
            with np.errstate(divide="ignore", invalid="ignore"):
                nd = (nir - red) / (nir + red)
            ok = ~np.isin(scl, INVALID) & (dn[2] != 0) & (dn[6] != 0) & np.isfinite(nd)
            better = ok & (nd > best)
            best[better] = nd[better]
            vals[t][:, better] = dn[:, better]
            observed[t] |= better
        observed[t] &= (vals[t] != 0).all(axis=0)
        vals[t][:, ~observed[t]] = np.nan
    days = np.array([(s.start - steps[0].start).days + (s.end - s.start).days / 2 for s in steps])
    filled = vals.copy()
    for i in range(ys):
        for j in range(xs):
            seen = observed[:, i, j]
            for b in range(c):
                filled[:, b, i, j] = np.interp(days, days[seen], vals[seen, b, i, j]) if seen.any() else np.nan
    return filled, observed


def test_series_store_matches_a_numpy_reference_on_real_scenes(worldcereal: Path, tmp_path: Path) -> None:
    folder = worldcereal / "flanders2018_31UDS"
    start, end = date(2018, 3, 1), date(2018, 9, 30)
    scenes = load_scenes(folder=folder / "scenes", start=start, end=end)
    # a 40 x 24 px window, off the patch's corner: x 501360 + 10 * 12 .., y 5629680 - 10 * 20 ..
    x0, y0 = 501360 + 120, 5629680 - 200
    extent = (x0, y0 - 240, x0 + 400, y0, None)
    options = CompositeOptions(start_date=start, end_date=end, extent=extent)
    out = tmp_path / "series.h5"
    result = build_series_store(scenes, out, step_days=10, options=options, labels=folder / "labels_crop_type.tif",
                                class_map="1200=maize; *=other; 0=ignore", block_size=16, val_fraction=0.25)
    steps = step_grid(start, end, 10)  # ten-day steps: some hold only cloudy scenes, or none
    assert result["steps"] == len(steps) == 21
    want, want_observed = _reference(scenes, steps, (12, 20, 40, 24))
    with BlockStore(out) as store:
        assert store.steps == len(steps) and len(store.feature_names) == len(steps) * 10
        assert store.feature_names[:2] == ["t01:B02", "t01:B03"]
        assert [s["start"] for s in store.series_info["steps"]] == [s.start.isoformat() for s in steps]
        assert sum(store.series_info["scenes_per_step"]) == len(scenes)
        assert store.window == (0, 0, 40, 24)
        assert len(store) == result["blocks"] > 0
        stats_x, stats_valid = [], []
        for i in range(len(store)):
            r, c = (int(v) for v in store.origins[i])
            h, w = min(16, 24 - r), min(16, 40 - c)
            got = store.series(i)
            assert got.shape == (len(steps), 10, 16, 16)
            np.testing.assert_allclose(got[:, :, :h, :w], want[:, :, r:r + h, c:c + w], rtol=1e-5, equal_nan=True)
            assert np.isnan(got[:, :, h:, :]).all() and np.isnan(got[:, :, :, w:]).all()  # padding
            np.testing.assert_array_equal(store.step_valid(i)[:, :h, :w], want_observed[:, r:r + h, c:c + w])
            np.testing.assert_array_equal(store.valid(i)[:h, :w], want_observed[:, r:r + h, c:c + w].any(axis=0))
            labels = gdal.Open(str(folder / "labels_crop_type.tif")).ReadAsArray(12 + c, 20 + r, w, h)
            expect = np.where(labels == 1200, 0, np.where(labels == 0, 255, 1))
            expect[~store.valid(i)[:h, :w]] = 255
            np.testing.assert_array_equal(store.labels(i)[:h, :w], expect)
        for r in range(0, 24, 16):
            for c in range(0, 40, 16):
                stats_x.append(want[:, :, r:r + 16, c:c + 16].reshape(len(steps) * 10, -1))
                stats_valid.append(want_observed[:, r:r + 16, c:c + 16].any(axis=0).reshape(-1))
        x, v = np.concatenate(stats_x, axis=1), np.concatenate(stats_valid)
        np.testing.assert_allclose(store.mean, x[:, v].astype(np.float64).mean(axis=1), rtol=1e-6)
        np.testing.assert_allclose(store.std, x[:, v].astype(np.float64).std(axis=1), rtol=1e-5)
        assert sorted(np.concatenate([store.split("train"), store.split("val")]).tolist()) == list(range(len(store)))
        assert 0.2 < want_observed.mean() < 0.9  # the scenes have gaps: interpolation is exercised
        assert np.isfinite(store.inputs(0)).all()


def test_series_store_streams_in_chunks(worldcereal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same store whether a strip is composited whole or a block column at a time (memory-flat mode)."""
    from crops_engine.series import writer

    folder = worldcereal / "flanders2018_31UDS"
    start, end = date(2018, 5, 1), date(2018, 8, 31)
    scenes = load_scenes(folder=folder / "scenes", start=start, end=end)
    options = CompositeOptions(start_date=start, end_date=end)
    whole = build_series_store(scenes, tmp_path / "a.h5", 40, options, block_size=24, stride=20, val_fraction=0)
    monkeypatch.setattr(writer, "CHUNK_BYTES", 1)
    chunked = build_series_store(scenes, tmp_path / "b.h5", 40, options, block_size=24, stride=20, val_fraction=0)
    assert whole["blocks"] == chunked["blocks"] == 9
    with BlockStore(tmp_path / "a.h5") as a, BlockStore(tmp_path / "b.h5") as b:
        np.testing.assert_array_equal(a.images(slice(None)), b.images(slice(None)))
        np.testing.assert_array_equal(a.step_valid(slice(None)), b.step_valid(slice(None)))
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9)
        np.testing.assert_allclose(a.std, b.std, rtol=1e-9)
        assert a.steps == 3


def test_series_store_refuses_a_window_without_scenes(worldcereal: Path, tmp_path: Path) -> None:
    folder = worldcereal / "flanders2018_31UDS"
    scenes = load_scenes(folder=folder / "scenes")
    options = CompositeOptions(start_date=date(2030, 1, 1), end_date=date(2030, 1, 1) + timedelta(days=60))
    with pytest.raises(CropsError, match="No scene falls"):
        build_series_store(scenes, tmp_path / "x.h5", 30, options)
    assert not (tmp_path / "x.h5").exists()

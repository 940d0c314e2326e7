"""The synthetic Sentinel-2 generator: file layout, content, determinism, domain shift, atomicity."""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from crops_engine.classes import read_classes_csv
from crops_engine.command_spec import add_arguments
from crops_engine.commands import sample_data
from crops_engine.errors import Cancelled, CropsError
from crops_engine.progress import Progress
from crops_engine.synth import BANDS, Domain, generate_pair, generate_scene, preset

gdal.UseExceptions()


def _read(path: Path) -> np.ndarray:
    return gdal.Open(str(path)).ReadAsArray()


def _ndvi(path: Path) -> np.ndarray:
    a = _read(path).astype(np.float32)
    return (a[6] - a[2]) / np.maximum(a[6] + a[2], 1)


@pytest.fixture(scope="module")
def small_scene(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("synth") / "scene"
    return generate_scene(folder, preset("source"), size=64, start="2019-06-01", end="2019-06-16", seed=3)


def test_scene_files_follow_the_real_data_conventions(small_scene):
    folder = Path(small_scene["output_folder"])
    assert small_scene["dates"] == ["2019-06-01", "2019-06-06", "2019-06-11", "2019-06-16"]
    assert [Path(p).name for p in small_scene["scenes"]][0] == "S2_L2A_20190601.tif"
    for scene, mask in zip(small_scene["scenes"], small_scene["masks"], strict=True):
        ds = gdal.Open(scene)
        assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (64, 64, 10)
        assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(10)] == list(BANDS)
        band = ds.GetRasterBand(1)
        assert band.DataType == gdal.GDT_UInt16 and band.GetNoDataValue() == 0
        srs = osr.SpatialReference(wkt=ds.GetProjection())
        assert srs.GetAuthorityCode(None) == "32631"
        gt = ds.GetGeoTransform()
        assert gt[1] == 10.0 and gt[5] == -10.0 and gt[2] == gt[4] == 0.0
        stamp = Path(scene).stem.split("_")[-1]
        acquired = ds.GetMetadataItem("ACQUISITION_DATE")
        assert acquired.startswith(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:]}T")
        data = ds.ReadAsArray()
        assert data.min() >= 1  # 0 is nodata: the generator never writes it
        m = gdal.Open(mask)
        assert m.GetRasterBand(1).DataType == gdal.GDT_Byte and m.GetRasterBand(1).GetNoDataValue() == 0
        assert m.GetMetadataItem("ACQUISITION_DATE") == acquired
        assert set(np.unique(m.ReadAsArray())) <= {3, 4, 5, 6, 8, 9, 10}
        assert m.GetGeoTransform() == gt
    labels = gdal.Open(small_scene["labels"])
    assert labels.GetRasterBand(1).DataType == gdal.GDT_Byte
    assert labels.GetGeoTransform() == gdal.Open(small_scene["scenes"][0]).GetGeoTransform()
    values = set(np.unique(labels.ReadAsArray()))
    assert 0 in values and values - {0} and values <= {0, 1, 2, 3, 4, 5}
    classes = read_classes_csv(folder / "classes.csv")
    assert [(c.value, c.name) for c in classes][0] == (1, "maize")
    assert len(classes) == 5
    manifest = json.loads((folder / "sample.json").read_text())
    assert manifest["seed"] == 3 and manifest["domain"]["name"] == "source"


def test_labels_and_field_polygons_agree(small_scene):
    labels = gdal.Open(small_scene["labels"])
    vec = ogr.Open(small_scene["fields"])
    layer = vec.GetLayerByName("fields")
    assert layer is not None and layer.GetFeatureCount() > 5
    names = {c.value: c.name for c in read_classes_csv(small_scene["classes"])}
    for feature in layer:
        assert names[feature.GetField("class_id")] == feature.GetField("crop")
    layer.ResetReading()
    assert osr.SpatialReference(wkt=labels.GetProjection()).IsSame(layer.GetSpatialRef())
    burnt = gdal.GetDriverByName("MEM").Create("", labels.RasterXSize, labels.RasterYSize, 1, gdal.GDT_Byte)
    burnt.SetGeoTransform(labels.GetGeoTransform())
    burnt.SetProjection(labels.GetProjection())
    gdal.RasterizeLayer(burnt, [1], layer, options=["ATTRIBUTE=class_id"])
    np.testing.assert_array_equal(burnt.ReadAsArray(), labels.ReadAsArray())


def test_fields_have_realistic_sizes_and_roads_between_them(small_scene):
    summary = small_scene["summary"]
    labelled = sum(summary["class_pixels"].values())
    assert 0.5 < labelled / 64**2 < 0.92  # fields, with roads, margins, woods, village, ponds between
    mean_field_px = labelled / summary["fields"]
    assert 60 < mean_field_px < 1000  # about 0.6 - 10 ha at 10 m


def test_same_seed_same_arrays_other_seed_other_arrays(tmp_path):
    kwargs = dict(size=40, start="2019-07-01", end="2019-07-10")
    a = generate_scene(tmp_path / "a", preset("target"), seed=11, **kwargs)
    b = generate_scene(tmp_path / "b", preset("target"), seed=11, **kwargs)
    c = generate_scene(tmp_path / "c", preset("target"), seed=12, **kwargs)
    for key in ("scenes", "masks"):
        for pa, pb in zip(a[key], b[key], strict=True):
            np.testing.assert_array_equal(_read(Path(pa)), _read(Path(pb)))
    np.testing.assert_array_equal(_read(Path(a["labels"])), _read(Path(b["labels"])))
    assert not np.array_equal(_read(Path(a["scenes"][0])), _read(Path(c["scenes"][0])))
    assert not np.array_equal(_read(Path(a["labels"])), _read(Path(c["labels"])))


@pytest.mark.parametrize("cloud_cover", [0.1, 0.4])
def test_cloud_fraction_follows_the_requested_cloudiness(tmp_path, cloud_cover):
    domain = replace(preset("source"), cloud_cover=cloud_cover)
    result = generate_scene(tmp_path / "s", domain, size=96, start="2019-05-01", end="2019-06-30", seed=5)
    shares = [np.isin(_read(Path(m)), (8, 9, 10)).mean() for m in result["masks"]]
    assert len(shares) == 13
    assert abs(np.mean(shares) - cloud_cover) < 0.07
    assert min(shares) < 0.02  # some clear dates, as in real series
    # Cloudy pixels are bright; their shadows darker than the clear ground.
    for scene, mask in zip(result["scenes"], result["masks"], strict=True):
        scl, blue = _read(Path(mask)), _read(Path(scene))[0]
        if (scl == 9).sum() > 20 and np.isin(scl, (4, 5)).sum() > 20:
            assert np.median(blue[scl == 9]) > 2 * np.median(blue[np.isin(scl, (4, 5))])
        if (scl == 3).sum() > 20 and (scl == 4).sum() > 20:
            nir = _read(Path(scene))[6]
            assert np.median(nir[scl == 3]) < np.median(nir[scl == 4])


def _crossing_day(result: dict, class_id: int, level: float = 0.5) -> float:
    """Day of year the median NDVI of a class over clear pixels first rises through `level`."""
    labels = _read(Path(result["labels"]))
    days, medians = [], []
    for scene, mask, day in zip(result["scenes"], result["masks"], result["dates"], strict=True):
        clear = np.isin(_read(Path(mask)), (4, 5)) & (labels == class_id)
        if clear.sum() > 30:
            days.append(date.fromisoformat(day).timetuple().tm_yday)
            medians.append(float(np.median(_ndvi(Path(scene))[clear])))
    for k in range(1, len(days)):
        if medians[k - 1] < level <= medians[k]:
            return days[k - 1] + (level - medians[k - 1]) / (medians[k] - medians[k - 1]) * (days[k] - days[k - 1])
    raise AssertionError(f"median NDVI never rose through {level}: {list(zip(days, medians, strict=True))}")


def test_target_season_is_later_by_the_configured_shift(tmp_path):
    """Maize greens up about 12 days later in the target; with the shift set to 0, at the same time."""
    kwargs = dict(size=128, start="2019-05-20", end="2019-07-31", revisit_days=3, seed=1)
    source = generate_scene(tmp_path / "src", replace(preset("source"), cloud_cover=0.0), **kwargs)
    target = generate_scene(tmp_path / "tgt", replace(preset("target"), cloud_cover=0.0), **kwargs)
    same = generate_scene(
        tmp_path / "same", replace(preset("target"), cloud_cover=0.0, phenology_shift=0.0), **kwargs
    )
    t_source = _crossing_day(source, 1)
    assert 160 < t_source < 185  # maize greens up in June
    assert 7.0 < _crossing_day(target, 1) - t_source < 17.0  # a median over a few dozen fields
    assert abs(_crossing_day(same, 1) - t_source) < 4.5


def test_crops_follow_their_calendars(tmp_path):
    """Maize is bare in May and green in late July; winter wheat the other way round."""
    domain = replace(preset("source"), cloud_cover=0.0)
    result = generate_scene(tmp_path / "s", domain, size=96, start="2019-05-10", end="2019-08-20", revisit_days=34)
    labels = _read(Path(result["labels"]))
    assert result["dates"] == ["2019-05-10", "2019-06-13", "2019-07-17", "2019-08-20"]
    may, july, august = (_ndvi(Path(result["scenes"][k])) for k in (0, 2, 3))
    maize, wheat = labels == 1, labels == 2
    assert np.median(may[maize]) < 0.35 < 0.7 < np.median(july[maize])
    assert np.median(may[wheat]) > 0.7 > 0.35 > np.median(august[wheat])
    # Vegetation reflects more NIR than red; bare soil is brighter in SWIR than in red.
    bands = _read(Path(result["scenes"][0])).astype(float)
    assert np.median(bands[6][wheat]) > 3 * np.median(bands[2][wheat])
    assert np.median(bands[8][maize]) > np.median(bands[2][maize])


def test_pair_lies_in_two_places_of_one_utm_zone(sample_pair):
    grids = {}
    for name in ("source", "target"):
        scene = sorted((sample_pair / name / "scenes").glob("S2_L2A_????????.tif"))[0]
        ds = gdal.Open(str(scene))
        grids[name] = (ds.GetGeoTransform(), osr.SpatialReference(wkt=ds.GetProjection()))
    (gs, ss), (gt, st) = grids["source"], grids["target"]
    assert ss.IsSame(st)
    assert abs(gs[0] - gt[0]) > 128 * 10 or abs(gs[3] - gt[3]) > 128 * 10
    manifest = json.loads((sample_pair / "sample.json").read_text())
    assert manifest["pair"] == ["source", "target"]


def test_cancel_leaves_no_output(tmp_path):
    cancel = threading.Event()
    events = []

    def reporter(event: str, payload: dict) -> None:
        if event == "progress":
            events.append(payload)
            if len(events) == 3:
                cancel.set()

    with pytest.raises(Cancelled):
        generate_pair(tmp_path / "pair", size=48, end="2019-04-30", progress=Progress(reporter, cancel))
    assert list(tmp_path.iterdir()) == []


def test_existing_folders_are_replaced_only_when_they_are_samples(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(CropsError, match="not a sample"):
        generate_scene(foreign, size=32, end="2019-03-01")
    assert (foreign / "notes.txt").read_text() == "keep me"
    out = tmp_path / "sample"
    generate_scene(out, size=32, end="2019-03-06")
    again = generate_scene(out, size=32, start="2019-04-01", end="2019-04-01")
    assert sorted(p.name for p in (out / "scenes").iterdir() if p.suffix == ".tif") == [
        "S2_L2A_20190401.tif",
        "S2_L2A_20190401_SCL.tif",
    ]
    assert again["dates"] == ["2019-04-01"]
    assert [p.name for p in tmp_path.iterdir() if ".crops-tmp-" in p.name] == []


def test_bad_input_is_named(tmp_path):
    with pytest.raises(CropsError, match="Size"):
        generate_scene(tmp_path / "x", size=8)
    with pytest.raises(CropsError, match="before start"):
        generate_scene(tmp_path / "x", start="2019-05-01", end="2019-04-01")
    with pytest.raises(CropsError, match="YYYY-MM-DD"):
        generate_scene(tmp_path / "x", start="first of May")
    with pytest.raises(CropsError, match="preset"):
        preset("pair")
    with pytest.raises(CropsError, match="Cloud cover"):
        Domain(cloud_cover=1.5)
    assert not (tmp_path / "x").exists()


def test_sample_data_command_writes_a_pair(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser, sample_data.SPEC)
    args = parser.parse_args(
        ["--output-folder", str(tmp_path / "pair"), "--size", "32", "--end-date", "2019-03-06",
         "--phenology-shift", "20", "--cloud-cover", "0.2", "--seed", "4"]
    )
    result = sample_data.run(args, Progress())
    assert Path(result["source"]["labels"]).is_file() and Path(result["target"]["fields"]).is_file()
    manifest = json.loads((tmp_path / "pair" / "target" / "sample.json").read_text())
    assert manifest["domain"]["phenology_shift"] == 20.0 and manifest["domain"]["cloud_cover"] == 0.2
    json.dumps(result)  # the CLI prints it as JSON

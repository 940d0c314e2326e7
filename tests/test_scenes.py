"""Scene discovery: dates from metadata or file names, companion masks, DN offsets, date windows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from crops_engine.errors import CropsError
from crops_engine.raster import epsg_wkt
from crops_engine.scenes import (
    acquisition_time,
    band_dn_offsets,
    companion_mask,
    date_from_metadata,
    date_from_name,
    find_scene_files,
    load_scenes,
    parse_date,
    read_scene,
    select_dates,
)

WORLDCEREAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "worldcereal"


def write_raster(path: Path, bands: int = 2, metadata: dict | None = None, band_metadata: dict | None = None,
                 descriptions: list[str] | None = None, dtype=gdal.GDT_UInt16) -> Path:
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 8, 6, bands, dtype)
    ds.SetGeoTransform((500000, 10, 0, 5600000, 0, -10))
    ds.SetProjection(epsg_wkt(32631))
    for i in range(bands):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(np.full((6, 8), 100 * (i + 1), dtype=np.uint16))
        if descriptions:
            band.SetDescription(descriptions[i])
        if band_metadata:
            band.SetMetadata(band_metadata)
    if metadata:
        ds.SetMetadata(metadata)
    ds = None
    return path


def test_date_from_metadata_wins_over_the_name(tmp_path):
    path = write_raster(tmp_path / "S2_20190101.tif", metadata={"ACQUISITION_DATE": "2019-06-15T10:50:22"})
    assert acquisition_time(path) == datetime(2019, 6, 15, 10, 50, 22)
    assert read_scene(path).date == date(2019, 6, 15)


def test_date_metadata_styles():
    assert date_from_metadata({"acquisition_date": "2019-06-15"}) == datetime(2019, 6, 15)
    assert date_from_metadata({"DATATAKE_1_DATATAKE_SENSING_START": "2020-05-01T10:30:00.024Z"}) == datetime(
        2020, 5, 1, 10, 30, 0
    )
    assert date_from_metadata({"SENSING_TIME": "20210704"}) == datetime(2021, 7, 4)
    assert date_from_metadata({"IMAGE_ACQUISITION_DATE": "2018-09-30"}) == datetime(2018, 9, 30)
    assert date_from_metadata({"SENSOR": "S2"}) is None


def test_date_from_file_name(tmp_path):
    path = write_raster(tmp_path / "T31UES_20190704T105031_B.tif")
    assert acquisition_time(path) == datetime(2019, 7, 4)
    # The first valid 8-digit date in the name (sensing before processing date in S2 names).
    assert date_from_name("S2A_MSIL2A_20190301T105021_N0211_R051_T31UES_20190301T134538.tif") == datetime(2019, 3, 1)
    assert date_from_name("LC08_L2SP_198024_20190815_20200829_02_T1.tif") == datetime(2019, 8, 15)
    assert date_from_name("scene_20191345.tif") is None  # month 13: not a date
    assert date_from_name("20190101/scene.tif") is None  # the folder does not count


def test_no_date_is_an_error_naming_the_file(tmp_path):
    path = write_raster(tmp_path / "scene_a.tif")
    with pytest.raises(CropsError, match="scene_a.tif"):
        read_scene(path)


def test_companion_mask_lookup(tmp_path):
    scene = write_raster(tmp_path / "S2_20190601.tif")
    assert companion_mask(scene) is None
    mask = write_raster(tmp_path / "S2_20190601_SCL.tif", bands=1)
    assert companion_mask(scene) == mask
    other = write_raster(tmp_path / "S2_20190601_CLD.tiff", bands=1)
    assert companion_mask(scene, "_CLD") == other
    assert companion_mask(scene, "") is None


def test_missing_mask_is_an_error_that_says_how_to_fix(tmp_path):
    scene = write_raster(tmp_path / "S2_20190601.tif")
    with pytest.raises(CropsError, match="MASK_SUFFIX"):
        read_scene(scene, "_SCL")


def test_folder_and_pattern_skip_masks_and_sort_by_date(tmp_path):
    write_raster(tmp_path / "S2_20190701.tif")
    write_raster(tmp_path / "S2_20190701_SCL.tif", bands=1)
    write_raster(tmp_path / "S2_20190501.tif")
    write_raster(tmp_path / "S2_20190501_SCL.tif", bands=1)
    write_raster(tmp_path / "other_20190601.tif")
    assert [p.name for p in find_scene_files(tmp_path, "S2_*.tif")] == ["S2_20190501.tif", "S2_20190701.tif"]
    scenes = load_scenes(folder=tmp_path, pattern="S2_*.tif")
    assert [s.date for s in scenes] == [date(2019, 5, 1), date(2019, 7, 1)]
    assert [s.mask.name for s in scenes] == ["S2_20190501_SCL.tif", "S2_20190701_SCL.tif"]
    with pytest.raises(CropsError, match="PATTERN"):
        find_scene_files(tmp_path, "*.jp2")
    with pytest.raises(CropsError, match="not found"):
        find_scene_files(tmp_path / "missing")


def test_json_files_beside_the_scenes_are_not_taken_for_stac_items(tmp_path):
    """A run record, notes or a marker file in the scene folder is not a product (only JSON that says it is STAC)."""
    write_raster(tmp_path / "S2_20190501.tif")
    write_raster(tmp_path / "S2_20190501_SCL.tif", bands=1)
    (tmp_path / "season.json").write_text('{"size": 512, "dates": 12}')
    (tmp_path / "composite.tif.run.json").write_text('{"command": "ndvi-qm"}')
    scenes = load_scenes(folder=tmp_path, pattern="S2_*.tif")
    assert [s.date for s in scenes] == [date(2019, 5, 1)]


def test_masks_only_needed_inside_the_date_window(tmp_path):
    write_raster(tmp_path / "S2_20190301.tif")  # no mask, but outside the window
    write_raster(tmp_path / "S2_20190601.tif")
    write_raster(tmp_path / "S2_20190601_SCL.tif", bands=1)
    scenes = load_scenes(folder=tmp_path, start=date(2019, 4, 1))
    assert [s.path.name for s in scenes] == ["S2_20190601.tif"]
    with pytest.raises(CropsError, match="S2_20190301"):
        load_scenes(folder=tmp_path)


def test_files_and_folder_together_without_duplicates(tmp_path):
    a = write_raster(tmp_path / "S2_20190601.tif")
    scenes = load_scenes([a, str(a)], folder=tmp_path, mask_suffix=None)
    assert len(scenes) == 1 and scenes[0].mask is None
    with pytest.raises(CropsError, match="No scenes given"):
        load_scenes([], None)


def test_date_window_selection_and_errors(tmp_path):
    scenes = [read_scene(write_raster(tmp_path / f"S2_2019{m:02d}01.tif")) for m in (7, 3, 5)]
    kept = select_dates(scenes, date(2019, 3, 1), date(2019, 5, 1))  # inclusive on both ends
    assert [s.date.month for s in kept] == [3, 5]
    with pytest.raises(CropsError, match="2019-03-01 .. 2019-07-01"):
        select_dates(scenes, date(2020, 1, 1), None)
    with pytest.raises(CropsError, match="swap"):
        select_dates(scenes, date(2019, 6, 1), date(2019, 5, 1))


def test_parse_date():
    assert parse_date("2019-03-01") == date(2019, 3, 1)
    assert parse_date("20190301") == date(2019, 3, 1)
    assert parse_date("2019-03-01T00:00:00") == date(2019, 3, 1)
    assert parse_date("") is None and parse_date(None) is None
    for bad in ("2019-02-30", "March 1", "01/03/2019"):
        with pytest.raises(CropsError, match="YYYY-MM-DD"):
            parse_date(bad)


def test_dn_offsets_from_metadata(tmp_path):
    ds_level = write_raster(tmp_path / "a_20220201.tif", metadata={"BOA_ADD_OFFSET": "-1000"})
    assert read_scene(ds_level).dn_offsets == (-1000.0, -1000.0)
    per_band = write_raster(tmp_path / "b_20220201.tif", band_metadata={"BOA_ADD_OFFSET": "-1000"})
    assert read_scene(per_band).dn_offset(2) == -1000.0
    by_name = write_raster(
        tmp_path / "c_20220201.tif", descriptions=["B04", "B08"], metadata={"BOA_ADD_OFFSET_B08": "-1000"}
    )
    assert read_scene(by_name).dn_offsets == (None, -1000.0)
    plain = write_raster(tmp_path / "d_20220201.tif")
    assert read_scene(plain).dn_offsets == () and read_scene(plain).dn_offset(1) is None
    # A GDAL band offset/scale pair (reflectance units) is read as DN offset = offset / scale.
    ds = gdal.Open(str(plain), gdal.GA_Update)
    for i in (1, 2):
        ds.GetRasterBand(i).SetScale(0.0001)
        ds.GetRasterBand(i).SetOffset(-0.1)
    assert band_dn_offsets(ds) == pytest.approx((-1000.0, -1000.0))


def test_real_scenes_are_dated_and_masked():
    folder = WORLDCEREAL / "flanders2019_31UES" / "scenes"
    if not folder.is_dir():
        pytest.skip("real Flanders data not found")
    scenes = load_scenes(folder=folder, pattern="S2_L2A_*.tif", start=date(2019, 3, 1), end=date(2019, 10, 31))
    assert scenes and all(date(2019, 3, 1) <= s.date <= date(2019, 10, 31) for s in scenes)
    assert all(s.mask is not None and s.mask.name == s.path.stem + "_SCL.tif" for s in scenes)
    assert [s.acquired for s in scenes] == sorted(s.acquired for s in scenes)
    # The metadata date agrees with the date in the file name.
    assert all(s.date == date_from_name(s.path).date() for s in scenes)

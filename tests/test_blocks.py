"""Block store: georeferencing, padding, statistics, spatial split, streaming, errors, readers."""

from __future__ import annotations

import math
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest
from osgeo import gdal

from crops_engine import cli
from crops_engine.blocks import (
    BlockStore,
    build_block_store,
    lattice,
    spatial_split,
    write_partition,
)
from crops_engine.errors import CropsError
from crops_engine.features import FeatureStack, feature_names, normalise
from crops_engine.metrics import IGNORE_INDEX
from crops_engine.raster import Grid, epsg_wkt

UTM = epsg_wkt(32631)
NODATA = -9999.0


def make_grid(width: int, height: int) -> Grid:
    return Grid(width, height, (600000.0, 10.0, 0.0, 5700000.0, 0.0, -10.0), UTM)


def write_tif(path: Path, data: np.ndarray, grid: Grid, nodata: float | None = None, names=None) -> Path:
    """(bands, H, W) array -> GeoTIFF on `grid`."""
    dtype = {np.dtype("float32"): gdal.GDT_Float32, np.dtype("uint16"): gdal.GDT_UInt16}[data.dtype]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), grid.width, grid.height, data.shape[0], dtype)
    ds.SetGeoTransform(grid.geotransform)
    ds.SetProjection(grid.crs_wkt)
    for i in range(data.shape[0]):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if names:
            band.SetDescription(names[i])
        band.WriteArray(data[i])
    ds = None
    return path


def composite_array(grid: Grid, bands: int = 3, seed: int = 0) -> np.ndarray:
    """Distinct values per pixel and band, with nodata holes (a corner, scattered pixels, one band only)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    data = np.stack([b * 100000 + rows * 300 + cols + rng.random(rows.shape) for b in range(bands)]).astype(np.float32)
    data[:, :5, :7] = NODATA  # a corner without data
    data[1, rng.random(rows.shape) < 0.05] = NODATA  # one band missing: the pixel is invalid
    return data


def label_codes(grid: Grid) -> np.ndarray:
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    codes = np.where((rows // 9 + cols // 11) % 3 == 0, 1200, np.where(cols % 4 == 0, 0, 9120)).astype(np.uint16)
    return codes[None]


@pytest.fixture
def scene(tmp_path):
    grid = make_grid(70, 50)
    data = composite_array(grid)
    composite = write_tif(tmp_path / "composite.tif", data, grid, NODATA, ["B04", "B08", "B11"])
    labels = write_tif(tmp_path / "labels.tif", label_codes(grid), grid, 0)
    return grid, data, composite, labels


def expected_valid(data: np.ndarray) -> np.ndarray:
    return (data != NODATA).all(axis=0)


# -- layout and round trip ----------------------------------------------------------------------


def test_lattice_covers_the_window_and_pads_only_the_last_block():
    assert lattice(0, 50, 32, 32) == [0, 32]
    assert lattice(0, 64, 32, 32) == [0, 32]
    assert lattice(5, 100, 64, 32) == [5, 37, 69]  # 69 + 64 >= 105: reaches the end
    assert lattice(0, 10, 32, 16) == [0]


def test_round_trip_georeferencing_padding_and_labels(scene, tmp_path):
    grid, data, composite, labels = scene
    out = build_block_store(
        composite, tmp_path / "store.h5", labels=labels, class_map="1200=maize; *=other; 0=ignore", block_size=32
    )
    valid_all = expected_valid(data)
    codes = label_codes(grid)[0]
    classes_all = np.select([codes == 1200, codes == 9120], [0, 1], IGNORE_INDEX)
    classes_all[~valid_all] = IGNORE_INDEX
    with BlockStore(out["output"]) as store:
        assert len(store) == 6 == out["blocks"]  # 2 rows x 3 columns of 32 px blocks over 70 x 50
        assert store.grid.same_as(grid) and store.block_size == 32 and store.stride == 32
        assert store.feature_names == ["B04", "B08", "B11"]
        assert [(c.value, c.name, c.code) for c in store.classes] == [(0, "maize", 1200), (1, "other", None)]
        assert store.has_labels
        for i, (row, col) in enumerate(store.origins):
            bg = store.block_grid(i)
            # the origin row/col maps to the right map coordinates ...
            assert bg.geotransform[0] == pytest.approx(600000.0 + 10.0 * col)
            assert bg.geotransform[3] == pytest.approx(5700000.0 - 10.0 * row)
            # ... and the block holds the composite's pixels of that window
            h, w = min(32, grid.height - row), min(32, grid.width - col)
            window = data[:, row : row + h, col : col + w]
            win_valid = valid_all[row : row + h, col : col + w]
            image, valid, lab = store.images(i), store.valid(i), store.labels(i)
            np.testing.assert_array_equal(valid[:h, :w], win_valid)
            np.testing.assert_array_equal(image[:, :h, :w][:, win_valid], window[:, win_valid])
            assert np.isnan(image[:, :h, :w][:, ~win_valid]).all()
            np.testing.assert_array_equal(lab[:h, :w], classes_all[row : row + h, col : col + w])
            # padding past the raster: invalid, NaN, ignore
            assert not valid[h:].any() and not valid[:, w:].any()
            assert np.isnan(image[:, h:]).all() and np.isnan(image[:, :, w:]).all()
            assert (lab[h:] == IGNORE_INDEX).all() and (lab[:, w:] == IGNORE_INDEX).all()
            np.testing.assert_array_equal(
                store.class_counts(i), [(lab == 0).sum(), (lab == 1).sum()]
            )
        # fancy reads keep the asked order, duplicates included
        three = store.images([3, 0, 3])
        np.testing.assert_array_equal(three, np.stack([store.images(3), store.images(0), store.images(3)]))
        with h5py.File(out["output"]) as h5:
            assert h5["images"].chunks == (1, 3, 32, 32) and h5["images"].dtype == np.float32
            assert h5["labels"].dtype == np.uint8 and h5.attrs["has_labels"]
    assert out["class_pixels"] == {"maize": int((classes_all == 0).sum()), "other": int((classes_all == 1).sum())}


def test_mean_std_equal_numpy_over_valid_pixels_once(scene, tmp_path):
    grid, data, composite, _ = scene
    # overlapping blocks (stride 16) and an extent: every valid pixel of the window counts once
    extent = "600030,600620,5699600,5699960 [EPSG:32631]"
    out = build_block_store(composite, tmp_path / "s.h5", block_size=32, stride=16, extent=extent, val_fraction=0)
    with BlockStore(out["output"]) as store:
        xoff, yoff, xsize, ysize = store.window
        assert (xoff, yoff, xsize, ysize) == (3, 4, 59, 36)
        assert tuple(store.origins[0]) == (4, 3)
        win = data[:, yoff : yoff + ysize, xoff : xoff + xsize].astype(np.float64)
        valid = expected_valid(win)
        np.testing.assert_allclose(store.mean, win[:, valid].mean(axis=1), rtol=1e-10)
        np.testing.assert_allclose(store.std, win[:, valid].std(axis=1), rtol=1e-7)
        assert store.attrs["valid_pixels"] == valid.sum()
        # blocks stop at the extent: pixels beyond it are padding, not data
        last = int(np.argmax(store.origins[:, 1]))
        col = store.origins[last, 1]
        assert not store.valid(last)[:, xoff + xsize - col :].any()


def test_extent_in_another_crs_is_reprojected(scene, tmp_path):
    from crops_engine.extent import extent_in_crs, parse_extent

    grid, _, composite, _ = scene
    utm = parse_extent("600100,600400,5699700,5699900 [EPSG:32631]")
    # the same area given in WGS 84 degrees: the window is the UTM box's bounding window
    from osgeo import osr

    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(32631)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon0, lat0, lon1, lat1 = osr.CoordinateTransformation(src, dst).TransformBounds(*utm[:4], 21)
    text = f"{lon0},{lon1},{lat0},{lat1} [EPSG:4326]"
    back = extent_in_crs(parse_extent(text), grid.crs_wkt)
    assert back[0] <= 600100 and back[2] >= 600400 and back[2] - back[0] < 320
    out = build_block_store(composite, tmp_path / "s.h5", block_size=16, extent=text, val_fraction=0)
    assert tuple(out["window"]) == grid.pixel_window_of(back)
    with pytest.raises(CropsError, match="does not overlap"):
        build_block_store(composite, tmp_path / "t.h5", extent="0,1,0,1 [EPSG:4326]")


# -- validation split --------------------------------------------------------------------------


def test_spatial_split_takes_whole_groups_deterministically():
    cells = np.array([(r, c) for r in range(16) for c in range(16)])
    train, val, g = spatial_split(cells, overlap=1, val_fraction=0.2, seed=3)
    assert g == 4  # the largest group size giving >= 10 groups: 16 groups of 4 x 4
    assert np.intersect1d(train, val).size == 0 and len(train) + len(val) == len(cells)
    assert 0.2 <= len(val) / len(cells) < 0.2 + 16 / 256  # stops at the first group past the fraction
    groups_val = {tuple(x) for x in cells[val] // g}
    groups_train = {tuple(x) for x in cells[train] // g}
    assert not groups_val & groups_train  # no group is split
    again = spatial_split(cells, overlap=1, val_fraction=0.2, seed=3)
    np.testing.assert_array_equal(again[1], val)
    other = spatial_split(cells, overlap=1, val_fraction=0.2, seed=4)
    assert not np.array_equal(other[1], val)
    assert len(spatial_split(cells, 1, 0.0)[1]) == 0


def test_overlapping_blocks_never_straddle_train_and_val(tmp_path):
    grid = make_grid(160, 160)
    data = composite_array(grid, bands=2)
    composite = write_tif(tmp_path / "c.tif", data, grid, NODATA)
    out = build_block_store(composite, tmp_path / "s.h5", block_size=16, stride=8, val_fraction=0.25, seed=1)
    assert out["val_blocks"] > 0 and out["train_blocks"] > 0 and out["left_out_blocks"] > 0
    with BlockStore(out["output"]) as store:
        train, val = store.split("train"), store.split("val")
        o = store.origins
        dr = np.abs(o[train][:, None, 0] - o[val][None, :, 0])
        dc = np.abs(o[train][:, None, 1] - o[val][None, :, 1])
        assert not ((dr < 16) & (dc < 16)).any()  # no train block shares a pixel with a val block
        assert store.attrs["val_group_size"] >= 1


# -- stores without labels, errors ---------------------------------------------------------------


def test_target_store_without_labels(scene, tmp_path):
    grid, data, composite, _ = scene
    data[:, :, 32:64] = NODATA  # a whole block column without data is not written
    write_tif(composite, data, grid, NODATA, ["B04", "B08", "B11"])
    out = build_block_store(composite, tmp_path / "target.h5", block_size=32)
    assert out["skipped_empty_blocks"] == 2 and out["classes"] == []
    with BlockStore(out["output"]) as store:
        assert not store.has_labels and store.classes == []
        assert len(store) == 4 and sorted(store.origins[:, 1].tolist()) == [0, 0, 64, 64]
        with h5py.File(out["output"]) as h5:
            assert "labels" not in h5 and h5["valid"].shape == (4, 32, 32)
        with pytest.raises(CropsError, match="no labels"):
            store.labels(0)
        np.testing.assert_array_equal(store.valid(0)[:32, :32], expected_valid(data)[:32, :32])


def test_no_labelled_pixel_is_an_error_and_leaves_nothing(scene, tmp_path):
    grid, data, composite, _ = scene
    codes = np.zeros((1, grid.height, grid.width), dtype=np.uint16)
    codes[0, :5, :7] = 1200  # labels only where the composite has no data
    labels = write_tif(tmp_path / "corner.tif", codes, grid, 0)
    with pytest.raises(CropsError, match="No labelled pixel"):
        build_block_store(composite, tmp_path / "out" / "s.h5", labels=labels, block_size=32)
    assert list((tmp_path / "out").iterdir()) == []
    with pytest.raises(CropsError, match="gives no class"):
        build_block_store(composite, tmp_path / "out" / "s.h5", labels=labels, class_map="5=x")
    with pytest.raises(CropsError, match="STRIDE"):
        build_block_store(composite, tmp_path / "out" / "s.h5", block_size=16, stride=32)
    with pytest.raises(CropsError, match=".h5"):
        build_block_store(composite, tmp_path / "out" / "s.tif")
    assert list((tmp_path / "out").iterdir()) == []


def test_polygon_labels_in_another_crs_build_the_same_store(scene, tmp_path):
    from test_labels import GRID as LGRID
    from test_labels import gdal_rasterised_codes, write_parcels

    data = composite_array(LGRID)
    composite = write_tif(tmp_path / "c.tif", data, LGRID, NODATA)
    raster = gdal_rasterised_codes(write_parcels(tmp_path / "utm.gpkg"), tmp_path / "codes.tif")
    cmap = "1200=maize; *=other; 0=ignore"
    a = build_block_store(composite, tmp_path / "a.h5", labels=raster, class_map=cmap, block_size=16, val_fraction=0)
    b = build_block_store(
        composite, tmp_path / "b.h5", labels=write_parcels(tmp_path / "wgs.gpkg", epsg=4326), label_field="code",
        class_map=cmap, block_size=16, val_fraction=0,
    )
    with BlockStore(a["output"]) as sa, BlockStore(b["output"]) as sb:
        np.testing.assert_array_equal(sa.origins, sb.origins)
        np.testing.assert_array_equal(sa.labels(slice(None)), sb.labels(slice(None)))
    assert a["class_pixels"] == b["class_pixels"] and a["class_pixels"]["maize"] > 0


# -- features ------------------------------------------------------------------------------------


def test_extra_bands_join_the_features_and_must_share_the_grid(scene, tmp_path):
    grid, data, composite, _ = scene
    qa = np.stack([np.full((grid.height, grid.width), 0.8), np.arange(grid.width)[None].repeat(grid.height, 0)])
    qa = qa.astype(np.float32)
    qa[1, 10, 10] = NODATA
    qa_path = write_tif(tmp_path / "qa.tif", qa, grid, NODATA, ["max_ndvi", "doy"])
    assert feature_names(composite, [f"{qa_path}@doy"]) == ["B04", "B08", "B11", "doy"]
    assert feature_names(composite, [f"{qa_path}@2,1"]) == ["B04", "B08", "B11", "doy", "max_ndvi"]
    out = build_block_store(composite, tmp_path / "s.h5", extra_bands=[f"{qa_path}@DOY"], block_size=32)
    with BlockStore(out["output"]) as store:
        assert store.feature_names == ["B04", "B08", "B11", "doy"]
        i = int(np.flatnonzero((store.origins == [0, 0]).all(axis=1))[0])
        img = store.images(i)
        np.testing.assert_array_equal(img[3][store.valid(i)], qa[1, :32, :32][store.valid(i)])
        assert not store.valid(i)[10, 10]  # nodata in an extra band invalidates the pixel
    other = write_tif(tmp_path / "other.tif", qa[:, :40], make_grid(70, 40), NODATA)
    with pytest.raises(CropsError, match="another grid"):
        build_block_store(composite, tmp_path / "t.h5", extra_bands=[str(other)])
    with pytest.raises(CropsError, match="no band named 'ndvi'"):
        feature_names(composite, [f"{qa_path}@ndvi"])


def test_normalise_is_the_model_input_rule():
    x = np.array([[[1.0, 3.0], [np.nan, 5.0]], [[2.0, 2.0], [2.0, 9.0]]], dtype=np.float32)
    valid = np.array([[True, True], [False, False]])
    out = normalise(x, mean=[1.0, 2.0], std=[2.0, 0.0], valid=valid)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    # without a mask: non-finite pixels are invalid; batches (N, C, H, W) work alike
    batch = normalise(np.stack([x, x]), [1.0, 2.0], [2.0, 1.0])
    np.testing.assert_array_equal(batch[:, :, 1, 0], 0.0)
    assert batch[0, 1, 1, 1] == 7.0


def test_streaming_holds_one_strip_not_the_raster(tmp_path, monkeypatch):
    """Build from 2048 x 2048 x 2: every read is one strip of block rows, and the Python heap
    (numpy arrays included) peaks far below the raster's float32 size."""
    grid = make_grid(2048, 2048)
    path = tmp_path / "big.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 2048, 2048, 2, gdal.GDT_Float32, ["TILED=YES", "COMPRESS=LZW"])
    ds.SetGeoTransform(grid.geotransform)
    ds.SetProjection(grid.crs_wkt)
    rng = np.random.default_rng(0)
    for b in range(2):
        ds.GetRasterBand(b + 1).WriteArray(rng.random((2048, 2048), dtype=np.float32))
    ds = None
    reads: list[tuple[int, int]] = []
    original = FeatureStack.read

    def counting_read(self, xoff, yoff, xsize, ysize):
        reads.append((xsize, ysize))
        return original(self, xoff, yoff, xsize, ysize)

    monkeypatch.setattr(FeatureStack, "read", counting_read)
    tracemalloc.start()
    try:
        out = build_block_store(path, tmp_path / "big.h5", block_size=128, val_fraction=0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out["blocks"] == 256
    assert reads == [(2048, 128)] * 16  # one strip of 16 blocks per read, each row read once
    raster_bytes = 2 * 2048 * 2048 * 4  # 32 MiB
    strip_bytes = 2 * 128 * 2048 * 4  # 2 MiB
    assert peak < 3 * strip_bytes < raster_bytes / 5, f"peak {peak / 2**20:.1f} MiB"


# -- partition, sampling, CLI, dataset -------------------------------------------------------------


def test_write_partition_and_read_it_back(scene, tmp_path):
    _, _, composite, labels = scene
    out = build_block_store(composite, tmp_path / "s.h5", labels=labels, block_size=32)
    path = out["output"]
    with BlockStore(path) as store:
        assert store.scores is None and store.partition_info == {} and store.splits == ["train", "val"]
        with pytest.raises(CropsError, match="Run partition"):
            store.split("easy")
    scores = np.linspace(0, 1, 6)
    reader = BlockStore(path)
    before = reader.images(1)  # an open reader (e.g. partition's own) does not block the write
    write_partition(path, scores, easy=[0, 2], hard=[5], attrs={"easy_fraction": 0.33, "model": "m.safetensors"})
    np.testing.assert_array_equal(reader.images(1), before)
    assert reader.split("easy").tolist() == [0, 2]
    write_partition(path, scores[::-1], easy=[1, 2], hard=[5], attrs={"easy_fraction": 0.33})  # replaces
    with BlockStore(path) as store:
        np.testing.assert_allclose(store.scores, scores[::-1])
        assert store.split("easy").tolist() == [1, 2] and store.split("hard").tolist() == [5]
        assert store.partition_info == {"easy_fraction": 0.33}
        assert len(store.split("train")) + len(store.split("val")) == 6
    with pytest.raises(ValueError, match="one value per block"):
        write_partition(path, scores[:3], [0], [1])
    with pytest.raises(ValueError, match="both easy and hard"):
        write_partition(path, scores, [0, 1], [1])


def test_write_partition_leaves_the_store_untouched_and_is_atomic(scene, tmp_path, monkeypatch):
    """Issue 19: the partition is a file beside the store, written under a temporary name and renamed into place:
    the store's bytes never change, and a failure while writing keeps the previous partition and leaves nothing."""
    import hashlib

    from crops_engine.blocks import partition_path
    from crops_engine.blocks import partition_split as split_module

    _, _, composite, labels = scene
    path = Path(build_block_store(composite, tmp_path / "s.h5", labels=labels, block_size=32)["output"])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    scores = np.linspace(0, 1, 6)
    side = write_partition(path, scores, easy=[0, 2], hard=[5], attrs={"model_sha256": "a" * 64})
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the store is not edited
    assert side == partition_path(path) == tmp_path / "s.h5.partition.h5"

    real_file = split_module.h5py.File

    def failing(name, mode="r", *args, **kwargs):  # the partition file fills the disk half-way
        h5 = real_file(name, mode, *args, **kwargs)
        if mode != "w":
            return h5
        h5.create_dataset("scores", data=np.zeros(1))
        h5.close()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(split_module.h5py, "File", failing)
    with pytest.raises(CropsError, match=r"(?i)disk is full.*s\.h5\.partition\.h5"):
        write_partition(path, scores[::-1], easy=[1], hard=[4], attrs={"model_sha256": "b" * 64})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if "crops-tmp" in p.name) == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with BlockStore(path) as store:  # the previous partition, whole
        assert store.split("easy").tolist() == [0, 2] and store.partition_info == {"model_sha256": "a" * 64}


def test_a_partition_file_of_another_store_is_not_read(scene, tmp_path):
    """A store rebuilt in place loses its partition (build-blocks drops `s.h5.*`); one copied over the old store by
    hand does not match the partition file's store identity, which is then ignored and named as stale."""
    import shutil

    _, _, composite, labels = scene
    path = Path(build_block_store(composite, tmp_path / "s.h5", labels=labels, block_size=32)["output"])
    write_partition(path, np.linspace(0, 1, 6), easy=[0], hard=[1])
    build_block_store(composite, path, labels=labels, block_size=32)  # rebuilt: its old partition goes
    with BlockStore(path) as store:
        assert "easy" not in store.splits and store.partition.stale is None
    write_partition(path, np.linspace(0, 1, 6), easy=[0], hard=[1])
    other = Path(build_block_store(composite, tmp_path / "other.h5", labels=labels, block_size=16)["output"])
    shutil.copy(other, path)  # another store under the partitioned store's name
    with BlockStore(path) as store:
        assert "easy" not in store.splits and store.scores is None
        assert store.partition.stale == tmp_path / "s.h5.partition.h5"


def test_a_store_partitioned_in_place_by_an_older_version_is_still_read(scene, tmp_path):
    _, _, composite, labels = scene
    path = build_block_store(composite, tmp_path / "s.h5", labels=labels, block_size=32)["output"]
    with h5py.File(path, "r+") as h5:  # what write_partition wrote before issue 19
        h5.create_dataset("scores", data=np.arange(6, dtype=np.float32))
        h5.create_dataset("split/easy", data=np.array([3], dtype=np.int64))
        h5.create_dataset("split/hard", data=np.array([4, 5], dtype=np.int64))
        h5.attrs["partition"] = '{"easy_fraction": 0.2}'
    with BlockStore(path) as store:
        assert store.splits == ["easy", "hard", "train", "val"]
        assert store.split("hard").tolist() == [4, 5] and store.partition_info == {"easy_fraction": 0.2}
    write_partition(path, np.zeros(6), easy=[0], hard=[1, 2])  # a new partition beside it takes over
    with BlockStore(path) as store:
        assert store.split("easy").tolist() == [0] and store.scores.tolist() == [0.0] * 6


def test_cancel_stops_the_build_and_leaves_nothing(scene, tmp_path):
    from crops_engine.errors import Cancelled
    from crops_engine.progress import Progress

    _, _, composite, labels = scene
    def cancel_at_second_strip(event, payload):
        if "Strip 2" in payload.get("text", ""):
            progress.cancel()

    progress = Progress(cancel_at_second_strip)
    with pytest.raises(Cancelled):
        build_block_store(composite, tmp_path / "out" / "s.h5", labels=labels, block_size=16, progress=progress)
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_build_blocks(scene, tmp_path, capsys):
    _, _, composite, labels = scene
    output = tmp_path / "cli.h5"
    rc = cli.main([
        "build-blocks", "--composite", str(composite), "--labels", str(labels),
        "--class-map", "1200=maize; *=other; 0=ignore", "--block-size", "16", "--stride", "8",
        "--val-fraction", "0.3", "--output", str(output),
    ])
    assert rc == cli.EXIT_OK and output.is_file()
    with BlockStore(output) as store:
        assert store.stride == 8 and store.block_size == 16 and len(store.split("val")) > 0
    rc = cli.main(["build-blocks", "--composite", str(composite), "--labels", str(labels), "--class-map", "7=x",
                   "--output", str(tmp_path / "bad.h5")])
    assert rc == cli.EXIT_USER and not (tmp_path / "bad.h5").exists()
    assert "gives no class" in capsys.readouterr().err


def test_block_dataset_gives_normalised_tensors_and_consistent_augmentation(scene, tmp_path):
    torch = pytest.importorskip("torch")
    from crops_engine.block_dataset import BlockDataset, flip_rotate

    _, _, composite, labels = scene
    out = build_block_store(composite, tmp_path / "s.h5", labels=labels, block_size=32, val_fraction=0.3)
    with BlockStore(out["output"]) as store:
        ds = BlockDataset(store, split="train")
        assert len(ds) == len(store.split("train"))
        item = ds[0]
        assert item["image"].dtype == torch.float32 and item["label"].dtype == torch.int64
        np.testing.assert_array_equal(item["image"].numpy(), store.inputs(item["index"]))
        assert torch.isfinite(item["image"]).all()
        g = torch.Generator().manual_seed(0)
        image = torch.arange(2 * 6 * 6, dtype=torch.float32).reshape(2, 6, 6)
        sample = {"image": image, "label": image[0].long(), "valid": image[1] > 40}
        for _ in range(8):
            aug = flip_rotate(sample, g)
            assert torch.equal(aug["label"], aug["image"][0].long())
            assert torch.equal(aug["valid"], aug["image"][1] > 40)
        seen = {flip_rotate(sample, g)["image"][0, 0, 0].item() for _ in range(32)}
        assert len(seen) == 4  # the top-left pixel comes from each of the four corners


# -- real data -------------------------------------------------------------------------------------


def test_flanders_maize_store(worldcereal, tmp_path):
    folder = worldcereal / "flanders2018_31UDS"
    if not (folder / "labels_crop_type.tif").is_file():
        pytest.skip("Flanders 2018 labels absent")
    scene = folder / "scenes" / "S2_L2A_20180705.tif"  # one clear summer date as the composite
    out = build_block_store(
        scene, tmp_path / "flanders.h5", labels=folder / "labels_crop_type.tif",
        class_map="1200=maize; *=other; 0=ignore", block_size=32,
    )
    codes = gdal.Open(str(folder / "labels_crop_type.tif")).ReadAsArray()
    pixels = gdal.Open(str(scene)).ReadAsArray()
    valid = (pixels != 0).all(axis=0)
    assert out["class_pixels"] == {
        "maize": int(((codes == 1200) & valid).sum()),
        "other": int(((codes != 1200) & (codes != 0) & valid).sum()),
    }
    assert out["class_pixels"]["maize"] > 1000
    with BlockStore(out["output"]) as store:
        assert len(store) == 4 and store.feature_names[:3] == ["B02", "B03", "B04"]
        assert [c.name for c in store.classes] == ["maize", "other"] and store.classes[0].code == 1200
        assert len(store.split("val")) == 1 and len(store.split("train")) == 3
        i = int(np.flatnonzero((store.origins == [32, 0]).all(axis=1))[0])
        expected = np.select([codes == 1200, codes != 0], [0, 1], IGNORE_INDEX)[32:, :32]
        expected[~valid[32:, :32]] = IGNORE_INDEX
        np.testing.assert_array_equal(store.labels(i), expected)
        np.testing.assert_array_equal(store.images(i)[2], pixels[2, 32:, :32].astype(np.float32))
        assert math.isclose(store.mean[6], pixels[6][valid].mean(), rel_tol=1e-9)

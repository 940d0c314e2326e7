"""NDVI quality mosaic against a straightforward numpy implementation of the rule.

The reference loads the whole stack, sets invalid observations to -inf and takes the first
argmax over dates (earliest wins ties); the compositor streams windows with threads. Both
compute NDVI in float32 the same way, so they must agree pixel for pixel.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from crops_engine.cli import main
from crops_engine.composite import QA_NODATA, CompositeOptions, ndvi_quality_mosaic
from crops_engine.errors import Cancelled, CropsError
from crops_engine.extent import parse_extent
from crops_engine.progress import Progress
from crops_engine.raster import epsg_wkt
from crops_engine.scenes import Scene, load_scenes

WORLDCEREAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "worldcereal"
INVALID = (0, 1, 3, 8, 9, 10)
X0, Y0 = 500000.0, 5600000.0
DESCRIPTIONS = ["B02", "B03", "B04", "B08"]  # red = 3, NIR = 4


# -- helpers -------------------------------------------------------------------------------------

def write_tif(path: Path, data: np.ndarray, gt=(X0, 10, 0, Y0, 0, -10), epsg=32631, nodata=0,
              descriptions=None, metadata=None, options=()) -> Path:
    data = data if data.ndim == 3 else data[None]
    gtype = {np.dtype("uint16"): gdal.GDT_UInt16, np.dtype("uint8"): gdal.GDT_Byte}[data.dtype]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), data.shape[2], data.shape[1], data.shape[0], gtype,
                                              list(options))
    ds.SetGeoTransform(gt)
    ds.SetProjection(epsg_wkt(epsg))
    for i in range(data.shape[0]):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(data[i])
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[i])
    if metadata:
        ds.SetMetadata(metadata)
    ds = None
    return path


def read(path) -> np.ndarray:
    arr = gdal.Open(str(path)).ReadAsArray()
    return arr if arr.ndim == 3 else arr[None]


def reference(stack, scl, red, nir, scale, red_offsets, nir_offsets, nodata, invalid=INVALID, inside=None):
    """The rule, written plainly: stack (T, B, H, W), scl (T, H, W) or None."""
    t, b, h, w = stack.shape
    s = np.float32(scale)
    r = np.stack([stack[i, red - 1].astype(np.float32) * s + np.float32(red_offsets[i]) for i in range(t)])
    n = np.stack([stack[i, nir - 1].astype(np.float32) * s + np.float32(nir_offsets[i]) for i in range(t)])
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (n - r) / (n + r)
    valid = (stack[:, red - 1] != nodata) & (stack[:, nir - 1] != nodata) & np.isfinite(v)
    if scl is not None:
        valid &= ~np.isin(scl, invalid)
    if inside is not None:
        valid &= inside[None]
    score = np.where(valid, v, -np.inf)
    best = np.argmax(score, axis=0)  # the first maximum: the earliest date wins ties
    found = valid.any(axis=0)
    composite = np.take_along_axis(stack, best[None, None], axis=0)[0]
    composite[:, ~found] = nodata
    max_ndvi = np.where(found, np.take_along_axis(score, best[None], axis=0)[0], QA_NODATA).astype(np.float32)
    return composite, max_ndvi, np.where(found, best, -1), valid.sum(axis=0)


DATES = [date(2019, 4, 2), date(2019, 5, 12), date(2019, 6, 21), date(2019, 8, 30)]


def make_season(folder: Path, h=30, w=40, seed=0, with_masks=True):
    """Four dates of 4-band scenes with constructed ties, nodata in red/NIR and all-cloud pixels."""
    rng = np.random.default_rng(seed)
    t = len(DATES)
    stack = rng.integers(200, 4000, size=(t, 4, h, w)).astype(np.uint16)
    scl = rng.choice(np.array([4, 5, 4, 8, 3, 4, 9, 10], dtype=np.uint8), size=(t, h, w))
    # Ties: dates 1 and 2 identical in red and NIR (different elsewhere) and both the best.
    stack[1, 2:, :5, :5] = stack[2, 2:, :5, :5]
    stack[1:3, 2, :5, :5] = 300
    stack[1:3, 3, :5, :5] = 5000
    stack[1, 0, :5, :5], stack[2, 0, :5, :5] = 111, 222
    scl[1:3, :5, :5] = 4
    # Nodata in red at the otherwise best date, nodata in NIR at another, all-cloud pixels.
    stack[0, 2, 10, 10:14], stack[0, 3, 10, 10:14] = 100, 9000  # NDVI 0.978: above any other date
    scl[0, 10, 10:14] = 4
    stack[0, 2, 10, 10:12] = 0
    stack[0, 3, 10, 12:14] = 0
    scl[:, 20:23, 30:35] = rng.choice(np.array([3, 8, 9, 10], dtype=np.uint8), size=(t, 3, 5))
    # A pixel whose red and NIR are nodata at every date, clear or not.
    stack[:, 2:, 0, w - 1] = 0
    folder.mkdir(parents=True, exist_ok=True)
    scenes = []
    for i, d in enumerate(DATES):
        path = write_tif(folder / f"S2_{d:%Y%m%d}.tif", stack[i], descriptions=DESCRIPTIONS,
                         metadata={"ACQUISITION_DATE": f"{d.isoformat()}T10:50:00"})
        mask = write_tif(folder / f"S2_{d:%Y%m%d}_SCL.tif", scl[i], nodata=0) if with_masks else None
        scenes.append(Scene(path, datetime(d.year, d.month, d.day, 10, 50), mask))
    return scenes, stack, scl


def options(**kw) -> CompositeOptions:
    return CompositeOptions(red_band=3, nir_band=4, **kw)


def assert_matches(out: Path, qa: Path | None, stack, scl, offsets=None, inside=None, nodata=0, doys=None):
    t = stack.shape[0]
    zeros = offsets or [0.0] * t
    comp, max_ndvi, best, count = reference(stack, scl, 3, 4, 0.0001, zeros, zeros, nodata, inside=inside)
    got = read(out)
    assert got.dtype == stack.dtype
    np.testing.assert_array_equal(got, comp)
    if qa is not None:
        q = read(qa)
        np.testing.assert_array_equal(q[0], max_ndvi)
        doys = np.array([d.timetuple().tm_yday for d in (doys or DATES)], dtype=np.float32)
        np.testing.assert_array_equal(q[1], np.where(best >= 0, doys[np.maximum(best, 0)], QA_NODATA))
        expected_count = count.astype(np.float32)
        if inside is not None:
            expected_count[~inside] = QA_NODATA
        np.testing.assert_array_equal(q[2], expected_count)
    return comp, best, count


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- the rule --------------------------------------------------------------------------------------

@pytest.mark.parametrize("window,workers", [(None, 1), (16, 2), (7, 2)])
def test_matches_reference_with_ties_nodata_and_clouds(tmp_path, window, workers):
    scenes, stack, scl = make_season(tmp_path / "in")
    out, qa = tmp_path / "out" / "qm.tif", tmp_path / "out" / "qm_qa.tif"
    result = ndvi_quality_mosaic(scenes, out, options(window=window, workers=workers), qa)
    comp, best, count = assert_matches(out, qa, stack, scl)
    # The constructed cases really happened.
    assert (best[:5, :5] == 1).all() and (comp[0, :5, :5] == 111).all()  # tie -> the earlier date
    assert (count[20:23, 30:35] == 0).all() and (comp[:, 20:23, 30:35] == 0).all()  # all cloud -> nodata
    assert (best[10, 10:14] != 0).all()  # nodata in red / NIR at the best date: another date wins
    assert (count[0, -1] == 0) and (comp[:, 0, -1] == 0).all()
    assert result["scenes"] == 4 and 0 < result["clear_fraction"] < 1
    ds = gdal.Open(str(out))
    assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(4)] == DESCRIPTIONS
    assert ds.GetRasterBand(1).GetNoDataValue() == 0
    assert (tmp_path / "out" / "qm.qml").is_file() and (tmp_path / "out" / "qm_qa.qml").is_file()
    assert 'redBand="3" greenBand="2" blueBand="1"' in (tmp_path / "out" / "qm.qml").read_text()
    assert leftovers(tmp_path / "out") == ["qm.qml", "qm.tif", "qm_qa.qml", "qm_qa.tif"]


def test_no_mask_and_date_window(tmp_path):
    scenes, stack, _ = make_season(tmp_path / "in", with_masks=False)
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options(start_date=date(2019, 5, 1), end_date=date(2019, 6, 30)))
    assert_matches(out, None, stack[1:3], None)


def test_mask_band_of_the_scene_is_used_and_left_out(tmp_path):
    _, stack, scl = make_season(tmp_path / "in", with_masks=False)
    scenes = []
    for i, d in enumerate(DATES):
        data = np.concatenate([stack[i], scl[i][None].astype(np.uint16)])
        scenes.append(load_scenes([write_tif(tmp_path / f"m_{d:%Y%m%d}.tif", data)], mask_suffix=None)[0])
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options(mask_band=5))
    assert_matches(out, None, stack, scl)


def test_boa_add_offset_metadata_and_override(tmp_path):
    rng = np.random.default_rng(3)
    stack = rng.integers(900, 3000, size=(2, 4, 12, 12)).astype(np.uint16)
    scenes = []
    for i, (d, meta) in enumerate([(date(2021, 12, 1), {}), (date(2022, 2, 1), {"BOA_ADD_OFFSET": "-1000"})]):
        write_tif(tmp_path / f"S2_{d:%Y%m%d}.tif", stack[i], descriptions=DESCRIPTIONS, metadata=meta)
    scenes = load_scenes(folder=tmp_path, mask_suffix=None)
    assert scenes[1].dn_offset(3) == -1000.0
    out = tmp_path / "out" / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options())
    with_offsets = reference(stack, None, 3, 4, 0.0001, [0.0, -1000 * 0.0001], [0.0, -1000 * 0.0001], 0)[0]
    without = reference(stack, None, 3, 4, 0.0001, [0.0, 0.0], [0.0, 0.0], 0)[0]
    assert not np.array_equal(with_offsets, without)  # the offset changes winners here
    np.testing.assert_array_equal(read(out), with_offsets)
    ndvi_quality_mosaic(scenes, out, options(offset=0.0))  # an explicit OFFSET overrides the metadata
    np.testing.assert_array_equal(read(out), without)


# -- grids, extent and area of interest ------------------------------------------------------------

def test_scene_on_a_coarser_grid_is_warped(tmp_path):
    scenes, stack, scl = make_season(tmp_path / "in")
    # The last date arrives at 20 m (and its mask too): nearest-neighbour warp = 2 x 2 repeat.
    coarse = stack[3, :, ::2, ::2]
    coarse_scl = scl[3, ::2, ::2]
    gt20 = (X0, 20, 0, Y0, 0, -20)
    path = write_tif(tmp_path / "in" / "S2_20190830.tif", coarse, gt=gt20, descriptions=DESCRIPTIONS,
                     metadata={"ACQUISITION_DATE": "2019-08-30"})
    write_tif(tmp_path / "in" / "S2_20190830_SCL.tif", coarse_scl, gt=gt20)
    scenes[3] = load_scenes([path])[0]
    expected_stack = stack.copy()
    expected_scl = scl.copy()
    expected_stack[3] = np.repeat(np.repeat(coarse, 2, axis=1), 2, axis=2)
    expected_scl[3] = np.repeat(np.repeat(coarse_scl, 2, axis=0), 2, axis=1)
    out, qa = tmp_path / "qm.tif", tmp_path / "qa.tif"
    ndvi_quality_mosaic(scenes, out, options(window=16), qa)
    assert_matches(out, qa, expected_stack, expected_scl)


def test_scene_in_another_crs_is_warped_like_gdalwarp(tmp_path):
    scenes, stack, scl = make_season(tmp_path / "in", with_masks=False)
    # Reproject the second date to EPSG:3857; the compositor warps it back through a VRT.
    moved = tmp_path / "in" / "S2_20190512_3857.tif"
    gdal.Warp(str(moved), str(scenes[1].path), dstSRS="EPSG:3857", resampleAlg="near")
    scenes[1] = load_scenes([moved], mask_suffix=None)[0]
    ref_ds = gdal.Open(str(scenes[0].path))
    xmin, ymax = X0, Y0
    warped = gdal.Warp("", str(moved), format="MEM", dstSRS=ref_ds.GetProjection(), resampleAlg="near",
                       outputBounds=(xmin, ymax - 300, xmin + 400, ymax), width=40, height=30)
    expected = stack.copy()
    expected[1] = warped.ReadAsArray()
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options())
    assert_matches(out, None, expected, None)
    assert (expected[1] == 0).any()  # the warped scene leaves some pixels uncovered: they are invalid


def test_chosen_resolution_warps_every_scene(tmp_path):
    scenes, stack, scl = make_season(tmp_path / "in")
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options(resolution=5.0, target_crs="EPSG:32631"))
    ds = gdal.Open(str(out))
    assert ds.GetGeoTransform() == (X0, 5.0, 0.0, Y0, 0.0, -5.0) and (ds.RasterXSize, ds.RasterYSize) == (80, 60)
    # 10 m -> 5 m with nearest neighbour: every pixel becomes 2 x 2.
    fine = np.repeat(np.repeat(stack, 2, axis=2), 2, axis=3)
    fine_scl = np.repeat(np.repeat(scl, 2, axis=1), 2, axis=2)
    assert_matches(out, None, fine, fine_scl)


def test_extent_crops_the_output(tmp_path):
    scenes, stack, scl = make_season(tmp_path / "in")
    extent = parse_extent(f"{X0 + 55},{X0 + 201},{Y0 - 149},{Y0 - 31} [EPSG:32631]")
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, options(extent=extent))
    ds = gdal.Open(str(out))
    assert ds.GetGeoTransform()[0] == X0 + 50 and ds.GetGeoTransform()[3] == Y0 - 30
    assert (ds.RasterXSize, ds.RasterYSize) == (16, 12)  # snapped outwards to whole pixels
    assert_matches(out, None, stack[:, :, 3:15, 5:21], scl[:, 3:15, 5:21])
    with pytest.raises(CropsError, match="does not overlap"):
        ndvi_quality_mosaic(scenes, tmp_path / "none.tif", options(extent=(0.0, 0.0, 10.0, 10.0, None)))
    assert not (tmp_path / "none.tif").exists()


def _polygon_layer(path: Path, ring_xy: list[tuple[float, float]], epsg: int) -> Path:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("fields", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    ring = ", ".join(f"{x!r} {y!r}" for x, y in ring_xy + ring_xy[:1])
    feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POLYGON (({ring}))"))
    layer.CreateFeature(feature)
    ds = None
    return path


def test_polygon_area_of_interest_in_another_crs(tmp_path):
    scenes, stack, scl = make_season(tmp_path / "in")
    triangle_utm = [(X0 + 33.3, Y0 - 271.7), (X0 + 377.1, Y0 - 241.9), (X0 + 151.7, Y0 - 18.4)]
    to_wgs84 = osr.CoordinateTransformation(_srs(32631), _srs(4326))
    triangle_ll = [to_wgs84.TransformPoint(x, y)[:2] for x, y in triangle_utm]
    aoi = _polygon_layer(tmp_path / "aoi.gpkg", triangle_ll, 4326)
    out, qa = tmp_path / "qm.tif", tmp_path / "qa.tif"
    ndvi_quality_mosaic(scenes, out, options(aoi=f"{aoi}|layername=fields", window=8), qa)
    ds = gdal.Open(str(out))
    gt = ds.GetGeoTransform()
    c0, r0 = int(round((gt[0] - X0) / 10)), int(round((Y0 - gt[3]) / 10))
    cols, rows = ds.RasterXSize, ds.RasterYSize
    assert (c0, r0, cols, rows) == (3, 1, 35, 27)  # the triangle's bounding box, on the scenes' grid
    # Expected inside: pixel centres in the triangle, its vertices taken back to UTM (straight edges).
    back = osr.CoordinateTransformation(_srs(4326), _srs(32631))
    tri = np.array([back.TransformPoint(x, y)[:2] for x, y in triangle_ll])
    xs = X0 + (np.arange(c0, c0 + cols) + 0.5) * 10
    ys = Y0 - (np.arange(r0, r0 + rows) + 0.5) * 10
    gx, gy = np.meshgrid(xs, ys)
    signs = []
    for (ax, ay), (bx, by) in zip(tri, np.roll(tri, -1, axis=0), strict=True):
        signs.append((bx - ax) * (gy - ay) - (by - ay) * (gx - ax))
    inside = np.all(np.array(signs) > 0, axis=0) | np.all(np.array(signs) < 0, axis=0)
    assert 0 < inside.sum() < inside.size
    window = (slice(None), slice(None), slice(r0, r0 + rows), slice(c0, c0 + cols))
    assert_matches(out, qa, stack[window], scl[:, r0:r0 + rows, c0:c0 + cols], inside=inside)


def _srs(epsg: int) -> osr.SpatialReference:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


# -- bad input: a clear error and nothing left behind ----------------------------------------------

def test_different_band_counts(tmp_path):
    scenes, stack, _ = make_season(tmp_path / "in", with_masks=False)
    write_tif(scenes[2].path, stack[2, :3], descriptions=DESCRIPTIONS[:3])
    with pytest.raises(CropsError, match="different band counts"):
        ndvi_quality_mosaic(scenes, tmp_path / "out" / "qm.tif", options())
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("kw,message", [
    ({"red_band": 5}, "RED_BAND 5 is out of range"),
    ({"nir_band": 0}, "NIR_BAND 0 is out of range"),
    ({"mask_band": 9}, "MASK_BAND 9 is out of range"),
    ({"red_band": 4}, "two different bands"),
])
def test_band_index_errors(tmp_path, kw, message):
    scenes, _, _ = make_season(tmp_path / "in", with_masks=False)
    opts = CompositeOptions(**{"red_band": 3, "nir_band": 4, **kw})
    with pytest.raises(CropsError, match=message):
        ndvi_quality_mosaic(scenes, tmp_path / "out" / "qm.tif", opts)
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("red,nir", [("B04", "B08"), ("b4", "B08"), ("3", "B08"), (3, 4)])
def test_bands_by_name_or_number_give_one_composite(tmp_path, red, nir):
    scenes, stack, scl = make_season(tmp_path / "in")
    out = tmp_path / "out" / "qm.tif"
    ndvi_quality_mosaic(scenes, out, CompositeOptions(red_band=red, nir_band=nir))
    assert_matches(out, None, stack, scl)
    assert gdal.Open(str(out)).GetMetadataItem("CROPS_NIR_BAND") == "4"  # the resolved number is recorded


def test_mask_band_by_name(tmp_path):
    _, stack, scl = make_season(tmp_path / "in", with_masks=False)
    scenes = []
    for i, d in enumerate(DATES):
        data = np.concatenate([stack[i], scl[i][None].astype(np.uint16)])
        path = write_tif(tmp_path / f"m_{d:%Y%m%d}.tif", data, descriptions=[*DESCRIPTIONS, "SCL"])
        scenes.append(load_scenes([path], mask_suffix=None)[0])
    out = tmp_path / "qm.tif"
    ndvi_quality_mosaic(scenes, out, CompositeOptions(red_band="B04", nir_band="B08", mask_band="scl"))
    assert_matches(out, None, stack, scl)


def test_unknown_band_name_lists_the_bands(tmp_path):
    scenes, _, _ = make_season(tmp_path / "in", with_masks=False)
    with pytest.raises(CropsError, match=r"NIR_BAND 'B8A' is not a band of S2_20190402\.tif; its bands are "
                                         r"B02, B03, B04, B08"):
        ndvi_quality_mosaic(scenes, tmp_path / "out" / "qm.tif", CompositeOptions(red_band="B04", nir_band="B8A"))
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


def test_band_name_of_scenes_without_names(tmp_path):
    _, stack, _ = make_season(tmp_path / "in", with_masks=False)
    scenes = [load_scenes([write_tif(tmp_path / f"n_{d:%Y%m%d}.tif", stack[i])], mask_suffix=None)[0]
              for i, d in enumerate(DATES)]
    with pytest.raises(CropsError, match="have no names .*give the band number instead"):
        ndvi_quality_mosaic(scenes, tmp_path / "qm.tif", CompositeOptions(red_band="B04", nir_band=4))


def test_band_name_in_different_places_is_refused(tmp_path):
    scenes, stack, _ = make_season(tmp_path / "in", with_masks=False)
    write_tif(scenes[1].path, stack[1], descriptions=["B02", "B03", "B08", "B04"])
    with pytest.raises(CropsError, match="RED_BAND 'B04' is band 3 in some scenes and band 4 in others"):
        ndvi_quality_mosaic(scenes, tmp_path / "qm.tif", CompositeOptions(red_band="B04", nir_band="B08"))


def test_date_window_without_scenes(tmp_path):
    scenes, _, _ = make_season(tmp_path / "in")
    with pytest.raises(CropsError, match="No scene falls between 2020-01-01"):
        ndvi_quality_mosaic(scenes, tmp_path / "qm.tif", options(start_date=date(2020, 1, 1)))
    assert not (tmp_path / "qm.tif").exists()


def test_unreadable_file(tmp_path):
    scenes, _, _ = make_season(tmp_path / "in")
    scenes[1].path.write_bytes(b"II*\x00 this is not a complete tiff")
    with pytest.raises(CropsError, match="S2_20190512.tif"):
        ndvi_quality_mosaic(scenes, tmp_path / "qm.tif", options())
    assert not (tmp_path / "qm.tif").exists()


def test_mask_that_does_not_cover_its_scene(tmp_path):
    scenes, _, scl = make_season(tmp_path / "in")
    write_tif(scenes[2].mask, scl[2, :15, :20])  # half the scene
    out_dir = tmp_path / "out"
    with pytest.raises(CropsError, match="does not cover its scene"):
        ndvi_quality_mosaic(scenes, out_dir / "qm.tif", options(), out_dir / "qa.tif")
    assert not out_dir.exists() or leftovers(out_dir) == []


def test_cancel_leaves_nothing(tmp_path):
    scenes, _, _ = make_season(tmp_path / "in")
    cancel = threading.Event()

    def reporter(event, payload):
        if event == "progress" and "Window" in payload.get("text", ""):
            cancel.set()

    out_dir = tmp_path / "out"
    with pytest.raises(Cancelled):
        ndvi_quality_mosaic(scenes, out_dir / "qm.tif", options(window=8), out_dir / "qa.tif",
                            Progress(reporter, cancel))
    assert leftovers(out_dir) == []


# -- the command line --------------------------------------------------------------------------------

def test_cli(tmp_path, capsys):
    _, stack, scl = make_season(tmp_path / "in")
    out, qa = tmp_path / "out" / "c.tif", tmp_path / "out" / "qa.tif"
    argv = ["ndvi-qm", "--folder", str(tmp_path / "in"), "--pattern", "S2_*.tif", "--red-band", "3",
            "--nir-band", "4", "--start-date", "2019-05-01", "--output", str(out), "--output-qa", str(qa)]
    assert main(argv) == 0
    assert_matches(out, qa, stack[1:], scl[1:], doys=DATES[1:])
    bad = ["ndvi-qm", "--folder", str(tmp_path / "in"), "--red-band", "12", "--output", str(tmp_path / "x.tif")]
    assert main(bad) == 1
    assert "RED_BAND 12 is out of range" in capsys.readouterr().err
    assert not (tmp_path / "x.tif").exists()
    named = ["ndvi-qm", "--folder", str(tmp_path / "in"), "--pattern", "S2_*.tif", "--red-band", "B04",
             "--nir-band", "B08", "--start-date", "2019-05-01", "--output", str(tmp_path / "named.tif")]
    assert main(named) == 0
    np.testing.assert_array_equal(read(tmp_path / "named.tif"), read(out))
    unknown = ["ndvi-qm", "--folder", str(tmp_path / "in"), "--pattern", "S2_*.tif", "--nir-band", "B8A",
               "--red-band", "B04", "--output", str(tmp_path / "y.tif")]
    assert main(unknown) == 1
    assert "its bands are B02, B03, B04, B08" in capsys.readouterr().err


def test_real_20m_patch_by_band_names(tmp_path):
    """The 2019b patch has only B05 B06 B07 B8A B11 B12: a red-edge index by name equals the one by number."""
    folder = WORLDCEREAL / "flanders2019b_31UES" / "scenes"
    if not folder.is_dir():
        pytest.skip(f"real Flanders data not found at {folder}")
    scenes = load_scenes(folder=folder, pattern="S2_L2A_201906*.tif", mask_suffix="_SCL")
    by_name, by_number = tmp_path / "name.tif", tmp_path / "number.tif"
    ndvi_quality_mosaic(scenes, by_name, CompositeOptions(red_band="B05", nir_band="B8A", workers=1))
    ndvi_quality_mosaic(scenes, by_number, CompositeOptions(red_band=1, nir_band=4, workers=1))
    np.testing.assert_array_equal(read(by_name), read(by_number))
    with pytest.raises(CropsError, match="its bands are B05, B06, B07, B8A, B11, B12"):
        ndvi_quality_mosaic(scenes, tmp_path / "x.tif", CompositeOptions(red_band="B04", nir_band="B08"))


# -- real data -------------------------------------------------------------------------------------

@pytest.mark.parametrize("start,end", [
    (date(2019, 3, 1), date(2019, 10, 31)),  # the season: 36 scenes (one pixel has an NDVI tie)
    (date(2019, 8, 10), date(2019, 8, 20)),  # two cloudy dates: pixels with no clear observation
])
def test_real_flanders_season_matches_reference(tmp_path, start, end):
    folder = WORLDCEREAL / "flanders2019_31UES" / "scenes"
    if not folder.is_dir():
        pytest.skip("real Flanders data not found")
    scenes = load_scenes(folder=folder, pattern="S2_L2A_*.tif", start=start, end=end)
    out, qa = tmp_path / "qm.tif", tmp_path / "qa.tif"
    ndvi_quality_mosaic(scenes, out, CompositeOptions(start_date=start, end_date=end, window=24), qa)
    stack = np.stack([read(s.path) for s in scenes])
    scl = np.stack([read(s.mask)[0] for s in scenes])
    zeros = [0.0] * len(scenes)
    comp, max_ndvi, best, count = reference(stack, scl, 3, 7, 0.0001, zeros, zeros, 0)
    np.testing.assert_array_equal(read(out), comp)
    q = read(qa)
    np.testing.assert_array_equal(q[0], max_ndvi)
    doys = np.array([s.date.timetuple().tm_yday for s in scenes], dtype=np.float32)
    np.testing.assert_array_equal(q[1], np.where(best >= 0, doys[np.maximum(best, 0)], QA_NODATA))
    np.testing.assert_array_equal(q[2], count)
    if end.month == 10:
        assert len(scenes) > 20 and (count > 0).all()
    else:
        assert len(scenes) == 2 and (count == 0).any() and (comp[:, count == 0] == 0).all()


# -- end to end: qgis_process and a graphical model (.model3) ----------------------------------------

@pytest.mark.e2e
def test_real_season_through_qgis_process(qgis_process, tmp_path):
    folder = WORLDCEREAL / "flanders2019_31UES" / "scenes"
    if not folder.is_dir():
        pytest.skip("real Flanders data not found")
    out, qa = tmp_path / "qm.tif", tmp_path / "qa.tif"
    result = qgis_process("crops:ndvi_qm", FOLDER=folder, PATTERN="S2_L2A_*.tif", START_DATE="2019-03-01",
                          END_DATE="2019-10-31", OUTPUT=out, OUTPUT_QA=qa)
    assert result["results"]["OUTPUT"] == str(out)
    scenes = load_scenes(folder=folder, pattern="S2_L2A_*.tif", start=date(2019, 3, 1), end=date(2019, 10, 31))
    stack = np.stack([read(s.path) for s in scenes])
    scl = np.stack([read(s.mask)[0] for s in scenes])
    zeros = [0.0] * len(scenes)
    comp, max_ndvi, _, count = reference(stack, scl, 3, 7, 0.0001, zeros, zeros, 0)
    np.testing.assert_array_equal(read(out), comp)
    np.testing.assert_array_equal(read(qa)[0], max_ndvi)
    np.testing.assert_array_equal(read(qa)[2], count)
    assert (tmp_path / "qm.qml").is_file() and (tmp_path / "qa.qml").is_file()


@pytest.mark.e2e
def test_graphical_model_runs_the_composite(qgis_app, qgis_process, tmp_path):
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFile,
    )

    scenes, stack, scl = make_season(tmp_path / "in")
    model = QgsProcessingModelAlgorithm("ndvi_qm_model", "crops tests")
    model.addModelParameter(
        QgsProcessingParameterFile("folder", "Scenes folder", QgsProcessingParameterFile.Folder),
        QgsProcessingModelParameter("folder"),
    )
    child = QgsProcessingModelChildAlgorithm("crops:ndvi_qm")
    child.setChildId("qm")
    child.addParameterSources("FOLDER", [QgsProcessingModelChildParameterSource.fromModelParameter("folder")])
    for name, value in {"PATTERN": "S2_*.tif", "RED_BAND": 3, "NIR_BAND": 4, "START_DATE": "2019-05-01"}.items():
        child.addParameterSources(name, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    output = QgsProcessingModelOutput("composite", "Composite")
    output.setChildId("qm")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"composite": output})
    model.addChildAlgorithm(child)
    path = tmp_path / "ndvi_qm.model3"
    assert model.toFile(str(path))
    out = tmp_path / "model_qm.tif"
    result = qgis_process(str(path), **{"folder": tmp_path / "in", "qm:composite": out})
    assert result["results"]["qm:composite"] == str(out)
    assert_matches(out, None, stack[1:], scl[1:])

"""Streaming inference: tiling + blending equals whole-image prediction, georeferenced styled outputs,
nodata, areas of interest, feature checks, cancel, the CLI."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

torch = pytest.importorskip("torch")
pytest.importorskip("timm")
pytest.importorskip("safetensors")

from crops_engine.blending import StripBlender, TileLayout, edge_ramp, tile_origins  # noqa: E402
from crops_engine.checkpoint import save_checkpoint  # noqa: E402
from crops_engine.classes import CropClass  # noqa: E402
from crops_engine.cli import main  # noqa: E402
from crops_engine.errors import Cancelled, CropsError  # noqa: E402
from crops_engine.extent import parse_extent  # noqa: E402
from crops_engine.features import normalise  # noqa: E402
from crops_engine.infer import (  # noqa: E402
    CLASS_NODATA,
    FLOAT_NODATA,
    InferOptions,
    Outputs,
    TileSource,
    infer,
    normalised_entropy,
    predict_raster,
)
from crops_engine.models import build_model  # noqa: E402
from crops_engine.progress import Progress  # noqa: E402

torch.set_num_threads(1)

FEATURES = ["B04", "B08", "B11"]
MEAN, STD = [1000.0, 3000.0, 2000.0], [400.0, 1200.0, 700.0]
CLASSES = [CropClass(0, "wheat", "#e6ab02", 11), CropClass(1, "maize", "#1b9e77", 12),
           CropClass(2, "grassland", "#7570b3", 13)]
ORIGIN = (500000.0, 5600000.0)  # UTM 31N, 10 m pixels
EPSG = 32631


def make_composite(path, width, height, nodata_corner=True, seed=0, names=FEATURES):
    """UInt16 fields of three spectra plus noise; nodata 0 in the top-left corner (if asked)."""
    rng = np.random.default_rng(seed)
    spectra = np.array([[800, 2500, 1800], [1200, 4200, 2600], [1000, 2000, 1500]], dtype=np.float64)
    yy, xx = np.mgrid[0:height, 0:width]
    field_id = ((yy // 23) * 7 + (xx // 19) * 3) % 3
    data = spectra[field_id].transpose(2, 0, 1) + rng.normal(0, 150, (3, height, width))
    data = np.clip(data, 1, 10000).astype(np.uint16)[: len(names)]
    if nodata_corner:
        data[:, : height // 4, : width // 5] = 0
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, len(names), gdal.GDT_UInt16)
    ds.SetGeoTransform((ORIGIN[0], 10.0, 0.0, ORIGIN[1], 0.0, -10.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    for i, name in enumerate(names):
        band = ds.GetRasterBand(i + 1)
        band.SetDescription(name)
        band.SetNoDataValue(0)
        band.WriteArray(data[i])
    ds = None
    return path


def field_labels(width, height):
    """The class of every pixel of `make_composite`'s fields."""
    yy, xx = np.mgrid[0:height, 0:width]
    return ((yy // 23) * 7 + (xx // 19) * 3) % 3


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny U-Net trained for a few steps to tell the three field spectra apart (confident, structured maps)."""
    folder = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    model = build_model("unet", 3, 3, encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8), embedding_dim=16)
    raw = gdal.Open(str(make_composite(folder / "train.tif", 160, 128, nodata_corner=False, seed=5))).ReadAsArray()
    x = torch.from_numpy(normalise(raw.astype(np.float32), MEAN, STD))
    labels = torch.from_numpy(field_labels(160, 128).astype(np.int64))
    optimiser = torch.optim.Adam(model.parameters(), 1e-2)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(12):
        rows, cols = torch.randint(0, 128 - 64, (4,), generator=g), torch.randint(0, 160 - 64, (4,), generator=g)
        xb = torch.stack([x[:, r:r + 64, c:c + 64] for r, c in zip(rows, cols, strict=True)])
        yb = torch.stack([labels[r:r + 64, c:c + 64] for r, c in zip(rows, cols, strict=True)])
        loss = torch.nn.functional.cross_entropy(model(xb).logits, yb)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    path = folder / "tiny.safetensors"
    meta = {"features": FEATURES, "normalisation": {"mean": MEAN, "std": STD}, "classes": CLASSES,
            "block_size": 32, "nodata": 0}
    save_checkpoint(path, model.eval(), meta)
    return path


def read(path, band=1):
    ds = gdal.Open(str(path))  # keep the dataset referenced while its band is used
    data = ds.GetRasterBand(band).ReadAsArray()
    ds = None
    return data


def pixel_softmax(seed=1):
    """A per-pixel (1 x 1) model: softmax(A x + b); its output at a pixel does not depend on the tile."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1.5, (3, 3)).astype(np.float32)
    b = rng.normal(0, 0.5, 3).astype(np.float32)

    def predict(batch):
        logits = np.einsum("kc,nchw->nkhw", a, batch) + b[None, :, None, None]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    return predict


def whole_image_reference(composite, predict):
    ds = gdal.Open(str(composite))
    raw = ds.ReadAsArray().astype(np.float32)
    valid = (raw != 0).all(axis=0)
    x = normalise(raw, MEAN, STD, valid)
    return predict(x[None])[0], valid


# -- blending -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length,tile,stride", [(300, 256, 192), (512, 256, 192), (100, 256, 192), (64, 64, 48),
                                                (65, 64, 48), (1000, 100, 73)])
def test_tile_origins_cover_and_stay_inside(length, tile, stride):
    starts = tile_origins(length, tile, stride)
    size = min(tile, length)
    assert starts[0] == 0 and starts[-1] + size == length
    assert all(0 < b - a <= stride for a, b in zip(starts, starts[1:], strict=False))


def test_ramps_of_neighbouring_tiles_sum_to_one():
    tile, overlap = 64, 16
    up = edge_ramp(tile, overlap, True, False)
    down = edge_ramp(tile, overlap, False, True)
    np.testing.assert_allclose(down[-overlap:] + up[:overlap], 1.0, atol=1e-12)
    assert up.min() > 0 and down.min() > 0 and up[overlap:].min() == 1.0


def test_blender_keeps_only_rows_in_flight():
    layout = TileLayout.plan(50, 1000, 32, 8)
    blender = StripBlender(layout, 4)
    assert blender._sum.shape == (4, 32, 50)  # independent of the raster's 1000 rows
    rows = 0
    ones = np.ones((4, 32, 32), np.float32) / 4
    for y, x in layout.tiles:
        for strip in blender.add(y, x, ones, np.ones((32, 32), bool)):
            assert strip.row == rows
            rows += strip.height
            np.testing.assert_allclose(strip.probabilities, 0.25, rtol=1e-6)
    for strip in blender.finish():
        rows += strip.height
    assert rows == 1000


# -- tiled == whole image, through the real reading path ----------------------------------------


@pytest.mark.parametrize("width,height", [(70, 45), (128, 96), (37, 150), (20, 20)])
@pytest.mark.parametrize("tile,overlap", [(32, 0), (32, 8), (48, 24), (64, 31)])
def test_tiled_blend_equals_whole_image_for_a_per_pixel_model(tmp_path, width, height, tile, overlap):
    composite = make_composite(tmp_path / "c.tif", width, height, seed=width + height)
    predict = pixel_softmax()
    expected, valid = whole_image_reference(composite, predict)
    from crops_engine.checkpoint import CheckpointMeta

    meta = CheckpointMeta("unet", {}, 3, 3, FEATURES, {"mean": MEAN, "std": STD}, CLASSES, 32, 0)
    layout = TileLayout.plan(width, height, tile, overlap)
    probs = np.full((3, height, width), np.nan, np.float32)
    got_valid = np.zeros((height, width), bool)

    def sink(strip):
        probs[:, strip.row:strip.row + strip.height] = strip.probabilities
        got_valid[strip.row:strip.row + strip.height] = strip.valid

    counts = predict_raster(lambda: TileSource(str(composite), (), (0, 0, width, height), meta, None),
                            layout, 3, 3, predict, sink, batch_size=3)
    assert counts["tiles"] == len(layout)
    np.testing.assert_array_equal(got_valid, valid)
    np.testing.assert_allclose(probs[:, valid], expected[:, valid], rtol=0, atol=2e-6)


@pytest.mark.parametrize("width,height,tile,overlap", [(100, 70, 32, 8), (45, 140, 64, 16)])
def test_infer_with_injected_predict_writes_the_whole_image_probabilities(tmp_path, checkpoint, width, height,
                                                                          tile, overlap):
    composite = make_composite(tmp_path / "c.tif", width, height)
    predict = pixel_softmax(seed=3)
    expected, valid = whole_image_reference(composite, predict)
    out = Outputs(tmp_path / "classes.tif", probabilities=tmp_path / "probs.tif")
    infer(checkpoint, composite, out, InferOptions(tile_size=tile, overlap=overlap, batch_size=2), predict=predict)
    ds = gdal.Open(str(tmp_path / "probs.tif"))
    probs = ds.ReadAsArray()
    np.testing.assert_allclose(probs[:, valid], expected[:, valid], rtol=0, atol=2e-6)
    assert (probs[:, ~valid] == FLOAT_NODATA).all()
    classes = read(tmp_path / "classes.tif")
    np.testing.assert_array_equal(classes[valid], expected.argmax(0)[valid])
    assert (classes[~valid] == CLASS_NODATA).all()


def test_real_unet_tiled_agrees_with_whole_image(tmp_path, checkpoint):
    """A CNN sees beyond its tile, so tiles cannot equal the whole image exactly; blended overlaps keep them close."""
    from crops_engine.checkpoint import load_model

    width, height = 128, 96
    composite = make_composite(tmp_path / "c.tif", width, height, nodata_corner=False, seed=9)
    model, _ = load_model(checkpoint)

    def predict(batch):
        with torch.inference_mode():
            return torch.softmax(model(torch.from_numpy(batch)).logits, 1).numpy()

    expected, _ = whole_image_reference(composite, predict)
    labels = field_labels(width, height)
    assert (expected.argmax(0) == labels).mean() > 0.9  # the model maps the fields: a misplaced tile would show

    def tiled(tile, overlap):
        out = Outputs(tmp_path / f"c{tile}-{overlap}.tif", probabilities=tmp_path / f"p{tile}-{overlap}.tif")
        infer(checkpoint, composite, out, InferOptions(tile_size=tile, overlap=overlap, batch_size=4, device="cpu"))
        return gdal.Open(str(out.probabilities)).ReadAsArray()

    blended, hard_edges = tiled(64, 32), tiled(64, 0)
    diff = np.abs(blended - expected).mean()
    assert diff < 0.02, diff
    assert (blended.argmax(0) == expected.argmax(0)).mean() > 0.97
    assert (blended.argmax(0) == labels).mean() > 0.9
    assert diff < np.abs(hard_edges - expected).mean()  # overlapping, blended tiles beat butt-joined ones
    # one tile covering the raster is the whole-image prediction
    np.testing.assert_allclose(tiled(128, 0), expected, atol=1e-5)


# -- outputs: georeferencing, palette, styles, nodata, AOI ---------------------------------------


def test_outputs_are_georeferenced_paletted_styled_with_nodata(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 90, 70)
    out = Outputs(tmp_path / "classes.tif", tmp_path / "confidence.tif", tmp_path / "entropy.tif",
                  tmp_path / "probs.tif")
    result = infer(checkpoint, composite, out, InferOptions(tile_size=32, overlap=8))
    assert result["output"] == str(tmp_path / "classes.tif")
    assert set(result) >= {"output_confidence", "output_entropy", "output_probabilities", "pixels_per_second"}
    src = gdal.Open(str(composite))
    ds = gdal.Open(str(tmp_path / "classes.tif"))
    assert ds.GetGeoTransform() == src.GetGeoTransform()
    assert osr.SpatialReference(ds.GetProjection()).IsSame(osr.SpatialReference(src.GetProjection()))
    band = ds.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == CLASS_NODATA
    assert band.GetCategoryNames()[:3] == ["wheat", "maize", "grassland"]
    assert band.GetColorTable().GetColorEntry(1)[:3] == (0x1B, 0x9E, 0x77)
    qml = (tmp_path / "classes.qml").read_text()
    assert 'label="maize"' in qml and "#1b9e77" in qml
    for name in ("confidence", "entropy", "probs"):
        assert (tmp_path / f"{name}.qml").is_file()
    classes = band.ReadAsArray()
    nodata = (src.ReadAsArray() == 0).any(axis=0)
    assert nodata.any() and (classes[nodata] == CLASS_NODATA).all() and (classes[~nodata] < 3).all()
    conf, ent = read(tmp_path / "confidence.tif"), read(tmp_path / "entropy.tif")
    probs = gdal.Open(str(tmp_path / "probs.tif")).ReadAsArray()
    assert (conf[nodata] == FLOAT_NODATA).all() and (ent[nodata] == FLOAT_NODATA).all()
    np.testing.assert_allclose(conf[~nodata], probs[:, ~nodata].max(0), atol=1e-6)
    assert (conf[~nodata] >= 1 / 3 - 1e-6).all() and (ent[~nodata] >= 0).all() and (ent[~nodata] <= 1).all()
    np.testing.assert_allclose(probs[:, ~nodata].sum(0), 1.0, atol=1e-5)
    pds = gdal.Open(str(tmp_path / "probs.tif"))
    assert [pds.GetRasterBand(k + 1).GetDescription() for k in range(3)] == ["wheat", "maize", "grassland"]
    assert not list(tmp_path.glob("*crops-tmp*"))


def test_entropy_is_normalised():
    np.testing.assert_allclose(normalised_entropy(np.full((4, 1, 1), 0.25, np.float32)), 1.0, atol=1e-6)
    np.testing.assert_allclose(normalised_entropy(np.array([1, 0, 0], np.float32).reshape(3, 1, 1)), 0.0,
                               atol=1e-6)


def test_extent_in_another_crs_limits_the_output_grid(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 80, 60, nodata_corner=False)
    # a window of columns 20..50, rows 10..40, given in geographic coordinates
    xmin, xmax = ORIGIN[0] + 200, ORIGIN[0] + 500
    ymin, ymax = ORIGIN[1] - 400, ORIGIN[1] - 100
    utm, wgs = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(EPSG)
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon0, lat0, lon1, lat1 = osr.CoordinateTransformation(utm, wgs).TransformBounds(xmin, ymin, xmax, ymax, 21)
    extent = parse_extent(f"{lon0!r},{lon1!r},{lat0!r},{lat1!r} [EPSG:4326]")
    infer(checkpoint, composite, Outputs(tmp_path / "aoi.tif"), InferOptions(tile_size=32, overlap=8, extent=extent))
    ds = gdal.Open(str(tmp_path / "aoi.tif"))
    gt = ds.GetGeoTransform()
    # the reprojected box is a little larger than the UTM one: at most a pixel or two each side
    assert ORIGIN[0] + 180 <= gt[0] <= ORIGIN[0] + 200 and ORIGIN[1] - 100 <= gt[3] <= ORIGIN[1] - 80
    assert 30 <= ds.RasterXSize <= 33 and 30 <= ds.RasterYSize <= 33


def test_mask_polygons_set_outside_to_nodata(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 80, 60, nodata_corner=False)
    gpkg = tmp_path / "aoi.gpkg"
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(EPSG)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(utm, wgs)
    # a triangle over columns 10..70, rows 5..55
    corners = [(10, 55), (70, 55), (40, 5), (10, 55)]
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for c, r in corners:
        x, y, _ = to_wgs.TransformPoint(ORIGIN[0] + 10 * c, ORIGIN[1] - 10 * r)
        ring.AddPoint_2D(x, y)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    vds = ogr.GetDriverByName("GPKG").CreateDataSource(str(gpkg))
    layer = vds.CreateLayer("area", wgs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(poly)
    layer.CreateFeature(feature)
    feature = layer = vds = None
    infer(checkpoint, composite, Outputs(tmp_path / "masked.tif"),
          InferOptions(tile_size=32, overlap=8, mask=f"{gpkg}|layername=area"))
    ds = gdal.Open(str(tmp_path / "masked.tif"))
    classes = ds.ReadAsArray()
    gt = ds.GetGeoTransform()
    # the output grid is cropped to the triangle's bounds (about 60 x 50 px)
    assert 59 <= ds.RasterXSize <= 62 and 49 <= ds.RasterYSize <= 52
    c0, r0 = round((gt[0] - ORIGIN[0]) / 10), round((ORIGIN[1] - gt[3]) / 10)
    inside = classes != CLASS_NODATA
    assert inside[40 - r0 + 0, 40 - c0] and not inside[8 - r0 + 0, 12 - c0]  # centre in, a top corner out
    assert 0.35 < inside.mean() < 0.65  # a triangle fills about half its box


def test_out_of_memory_halves_the_batch_and_retries(checkpoint):
    from crops_engine.checkpoint import load_model
    from crops_engine.infer import ModelPredictor

    model, _ = load_model(checkpoint)
    warnings = []
    progress = Progress(lambda event, payload: warnings.append(payload["text"]) if event == "log" else None)
    predictor = ModelPredictor(model, torch.device("cpu"), batch_size=8, progress=progress)
    per_pixel, sizes = pixel_softmax(), []

    def forward(batch):  # a device that holds at most 3 tiles
        sizes.append(len(batch))
        if len(batch) > 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return per_pixel(batch)

    predictor.forward = forward
    batch = np.random.default_rng(0).normal(size=(8, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(predictor(batch), per_pixel(batch), atol=1e-6)
    assert sizes == [8, 4, 2, 2, 2, 2] and predictor.batch_size == 2
    assert any("out of memory with 8 tiles" in w for w in warnings)
    predictor.forward = lambda batch: (_ for _ in ()).throw(torch.cuda.OutOfMemoryError("simulated"))
    with pytest.raises(CropsError, match="single tile"):
        predictor(batch[:1])


# -- bad input, cancel, CLI ---------------------------------------------------------------------


def test_wrong_features_are_a_clear_error(tmp_path, checkpoint):
    other = make_composite(tmp_path / "c.tif", 40, 40, names=["B04", "B08", "B12"])
    with pytest.raises(CropsError, match=r"missing \['B11'\].*extra \['B12'\]"):
        infer(checkpoint, other, Outputs(tmp_path / "x.tif"))
    two = make_composite(tmp_path / "two.tif", 40, 40, names=["B04", "B08"])
    with pytest.raises(CropsError, match=r"missing \['B11'\]"):
        infer(checkpoint, two, Outputs(tmp_path / "x.tif"))
    assert not (tmp_path / "x.tif").exists()


def test_tile_size_must_fit_the_model_stride(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 40, 40)
    with pytest.raises(CropsError, match="multiple of the model's stride 32: use e.g. 64"):
        infer(checkpoint, composite, Outputs(tmp_path / "x.tif"), InferOptions(tile_size=50))
    with pytest.raises(CropsError, match="OVERLAP"):
        infer(checkpoint, composite, Outputs(tmp_path / "x.tif"), InferOptions(tile_size=32, overlap=32))
    assert not list(tmp_path.glob("x*"))


def test_cancel_stops_threads_and_leaves_no_output(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 200, 200)
    events = []
    cancel = threading.Event()

    def reporter(event, payload):
        events.append(payload)
        if event == "progress" and payload.get("text", "").startswith("Tile"):
            cancel.set()  # the user cancels after the first batch

    out = Outputs(tmp_path / "classes.tif", tmp_path / "conf.tif")
    with pytest.raises(Cancelled):
        infer(checkpoint, composite, out, InferOptions(tile_size=32, overlap=8, batch_size=2),
              Progress(reporter, cancel))
    assert [p.name for p in tmp_path.iterdir()] == ["c.tif"]
    for thread in threading.enumerate():
        if thread.name.startswith("crops-infer"):
            thread.join(timeout=30)  # the model thread may finish the batch it had started
    alive = [t.name for t in threading.enumerate() if t.name.startswith("crops-infer")]
    assert alive == []


def test_cancel_is_seen_within_a_second_during_a_long_batch(tmp_path, checkpoint):
    composite = make_composite(tmp_path / "c.tif", 100, 100)
    per_pixel = pixel_softmax()
    started = threading.Event()

    def slow_predict(batch):  # a batch that takes 3 s, like a big CPU batch
        started.set()
        time.sleep(3.0)
        return per_pixel(batch)

    progress = Progress()
    cancelled_at = []

    def user():
        started.wait(10)
        time.sleep(0.2)
        cancelled_at.append(time.perf_counter())
        progress.cancel()

    threading.Thread(target=user, daemon=True).start()
    with pytest.raises(Cancelled):
        infer(checkpoint, composite, Outputs(tmp_path / "m.tif"), InferOptions(tile_size=32, overlap=8),
              progress, predict=slow_predict)
    assert time.perf_counter() - cancelled_at[0] < 1.0
    assert not (tmp_path / "m.tif").exists() and not list(tmp_path.glob("*crops-tmp*"))


def test_cli_runs_and_reports_outputs(tmp_path, checkpoint, capsys):
    composite = make_composite(tmp_path / "c.tif", 50, 40)
    code = main(["--json-events", "infer", "--model", str(checkpoint), "--input", str(composite),
                 "--tile-size", "32", "--overlap", "8", "--device", "cpu",
                 "--output", str(tmp_path / "m.tif"), "--output-entropy", str(tmp_path / "e.tif")])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0, lines[-1]
    result = lines[-1]
    assert result["event"] == "result"
    assert result["outputs"]["output"] == str(tmp_path / "m.tif")
    assert result["outputs"]["output_entropy"] == str(tmp_path / "e.tif")
    assert any(e["event"] == "progress" for e in lines)
    code = main(["infer", "--model", str(checkpoint), "--input", str(composite), "--tile-size", "40",
                 "--output", str(tmp_path / "n.tif")])
    assert code == 1 and not (tmp_path / "n.tif").exists()


# -- the sample target scene --------------------------------------------------------------------


@pytest.fixture(scope="module")
def target_composite(sample_pair, tmp_path_factory):
    """The generator's target scene composited (NDVI quality mosaic), with a hole of nodata punched in."""
    from crops_engine.composite import ndvi_quality_mosaic
    from crops_engine.scenes import load_scenes

    folder = tmp_path_factory.mktemp("target")
    scenes = load_scenes(folder=sample_pair / "target" / "scenes", pattern="S2_L2A_????????.tif")
    path = folder / "composite.tif"
    ndvi_quality_mosaic(scenes, path)
    ds = gdal.Open(str(path), gdal.GA_Update)
    for b in range(ds.RasterCount):
        band = ds.GetRasterBand(b + 1)
        data = band.ReadAsArray()
        data[90:110, 5:40] = band.GetNoDataValue()
        band.WriteArray(data)
    ds = None
    return path


@pytest.fixture(scope="module")
def target_checkpoint(target_composite, sample_pair, tmp_path_factory):
    from crops_engine.classes import read_classes_csv
    from crops_engine.features import feature_names

    names = feature_names(target_composite)
    raw = gdal.Open(str(target_composite)).ReadAsArray().astype(np.float64)
    valid = (raw != 0).all(axis=0)
    classes = read_classes_csv(sample_pair / "target" / "classes.csv")
    torch.manual_seed(1)
    model = build_model("unet", len(names), len(classes), encoder="resnet18", decoder_channels=(32, 16, 16, 8, 8),
                        embedding_dim=16)
    path = tmp_path_factory.mktemp("target_model") / "model.safetensors"
    save_checkpoint(path, model, {"features": names, "classes": classes, "block_size": 64, "nodata": 0,
                                  "normalisation": {"mean": raw[:, valid].mean(1).tolist(),
                                                    "std": raw[:, valid].std(1).tolist()}})
    return path, classes


def test_sample_target_scene_class_map(tmp_path, target_composite, target_checkpoint):
    checkpoint, classes = target_checkpoint
    out = Outputs(tmp_path / "map.tif", tmp_path / "confidence.tif")
    result = infer(checkpoint, target_composite, out, InferOptions(tile_size=64, overlap=16))
    src, ds = gdal.Open(str(target_composite)), gdal.Open(str(tmp_path / "map.tif"))
    assert (ds.RasterXSize, ds.RasterYSize) == (src.RasterXSize, src.RasterYSize)
    assert ds.GetGeoTransform() == src.GetGeoTransform()
    assert osr.SpatialReference(ds.GetProjection()).IsSame(osr.SpatialReference(src.GetProjection()))
    band = ds.GetRasterBand(1)
    names = band.GetCategoryNames()
    table = band.GetColorTable()
    for c in classes:
        assert names[c.value] == c.name
        r, g, b, _ = table.GetColorEntry(c.value)
        assert f"#{r:02x}{g:02x}{b:02x}" == c.colour.lower()
    classes_map = band.ReadAsArray()
    nodata = (src.ReadAsArray() == 0).any(axis=0)
    assert nodata[90:110, 5:40].all()
    assert (classes_map[nodata] == CLASS_NODATA).all()
    assert set(np.unique(classes_map[~nodata])) <= {c.value for c in classes}
    assert result["valid_pixels"] == int((~nodata).sum())
    assert (tmp_path / "map.qml").is_file() and (tmp_path / "confidence.qml").is_file()


def test_sample_target_scene_area_of_interest(tmp_path, target_composite, target_checkpoint):
    checkpoint, _ = target_checkpoint
    src = gdal.Open(str(target_composite))
    x0, dx, _, y0, _, dy = src.GetGeoTransform()
    # the drawn extent: columns 30..94, rows 20..60
    text = f"{x0 + 30 * dx},{x0 + 94 * dx},{y0 + 60 * dy},{y0 + 20 * dy} [EPSG:32631]"
    infer(checkpoint, target_composite, Outputs(tmp_path / "aoi.tif"),
          InferOptions(tile_size=32, overlap=8, extent=parse_extent(text)))
    ds = gdal.Open(str(tmp_path / "aoi.tif"))
    assert (ds.RasterXSize, ds.RasterYSize) == (64, 40)
    assert ds.GetGeoTransform() == (x0 + 30 * dx, dx, 0.0, y0 + 20 * dy, 0.0, dy)
    assert (ds.ReadAsArray() != CLASS_NODATA).all()

"""Sentinel-2 as users hold it: a miniature SAFE .zip, per-band COG folders and a STAC ItemCollection made from
the real Flanders scenes give the same composite as the GeoTIFF-per-date layout."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
from crops_engine.errors import CropsError
from crops_engine.products import BANDS, read_safe
from crops_engine.scenes import load_scenes

gdal.UseExceptions()
DATES = ("20190501", "20190506", "20190511", "20190610", "20190615")
TILE = "T31UES"


def _arrays(scene: Path) -> tuple[gdal.Dataset, np.ndarray, np.ndarray]:
    ds = gdal.Open(str(scene))
    return ds, ds.ReadAsArray(), gdal.Open(str(scene).replace(".tif", "_SCL.tif")).ReadAsArray()


def _write(path: Path, array: np.ndarray, ds: gdal.Dataset, factor: int, driver: str = "GTiff") -> None:
    """One band at 10 m (factor 1) or 20 m (factor 2: every 2nd pixel; the 20 m bands were repeated 2 x 2)."""
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    small = array[::factor, ::factor]
    mem = gdal.GetDriverByName("MEM").Create("", small.shape[1], small.shape[0], 1, gdal.GDT_UInt16)
    mem.SetGeoTransform((x0, dx * factor, 0, y0, 0, dy * factor))
    mem.SetProjection(ds.GetProjection())
    mem.GetRasterBand(1).WriteArray(small)
    options = ["QUALITY=100", "REVERSIBLE=YES"] if driver == "JP2OpenJPEG" else ["TILED=YES", "COMPRESS=DEFLATE"]
    gdal.GetDriverByName(driver).CreateCopy(str(path), mem, options=options)


def _factor(band: str) -> int:
    return 1 if band in ("B02", "B03", "B04", "B08") else 2


@pytest.fixture(scope="module")
def real(worldcereal, tmp_path_factory):
    """The GeoTIFF layout of a few dates, and the same dates as SAFE zips, band folders and a STAC collection."""
    src = worldcereal / "flanders2019_31UES" / "scenes"
    root = tmp_path_factory.mktemp("products")
    tif, safes, cogs = root / "tif", root / "safe", root / "cog"
    for folder in (tif, safes, cogs):
        folder.mkdir()
    features = []
    for day in DATES:
        scene = src / f"S2_L2A_{day}.tif"
        for name in (scene.name, scene.name.replace(".tif", "_SCL.tif")):
            (tif / name).write_bytes((src / name).read_bytes())
        ds, bands, scl = _arrays(scene)
        # a SAFE product, zipped, in the standard layout (JPEG 2000, lossless)
        stem = f"S2A_MSIL2A_{day}T104031_N0212_R008_{TILE}_{day}T125432"
        granule = f"{stem}.SAFE/GRANULE/L2A_{TILE}_A020000_{day}T104356/IMG_DATA"
        staging = root / "staging" / stem
        for i, band in enumerate(BANDS):
            res = 10 * _factor(band)
            out = staging / f"R{res}m" / f"{TILE}_{day}T104031_{band}_{res}m.jp2"
            out.parent.mkdir(parents=True, exist_ok=True)
            _write(out, bands[i], ds, _factor(band), "JP2OpenJPEG")
        scl_out = staging / "R20m" / f"{TILE}_{day}T104031_SCL_20m.jp2"
        _write(scl_out, scl, ds, 2, "JP2OpenJPEG")
        with zipfile.ZipFile(safes / f"{stem}.SAFE.zip", "w") as z:
            z.writestr(f"{stem}.SAFE/MTD_MSIL2A.xml", (
                "<?xml version='1.0' encoding='UTF-8'?><n1:Level-2A_User_Product xmlns:n1='https://psd-14.sentinel2'>"
                f"<n1:General_Info><Product_Info><PRODUCT_START_TIME>{day[:4]}-{day[4:6]}-{day[6:]}T10:40:31.024Z"
                "</PRODUCT_START_TIME><PROCESSING_BASELINE>02.12</PROCESSING_BASELINE></Product_Info>"
                "</n1:General_Info></n1:Level-2A_User_Product>"))
            for f in sorted(staging.rglob("*.jp2")):
                z.write(f, f"{granule}/{f.relative_to(staging)}")
        # a folder of per-band COGs with its STAC item beside
        item_dir = cogs / f"S2A_{TILE[1:]}_{day}_0_L2A"
        item_dir.mkdir()
        assets = {}
        for i, band in enumerate(BANDS):
            _write(item_dir / f"{band}.tif", bands[i], ds, _factor(band), "COG")
            assets[band] = {"href": f"./{band}.tif", "type": "image/tiff; application=geotiff"}
        _write(item_dir / "SCL.tif", scl, ds, 2, "COG")
        assets["SCL"] = {"href": "./SCL.tif", "type": "image/tiff; application=geotiff"}
        x0, dx, _, y0, _, dy = ds.GetGeoTransform()
        feature = {
            "type": "Feature", "stac_version": "1.0.0", "id": f"S2A_{TILE[1:]}_{day}_0_L2A",
            "geometry": {"type": "Polygon", "coordinates": [[[3.9, 50.7], [4.0, 50.7], [4.0, 50.8], [3.9, 50.7]]]},
            "bbox": [3.9, 50.7, 4.0, 50.8],
            "properties": {"datetime": f"{day[:4]}-{day[4:6]}-{day[6:]}T10:40:31Z", "s2:processing_baseline": "02.12"},
            "links": [], "assets": {k: {**v, "href": str((item_dir / v["href"][2:]).resolve())}
                                    for k, v in assets.items()},
        }
        (item_dir / "item.json").write_text(json.dumps({**feature, "assets": assets}))
        features.append(feature)
    collection = root / "items.json"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return {"tif": tif, "safe": safes, "cog": cogs, "stac": collection, "root": root}


def composite(scenes, path: Path) -> np.ndarray:
    ndvi_quality_mosaic(scenes, path, CompositeOptions(workers=1))
    ds = gdal.Open(str(path))
    data = ds.ReadAsArray()
    ds = None
    return data


@pytest.fixture(scope="module")
def reference(real):
    return composite(load_scenes(folder=real["tif"], pattern="S2_L2A_????????.tif"), real["root"] / "ref.tif")


@pytest.mark.parametrize("form", ["safe", "cog", "stac"])
def test_products_give_the_composite_of_the_geotiff_layout(real, reference, form, tmp_path):
    scenes = load_scenes([real["stac"]]) if form == "stac" else load_scenes(folder=real[form])
    assert [s.date.strftime("%Y%m%d") for s in scenes] == list(DATES)
    assert all(s.mask is not None for s in scenes)
    got = composite(scenes, tmp_path / f"{form}.tif")
    assert got.shape == reference.shape
    assert np.array_equal(got, reference)
    ds = gdal.Open(str(scenes[0].path))
    assert [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)] == list(BANDS)


def test_a_safe_product_says_its_date_and_offset(real, tmp_path):
    product = read_safe(sorted(real["safe"].glob("*.zip"))[0])
    assert product.acquired.strftime("%Y%m%d") == DATES[0] and product.boa_add_offset is None
    assert len(product.granules) == 1 and set(product.granules[0].files) == {*BANDS, "SCL"}
    # processing baseline 04.00+: the metadata's BOA_ADD_OFFSET reaches the scene's DN offsets
    src = sorted(real["safe"].glob("*.zip"))[0]
    shifted = tmp_path / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(shifted, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("MTD_MSIL2A.xml"):
                data = data.replace(b"</Product_Info>", b"<BOA_ADD_OFFSET_VALUES_LIST><BOA_ADD_OFFSET band_id='0'>"
                                    b"-1000</BOA_ADD_OFFSET></BOA_ADD_OFFSET_VALUES_LIST></Product_Info>")
            zout.writestr(info, data)
    (scene,) = load_scenes([shifted])
    assert scene.dn_offsets == (-1000.0,) * len(BANDS)


def test_two_tiles_of_one_date_are_one_mosaicked_scene(real, tmp_path):
    """The band folder split into its west and east halves (two 'tiles') gives the whole scene back."""
    src = sorted(real["cog"].iterdir())[0]
    halves = []
    for name, xoff in (("west", 0), ("east", 32)):
        folder = tmp_path / f"{src.name}_{name}"
        folder.mkdir()
        for f in src.glob("*.tif"):
            ds = gdal.Open(str(f))
            px = xoff // (64 // ds.RasterXSize)
            gdal.Translate(str(folder / f.name), ds, srcWin=[px, 0, ds.RasterXSize // 2, ds.RasterYSize])
        halves.append(folder)
    (scene,) = load_scenes(halves)
    whole = load_scenes([src])[0]
    a = gdal.Open(str(scene.path)).ReadAsArray()
    b = gdal.Open(str(whole.path)).ReadAsArray()
    assert np.array_equal(a, b)


def test_incomplete_products_are_clear_errors(real, tmp_path):
    broken = tmp_path / "S2A_MSIL2A_20190501T104031_N0212_R008_T31UES_20190501T125432.SAFE.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("x.SAFE/readme.txt", "nothing")
    with pytest.raises(CropsError, match="MTD_MSIL2A.xml"):
        load_scenes([broken])
    partial = tmp_path / "S2A_31UES_20190501_0_L2A"
    partial.mkdir()
    (partial / "B02.tif").write_bytes((next(real["cog"].iterdir()) / "B02.tif").read_bytes())
    with pytest.raises(CropsError, match="lacks the bands"):
        load_scenes([partial])


def test_safe_zips_through_qgis_process(qgis_process, real, reference, tmp_path):
    out = tmp_path / "from_qgis.tif"
    qgis_process("crops:ndvi_qm", FOLDER=real["safe"], OUTPUT=out)
    ds = gdal.Open(str(out))
    assert np.array_equal(ds.ReadAsArray(), reference)

"""Sentinel-2 L2A as users download it: SAFE products (folder or .zip), per-band COG folders, STAC items.

Each product becomes a `scenes.Scene` like a GeoTIFF-per-date one: a VRT (GDAL's virtual raster) that
stacks the ten bands B02 B03 B04 B05 B06 B07 B08 B8A B11 B12 on the 10 m grid of B02 (the 20 m bands
resampled with RESAMPLING, nearest by default, which keeps every 20 m value as it is), and a VRT of
the scene classification (SCL, 20 m, nearest) as its cloud mask. Nothing is copied: the VRTs point at
the product's files (`/vsizip/` inside a .zip, `/vsicurl/` for remote STAC hrefs). The acquisition
time and the processing baseline's BOA_ADD_OFFSET come from the product's metadata (MTD_MSIL2A.xml,
the STAC item's `datetime` and `s2:boa_add_offset` / `earthsearch:boa_offset_applied`). Several
granules (tiles) of one date are mosaicked into one scene (warped to the first's CRS when the tiles
lie in different UTM zones).

A SAFE product is read by its standard layout (GRANULE/*/IMG_DATA/R10m|R20m/*_Bxx_10m|20m.jp2) and
its MTD_MSIL2A.xml rather than through GDAL's SENTINEL2 driver, whose subdatasets split the bands by
resolution and fix their resampling: here the band order and the resampling are the project's own.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from osgeo import gdal

from .errors import CropsError
from .scenes import Scene, _parse_datetime

gdal.UseExceptions()

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
MASK = "SCL"
RESOLUTION = {"B02": 10, "B03": 10, "B04": 10, "B08": 10, "SCL": 20}  # the others: 20 m
# STAC asset keys for each band: the band name itself (Planetary Computer, CDSE) or Earth Search's common names.
STAC_KEYS = {
    "B02": ("B02", "blue"), "B03": ("B03", "green"), "B04": ("B04", "red"), "B05": ("B05", "rededge1"),
    "B06": ("B06", "rededge2"), "B07": ("B07", "rededge3"), "B08": ("B08", "nir"), "B8A": ("B8A", "nir08"),
    "B11": ("B11", "swir16"), "B12": ("B12", "swir22"), "SCL": ("SCL", "scl"),
}
RESAMPLINGS = ("near", "bilinear", "cubic", "average", "mode")


@dataclass(frozen=True)
class Granule:
    """One tile of one acquisition: a GDAL path per band (and SCL)."""

    files: dict[str, str]


@dataclass(frozen=True)
class Product:
    """One acquisition as held: its granules, when it was taken, its BOA_ADD_OFFSET (DN), where it came from."""

    source: str
    acquired: datetime
    granules: tuple[Granule, ...]
    boa_add_offset: float | None = None


def is_product(path: str | os.PathLike[str]) -> bool:
    """A SAFE folder or .zip, a per-band folder (B02.tif ...), or a STAC item / collection (.json)."""
    p = Path(path)
    name = p.name.lower()
    if p.is_dir():
        return name.endswith(".safe") or (p / "MTD_MSIL2A.xml").is_file() or _band_file(p, "B02") is not None
    return p.is_file() and (name.endswith(".safe.zip") or (name.endswith(".zip") and "msil2a" in name)
                            or (name.endswith(".json") and _is_stac(p)))


STAC_PEEK_BYTES = 1 << 16  # a STAC document (or its first item) names its version near the top


def _is_stac(path: Path) -> bool:
    """A JSON file that says it is STAC (`stac_version` near its start): not a run record, notes or a marker file
    a user keeps beside the scenes."""
    try:
        with path.open("rb") as fh:
            head = fh.read(STAC_PEEK_BYTES)
    except OSError:
        return False
    return b'"stac_version"' in head


def find_products(folder: str | os.PathLike[str]) -> list[Path]:
    """The products directly in `folder` (SAFE folders and zips, per-band folders, STAC JSON files)."""
    return sorted(p for p in Path(folder).iterdir() if is_product(p))


# -- reading products ------------------------------------------------------------------------------


def _band_file(folder: Path, band: str) -> Path | None:
    for ext in (".tif", ".tiff", ".TIF", ".jp2"):
        for name in (band, band.lower()):
            if (folder / f"{name}{ext}").is_file():
                return folder / f"{name}{ext}"
    return None


def _read_xml(path: str) -> ET.Element:
    try:
        if path.startswith("/vsi"):
            f = gdal.VSIFOpenL(path, "rb")
            if f is None:
                raise OSError(path)
            try:
                data = gdal.VSIFReadL(1, 1 << 26, f)
            finally:
                gdal.VSIFCloseL(f)
            return ET.fromstring(data)
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError, RuntimeError) as exc:
        raise CropsError(f"Cannot read the product metadata {path} ({exc}): the SAFE product is incomplete or "
                         "damaged; download it again.") from None


def _find_text(root: ET.Element, tag: str) -> str | None:
    for element in root.iter():
        if element.tag.split("}")[-1] == tag and element.text:
            return element.text.strip()
    return None


def _walk(root: str) -> list[str]:
    """Every file below `root` (a folder or a /vsizip/ path), as GDAL paths."""
    found = []
    for entry in gdal.ReadDirRecursive(root) or []:
        if not entry.endswith("/"):
            found.append(f"{root.rstrip('/')}/{entry}")
    return found


def read_safe(path: str | os.PathLike[str]) -> Product:
    """A SAFE product (folder, or .zip read in place through /vsizip/)."""
    p = Path(path)
    root = f"/vsizip/{p.resolve()}" if p.is_file() else str(p.resolve())
    files = _walk(root)
    metadata = [f for f in files if f.endswith("MTD_MSIL2A.xml")]
    if not metadata:
        raise CropsError(f"{path} holds no MTD_MSIL2A.xml: give a Sentinel-2 L2A SAFE product (folder or .zip).")
    meta = _read_xml(metadata[0])
    when = _parse_datetime(_find_text(meta, "PRODUCT_START_TIME") or "")
    if when is None:
        raise CropsError(f"{metadata[0]} names no PRODUCT_START_TIME: the product's date is unknown.")
    offset = _find_text(meta, "BOA_ADD_OFFSET")
    granules: dict[str, dict[str, str]] = {}
    pattern = re.compile(r"/GRANULE/([^/]+)/IMG_DATA/R(10|20)m/[^/]*_(B\d[\dA]|SCL)_(10|20)m\.jp2$", re.I)
    for f in files:
        m = pattern.search(f)
        if m is None:
            continue
        band, res = m.group(3).upper(), int(m.group(2))
        if res == RESOLUTION.get(band, 20):
            granules.setdefault(m.group(1), {})[band] = f
    if not granules:
        raise CropsError(f"{path} holds no GRANULE/*/IMG_DATA/R10m or R20m band files: the product is incomplete.")
    return Product(str(path), when, tuple(Granule(g) for _, g in sorted(granules.items())),
                   float(offset) if offset else None)


def read_band_folder(path: str | os.PathLike[str]) -> Product:
    """A folder per acquisition holding B02.tif ... B12.tif and SCL.tif (as cloud archives lay them out)."""
    folder = Path(path)
    files = {band: str(f) for band in (*BANDS, MASK) if (f := _band_file(folder, band)) is not None}
    item = next((p for p in folder.glob("*.json")), None)
    when = None
    offset = None
    if item is not None:
        try:
            doc = json.loads(item.read_text(encoding="utf-8"))
            props = doc.get("properties", {})
            when = _parse_datetime(str(props.get("datetime", "")))
            offset = _stac_offset(props)
        except (OSError, ValueError, AttributeError):
            when = None
    if when is None:
        when = _date_in(folder.name) or _band_metadata_time(files.get("B02"))
    if when is None:
        raise CropsError(f"The band folder {folder} does not say when it was acquired: name it with the date "
                         "(e.g. 20190601 or S2A_31UES_20190601_0_L2A) or put its STAC item (.json) beside the bands.")
    return Product(str(folder), when, (Granule(files),), offset)


def _date_in(name: str) -> datetime | None:
    m = re.search(r"(\d{8})(T\d{6})?", name)
    return _parse_datetime(m.group(0)) if m else None


def _band_metadata_time(path: str | None) -> datetime | None:
    if path is None:
        return None
    from .scenes import date_from_metadata

    ds = gdal.Open(path)
    return date_from_metadata(ds.GetMetadata() or {})


def _stac_offset(props: dict) -> float | None:
    """The DN offset still in the data: `s2:boa_add_offset`-style values, none when the archive applied it."""
    if props.get("earthsearch:boa_offset_applied") is True:
        return None
    for key in ("s2:boa_add_offset", "boa_add_offset"):
        if key in props and props[key] is not None:
            return float(props[key])
    baseline = str(props.get("s2:processing_baseline", ""))
    return -1000.0 if baseline and baseline >= "04.00" else None


def _href(href: str, base: Path) -> str:
    if href.startswith(("http://", "https://")):
        return f"/vsicurl/{href}"
    if href.startswith("s3://"):
        return f"/vsis3/{href[5:]}"
    if href.startswith("file://"):
        href = href[7:]
    p = Path(href)
    return str(p if p.is_absolute() else (base / p).resolve())


def read_stac(path: str | os.PathLike[str]) -> list[Product]:
    """The Sentinel-2 items of a STAC Item, ItemCollection or Catalog file (read with pystac)."""
    try:
        import pystac
    except ImportError:
        raise CropsError("Reading STAC needs the pystac package in the engine Python: pip install pystac.") from None
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CropsError(f"{p} is not a readable STAC JSON file ({exc}).") from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    try:
        if kind == "Feature":
            items = [pystac.Item.from_dict(doc)]
        elif kind == "FeatureCollection":
            items = list(pystac.ItemCollection.from_dict(doc))
        elif kind in ("Catalog", "Collection"):
            items = list(pystac.read_file(str(p)).get_items(recursive=True))
        else:
            raise CropsError(f"{p} is no STAC Item, ItemCollection or Catalog (type {kind!r}).")
    except (pystac.STACError, KeyError, ValueError) as exc:
        raise CropsError(f"{p} is not valid STAC ({exc}).") from None
    products = []
    for item in items:
        files = {}
        for band, keys in STAC_KEYS.items():
            asset = next((item.assets[k] for k in keys if k in item.assets), None)
            if asset is not None:
                files[band] = _href(asset.href, p.parent)
        when = item.datetime or _parse_datetime(str(item.properties.get("start_datetime", "")))
        if when is None:
            raise CropsError(f"The STAC item {item.id} in {p} has no datetime.")
        products.append(Product(f"{p}#{item.id}", when.replace(tzinfo=None), (Granule(files),),
                                _stac_offset(item.properties)))
    return products


def read_products(path: str | os.PathLike[str]) -> list[Product]:
    """The acquisitions one path holds (one, or several for a STAC collection)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return read_stac(p)
    if p.is_dir() and not p.name.lower().endswith(".safe") and not (p / "MTD_MSIL2A.xml").is_file():
        return [read_band_folder(p)]
    return [read_safe(p)]


# -- products as scenes ----------------------------------------------------------------------------------


class _VrtFolder:
    """A temporary folder for the VRTs of this process (removed at exit)."""

    path: Path | None = None

    @classmethod
    def get(cls) -> Path:
        if cls.path is None:
            cls.path = Path(tempfile.mkdtemp(prefix="crops-products-"))
            atexit.register(shutil.rmtree, cls.path, True)
        return cls.path


def _check_bands(product: Product, granule: Granule) -> None:
    missing = [b for b in BANDS if b not in granule.files]
    if missing:
        raise CropsError(f"{product.source} lacks the bands {', '.join(missing)}; a CROPS scene needs all of "
                         f"{', '.join(BANDS)} (the SCL mask too, unless MASK_SUFFIX is empty).")


def _open(path: str, product: Product) -> gdal.Dataset:
    try:
        return gdal.Open(path)
    except RuntimeError as exc:
        raise CropsError(f"Cannot read {path} of {product.source} ({exc}); download the product again.") from None


def _band_vrt(product: Product, band: str, resampling: str, token: str) -> str:
    """One band of the acquisition on the 10 m grid of B02: granules mosaicked, 20 m bands resampled."""
    folder = _VrtFolder.get()
    reference = [_open(g.files["B02"], product) for g in product.granules]
    crs = reference[0].GetProjection()
    sources = [g.files[band] for g in product.granules]
    out = str(folder / f"{token}_{band}.vrt")
    same_crs = all(ds.GetProjection() == crs for ds in reference)
    gt = reference[0].GetGeoTransform()
    if same_crs:
        xs = [ds.GetGeoTransform()[0] for ds in reference]
        ys = [ds.GetGeoTransform()[3] for ds in reference]
        xe = [ds.GetGeoTransform()[0] + ds.RasterXSize * gt[1] for ds in reference]
        ye = [ds.GetGeoTransform()[3] + ds.RasterYSize * gt[5] for ds in reference]
        bounds = (min(xs), min(ye), max(xe), max(ys))
        gdal.BuildVRT(out, sources, outputBounds=bounds, xRes=gt[1], yRes=abs(gt[5]), resampleAlg=resampling)
    else:
        gdal.Warp(out, sources, format="VRT", dstSRS=crs, xRes=gt[1], yRes=abs(gt[5]), resampleAlg=resampling,
                  targetAlignedPixels=True)
    return out


def product_scene(product: Product, resampling: str = "near", with_mask: bool = True) -> Scene:
    """The Scene of one acquisition: a 10-band VRT on the 10 m grid, and its SCL VRT as the mask."""
    if resampling not in RESAMPLINGS:
        raise CropsError(f"RESAMPLING {resampling!r} is not one of {', '.join(RESAMPLINGS)}.")
    for granule in product.granules:
        _check_bands(product, granule)
        if with_mask and MASK not in granule.files:
            raise CropsError(f"{product.source} has no scene classification (SCL): leave MASK_SUFFIX empty to "
                             "composite without a cloud mask, or use a product that has one.")
    token = f"{product.acquired:%Y%m%dT%H%M%S}_{abs(hash(product.source)) % 10**8:08d}"
    bands = [_band_vrt(product, band, resampling, token) for band in BANDS]
    folder = _VrtFolder.get()
    stack = str(folder / f"S2_L2A_{token}.vrt")
    ds = gdal.BuildVRT(stack, bands, separate=True)
    for i, band in enumerate(BANDS):
        ds.GetRasterBand(i + 1).SetDescription(band)
        ds.GetRasterBand(i + 1).SetNoDataValue(0)
    ds.SetMetadataItem("ACQUISITION_DATE", product.acquired.isoformat(timespec="seconds"))
    ds.SetMetadataItem("CROPS_PRODUCT", product.source)
    if product.boa_add_offset is not None:
        ds.SetMetadataItem("BOA_ADD_OFFSET", f"{product.boa_add_offset:g}")
    ds = None
    mask = Path(_band_vrt(product, MASK, "near", token)) if with_mask else None
    offsets = (product.boa_add_offset,) * len(BANDS) if product.boa_add_offset is not None else ()
    return Scene(Path(stack), product.acquired, mask, offsets)


def product_scenes(path: str | os.PathLike[str], resampling: str = "near", with_mask: bool = True) -> list[Scene]:
    """The scenes of one product path (a STAC collection can hold many)."""
    return [product_scene(p, resampling, with_mask) for p in read_products(path)]


def _mosaic(out: str, sources: list[str], resampling: str) -> None:
    first = gdal.Open(sources[0])
    crs, gt = first.GetProjection(), first.GetGeoTransform()
    if all(gdal.Open(s).GetProjection() == crs for s in sources):
        gdal.BuildVRT(out, sources, resampleAlg=resampling)
    else:  # tiles of one date in two UTM zones: warped onto the first one's CRS and pixel size
        gdal.Warp(out, sources, format="VRT", dstSRS=crs, xRes=gt[1], yRes=abs(gt[5]), resampleAlg=resampling,
                  targetAlignedPixels=True)


def mosaic_scenes(scenes: list[Scene]) -> Scene:
    """One scene of one date from the scenes of several tiles (products) of that date."""
    folder = _VrtFolder.get()
    first = scenes[0]
    token = f"{first.acquired:%Y%m%dT%H%M%S}_mosaic_{abs(hash(tuple(str(s.path) for s in scenes))) % 10**8:08d}"
    stack = str(folder / f"S2_L2A_{token}.vrt")
    _mosaic(stack, [str(s.path) for s in scenes], "near")
    ds = gdal.Open(stack, gdal.GA_Update)
    for i, band in enumerate(BANDS):
        ds.GetRasterBand(i + 1).SetDescription(band)
        ds.GetRasterBand(i + 1).SetNoDataValue(0)
    ds.SetMetadataItem("ACQUISITION_DATE", first.acquired.isoformat(timespec="seconds"))
    ds = None
    mask = None
    if all(s.mask is not None for s in scenes):
        mask = str(folder / f"S2_L2A_{token}_SCL.vrt")
        _mosaic(mask, [str(s.mask) for s in scenes], "near")
    return Scene(Path(stack), first.acquired, Path(mask) if mask else None, first.dn_offsets)

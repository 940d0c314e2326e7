"""Scenes of a time series: one multi-band raster per acquisition, its date, mask and offsets.

A user holds a folder of GeoTIFFs (or layers in QGIS, which are files too). Each must say
when it was acquired: `ACQUISITION_DATE`-style metadata first, else a `YYYYMMDD` in the
file name, else a CropsError that names the file. A companion cloud mask sits beside a
scene with the same name plus a suffix (Sen2Cor's `_SCL` by default). Sentinel-2
processing baseline 04.00+ shifts DNs by `BOA_ADD_OFFSET` (-1000); scenes that carry that
metadata (or a GDAL band offset) keep it here so NDVI is computed on true reflectance.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from osgeo import gdal

from .errors import CropsError
from .raster import open_raster

DEFAULT_MASK_SUFFIX = "_SCL"

# Metadata items that hold an acquisition date or time, most specific first (case-insensitive).
DATE_KEYS = (
    "ACQUISITION_DATE",
    "ACQUISITION_DATETIME",
    "ACQUISITION_TIME",
    "DATE_ACQUIRED",
    "SENSING_TIME",
    "SENSING_DATE",
    "SENSING_START",
    "DATATAKE_1_DATATAKE_SENSING_START",
    "DATATAKE_SENSING_START",
    "PRODUCT_START_TIME",
    "START_DATETIME",
    "DATETIME_ACQUIRED",
)
_DATE_VALUE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?)?")
_DATE_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)")
# Metadata items holding an additive DN offset (ESA: reflectance = (DN + offset) / 10000).
OFFSET_KEYS = ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET", "ADD_OFFSET")
_MASK_EXTENSIONS = (".tif", ".tiff", ".TIF", ".TIFF", ".jp2", ".vrt", ".img")


@dataclass(frozen=True)
class Scene:
    """One acquisition: the raster, when it was taken, its cloud mask and per-band DN offsets.

    `dn_offsets[i]` is the additive offset of band i+1 in DN (-1000 for Sentinel-2 baseline
    04.00+), None where the scene does not say; empty when no band says.
    """

    path: Path
    acquired: datetime
    mask: Path | None = None
    dn_offsets: tuple[float | None, ...] = field(default=())

    @property
    def date(self) -> date:
        return self.acquired.date()

    def dn_offset(self, band: int) -> float | None:
        """Offset of 1-based `band` from the scene's metadata, or None."""
        if 1 <= band <= len(self.dn_offsets):
            return self.dn_offsets[band - 1]
        return None


def _parse_datetime(text: str) -> datetime | None:
    m = _DATE_VALUE.search(text.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss = m.groups()
    try:
        return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None


def date_from_metadata(metadata: dict[str, str]) -> datetime | None:
    """The acquisition time from `ACQUISITION_DATE`-style metadata, None when absent."""
    upper = {k.upper(): v for k, v in (metadata or {}).items()}
    keys = [k for k in DATE_KEYS if k in upper]
    keys += sorted(k for k in upper if "ACQUISITION" in k and ("DATE" in k or "TIME" in k) and k not in keys)
    for key in keys:
        value = _parse_datetime(str(upper[key]))
        if value is not None:
            return value
    return None


def date_from_name(path: str | os.PathLike[str]) -> datetime | None:
    """The first valid `YYYYMMDD` in the file name (not the folder), None when there is none."""
    for m in _DATE_IN_NAME.finditer(Path(path).name):
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def acquisition_time(path: str | os.PathLike[str], metadata: dict[str, str] | None = None) -> datetime:
    """Metadata first, then the file name; a CropsError naming the file when neither says."""
    if metadata is None:
        metadata = open_raster(path).GetMetadata() or {}
    found = date_from_metadata(metadata) or date_from_name(path)
    if found is None:
        raise CropsError(
            f"Cannot tell when {path} was acquired: it has no ACQUISITION_DATE metadata and no "
            "YYYYMMDD date in its file name. Rename it (e.g. S2_20190615.tif) or set the metadata "
            "(gdal_edit.py -mo ACQUISITION_DATE=2019-06-15 FILE)."
        )
    return found


def _float_or_none(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def band_dn_offsets(ds: gdal.Dataset) -> tuple[float | None, ...]:
    """Per-band additive DN offsets a scene declares; () when it declares none.

    Looked up per band in: band metadata `*ADD_OFFSET`; dataset metadata
    `BOA_ADD_OFFSET_<band description>`; dataset metadata `BOA_ADD_OFFSET` (all bands);
    a GDAL band offset/scale pair (offset / scale, in DN).
    """
    ds_meta = {k.upper(): v for k, v in (ds.GetMetadata() or {}).items()}
    offsets: list[float | None] = []
    for i in range(ds.RasterCount):
        band = ds.GetRasterBand(i + 1)
        band_meta = {k.upper(): v for k, v in (band.GetMetadata() or {}).items()}
        desc = (band.GetDescription() or "").upper()
        value = None
        for key, text in band_meta.items():
            if key.endswith("ADD_OFFSET"):
                value = _float_or_none(text)
                break
        if value is None and desc:
            for key in OFFSET_KEYS:
                value = _float_or_none(ds_meta.get(f"{key}_{desc}"))
                if value is not None:
                    break
        if value is None:
            for key in OFFSET_KEYS:
                value = _float_or_none(ds_meta.get(key))
                if value is not None:
                    break
        if value is None:
            gdal_offset, gdal_scale = band.GetOffset(), band.GetScale()
            if gdal_offset and gdal_scale:
                value = gdal_offset / gdal_scale
        offsets.append(value)
    return tuple(offsets) if any(v is not None for v in offsets) else ()


def companion_mask(scene: str | os.PathLike[str], suffix: str = DEFAULT_MASK_SUFFIX) -> Path | None:
    """`dir/name<suffix>.<ext>` beside `dir/name.<ext>` (same extension first), None if absent."""
    scene = Path(scene)
    if not suffix:
        return None
    extensions = [scene.suffix] + [e for e in _MASK_EXTENSIONS if e != scene.suffix]
    for ext in extensions:
        candidate = scene.with_name(scene.stem + suffix + ext)
        if candidate.is_file():
            return candidate
    return None


def find_scene_files(
    folder: str | os.PathLike[str],
    pattern: str = "*.tif",
    mask_suffix: str = DEFAULT_MASK_SUFFIX,
) -> list[Path]:
    """Files in `folder` matching the glob `pattern`, without the masks (names ending in the suffix)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CropsError(f"Scene folder not found: {folder}. Check the FOLDER path.")
    files = sorted(p for p in folder.glob(pattern or "*.tif") if p.is_file())
    files = [p for p in files if not p.name.endswith((".aux.xml", ".ovr", ".qml", ".msk"))]
    if mask_suffix:
        files = [p for p in files if not p.stem.endswith(mask_suffix)]
    if not files:
        raise CropsError(f"No scene in {folder} matches the pattern {pattern!r}; check FOLDER and PATTERN.")
    return files


def read_scene(path: str | os.PathLike[str], mask_suffix: str | None = None) -> Scene:
    """A Scene from one file; with `mask_suffix`, its companion mask must exist."""
    path = Path(path)
    ds = open_raster(path)
    acquired = acquisition_time(path, ds.GetMetadata() or {})
    offsets = band_dn_offsets(ds)
    mask = required_mask(path, mask_suffix) if mask_suffix else None
    return Scene(path, acquired, mask, offsets)


def required_mask(path: Path, mask_suffix: str) -> Path:
    """The companion mask of `path`, or a CropsError that says how to point at it."""
    mask = companion_mask(path, mask_suffix)
    if mask is None:
        raise CropsError(
            f"No cloud mask {path.stem}{mask_suffix}{path.suffix} beside scene {path}. Put the mask "
            "there, set MASK_SUFFIX to the suffix your masks use, set MASK_BAND if the mask is a band "
            "of the scene, or leave MASK_SUFFIX empty to composite without a cloud mask."
        )
    return mask


def in_date_window(scene: Scene, start: date | None, end: date | None) -> bool:
    return (start is None or scene.date >= start) and (end is None or scene.date <= end)


def load_scenes(
    files: Iterable[str | os.PathLike[str]] = (),
    folder: str | os.PathLike[str] | None = None,
    pattern: str = "*.tif",
    mask_suffix: str | None = DEFAULT_MASK_SUFFIX,
    start: date | None = None,
    end: date | None = None,
    resampling: str = "near",
) -> list[Scene]:
    """Scenes from files and/or a folder + pattern, in acquisition order, within [start, end].

    Sentinel-2 products (SAFE folders or zips, per-band folders, STAC items: `products`) are read too, their
    20 m bands put on the 10 m grid with `resampling`, granules of one date mosaicked.

    Masks are looked up only for scenes inside the date window, so a missing mask of an
    unused date is no error. A CropsError when nothing is given or nothing is left.
    """
    from .products import find_products, is_product, product_scenes

    paths = [Path(f) for f in files if str(f).strip()]
    products = [p for p in paths if is_product(p)]
    paths = [p for p in paths if p not in products]
    if folder and Path(folder).is_dir() and find_products(folder):
        products += find_products(folder)  # SAFE products, band folders or STAC items, not GeoTIFFs per date
    elif folder:
        paths += find_scene_files(folder, pattern, mask_suffix or "")
    if products:
        from_products = merge_dates([s for p in products for s in product_scenes(p, resampling, bool(mask_suffix))])
        if paths:
            raise CropsError("Give scenes either as products (SAFE, band folders, STAC) or as one raster per date, "
                             "not both in one run.")
        return select_dates(from_products, start, end)
    if not paths:
        raise CropsError("No scenes given: pass SCENES (files or layers) or a FOLDER with a PATTERN.")
    seen: set[Path] = set()
    unique = []
    for p in paths:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    scenes = sorted((read_scene(p) for p in unique), key=lambda s: (s.acquired, str(s.path)))
    kept = select_dates(scenes, start, end)
    if mask_suffix:
        kept = [replace(s, mask=required_mask(s.path, mask_suffix)) for s in kept]
    return kept


def merge_dates(scenes: Sequence[Scene]) -> list[Scene]:
    """Scenes of one acquisition date held as several products (tiles) become one mosaic."""
    from .products import mosaic_scenes

    by_date: dict[date, list[Scene]] = {}
    for scene in scenes:
        by_date.setdefault(scene.date, []).append(scene)
    return [group[0] if len(group) == 1 else mosaic_scenes(group) for _, group in sorted(by_date.items())]


def select_dates(scenes: Sequence[Scene], start: date | None, end: date | None) -> list[Scene]:
    """Scenes within [start, end] in acquisition order; a CropsError if none is."""
    if start and end and start > end:
        raise CropsError(f"START_DATE {start} is after END_DATE {end}; swap them.")
    ordered = sorted(scenes, key=lambda s: (s.acquired, str(s.path)))
    kept = [s for s in ordered if in_date_window(s, start, end)]
    if not kept:
        span = f"the scenes span {ordered[0].date} .. {ordered[-1].date}" if ordered else "no scenes were given"
        raise CropsError(
            f"No scene falls between {start or 'the first date'} and {end or 'the last date'} ({span}); "
            "widen START_DATE / END_DATE or add scenes."
        )
    return kept


def parse_date(text: str | date | None) -> date | None:
    """`YYYY-MM-DD` (or `YYYYMMDD`, or an ISO date-time) -> date; '' / None -> None."""
    if text is None or isinstance(text, date):
        return text.date() if isinstance(text, datetime) else text
    text = str(text).strip()
    if not text:
        return None
    value = _parse_datetime(text)
    if value is None or not re.fullmatch(r"\d{4}-?\d{2}-?\d{2}([T ].*)?", text):
        raise CropsError(f"{text!r} is not a date; write it as YYYY-MM-DD.")
    return value.date()

"""Writing synthetic scenes to disk: one folder per domain, complete or not at all.

Dates are generated and written one at a time, in row stripes, so memory does not grow with the
number of dates. Every random draw comes from a stream keyed by (seed, domain name, purpose), so
the same arguments give byte-identical rasters.
"""

from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..atomic import temporary_sibling
from ..classes import write_classes_csv
from ..errors import CropsError
from ..phenology import Seasons, sample_seasons
from ..progress import Progress, silent
from ..raster import Grid, create_geotiff, epsg_wkt, finish_geotiff, set_palette
from ..styles import write_class_map_style, write_rgb_style
from .domain import Domain, preset
from .fields import write_fields
from .landscape import CALENDARS, Landscape, landscape
from .noise import stripes
from .render import date_tables, render_stripe
from .sky import cloud_shares, sky
from .spectra import BANDS, CLASSES, PIXEL_SIZE, SCL_CLASSES, SCL_CLOUDY

ACQUISITION_TIME = "10:56:00"
MANIFEST = "sample.json"
DEFAULT_START, DEFAULT_END = date(2019, 3, 1), date(2019, 10, 31)


def _dates(start: date, end: date, revisit_days: int) -> list[date]:
    if revisit_days < 1:
        raise CropsError(f"Revisit of {revisit_days} days: give at least 1 day.")
    if end < start:
        raise CropsError(f"End date {end} is before start date {start}; swap them.")
    days = (end - start).days
    return [start + timedelta(days=d) for d in range(0, days + 1, revisit_days)]


def _as_date(value: date | str, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CropsError(f"{what} {value!r} is not a date; write it as YYYY-MM-DD.") from None


def _check_size(size: int) -> int:
    if not 16 <= int(size) <= 32768:
        raise CropsError(f"Size {size} pixels is outside 16..32768; a laptop demo uses 512.")
    return int(size)


def _rng(seed: int, domain: Domain, *stream: int) -> np.random.Generator:
    key = zlib.crc32(domain.name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, key, *stream]))


@contextmanager
def _new_folder(final: Path) -> Iterator[Path]:
    """Write into a temporary sibling folder; on success it replaces `final` in one rename.

    An existing `final` is replaced only if it is empty or an earlier sample (has sample.json),
    so a mistyped OUTPUT_FOLDER never deletes a user's files.
    """
    final = Path(final)
    if final.exists():
        if not final.is_dir():
            raise CropsError(f"Output folder {final} is a file; choose a folder path.")
        if any(final.iterdir()) and not (final / MANIFEST).is_file():
            raise CropsError(
                f"Output folder {final} holds files that are not a sample scene; choose a new or empty folder."
            )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(final)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = temporary_sibling(final)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass
class _SceneWriter:
    """One domain's scene being written into `folder` (which becomes `final`)."""

    folder: Path
    final: Path
    domain: Domain
    size: int
    dates: list[date]
    seed: int
    grid: Grid = field(init=False)
    land: Landscape = field(init=False)
    seasons: Seasons = field(init=False)
    shares: np.ndarray = field(init=False)  # cloudy share per date
    wetness: np.ndarray = field(init=False)  # soil darkening per date
    cloud: list[float] = field(default_factory=list, init=False)  # flagged cloudy share per date

    def __post_init__(self) -> None:
        domain = self.domain
        x0 = round(domain.origin[0] / 60.0) * 60.0  # Sentinel-2 grids are aligned to 60 m
        y0 = round(domain.origin[1] / 60.0) * 60.0
        self.grid = Grid(self.size, self.size, (x0, PIXEL_SIZE, 0.0, y0, 0.0, -PIXEL_SIZE), epsg_wkt(domain.epsg))

    def write(self, progress: Progress) -> dict[str, Any]:
        domain = self.domain
        progress(0.0, f"{domain.name}: laying out fields")
        self.land = landscape(_rng(self.seed, domain, 1), self.size, domain)
        progress.check()
        self.seasons = sample_seasons(CALENDARS, self.land.units.kind, _rng(self.seed, domain, 2),
                                      domain.phenology_shift, domain.timing_sd, domain.vigour_sd)
        weather = _rng(self.seed, domain, 3)
        self.shares = cloud_shares(weather, len(self.dates), domain.cloud_cover)
        self.wetness = np.clip(weather.normal(0.95, 0.08, len(self.dates)), 0.75, 1.1)
        scenes_dir = self.folder / "scenes"
        scenes_dir.mkdir()
        scene_paths, scl_paths = [], []
        for i, day in enumerate(self.dates):
            progress(0.05 + 0.85 * i / len(self.dates), f"{domain.name}: {day.isoformat()}")
            scene_path, scl_path = self._write_date(scenes_dir, i, day, progress)
            progress.metric("cloud_fraction", self.cloud[-1], step=i, date=day.isoformat())
            scene_paths.append(scene_path)
            scl_paths.append(scl_path)
        progress(0.9, f"{domain.name}: labels and field polygons")
        summary = self._write_labels()
        manifest = self._write_manifest(summary)
        progress(1.0, f"{domain.name}: done")
        return {
            "output_folder": str(self.final),
            "scenes_folder": str(self.final / "scenes"),
            "scenes": [self._moved(p) for p in scene_paths],
            "masks": [self._moved(p) for p in scl_paths],
            "labels": self._moved(self.folder / "labels.tif"),
            "fields": self._moved(self.folder / "fields.gpkg"),
            "classes": self._moved(self.folder / "classes.csv"),
            "manifest": self._moved(self.folder / MANIFEST),
            "dates": manifest["dates"],
            "summary": summary,
        }

    def _moved(self, p: Path) -> str:
        """Where a file written into the temporary folder will be once it is renamed."""
        return str(self.final / p.relative_to(self.folder))

    def _write_date(self, scenes_dir: Path, i: int, day: date, progress: Progress) -> tuple[Path, Path]:
        """Scene and SCL mask of date `i`, stripe by stripe; records its flagged cloudy share."""
        domain, seed, size, grid = self.domain, self.seed, self.size, self.grid
        doy = (day - date(self.dates[0].year, 1, 1)).days + 1
        tables = date_tables(self.land, self.seasons, doy, float(self.wetness[i]))
        day_sky = sky(_rng(seed, domain, 4, i), size, float(self.shares[i]), doy)
        stamp = day.strftime("%Y%m%d")
        meta = {
            "ACQUISITION_DATE": f"{day.isoformat()}T{ACQUISITION_TIME}",
            "SCALE": "reflectance = DN / 10000",
            "SENSOR": "Sentinel-2 L2A (synthetic)",
            "GENERATOR": f"crops_engine.synth {__version__}, domain {domain.name}, seed {seed}",
        }
        scene_path, scl_path = scenes_dir / f"S2_L2A_{stamp}.tif", scenes_dir / f"S2_L2A_{stamp}_SCL.tif"
        ds = create_geotiff(scene_path, grid, len(BANDS), np.uint16, nodata=0, band_descriptions=BANDS, metadata=meta)
        ds_scl = create_geotiff(scl_path, grid, 1, np.uint8, nodata=0, band_descriptions=["SCL"], metadata=meta)
        cloudy = 0
        for s, (r0, r1) in enumerate(stripes(size, size)):
            progress.check()
            dn, scl = render_stripe(self.land, tables, day_sky, domain, _rng(seed, domain, 5, i, s), r0, r1)
            for b in range(len(BANDS)):
                ds.GetRasterBand(b + 1).WriteArray(dn[b], 0, r0)
            ds_scl.GetRasterBand(1).WriteArray(scl, 0, r0)
            if r1 % 256 == 0:  # a row of 256 x 256 tiles is complete: write it out, free GDAL's cache
                ds.FlushCache()
                ds_scl.FlushCache()
            cloudy += int(np.isin(scl, SCL_CLOUDY).sum())
        # Overviews make large scenes quick to browse in QGIS; below 1024 px they would cost a third
        # of the generation time and QGIS draws the full resolution at once anyway.
        with_overviews = size >= 1024
        finish_geotiff(ds, overviews=with_overviews, resampling="AVERAGE")
        finish_geotiff(ds_scl, overviews=with_overviews)
        write_rgb_style(scene_path, 3, 2, 1, [(100, 1500), (150, 1400), (150, 1300)])
        write_class_map_style(scl_path, SCL_CLASSES)
        self.cloud.append(cloudy / float(size * size))
        return scene_path, scl_path

    def _write_labels(self) -> dict[str, Any]:
        """labels.tif, fields.gpkg and classes.csv; returns the scene's summary."""
        land, folder = self.land, self.folder
        class_of_unit = land.units.class_id
        labels_path = folder / "labels.tif"
        ds = create_geotiff(labels_path, self.grid, 1, np.uint8, nodata=0, band_descriptions=["class"])
        for r0, r1 in stripes(self.size, self.size):
            ds.GetRasterBand(1).WriteArray(class_of_unit[land.unit[r0:r1]], 0, r0)
        set_palette(ds.GetRasterBand(1), [(c.value, c.name, c.colour) for c in CLASSES])
        finish_geotiff(ds)
        write_class_map_style(labels_path, CLASSES)
        n_polygons = write_fields(folder / "fields.gpkg", land, self.grid)
        write_classes_csv(folder / "classes.csv", list(CLASSES))
        pixels = np.bincount(land.unit.ravel(), minlength=class_of_unit.size)  # pixels per unit
        pixels = np.bincount(class_of_unit, weights=pixels[: class_of_unit.size], minlength=len(CLASSES) + 1)
        cloud = self.cloud
        return {
            "fields": land.parcels,
            "field_polygons": n_polygons,
            "class_pixels": {c.name: int(pixels[c.value]) for c in CLASSES},
            "unlabelled_pixels": int(pixels[0]),
            "cloud_fraction_mean": round(float(np.mean(cloud)), 4) if cloud else 0.0,
            "cloud_fraction": [round(f, 4) for f in cloud],
        }

    def _write_manifest(self, summary: dict[str, Any]) -> dict[str, Any]:
        manifest = {
            "generator": f"crops_engine.synth {__version__}",
            "domain": self.domain.as_dict(),
            "seed": int(self.seed),
            "size": self.size,
            "dates": [d.isoformat() for d in self.dates],
            "crs": f"EPSG:{self.domain.epsg}",
            "geotransform": list(self.grid.geotransform),
            "summary": summary,
        }
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return manifest


def generate_scene(
    output_folder: str | os.PathLike[str],
    domain: Domain | None = None,
    size: int = 512,
    start: date | str = DEFAULT_START,
    end: date | str = DEFAULT_END,
    revisit_days: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Write one synthetic scene time series into `output_folder`; returns its paths and a summary.

    Same arguments and seed give byte-identical rasters. The folder appears only when complete.
    """
    domain = domain or preset("source")
    progress = progress or silent()
    size = _check_size(size)
    dates = _dates(_as_date(start, "Start date"), _as_date(end, "End date"), int(revisit_days))
    final = Path(output_folder)
    with _new_folder(final) as tmp:
        return _SceneWriter(tmp, final, domain, size, dates, seed).write(progress)


def generate_pair(
    output_folder: str | os.PathLike[str],
    seed: int = 0,
    size: int = 512,
    start: date | str = DEFAULT_START,
    end: date | str = DEFAULT_END,
    revisit_days: int = 5,
    progress: Progress | None = None,
    phenology_shift: float | None = None,
    cloud_cover: float | None = None,
) -> dict:
    """Write the `source` and `target` presets into `output_folder`/source and /target.

    `phenology_shift` overrides the target's shift (the source keeps 0); `cloud_cover`
    overrides both. The two lie at different places in the same UTM zone.
    """
    progress = progress or silent()
    size = _check_size(size)
    dates = _dates(_as_date(start, "Start date"), _as_date(end, "End date"), int(revisit_days))
    source, target = preset("source"), preset("target")
    if phenology_shift is not None:
        target = replace(target, phenology_shift=float(phenology_shift))
    if cloud_cover is not None:
        source = replace(source, cloud_cover=float(cloud_cover))
        target = replace(target, cloud_cover=float(cloud_cover))
    final = Path(output_folder)
    with _new_folder(final) as tmp:
        results = {}
        for k, domain in enumerate((source, target)):
            sub = tmp / domain.name
            sub.mkdir()
            writer = _SceneWriter(sub, final / domain.name, domain, size, dates, seed)
            results[domain.name] = writer.write(progress.sub(k / 2, (k + 1) / 2))
        manifest = {
            "generator": f"crops_engine.synth {__version__}",
            "pair": ["source", "target"],
            "seed": int(seed),
            "size": size,
            "summary": {name: r["summary"] for name, r in results.items()},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return {"output_folder": str(final), "manifest": str(final / MANIFEST), **results}

"""The bad-input matrix (issue 19): each row runs one engine command as a user would, through the CLI in
a subprocess (`--json-events`), on an input that is wrong in one way, and asserts

- the exit code: 1 for an error the user can fix, 0 where the design handles the input (e.g. another
  CRS is reprojected), never 3 (a traceback) nor a crash;
- a message that names the problem (and what to do about it), or for a handled row the designed result;
- that nothing is left at or beside the output (no partial output, no temporary file).

Scenes (ndvi-qm), areas, labels (build-blocks, train-source, evaluate), unreadable inputs (build-blocks,
partition, infer) and parameters; every input is a tiny raster made here from numpy (a few real Flanders
scenes where it matters, skipped when the data is absent). Outputs, models and faults are the other half
of the matrix (test_bad_outputs.py, test_faults.py). A few rows need root (a 1 MiB tmpfs for a full disk)
or qgis_process (the plugin's EXTENT), and skip with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, TINY_UNET, WORLDCEREAL, run_qgis_process, write_scene
from osgeo import gdal, ogr, osr

from crops_engine.atomic import TMP_MARK
from crops_engine.raster import Grid, create_geotiff, epsg_wkt, finish_geotiff

gdal.UseExceptions()
ogr.UseExceptions()

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
S2_BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
X0, Y0 = 500000.0, 5600000.0  # the tiny rasters' top-left corner (EPSG:32631)
SIZE = 32  # scene width and height (10 m pixels)


# -- running the CLI ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One CLI run: exit code, its JSON events and stderr."""

    argv: list[str]
    rc: int
    events: list[dict]
    stderr: str

    @property
    def error(self) -> dict | None:
        return next((e for e in self.events if e["event"] == "error"), None)

    @property
    def result(self) -> dict | None:
        return next((e["outputs"] for e in self.events if e["event"] == "result"), None)

    @property
    def warnings(self) -> list[str]:
        return [e["text"] for e in self.events if e["event"] == "log" and e.get("level") == "warning"]

    def describe(self) -> str:
        return f"argv {self.argv}\nrc {self.rc}\nevents {json.dumps(self.events, indent=1)[-4000:]}\n" \
               f"stderr {self.stderr[-3000:]}"


def cli(*argv: object, env: dict[str, str] | None = None, timeout: float = 180) -> Run:
    args = [str(a) for a in argv]
    proc = subprocess.run([PYTHON, "-m", "crops_engine", "--json-events", *args], cwd=str(ROOT), capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})})
    events = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return Run(args, proc.returncode, events, proc.stderr)


def leftovers(folder: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """Files in `folder` (recursively) that a failed run must not leave: anything, or temporaries."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in keep)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(f"*{TMP_MARK}*")) if folder.exists() else []


# -- tiny inputs made on the fly --------------------------------------------------------------------


def write_raster(path: Path, data: np.ndarray, grid: Grid, nodata: float | None = 0, names=None, metadata=None,
                 dtype=np.uint16) -> Path:
    data = np.asarray(data).reshape((-1, *np.asarray(data).shape[-2:]))
    ds = create_geotiff(path, grid, data.shape[0], dtype, nodata, names, metadata)
    for i in range(data.shape[0]):
        ds.GetRasterBand(i + 1).WriteArray(data[i].astype(dtype))
    finish_geotiff(ds)
    del ds
    return path


def utm_grid(size: int = SIZE, pixel: float = 10.0, x0: float = X0, y0: float = Y0, epsg: int = 32631) -> Grid:
    return Grid(size, size, (x0, pixel, 0.0, y0, 0.0, -pixel), epsg_wkt(epsg))


def scene_data(seed: int, bands: int = 10, size: int = SIZE) -> np.ndarray:
    """Sentinel-2-like DNs: vegetation (NIR >> red) in a checkerboard of fields."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    field_ = ((xx // 8 + yy // 8) % 2).astype(np.float32)
    data = rng.normal(800, 50, (bands, size, size)).astype(np.float32)
    if bands >= 7:
        data[2] = 500 + 300 * field_  # red
        data[6] = 3000 + 1000 * field_ + 100 * seed  # NIR
    return np.clip(data, 1, 10000)


def write_date(folder: Path, day: str, seed: int = 0, bands: int = 10, grid: Grid | None = None, scl: int = 4,
               mask: bool = True, mask_grid: Grid | None = None, name: str | None = None) -> Path:
    """`S2_<day>.tif` (10 UInt16 bands, nodata 0) and its `_SCL` mask (class `scl` everywhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    grid = grid or utm_grid()
    path = folder / (name or f"S2_{day}.tif")
    write_raster(path, scene_data(seed, bands, grid.width), grid, 0, (S2_BANDS if bands == 10 else None))
    if mask:
        mgrid = mask_grid or grid
        write_raster(path.with_name(path.stem + "_SCL.tif"), np.full((mgrid.height, mgrid.width), scl), mgrid, 0,
                     dtype=np.uint8)
    return path


def write_scenes(folder: Path, days=("20190601", "20190701", "20190801"), **kw) -> Path:
    for i, day in enumerate(days):
        write_date(folder, day, seed=i, **kw)
    return folder


def write_polygons(path: Path, epsg: int | None = 32631, field_name: str = "code", degrees: bool = False,
                   codes=(1100, 1200)) -> Path:
    """Two field polygons over the tiny composite (`write_scene`'s 128 x 64 grid at X0, Y0), codes 1100 and 1200;
    `degrees`: the same fields written in longitude / latitude; `epsg` None: a layer without a CRS."""
    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
    layer = ds.CreateLayer("fields", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn(field_name, ogr.OFTInteger))
    to_degrees = None
    if degrees:
        utm, wgs = osr.SpatialReference(), osr.SpatialReference()
        utm.ImportFromEPSG(32631)
        wgs.ImportFromEPSG(4326)
        for s in (utm, wgs):
            s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        to_degrees = osr.CoordinateTransformation(utm, wgs)
    for i, code in enumerate(codes):
        x0 = X0 + i * 640.0
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((x0, Y0), (x0 + 640, Y0), (x0 + 640, Y0 - 640), (x0, Y0 - 640), (x0, Y0)):
            ring.AddPoint_2D(x, y)
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        if to_degrees is not None:
            poly.Transform(to_degrees)
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetField(field_name, int(code))
        feat.SetGeometry(poly)
        layer.CreateFeature(feat)
    ds = None  # noqa: F841 - closes the file
    return path


def write_mask_polygon(path: Path, bounds: tuple[float, float, float, float], epsg: int = 32631) -> Path:
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = ds.CreateLayer("aoi", srs, ogr.wkbPolygon)
    xmin, ymin, xmax, ymax = bounds
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)):
        ring.AddPoint_2D(x, y)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    feat = ogr.Feature(layer.GetLayerDefn())
    feat.SetGeometry(poly)
    layer.CreateFeature(feat)
    ds = None  # noqa: F841
    return path


def truncate(src: Path, dst: Path, fraction: float = 0.6) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


# -- shared inputs (made once per module) -----------------------------------------------------------


class Kit:
    """The good inputs every row starts from, made lazily in one folder per module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, object] = {}

    def _once(self, key: str, make: Callable[[], object]):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def scenes(self) -> Path:
        return self._once("scenes", lambda: write_scenes(self.root / "scenes"))

    @property
    def source(self) -> tuple[Path, Path]:
        """(composite, labels): `write_scene`'s 3-band 128 x 64 composite, two classes 1100 / 1200."""
        return self._once("source", lambda: write_scene(self.root / "source"))

    @property
    def store(self) -> Path:
        def make() -> Path:
            from crops_engine.blocks import build_block_store

            composite, labels = self.source
            out = self.root / "source.h5"
            build_block_store(composite, out, labels=labels, block_size=16, val_fraction=0.25)
            return out
        return self._once("store", make)

    @property
    def target(self) -> dict:
        """`test_partition.make_random_target`: a 10-band composite, its target store and an untrained model."""
        def make() -> dict:
            from test_partition import make_random_target

            return make_random_target(self.root / "target")
        return self._once("target", make)

    @property
    def parcels(self) -> Path:
        return self._once("parcels", lambda: write_polygons(self.root / "parcels.gpkg"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Kit:
    return Kit(tmp_path_factory.mktemp("bad-inputs-kit"))


@dataclass
class Ctx:
    """What a row builds its command from: the shared kit, its own input folder and an empty output folder."""

    kit: Kit
    tmp: Path
    out: Path
    env: dict[str, str] = field(default_factory=dict)
    keep: tuple[str, ...] = ()  # output-folder files a failed row may leave (inputs the row put there)


@dataclass(frozen=True)
class Row:
    """One row of the matrix: how to build the command, the exit code and what the message must say."""

    id: str
    make: Callable[[Ctx], list]
    rc: int
    match: str  # regex the error message (rc 1) or a warning (rc 0, when given) must match
    check: Callable[[Ctx, Run], None] | None = None  # the designed result of a handled row
    needs: str = ""  # "torch", "worldcereal", "root"


ROWS: list[Row] = []


def row(id: str, rc: int = 1, match: str = "", check=None, needs: str = ""):
    def register(make: Callable[[Ctx], list]) -> Callable[[Ctx], list]:
        ROWS.append(Row(id, make, rc, match, check, needs))
        return make
    return register


def ndvi_qm(c: Ctx, folder: Path, *extra: object) -> list:
    return ["ndvi-qm", "--folder", folder, "--output", c.out / "composite.tif", *extra]


def build_blocks(c: Ctx, composite: Path, labels: Path | None = None, *extra: object, block_size: int = 16) -> list:
    argv = ["build-blocks", "--composite", composite, "--block-size", block_size, "--output", c.out / "blocks.h5"]
    return argv + (["--labels", labels] if labels else []) + list(extra)


def tiny_train(c: Ctx, blocks: Path, *extra: object) -> list:
    return ["train-source", "--blocks", blocks, "--output", c.out / "model.safetensors", "--iterations", 1,
            "--batch-size", 2, "--device", "cpu", "--arch-args", json.dumps(TINY_UNET), *extra]


def composite_ok(c: Ctx, run: Run) -> None:
    ds = gdal.Open(str(c.out / "composite.tif"))
    assert ds.RasterCount == 10 and (ds.RasterXSize, ds.RasterYSize) == (SIZE, SIZE)


# -- scenes (ndvi-qm) -------------------------------------------------------------------------------


@row("scenes/empty-folder", match=r"No scene in .*matches the pattern '\*\.tif'; check FOLDER and PATTERN")
def _(c):
    (c.tmp / "empty").mkdir()
    return ndvi_qm(c, c.tmp / "empty")


@row("scenes/no-match-for-pattern", match=r"No scene in .* matches the pattern '\*\.jp2'")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--pattern", "*.jp2")


@row("scenes/mixed-band-counts", match=r"different band counts \(6 bands: S2_20190701\.tif; 10 bands: "
                                          r"S2_20190601\.tif, S2_20190801\.tif\); give scenes with the same bands")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601", "20190801"))
    write_date(folder, "20190701", bands=6)
    return ndvi_qm(c, folder)


@row("scenes/no-date", match=r"Cannot tell when .*scene\.tif was acquired.*Rename it")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601",))
    write_date(folder, "", name="scene.tif")
    return ndvi_qm(c, folder)


@row("scenes/no-mask", match=r"No cloud mask S2_20190701_SCL\.tif beside scene .*MASK_SUFFIX")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601",))
    write_date(folder, "20190701", mask=False)
    return ndvi_qm(c, folder)


@row("scenes/mask-on-another-grid-is-warped", rc=0, check=composite_ok)
def _(c):
    # 20 m masks (SCL's own resolution) over the 10 m scenes: read through a VRT on the scene grid
    return ndvi_qm(c, write_scenes(c.tmp / "s", mask_grid=utm_grid(SIZE // 2, 20.0)))


@row("scenes/mask-not-covering-its-scene", match=r"The mask .*S2_20190701_SCL\.tif .* does not cover its scene")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601",))
    write_date(folder, "20190701", mask_grid=utm_grid(SIZE, 10.0, x0=X0 + 5000))
    return ndvi_qm(c, folder)


def _other_crs_check(c: Ctx, run: Run) -> None:
    composite_ok(c, run)
    assert run.result["scenes"] == 3
    assert Grid.of(gdal.Open(str(c.out / "composite.tif"))).same_as(utm_grid())  # the first scene's grid


@row("scenes/other-crs-is-reprojected", rc=0, check=_other_crs_check)
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601", "20190701"))
    # the same place in EPSG:32632 (the next UTM zone): warped onto the first scene's grid
    utm31, utm32 = osr.SpatialReference(), osr.SpatialReference()
    utm31.ImportFromEPSG(32631)
    utm32.ImportFromEPSG(32632)
    for s in (utm31, utm32):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(utm31, utm32).TransformPoint(X0 - 100, Y0 + 100)
    write_date(folder, "20190801", grid=Grid(48, 48, (x, 10.0, 0.0, y, 0.0, -10.0), epsg_wkt(32632)))
    return ndvi_qm(c, folder)


@row("scenes/truncated", match=r"Cannot read raster .*S2_20190701\.tif.*truncated or damaged.*copy or re-create it")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601", "20190801"))
    truncate(write_date(c.tmp / "full", "20190701"), folder / "S2_20190701.tif")
    shutil.copy(c.tmp / "full" / "S2_20190701_SCL.tif", folder)
    return ndvi_qm(c, folder)


@row("scenes/zero-byte", match=r"S2_20190701\.tif is an empty file \(0 bytes\)")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601",))
    (folder / "S2_20190701.tif").write_bytes(b"")
    return ndvi_qm(c, folder)


@row("scenes/not-a-raster", match=r"Cannot read raster .*S2_20190701\.tif: it is not recognized as a supported file "
                                      r"format\. Is the file complete")
def _(c):
    folder = write_scenes(c.tmp / "s", days=("20190601",))
    (folder / "S2_20190701.tif").write_text("<html>a login page saved as a scene</html>\n")
    return ndvi_qm(c, folder)


def _all_nodata(c: Ctx, run: Run) -> None:
    assert run.result["clear_fraction"] == 0.0


@row("scenes/all-cloudy-warns", rc=0, match=r"No pixel had a clear observation.*all nodata.*masks", check=_all_nodata)
def _(c):
    return ndvi_qm(c, write_scenes(c.tmp / "s", scl=9))


@row("scenes/empty-date-window", match=r"No scene falls between 2020-01-01 and 2020-12-31 \(the scenes span "
                                       r"2019-06-01 \.\. 2019-08-01\); widen START_DATE / END_DATE")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--start-date", "2020-01-01", "--end-date", "2020-12-31")


@row("scenes/inverted-date-window", match=r"START_DATE 2019-09-01 is after END_DATE 2019-05-01; swap them")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--start-date", "2019-09-01", "--end-date", "2019-05-01")


@row("scenes/not-a-date", match=r"'2019-13-45' is not a date; write it as YYYY-MM-DD")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--start-date", "2019-13-45")


def _real_scenes(patch: str, month: str, count: int) -> list[Path]:
    scenes = sorted(p for p in (WORLDCEREAL / patch / "scenes").glob(f"S2_L2A_{month}*.tif")
                    if not p.stem.endswith("_SCL"))
    if len(scenes) < count:
        pytest.skip(f"fewer than {count} scenes of {month} in {patch}")
    return scenes[:count]


def _copy_with_mask(scene: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    shutil.copy(scene, folder / scene.name)
    shutil.copy(scene.with_name(scene.stem + "_SCL.tif"), folder / (scene.stem + "_SCL.tif"))
    return folder / scene.name


@row("scenes/real-truncated", needs="worldcereal",
     match=r"Cannot read raster .*real/S2_L2A_201906\d\d\.tif.*truncated or damaged")
def _(c):
    scenes = [_copy_with_mask(p, c.tmp / "real") for p in _real_scenes("flanders2019_31UES", "201906", 3)]
    truncate(scenes[1], scenes[1], 0.5)  # a download cut short
    return ndvi_qm(c, c.tmp / "real")


@row("scenes/real-mixed-band-counts", needs="worldcereal", match=r"different band counts \(6 bands: .*; 10 bands: "
                                                                     r"S2_L2A_201906\d\d\.tif\)")
def _(c):
    # a 10-band 2019 scene among six-band scenes of the 2019b patch (another place: warped, but the bands differ)
    for p in _real_scenes("flanders2019b_31UES", "201906", 2) + _real_scenes("flanders2019_31UES", "201906", 1):
        _copy_with_mask(p, c.tmp / "real")
    return ndvi_qm(c, c.tmp / "real", "--red-band", 1, "--nir-band", 4)


# -- areas ------------------------------------------------------------------------------------------


@row("areas/extent-outside", match=r"does not overlap the raster .*check its CRS")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--extent", "600000,601000,5700000,5701000 [EPSG:32631]")


@row("areas/extent-degenerate", match=r"Extent '500100,500100,5599900,5599900 \[EPSG:32631\]' is empty.*xmin < xmax")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--extent", "500100,500100,5599900,5599900 [EPSG:32631]")


@row("areas/extent-inverted", match=r"is empty: QGIS order is xmin,xmax,ymin,ymax")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--extent", "500300,500100,5599900,5599700")


@row("areas/extent-garbage", match=r"Extent 'north of the river' is not 'xmin,xmax,ymin,ymax'")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--extent", "north of the river")


@row("areas/extent-unknown-crs", match=r"Unknown CRS 'EPSG:999999'.*EPSG:<code>")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--extent", "500100,500200,5599700,5599900 [EPSG:999999]")


@row("areas/extent-degenerate-build-blocks", match=r"is empty: QGIS order is xmin,xmax,ymin,ymax")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--extent", "500100,500100,5599900,5599900 [EPSG:32631]")


@row("areas/extent-outside-infer", match=r"does not overlap the raster", needs="torch")
def _(c):
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", t["composite"], "--output", c.out / "classes.tif",
            "--device", "cpu", "--extent", "700000,701000,5800000,5801000 [EPSG:32631]"]


@row("areas/mask-not-intersecting-ndvi-qm", match=r"The area of interest .* does not overlap the raster")
def _(c):
    far = write_mask_polygon(c.tmp / "far.gpkg", (700000, 5800000, 701000, 5801000))
    return ndvi_qm(c, c.kit.scenes, "--mask", far)


@row("areas/mask-truncated", match=r"Cannot read the area-of-interest layer .*aoi_cut\.gpkg: .*copy or re-create")
def _(c):
    aoi = write_mask_polygon(c.tmp / "aoi.gpkg", (X0, Y0 - 200, X0 + 200, Y0))
    return ndvi_qm(c, c.kit.scenes, "--mask", truncate(aoi, c.tmp / "aoi_cut.gpkg", 0.5))


@row("areas/mask-not-intersecting-infer", match=r"The area of interest .* does not overlap the raster", needs="torch")
def _(c):
    t = c.kit.target
    mask = write_mask_polygon(c.tmp / "far.gpkg", (700000, 5800000, 701000, 5801000))
    return ["infer", "--model", t["model"], "--input", t["composite"], "--output", c.out / "classes.tif",
            "--device", "cpu", "--mask", mask]


# -- labels (build-blocks, train-source, evaluate) ------------------------------------------------------


def _store_classes(*names: str, pixels: int | None = None, tolerance: float = 0.0):
    """The store's classes are `names`, each with labelled pixels (about `pixels` each when given)."""
    def check(c: Ctx, run: Run) -> None:
        assert [k["name"] for k in run.result["classes"]] == list(names)
        counts = run.result["class_pixels"]
        assert all(n > 0 for n in counts.values()), counts
        if pixels is not None:
            assert all(abs(n - pixels) <= tolerance * pixels for n in counts.values()), counts
    return check


TWO_CLASSES = ("class 1100", "class 1200")
HALF = 128 * 64 // 2  # pixels of each class of `write_scene`'s checkerboard
FIELD = 64 * 64  # pixels of one of `write_polygons`' fields


@row("labels/other-crs-is-warped", rc=0, match=r"on another grid than the composite; warping it",
     check=_store_classes(*TWO_CLASSES, pixels=HALF, tolerance=0.05))
def _(c):
    composite, _ = c.kit.source
    # the labels of the left half, in Web Mercator: warped (nearest) onto the composite's grid
    src = gdal.Open(str(c.kit.source[1]))
    gdal.Warp(str(c.tmp / "labels_3857.tif"), src, dstSRS="EPSG:3857", resampleAlg="near")
    return build_blocks(c, composite, c.tmp / "labels_3857.tif")


@row("labels/other-grid-is-warped", rc=0, match=r"on another grid than the composite",
     check=_store_classes(*TWO_CLASSES, pixels=HALF))
def _(c):
    composite, labels = c.kit.source
    gdal.Translate(str(c.tmp / "labels_5m.tif"), str(labels), xRes=5, yRes=5, resampleAlg="near")
    return build_blocks(c, composite, c.tmp / "labels_5m.tif")


@row("labels/polygons-in-degrees-are-reprojected", rc=0, check=_store_classes(*TWO_CLASSES, pixels=FIELD,
                                                                                  tolerance=0.05))
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, write_polygons(c.tmp / "deg.gpkg", epsg=4326, degrees=True),
                        "--label-field", "code")


@row("labels/polygons-in-degrees-declared-utm", match=r"No polygon of .*deg\.gpkg overlaps the composite's extent"
                                                     r".*check that the layer covers the composite \(and its CRS\)")
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, write_polygons(c.tmp / "deg.gpkg", epsg=32631, degrees=True),
                        "--label-field", "code")


@row("labels/polygons-without-crs", match=r"label layer .*nocrs\.gpkg has no CRS.*give LABELS_CRS")
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, write_polygons(c.tmp / "nocrs.gpkg", epsg=None), "--label-field", "code")


@row("labels/polygons-without-crs-given-labels-crs", rc=0, check=_store_classes(*TWO_CLASSES, pixels=FIELD))
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, write_polygons(c.tmp / "nocrs.gpkg", epsg=None), "--label-field", "code",
                        "--labels-crs", "EPSG:32631")


@row("labels/raster-without-crs", match=r"Label raster .*nocrs\.tif has no CRS.*give LABELS_CRS")
def _(c):
    composite, labels = c.kit.source
    codes = gdal.Open(str(labels)).ReadAsArray().repeat(2, axis=0).repeat(2, axis=1)  # 5 m pixels, no CRS
    write_raster(c.tmp / "nocrs.tif", codes, Grid(256, 128, (X0, 5.0, 0.0, Y0, 0.0, -5.0), ""), 0)
    return build_blocks(c, composite, c.tmp / "nocrs.tif")


@row("labels/missing-field", match=r"parcels\.gpkg has no field 'crop'; its fields are code")
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, c.kit.parcels, "--label-field", "crop")


@row("labels/polygons-without-label-field", match=r"is a vector layer: give LABEL_FIELD.*fields: code")
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, c.kit.parcels)


@row("labels/bad-class-map-syntax", match=r"Class map entry '1200 maize' is not 'code=name' \(e\.g\. '1200=maize'")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--class-map", "1200 maize; 1100")


@row("labels/class-map-matching-no-code", match=r"gives no class to any label value .*values found: 1100, 1200"
                                                r".*fix the codes in the class map")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--class-map", "3300=maize; 4400=wheat")


@row("labels/only-ignore", match=r"no class value other than 0 \(ignore\) in the composite's extent: check that "
                                    r"they cover the composite")
def _(c):
    composite, labels = c.kit.source
    write_raster(c.tmp / "zeros.tif", np.zeros((64, 128)), Grid.of(gdal.Open(str(labels))), 0)
    return build_blocks(c, composite, c.tmp / "zeros.tif")


@row("labels/one-class-build-warns", rc=0, match=r"Only one class \(crop\) has labelled pixels: train-source needs "
                                                r"at least two", check=_store_classes("crop"))
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--class-map", "*=crop; 0=ignore")


@row("labels/one-class-train-refused", needs="torch",
     match=r"hold labelled pixels of only class 'crop' \(\d+ px\): a model needs at least two classes.*CLASS_MAP")
def _(c):
    from crops_engine.blocks import build_block_store

    composite, labels = c.kit.source
    store = build_block_store(composite, c.tmp / "one.h5", labels=labels, class_map="*=crop; 0=ignore",
                              block_size=16)["output"]
    return tiny_train(c, store)


@row("labels/validation-lacks-a-class-warns", rc=0, needs="torch",
     match=r"validation blocks hold no labelled pixel of class 1100: val mIoU does not measure that class")
def _(c):
    from crops_engine.blocks import BlockStore, build_block_store

    composite, labels = c.kit.source
    with BlockStore(c.kit.store) as s:  # the split depends on where blocks are, not on their labels
        train_origin = s.origins[s.split("train")[0]]
    grid = Grid.of(gdal.Open(str(labels)))
    lab = np.full((64, 128), 1200, dtype=np.uint16)
    r, col = (int(v) for v in train_origin)
    lab[r:r + 16, col:col + 16] = 1100  # class 1100 in one training block only
    write_raster(c.tmp / "lab.tif", lab, grid, 0)
    store = build_block_store(composite, c.tmp / "s.h5", labels=c.tmp / "lab.tif", block_size=16,
                              val_fraction=0.25)["output"]
    return tiny_train(c, store)


@row("labels/truncated-label-raster", match=r"Cannot read raster .*labels_cut\.tif.*truncated or damaged")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, truncate(labels, c.tmp / "labels_cut.tif", 0.5))


@row("labels/truncated-polygons", match=r"Cannot read label layer .*parcels_cut\.gpkg: .*copy or re-create it")
def _(c):
    composite, _ = c.kit.source
    return build_blocks(c, composite, truncate(c.kit.parcels, c.tmp / "parcels_cut.gpkg", 0.5), "--label-field", "code")


def damage_first_block(src: Path, dst: Path, band: int = 1) -> Path:
    """A whole file whose first compressed block of `band` holds garbage: it opens, and fails where it is decoded."""
    shutil.copy(src, dst)
    ds = gdal.Open(str(dst))
    offset = int(ds.GetRasterBand(band).GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF"))
    size = int(ds.GetRasterBand(band).GetMetadataItem("BLOCK_SIZE_0_0", "TIFF"))
    ds = None
    data = bytearray(dst.read_bytes())
    data[offset:offset + size] = b"\xff" * size
    dst.write_bytes(bytes(data))
    return dst


@row("labels/damaged-label-raster",
     match=r"Cannot read raster .*labels_bad\.tif: label raster: .*TIFFRead.*truncated or damaged")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, damage_first_block(labels, c.tmp / "labels_bad.tif"))


@row("labels/not-covering-the-composite", match=r"no class value other than 0 \(ignore\).*check that they cover the "
                                                 r"composite \(and their CRS\)")
def _(c):
    composite, labels = c.kit.source
    src = gdal.Open(str(labels))
    gdal.Translate(str(c.tmp / "far.tif"), src, outputBounds=[600000, 5700000, 601280, 5699360])
    return build_blocks(c, composite, c.tmp / "far.tif")


def _class_map_raster(c: Ctx) -> Path:
    """A class map of the tiny composite's two fields (values 0 / 1, named 1100 / 1200 as infer names them)."""
    labels = gdal.Open(str(c.kit.source[1]))
    path = write_raster(c.tmp / "classes.tif", (labels.ReadAsArray() == 1200).astype(np.uint8), Grid.of(labels), 255,
                        dtype=np.uint8)
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.GetRasterBand(1).SetCategoryNames(["class 1100", "class 1200"])
    ds = None
    return path


@row("labels/evaluate-reference-without-crs", match=r"label layer .*nocrs\.gpkg has no CRS.*give REFERENCE_CRS")
def _(c):
    return ["evaluate", "--input", _class_map_raster(c), "--reference", write_polygons(c.tmp / "nocrs.gpkg", epsg=None),
            "--label-field", "code", "--output-json", c.out / "metrics.json"]


def _evaluated(c: Ctx, run: Run) -> None:
    assert run.result["pixels"] > 0 and json.loads((c.out / "metrics.json").read_text())


@row("labels/evaluate-reference-without-crs-given-reference-crs", rc=0, check=_evaluated)
def _(c):
    return ["evaluate", "--input", _class_map_raster(c), "--reference", write_polygons(c.tmp / "nocrs.gpkg", epsg=None),
            "--label-field", "code", "--reference-crs", "EPSG:32631", "--output-json", c.out / "metrics.json"]


# -- unreadable inputs of build-blocks, partition, infer (issue 19, defect 6) -------------------------


@row("unreadable/composite-build-blocks", match=r"Cannot read raster .*cut\.tif.*truncated or damaged.*re-create")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, truncate(composite, c.tmp / "cut.tif"), labels)


@row("unreadable/composite-partition", needs="torch", match=r"Cannot read raster .*cut\.tif.*truncated or damaged")
def _(c):
    t = c.kit.target
    return ["partition", "--model", t["model"], "--composite", truncate(t["composite"], c.tmp / "cut.tif"),
            "--output-blocks", c.out / "target.h5", "--output-mask", c.out / "mask.tif", "--device", "cpu"]


@row("unreadable/store-partition", needs="torch", match=r"target_cut\.h5 is not a readable HDF5 file.*rebuild it")
def _(c):
    t = c.kit.target
    c.keep = ("target_cut.h5",)
    return ["partition", "--model", t["model"], "--blocks", truncate(t["store"], c.out / "target_cut.h5"),
            "--output-mask", c.out / "mask.tif", "--device", "cpu"]


@row("unreadable/composite-infer", needs="torch", match=r"Cannot read raster .*cut\.tif.*truncated or damaged")
def _(c):
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", truncate(t["composite"], c.tmp / "cut.tif"),
            "--output", c.out / "classes.tif", "--device", "cpu"]


@row("unreadable/damaged-tile-infer", needs="torch", match=r"Cannot read raster .*damaged\.tif: band 5 at pixel 0,0")
def _(c):
    # the file is whole, but one compressed tile holds garbage: GDAL fails only when it decodes that tile
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", damage_first_block(t["composite"], c.tmp / "damaged.tif", 5),
            "--output", c.out / "classes.tif", "--device", "cpu"]


@row("unreadable/damaged-store-partition", needs="torch",
     match=r"Cannot read images of the block store .*target_bad\.h5: .*truncated or damaged.*build it again")
def _(c):
    import h5py

    t = c.kit.target
    store = c.out / "target_bad.h5"
    c.keep = ("target_bad.h5",)
    shutil.copy(t["store"], store)
    with h5py.File(store, "r") as h5:
        info = h5["images"].id.get_chunk_info(0)
    data = bytearray(store.read_bytes())
    data[info.byte_offset:info.byte_offset + info.size] = b"\x00" * info.size  # lzf cannot decode this chunk
    store.write_bytes(bytes(data))
    return ["partition", "--model", t["model"], "--blocks", store, "--output-mask", c.out / "mask.tif",
            "--device", "cpu"]


def _all_nodata_map(c: Ctx, run: Run) -> None:
    assert run.result["valid_pixels"] == 0
    assert gdal.Open(str(c.out / "classes.tif")).GetRasterBand(1).ReadAsArray().max() == 255  # all nodata


@row("unreadable/all-nodata-composite-infer-warns", rc=0, needs="torch", check=_all_nodata_map,
     match=r"No pixel of .*nodata\.tif in the mapped window has valid features.*outputs are all nodata")
def _(c):
    t = c.kit.target
    grid = t["grid"]
    path = c.tmp / "nodata.tif"
    ds = create_geotiff(path, grid, 10, np.float32, -9999.0, S2_BANDS)
    for i in range(10):
        ds.GetRasterBand(i + 1).Fill(-9999.0)
    finish_geotiff(ds)
    del ds
    return ["infer", "--model", t["model"], "--input", path, "--output", c.out / "classes.tif", "--device", "cpu"]


# -- the partition and SPCL (defect 9) -------------------------------------------------------------------


@row("partition/spcl-store-partitioned-by-another-model", needs="torch",
     match=r"partition of .*target\.h5 was made by another model .*other/model\.safetensors.*, SHA-256 [0-9a-f]{64}, "
           r"than MODEL .*model\.safetensors, SHA-256 [0-9a-f]{64}.*Run partition again with this MODEL")
def _(c):
    from crops_engine.partition import partition

    t = c.kit.target
    store = c.tmp / "target.h5"
    shutil.copy(t["store"], store)
    from test_partition import make_random_target

    other = make_random_target(c.tmp / "other", seed=1)["model"]  # another model on the same features
    partition(other, store)
    return ["adapt-spcl", "--model", t["model"], "--blocks", store, "--output", c.out / "adapted.safetensors",
            "--iterations", 1, "--batch-size", 2, "--device", "cpu"]


# -- parameters -------------------------------------------------------------------------------------------


@row("parameters/stride-above-block-size", match=r"STRIDE must be between 1 and BLOCK_SIZE \(16\); got 32")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--stride", 32)


@row("parameters/block-size-above-raster-pads", rc=0)
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, block_size=256)  # one padded block: the design


@row("parameters/zero-resolution", match=r"RESOLUTION 0 must be a positive pixel size in CRS units \(leave it empty")
def _(c):
    return ndvi_qm(c, c.kit.scenes, "--resolution", 0)


@row("parameters/tile-size-not-a-multiple", needs="torch", match=r"TILE_SIZE 30 is not a positive multiple of the "
                                                                 r"model's stride \d+: use e\.g\. \d+")
def _(c):
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", t["composite"], "--output", c.out / "classes.tif",
            "--device", "cpu", "--tile-size", 30]


@row("parameters/negative-tile-size", needs="torch", match=r"TILE_SIZE")
def _(c):
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", t["composite"], "--output", c.out / "classes.tif",
            "--device", "cpu", "--tile-size", -32]


@row("parameters/zero-block-size", match=r"BLOCK_SIZE must be at least 2")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, block_size=0)


@row("parameters/negative-learning-rate", needs="torch", match=r"LR")
def _(c):
    return tiny_train(c, c.kit.store, "--lr", -0.01)


@row("parameters/zero-batch-size", needs="torch", match=r"BATCH_SIZE")
def _(c):
    return tiny_train(c, c.kit.store, "--batch-size", 0)


@row("parameters/validation-fraction-one", match=r"VAL_FRACTION")
def _(c):
    composite, labels = c.kit.source
    return build_blocks(c, composite, labels, "--val-fraction", 1.0)


@row("parameters/easy-fraction-above-one", needs="torch", match=r"EASY_FRACTION")
def _(c):
    t = c.kit.target
    store = c.tmp / "target.h5"
    shutil.copy(t["store"], store)
    return ["partition", "--model", t["model"], "--blocks", store, "--easy-fraction", 1.5, "--device", "cpu"]


@row("parameters/cuda-absent-train", needs="torch", match=r"DEVICE 'cuda' asked for a GPU but .*Use DEVICE auto or cpu")
def _(c):
    c.env["CUDA_VISIBLE_DEVICES"] = ""  # no GPU for this run, on any machine
    argv = tiny_train(c, c.kit.store)
    return argv[: argv.index("--device")] + argv[argv.index("--device") + 2:] + ["--device", "cuda"]


@row("parameters/cuda-absent-infer", needs="torch", match=r"DEVICE 'cuda' asked for a GPU but")
def _(c):
    c.env["CUDA_VISIBLE_DEVICES"] = ""
    t = c.kit.target
    return ["infer", "--model", t["model"], "--input", t["composite"], "--output", c.out / "classes.tif",
            "--device", "cuda"]


# -- the matrix -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [pytest.param(r, id=r.id) for r in ROWS])
def test_bad_input(case: Row, kit: Kit, tmp_path: Path) -> None:
    if case.needs == "torch":
        pytest.importorskip("torch")
        pytest.importorskip("timm")
    if case.needs == "worldcereal" and not (WORLDCEREAL / "flanders2019_31UES" / "scenes").is_dir():
        pytest.skip(f"real Flanders data not found at {WORLDCEREAL}")
    c = Ctx(kit, tmp_path / "in", tmp_path / "out")
    c.tmp.mkdir()
    c.out.mkdir()
    run = cli(*case.make(c), env=c.env)
    assert run.rc == case.rc, run.describe()
    assert "Traceback" not in run.stderr and not (run.error or {}).get("traceback"), run.describe()
    if case.rc == 1:
        assert run.error is not None and run.error["kind"] == "input", run.describe()
        assert re.search(case.match, run.error["message"]), f"message does not match {case.match!r}:\n" \
                                                            f"{run.error['message']}"
        assert leftovers(c.out, c.keep) == [], f"a failed run left files: {leftovers(c.out, c.keep)}"
    else:
        assert run.result is not None, run.describe()
        if case.match:
            assert any(re.search(case.match, w) for w in run.warnings), \
                f"no warning matches {case.match!r}: {run.warnings}"
        if case.check is not None:
            case.check(c, run)
        assert temporaries(c.out) == []


# -- rows that need a full disk or qgis_process ---------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path):
    """A 1 MiB tmpfs (needs root and mount); skipped with the reason otherwise."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk needs root to mount a 1 MiB tmpfs")
    folder = tmp_path / "full"
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.mark.parametrize("checked_ahead", [True, False], ids=["space-checked-ahead", "write-error-caught"])
def test_build_blocks_on_a_full_disk_is_a_clear_error(full_disk: Path, tmp_path: Path, checked_ahead: bool) -> None:
    """Defect 4: build-blocks segfaulted (exit 139) when the disk filled up. It checks the free space before each
    strip; where that check does not see it coming (here: switched off), HDF5's write error is caught."""
    composite = write_raster(tmp_path / "big.tif", np.random.default_rng(0).normal(0.3, 0.1, (10, 256, 256)),
                             Grid(256, 256, (X0, 10.0, 0.0, Y0, 0.0, -10.0), epsg_wkt(32631)), -9999.0,
                             S2_BANDS, dtype=np.float32)
    script = ("import sys, crops_engine.blocks.writer as w; w._free_bytes = lambda folder: None; "
              "from crops_engine import cli; sys.exit(cli.main(sys.argv[1:]))")
    argv = ["--json-events", "build-blocks", "--composite", str(composite), "--block-size", "16",
            "--output", str(full_disk / "blocks.h5")]
    cmd = [PYTHON, "-m", "crops_engine", *argv] if checked_ahead else [PYTHON, "-c", script, *argv]
    proc = subprocess.run(cmd, cwd=str(ROOT), capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    error = next((e for e in events if e["event"] == "error"), None)
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    assert error is not None and error["kind"] == "input" and "traceback" not in error
    pattern = (r"Not enough free space for the block store .*blocks\.h5.*free.*Free some space, or write OUTPUT to "
               r"another disk") if checked_ahead else \
        r"The disk is full: no space left on device while writing the block store .*blocks\.h5.*another disk"
    assert re.search(pattern, error["message"]), error["message"]
    assert leftovers(full_disk) == []


@pytest.mark.e2e
def test_degenerate_extent_through_qgis_process_is_refused(tmp_path: Path) -> None:
    """Defect 1: a typed empty EXTENT reaches the engine (which refuses it) instead of meaning 'everything'."""
    folder = write_scenes(tmp_path / "scenes")
    out = tmp_path / "out"
    out.mkdir()
    proc = run_qgis_process("run", "crops:ndvi_qm", "--", f"FOLDER={folder}",
                            "EXTENT=500100,500100,5599900,5599900 [EPSG:32631]", f"OUTPUT={out / 'composite.tif'}",
                            timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, text[-3000:]
    assert re.search(r"Extent .* is empty", text), text[-3000:]
    assert "Traceback" not in text
    assert leftovers(out) == []

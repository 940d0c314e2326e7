"""Each .qml sidecar the engine writes is the style QGIS shows when it opens the raster."""

from __future__ import annotations

import numpy as np
import pytest

from crops_engine import raster, styles
from crops_engine.classes import CropClass

pytestmark = pytest.mark.qgis

GRID = raster.Grid(16, 16, (500000.0, 10.0, 0.0, 5600000.0, 0.0, -10.0), raster.epsg_wkt(32631))


def _tif(path, bands=1, dtype="uint8", values=None):
    ds = raster.create_geotiff(path, GRID, bands, dtype, nodata=255 if dtype == "uint8" else None)
    for b in range(bands):
        data = values if values is not None else np.full((16, 16), b + 1)
        ds.GetRasterBand(b + 1).WriteArray(np.asarray(data).astype(dtype))
    raster.finish_geotiff(ds)
    return path


def _layer(path):
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(str(path), "test")  # loads `name.qml` beside the file as its default style
    assert layer.isValid()
    return layer


def test_class_map_style_has_names_and_colours(qgis_app, tmp_path):
    classes = [CropClass(0, "maize", "#e6ab02", 1200), CropClass(1, "other", "#1b9e77", None)]
    path = _tif(tmp_path / "classes.tif", values=np.tile([0, 1], (16, 8)))
    styles.write_class_map_style(path, classes)
    layer = _layer(path)  # keep the layer alive: it owns the renderer
    renderer = layer.renderer()
    assert renderer.type() == "paletted"
    entries = [(c.value, c.label, c.color.name()) for c in renderer.classes()]
    assert entries == [(0.0, "maize", "#e6ab02"), (1.0, "other", "#1b9e77")]


def test_easy_hard_style(qgis_app, tmp_path):
    path = _tif(tmp_path / "mask.tif")
    styles.write_easy_hard_style(path)
    layer = _layer(path)
    labels = [c.label for c in layer.renderer().classes()]
    assert labels == ["easy", "hard"]


def test_grey_and_ramp_styles(qgis_app, tmp_path):
    grey = _tif(tmp_path / "confidence.tif", dtype="float32", values=np.linspace(0, 1, 256).reshape(16, 16))
    styles.write_grey_style(grey)
    grey_layer = _layer(grey)
    renderer = grey_layer.renderer()
    assert renderer.type() == "singlebandgray"
    assert renderer.contrastEnhancement().maximumValue() == pytest.approx(1.0)
    ndvi = _tif(tmp_path / "ndvi.tif", dtype="float32", values=np.linspace(-0.2, 0.9, 256).reshape(16, 16))
    styles.write_ramp_style(ndvi)
    ndvi_layer = _layer(ndvi)
    renderer = ndvi_layer.renderer()
    assert renderer.type() == "singlebandpseudocolor"
    assert renderer.classificationMax() == pytest.approx(0.9)


def test_rgb_style(qgis_app, tmp_path):
    path = _tif(tmp_path / "composite.tif", bands=3, dtype="uint16")
    styles.write_rgb_style(path, 3, 2, 1, [(0, 1500), (0, 1400), (0, 1300)])
    layer = _layer(path)
    renderer = layer.renderer()
    assert renderer.type() == "multibandcolor"
    assert (renderer.redBand(), renderer.greenBand(), renderer.blueBand()) == (3, 2, 1)
    assert renderer.redContrastEnhancement().maximumValue() == pytest.approx(1500)


def test_shipped_styles_are_what_the_engine_writes(qgis_app, tmp_path):
    from conftest import ROOT

    shipped = ROOT / "resources" / "styles"
    written = styles.write_shipped_styles(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in shipped.glob("*.qml"))
    for path in written:
        assert path.read_text() == (shipped / path.name).read_text(), f"run `make styles`: {path.name} changed"
    # And each loads in QGIS onto a raster it fits.
    raster_path = _tif(tmp_path / "probe.tif", bands=3, dtype="uint16")
    for path in written:
        layer = _layer(raster_path)
        message, ok = layer.loadNamedStyle(str(path))
        assert ok, (path.name, message)

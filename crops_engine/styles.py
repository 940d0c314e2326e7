"""QGIS layer styles (`.qml` sidecars) written beside the engine's rasters.

QGIS loads `name.qml` beside `name.tif` as the layer's default style, so outputs open
styled in the canvas, the graphical modeler and after `qgis_process`. Plain XML text:
no QGIS import needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .classes import CropClass

_HEAD = (
    "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
    '<qgis version="3.22.0" styleCategories="AllStyleCategories">\n  <pipe>\n'
)
_TAIL = (
    '    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>\n'
    '    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0"/>\n'
    '    <rasterresampler maxOversampling="2"/>\n'
    "  </pipe>\n  <blendMode>0</blendMode>\n</qgis>\n"
)


def qml_path(raster: str | os.PathLike[str]) -> Path:
    return Path(raster).with_suffix(".qml")


def _write(raster: str | os.PathLike[str], renderer: str) -> Path:
    path = qml_path(raster)
    path.write_text(_HEAD + renderer + _TAIL, encoding="utf-8")
    return path


def _palette_renderer(entries: Sequence[tuple[int, str, str]]) -> str:
    rows = "".join(
        f'        <paletteEntry value="{v}" color={quoteattr(c)} label={quoteattr(n)} alpha="255"/>\n'
        for v, n, c in entries
    )
    return (
        '    <rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">\n'
        "      <rasterTransparency/>\n"
        f"      <colorPalette>\n{rows}      </colorPalette>\n"
        "    </rasterrenderer>\n"
    )


def write_class_map_style(raster: str | os.PathLike[str], classes: Sequence[CropClass]) -> Path:
    """Paletted style: one legend entry per class, with its name and colour."""
    return _write(raster, _palette_renderer([(c.value, c.name, c.colour) for c in classes]))


EASY_COLOUR, HARD_COLOUR = "#2c7bb6", "#d7191c"
UNCHANGED_COLOUR, CHANGED_COLOUR = "#d9d9d9", "#e66101"


def write_agreement_style(raster: str | os.PathLike[str]) -> Path:
    """1 unchanged (light grey), 2 changed (orange): where an adaptation changed the map."""
    return _write(raster, _palette_renderer([(1, "unchanged", UNCHANGED_COLOUR), (2, "changed", CHANGED_COLOUR)]))


def write_easy_hard_style(raster: str | os.PathLike[str]) -> Path:
    """Easy (1) blue, hard (2) red: the partition mask."""
    return _write(raster, _palette_renderer([(1, "easy", EASY_COLOUR), (2, "hard", HARD_COLOUR)]))


def write_grey_style(raster: str | os.PathLike[str], minimum: float = 0.0, maximum: float = 1.0) -> Path:
    """Grey ramp with a fixed range (confidence 0..1, entropy 0..1)."""
    renderer = (
        '    <rasterrenderer type="singlebandgray" grayBand="1" gradient="BlackToWhite" opacity="1" alphaBand="-1">\n'
        "      <rasterTransparency/>\n"
        "      <contrastEnhancement>\n"
        f"        <minValue>{minimum}</minValue>\n        <maxValue>{maximum}</maxValue>\n"
        "        <algorithm>StretchToMinimumMaximum</algorithm>\n"
        "      </contrastEnhancement>\n"
        "    </rasterrenderer>\n"
    )
    return _write(raster, renderer)


NDVI_RAMP = (
    (-0.2, "#a50026"),
    (0.0, "#f46d43"),
    (0.2, "#fee08b"),
    (0.4, "#d9ef8b"),
    (0.6, "#66bd63"),
    (0.9, "#006837"),
)


def write_ramp_style(
    raster: str | os.PathLike[str],
    stops: Sequence[tuple[float, str]] = NDVI_RAMP,
    band: int = 1,
) -> Path:
    """Interpolated colour ramp on one band (NDVI by default)."""
    lo, hi = stops[0][0], stops[-1][0]
    items = "".join(f'          <item value="{v}" color="{c}" label="{v:g}" alpha="255"/>\n' for v, c in stops)
    renderer = (
        f'    <rasterrenderer type="singlebandpseudocolor" band="{band}" classificationMin="{lo}" '
        f'classificationMax="{hi}" opacity="1" alphaBand="-1">\n'
        "      <rasterTransparency/>\n"
        "      <rastershader>\n"
        f'        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" '
        f'minimumValue="{lo}" maximumValue="{hi}">\n{items}        </colorrampshader>\n'
        "      </rastershader>\n"
        "    </rasterrenderer>\n"
    )
    return _write(raster, renderer)


def write_rgb_style(
    raster: str | os.PathLike[str],
    red: int,
    green: int,
    blue: int,
    ranges: Sequence[tuple[float, float]],
) -> Path:
    """Natural colour: three bands each stretched over its (min, max)."""

    def enhancement(tag: str, lo: float, hi: float) -> str:
        return (
            f"      <{tag}>\n        <minValue>{lo:g}</minValue>\n        <maxValue>{hi:g}</maxValue>\n"
            f"        <algorithm>StretchToMinimumMaximum</algorithm>\n      </{tag}>\n"
        )

    renderer = (
        f'    <rasterrenderer type="multibandcolor" redBand="{red}" greenBand="{green}" blueBand="{blue}" '
        'opacity="1" alphaBand="-1">\n      <rasterTransparency/>\n'
        + enhancement("redContrastEnhancement", *ranges[0])
        + enhancement("greenContrastEnhancement", *ranges[1])
        + enhancement("blueContrastEnhancement", *ranges[2])
        + "    </rasterrenderer>\n"
    )
    return _write(raster, renderer)


# Styles shipped in resources/styles/ for users who load outputs by hand or style their own
# rasters: name -> writer. A class map's style depends on its model, so it is not among them.
SHIPPED = {
    "easy_hard": write_easy_hard_style,
    "confidence": write_grey_style,
    "entropy": write_grey_style,
    "ndvi": write_ramp_style,
    "composite_natural_colour": lambda path: write_rgb_style(path, 3, 2, 1, [(0, 1500), (0, 1400), (0, 1300)]),
}


def write_shipped_styles(folder: str | os.PathLike[str]) -> list[Path]:
    """Write resources/styles/*.qml (make styles); a test keeps the committed files identical."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [writer(folder / f"{name}.tif") for name, writer in SHIPPED.items()]


def _rgba(colour: str) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},255"


def write_field_classes_style(vector: str | os.PathLike[str], classes: Sequence[CropClass],
                              attribute: str = "class_name") -> Path:
    """Categorised polygon style of a field layer: one legend entry per class, filled with its colour."""
    categories = "".join(
        f'      <category render="true" symbol="{i}" value={quoteattr(c.name)} label={quoteattr(c.name)}/>\n'
        for i, c in enumerate(classes)
    )
    symbols = "".join(
        f'      <symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
        '        <layer class="SimpleFill" enabled="1" pass="0" locked="0">\n'
        '          <Option type="Map">\n'
        f'            <Option type="QString" name="color" value="{_rgba(c.colour)}"/>\n'
        '            <Option type="QString" name="outline_color" value="35,35,35,255"/>\n'
        '            <Option type="QString" name="outline_width" value="0.26"/>\n'
        '            <Option type="QString" name="style" value="solid"/>\n'
        '          </Option>\n'
        '        </layer>\n'
        '      </symbol>\n'
        for i, c in enumerate(classes)
    )
    text = (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology">\n'
        f'  <renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} forceraster="0" symbollevels="0" '
        'enableorderby="0">\n'
        f"    <categories>\n{categories}    </categories>\n"
        f"    <symbols>\n{symbols}    </symbols>\n"
        "  </renderer-v2>\n</qgis>\n"
    )
    path = qml_path(vector)
    path.write_text(text, encoding="utf-8")
    return path

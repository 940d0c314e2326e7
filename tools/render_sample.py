"""Render a sample scene (or a source/target pair) from `python -m crops_engine sample-data` to a PNG.

Per scene one row: true colour of the clearest summer date, NDVI of a spring, a summer and an
autumn date (each the clearest in its window, clouds from the SCL shown grey), and the labels
in their class colours. Uses matplotlib when it is installed, else composes the panels with
numpy and writes them with GDAL's PNG driver (no titles then).

    python tools/render_sample.py /tmp/sample_pair /tmp/sample_render.png
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import numpy as np
from osgeo import gdal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crops_engine.classes import read_classes_csv  # noqa: E402
from crops_engine.raster import hex_to_rgba  # noqa: E402

gdal.UseExceptions()

WINDOWS = {"spring": (5, 5), "summer": (7, 7), "autumn": (9, 10)}  # months
CLOUDY = (3, 8, 9, 10)


def _scenes(folder: Path) -> list[tuple[date, Path, Path]]:
    out = []
    for p in sorted((folder / "scenes").glob("S2_L2A_*.tif")):
        if p.stem.endswith("_SCL"):
            continue
        stamp = p.stem.split("_")[-1]
        out.append((date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:])), p, p.with_name(p.stem + "_SCL.tif")))
    return out


def _clearest(scenes: list, months: tuple[int, int]) -> tuple[date, Path, Path]:
    best, best_clear = None, -1.0
    for d, p, m in scenes:
        if months[0] <= d.month <= months[1]:
            scl = gdal.Open(str(m)).ReadAsArray()
            clear = float(np.isin(scl, (4, 5, 6)).mean())
            if clear > best_clear + 0.02:  # the first of nearly equally clear dates
                best, best_clear = (d, p, m), clear
    return best or scenes[len(scenes) // 2]


def _true_colour(path: Path) -> np.ndarray:
    ds = gdal.Open(str(path))
    rgb = np.stack([ds.GetRasterBand(b).ReadAsArray().astype(np.float32) / 10000.0 for b in (3, 2, 1)], -1)
    return np.clip((rgb / 0.16) ** (1 / 1.5), 0, 1)  # a gentle stretch, like a quick-look


def _ndvi_rgb(path: Path, mask: Path) -> np.ndarray:
    ds = gdal.Open(str(path))
    red = ds.GetRasterBand(3).ReadAsArray().astype(np.float32)
    nir = ds.GetRasterBand(7).ReadAsArray().astype(np.float32)
    ndvi = (nir - red) / np.maximum(nir + red, 1)
    stops = np.array([-0.2, 0.0, 0.2, 0.4, 0.6, 0.9])
    colours = np.array([[165, 0, 38], [244, 109, 67], [254, 224, 139], [217, 239, 139], [102, 189, 99], [0, 104, 55]])
    rgb = np.stack([np.interp(ndvi, stops, colours[:, k]) for k in range(3)], -1) / 255.0
    cloudy = np.isin(gdal.Open(str(mask)).ReadAsArray(), CLOUDY)
    rgb[cloudy] = 0.75
    return rgb


def _labels_rgb(folder: Path) -> tuple[np.ndarray, list]:
    labels = gdal.Open(str(folder / "labels.tif")).ReadAsArray()
    classes = read_classes_csv(folder / "classes.csv")
    lut = np.full((256, 3), 0.15, dtype=np.float32)
    for c in classes:
        lut[c.value] = np.array(hex_to_rgba(c.colour)[:3]) / 255.0
    return lut[labels], classes


def _rows(root: Path) -> list[tuple[str, Path]]:
    if (root / "source").is_dir() and (root / "target").is_dir():
        return [("source", root / "source"), ("target", root / "target")]
    return [(root.name, root)]


def render(root: Path, output: Path) -> Path:
    panels = []
    for name, folder in _rows(root):
        scenes = _scenes(folder)
        if not scenes:
            raise SystemExit(f"No scenes in {folder / 'scenes'}")
        d, p, _ = _clearest(scenes, WINDOWS["summer"])
        row = [(f"{name}: true colour {d}", _true_colour(p))]
        for season, months in WINDOWS.items():
            d, p, m = _clearest(scenes, months)
            row.append((f"NDVI {season} {d}", _ndvi_rgb(p, m)))
        labels, classes = _labels_rgb(folder)
        row.append(("labels", labels))
        panels.append(row)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError:
        return _write_png_gdal(panels, output)
    fig, axes = plt.subplots(len(panels), 5, figsize=(20, 4.3 * len(panels)), squeeze=False)
    for r, row in enumerate(panels):
        for c, (title, image) in enumerate(row):
            axes[r][c].imshow(image, interpolation="nearest")
            axes[r][c].set_title(title, fontsize=10)
            axes[r][c].set_axis_off()
    handles = [Patch(color=np.array(hex_to_rgba(c.colour)[:3]) / 255.0, label=f"{c.value} {c.name}") for c in classes]
    handles.append(Patch(color=(0.15, 0.15, 0.15), label="0 no field / road"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=80)
    plt.close(fig)
    return output


def _write_png_gdal(panels: list, output: Path) -> Path:
    gap = 8
    rows = []
    for row in panels:
        images = [np.pad(img, ((0, 0), (0, gap), (0, 0)), constant_values=1.0) for _, img in row]
        rows.append(np.pad(np.concatenate(images, 1), ((0, gap), (0, 0), (0, 0)), constant_values=1.0))
    canvas = (np.concatenate(rows, 0) * 255).astype(np.uint8)
    mem = gdal.GetDriverByName("MEM").Create("", canvas.shape[1], canvas.shape[0], 3, gdal.GDT_Byte)
    for k in range(3):
        mem.GetRasterBand(k + 1).WriteArray(canvas[:, :, k])
    output.parent.mkdir(parents=True, exist_ok=True)
    gdal.GetDriverByName("PNG").CreateCopy(str(output), mem)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a sample scene folder, or a pair folder holding source/ and target/")
    parser.add_argument("output", type=Path, help="PNG to write")
    args = parser.parse_args(argv)
    print(render(args.folder, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The model's input features: which raster bands they are, how they are read, how normalised.

Training reads features from the block store, inference from the rasters; both go through
`FeatureStack.read` (raw values, NaN where a pixel is invalid) and `normalise`, so the two
can never disagree about band order, nodata or scaling.

Features are the composite's bands in order, then each chosen extra band (e.g. the QA
raster's day of year). An extra band is named `PATH` (all its bands) or `PATH@BANDS`,
BANDS being a comma-separated list of 1-based band numbers or band descriptions
(`qa.tif@doy`, `qa.tif@2,3`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from osgeo import gdal

from .errors import CropsError
from .raster import Grid, band_names, open_raster, unreadable


@dataclass(frozen=True)
class BandRef:
    """One feature: band `band` (1-based) of raster `path`."""

    path: str
    band: int


def normalise(
    x: np.ndarray,
    mean: Sequence[float] | np.ndarray,
    std: Sequence[float] | np.ndarray,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Raw features (..., C, H, W) -> float32 (x - mean) / std per band, invalid pixels 0.

    `valid` (..., H, W) marks pixels whose features are all valid; where it is None, a pixel
    is valid when all its values are finite. Non-finite results are 0 either way. A band with
    std 0 (constant) is only centred.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 3:
        raise ValueError(f"normalise expects (..., C, H, W) features, got shape {x.shape}")
    mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
    if mean.shape[0] != x.shape[-3] or std.shape[0] != x.shape[-3]:
        raise ValueError(f"{x.shape[-3]} feature bands but {mean.shape[0]} means and {std.shape[0]} stds")
    scale = np.where(std > 0, std, np.float32(1.0))
    out = (x - mean) / scale
    if valid is None:
        valid = np.isfinite(x).all(axis=-3)
    bad = ~np.asarray(valid, dtype=bool)
    np.copyto(out, np.float32(0.0), where=bad[..., None, :, :])
    np.copyto(out, np.float32(0.0), where=~np.isfinite(out))
    return out


def parse_band_spec(spec: str) -> tuple[str, list[str]]:
    """`PATH` or `PATH@BANDS` -> (path, band selectors); an existing file name wins over `@`."""
    spec = str(spec).strip()
    if not spec:
        raise CropsError("An extra band is given as an empty text; give a raster path, e.g. qa.tif@doy.")
    if os.path.exists(spec) or "@" not in spec:
        return spec, []
    path, _, bands = spec.rpartition("@")
    selectors = [b.strip() for b in bands.split(",") if b.strip()]
    if not selectors:
        raise CropsError(f"Extra band {spec!r}: name bands after '@' (numbers or descriptions), e.g. qa.tif@doy.")
    return path, selectors


def _select_bands(path: str, ds: gdal.Dataset, selectors: list[str]) -> list[int]:
    if not selectors:
        return list(range(1, ds.RasterCount + 1))
    names = [n.lower() for n in band_names(ds)]
    out = []
    for sel in selectors:
        if sel.isdigit():
            b = int(sel)
            if not 1 <= b <= ds.RasterCount:
                raise CropsError(f"{path} has bands 1..{ds.RasterCount}; band {b} does not exist.")
        elif sel.lower() in names:
            b = names.index(sel.lower()) + 1
        else:
            raise CropsError(
                f"{path} has no band named {sel!r}; its bands are {', '.join(band_names(ds))} "
                "(or give 1-based band numbers)."
            )
        out.append(b)
    return out


class FeatureStack:
    """The composite's bands plus extra bands, on one grid, read window by window.

    All rasters must share the composite's grid (size, geotransform, CRS): features are
    never resampled behind the user's back.
    """

    def __init__(self, composite: str | os.PathLike[str], extra_bands: Sequence[str] = ()) -> None:
        self.composite = str(composite)
        self._datasets: dict[str, gdal.Dataset] = {}
        comp = self._open(self.composite)
        self.grid = Grid.of(comp)
        if not self.grid.crs_wkt:
            raise CropsError(f"{self.composite} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:32631).")
        self.sources: list[BandRef] = [BandRef(self.composite, b) for b in range(1, comp.RasterCount + 1)]
        names = band_names(comp)
        for spec in extra_bands:
            path, selectors = parse_band_spec(spec)
            ds = self._open(path)
            grid = Grid.of(ds)
            if not grid.same_as(self.grid):
                raise CropsError(
                    f"Extra band raster {path} is on another grid than the composite {self.composite} "
                    f"({grid.width}x{grid.height}, origin {grid.geotransform[0]:g},{grid.geotransform[3]:g}, "
                    f"pixel {grid.pixel_size} vs {self.grid.width}x{self.grid.height}, origin "
                    f"{self.grid.geotransform[0]:g},{self.grid.geotransform[3]:g}, pixel {self.grid.pixel_size}). "
                    "Warp it onto the composite's grid first (gdalwarp with -te/-ts/-t_srs and -r near), "
                    "or use the QA raster written with that composite."
                )
            ds_names = band_names(ds)
            for b in _select_bands(path, ds, selectors):
                self.sources.append(BandRef(path, b))
                names.append(ds_names[b - 1])
        self.names = _unique_names(names, self.sources)
        self.nodata: list[float | None] = []
        self._needs_mask: list[bool] = []
        for ref in self.sources:
            band = self._datasets[ref.path].GetRasterBand(ref.band)
            self.nodata.append(band.GetNoDataValue())
            flags = band.GetMaskFlags()
            self._needs_mask.append(not (flags & gdal.GMF_ALL_VALID or flags & gdal.GMF_NODATA))

    def _open(self, path: str) -> gdal.Dataset:
        if path not in self._datasets:
            self._datasets[path] = open_raster(path)
        return self._datasets[path]

    def __len__(self) -> int:
        return len(self.sources)

    def read(self, xoff: int, yoff: int, xsize: int, ysize: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw features float32 (C, ysize, xsize), NaN where invalid, and the valid mask (bool).

        A pixel is valid when every feature is finite, differs from its band's nodata value
        and is not masked by a GDAL mask band.
        """
        x = np.empty((len(self.sources), ysize, xsize), dtype=np.float32)
        valid = np.ones((ysize, xsize), dtype=bool)
        for i, ref in enumerate(self.sources):
            band = self._datasets[ref.path].GetRasterBand(ref.band)
            try:
                raw = band.ReadAsArray(xoff, yoff, xsize, ysize)
                mask = band.GetMaskBand().ReadAsArray(xoff, yoff, xsize, ysize) if self._needs_mask[i] else None
            except RuntimeError as exc:
                raise unreadable(ref.path, f"band {ref.band} at pixel {xoff},{yoff}: {exc}") from None
            if raw is None:
                raise unreadable(ref.path, f"band {ref.band} at pixel {xoff},{yoff} gave no data")
            nodata = self.nodata[i]
            if nodata is not None and not np.isnan(nodata):  # NaN nodata: caught by isfinite below
                valid &= raw != nodata
            if mask is not None:
                valid &= mask > 0
            x[i] = raw
        valid &= np.isfinite(x).all(axis=0)
        np.copyto(x, np.float32(np.nan), where=~valid)  # broadcast over bands, no index arrays
        return x, valid

    def close(self) -> None:
        self._datasets.clear()

    def __enter__(self) -> FeatureStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unique_names(names: list[str], sources: list[BandRef]) -> list[str]:
    """Band names, prefixed with their file's stem where two features would share a name."""
    out = []
    for name, ref in zip(names, sources, strict=True):
        if names.count(name) > 1:
            name = f"{Path(ref.path).stem}:{name}"
        out.append(name)
    if len(set(out)) != len(out):  # same file given twice, or same band twice
        out = [f"{n}#{i + 1}" if out.count(n) > 1 else n for i, n in enumerate(out)]
    return out


def feature_names(composite: str | os.PathLike[str], extra_bands: Sequence[str] = ()) -> list[str]:
    """The names of the features these rasters give, in model input order."""
    with FeatureStack(composite, extra_bands) as stack:
        return list(stack.names)

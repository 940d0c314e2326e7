"""Outputs appear complete or not at all: write under a temporary name, rename on success.

A GeoTIFF brings companions (`.aux.xml`, `.ovr`, a `.qml` style): every file that starts
with the temporary stem moves with it, and all of them are removed on error or cancel.
The QGIS bridge removes `*.crops-tmp-*` leftovers of a worker it had to kill.
"""

from __future__ import annotations

import glob
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CropsError

TMP_MARK = ".crops-tmp-"


def temporary_sibling(final: Path) -> Path:
    """`dir/name.crops-tmp-<id>.ext` beside `final`, so the rename stays on one filesystem."""
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return final.with_name(f"{final.stem}{TMP_MARK}{token}{final.suffix}")


def _temporary_stem(tmp: Path, final: Path) -> str:
    """`classes.crops-tmp-12-ab12cd34` for `classes.crops-tmp-12-ab12cd34.tif` (or a folder)."""
    return tmp.name[: len(tmp.name) - len(final.suffix)]


def _companions(tmp: Path, final: Path) -> list[Path]:
    return list(tmp.parent.glob(_temporary_stem(tmp, final) + "*"))


def remove_partial(final: Path) -> None:
    """Remove leftovers of interrupted writes of `final` (any `stem.crops-tmp-*`)."""
    final = Path(final)
    if not final.parent.is_dir():
        return
    for p in final.parent.glob(f"{final.stem}{TMP_MARK}*"):
        _remove(p)


def _remove(p: Path) -> None:
    try:
        if p.is_dir():
            import shutil

            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path for `final`; on success rename it (and companions) into place.

    Companion files are renamed by replacing the temporary stem with the final stem:
    `x.crops-tmp-1.tif.aux.xml` -> `x.tif.aux.xml`, `x.crops-tmp-1.qml` -> `x.qml`.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(final)
    try:
        yield tmp
    except BaseException:
        for p in _companions(tmp, final):
            _remove(p)
        raise
    if not tmp.exists():
        raise FileNotFoundError(f"{tmp} was not written")
    if tmp.is_dir() and final.is_dir():
        if any(final.iterdir()):
            _remove(tmp)
            raise CropsError(f"Output folder {final} exists and is not empty: choose a new or empty folder.")
        final.rmdir()
    # Drop stale companions of an older `final` (`x.tif.aux.xml`, `x.tif.ovr`) so no stale
    # statistics or overviews survive; `x.qml` is replaced only by a new style, since another
    # output with the same stem (`x.h5` beside `x.tif`) must not lose the raster's style.
    for p in final.parent.glob(glob.escape(final.name) + ".*"):
        if TMP_MARK not in p.name:
            _remove(p)
    if tmp.is_file():
        # Some writers (safetensors) create 0600 files; outputs get the user's usual mode.
        os.chmod(tmp, 0o666 & ~_umask())
    stem = _temporary_stem(tmp, final)
    for p in sorted(_companions(tmp, final), key=lambda q: q == tmp):
        target = final.parent / (final.stem + p.name[len(stem) :])
        os.replace(p, target)

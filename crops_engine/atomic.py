"""Outputs appear complete or not at all: write under a temporary name, rename on success.

A GeoTIFF brings companions (`.aux.xml`, `.ovr`, a `.qml` style): every file that starts
with the temporary stem moves with it, and all of them are removed on error or cancel.

Every temporary name carries the writing process's id (`x.crops-tmp-<pid>-<random>.tif`), so
leftovers of a process that died (kill -9, power cut) are recognised and removed by the next run
that writes beside them (`remove_stale`), and by the QGIS bridge after it had to kill a worker.

A run holds an advisory lock on each of its outputs (`output_lock`: `.x.tif.crops-lock` beside
`x.tif`, holding the owner's pid): a second run writing the same output is refused with the pid of
the live one instead of racing it. The kernel drops the lock of a process that dies, so a
leftover lock file never blocks anyone; the next run that takes it removes it when it is done.

`check_output` says before any work whether an output can be written at all (a folder that
exists, is writable, is on a real file system and has room), and `write_error` turns a failed
write (full disk, read-only file system, permission denied, a folder in the way) into a
`CropsError` that names the file and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import Cancelled, CropsError

TMP_MARK = ".crops-tmp-"
LOCK_SUFFIX = ".crops-lock"
MIN_FREE_BYTES = 64 * 1024  # an output folder with less than this free is full: refuse before any work
_TOKEN = re.compile(re.escape(TMP_MARK) + r"(\d+)-")
_VIRTUAL = ("/proc", "/sys")  # kernel file systems: nothing can be written there


def temporary_sibling(final: Path) -> Path:
    """`dir/name.crops-tmp-<pid>-<id>.ext` beside `final`, so the rename stays on one filesystem."""
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return final.with_name(f"{final.stem}{TMP_MARK}{token}{final.suffix}")


def _temporary_stem(tmp: Path, final: Path) -> str:
    """`classes.crops-tmp-12-ab12cd34` for `classes.crops-tmp-12-ab12cd34.tif` (or a folder)."""
    return tmp.name[: len(tmp.name) - len(final.suffix)]


def _companions(tmp: Path, final: Path) -> list[Path]:
    return list(tmp.parent.glob(glob.escape(_temporary_stem(tmp, final)) + "*"))


def owner_pid(path: Path) -> int | None:
    """The id of the process that wrote temporary file `path` (None when the name carries none)."""
    match = _TOKEN.search(path.name)
    return int(match.group(1)) if match else None


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (one of another user counts as alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # pragma: no cover - no signal 0 there
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(final: Path) -> Iterator[Path]:
    """Temporary files and folders beside `final` written for it or its sidecars (`m.safetensors` ->
    `m.crops-tmp-*`, `m.resume.crops-tmp-*`, `m.metrics.crops-tmp-*` ...)."""
    prefix = glob.escape(final.name.split(".", 1)[0])
    seen: set[Path] = set()
    for pattern in (f"{prefix}{TMP_MARK}*", f"{prefix}.*{TMP_MARK}*"):
        for p in final.parent.glob(pattern):
            if p not in seen:
                seen.add(p)
                yield p


def remove_stale(final: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary leftovers beside `final` whose writing process is gone (and lock files nobody holds);
    returns what was removed. Files of a live process (another run writing now) are left alone."""
    final = Path(final)
    removed: list[Path] = []
    if not final.parent.is_dir():
        return removed
    for p in _leftovers(final):
        pid = owner_pid(p)
        if pid is not None and not process_alive(pid):
            _remove(p)
            removed.append(p)
    lock = lock_path(final)
    if lock.exists() and _unheld(lock):
        with contextlib.suppress(OSError):
            lock.unlink()
            removed.append(lock)
    return removed


def remove_partial(final: str | os.PathLike[str]) -> None:
    """Remove leftovers of interrupted writes of `final` by processes that have ended (see `remove_stale`)."""
    remove_stale(final)


def _remove(p: Path) -> None:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- can the output be written? -----------------------------------------------------------------------


def _human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def free_bytes(folder: str | os.PathLike[str]) -> int | None:
    """Free bytes on the file system of `folder` (or of its nearest existing parent); None if unknown."""
    p = Path(folder)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return int(shutil.disk_usage(p).free)
    except OSError:
        return None


def _virtual(path: Path) -> str | None:
    resolved = str(Path(os.path.abspath(path)))
    for root in _VIRTUAL:
        if resolved == root or resolved.startswith(root + os.sep):
            return root
    return None


def check_output(final: str | os.PathLike[str], what: str = "OUTPUT", folder: bool = False, suffix: str = "") -> None:
    """A CropsError now, before any work, when `final` cannot be written: under /proc or /sys, an existing
    folder where a file belongs (or a file where a folder belongs), a parent that is a file, a folder that
    cannot be created or written, or a full disk. Creates no file and leaves no folder behind."""
    final = Path(final)
    root = _virtual(final)
    if root is not None:
        raise CropsError(
            f"{what} {final} is under {root}, a virtual file system of the kernel where no file can be written: "
            "choose a folder on a disk."
        )
    if final.is_dir() and not folder:
        raise CropsError(
            f"{what} {final} is an existing folder: give a file name (e.g. {final / (what.lower() + suffix)})."
        )
    if folder and final.exists() and not final.is_dir():
        raise CropsError(f"{what} {final} is an existing file: give the name of a folder to create.")
    parent = final.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CropsError(f"{what} {final} cannot be written: {existing} is a file, not a folder. Choose another path.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CropsError(
            f"{what} {final} cannot be written: the folder {existing} is not writable "
            f"({'read-only file system' if _read_only(existing) else 'permission denied'}). "
            "Choose a folder you can write to."
        )
    free = free_bytes(existing)
    if free is not None and free < MIN_FREE_BYTES:
        raise CropsError(
            f"{what} {final} cannot be written: the disk of {existing} is full ({_human(free)} free). "
            "Free some space or choose a folder on another disk."
        )


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


# -- a failed write as a message ---------------------------------------------------------------------

_MESSAGES = {  # strerror texts GDAL, HDF5 and the safetensors writer put into their messages
    errno.ENOSPC: ("No space left on device", "os error 28", "errno = 28"),
    errno.EDQUOT: ("Disk quota exceeded", "os error 122", "errno = 122"),
    errno.EFBIG: ("File too large", "os error 27", "errno = 27"),
    errno.EROFS: ("Read-only file system", "os error 30", "errno = 30"),
    errno.EACCES: ("Permission denied", "os error 13", "errno = 13"),
    errno.EPERM: ("Operation not permitted", "os error 1)", "errno = 1,"),
    errno.EISDIR: ("Is a directory", "os error 21", "errno = 21"),
    errno.ENOTDIR: ("Not a directory", "os error 20", "errno = 20"),
}
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _errno_of(exc: BaseException) -> int | None:
    for e in (exc, exc.__cause__, exc.__context__):
        if isinstance(e, OSError) and e.errno in _MESSAGES:
            return e.errno
    text = str(exc)
    for code, needles in _MESSAGES.items():
        if any(n in text for n in needles):
            return code
    return None


def _mentions(exc: BaseException, folder: Path) -> bool:
    """Whether the error is about a file in `folder` (not, say, an input that could not be read)."""
    names = [str(getattr(exc, "filename", "") or ""), str(getattr(exc, "filename2", "") or ""), str(exc)]
    folder_abs = os.path.abspath(folder)
    for name in names:
        if not name:
            continue
        if folder_abs in name or (str(folder) not in ("", ".") and str(folder) in name):
            return True
        path = name.strip("`'\" ")
        if path and os.path.dirname(os.path.abspath(path)) == folder_abs:
            return True
    return False


def write_error(final: str | os.PathLike[str], exc: BaseException, what: str = "") -> CropsError | None:
    """The CropsError for `exc`, raised while writing `final`, when it is a problem of the output's location
    (disk full, quota, read-only, permission, a folder in the way); None for anything else."""
    if isinstance(exc, CropsError | Cancelled) or not isinstance(exc, Exception):
        return None
    final = Path(final)
    code = _errno_of(exc)
    if code is None:
        return None
    folder = final.parent
    name = f"{what} {final}" if what else str(final)
    if code in _FULL:
        free = free_bytes(folder)
        room = f" ({_human(free)} free now)" if free is not None else ""
        return CropsError(
            f"The disk is full: no space left on device while writing {name}{room}. Free some space, or "
            "choose a folder on another disk, then run again."
        )
    if not _mentions(exc, folder):
        return None
    if code == errno.EROFS:
        return CropsError(f"Cannot write {name}: {folder} is on a read-only file system. Choose a folder "
                          "you can write to.")
    if code in (errno.EACCES, errno.EPERM):
        return CropsError(f"Cannot write {name}: permission denied in {folder}. Choose a folder you can "
                          "write to.")
    if code == errno.EISDIR:
        return CropsError(f"Cannot write {name}: a folder is in the way. Give a file name that is not an "
                          "existing folder.")
    return CropsError(f"Cannot write {name}: a part of its path is a file, not a folder. Choose another path.")


def explain_write_error(outputs: Iterable[tuple[str, str | os.PathLike[str]]], exc: BaseException) -> CropsError | None:
    """`write_error` for the first of (what, path) outputs it explains (a full disk: the first output)."""
    for what, path in outputs:
        found = write_error(path, exc, what)
        if found is not None:
            return found
    return None


# -- the output lock -----------------------------------------------------------------------------------


def lock_path(final: str | os.PathLike[str]) -> Path:
    """`.x.tif.crops-lock` beside `x.tif` (hidden; not one of the companions renamed or dropped with `x.tif`)."""
    final = Path(final)
    return final.with_name(f".{final.name}{LOCK_SUFFIX}")


_held: dict[str, list] = {}  # lock path -> [fd, count, created folders]: a process may lock an output twice
_held_guard = threading.Lock()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unheld(lock: Path) -> bool:
    """Whether nobody holds lock file `lock` (a leftover of a process that died)."""
    key = os.path.abspath(lock)
    if key in _held:
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        return _try_lock(fd)
    finally:
        os.close(fd)  # closing drops the probe's lock


def _holder(lock: Path) -> str:
    try:
        text = lock.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "another process"
    pid, _, rest = text.partition(" ")
    if not pid.isdigit():
        return "another process"
    return f"process {pid}" + (f", {rest}" if rest else "")


def _make_parents(folder: Path, what: str, final: Path) -> list[Path]:
    """Create `folder` and missing parents; the ones created, deepest first (removed again if left empty)."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(final, exc, what) or CropsError(
            f"Cannot create the folder {folder} for {what} {final}: {exc.strerror or exc}. Choose another folder."
        ) from None
    return missing


def _acquire(final: Path, what: str, label: str) -> None:
    lock = lock_path(final)
    key = os.path.abspath(lock)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            return
    created = _make_parents(final.parent, what, final)
    for _ in range(10):
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            _remove_empty(created)
            raise write_error(final, exc, what) or CropsError(
                f"Cannot write {what} {final}: {exc.strerror or exc}. Choose a folder you can write to."
            ) from None
        if not _try_lock(fd):
            os.close(fd)
            raise CropsError(
                f"{what} {final} is being written by another CROPS run ({_holder(lock)}): wait for it to finish or "
                f"stop it, or choose another {what}."
            )
        try:  # the file locked must still be the one at `lock` (a finishing run unlinks it)
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {label} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        except OSError as exc:
            with contextlib.suppress(OSError):
                lock.unlink()
            os.close(fd)
            _remove_empty(created)
            raise write_error(final, exc, what) or CropsError(
                f"Cannot write {what} {final}: {exc.strerror or exc}. Choose a folder you can write to."
            ) from None
        with _held_guard:
            _held[key] = [fd, 1, created]
        return
    raise CropsError(f"Could not lock {what} {final}: other runs keep taking it. Try again.")


def _release(final: Path) -> None:
    lock = lock_path(final)
    key = os.path.abspath(lock)
    with _held_guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
    fd, _, created = entry
    with contextlib.suppress(OSError):
        lock.unlink()  # while still holding it: a run waiting on this file retries on the new one
    os.close(fd)
    _remove_empty(created)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a run created for its outputs when nothing was written into them (deepest first)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


@contextmanager
def output_lock(outputs: Iterable[tuple[str, str | os.PathLike[str]]], label: str = "") -> Iterator[None]:
    """Hold the output lock of each (what, path) for the with-block and remove the stale leftovers beside it
    (`remove_stale`); a folder created for the lock is removed again if nothing was written into it. A CropsError
    names an output another live run is writing, and that run's process (or why the lock cannot be written)."""
    taken: list[Path] = []
    try:
        for what, path in outputs:
            final = Path(path)
            _acquire(final, what, label)
            taken.append(final)
            remove_stale(final)
        yield
    finally:
        for final in reversed(taken):
            _release(final)


# -- writing -------------------------------------------------------------------------------------------


@contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path for `final`; on success rename it (and companions) into place.

    Companion files are renamed by replacing the temporary stem with the final stem:
    `x.crops-tmp-1.tif.aux.xml` -> `x.tif.aux.xml`, `x.crops-tmp-1.qml` -> `x.qml`.
    A write that fails for a reason of the output's location raises a CropsError naming it (`write_error`);
    nothing of the write is left behind.
    """
    final = Path(final)
    from .distributed import diverted

    final = diverted(final) or final  # under torchrun only process 0 writes the run's outputs (others: scratch)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(final, exc, what="") or CropsError(
            f"Cannot create the folder {final.parent} for {final}: {exc.strerror or exc}. Choose another folder."
        ) from None
    remove_stale(final)
    tmp = temporary_sibling(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{tmp} was not written")
        if tmp.is_dir() and final.is_dir():
            if any(final.iterdir()):
                raise CropsError(f"Output folder {final} exists and is not empty: choose a new or empty folder.")
            final.rmdir()
        elif final.is_dir():
            example = final / ("output" + tmp.suffix)
            raise CropsError(f"{final} is an existing folder: give a file name (e.g. {example}).")
    except BaseException as exc:
        for p in _companions(tmp, final):
            _remove(p)
        explained = write_error(final, exc, what="")
        if explained is not None:
            raise explained from None
        raise
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

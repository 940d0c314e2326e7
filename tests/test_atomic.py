"""Outputs appear whole or not at all."""

from __future__ import annotations

import pytest

from crops_engine.atomic import TMP_MARK, atomic_path, remove_partial


def test_success_renames_file_and_companions(tmp_path):
    final = tmp_path / "classes.tif"
    with atomic_path(final) as tmp:
        assert TMP_MARK in tmp.name and tmp.parent == tmp_path
        tmp.write_text("raster")
        (tmp.parent / (tmp.name + ".aux.xml")).write_text("stats")
        tmp.with_suffix(".qml").write_text("style")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classes.qml", "classes.tif", "classes.tif.aux.xml"]
    assert final.read_text() == "raster"


def test_error_removes_everything(tmp_path):
    final = tmp_path / "out.tif"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("half")
        tmp.with_suffix(".qml").write_text("style")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_folder_output_and_leftover_cleanup(tmp_path):
    final = tmp_path / "pair"
    with atomic_path(final) as tmp:
        tmp.mkdir()
        (tmp / "a.tif").write_text("a")
    assert (final / "a.tif").read_text() == "a"
    leftover = tmp_path / f"pair{TMP_MARK}{_dead_pid()}-abc"
    leftover.mkdir()
    (leftover / "b").write_text("b")
    remove_partial(final)
    assert not leftover.exists() and final.exists()


def test_only_leftovers_of_dead_processes_are_removed(tmp_path):
    """Issue 19: 0-byte `*.crops-tmp-*` files of a killed run survived the next run. Every temporary name carries
    its process id: the next write of the output (or of a sidecar named for it) removes those of ended processes,
    never those of a live run."""
    import os

    dead, alive = _dead_pid(), os.getppid()
    stale = [tmp_path / f"map{TMP_MARK}{dead}-0a1b2c3d.tif", tmp_path / f"map{TMP_MARK}{dead}-0a1b2c3d.tif.aux.xml",
             tmp_path / f"map{TMP_MARK}{dead}-0a1b2c3d.qml", tmp_path / f"map.run{TMP_MARK}{dead}-ffffffff.json"]
    live = tmp_path / f"map{TMP_MARK}{alive}-12345678.tif"
    other = tmp_path / f"other{TMP_MARK}{dead}-12345678.tif"  # another output's: left to that output's next run
    for p in [*stale, live, other]:
        p.write_bytes(b"")
    with atomic_path(tmp_path / "map.tif") as tmp:
        assert str(os.getpid()) in tmp.name
        tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["map.tif", live.name, other.name])


def test_an_output_folder_in_the_way_is_a_clear_error_and_leaves_nothing(tmp_path):
    """Issue 19: an OUTPUT that is an existing folder raised IsADirectoryError and left `.crops-tmp-` companions."""
    from crops_engine.errors import CropsError

    final = tmp_path / "map.tif"
    final.mkdir()
    with pytest.raises(CropsError, match="map.tif is an existing folder: give a file name"), atomic_path(final) as tmp:
        tmp.write_text("raster")
        (tmp.parent / (tmp.name + ".aux.xml")).write_text("stats")
        tmp.with_suffix(".qml").write_text("style")
    assert [p.name for p in tmp_path.iterdir()] == ["map.tif"] and list(final.iterdir()) == []


def test_write_errors_of_the_location_become_messages(tmp_path):
    import errno

    from crops_engine.atomic import write_error

    final = tmp_path / "out" / "map.tif"
    full = write_error(final, RuntimeError("TIFFAppendToStrip:Write error at scanline 3: No space left on device"))
    assert full is not None and "The disk is full: no space left on device while writing" in str(full)
    assert str(final) in str(full)
    denied = write_error(final, PermissionError(errno.EACCES, "Permission denied", str(final)), "OUTPUT")
    assert denied is not None and f"Cannot write OUTPUT {final}: permission denied" in str(denied)
    gdal = RuntimeError(f"Attempt to create new tiff file `{final.parent}/map.crops-tmp-1-a.tif' failed: "
                        "Read-only file system")
    assert "read-only file system" in str(write_error(final, gdal))
    elsewhere = PermissionError(errno.EACCES, "Permission denied", "/etc/secret.tif")  # an input: not ours to explain
    assert write_error(final, elsewhere) is None and write_error(final, ValueError("bad value")) is None


def test_check_output_refuses_what_cannot_be_written(tmp_path):
    from crops_engine.atomic import check_output
    from crops_engine.errors import CropsError

    with pytest.raises(CropsError, match="under /proc, a virtual file system"):
        check_output("/proc/x/map.tif")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(CropsError, match="a_file is a file, not a folder"):
        check_output(tmp_path / "a_file" / "sub" / "map.tif")
    (tmp_path / "folder").mkdir()
    with pytest.raises(CropsError, match="is an existing folder: give a file name"):
        check_output(tmp_path / "folder", suffix=".tif")
    with pytest.raises(CropsError, match="is an existing file: give the name of a folder"):
        check_output(tmp_path / "a_file", folder=True)
    check_output(tmp_path / "new" / "deeper" / "map.tif")  # creatable: fine, and nothing is created
    assert not (tmp_path / "new").exists()


def test_the_output_lock_refuses_a_second_writer_naming_it(tmp_path):
    import os
    import subprocess
    import sys
    import textwrap

    from crops_engine.atomic import lock_path, output_lock
    from crops_engine.errors import CropsError

    final = tmp_path / "sub" / "map.tif"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(os.getcwd())!r})
        from crops_engine.atomic import output_lock
        with output_lock([("OUTPUT", {str(final)!r})], "crops infer"):
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CropsError, match=rf"OUTPUT .*map.tif is being written by another CROPS run \(process "
                                             rf"{holder.pid}, crops infer since "), output_lock([("OUTPUT", final)]):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert lock_path(final).exists()  # the dead holder's lock file: stale, never in the way
    with output_lock([("OUTPUT", final)]), output_lock([("OUTPUT", final)]):  # re-entrant in one process
        assert lock_path(final).read_text().startswith(f"{os.getpid()} ")
    assert list(final.parent.iterdir()) == []


def test_the_lock_removes_the_folders_it_made_when_nothing_was_written(tmp_path):
    from crops_engine.atomic import output_lock

    with output_lock([("OUTPUT", tmp_path / "a" / "b" / "map.tif")]):
        assert (tmp_path / "a" / "b").is_dir()
    assert list(tmp_path.iterdir()) == []


def test_replacing_an_output_drops_its_stale_companions_only(tmp_path):
    final = tmp_path / "map.tif"
    final.write_text("old")
    (tmp_path / "map.tif.aux.xml").write_text("old statistics")
    final.with_suffix(".qml").write_text("the raster's style")
    with atomic_path(final) as tmp:
        tmp.write_text("new")
    assert final.read_text() == "new"
    assert not (tmp_path / "map.tif.aux.xml").exists()
    # Another output with the same stem leaves the raster's style alone.
    with atomic_path(tmp_path / "map.h5") as tmp:
        tmp.write_text("store")
    assert final.with_suffix(".qml").read_text() == "the raster's style"


def test_existing_non_empty_folder_is_not_overwritten(tmp_path):
    from crops_engine.errors import CropsError

    final = tmp_path / "pair"
    final.mkdir()
    (final / "keep.txt").write_text("user data")
    with pytest.raises(CropsError, match="not empty"), atomic_path(final) as tmp:
        tmp.mkdir()
    assert (final / "keep.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["pair"]


def test_outputs_get_the_usual_file_mode(tmp_path):
    import os

    final = tmp_path / "model.safetensors"
    with atomic_path(final) as tmp:
        tmp.write_text("weights")
        os.chmod(tmp, 0o600)  # as the safetensors writer leaves it
    mask = os.umask(0o022)
    os.umask(mask)
    assert final.stat().st_mode & 0o777 == 0o666 & ~mask

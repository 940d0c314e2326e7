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


def test_folder_output_and_leftover_cleanup(tmp_path):
    final = tmp_path / "pair"
    with atomic_path(final) as tmp:
        tmp.mkdir()
        (tmp / "a.tif").write_text("a")
    assert (final / "a.tif").read_text() == "a"
    leftover = tmp_path / f"pair{TMP_MARK}123-abc"
    leftover.mkdir()
    (leftover / "b").write_text("b")
    remove_partial(final)
    assert not leftover.exists() and final.exists()


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

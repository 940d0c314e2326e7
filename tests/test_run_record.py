"""Every run repeatable: `<output>.run.json`, `--config` with `--set`, batch plans, QGIS batch rows."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from crops_engine.cli import EXIT_OK, EXIT_USER, config_shorthand
from crops_engine.run_record import record_path

SAMPLE = ["sample-data", "--preset", "source", "--size", "32", "--start-date", "2019-05-01", "--end-date",
          "2019-05-20"]


def engine(engine_python: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([engine_python, "-m", "crops_engine", "--json-events", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env, timeout=600)


def events(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file; a GeoPackage by its features (its header holds the time it was written)."""
    found = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix == ".gpkg":
            from osgeo import ogr

            ds = ogr.Open(str(p))  # keep the dataset alive while its layer is read
            features = [(f.GetGeometryRef().ExportToWkt(), f.items()) for f in ds.GetLayer(0)]
            ds = None
            found[str(p.relative_to(folder))] = hashlib.sha256(repr(features).encode()).hexdigest()
        elif p.is_file():
            found[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def first_run(engine_python, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    proc = engine(engine_python, *SAMPLE, "--seed", "4", "--output-folder", "first", cwd=folder)
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    return folder


def test_a_run_writes_its_record_beside_its_output(first_run):
    record = json.loads((first_run / "first.run.json").read_text())
    assert record["command"] == "sample-data" and record["exit_status"] == 0
    params = record["parameters"]
    assert params["SEED"] == 4 and params["SIZE"] == 32
    assert params["REVISIT_DAYS"] == 5  # defaults are recorded too
    assert params["OUTPUT_FOLDER"] == str(first_run / "first")  # paths are absolute
    assert record["versions"]["crops_engine"] and record["versions"]["numpy"]
    assert record["world_size"] == 1 and record["started"] <= record["ended"]
    assert str(first_run / "first" / "labels.tif") in record["outputs"]


def test_record_names_follow_the_output():
    assert record_path("/d/model.safetensors") == Path("/d/model.run.json")
    assert record_path("/d/classes.tif") == Path("/d/classes.run.json")
    assert record_path("/d/sample") == Path("/d/sample.run.json")


def test_repeating_a_run_gives_the_same_outputs_and_an_override_changes_only_what_it_names(
        engine_python, first_run):
    config = first_run / "first.run.json"
    proc = engine(engine_python, "--config", str(config), "--set", f"OUTPUT_FOLDER={first_run / 'again'}",
                  cwd=first_run)
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    assert digests(first_run / "again") == digests(first_run / "first")  # bit-identical on CPU
    before = json.loads(config.read_text())["parameters"]
    after = json.loads((first_run / "again.run.json").read_text())["parameters"]
    assert {k for k in before if before[k] != after[k]} == {"OUTPUT_FOLDER"}

    proc = engine(engine_python, "sample-data", "--config", str(config), "--set", "SEED=5", "--set",
                  f"OUTPUT_FOLDER={first_run / 'seed5'}")
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    changed = json.loads((first_run / "seed5.run.json").read_text())["parameters"]
    assert {k for k in before if before[k] != changed[k]} == {"OUTPUT_FOLDER", "SEED"}
    assert digests(first_run / "seed5") != digests(first_run / "first")


def test_unknown_names_and_a_record_of_another_command_are_clear_errors(engine_python, first_run, tmp_path):
    config = first_run / "first.run.json"
    proc = engine(engine_python, "--config", str(config), "--set", "BLOCK_SIZ=3")
    assert proc.returncode == EXIT_USER and "BLOCK_SIZ" in events(proc)[-1]["message"]
    newer = json.loads(config.read_text())
    newer["parameters"]["CLOUD_TYPE"] = "cirrus"  # a parameter of a newer engine
    (tmp_path / "newer.run.json").write_text(json.dumps(newer))
    proc = engine(engine_python, "--config", str(tmp_path / "newer.run.json"))
    message = events(proc)[-1]["message"]
    assert proc.returncode == EXIT_USER and "CLOUD_TYPE" in message and "newer" in message
    proc = engine(engine_python, "infer", "--config", str(config))
    assert proc.returncode == EXIT_USER and "records a sample-data run" in events(proc)[-1]["message"]
    (tmp_path / "broken.run.json").write_text("{not json")
    proc = engine(engine_python, "--config", str(tmp_path / "broken.run.json"))
    assert proc.returncode == EXIT_USER and "not a readable run record" in events(proc)[-1]["message"]


def test_a_changed_input_warns(engine_python, first_run, tmp_path):
    scenes = first_run / "first" / "scenes"
    composite = tmp_path / "composite.tif"
    proc = engine(engine_python, "ndvi-qm", "--folder", str(scenes), "--pattern", "S2_L2A_????????.tif",
                  "--output", str(composite))
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    record = json.loads((tmp_path / "composite.run.json").read_text())
    assert record["inputs"]["FOLDER"]["path"] == str(scenes)
    labels = tmp_path / "labels.tif"  # an input file whose time changes: build-blocks' labels
    labels.write_bytes((first_run / "first" / "labels.tif").read_bytes())
    (tmp_path / "classes.csv").write_bytes((first_run / "first" / "classes.csv").read_bytes())
    proc = engine(engine_python, "build-blocks", "--composite", str(composite), "--labels", str(labels),
                  "--block-size", "16", "--output", str(tmp_path / "blocks.h5"))
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    os.utime(labels, (1_000_000_000, 1_000_000_000))
    proc = engine(engine_python, "--config", str(tmp_path / "blocks.run.json"), "--set",
                  f"OUTPUT={tmp_path / 'blocks2.h5'}")
    assert proc.returncode == EXIT_OK, proc.stdout[-2000:]
    warnings = [e["text"] for e in events(proc) if e["event"] == "log" and e.get("level") == "warning"]
    assert any("LABELS" in w and "changed since the run was recorded" in w for w in warnings), warnings


def test_config_shorthand_becomes_run_config():
    assert config_shorthand(["--json-events", "infer", "--config", "r.json", "--set", "SEED=1"]) == [
        "--json-events", "run-config", "--config", "r.json", "--command", "infer", "--set", "SEED=1"]
    assert config_shorthand(["infer", "--model", "m"]) == ["infer", "--model", "m"]


@pytest.mark.parametrize("on_failure", ["continue", "stop"])
def test_a_batch_runs_in_order_and_reports_the_failing_run(engine_python, tmp_path, on_failure):
    plan = {
        "on_failure": on_failure,
        "runs": [
            {"name": "source", "command": "sample-data",
             "parameters": {"PRESET": "source", "SIZE": 32, "START_DATE": "2019-05-01", "END_DATE": "2019-05-12",
                            "OUTPUT_FOLDER": "a"}},
            {"name": "broken", "command": "sample-data", "parameters": {"SIZE": 8, "OUTPUT_FOLDER": "b"}},
            {"name": "repeat", "config": "a.run.json", "set": {"SEED": 2, "OUTPUT_FOLDER": "c"}},
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    proc = engine(engine_python, "batch", "--plan", str(tmp_path / "plan.json"), "--output",
                  str(tmp_path / "summary.json"))
    assert proc.returncode == EXIT_USER
    assert "1 of 3 batch runs failed" in events(proc)[-1]["message"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    status = [r["status"] for r in summary["runs"]]
    assert status == (["ok", "failed", "ok"] if on_failure == "continue" else ["ok", "failed", "skipped"])
    assert "SIZE must be at least 32" in summary["runs"][1]["message"]
    assert (tmp_path / "a.run.json").is_file() and not (tmp_path / "b").exists()
    assert (tmp_path / "c").is_dir() == (on_failure == "continue")
    log = "\n".join(e.get("text", "") for e in events(proc) if e["event"] == "log")
    assert "Batch summary" in log and "broken" in log


def test_the_shipped_example_plan_is_a_valid_plan():
    plan = json.loads((ROOT / "docs" / "plans" / "adapt_then_infer.json").read_text())
    from crops_engine.commands import MODULES, command_module

    for item in plan["runs"]:
        assert item["command"] in MODULES
        names = {p.name for p in command_module(item["command"]).SPEC.params}
        assert set(item["parameters"]) <= names, item["name"]


# -- QGIS: the batch-processing dialog's rows and crops:run_config ---------------------------------------


@pytest.mark.qgis
def test_two_rows_of_a_qgis_batch_run_as_the_batch_dialog_runs_them(qgis_app, tmp_path):
    from processing.gui.AlgorithmExecutor import execute
    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback

    alg = QgsApplication.processingRegistry().createAlgorithmById("crops:sample_data")
    rows = [{"PRESET": "source", "SIZE": 32, "START_DATE": "2019-05-01", "END_DATE": "2019-05-12", "SEED": seed,
             "OUTPUT_FOLDER": str(tmp_path / f"row{seed}")} for seed in (1, 2)]
    for row in rows:  # what BatchAlgorithmDialog does per row: a fresh context, the algorithm's executor
        ok, results = execute(alg, row, QgsProcessingContext(), QgsProcessingFeedback(), catch_exceptions=False)
        assert ok and results["OUTPUT_FOLDER"] == row["OUTPUT_FOLDER"]
        assert (Path(row["OUTPUT_FOLDER"]) / "labels.tif").is_file()
        assert Path(row["OUTPUT_FOLDER"] + ".run.json").is_file()


@pytest.mark.qgis
def test_run_config_from_qgis_repeats_a_recorded_run(qgis_app, first_run, tmp_path):
    import processing

    result = processing.run("crops:run_config", {
        "CONFIG": str(first_run / "first.run.json"), "SET": f"OUTPUT_FOLDER={tmp_path / 'from_qgis'}; SEED=4"})
    assert result["RUN_RECORD"] == str(tmp_path / "from_qgis.run.json")
    assert digests(tmp_path / "from_qgis") == digests(first_run / "first")

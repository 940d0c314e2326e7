"""Helpers of the output and fault suites (test_bad_outputs.py, test_faults.py): the engine CLI as a user runs it.

`engine(...)` runs `python -m crops_engine --json-events COMMAND ...` in a subprocess and parses its events;
`run_and_signal(...)` sends a signal when a chosen event arrives; `leftovers(folder)` lists what a run must
never leave behind (temporary files of any writer, lock files); `tiny_pipeline(root, pair)` builds, once per
session, the small inputs every command needs (composite, labelled and target stores, a partition, a model).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
TINY_ARGS = '{"encoder": "test_resnet", "decoder_channels": [16, 8, 8, 8, 8], "embedding_dim": 8}'
SCENES = "S2_L2A_????????.tif"


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def command_line(args: tuple[str, ...] | list[str], json_events: bool = True) -> list[str]:
    return [PYTHON, "-m", "crops_engine", *(["--json-events"] if json_events else []), *map(str, args)]


@dataclass
class Run:
    """What one engine run did: exit code, events (JSON mode), its raw stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)
    pid: int = 0

    @property
    def error(self) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == "error"), None)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == "error"]

    @property
    def result(self) -> dict[str, Any] | None:
        found = next((e for e in self.events if e.get("event") == "result"), None)
        return None if found is None else found["outputs"]

    @property
    def message(self) -> str:
        return (self.error or {}).get("message", "") if self.events else self.stderr

    def logs(self, level: str | None = None) -> list[str]:
        return [e["text"] for e in self.events if e.get("event") == "log" and level in (None, e.get("level"))]

    def describe(self) -> str:
        return f"exit {self.returncode}\nstdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"


def _events(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and "event" in event:
            events.append(event)
    return events


def engine(*args: Any, timeout: float = 300, json_events: bool = True, cwd: Path | None = None) -> Run:
    """Run one engine command to its end."""
    proc = subprocess.run(command_line([str(a) for a in args], json_events), capture_output=True, text=True,
                          timeout=timeout, env=engine_env(), cwd=str(cwd or ROOT))
    return Run(proc.returncode, proc.stdout, proc.stderr, _events(proc.stdout) if json_events else [])


def start(*args: Any, json_events: bool = True) -> subprocess.Popen:
    return subprocess.Popen(command_line([str(a) for a in args], json_events), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=engine_env(), cwd=str(ROOT))


def finish(proc: subprocess.Popen, timeout: float = 300, json_events: bool = True) -> Run:
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err, _events(out) if json_events else [])


def run_and_signal(args: list[Any], when: Any, signum: int = signal.SIGTERM, timeout: float = 300,
                   seen: list[dict[str, Any]] | None = None, delay: float = 0.0) -> tuple[Run, bool]:
    """Start the command, send `signum` (`delay` seconds) after `when(event)` first holds for an event; (the run,
    whether it was sent). The events read before the signal are part of the run's events."""
    proc = start(*args)
    assert proc.stdout is not None
    before: list[str] = []
    sent = False
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        before.append(line)
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if seen is not None:
            seen.append(event)
        if when(event):
            time.sleep(delay)
            proc.send_signal(signum)
            sent = True
            break
        if time.monotonic() > deadline:
            break
    out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    stdout = "".join(before) + out
    return Run(proc.returncode, stdout, err, _events(stdout), proc.pid), sent


def progress_at(value: float):
    """An event test: the first progress event at or past `value`."""
    return lambda e: e.get("event") == "progress" and float(e.get("value", 0.0)) >= value


def step_at(step: int):
    """An event test: the progress of optimisation step `step` ("Step 3/40 ...")."""
    return lambda e: e.get("event") == "progress" and str(e.get("text", "")).startswith(f"Step {step}/")


LEFTOVER_MARKS = (".crops-tmp-", ".crops-lock")


def leftovers(folder: Path) -> list[str]:
    """Files and folders a run must never leave: our temporary files and locks, and any writer's `.tmp*`."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if any(m in p.name for m in LEFTOVER_MARKS) or p.name.startswith(".tmp"))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# -- the inputs ------------------------------------------------------------------------------------------


def tiny_pipeline(root: Path, pair: Path) -> dict[str, Path]:
    """Sample scenes -> composites -> labelled and target stores (partitioned) -> a tiny model; built once
    (a `ready` marker) so the fault and output suites share it."""
    paths = {
        "scenes": pair / "source" / "scenes",
        "labels": pair / "source" / "labels.tif",
        "composite": root / "source.tif",
        "target": root / "target.tif",
        "store": root / "source.h5",
        "target_store": root / "target.h5",
        "model": root / "model.safetensors",
        "classes": root / "classes.tif",  # the model's map of the source composite (evaluate's INPUT)
    }
    if (root / "ready").exists():
        return paths
    import torch

    from crops_engine.blocks import build_block_store
    from crops_engine.composite import CompositeOptions, ndvi_quality_mosaic
    from crops_engine.partition import PartitionOptions, partition
    from crops_engine.scenes import load_scenes
    from crops_engine.train import TrainConfig, train_source

    torch.set_num_threads(1)
    root.mkdir(parents=True, exist_ok=True)
    for domain, key in (("source", "composite"), ("target", "target")):
        scenes = load_scenes(folder=pair / domain / "scenes", pattern=SCENES)
        ndvi_quality_mosaic(scenes, paths[key], CompositeOptions(workers=1))
    build_block_store(paths["composite"], paths["store"], labels=paths["labels"], block_size=32, val_fraction=0.25)
    build_block_store(paths["target"], paths["target_store"], block_size=32, val_fraction=0.0)
    train_source(TrainConfig(blocks=str(paths["store"]), output=str(paths["model"]), arch_args=json.loads(TINY_ARGS),
                             iterations=4, batch_size=4, device="cpu", seed=0))
    for suffix in (".metrics.json", ".metrics.csv", ".resume.safetensors"):
        (root / f"model{suffix}").unlink(missing_ok=True)
    partition(paths["model"], paths["target_store"], options=PartitionOptions(device="cpu"))
    from crops_engine.infer import InferOptions, Outputs, infer

    infer(paths["model"], paths["composite"], Outputs(classes=paths["classes"]), InferOptions(device="cpu"))
    (root / "ready").write_text("ok")
    return paths

"""Which Python runs the engine: env CROPS_PYTHON, the provider setting, the plugin's .venv.

QGIS's own Python rarely has torch; the engine runs in a separate interpreter that does,
so a CUDA crash or out-of-memory error cannot take QGIS down and a user may point at any
Python with a CUDA build of torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingException
from qgis.PyQt.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
SETTING_ENGINE_PYTHON = "CROPS_ENGINE_PYTHON"
ENV_ENGINE_PYTHON = "CROPS_PYTHON"
SETTING_PROCESSES = "CROPS_PROCESSES_PER_RUN"  # > 1: commands that run distributed start through torchrun
ENV_PROCESSES = "CROPS_PROCESSES_PER_RUN"

_checked: dict[tuple[str, float], str | None] = {}

# Where a candidate comes from, in English (error messages) and translated in the environment dialog.
_SOURCES = {
    "env": QT_TRANSLATE_NOOP("EnginePython", "environment variable {name}"),
    "setting": QT_TRANSLATE_NOOP("EnginePython", "Processing setting 'CROPS > Engine Python'"),
    "venv": QT_TRANSLATE_NOOP("EnginePython", "the plugin's .venv"),
    "managed": QT_TRANSLATE_NOOP("EnginePython", "the managed environment"),
}


def venv_python(root: Path) -> Path:
    if sys.platform == "win32":
        return root / "Scripts" / "python.exe"
    return root / "bin" / "python"


def managed_environment() -> Path:
    """The venv the plugin may create for a user, under the QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "crops" / "venv"


def _provider_setting() -> str:
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
    except ImportError:  # processing plugin not loaded (plain PyQGIS scripts)
        return ""
    return str(ProcessingConfig.getSetting(SETTING_ENGINE_PYTHON) or "").strip()


def processes_per_run() -> int:
    """How many engine processes one run starts (env CROPS_PROCESSES_PER_RUN, else the provider setting; 1 by
    default): more than 1 starts training, adaptation, pretraining, inference and compositing through torchrun on
    this machine (one process per GPU of a multi-GPU workstation), the others as one process."""
    text = os.environ.get(ENV_PROCESSES, "").strip()
    if not text:
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
        except ImportError:
            return 1
        text = str(ProcessingConfig.getSetting(SETTING_PROCESSES) or "1").strip()
    try:
        return max(1, int(float(text)))
    except ValueError:
        return 1


def candidates(translated: bool = False) -> list[tuple[str, str]]:
    """(where it came from, interpreter path), in the order they are tried; `translated`: the first in the
    user's language (for the dialog; messages and tests use English)."""

    def source(key: str) -> str:
        text = _SOURCES[key]
        return (QCoreApplication.translate("EnginePython", text) if translated else text).format(
            name=ENV_ENGINE_PYTHON)

    found: list[tuple[str, str]] = []
    env = os.environ.get(ENV_ENGINE_PYTHON, "").strip()
    if env:
        found.append((source("env"), env))
    setting = _provider_setting()
    if setting:
        found.append((source("setting"), setting))
    found.append((source("venv"), str(venv_python(PLUGIN_ROOT / ".venv"))))
    found.append((source("managed"), str(venv_python(managed_environment()))))
    return found


def engine_in_use(require_torch: bool = True) -> int | None:
    """The index in `candidates()` of the Python the engine runs with (what `resolve_engine_python` picks), or
    None when none works."""
    for i, (_, python) in enumerate(candidates()):
        if Path(python).is_file() and (not require_torch or torch_problem(python) is None):
            return i
    return None


def torch_problem(python: str) -> str | None:
    """None if `python` runs and imports torch; else why not (cached per interpreter file)."""
    path = Path(python)
    if not path.is_file():
        return "not found"
    key = (str(path), path.stat().st_mtime)
    if key not in _checked:
        try:
            proc = subprocess.run(
                [str(path), "-c", "import torch, timm, h5py, safetensors"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            problem = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
        _checked[key] = problem
    return _checked[key]


def resolve_engine_python(require_torch: bool = True) -> str:
    """The first candidate that works; a QgsProcessingException saying how to set one up."""
    tried = []
    for source, python in candidates():
        if not Path(python).is_file():
            if source.startswith(("environment", "Processing")):
                tried.append(f"- {source}: {python} does not exist")
            continue
        problem = torch_problem(python) if require_torch else None
        if problem is None:
            return python
        tried.append(f"- {source}: {python} cannot import the engine's libraries ({problem})")
    detail = "\n".join(tried) or "- no engine Python is configured"
    raise QgsProcessingException(
        "CROPS needs a Python with torch, timm, h5py and safetensors to run its engine.\n"
        f"Tried:\n{detail}\n"
        "Fix: run `make setup` in the plugin folder (creates .venv), or set "
        "Settings > Options > Processing > Providers > CROPS > Engine Python "
        f"(or the environment variable {ENV_ENGINE_PYTHON}) to a Python that has them."
    )

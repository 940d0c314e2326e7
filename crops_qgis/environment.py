"""The managed engine environment: a venv under the QGIS profile with torch, timm, h5py, safetensors.

Only ever created when the user asks (the environment dialog); never at plugin load or
under qgis_process. The torch build follows the NVIDIA driver `nvidia-smi` reports: CUDA
wheels where the driver is new enough, the CPU build otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from .engine_python import venv_python

TORCH = ("torch==2.14.1", "torchvision==0.29.1")
ENGINE_PACKAGES = ("timm", "h5py", "safetensors")
TORCH_INDEX = "https://download.pytorch.org/whl/{build}"
# (minimum driver major version, wheel build), newest first: CUDA minor-version compatibility.
CUDA_BUILDS = ((580, "cu130"), (570, "cu128"), (560, "cu126"))


def nvidia_driver(nvidia_smi: str | None = None) -> str | None:
    """The NVIDIA driver version, or None without an NVIDIA GPU (or without nvidia-smi)."""
    exe = nvidia_smi or shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        proc = subprocess.run(
            [exe, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = proc.stdout.strip().splitlines()
    return lines[0].strip() if proc.returncode == 0 and lines else None


def torch_build(driver: str | None) -> str:
    """`cpu` or the CUDA wheel build (`cu130`, ...) this driver can run."""
    if not driver:
        return "cpu"
    try:
        major = int(driver.split(".")[0])
    except ValueError:
        return "cpu"
    for minimum, build in CUDA_BUILDS:
        if major >= minimum:
            return build
    return "cpu"


def base_python() -> str:
    """The interpreter the venv is made from: one that sees GDAL's Python bindings."""
    if sys.platform == "win32":  # QGIS on Windows runs its own python, which has osgeo
        return str(Path(sys.exec_prefix) / "python.exe")
    return shutil.which("python3") or "/usr/bin/python3"


def install_commands(venv: Path, build: str, python: str | None = None) -> list[list[str]]:
    """The commands that create `venv` and install the engine's packages into it."""
    engine = str(venv_python(venv))
    return [
        [python or base_python(), "-m", "venv", "--system-site-packages", str(venv)],
        [engine, "-m", "pip", "install", "--upgrade", "pip"],
        [engine, "-m", "pip", "install", *TORCH, "--index-url", TORCH_INDEX.format(build=build)],
        [engine, "-m", "pip", "install", *ENGINE_PACKAGES],
        [engine, "-c", "import torch, timm, h5py, safetensors, osgeo.gdal; print('torch', torch.__version__)"],
    ]


class InstallTask(QgsTask):
    """Runs install commands in the background; each output line is emitted for a live log."""

    line = pyqtSignal(str)

    def __init__(self, commands: list[list[str]], description: str = "Create the CROPS engine environment") -> None:
        super().__init__(description, QgsTask.CanCancel)
        self.commands = commands
        self.error: str | None = None
        self._proc: subprocess.Popen | None = None

    def cancel(self) -> None:
        super().cancel()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # a pip download may print nothing for minutes

    def run(self) -> bool:
        for i, command in enumerate(self.commands):
            if self.isCanceled():
                self.error = "cancelled"
                return False
            self.line.emit("$ " + " ".join(command))
            try:
                self._proc = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL
                )
            except OSError as exc:
                self.error = f"cannot run {command[0]}: {exc}"
                return False
            for text in iter(self._proc.stdout.readline, ""):
                self.line.emit(text.rstrip())
                if self.isCanceled():
                    self._proc.kill()
            code = self._proc.wait()
            if self.isCanceled():
                self.error = "cancelled"
                return False
            if code != 0:
                self.error = f"'{' '.join(command[:4])} ...' failed with exit code {code}"
                return False
            self.setProgress(100.0 * (i + 1) / len(self.commands))
        return True

"""Where a model runs: DEVICE auto/cpu/cuda[:n] to a torch device, and mixed precision on CUDA.

Training, adaptation and inference share these so that DEVICE means the same everywhere and a
missing GPU gives the same clear message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from .errors import CropsError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """`auto` -> the first CUDA device when there is one, else the CPU; `cpu`; `cuda` or `cuda:N`. Under torchrun
    (`distributed`) a CUDA device is this process's own, cuda:LOCAL_RANK."""
    device = _resolve_device(name)
    from .distributed import world

    w = world()
    if w.active and device.type == "cuda":
        return torch.device("cuda", w.local_rank)
    return device


def _resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    if isinstance(name, torch.device):
        return name
    text = (name or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            built = torch.version.cuda
            why = "no CUDA GPU is visible" if built else "this torch was built without CUDA"
            raise CropsError(
                f"DEVICE {name!r} asked for a GPU but {why} (torch {torch.__version__}). "
                "Use DEVICE auto or cpu, or point CROPS at a Python whose torch has CUDA (CROPS_PYTHON)."
            )
        device = torch.device(text)
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise CropsError(f"DEVICE {name!r}: only {torch.cuda.device_count()} CUDA device(s) are visible.")
        return device
    raise CropsError(f"DEVICE {name!r} is not one of auto, cpu, cuda, cuda:N.")


def set_torch_threads(threads: int) -> None:
    """THREADS: torch's CPU threads when positive (0 or less keeps torch's default)."""
    if threads and threads > 0:
        torch.set_num_threads(int(threads))


def describe(device: torch.device) -> str:
    """`cpu (2 threads)` or `cuda:0 (NVIDIA H100, 80 GiB)`, for the log."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device.index or 0)
        return f"{device} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    return f"{device} ({torch.get_num_threads()} threads)"


def amp_enabled(device: torch.device, requested: bool = True) -> bool:
    """Mixed precision only where it pays: CUDA (CPU autocast is slower for convolutions)."""
    return bool(requested) and device.type == "cuda"


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager[Any]:
    """float16 autocast on CUDA when enabled; a no-op context otherwise."""
    if amp_enabled(device, enabled):
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def grad_scaler(device: torch.device, enabled: bool = True) -> torch.amp.GradScaler:
    """The loss scaler float16 training needs; disabled (a pass-through) off CUDA."""
    return torch.amp.GradScaler("cuda", enabled=amp_enabled(device, enabled))


@contextlib.contextmanager
def deterministic(enabled: bool = True) -> Iterator[None]:
    """`torch.use_deterministic_algorithms` for the duration (warn-only, restored after)."""
    before = torch.are_deterministic_algorithms_enabled()
    before_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=before_warn)

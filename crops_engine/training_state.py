"""Resume state of a training run: `<model>.resume.safetensors`, never pickled.

It holds what a run needs to continue exactly where it stopped: the model weights of the last
completed step (not the best ones, which are the checkpoint), the optimiser's moments, the
schedule position, the loss scaler, the random generators and a JSON document (`info`) with the
step, the configuration, the history and anything else the trainer keeps. Tensors go in the
safetensors body; everything else is JSON in the header metadata under `crops_resume`.
The optimisation loop (`loop`) writes and restores it for every task.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_path
from .checkpoint import sibling, write_safetensors
from .errors import CropsError

METADATA_KEY = "crops_resume"
FORMAT_VERSION = 1
SUFFIX = ".resume.safetensors"


def resume_path(output: str | os.PathLike[str]) -> Path:
    """`model.safetensors` -> `model.resume.safetensors`."""
    return sibling(output, SUFFIX)


@dataclass
class TrainingState:
    """The pieces of a run; `info` is JSON (step, config, history ...)."""

    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any] = field(default_factory=dict)
    scaler: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def step(self) -> int:
        return int(self.info.get("step", 0))


def capture_rng(numpy_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """torch's CPU (and CUDA) generator states plus an optional numpy bit-generator state."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    if numpy_state is not None:
        state["numpy"] = numpy_state
    return state


def restore_rng(state: dict[str, Any]) -> None:
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        cuda = state["cuda"]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _split(prefix: str, value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Move tensors out of a nested dict/list into `tensors`, leaving `{"__tensor__": key}` markers."""
    if isinstance(value, torch.Tensor):
        key = prefix
        tensors[key] = value.detach().to("cpu").contiguous().clone()
        return {"__tensor__": key}
    if isinstance(value, dict):
        return {str(k): _split(f"{prefix}.{k}", v, tensors) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_split(f"{prefix}.{i}", v, tensors) for i, v in enumerate(value)]
    return _json_safe(value)


def _join(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            key = value["__tensor__"]
            if key not in tensors:
                raise KeyError(key)
            return tensors[key]
        return {k: _join(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, tensors) for v in value]
    return value


def _int_keys(state: dict[str, Any]) -> dict[Any, Any]:
    """JSON turned the optimiser's integer parameter ids into strings; turn them back."""
    return {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in state.items()}


def save_training_state(path: str | os.PathLike[str], state: TrainingState) -> Path:
    """Write `state` atomically to `path` (a `.safetensors` file)."""
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    for name, value in state.model.items():
        tensors[f"model.{name}"] = value.detach().to("cpu").contiguous().clone()
    doc = {
        "format_version": FORMAT_VERSION,
        "model_keys": list(state.model),
        "optimizer": _split("optimizer", state.optimizer, tensors),
        "scheduler": _split("scheduler", {k: v for k, v in state.scheduler.items() if k != "lr_lambdas"}, tensors),
        "scaler": _split("scaler", state.scaler, tensors),
        "rng": _split("rng", state.rng, tensors),
        "info": _json_safe(state.info),
    }
    header = {METADATA_KEY: json.dumps(doc), "format": "pt"}
    with atomic_path(path) as tmp:
        write_safetensors(tmp, tensors, header)
    return path


def load_training_state(path: str | os.PathLike[str]) -> TrainingState:
    """Read a resume file written by `save_training_state`; a CropsError for anything else."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise CropsError(f"Resume state {path} does not exist.")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CropsError(f"{path} is not a readable resume state ({exc}); start without RESUME.") from None
    if METADATA_KEY not in metadata:
        raise CropsError(
            f"{path} is a safetensors file without CROPS resume state; give the `{SUFFIX}` file written beside "
            "a model, or the model itself."
        )
    try:
        doc = json.loads(metadata[METADATA_KEY])
        version = int(doc.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise ValueError(f"format {version} is newer than this CROPS reads; update CROPS")
        model = {k: tensors[f"model.{k}"] for k in doc["model_keys"]}
        optimizer = _join(doc["optimizer"], tensors)
        optimizer["state"] = _int_keys(optimizer.get("state", {}))
        return TrainingState(
            model=model,
            optimizer=optimizer,
            scheduler=_join(doc.get("scheduler", {}), tensors),
            scaler=_join(doc.get("scaler", {}), tensors),
            rng=_join(doc.get("rng", {}), tensors),
            info=doc.get("info", {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CropsError(f"Resume state {path} is broken ({exc}); start without RESUME.") from None

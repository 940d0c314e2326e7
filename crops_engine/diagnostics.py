"""What the engine runs on: versions, devices, the interpreter. Proves the bridge works.

Imports each library inside a guard, so a broken environment is reported, not fatal.
"""

from __future__ import annotations

import html
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import atomic_path

LIBRARIES = ("numpy", "osgeo.gdal", "torch", "torchvision", "timm", "h5py", "safetensors")


def _version(module_name: str) -> str:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a finding to report
        return f"missing ({type(exc).__name__}: {exc})"
    return str(getattr(module, "__version__", None) or getattr(module, "VERSION", "unknown"))


def collect(qgis_version: str | None = None) -> dict[str, Any]:
    """Versions of the engine's libraries, CUDA availability and device names."""
    info: dict[str, Any] = {
        "crops_engine": __version__,
        "python": sys.version.split()[0],
        "engine_python": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "qgis": qgis_version or "not reported (engine run outside QGIS)",
        "libraries": {name.split(".")[0] if name != "osgeo.gdal" else "gdal": _version(name) for name in LIBRARIES},
        "cuda_available": False,
        "devices": [],
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda_available"] = bool(torch.cuda.is_available())
        if info["cuda_available"]:
            info["cuda_version"] = torch.version.cuda
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                info["devices"].append(f"cuda:{i} {props.name} ({props.total_memory / 2**30:.1f} GiB)")
        else:
            info["devices"].append("cpu")
    except Exception as exc:  # noqa: BLE001
        info["devices"].append(f"cpu (torch unusable: {exc})")
    return info


def _rows(info: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, value in info.items():
        if key == "libraries":
            rows += [(name, str(v)) for name, v in value.items()]
        elif key == "devices":
            rows.append(("devices", ", ".join(value)))
        else:
            rows.append((key, str(value)))
    return rows


def render_text(info: dict[str, Any]) -> str:
    rows = _rows(info)
    width = max(len(k) for k, _ in rows)
    return "CROPS diagnostics\n" + "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows) + "\n"


def render_html(info: dict[str, Any]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _rows(info))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CROPS diagnostics</title>"
        "<style>th{text-align:left;padding-right:1em}</style></head>"
        f"<body><h1>CROPS diagnostics</h1><table>{body}</table></body></html>\n"
    )


def write_report(info: dict[str, Any], output: str | os.PathLike[str]) -> Path:
    """HTML for `.html`/`.htm`, plain text otherwise; written atomically."""
    output = Path(output)
    text = render_html(info) if output.suffix.lower() in {".html", ".htm"} else render_text(info)
    with atomic_path(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return output

"""The ranges of every architecture argument, checked before a model is built (torch-free).

A checkpoint's header, a resume state or ARCH_ARGS name an architecture and its arguments; a model is built
from them before any weight is read. Checked here first, so a crafted or mistyped header cannot make the
engine build a model of unbounded size (`embed_dim: 10**9`) or run for hours building one (`depth: 10**6`).
`checkpoint.load_model` then builds the model on torch's meta device (no memory) and compares its tensors
with the file's table before it allocates anything, so a model is only ever as large as its file.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_IN_CHANNELS = 1024
MAX_CLASSES = 255  # class-map values 0..254; 255 is nodata
MAX_WIDTH = 4096  # channels of any layer we build
_ENCODER_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")


def _int(args: dict[str, Any], name: str, low: int, high: int, multiple: int = 1) -> None:
    if name not in args:
        return
    value = args[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high or value % multiple:
        extra = f", a multiple of {multiple}" if multiple > 1 else ""
        raise ValueError(f"arch_args {name} must be an integer in {low}..{high}{extra}, got {value!r}")


def _float(args: dict[str, Any], name: str, low: float, high: float, low_open: bool = False,
           high_open: bool = False) -> None:
    if name not in args:
        return
    value = args[name]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"arch_args {name} must be a number in {left}{low:g}, {high:g}{right}, got {value!r}")


def _ints(args: dict[str, Any], name: str, lengths: tuple[int, ...], low: int, high: int) -> None:
    if name not in args or args[name] is None:
        return
    value = args[name]
    if (not isinstance(value, list | tuple) or len(value) not in lengths
            or not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in value)):
        count = f"{lengths[0]}" if len(lengths) == 1 else f"{min(lengths)} to {max(lengths)}"
        raise ValueError(f"arch_args {name} must be a list of {count} integers in {low}..{high}, got {value!r}")


MAX_STEPS = 366  # time steps of a temporal model (a daily grid over a year)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _series_dates(args: dict[str, Any], steps: int) -> None:
    """`step_days` (finite numbers) and `dates` (ISO dates) of a temporal model: one per step when given."""
    days = args.get("step_days")
    if days is not None and (not isinstance(days, list | tuple) or len(days) != steps or not all(
            isinstance(d, int | float) and not isinstance(d, bool) and math.isfinite(d) and abs(d) <= 1e5
            for d in days)):
        raise ValueError(f"arch_args step_days must be a list of {steps} numbers (days of the steps), got {days!r}")
    dates = args.get("dates")
    if dates and (not isinstance(dates, list | tuple) or len(dates) != steps
                  or not all(isinstance(d, str) and _ISO_DATE.fullmatch(d) for d in dates)):
        raise ValueError(f"arch_args dates must be a list of {steps} dates YYYY-MM-DD, got {dates!r}")


def check_arch_args(arch: str, arch_args: Any, in_channels: int, num_classes: int) -> None:
    """A ValueError naming the first argument out of its range (unknown names are `build_model`'s to refuse)."""
    if not isinstance(arch_args, dict):
        raise ValueError("arch_args must be an object")
    if not 1 <= int(in_channels) <= MAX_IN_CHANNELS:
        raise ValueError(f"in_channels must be in 1..{MAX_IN_CHANNELS}, got {in_channels}")
    if not 1 <= int(num_classes) <= MAX_CLASSES:
        raise ValueError(f"num_classes must be in 1..{MAX_CLASSES}, got {num_classes}")
    _int(arch_args, "embedding_dim", 1, MAX_WIDTH)
    if arch == "unet":
        encoder = arch_args.get("encoder", "resnet18")
        if not isinstance(encoder, str) or not _ENCODER_NAME.fullmatch(encoder):
            raise ValueError(f"arch_args encoder must be the name of a timm model, got {encoder!r}")
        _ints(arch_args, "decoder_channels", tuple(range(1, 9)), 1, MAX_WIDTH)
    elif arch == "utae":
        encoder = arch_args.get("encoder", "resnet18")
        if not isinstance(encoder, str) or not _ENCODER_NAME.fullmatch(encoder):
            raise ValueError(f"arch_args encoder must be the name of a timm model, got {encoder!r}")
        _ints(arch_args, "decoder_channels", tuple(range(1, 9)), 1, MAX_WIDTH)
        _int(arch_args, "steps", 1, MAX_STEPS)
        _int(arch_args, "heads", 1, 64)
        _int(arch_args, "key_dim", 1, 256)
        _series_dates(arch_args, int(arch_args.get("steps", 1)))
    elif arch == "agrifm":
        _int(arch_args, "steps", 1, MAX_STEPS)
        _int(arch_args, "embed_dim", 1, 1024)
        _ints(arch_args, "depths", tuple(range(1, 7)), 1, 64)
        depths = arch_args.get("depths") or [2, 2]
        _ints(arch_args, "num_heads", (len(depths),), 1, 128)
        _ints(arch_args, "window_size", (3,), 1, 64)
        _ints(arch_args, "patch_size", (3,), 1, 16)
        _float(arch_args, "mlp_ratio", 0.0, 16.0, low_open=True)
        _ints(arch_args, "decoder_channels", (len(depths),), 1, MAX_WIDTH)
        if int(arch_args.get("embed_dim", 32)) * 2 ** (len(depths) - 1) > MAX_WIDTH:
            raise ValueError(f"arch_args embed_dim x 2^(stages - 1) must be at most {MAX_WIDTH}")
        _series_dates(arch_args, int(arch_args.get("steps", 1)))
    elif arch == "transunet":
        _int(arch_args, "img_size", 16, 2048, multiple=16)
        _ints(arch_args, "backbone_layers", (3,), 1, 64)
        _int(arch_args, "embed_dim", 1, MAX_WIDTH)
        _int(arch_args, "depth", 1, 64)
        _int(arch_args, "num_heads", 1, 128)
        _float(arch_args, "mlp_ratio", 0.0, 16.0, low_open=True)
        _float(arch_args, "drop_rate", 0.0, 1.0, high_open=True)
        _ints(arch_args, "decoder_channels", (4,), 1, MAX_WIDTH)

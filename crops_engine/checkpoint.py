"""Self-describing model checkpoints: one `.safetensors` file that rebuilds its model on its own.

The tensors are the model's state dict; the safetensors header metadata (str -> str) holds one key,
`crops`, whose JSON value is a `CheckpointMeta`: architecture and its arguments, input feature
names and their normalisation, classes (value, name, colour, code), block size, input nodata and
training provenance; a second key, `crops_weights_sha256`, is the digest of the tensor data.
Loading reads the header, builds the architecture from the registry, checks every tensor name and
shape and the digest before loading any data: nothing is ever unpickled, and a corrupt, truncated
or tampered file fails with a CropsError naming the file and the problem.
`read_metadata` parses the header without torch, so light callers (styling, QGIS) can use it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import atomic_path
from .classes import CropClass, classes_from_dicts
from .errors import CropsError

if TYPE_CHECKING:
    from .models import SegmentationModel

FORMAT_VERSION = 1
METADATA_KEY = "crops"
DIGEST_KEY = "crops_weights_sha256"  # SHA-256 of the tensor data after the header: catches corrupt weights
_DIGEST_PLACEHOLDER = "pending-" + "0" * 56
SUFFIX = ".safetensors"
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit


def checkpoint_stem(path: str | os.PathLike[str]) -> str:
    """`model.safetensors` -> `model`: the name without `.safetensors` (`Path.stem` for another suffix)."""
    name = Path(path).name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else Path(name).stem


def sibling(path: str | os.PathLike[str], suffix: str) -> Path:
    """A file beside a checkpoint, named for it: (`m.safetensors`, `.metrics.json`) -> `m.metrics.json`."""
    path = Path(path)
    return path.with_name(checkpoint_stem(path) + suffix)


@dataclass
class CheckpointMeta:
    """Everything needed to use a model without its training data; `classes[k]` names output channel k."""

    arch: str
    arch_args: dict[str, Any]
    in_channels: int
    num_classes: int
    features: list[str]
    normalisation: dict[str, list[float]]
    classes: list[CropClass]
    block_size: int
    nodata: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "arch": self.arch,
            "arch_args": self.arch_args,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "features": list(self.features),
            "normalisation": {"mean": list(self.normalisation["mean"]), "std": list(self.normalisation["std"])},
            "classes": [c.as_dict() for c in self.classes],
            "block_size": self.block_size,
            "nodata": self.nodata,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        """Validate and convert; raises ValueError describing the first problem (callers add the file name)."""
        if not isinstance(data, dict):
            raise ValueError("metadata is not a JSON object")
        missing = [k for k in ("arch", "arch_args", "in_channels", "num_classes", "features", "normalisation",
                               "classes", "block_size") if k not in data]
        if missing:
            raise ValueError(f"metadata lacks {', '.join(missing)}")
        version = data.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"bad format_version {version!r}")
        if version > FORMAT_VERSION:
            raise ValueError(f"format version {version} is newer than this CROPS reads ({FORMAT_VERSION}): "
                             "update CROPS")
        in_channels = _positive_int(data["in_channels"], "in_channels")
        num_classes = _positive_int(data["num_classes"], "num_classes")
        if not isinstance(data["arch"], str) or not isinstance(data["arch_args"], dict):
            raise ValueError("arch must be a string and arch_args an object")
        features = data["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("features must be a list of names")
        if len(features) != in_channels:
            raise ValueError(f"{len(features)} feature names for {in_channels} input channels")
        norm = data["normalisation"]
        if not isinstance(norm, dict) or set(norm) != {"mean", "std"}:
            raise ValueError('normalisation must be {"mean": [...], "std": [...]}')
        mean, std = _floats(norm["mean"], "normalisation mean"), _floats(norm["std"], "normalisation std")
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError(f"normalisation needs {in_channels} means and stds, got {len(mean)} and {len(std)}")
        if not all(s > 0 and math.isfinite(s) for s in std) or not all(math.isfinite(m) for m in mean):
            raise ValueError("normalisation means must be finite and stds finite and positive")
        try:
            classes = classes_from_dicts(data["classes"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("classes must be a list of {value, name, colour, code}") from None
        if len(classes) != num_classes:
            raise ValueError(f"{len(classes)} classes for {num_classes} model outputs")
        nodata = data.get("nodata")
        if nodata is not None and (isinstance(nodata, bool) or not isinstance(nodata, int | float)):
            raise ValueError("nodata must be a number or null")
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ValueError("provenance must be an object")
        return cls(
            arch=data["arch"], arch_args=data["arch_args"], in_channels=in_channels, num_classes=num_classes,
            features=list(features), normalisation={"mean": mean, "std": std}, classes=classes,
            block_size=_positive_int(data["block_size"], "block_size"), nodata=nodata, provenance=provenance,
            format_version=version,
        )


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _floats(values: Any, name: str) -> list[float]:
    if not isinstance(values, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise ValueError(f"{name} must be a list of numbers")
    return [float(v) for v in values]


def _json_default(value: Any) -> Any:
    """numpy scalars/arrays and paths in provenance become plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _meta_for(model: SegmentationModel, meta: CheckpointMeta | dict[str, Any]) -> CheckpointMeta:
    data = meta.to_dict() if isinstance(meta, CheckpointMeta) else dict(meta)
    if "classes" in data:
        data["classes"] = [c.as_dict() if isinstance(c, CropClass) else c for c in data["classes"]]
    actual = {"arch": model.arch, "arch_args": model.arch_args, "in_channels": model.in_channels,
              "num_classes": model.num_classes}
    try:
        data, actual = json.loads(json.dumps([data, actual], default=_json_default))
        for key, value in actual.items():
            if key in data and data[key] != value:
                raise CropsError(f"Checkpoint metadata says {key}={data[key]!r} but the model has {value!r}.")
            data[key] = value
        return CheckpointMeta.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CropsError(f"Cannot save checkpoint: {exc}.") from None


def save_checkpoint(
    path: str | os.PathLike[str], model: SegmentationModel, meta: CheckpointMeta | dict[str, Any]
) -> CheckpointMeta:
    """Write `model`'s weights and `meta` to `path` (.safetensors) atomically; returns the metadata written.

    `meta` needs features, normalisation, classes, block_size and optionally nodata and provenance;
    arch, arch_args, in_channels and num_classes are taken from the model (and must agree if given).
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != SUFFIX:
        raise CropsError(f"A checkpoint is a {SUFFIX} file: {path} has another extension.")
    full = _meta_for(model, meta)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    header = {METADATA_KEY: json.dumps(full.to_dict(), default=_json_default), "format": "pt",
              DIGEST_KEY: _DIGEST_PLACEHOLDER}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=header)
        _write_digest(tmp)
    return full


def _data_digest(fh: Any, start: int) -> str:
    digest = hashlib.sha256()
    fh.seek(start)
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _write_digest(path: Path) -> None:
    """Replace the placeholder in the header by the digest of the data (same length, so offsets hold)."""
    with path.open("r+b") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        raw = fh.read(n)
        at = raw.find(_DIGEST_PLACEHOLDER.encode())
        if at < 0 or raw.count(_DIGEST_PLACEHOLDER.encode()) != 1:
            raise RuntimeError("safetensors header lacks the digest placeholder")
        digest = _data_digest(fh, 8 + n)
        fh.seek(8 + at)
        fh.write(digest.encode())


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], CheckpointMeta]:
    """The safetensors header (tensor name -> dtype, shape, data_offsets; `__metadata__`) and the parsed metadata.

    Needs no torch. Checks the header is JSON, the metadata complete and the file as long as its table says.
    """
    path = Path(path)
    if not path.is_file():
        raise CropsError(f"Checkpoint {path} does not exist.")
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise CropsError(f"{path} is not a CROPS checkpoint: too short for a safetensors file.")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER_BYTES):
            raise CropsError(f"{path} is not a CROPS checkpoint: the safetensors header is cut off or not one.")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("not an object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise CropsError(f"{path} is not a CROPS checkpoint: its safetensors header is not JSON ({exc}).") from None
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        raise CropsError(
            f"{path} is a safetensors file without CROPS metadata: it is not a CROPS checkpoint "
            "(pretrained encoder weights go to train_source's encoder weights option)."
        )
    try:
        meta = CheckpointMeta.from_dict(json.loads(metadata[METADATA_KEY]))
    except (TypeError, ValueError) as exc:
        raise CropsError(f"Checkpoint {path} has broken metadata: {exc}.") from None
    try:
        end = max((int(t["data_offsets"][1]) for t in header.values()), default=0)
    except (KeyError, TypeError, ValueError, IndexError):
        raise CropsError(f"Checkpoint {path} has a broken tensor table in its header.") from None
    if 8 + n + end != size:
        raise CropsError(
            f"Checkpoint {path} is truncated or corrupt: {size} bytes where its header describes {8 + n + end}."
        )
    header["__metadata__"] = metadata
    return header, meta


def read_metadata(path: str | os.PathLike[str]) -> CheckpointMeta:
    """The checkpoint's metadata, validated; cheap (reads the header only) and torch-free."""
    return read_header(path)[1]


def load_model(path: str | os.PathLike[str], device: Any = "cpu") -> tuple[SegmentationModel, CheckpointMeta]:
    """Rebuild the model from the file alone, load its weights and return it in eval mode on `device`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .models import build_model

    path = Path(path)
    header, meta = read_header(path)
    try:
        if "encoder_weights" in meta.arch_args:
            raise CropsError("arch_args must not name an encoder weights file")
        model = build_model(meta.arch, meta.in_channels, meta.num_classes, **meta.arch_args)
    except CropsError as exc:
        raise CropsError(f"Cannot rebuild the model of checkpoint {path}: {exc}") from None
    recorded = header.pop("__metadata__").get(DIGEST_KEY)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    stored = {k: tuple(v.get("shape", ())) for k, v in header.items()}
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    mismatched = [f"{k} {stored[k]} vs {expected[k]}" for k in expected if k in stored and stored[k] != expected[k]]
    if missing or unexpected or mismatched:
        problems = [
            f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})" if missing else "",
            f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})" if unexpected else "",
            f"{len(mismatched)} with wrong shapes (e.g. {'; '.join(mismatched[:3])})" if mismatched else "",
        ]
        raise CropsError(
            f"Checkpoint {path} does not match its architecture {meta.arch} {meta.arch_args}: "
            f"{'; '.join(p for p in problems if p)}. The file is corrupt or was edited."
        )
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        if recorded != _data_digest(fh, 8 + n):
            raise CropsError(
                f"Checkpoint {path} is corrupt: its weights do not match the digest recorded when it was saved"
                f"{'' if recorded else ' (none recorded)'}. Use an intact copy."
            )
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CropsError(f"Cannot read the weights of checkpoint {path}: {exc}.") from None
    model.load_state_dict(state, strict=True)
    return model.to(device).eval(), meta


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in chunks (provenance links an adapted model to its parent)."""
    with Path(path).open("rb") as fh:
        return _data_digest(fh, 0)


def check_features(meta: CheckpointMeta, feature_names: list[str], source: str = "the input") -> None:
    """Raise a CropsError saying which features are missing, extra or out of order, if they differ."""
    expected, actual = list(meta.features), list(feature_names)
    if actual == expected:
        return
    missing = [f for f in expected if f not in actual]
    extra = [f for f in actual if f not in expected]
    details = []
    if missing:
        details.append(f"missing {missing}")
    if extra:
        details.append(f"extra {extra}")
    if not details:
        details.append("the same features in another order" if len(actual) == len(expected) else "duplicated features")
    raise CropsError(
        f"The model was trained on features {expected} but {source} has {actual} ({', '.join(details)}): "
        f"rebuild the composite / block store with exactly these features in this order: {', '.join(expected)}."
    )

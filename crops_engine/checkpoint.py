"""Self-describing model checkpoints: one `.safetensors` file that rebuilds its model on its own.

The tensors are the model's state dict; the safetensors header metadata (str -> str) holds one key,
`crops`, whose JSON value is a `CheckpointMeta`: architecture and its arguments, input feature
names and their normalisation, classes (value, name, colour, code), block size, input nodata and
training provenance; a second key, `crops_weights_sha256`, is the digest of the tensor data, and a
third, `crops_sha256`, the digest of the metadata text and the weights digest together: every field
that changes what the model computes or reports (architecture and its arguments, features,
normalisation, classes, block size, nodata) is covered, and a header moved onto other weights is caught.
Loading reads the header, checks the metadata digest and the architecture arguments' ranges
(`model_args`), builds the architecture on torch's meta device (no memory) and compares every tensor
name and shape with the file's table, checks the weights digest, and only then builds the model and
loads the data: nothing is ever unpickled, a crafted header cannot allocate more than its file holds,
and a corrupt, truncated or edited file fails with a CropsError naming the file and the problem.
`read_metadata` parses and checks the header without torch, so light callers (styling, QGIS) can use it.

Files are written by `write_safetensors` (the safetensors format, streamed tensor by tensor into the
temporary file of `atomic_path`, then fsynced): no other temporary file is made (the safetensors
library's own writer leaves a `.tmpXXXX` beside the output when killed).
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
from .model_args import check_arch_args

if TYPE_CHECKING:
    from .models import SegmentationModel

FORMAT_VERSION = 1
METADATA_KEY = "crops"
DIGEST_KEY = "crops_weights_sha256"  # SHA-256 of the tensor data after the header: catches corrupt weights
META_DIGEST_KEY = "crops_sha256"  # SHA-256 of the metadata text and the weights digest: catches edited headers
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
    normalisation: dict[str, Any]  # "mean", "std" (per band) and, recorded since issue 15, "quantiles"
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
            "normalisation": {"mean": list(self.normalisation["mean"]), "std": list(self.normalisation["std"])}
            | ({"quantiles": self.normalisation["quantiles"]} if self.normalisation.get("quantiles") else {}),
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
        check_arch_args(data["arch"], data["arch_args"], in_channels, num_classes)
        features = data["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("features must be a list of names")
        if len(features) != in_channels:
            raise ValueError(f"{len(features)} feature names for {in_channels} input channels")
        norm = data["normalisation"]
        if not isinstance(norm, dict) or not {"mean", "std"} <= set(norm) <= {"mean", "std", "quantiles"}:
            raise ValueError('normalisation must be {"mean": [...], "std": [...]} (and optionally "quantiles")')
        mean, std = _floats(norm["mean"], "normalisation mean"), _floats(norm["std"], "normalisation std")
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError(f"normalisation needs {in_channels} means and stds, got {len(mean)} and {len(std)}")
        if not all(s > 0 and math.isfinite(s) for s in std) or not all(math.isfinite(m) for m in mean):
            raise ValueError("normalisation means must be finite and stds finite and positive")
        quantiles = _quantiles(norm.get("quantiles"), in_channels)  # per-band, since issue 15 (statistics alignment)
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
            features=list(features),
            normalisation={"mean": mean, "std": std} | ({"quantiles": quantiles} if quantiles else {}), classes=classes,
            block_size=_positive_int(data["block_size"], "block_size"), nodata=nodata, provenance=provenance,
            format_version=version,
        )


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _quantiles(value: Any, in_channels: int) -> dict[str, Any] | None:
    """The optional per-band quantiles of the training pixels: {"levels": [L increasing in 0..1], "values": [[L
    non-decreasing] per band]} (statistics alignment's histogram matching); None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"levels", "values"}:
        raise ValueError('normalisation quantiles must be {"levels": [...], "values": [[...], ...]}')
    levels = _floats(value["levels"], "normalisation quantile levels")
    bands = value["values"]
    if not isinstance(bands, list) or len(bands) != in_channels:
        raise ValueError(f"normalisation quantiles need {in_channels} bands")
    values = [_floats(b, "normalisation quantiles") for b in bands]
    def increasing(v: list[float], strictly: bool) -> bool:
        return all((b > a) if strictly else (b >= a) for a, b in zip(v[:-1], v[1:], strict=True))

    if (len(levels) < 2 or any(not 0.0 <= v <= 1.0 for v in levels) or not increasing(levels, True)
            or any(len(b) != len(levels) or not all(map(math.isfinite, b)) or not increasing(b, False)
                   for b in values)):
        raise ValueError("normalisation quantiles must have increasing levels in [0, 1] and finite, non-decreasing "
                         "values per band, one per level")
    return {"levels": levels, "values": values}


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
    path = Path(path)
    if path.suffix != SUFFIX:
        raise CropsError(f"A checkpoint is a {SUFFIX} file: {path} has another extension.")
    full = _meta_for(model, meta)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    text = json.dumps(full.to_dict(), default=_json_default)
    weights = data_digest(tensors)
    header = {METADATA_KEY: text, "format": "pt", DIGEST_KEY: weights, META_DIGEST_KEY: metadata_digest(text, weights)}
    with atomic_path(path) as tmp:
        write_safetensors(tmp, tensors, header)
    return full


def metadata_digest(text: str, weights_digest: str) -> str:
    """SHA-256 of the metadata text and the weights digest: what `crops_sha256` records."""
    return hashlib.sha256(text.encode("utf-8") + b"\n" + str(weights_digest).encode("ascii", "replace")).hexdigest()


_SAFETENSORS_DTYPES = {  # torch dtype name -> safetensors dtype
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "int32": "I32",
    "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL", "uint16": "U16", "uint32": "U32", "uint64": "U64",
    "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
}


def _ordered(tensors: dict[str, Any]) -> list[tuple[str, Any]]:
    """Tensors in the file's order (safetensors' own: the widest dtypes first, then by name), contiguous on the CPU."""
    items = [(k, v.detach().to("cpu").contiguous()) for k, v in tensors.items()]
    return sorted(items, key=lambda kv: (-kv[1].element_size(), kv[0]))


def _raw(tensor: Any) -> Any:
    """The bytes of a contiguous CPU tensor as a flat uint8 numpy array (no copy)."""
    import torch

    return tensor.reshape(-1).view(torch.uint8).numpy()


def data_digest(tensors: dict[str, Any]) -> str:
    """SHA-256 of the tensor data as `write_safetensors` lays it out (what `crops_weights_sha256` records)."""
    digest = hashlib.sha256()
    for _, tensor in _ordered(tensors):
        digest.update(_raw(tensor))
    return digest.hexdigest()


def write_safetensors(path: str | os.PathLike[str], tensors: dict[str, Any], metadata: dict[str, str]) -> None:
    """Write `tensors` (name -> torch tensor) and `metadata` (str -> str) as a safetensors file at `path`, streamed
    tensor by tensor and fsynced: no copy of the whole model in memory, no temporary file of its own (give it the
    temporary path of `atomic_path`)."""
    ordered = _ordered(tensors)
    table: dict[str, Any] = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    offset = 0
    for name, tensor in ordered:
        dtype = _SAFETENSORS_DTYPES.get(str(tensor.dtype).removeprefix("torch."))
        if dtype is None:
            raise CropsError(f"Cannot write tensor {name} of type {tensor.dtype} to a safetensors file.")
        size = tensor.numel() * tensor.element_size()
        table[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(table, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the data starts 8-byte aligned, as safetensors writes it
    with Path(path).open("wb") as fh:
        fh.write(struct.pack("<Q", len(head)))
        fh.write(head)
        for _, tensor in ordered:
            fh.write(memoryview(_raw(tensor)))
        fh.flush()
        os.fsync(fh.fileno())


def _data_digest(fh: Any, start: int) -> str:
    digest = hashlib.sha256()
    fh.seek(start)
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


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
    recorded = metadata.get(META_DIGEST_KEY)
    if recorded is not None and recorded != metadata_digest(str(metadata[METADATA_KEY]), metadata.get(DIGEST_KEY, "")):
        raise CropsError(
            f"Checkpoint {path} was edited or is corrupt: its metadata (architecture, features, normalisation, "
            "classes, block size) does not match the digest recorded when it was saved, so the model would compute "
            "or name something else than it was trained for. Use an intact copy of the checkpoint."
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


_verified: set[tuple[str, int, int]] = set()  # (real path, size, mtime) of files whose weights passed their digest


def verify_checkpoint(path: str | os.PathLike[str]) -> CheckpointMeta:
    """The metadata of a checkpoint whose header and weights are intact (both digests checked); torch-free, so a
    command refuses a corrupt or edited MODEL before it loads anything. A file checked once is not hashed again."""
    path = Path(path)
    header, meta = read_header(path)
    metadata = header["__metadata__"]
    if metadata.get(META_DIGEST_KEY) is None:
        raise CropsError(
            f"Checkpoint {path} records no digest of its metadata: it was edited, written by another program, or "
            "by a CROPS older than this one (whose checkpoints did not guard their metadata). Use the file as "
            "train-source or an adaptation wrote it, or train it again with this CROPS."
        )
    stat = path.stat()
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key in _verified:
        return meta
    recorded = metadata.get(DIGEST_KEY)
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        if recorded != _data_digest(fh, 8 + n):
            raise CropsError(
                f"Checkpoint {path} is corrupt: its weights do not match the digest recorded when it was saved"
                f"{'' if recorded else ' (none recorded)'}. Use an intact copy."
            )
    _verified.add(key)
    return meta


def load_model(path: str | os.PathLike[str], device: Any = "cpu") -> tuple[SegmentationModel, CheckpointMeta]:
    """Rebuild the model from the file alone, load its weights and return it in eval mode on `device`."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .models import build_model

    path = Path(path)
    header, meta = read_header(path)
    metadata = header.pop("__metadata__")
    if metadata.get(META_DIGEST_KEY) is None:
        verify_checkpoint(path)  # raises: no metadata digest
    try:
        if "encoder_weights" in meta.arch_args:
            raise CropsError("arch_args must not name an encoder weights file")
        with torch.device("meta"):  # the architecture's tensors without memory: compared with the file's first
            probe = build_model(meta.arch, meta.in_channels, meta.num_classes, **meta.arch_args)
    except CropsError as exc:
        raise CropsError(f"Cannot rebuild the model of checkpoint {path}: {exc}") from None
    expected = {k: tuple(v.shape) for k, v in probe.state_dict().items()}
    del probe
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
    verify_checkpoint(path)  # the weights' digest (once per file and version)
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CropsError(f"Cannot read the weights of checkpoint {path}: {exc}.") from None
    model = build_model(meta.arch, meta.in_channels, meta.num_classes, **meta.arch_args)
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
    from .series.steps import series_mismatch

    as_series = series_mismatch(expected, actual)  # a model for T steps meeting another T, or a composite
    if as_series:
        raise CropsError(f"{as_series} ({source}).")
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

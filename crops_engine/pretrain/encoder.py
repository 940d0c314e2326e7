"""The encoder of a segmentation model, and the encoder checkpoint `crops:pretrain` writes.

The encoder is the part of a `SegmentationModel` that SimSiam pretrains and the decoder reads from:
the timm `features_only` model of the U-Net (`model.encoder`), or TransUNet's R50-ViT-B/16 hybrid
(`model.vit`: the ResNetV2 stem and stages, the patch projection and the transformer); `view.EncoderView`
runs it alone. This module needs torch only to save and load tensors.

The encoder checkpoint is one `.safetensors` file like a model checkpoint (`checkpoint`), but holding
the encoder's tensors only, under the names they have in the model (`encoder.*`, `vit.*`), and with
its own metadata key, `crops_encoder` (so no tool mistakes it for a model that predicts classes): the
architecture and its arguments, the input features and their normalisation, block size, nodata, the
pooled feature width and the pretraining provenance; `crops_weights_sha256` is the digest of the
tensor data, checked before anything is loaded. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from ..checkpoint import DIGEST_KEY, SUFFIX, _data_digest, _json_default, data_digest, write_safetensors
from ..errors import CropsError

ENCODER_KEY = "crops_encoder"
ENCODER_FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 100 * 1024 * 1024

# The architecture arguments that shape the encoder (the rest shape the decoder and heads).
ENCODER_ARGS: dict[str, tuple[str, ...]] = {
    "unet": ("encoder",),
    "transunet": ("img_size", "backbone_layers", "embed_dim", "depth", "num_heads", "mlp_ratio"),
}
# The encoder's module in each architecture (its tensors' name prefix).
ENCODER_MODULE = {"unet": "encoder", "transunet": "vit"}


def encoder_module(model: Any) -> Any:
    """The encoder submodule of a SegmentationModel (`model.encoder` or `model.vit`)."""
    name = ENCODER_MODULE.get(getattr(model, "arch", ""))
    if name is None:
        raise CropsError(f"The {getattr(model, 'arch', '?')} architecture has no encoder CROPS can pretrain.")
    return getattr(model, name)


def encoder_args(arch: str, arch_args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `arch_args` that shape the encoder (what must agree to load its weights)."""
    return {k: arch_args[k] for k in ENCODER_ARGS.get(arch, ()) if k in arch_args}


# -- the encoder checkpoint --------------------------------------------------------------------------------


@dataclass
class EncoderMeta:
    """What an encoder checkpoint says of itself."""

    arch: str
    arch_args: dict[str, Any]
    in_channels: int
    features: list[str]
    normalisation: dict[str, list[float]]
    block_size: int
    feature_dim: int
    nodata: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    format_version: int = ENCODER_FORMAT_VERSION
    kind: str = "encoder"

    @property
    def encoder_args(self) -> dict[str, Any]:
        return encoder_args(self.arch, self.arch_args)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version, "kind": self.kind, "arch": self.arch, "arch_args": self.arch_args,
            "in_channels": self.in_channels, "features": list(self.features),
            "normalisation": {"mean": list(self.normalisation["mean"]), "std": list(self.normalisation["std"])},
            "block_size": self.block_size, "feature_dim": self.feature_dim, "nodata": self.nodata,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: Any) -> EncoderMeta:
        """Validate; a ValueError naming the first problem (callers add the file)."""
        if not isinstance(data, dict):
            raise ValueError("metadata is not a JSON object")
        missing = [k for k in ("arch", "arch_args", "in_channels", "features", "normalisation", "block_size",
                               "feature_dim") if k not in data]
        if missing:
            raise ValueError(f"metadata lacks {', '.join(missing)}")
        version = data.get("format_version", ENCODER_FORMAT_VERSION)
        if not isinstance(version, int) or version < 1:
            raise ValueError(f"bad format_version {version!r}")
        if version > ENCODER_FORMAT_VERSION:
            raise ValueError(f"format version {version} is newer than this CROPS reads: update CROPS")
        if data["arch"] not in ENCODER_ARGS or not isinstance(data["arch_args"], dict):
            raise ValueError(f"arch must be one of {', '.join(ENCODER_ARGS)} and arch_args an object")
        features = data["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("features must be a list of names")
        n = data["in_channels"]
        if not isinstance(n, int) or n != len(features):
            raise ValueError(f"{len(features)} feature names for in_channels {n!r}")
        norm = data["normalisation"]
        if (not isinstance(norm, dict) or set(norm) != {"mean", "std"}
                or any(not isinstance(norm[k], list) or len(norm[k]) != n for k in ("mean", "std"))):
            raise ValueError(f'normalisation must be {{"mean": [{n} numbers], "std": [{n} numbers]}}')
        for key in ("block_size", "feature_dim"):
            if not isinstance(data[key], int) or data[key] < 1:
                raise ValueError(f"{key} must be a positive integer")
        return cls(arch=data["arch"], arch_args=data["arch_args"], in_channels=n, features=list(features),
                   normalisation={"mean": [float(v) for v in norm["mean"]], "std": [float(v) for v in norm["std"]]},
                   block_size=data["block_size"], feature_dim=data["feature_dim"], nodata=data.get("nodata"),
                   provenance=data.get("provenance") or {}, format_version=version)


def _read_raw_header(path: Path) -> tuple[dict[str, Any], int]:
    """(safetensors header, its length) of `path`; a CropsError when it is no safetensors file."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise CropsError(f"{path} is not a .safetensors file (too short).")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER_BYTES):
            raise CropsError(f"{path} is not a .safetensors file: its header is cut off or not one.")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("not an object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise CropsError(f"{path} is not a .safetensors file: its header is not JSON ({exc}).") from None
    end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != size:
        raise CropsError(f"Encoder checkpoint {path} is truncated or corrupt: {size} bytes where its header "
                         f"describes {8 + n + end}.")
    return header, n


def is_encoder_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a `.safetensors` file with CROPS encoder metadata (cheap: reads the header)."""
    p = Path(path)
    if not p.is_file() or p.suffix != SUFFIX:
        return False
    try:
        header, _ = _read_raw_header(p)
    except (CropsError, OSError, KeyError, TypeError, ValueError, IndexError):
        return False
    return ENCODER_KEY in (header.get("__metadata__") or {})


def read_encoder_meta(path: str | os.PathLike[str]) -> EncoderMeta:
    """The metadata of an encoder checkpoint (torch-free); a CropsError for anything else."""
    p = Path(path)
    if not p.is_file():
        raise CropsError(f"Encoder checkpoint {p} does not exist.")
    header, _ = _read_raw_header(p)
    metadata = header.get("__metadata__") or {}
    if ENCODER_KEY not in metadata:
        raise CropsError(f"{p} is not a CROPS encoder checkpoint (from crops:pretrain).")
    try:
        return EncoderMeta.from_dict(json.loads(metadata[ENCODER_KEY]))
    except (TypeError, ValueError) as exc:
        raise CropsError(f"Encoder checkpoint {p} has broken metadata: {exc}.") from None


def save_encoder_checkpoint(path: str | os.PathLike[str], view: Any, meta: EncoderMeta) -> EncoderMeta:
    """Write the encoder of `view` (an `EncoderView`) and `meta` to `path` atomically."""
    path = Path(path)
    if path.suffix != SUFFIX:
        raise CropsError(f"An encoder checkpoint is a {SUFFIX} file: {path} has another extension.")
    tensors = {f"{view.prefix}.{k}": v.detach().to("cpu").contiguous() for k, v in view.body.state_dict().items()}
    header = {ENCODER_KEY: json.dumps(meta.to_dict(), default=_json_default), "format": "pt",
              DIGEST_KEY: data_digest(tensors)}
    with atomic_path(path) as tmp:  # streamed into the run-marked temporary: no stray file of safetensors' own
        write_safetensors(tmp, tensors, header)
    return meta


def load_encoder_tensors(path: str | os.PathLike[str]) -> tuple[dict[str, Any], EncoderMeta]:
    """(tensors, metadata) of an encoder checkpoint, its digest checked before its data is read."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    meta = read_encoder_meta(p)
    header, n = _read_raw_header(p)
    recorded = (header.get("__metadata__") or {}).get(DIGEST_KEY)
    with p.open("rb") as fh:
        if recorded != _data_digest(fh, 8 + n):
            raise CropsError(f"Encoder checkpoint {p} is corrupt: its weights do not match the digest recorded when "
                             "it was saved. Use an intact copy.")
    try:
        return load_file(str(p), device="cpu"), meta
    except (SafetensorError, OSError, ValueError) as exc:
        raise CropsError(f"Cannot read the weights of encoder checkpoint {p}: {exc}.") from None


def load_encoder_into(model: Any, path: str | os.PathLike[str]) -> EncoderMeta:
    """Load the encoder checkpoint `path` into the encoder of `model` (every tensor must fit exactly)."""
    tensors, meta = load_encoder_tensors(path)
    prefix = ENCODER_MODULE[model.arch] + "."
    if meta.arch != model.arch:
        raise CropsError(f"PRETRAINED {path} is the encoder of a {meta.arch} model, not of a {model.arch}: "
                         f"train with ARCH {meta.arch}.")
    target = {k: v for k, v in model.state_dict().items() if k.startswith(prefix)}
    missing = sorted(set(target) - set(tensors))
    unexpected = sorted(set(tensors) - set(target))
    mismatched = [f"{k} {tuple(tensors[k].shape)} vs {tuple(v.shape)}" for k, v in target.items()
                  if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)]
    if missing or unexpected or mismatched:
        problems = [p for p in (
            f"{len(missing)} tensors missing (e.g. {', '.join(missing[:3])})" if missing else "",
            f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})" if unexpected else "",
            f"{len(mismatched)} with other shapes (e.g. {'; '.join(mismatched[:3])})" if mismatched else "",
        ) if p]
        raise CropsError(
            f"PRETRAINED {path} does not fit this model's encoder "
            f"{json.dumps(encoder_args(model.arch, model.arch_args))} (it holds {json.dumps(meta.encoder_args)}): "
            f"{'; '.join(problems)}. Train with the encoder it was pretrained with (leave ENCODER empty to take it "
            "from the file)."
        )
    model.load_state_dict({k: tensors[k] for k in target}, strict=False)
    return meta


def check_pretrained_encoder(path: str | os.PathLike[str], arch: str, encoder: str, arch_args: dict[str, Any],
                             feature_names: list[str], source: str) -> EncoderMeta:
    """The metadata of encoder checkpoint `path` once it is known to fit a model of `arch` (ENCODER `encoder`,
    ARCH_ARGS `arch_args`) trained on `feature_names` of `source`; a CropsError saying what to change otherwise."""
    meta = read_encoder_meta(path)
    if meta.arch != arch:
        raise CropsError(f"PRETRAINED {path} is the encoder of a {meta.arch} model, not of a {arch}: set ARCH "
                         f"{meta.arch} (or pretrain a {arch} encoder).")
    expected, actual = list(meta.features), list(feature_names)
    if actual != expected:
        missing = [f for f in expected if f not in actual]
        extra = [f for f in actual if f not in expected]
        details = [f"missing {missing}" if missing else "", f"extra {extra}" if extra else ""]
        detail = ", ".join(d for d in details if d) or "the same features in another order"
        raise CropsError(
            f"PRETRAINED {path} was pretrained on features {expected} but {source} has {actual} ({detail}): pretrain "
            f"on inputs with the store's features, or rebuild the store with exactly {', '.join(expected)}."
        )
    wanted = encoder_args(arch, arch_args)
    if arch == "unet" and encoder:
        wanted["encoder"] = encoder
    differ = {k: v for k, v in wanted.items() if k in meta.encoder_args and meta.encoder_args[k] != v}
    if differ:
        raise CropsError(
            f"PRETRAINED {path} is a {json.dumps(meta.encoder_args)} encoder but this run asks for "
            f"{json.dumps(differ)}: leave ENCODER empty (and these ARCH_ARGS out) to take the encoder from the file."
        )
    return meta

"""Weights a user holds (AgriFM's released .pth) converted once into a `.safetensors` encoder for the agrifm model.

Reading never unpickles objects: `torch.load(weights_only=True)` accepts tensors and plain containers only, and
a file that needs more is refused with what to do. Training checkpoints' containers (`state_dict`, `model`, ...)
and wrapper prefixes (`module.`, `backbone.`, `encoders.S2.` ...) are unwrapped by matching each tensor of the
agrifm encoder to the one source tensor whose name ends with it, shape-checked. The result names every tensor
mapped, missing and unused (a JSON report beside the output too), and the output's header records the encoder
arguments it fits, so a model built with other arguments is refused by name, not mis-loaded.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

from .atomic import atomic_path, check_output
from .errors import CropsError
from .progress import Progress

IMPORT_KEY = "crops_imported_weights"  # safetensors header metadata: JSON of what the file is and fits
REPORT_SUFFIX = ".import.json"
_CONTAINERS = ("state_dict_ema", "state_dict", "model_ema", "model", "module", "network", "net", "encoder")
_WRAPPERS = ("module.", "backbone.")
RECOMPUTED = ("relative_position_index", "num_batches_tracked")  # buffers the model derives itself
_BLOCK = re.compile(r"(?:^|\.)layers\.(\d+)\.blocks\.(\d+)\.")


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The tensors of a `.safetensors` file or of a torch checkpoint read with `weights_only=True`, containers
    unwrapped; a CropsError for a file that needs full unpickling or holds no tensors."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise CropsError(f"Weights file {p} does not exist.")
    if p.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state: Any = load_file(str(p), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CropsError(f"Cannot read the safetensors file {p}: {exc}.") from None
    else:
        try:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise CropsError(
                f"Weights file {p} holds Python objects that only full unpickling would rebuild ({_first_line(exc)}); "
                "CROPS never unpickles untrusted files. Where you trust it, load it yourself and re-save its tensors: "
                "torch.save(model.state_dict(), 'weights.pth') (or safetensors.torch.save_file), then import that."
            ) from None
        except (RuntimeError, OSError, EOFError, ValueError) as exc:
            raise CropsError(f"Cannot read weights file {p}: {_first_line(exc)}. Give a torch state dict (.pth) "
                             "or a .safetensors file.") from None
    unwrapped = True
    while unwrapped and isinstance(state, dict):
        unwrapped = False
        for key in _CONTAINERS:
            if isinstance(state.get(key), dict) and any(isinstance(v, torch.Tensor | dict)
                                                        for v in state[key].values()):
                state, unwrapped = state[key], True
                break
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)} if isinstance(state, dict) else {}
    if not tensors:
        raise CropsError(f"Weights file {p} holds no state dict (a mapping of tensor names to tensors).")
    return {_strip_wrappers(k): v for k, v in tensors.items()}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _strip_wrappers(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in _WRAPPERS:
            if key.startswith(prefix):
                key, stripped = key[len(prefix):], True
    return key


def infer_encoder_args(source: dict[str, Any], given: dict[str, Any] | None = None) -> dict[str, Any]:
    """agrifm arguments (bands, embed_dim, patch_size, depths, num_heads, window_size) read off the source tensors;
    `given` ones win. A CropsError when the file has no 3-D patch embedding to read them from."""
    args = dict(given or {})
    embeds = [k for k, v in source.items() if k.endswith("patch_embed.proj.weight") and v.ndim == 5]
    if len(embeds) != 1:
        found = "none" if not embeds else ", ".join(embeds[:3])
        raise CropsError(f"Cannot tell the encoder's shape: the weights need exactly one 3-D patch embedding "
                         f"(*patch_embed.proj.weight, 5-D), found {found}. Give PREFIX to pick one encoder.")
    weight = source[embeds[0]]
    args.setdefault("bands", int(weight.shape[1]))
    args.setdefault("embed_dim", int(weight.shape[0]))
    args.setdefault("patch_size", [int(s) for s in weight.shape[2:]])
    blocks: dict[int, set[int]] = {}
    for key in source:
        if (m := _BLOCK.search(key)) is not None:
            blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    if blocks and "depths" not in args:
        args["depths"] = [len(blocks.get(i, ())) for i in range(max(blocks) + 1)]
    tables = {}
    for key, value in source.items():
        if key.endswith("attn.relative_position_bias_table") and (m := _BLOCK.search(key)) and value.ndim == 2:
            tables.setdefault(int(m.group(1)), value.shape)
    if tables and "num_heads" not in args and "depths" in args:
        args["num_heads"] = [int(tables[i][1]) if i in tables else 1 for i in range(len(args["depths"]))]
    if tables and "window_size" not in args:
        args["window_size"] = _window_for(int(next(iter(tables.values()))[0]))
    return args


def _window_for(rows: int) -> list[int]:
    """The window (t, s, s) whose relative position table has `rows` rows, the published (8, 7, 7) first."""
    from .models.agrifm import DEFAULT_ARGS, PUBLISHED_ARGS

    for window in (PUBLISHED_ARGS["window_size"], DEFAULT_ARGS["window_size"]):
        if (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1) == rows:
            return list(window)
    for s in range(1, 65):
        for t in range(1, 65):
            if (2 * t - 1) * (2 * s - 1) ** 2 == rows:
                return [t, s, s]
    raise CropsError(f"Cannot tell the attention window from a relative position table of {rows} rows: "
                     "give window_size in ARCH_ARGS.")


def encoder_shapes(args: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of the agrifm encoder with `args` (built on the meta device: no memory)."""
    import torch

    from .models import build_model

    model_args = {k: v for k, v in args.items() if k != "bands"}
    with torch.device("meta"):
        model = build_model("agrifm", int(args["bands"]), 1, steps=1, **model_args)
    return {k: tuple(v.shape) for k, v in model.backbone.state_dict().items()}


def map_state(source: dict[str, Any], target: dict[str, tuple[int, ...]], prefix: str = "") -> dict[str, Any]:
    """Match each target name to the one source name equal to it or ending with `.name` (under `prefix` when
    given): {mapped: {target: source}, missing, mismatched, unused, recomputed}; ambiguity is a CropsError."""
    names = [k for k in source if k.startswith(prefix)] if prefix else list(source)
    if prefix and not names:
        raise CropsError(f"No tensor of the weights starts with PREFIX {prefix!r}; e.g. {', '.join(list(source)[:3])}.")
    mapped: dict[str, str] = {}
    missing: list[str] = []
    mismatched: list[str] = []
    for key, shape in target.items():
        candidates = [k for k in names if k == key or k.endswith("." + key)]
        if len(candidates) > 1:
            raise CropsError(f"Several tensors of the weights could be encoder tensor {key}: "
                             f"{', '.join(candidates[:4])}. Give PREFIX (e.g. {candidates[0][:-len(key)]!r}) "
                             "to pick one encoder.")
        if not candidates:
            missing.append(key)
            continue
        found = tuple(source[candidates[0]].shape)
        if found != shape:
            mismatched.append(f"{key} {found} vs {shape}")
            continue
        mapped[key] = candidates[0]
    used = set(mapped.values())
    left = [k for k in source if k not in used]
    return {"mapped": mapped, "missing": missing, "mismatched": mismatched,
            "unused": [k for k in left if not k.endswith(RECOMPUTED)],
            "recomputed": [k for k in left if k.endswith(RECOMPUTED)]}


def import_weights(path: str | os.PathLike[str], output: str | os.PathLike[str],
                   arch_args: dict[str, Any] | None = None, prefix: str = "",
                   progress: Progress | None = None) -> dict[str, Any]:
    """Convert `path` into an agrifm encoder `.safetensors` at `output` (+ `name.import.json`); the report."""
    from .checkpoint import sibling, write_safetensors

    progress = progress or Progress()
    out = Path(output)
    if out.suffix != ".safetensors":
        raise CropsError(f"OUTPUT {out} must be a .safetensors file.")
    check_output(out)
    source = read_state_dict(path)
    progress(0.3, f"Read {len(source)} tensors from {Path(path).name}")
    scoped = {k: v for k, v in source.items() if k.startswith(prefix)} if prefix else source
    if not scoped:
        raise CropsError(f"No tensor of the weights starts with PREFIX {prefix!r}; e.g. {', '.join(list(source)[:3])}.")
    args = infer_encoder_args(scoped, arch_args)
    target = encoder_shapes(args)
    result = map_state(source, target, prefix)
    if result["mismatched"]:
        raise CropsError(f"{len(result['mismatched'])} tensors of {path} have other shapes than the agrifm encoder "
                         f"{json.dumps(args)} (e.g. {'; '.join(result['mismatched'][:3])}): give the encoder's "
                         "arguments in ARCH_ARGS.")
    if not result["mapped"]:
        raise CropsError(f"No tensor of {path} maps onto the agrifm encoder {json.dumps(args)}: it is not a Video "
                         "Swin / AgriFM encoder, or give PREFIX.")
    progress(0.6, f"Mapped {len(result['mapped'])} of {len(target)} encoder tensors")
    encoder_args = {k: v for k, v in args.items() if k != "bands"}
    report = {"source": str(Path(path).resolve()), "output": str(out), "arch": "agrifm", "bands": int(args["bands"]),
              "encoder_args": encoder_args, "mapped": result["mapped"], "missing": result["missing"],
              "unused": result["unused"], "recomputed": result["recomputed"]}
    header = {IMPORT_KEY: json.dumps({k: report[k] for k in ("arch", "bands", "encoder_args", "missing")}
                                     | {"source": Path(path).name, "mapped": len(result["mapped"])})}
    tensors = {key: source[name].detach().to("cpu").float().contiguous() for key, name in result["mapped"].items()}
    report_path = sibling(out, REPORT_SUFFIX)
    with atomic_path(out) as tmp:
        write_safetensors(tmp, tensors, header)
    with atomic_path(report_path) as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    progress.log(f"Imported {len(result['mapped'])} tensors of {Path(path).name} into {out.name} "
                 f"(agrifm {json.dumps(encoder_args)}, {args['bands']} bands); "
                 f"{len(result['missing'])} encoder tensors missing (left random), {len(result['unused'])} unused; "
                 f"report {report_path.name}.")
    progress(1.0, "Done")
    return {"output": str(out), "report": str(report_path), "mapped": len(result["mapped"]),
            "missing": len(result["missing"]), "unused": len(result["unused"]),
            "encoder_args": json.dumps(encoder_args)}


def load_backbone_weights(backbone: Any, path: str | os.PathLike[str]) -> dict[str, int]:
    """Load an agrifm encoder (an imported file, or any state dict with its names) into `backbone`; tensors of
    other shapes are refused with the arguments the file fits, encoder tensors it lacks stay as they are."""
    source = read_state_dict(path)
    target = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    result = map_state(source, target)
    if result["mismatched"] or not result["mapped"]:
        fits = _imported_args(path)
        hint = (f"the file fits agrifm {json.dumps(fits['encoder_args'])} with {fits['bands']} bands per step: "
                "train with those ARCH_ARGS" if fits else "use weights of an agrifm encoder (crops:import_weights)")
        detail = f"{len(result['mismatched'])} tensors with other shapes (e.g. {'; '.join(result['mismatched'][:3])})" \
            if result["mismatched"] else "no tensor matches"
        raise CropsError(f"Encoder weights {path} do not fit this agrifm model: {detail}; {hint}.")
    state = {key: source[name].to(dtype=backbone.state_dict()[key].dtype) for key, name in result["mapped"].items()}
    backbone.load_state_dict(state, strict=False)
    return {"loaded": len(state), "missing": len(result["missing"]), "ignored": len(result["unused"])}


def _imported_args(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    if Path(path).suffix != ".safetensors":
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            meta = (fh.metadata() or {}).get(IMPORT_KEY)
        return json.loads(meta) if meta else None
    except (OSError, ValueError, TypeError):
        return None

"""The `import-weights` command (Processing `crops:import_weights`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..command_spec import Command, Output, Param
from ..errors import CropsError
from ..progress import Progress

SPEC = Command(
    name="import-weights", algorithm="import_weights", context="ImportWeightsAlgorithm",
    display_name="Import encoder weights (AgriFM)", group="training",
    summary="Convert a local AgriFM / Video Swin checkpoint into encoder weights of the agrifm model.",
    help=(
        "Converts encoder weights you hold locally (e.g. AgriFM's released .pth checkpoint) once into a .safetensors "
        "encoder for the agrifm architecture; give it to Train source model as Pretrained encoder weights with "
        "Architecture agrifm. Nothing is downloaded.\n"
        "\n"
        "Reading: the file is read with torch's weights-only loader (tensors and plain containers only); a file that "
        "needs full unpickling is refused: load it yourself where you trust it and re-save its state_dict. Training "
        "containers (state_dict, model) and prefixes (module., backbone., encoders.S2. ...) are unwrapped: each "
        "tensor of the agrifm encoder takes the one tensor whose name ends with its name, shape-checked. Prefix "
        "picks one encoder where a file holds several.\n"
        "Encoder arguments (embed_dim, depths, num_heads, patch_size, window_size, bands) are read off the file; "
        "Architecture arguments overrides them.\n"
        "\n"
        "Output: the .safetensors encoder (its header records the arguments it fits) and name.import.json beside it: "
        "every tensor mapped (encoder name: file name), the encoder tensors missing (left random in training) and "
        "the file's tensors unused."
    ),
    params=(
        Param("INPUT", "file", "Weights file (.pth / .safetensors)",
              "local weights: a torch state dict or training checkpoint (.pth, .pt) or a .safetensors file"),
        Param("PREFIX", "text", "Prefix (empty: any)",
              "only tensors whose names start with this are read (e.g. encoders.S2.); empty: any", default="",
              optional=True, advanced=True),
        Param("ARCH_ARGS", "text", "Architecture arguments (JSON; empty: from the file)",
              'JSON object of agrifm encoder arguments, e.g. {"window_size": [8, 7, 7]}; empty: read off the file',
              default="", optional=True, advanced=True),
        Param("OUTPUT", "file_out", "Encoder weights", "encoder weights to write (.safetensors)",
              file_filter="Encoder (*.safetensors)"),
    ),
    outputs=(
        Output("MAPPED", "number", "Tensors mapped"),
        Output("MISSING", "number", "Encoder tensors missing"),
        Output("UNUSED", "number", "File tensors unused"),
        Output("REPORT", "file", "Mapping report (JSON)"),
        Output("ENCODER_ARGS", "string", "Encoder arguments"),
    ),
)


def _arch_args(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CropsError(f"ARCH_ARGS is not valid JSON ({exc}); give an object like {{\"window_size\": [8, 7, 7]}}.") \
            from None
    if not isinstance(value, dict):
        raise CropsError("ARCH_ARGS must be a JSON object (name: value).")
    return value


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    from ..weights_import import import_weights

    return import_weights(args.input, args.output, arch_args=_arch_args(args.arch_args or ""),
                          prefix=args.prefix or "", progress=progress)

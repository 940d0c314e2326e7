"""One declaration per engine command: its parameters, outputs and help, for every surface.

A `Command` lists `Param`s (name, kind, default, range, static-string choices, label, help,
advanced flag) and `Output`s. The engine's argparse (`add_arguments`), the QGIS Processing
parameters (`crops_qgis.algorithms.parameters`), the dialog help and the defaults the engine
resolves all come from it, so the two sides of the process boundary cannot drift apart. This
module imports neither torch nor qgis: the plugin reads it in QGIS's own Python.

Parameter `FOO_BAR` is CLI option `--foo-bar` and attribute `args.foo_bar`. Labels and help texts
are English; QGIS translates them in the command's `context` (or `"CropsAlgorithm"` for the
shared parameters), so the Qt Linguist files keep one entry per text.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

SHARED_CONTEXT = "CropsAlgorithm"

# Parameter kinds. Inputs: the value is a path or text; QGIS shows a layer picker for the layer kinds.
INPUT_KINDS = (
    "int", "float", "bool", "choice", "text", "file", "folder", "raster", "map_layer", "polygons",
    "rasters", "extent", "crs", "field", "list",
)
OUTPUT_KINDS = ("raster_out", "vector_out", "file_out", "folder_out")
KINDS = INPUT_KINDS + OUTPUT_KINDS
OUTPUT_VALUE_KINDS = ("number", "file", "string", "bool")


@dataclass(frozen=True)
class Param:
    """One parameter of a command, as both the CLI and Processing show it.

    `default` None with `optional` False means required. `choices` are static strings: the value a
    user writes (`ARCH=unet`, `--arch unet`) is the choice itself; `labels` the words a dialog
    shows for them ({choice: words}, kept as pairs; a choice without words shows itself).
    `extension`/`file_filter` shape the file pickers; `parent` names the layer parameter a `field`
    belongs to; `hidden` parameters are set by the plugin itself (never shown, never in `--help`).
    """

    name: str
    kind: str
    label: str
    help: str = ""
    default: Any = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    advanced: bool = False
    extension: str = ""
    file_filter: str = ""
    parent: str = ""
    layer_types: tuple[str, ...] = ()  # map_layer: "raster" and/or "polygons"
    create_by_default: bool = True  # optional outputs: False leaves them unticked in the dialog
    hidden: bool = False
    context: str = ""  # translation context of the label; "" = the command's
    labels: Any = ()  # {choice: display words}; stored as ((choice, words), ...) in the choices' order

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown parameter kind {self.kind!r}")
        words = dict(self.labels)  # words of choices a `replace` left out are dropped
        object.__setattr__(self, "labels", tuple((c, words[c]) for c in self.choices if c in words))
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.name}: a choice needs choices")
        if self.kind == "choice" and self.default is not None and self.default not in self.choices:
            raise ValueError(f"{self.name}: default {self.default!r} is not one of its choices")

    @property
    def option(self) -> str:
        return option(self.name)

    @property
    def dest(self) -> str:
        return self.name.lower()

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    @property
    def is_output(self) -> bool:
        return self.kind in OUTPUT_KINDS


@dataclass(frozen=True)
class Output:
    """A value the command reports (result key = lower-case name), shown among the algorithm's outputs."""

    name: str
    kind: str
    label: str
    context: str = ""

    def __post_init__(self) -> None:
        if self.kind not in OUTPUT_VALUE_KINDS:
            raise ValueError(f"{self.name}: unknown output kind {self.kind!r}")


@dataclass(frozen=True)
class Command:
    """An engine sub-command and the Processing algorithm that runs it.

    `algorithm` is the Processing id (`crops:<algorithm>`), `context` the translation context of
    its texts (the algorithm class name the plugin gives it), `group` its Toolbox group.
    """

    name: str
    algorithm: str
    context: str
    display_name: str
    group: str
    help: str
    params: tuple[Param, ...]
    outputs: tuple[Output, ...] = ()
    requires_torch: bool = True
    summary: str = ""  # one line for `python -m crops_engine --help`
    records_runs: bool = True  # writes `<output>.run.json` (run_record) after a successful run

    def __post_init__(self) -> None:
        names = [p.name for p in self.params] + [o.name for o in self.outputs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"{self.name}: parameters declared twice: {duplicates}")
        # The shared parameters translate in the shared context; the others in the command's.
        object.__setattr__(self, "params", tuple(p if p.context else replace(p, context=self.context)
                                                 for p in self.params))
        object.__setattr__(self, "outputs", tuple(o if o.context else replace(o, context=self.context)
                                                  for o in self.outputs))

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name}")

    def defaults(self) -> dict[str, Any]:
        """{dest: default} of every parameter (what a value left out resolves to)."""
        return {p.dest: p.default for p in self.params}


# -- argparse -------------------------------------------------------------------------------------


def option(name: str) -> str:
    """Processing parameter name -> CLI option (`OUTPUT_FOLDER` -> `--output-folder`)."""
    return "--" + name.lower().replace("_", "-")


def parse_bool(text: str) -> bool:
    """`true/false`, `yes/no`, `1/0` (how the Processing bridge passes booleans)."""
    value = str(text).strip().lower()
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def split_list(values: Iterable[str]) -> tuple[str, ...]:
    """A `list` parameter given as repeated options and/or ';'-separated items."""
    return tuple(part.strip() for value in values for part in str(value).split(";") if part.strip())


class _ListAction(argparse.Action):
    """A `list` parameter: every occurrence adds its ';'-separated items (the value is a tuple)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, tuple(getattr(namespace, self.dest) or ()) + split_list([values]))


def _ranged(kind: type, param: Param) -> Any:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if param.minimum is not None and value < param.minimum:
            raise argparse.ArgumentTypeError(f"{param.name} must be at least {param.minimum:g}, got {text}")
        if param.maximum is not None and value > param.maximum:
            raise argparse.ArgumentTypeError(f"{param.name} must be at most {param.maximum:g}, got {text}")
        return value

    convert.__name__ = kind.__name__
    convert.minimum, convert.maximum = param.minimum, param.maximum  # type: ignore[attr-defined]
    return convert


def _help(param: Param) -> str:
    text = param.help or param.label
    if param.hidden:
        return argparse.SUPPRESS
    if param.default not in (None, "", ()) and param.kind != "list":
        text += f"; default {param.default}"
    return text.replace("%", "%%")


class HelpFormatter(argparse.HelpFormatter):
    """Wraps the description paragraph by paragraph, keeping the help's line breaks."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        return "\n".join(textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent) if line else ""
                         for line in text.splitlines())


def add_arguments(parser: argparse.ArgumentParser, command: Command) -> None:
    """The command's options on `parser`, from its declaration."""
    for p in command.params:
        kwargs: dict[str, Any] = {"help": _help(p), "dest": p.dest}
        if p.kind == "int":
            kwargs.update(type=_ranged(int, p), default=p.default)
        elif p.kind == "float":
            kwargs.update(type=_ranged(float, p), default=p.default)
        elif p.kind == "bool":
            kwargs.update(type=parse_bool, default=p.default, metavar="true|false")
        elif p.kind == "choice":
            kwargs.update(choices=p.choices, default=p.default)
        elif p.kind == "rasters":
            kwargs.update(nargs="*", default=list(p.default or ()), metavar="FILE")
        elif p.kind == "list":
            kwargs.update(action=_ListAction, default=(), metavar="ITEM[;ITEM...]")
        else:
            kwargs.update(default=p.default)
        if p.required:
            kwargs["required"] = True
        parser.add_argument(p.option, **kwargs)


# -- parameters several commands share (one declaration each) -------------------------------------------

DEVICE = Param("DEVICE", "choice", "Device", "where to run: auto (CUDA when the engine sees a GPU), cpu or cuda",
               default="auto", choices=("auto", "cpu", "cuda"), context=SHARED_CONTEXT,
               labels={"auto": "Automatic (GPU if available)", "cpu": "CPU", "cuda": "CUDA GPU"})
SEED = Param("SEED", "int", "Random seed", "random seed (the same seed gives the same result on a CPU)", default=0,
             context=SHARED_CONTEXT)
AMP = Param("AMP", "bool", "Mixed precision on CUDA", "mixed precision on CUDA (true/false)", default=True,
            advanced=True, context=SHARED_CONTEXT)
THREADS = Param("THREADS", "int", "CPU threads (0: all)", "CPU threads for torch (0: torch's default)", default=0,
                minimum=0, advanced=True, context=SHARED_CONTEXT)
WEIGHT_DECAY = Param("WEIGHT_DECAY", "float", "Weight decay", "AdamW weight decay", default=1e-4, minimum=0.0,
                     advanced=True, context=SHARED_CONTEXT)
WARMUP = Param("WARMUP", "float", "Warm-up (fraction of the steps)", "warm-up, fraction of the steps (at most 500)",
               default=0.05, minimum=0.0, maximum=0.99, advanced=True, context=SHARED_CONTEXT)
CHECKPOINT_EVERY = Param(
    "CHECKPOINT_EVERY", "int", "Checkpoint every N steps (0: with the resume state)",
    "steps between checkpoints (0: each time the resume state is saved, see RESUME_EVERY, and at the end)", default=0,
    minimum=0, advanced=True, context=SHARED_CONTEXT)
RESUME_EVERY = Param(
    "RESUME_EVERY", "int", "Save the resume state every N seconds (0: every step)",
    "seconds between saves of the resume state (0: after every step); it is also saved at the end and on cancel, so "
    "a crash or kill loses at most this much training", default=120, minimum=0, advanced=True,
    context=SHARED_CONTEXT)
SYNC_BATCHNORM = Param(
    "SYNC_BATCHNORM", "bool", "SyncBatchNorm over all processes (torchrun)",
    "under torchrun with several processes: BatchNorm statistics over the global batch of all processes instead of "
    "each process's own (slower; matches one process with the global batch); no effect on one process",
    default=False, advanced=True, context=SHARED_CONTEXT)
ADAPT_RESUME = Param(
    "RESUME", "file", "Resume from (resume state or adapted model)",
    "resume state (.resume.safetensors) or the adapted model with one beside it", default="", optional=True,
    file_filter="safetensors (*.safetensors)", context=SHARED_CONTEXT)
STATISTICS_ALIGNMENT = Param(
    "STATISTICS_ALIGNMENT", "choice", "Align the target's statistics to the model's",
    "map each band of the target onto the source statistics in the model: none, mean_std (mean and standard "
    "deviation) or histogram (histogram matching to the recorded quantiles)", default="none",
    choices=("none", "mean_std", "histogram"), advanced=True, context=SHARED_CONTEXT,
    labels={"none": "None", "mean_std": "Mean and standard deviation", "histogram": "Histogram matching"})
ADAPTED_MODEL = Param("OUTPUT", "file_out", "Adapted model", "adapted model checkpoint to write (.safetensors)",
                      file_filter="Model (*.safetensors)", context=SHARED_CONTEXT)
ADAPTATION_OUTPUTS = (
    Output("LOG", "file", "Adaptation log (JSON)", context=SHARED_CONTEXT),
    Output("CURVES", "file", "Adaptation curves (PNG)", context=SHARED_CONTEXT),
    Output("TRUST_REPORT", "file", "Trust report: what the adaptation changed (HTML)", context=SHARED_CONTEXT),
    Output("AGREEMENT", "file", "Agreement of the source and adapted maps (unchanged / changed)",
           context=SHARED_CONTEXT),
    Output("CHANGED_SHARE", "number", "Share of pixels that changed class", context=SHARED_CONTEXT),
    Output("RESUME_STATE", "file", "Resume state", context=SHARED_CONTEXT),
    Output("STEPS", "number", "Steps done", context=SHARED_CONTEXT),
    Output("FINAL_LOSS", "number", "Final loss", context=SHARED_CONTEXT),
)


# How an adaptation runs and what it writes: the same on every adaptation command (main, then advanced).
ADAPTATION_RUN = (DEVICE, SEED, ADAPT_RESUME)
ADAPTATION_RUNTIME = (WEIGHT_DECAY, WARMUP, AMP, CHECKPOINT_EVERY, RESUME_EVERY, THREADS, SYNC_BATCHNORM)

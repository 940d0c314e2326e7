"""Source-free adaptation of a source checkpoint to a target block store, by method name.

Every method sees the source checkpoint and the target store's images only: never source data,
never target labels. `METHODS` maps a method's name to its module in this package; the module
defines `METHOD`, a subclass of `method.AdaptationMethod` whose `config_class` (a subclass of
`method.AdaptConfig`) holds its hyper-parameters. `task.run_adaptation` runs it as a task of the
optimisation loop (`crops_engine.loop`: batches, optimiser, checkpoints with provenance, progress,
cancel, resume). The toolkit the methods share: `target` (target blocks), `teacher` (EMA teacher,
AdaBN, jitter), `pseudo_labels` (thresholds, calibration), `prototypes`, `classmix`, `alignment`,
`curriculum`, `watch`, `pppc` (probabilistic prototypes). `co_training` is several runs of the loop (its
stages), started by its `run`.
This module imports no torch, so the CLI's `--help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ..errors import CropsError
from ..progress import Progress

if TYPE_CHECKING:
    from .method import AdaptationMethod, AdaptConfig

# name -> module in crops_engine.adapt (each defines METHOD)
METHODS: dict[str, str] = {
    "entropy": "entropy",
    "self_training": "self_training",
    "spcl": "spcl",
    "co_training": "co_training",
}


def method_class(name: str) -> type[AdaptationMethod]:
    """The method registered as `name`; a CropsError listing the known ones otherwise."""
    module_name = METHODS.get(name)
    if module_name is None:
        raise CropsError(f"Unknown adaptation METHOD {name!r}; choose one of {', '.join(METHODS)}.")
    return importlib.import_module(f".{module_name}", __package__).METHOD


def make_config(name: str, **values: Any) -> AdaptConfig:
    """The method's config from keyword values; keys it does not know are ignored."""
    from dataclasses import fields

    cls = method_class(name).config_class
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})


def adapt(name: str, config: AdaptConfig, progress: Progress | None = None) -> dict[str, Any]:
    """Run method `name` with `config`; returns output paths and figures. A method of several runs of the loop
    (co-training's stages) has a `run(config, progress)` classmethod that runs them; the others run as one task."""
    from .task import run_adaptation

    cls = method_class(name)
    runner = getattr(cls, "run", None)
    if runner is not None:
        return runner(config, progress)
    return run_adaptation(cls, config, progress)

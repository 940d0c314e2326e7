"""The `adapt` command (Processing `crops:adapt`): its declaration and the call into the engine."""

from __future__ import annotations

import argparse
from typing import Any

from ..command_spec import (
    ADAPTATION_OUTPUTS,
    ADAPTATION_RUN,
    ADAPTATION_RUNTIME,
    ADAPTED_MODEL,
    STATISTICS_ALIGNMENT,
    Command,
    Param,
)
from ..progress import Progress

# The adaptation methods this command runs (crops_engine.adapt.METHODS holds them; spcl has its own command).
METHODS = ("entropy", "self_training", "co_training")

SPEC = Command(
    name="adapt", algorithm="adapt", context="AdaptAlgorithm", display_name="Adapt (baselines)", group="adaptation",
    summary="Adapt a source model to the target blocks without source data: a baseline METHOD.",
    help=(
        "Adapts a source model to the target area without any source data, with a baseline method (to measure what "
        "SPCL adds).\n"
        "\n"
        "entropy: entropy minimisation with a diversity term (Tent / SHOT). Parameters: norm (only the normalisation "
        "layers, Tent), encoder (all but the heads, SHOT) or all. The diversity term, times Diversity weight, keeps "
        "the batch's class shares near equal shares (prior uniform) or near the source model's shares on the target "
        "(source).\n"
        "self_training: a teacher (moving average of the student, momentum EMA) labels target pixels whose confidence "
        "reaches a per-class threshold: each class keeps its most confident Portion of pixels, never demanding more "
        "than Confidence threshold; thresholds are refreshed in each of Rounds rounds. The student learns them from a "
        "jittered view. The teacher is the adapted model.\n"
        "co_training: two models collaborate through pseudo-labels. A self-training stage (the self_training "
        "settings, Iterations steps) gives two models: two snapshots of it (half-way and at the end) or two runs with "
        "different seeds (co_training: how the two models differ). Then, in each of the co_training: rounds, both "
        "models label the target and their labels are fused (agreement: where they agree; confidence: the more "
        "confident where they disagree; mean: their mean probabilities); each class keeps its most confident share of "
        "pixels (co_training: share kept per class), and a block keeps a class only with at least co_training: "
        "minimum pixels per class per block of it. Each model is then retrained for co_training: epochs per round on "
        "these pseudo-labels, mixed by ClassMix between target blocks. A final model, started from the source model, "
        "learns the last fused pseudo-labels (co_training: final epochs); it is the adapted model. co_training: models "
        "1 leaves out the second model (an ablation). The stages' models and labels are kept in name.co_training "
        "beside the output; the log holds each round's class shares, agreement and thresholds.\n"
        "\n"
        "Generic add-ons, off by default so the baselines stay what they are named (the SPCL command has both on): "
        "Re-estimate BatchNorm statistics (AdaBN: the statistics of the source model's BatchNorm layers are replaced "
        "by their average over the target blocks before anything else) and Hold the class distribution (the "
        "probabilities that are pseudo-labelled, or whose entropy is minimised, are multiplied by the first model's "
        "class distribution on the target over their running one, ReMixMatch's distribution alignment). With both on, "
        "entropy and self_training get what SPCL gets before its own parts.\n"
        "\n"
        "Blocks: all target blocks, or the easy / hard split of Partition. Learning rate empty: the method's default "
        "(entropy 0.001, self_training and co_training 0.00003).\n"
        "Output: the adapted model (.safetensors; provenance: the source model's SHA-256, the target store and every "
        "hyper-parameter). Beside it: name.adapt.json (configuration and loss history) and name.resume.safetensors "
        "(give it to Resume to continue). Cancel keeps the last complete checkpoint."
    ),
    params=(
        Param("METHOD", "choice", "Method", "adaptation method", default="entropy", choices=METHODS,
              labels={"entropy": "Entropy minimisation", "self_training": "Self-training (mean teacher)",
                      "co_training": "Co-training (two models)"}),
        Param("MODEL", "file", "Source model", "source model checkpoint (.safetensors)",
              file_filter="Model (*.safetensors)"),
        Param("BLOCKS", "file", "Target block store", "target block store (.h5), e.g. after partition",
              extension="h5"),
        Param("SPLIT", "choice", "Blocks", "blocks to adapt on (easy / hard: after partition)", default="all",
              choices=("all", "easy", "hard"),
              labels={"all": "All blocks", "easy": "Easy blocks", "hard": "Hard blocks"}),
        Param("ITERATIONS", "int", "Iterations", "optimiser steps", default=300, minimum=1),
        Param("BATCH_SIZE", "int", "Batch size (blocks)", "blocks per step", default=8, minimum=1),
        Param("LR", "float", "Learning rate (empty: the method's default)",
              "peak learning rate (AdamW; empty: entropy 1e-3, self_training and co_training 3e-5)", optional=True,
              minimum=0.0),
        *ADAPTATION_RUN,
        Param("PARAMETERS", "choice", "entropy: parameters to train", "entropy: what to train", default="norm",
              choices=("norm", "encoder", "all"), advanced=True,
              labels={"norm": "Normalisation layers", "encoder": "Encoder", "all": "All parameters"}),
        Param("DIVERSITY_WEIGHT", "float", "entropy: diversity weight", "entropy: diversity weight", default=1.0,
              minimum=0.0, advanced=True),
        Param("DIVERSITY_PRIOR", "choice", "entropy: diversity prior",
              "entropy: class shares the diversity term keeps", default="uniform", choices=("uniform", "source"),
              advanced=True, labels={"uniform": "Uniform", "source": "The source's class shares"}),
        Param("EMA", "float", "self_training: teacher EMA momentum", "self_training: teacher EMA momentum",
              default=0.99, minimum=0.0, maximum=0.999999, advanced=True),
        Param("CONF_THRESHOLD", "float", "self_training: confidence threshold (highest)",
              "self_training: highest per-class confidence threshold", default=0.9, minimum=0.0001, maximum=1.0,
              advanced=True),
        Param("PORTION", "float", "self_training: share of each class pseudo-labelled",
              "self_training: share of each class's pixels pseudo-labelled", default=0.5, minimum=0.0001,
              maximum=1.0, advanced=True),
        Param("ROUNDS", "int", "self_training: rounds", "self_training: threshold refreshes", default=3, minimum=1,
              advanced=True),
        Param("JITTER", "float", "self_training: photometric jitter",
              "self_training: strength of the student's photometric jitter", default=0.1, minimum=0.0, advanced=True),
        Param("CO_ROUNDS", "int", "co_training: rounds", "co_training: collaboration rounds", default=2, minimum=1,
              advanced=True),
        Param("CO_EPOCHS", "int", "co_training: epochs per round",
              "co_training: epochs of each model's retraining per round", default=2, minimum=1, advanced=True),
        Param("CO_FINAL_EPOCHS", "int", "co_training: final epochs",
              "co_training: epochs of the final model on the last fused pseudo-labels", default=4, minimum=1,
              advanced=True),
        Param("CO_SHARE", "float", "co_training: share kept per class",
              "co_training: per class, the share of its most confident fused pixels kept", default=0.5,
              minimum=0.0001, maximum=1.0, advanced=True),
        Param("CO_MIN_PIXELS", "int", "co_training: minimum pixels per class per block",
              "co_training: a block keeps a class's pseudo-labels only with at least this many", default=16,
              minimum=0, advanced=True),
        Param("CO_FUSION", "choice", "co_training: fusion", "co_training: how the two label sets are fused",
              default="confidence", choices=("confidence", "agreement", "mean"), advanced=True,
              labels={"confidence": "The more confident model", "agreement": "Where both agree",
                      "mean": "Mean of the probabilities"}),
        Param("CO_MODELS", "int", "co_training: models", "co_training: 2 models, or 1 (ablation)", default=2,
              minimum=1, maximum=2, advanced=True),
        Param("CO_DIVERSITY", "choice", "co_training: how the two models differ",
              "co_training: snapshots of one self-training run, or two runs with other seeds", default="snapshots",
              choices=("snapshots", "seeds"), advanced=True,
              labels={"snapshots": "Snapshots of one run", "seeds": "Two runs with other seeds"}),
        Param("RECALIBRATE_BN", "bool", "entropy, self_training: re-estimate BatchNorm statistics on the target",
              "entropy, self_training, co_training: re-estimate BatchNorm statistics on the target first (AdaBN)",
              default=False, advanced=True),
        Param("DISTRIBUTION_ALIGNMENT", "bool", "entropy, self_training: hold the class distribution",
              "entropy, self_training, co_training: hold the predictions' class distribution at the first model's",
              default=False, advanced=True),
        Param("CALIBRATION_BLOCKS", "int", "Blocks of the initial calibration pass",
              "blocks of the initial pass measuring class shares / thresholds", default=64, minimum=1, advanced=True),
        STATISTICS_ALIGNMENT,
        *ADAPTATION_RUNTIME,
        ADAPTED_MODEL,
    ),
    outputs=ADAPTATION_OUTPUTS,
)

# Run plumbing: given to every method's config by name, never a hyper-parameter.
_RUN = ("model", "blocks", "output", "device", "amp", "seed", "resume", "checkpoint_every")


def run_adapt_command(method: str, args: argparse.Namespace, spec: Command, progress: Progress) -> dict[str, Any]:
    """Run `method` with every parameter of `spec` that has a value (None keeps the method's default; names the
    method's config lacks are not its parameters): what every adaptation command does."""
    from ..adapt import adapt, make_config
    from ..device import set_torch_threads

    set_torch_threads(args.threads)
    values: dict[str, Any] = {p.dest: getattr(args, p.dest) for p in spec.params
                              if p.dest not in _RUN and getattr(args, p.dest) is not None}
    config = make_config(
        method, model=args.model, blocks=args.blocks, output=args.output, device=args.device, amp=args.amp,
        seed=args.seed, resume=args.resume or "", checkpoint_every=args.checkpoint_every, **values,
    )
    result = adapt(method, config, progress.sub(0.0, TRUST_FROM))
    result.update(write_trust_report(args.model, args.output, args.blocks, args.device, args.batch_size,
                                     progress.sub(TRUST_FROM, 1.0)))
    return result


TRUST_FROM = 0.9  # the adaptation's share of the progress; the trust report the rest


def write_trust_report(source: str, adapted: str, blocks: str, device: str, batch_size: int,
                       progress: Progress) -> dict[str, Any]:
    """Every adaptation's trust report (`trust.compare_on_store`): what it changed on the target, beside the
    adapted model (`name.trust.html`, agreement raster `name.agreement.tif`). A report that cannot be made
    is a warning: the adapted model stands (`crops:trust_report` makes it again)."""
    from pathlib import Path

    from .. import distributed
    from ..errors import CropsError
    from ..trust import compare_on_store

    if not distributed.writer():  # one report, from the process that wrote the model
        return {}
    out = Path(adapted)
    report, agreement = out.with_suffix(".trust.html"), out.with_suffix(".agreement.tif")
    try:
        trust = compare_on_store(source, adapted, blocks, report, agreement, device=device, batch_size=batch_size,
                                 progress=progress)
    except (CropsError, OSError) as exc:  # e.g. the disk filled up: the model stands
        progress.warn(f"No trust report: {exc} (the adapted model is written; run crops:trust_report).")
        return {}
    return {"trust_report": trust["output"], "agreement": trust["output_agreement"],
            "changed_share": trust["changed_share"]}


def run(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    return run_adapt_command(args.method, args, SPEC, progress)

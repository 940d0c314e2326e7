"""Entropy minimisation with a diversity term (Tent / SHOT's information maximisation).

The model is pushed to be confident on target pixels (mean per-pixel entropy down) while the
batch's mean prediction is kept near a class prior (KL(mean prediction || prior)), so confidence
does not come from predicting one class everywhere. With the default uniform prior the diversity
term is SHOT's (maximise the entropy of the mean prediction); prior `source` is the source model's
own mean prediction on the target (measured once before adapting), meant for targets whose classes
are far from equal shares. On the synthetic suite the uniform prior did better: under a shift, the
source model's class shares on the target are themselves biased (bench/adaptation.py).

PARAMETERS chooses what changes: `norm` (Tent: only the affine weights of normalisation layers,
BatchNorm statistics re-estimated on target batches), `encoder` (SHOT: everything but the
classification and projection heads, the source hypothesis stays fixed) or `all`.
Entropies are divided by log K, so both terms lie in [0, 1] whatever the number of classes.

Generic add-ons (off by default, on in SPCL): RECALIBRATE_BN re-estimates the BatchNorm statistics on the
target blocks first (AdaBN); DISTRIBUTION_ALIGNMENT minimises the entropy of the probabilities held at the
first model's class distribution on the target (`alignment`; the factor is a statistic, no gradient flows
through it), so the confidence it rewards is that of the aligned prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..commands import declared, declared_choices
from ..device import autocast
from ..errors import CropsError
from ..losses import entropy_map, masked_mean
from .alignment import DistributionAlignment, log_distribution
from .method import AdaptationContext, AdaptationMethod, AdaptConfig, split_prefixed
from .pseudo_labels import calibrate
from .teacher import recalibrate_on_blocks

PARAMETER_SETS = declared_choices("adapt", "PARAMETERS")
DIVERSITY_PRIORS = declared_choices("adapt", "DIVERSITY_PRIOR")
_NORM_LAYERS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


@dataclass
class EntropyConfig(AdaptConfig):
    """Hyper-parameters of entropy minimisation (defaults chosen on the synthetic suite of bench/adaptation.py)."""

    lr: float = 1e-3
    parameters: str = declared("adapt", "PARAMETERS")
    diversity_weight: float = declared("adapt", "DIVERSITY_WEIGHT")
    diversity_prior: str = declared("adapt", "DIVERSITY_PRIOR")
    calibration_blocks: int = declared("adapt", "CALIBRATION_BLOCKS")  # blocks the source model's prior is measured on
    recalibrate_bn: bool = declared("adapt", "RECALIBRATE_BN")
    distribution_alignment: bool = declared("adapt", "DISTRIBUTION_ALIGNMENT")


def norm_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Affine weights and biases of every normalisation layer (BatchNorm, LayerNorm, GroupNorm)."""
    out = []
    for module in model.modules():
        if isinstance(module, _NORM_LAYERS):
            out += [p for p in (getattr(module, "weight", None), getattr(module, "bias", None)) if p is not None]
    return out


def head_parameter_ids(model: nn.Module) -> set[int]:
    heads = [getattr(model, name, None) for name in ("segmentation_head", "projection_head")]
    return {id(p) for h in heads if h is not None for p in h.parameters()}


def diversity(mean_probs: Tensor, prior: Tensor) -> Tensor:
    """KL(mean prediction || prior) / log K: 0 when the batch's class shares match the prior."""
    k = mean_probs.shape[0]
    p = mean_probs.clamp_min(1e-8)
    return (p * (torch.log(p) - torch.log(prior.clamp_min(1e-8)))).sum() / math.log(max(k, 2))


class EntropyMinimisation(AdaptationMethod):
    name = "entropy"
    config_class = EntropyConfig

    def __init__(self, config: EntropyConfig, student: nn.Module, progress: Any) -> None:
        super().__init__(config, student, progress)
        if config.parameters not in PARAMETER_SETS:
            raise CropsError(f"PARAMETERS {config.parameters!r} is not one of {', '.join(PARAMETER_SETS)}.")
        if config.diversity_prior not in DIVERSITY_PRIORS:
            raise CropsError(f"DIVERSITY_PRIOR {config.diversity_prior!r} is not one of {', '.join(DIVERSITY_PRIORS)}.")
        if config.diversity_weight < 0:
            raise CropsError(f"DIVERSITY_WEIGHT must be 0 or more, got {config.diversity_weight}.")
        self.cfg = config
        self.prior: Tensor | None = None
        self.alignment = DistributionAlignment()

    def trainable_parameters(self) -> list[nn.Parameter]:
        if self.cfg.parameters == "norm":
            return norm_parameters(self.student)
        heads = head_parameter_ids(self.student)
        if self.cfg.parameters == "encoder":
            return [p for p in self.student.parameters() if id(p) not in heads]
        projection = {id(p) for p in self.student.projection_head.parameters()}  # unused by this loss
        return [p for p in self.student.parameters() if id(p) not in projection]

    def setup(self, context: AdaptationContext) -> None:
        k = context.meta.num_classes
        if self.cfg.recalibrate_bn and not context.resuming:
            recalibrate_on_blocks(self.student, context.dataset, None, self.cfg.batch_size, context.device,
                                  context.amp, context.progress)
        measured = None
        if not context.resuming and (self.cfg.diversity_prior == "source" or self.cfg.distribution_alignment):
            context.progress.log("Measuring the source model's class shares on the target.")
            _, measured = calibrate(self.student, context, self.cfg.calibration_blocks)
            if self.cfg.distribution_alignment:
                self.alignment.start(torch.as_tensor(measured))
                log_distribution(context.progress, context.meta.class_names, measured)
        prior = measured if self.cfg.diversity_prior == "source" and measured is not None else np.full(k, 1.0 / k)
        self.prior = torch.as_tensor(prior, dtype=torch.float32, device=context.device)
        if not context.resuming:  # a resumed run gets its prior from the resume state
            self._log_prior(context)

    def _log_prior(self, context: AdaptationContext) -> None:
        names = context.meta.class_names
        assert self.prior is not None
        shares = ", ".join(f"{n} {float(v):.3f}" for n, v in zip(names, self.prior.tolist(), strict=True))
        context.progress.log(f"Diversity prior ({self.cfg.diversity_prior}): {shares}")

    def loss(self, batch: dict[str, Tensor], step: int) -> tuple[Tensor, dict[str, float]]:
        assert self.prior is not None
        valid = batch["valid"]
        with autocast(batch["image"].device, self.cfg.amp):
            logits = self.student(batch["image"]).logits
        probs = logits.float().softmax(dim=1)
        ent = masked_mean(entropy_map(self.alignment(probs, valid)), valid)
        v = valid.unsqueeze(1).to(probs.dtype)
        mean_probs = (probs * v).sum(dim=(0, 2, 3)) / v.sum().clamp_min(1.0)
        div = diversity(mean_probs, self.prior)
        loss = ent + self.cfg.diversity_weight * div
        return loss, {"entropy": float(ent.detach()), "diversity": float(div.detach())}

    def state_tensors(self) -> dict[str, Tensor]:
        out = {"prior": self.prior.detach().cpu()} if self.prior is not None else {}
        out.update({f"alignment.{k}": v for k, v in self.alignment.state_tensors().items()})
        return out

    def load_state(self, tensors: dict[str, Tensor], info: dict[str, Any]) -> None:
        if "prior" in tensors and self.prior is not None:
            self.prior = tensors["prior"].to(self.prior.device, torch.float32)
        self.alignment.load_state(split_prefixed(tensors, "alignment."))

    def summary(self) -> dict[str, Any]:
        return {"diversity_prior": None if self.prior is None else [round(float(v), 4) for v in self.prior.tolist()]}


METHOD = EntropyMinimisation

"""Collapse watch: is a teacher's pseudo-labelling collapsing onto some classes?

Every report (LOG_EVERY steps in SPCL) logs the teacher's pseudo-label class shares over the pixels
counted since the last report, the prototype norms (a tight class is near 1) and the highest cosine
similarity between two prototypes, also as metrics; a warning names a class whose share fell under
COLLAPSE_RATIO of its share in the first window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..distributed import reduce_sum
from ..metrics import IGNORE_INDEX
from ..progress import Progress
from .prototypes import PrototypeEstimator

COLLAPSE_RATIO = 0.25  # warn when a class's pseudo-label share falls under this part of its first share


def max_similarity(prototypes: PrototypeEstimator) -> float:
    """The highest cosine similarity between two known prototypes (0 with fewer than two)."""
    known = prototypes.initialised
    if int(known.sum()) < 2:
        return 0.0
    sim = prototypes.similarities()[known][:, known].clone()
    sim.fill_diagonal_(-1.0)
    return float(sim.max())


class CollapseWatch:
    """Pseudo-label counts per class of the current window, the first window's shares, warnings given."""

    def __init__(self, class_names: list[str], progress: Progress) -> None:
        self.class_names = list(class_names)
        self.progress = progress
        k = len(self.class_names)
        self.window = torch.zeros(k, dtype=torch.float64)  # teacher pseudo-labels per class, this window
        self.reference: np.ndarray | None = None  # class shares of the first window
        self.last_shares = np.zeros(k)
        self.warned: set[int] = set()

    def count(self, labels: Tensor) -> None:
        """Add the pseudo-labels (IGNORE_INDEX left out) of a batch to the window."""
        k = len(self.class_names)
        counts = torch.bincount(labels[labels != IGNORE_INDEX].flatten().cpu(), minlength=k).double()[:k]
        reduce_sum(counts)  # under torchrun, in a step: the class shares of the global batch (`distributed`)
        self.window += counts

    def report(self, step: int, prototypes: PrototypeEstimator) -> None:
        """Log the window's class shares and the prototype norms; warn when a class is fading."""
        total = float(self.window.sum())
        if total <= 0:
            return
        shares = (self.window / total).numpy()
        self.window.zero_()
        self.last_shares = shares
        if self.reference is None:
            self.reference = shares.copy()
        norms = prototypes.norms().cpu().numpy()
        similarity = max_similarity(prototypes)
        for name, share, norm in zip(self.class_names, shares, norms, strict=True):
            self.progress.metric("pseudo_label_share", float(share), step, **{"class": name})
            self.progress.metric("prototype_norm", float(norm), step, **{"class": name})
        self.progress.metric("prototype_max_similarity", similarity, step)
        parts = ", ".join(f"{n} {s:.1%} |p| {v:.3f}" for n, s, v in zip(self.class_names, shares, norms, strict=True))
        self.progress.log(f"Step {step}: pseudo-labels {parts}; max prototype cosine {similarity:.3f}")
        for k, (now, first) in enumerate(zip(shares, self.reference, strict=True)):
            if k not in self.warned and first > 0.01 and now < COLLAPSE_RATIO * first:
                self.warned.add(k)
                self.progress.warn(
                    f"Pseudo-labels of {self.class_names[k]} fell from {first:.1%} to {now:.1%} of the pixels: the "
                    "teacher may be collapsing onto other classes; consider a lower LR, a higher EMA or fewer "
                    "ITERATIONS."
                )

    def state_info(self) -> dict[str, Any]:
        return {
            "reference_shares": None if self.reference is None else [float(v) for v in self.reference],
            "last_shares": [float(v) for v in self.last_shares],
            "warned": sorted(self.warned),
        }

    def load_state(self, window: Tensor, info: dict[str, Any]) -> None:
        self.window = window.double().clone()
        ref = info.get("reference_shares")
        self.reference = None if ref is None else np.asarray(ref, dtype=np.float64)
        self.last_shares = np.asarray(info.get("last_shares", self.last_shares), dtype=np.float64)
        self.warned = {int(k) for k in info.get("warned", [])}

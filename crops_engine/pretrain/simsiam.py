"""SimSiam (Chen & He 2021) on a segmentation model's encoder.

encoder (pooled deepest map) -> projection MLP -> z -> prediction MLP -> p, for two views of a block;
the loss is the symmetric negative cosine similarity D(p1, sg(z2)) / 2 + D(p2, sg(z1)) / 2 where sg is
the stop-gradient: the target branch z is a constant of the step, which is what keeps SimSiam from
collapsing to one output for every input (the paper's ablation; `stop_gradient=False` repeats it).

- projection MLP, 3 layers: Linear - BN - ReLU, Linear - BN - ReLU, Linear - BN; the linear layers
  without bias (a BatchNorm follows each) and the last BatchNorm without affine parameters;
- prediction MLP, a 2-layer bottleneck: Linear - BN - ReLU (to `prediction_dim`, 1/4 of `dim` as
  published), Linear (with bias) back to `dim`;
- collapse watch: the per-dimension standard deviation over the batch of the L2-normalised outputs,
  averaged over the dimensions; about 1/sqrt(dim) when the outputs spread over the unit sphere, 0 when
  every input gives the same output. It is taken of z (the paper's) and of p: in training mode the
  last BatchNorm of the projector holds every dimension of z at unit variance over the batch, so z's
  statistic cannot reach 0 (without the stop-gradient it falls to about a third of an even spread and
  z's effective rank to 1-2), while p, after a plain linear layer, collapses to a point (2-5 % of an
  even spread within a few hundred steps on the synthetic pair; 40-70 % with the stop-gradient).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from .view import EncoderView


def projection_mlp(in_dim: int, dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True),
        nn.Linear(dim, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True),
        nn.Linear(dim, dim, bias=False), nn.BatchNorm1d(dim, affine=False),
    )


def prediction_mlp(dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, dim),
    )


class SimSiam(nn.Module):
    """Encoder + projector + predictor; `forward(x1, x2) -> (p1, p2, z1, z2)` (z still attached: the loss
    applies the stop-gradient, in one place)."""

    def __init__(self, encoder: EncoderView, dim: int = 512, prediction_dim: int = 128) -> None:
        super().__init__()
        self.encoder = encoder
        self.dim = int(dim)
        self.projector = projection_mlp(encoder.out_channels, self.dim)
        self.predictor = prediction_mlp(self.dim, int(prediction_dim))

    def forward(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        z1 = self.projector(self.encoder.pooled(x1))  # one pass per view, as published: BatchNorm's
        z2 = self.projector(self.encoder.pooled(x2))  # statistics are those of one view's batch
        return self.predictor(z1), self.predictor(z2), z1, z2


def negative_cosine(p: Tensor, z: Tensor, stop_gradient: bool = True) -> Tensor:
    """D(p, z) = -cos(p, sg(z)), the mean over the batch; -1 when p points where z does."""
    if stop_gradient:
        z = z.detach()
    return -(F.normalize(p.float(), dim=1) * F.normalize(z.float(), dim=1)).sum(dim=1).mean()


def simsiam_loss(p1: Tensor, p2: Tensor, z1: Tensor, z2: Tensor, stop_gradient: bool = True) -> Tensor:
    """The symmetric loss D(p1, z2) / 2 + D(p2, z1) / 2 (in [-1, 1]; -1 at the optimum)."""
    return 0.5 * negative_cosine(p1, z2, stop_gradient) + 0.5 * negative_cosine(p2, z1, stop_gradient)


def output_std(z: Tensor) -> float:
    """The collapse statistic: mean over dimensions of the batch std of z / ||z|| (1/sqrt(d) spread, 0 collapsed)."""
    with torch.no_grad():
        return float(F.normalize(z.detach().float(), dim=1).std(dim=0).mean())


def healthy_std(dim: int) -> float:
    """The collapse statistic of outputs spread evenly over the unit sphere of `dim` dimensions."""
    return 1.0 / math.sqrt(dim)

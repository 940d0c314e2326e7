"""The encoder of a segmentation model on its own: its feature pyramid, pooled features, hypercolumns."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from ..models.heads import pad_to_multiple
from .encoder import ENCODER_MODULE, encoder_module


class EncoderView(nn.Module):
    """The encoder of `model`: `forward(x) -> [feature maps, shallow to deep]`.

    Holds the encoder submodule only (its state dict has the encoder's tensors, without the model's prefix
    `prefix`); the model itself is kept outside the module tree, for TransUNet's `encode`. U-Net: the timm
    encoder's pyramid (1/2 .. 1/32); TransUNet: the hybrid's skips (1/2, 1/4, 1/8) and the transformer's token
    map (1/16).
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.arch = model.arch
        self.prefix = ENCODER_MODULE[model.arch]
        self.body = encoder_module(model)
        self.__dict__["_model"] = model  # not a submodule: the decoder stays out of this module
        self.size_divisor = int(model.size_divisor)
        self.in_channels = int(model.in_channels)
        with torch.no_grad():
            was = self.body.training
            self.body.eval()
            probe = torch.zeros(1, self.in_channels, self.size_divisor, self.size_divisor)
            self.channels = [int(f.shape[1]) for f in self(probe)]
            self.body.train(was)

    @property
    def model(self) -> Any:
        return self._model

    @property
    def out_channels(self) -> int:
        """Channels of the deepest map: the width of the pooled feature SimSiam projects."""
        return self.channels[-1]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = pad_to_multiple(x, self.size_divisor)
        if self.arch == "unet":
            return list(self.body(x))
        tokens, skips = self._model.encode(x)  # TransUNet: skips deepest first, then the tokens' map
        return [*skips[::-1], tokens]

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """(N, out_channels): the global average of the deepest map."""
        return self(x)[-1].mean(dim=(2, 3))

    def hypercolumns(self, x: torch.Tensor) -> torch.Tensor:
        """(N, sum(channels), H, W): every level upsampled (bilinear) to the input size, concatenated."""
        height, width = x.shape[-2:]
        d = self.size_divisor
        padded = (-(-height // d) * d, -(-width // d) * d)  # the features cover the padded input: crop after
        return torch.cat([F.interpolate(f, size=padded, mode="bilinear", align_corners=False)[..., :height, :width]
                          for f in self(x)], dim=1)

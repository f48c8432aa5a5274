"""The learned detector's network: a compact U-Net with a lossless space-to-depth stem.

The input (two channels, :func:`castsight.detect.normalise.normalise`) is
folded ``stem x stem`` into ``stem**2`` times as many channels at reduced resolution
(pixel unshuffle: nothing is lost, every pixel still counts), a small U-Net
works from there down to 1/8 of that, and the last layer unfolds
``stem**2`` logits per reduced pixel back into one logit per image pixel.
The decoder adds (not concatenates) its skips and has one convolution per
level, so most of the cost is the first level; a 1536 x 1536 view takes a
fraction of a second on two CPU cores. The receptive field (over 100 px)
sees the structure around a candidate: walls, ribs and holes, the source
of false calls.

Height and width must be multiples of ``net.multiple`` (the inference code pads).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual name)

from castsight.detect.normalise import CHANNELS


def _conv(c_in: int, c_out: int, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class DefectNet(nn.Module):
    """Per-pixel defect logit from the normalised image."""

    def __init__(
        self, widths: Sequence[int] = (16, 32, 48, 64), stem: int = 4, channels: int = CHANNELS
    ) -> None:
        super().__init__()
        w = list(widths)
        if len(w) != 4 or stem not in (1, 2, 4):
            raise ValueError("DefectNet takes four widths and a stem of 1, 2 or 4")
        self.widths, self.stem_factor = tuple(w), stem
        self.multiple = stem * 8
        c0 = channels * stem * stem
        self.channels = channels
        self.stem = nn.PixelUnshuffle(stem)
        self.enc = nn.ModuleList(
            [
                nn.Sequential(_conv(c0, w[0]), _conv(w[0], w[0])),
                nn.Sequential(_conv(w[0], w[1]), _conv(w[1], w[1])),
                nn.Sequential(_conv(w[1], w[2]), _conv(w[2], w[2])),
            ]
        )
        self.bottom = nn.Sequential(_conv(w[2], w[3]), _conv(w[3], w[3]))
        self.lateral = nn.ModuleList(
            [_conv(w[3], w[2], 1), _conv(w[2], w[1], 1), _conv(w[1], w[0], 1)]
        )
        self.dec = nn.ModuleList([_conv(w[2], w[2]), _conv(w[1], w[1]), _conv(w[0], w[0])])
        self.head = nn.Conv2d(w[0], stem * stem, 1)
        self.unfold = nn.PixelShuffle(stem)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, C, H, W) normalised image -> (N, 1, H, W) logits."""
        h = self.stem(x)
        skips = []
        for enc in self.enc:
            h = enc(h)
            skips.append(h)
            h = F.max_pool2d(h, 2)
        h = self.bottom(h)
        for lat, dec, skip in zip(self.lateral, self.dec, reversed(skips), strict=True):
            h = F.interpolate(lat(h), scale_factor=2.0, mode="nearest")
            h = dec(h + skip)
        return self.unfold(self.head(h))  # type: ignore[no-any-return]

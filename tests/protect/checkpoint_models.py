"""Model classes that tests save whole, so that loading them needs a non-allowlisted global."""

from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """A two-layer network defined outside torch: its class is not on the allowlist."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)
        self.register_buffer("scale", torch.tensor([2.0]))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.encoder(x))) * self.scale

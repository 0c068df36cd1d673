"""Fixtures for the safe loader and the converter."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    """A file that a payload would create if it ever ran; tests assert it never exists."""
    path = tmp_path / "payload-ran"
    yield path
    assert not path.exists(), "a payload ran"


@pytest.fixture
def state_dict() -> OrderedDict[str, torch.Tensor]:
    """A state_dict with several dtypes, a parameter-like tensor and a view sharing storage."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(4, 3, generator=generator)
    return OrderedDict(
        [
            ("layer.weight", weight),
            ("layer.bias", torch.randn(4, generator=generator)),
            ("steps", torch.arange(7, dtype=torch.int64)),
            ("half", torch.randn(5, generator=generator).to(torch.float16)),
            ("brain", torch.randn(2, 2, generator=generator).to(torch.bfloat16)),
            ("mask", torch.tensor([True, False, True])),
            ("row", weight[1]),
            ("empty", torch.zeros(0)),
        ]
    )

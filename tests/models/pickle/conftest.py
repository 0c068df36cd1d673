"""Shared helpers for pickle scanner tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    """A path a payload would create if it ever ran; tests assert it never exists."""
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "a scanned payload was executed"

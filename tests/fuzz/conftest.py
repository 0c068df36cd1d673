"""Fuzz session guards: bounded memory, and proof that no seeded payload ever ran."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest
from fuzz_seeds import MARKER

#: Head-room over what the process already maps; a parser that trusts a forged length and
#: allocates it fails with MemoryError instead of exhausting a shared machine.
MEMORY_HEADROOM = 6 * 1024**3


def _mapped_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@pytest.fixture(scope="session", autouse=True)
def bounded_memory() -> Iterator[None]:
    """Cap the address space for the fuzz tests and restore the previous cap afterwards."""
    try:
        previous = resource.getrlimit(resource.RLIMIT_AS)
        cap = _mapped_bytes() + MEMORY_HEADROOM
        if previous[1] != resource.RLIM_INFINITY:
            cap = min(cap, previous[1])
        resource.setrlimit(resource.RLIMIT_AS, (cap, previous[1]))
    except (OSError, ValueError):  # not Linux, or not allowed: run without the cap
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, previous)


@pytest.fixture(scope="session", autouse=True)
def no_payload_ran() -> Iterator[None]:
    """Seeds carry payloads that would create MARKER if anything ever executed them."""
    yield
    assert not MARKER.exists(), f"{MARKER} exists: a scanned payload was executed"

"""The pickle machine's fast path agrees with its exact path on any input.

Common opcodes are decoded straight from the read buffer; every other opcode, and any damaged
or truncated one, goes through the exact decoder. Whatever the bytes, both must give the same
findings, the same imports and the same error.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import pytest
from fuzz_mutations import mutated_bytes, mutated_seed, pickle_programs
from fuzz_oracle import FUZZ, FUZZ_LIMITS
from fuzz_seeds import Seed, pickle_seeds, torch_legacy_checkpoint
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.engine import scan_bytes
from mlwarden.scanners.interface import FormatError, LimitExceeded
from mlwarden.scanners.models.pickle.formats import analyse_stream
from mlwarden.scanners.models.pickle.machine import PickleProgram
from mlwarden.scanners.models.pickle.stream import ByteSource
from mlwarden.scanners.models.pickle.values import Container, Obj, Persistent, Ref


def _shape(value: object, depth: int = 0) -> object:
    """A comparable rendering of a symbolic value."""
    if depth > 50:
        return "..."
    if isinstance(value, Container):
        return (value.kind, [_shape(i, depth + 1) for i in value.items], value.dropped)
    if isinstance(value, Ref):
        return ("ref", value.qualified)
    if isinstance(value, Obj):
        return ("obj", _shape(value.origin, depth + 1), _shape(value.args, depth + 1))
    if isinstance(value, Persistent):
        return ("persistent", _shape(value.pid, depth + 1))
    if isinstance(value, tuple):
        return tuple(_shape(i, depth + 1) for i in value)
    return value


def _analyse(data: bytes, fast: bool) -> dict[str, Any]:
    PickleProgram.fast = fast
    try:
        outcome = "ok"
        try:
            analysis = analyse_stream(ByteSource(io.BytesIO(data)), FUZZ_LIMITS, size=len(data))
        except (FormatError, LimitExceeded) as exc:
            analysis = exc.analysis  # type: ignore[attr-defined]
            outcome = f"{type(exc).__name__}: {exc}"
        program = analysis.program
        return {
            "outcome": outcome,
            "layout": analysis.layout,
            "pickles": analysis.pickles,
            "end": analysis.end,
            "trailing": analysis.trailing,
            "opcodes": program.opcodes,
            "protocols": program.protocols,
            "uses": [
                (u.qualified, u.offset, u.called, u.call_offset, u.via, u.opcode)
                for u in program.uses
            ],
            "unresolved": program.unresolved,
            "results": [_shape(r) for r in program.results],
        }
    finally:
        PickleProgram.fast = True


def _same_both_ways(data: bytes, name: str) -> None:
    assert _analyse(data, fast=True) == _analyse(data, fast=False)
    fast_findings = scan_bytes(data, name=name, limits=FUZZ_LIMITS)
    PickleProgram.fast = False
    try:
        exact_findings = scan_bytes(data, name=name, limits=FUZZ_LIMITS)
    finally:
        PickleProgram.fast = True
    assert [f.to_dict() for f in fast_findings] == [f.to_dict() for f in exact_findings]


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=300)
    | st.binary(max_size=300)
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=8)
        | st.tuples(inner, inner)
        | st.tuples(inner)
        | st.tuples(inner, inner, inner)
        | st.dictionaries(st.text(max_size=10) | st.integers(), inner, max_size=8)
        | st.frozensets(st.integers(), max_size=5)
        | st.sets(st.text(max_size=5), max_size=5)
    ),
    max_leaves=60,
)


@FUZZ
@given(value=_VALUES, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_python_values_agree(value: object, protocol: int) -> None:
    data = pickle.dumps(value, protocol=protocol)
    _same_both_ways(data, "value.pkl")
    # And every prefix of it, so truncation near the end is met on both paths.
    for cut in (len(data) - 1, len(data) // 2, 3):
        _same_both_ways(data[:cut], "cut.pkl")


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(pickle_seeds())))
def test_damaged_real_pickles_agree(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    _same_both_ways(data, seed.name)


@FUZZ
@given(program=pickle_programs())
def test_generated_programs_agree(program: bytes) -> None:
    _same_both_ways(program, "program.pkl")


@FUZZ
@given(data=st.deferred(lambda: mutated_bytes(torch_legacy_checkpoint())))
def test_damaged_legacy_torch_agrees(data: bytes) -> None:
    _same_both_ways(data, "legacy.pt")


def test_real_seeds_agree_and_the_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlwarden.scanners.models.pickle import machine

    exact_calls = 0

    def counting_read_op(source: ByteSource) -> object:
        nonlocal exact_calls
        exact_calls += 1
        return machine_read_op(source)

    machine_read_op = machine.read_op
    monkeypatch.setattr(machine, "read_op", counting_read_op)
    for seed in pickle_seeds():
        exact_calls = 0
        fast = _analyse(seed.data, fast=True)
        taken_exactly, exact_calls = exact_calls, 0
        assert fast == _analyse(seed.data, fast=False), seed.name
        assert exact_calls == fast["opcodes"]  # with the fast path off, every opcode
        if fast["opcodes"] > 100:
            assert taken_exactly < fast["opcodes"] / 2, (seed.name, taken_exactly)

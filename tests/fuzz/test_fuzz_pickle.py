"""Fuzz the pickle scanner: damaged real pickles, generated opcode programs, legacy torch."""

from __future__ import annotations

from fuzz_mutations import mutated_bytes, mutated_seed, pickle_programs
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, pickle_length_fields, pickle_seeds, torch_legacy_checkpoint
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.findings import Severity


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(pickle_seeds())))
def test_damaged_pickles_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(program=pickle_programs())
def test_generated_pickle_programs_scan_soundly(program: bytes) -> None:
    scan_soundly(program, "program.pkl")


@FUZZ
@given(
    data=st.deferred(
        lambda: mutated_bytes(
            torch_legacy_checkpoint(), pickle_length_fields(torch_legacy_checkpoint())
        )
    )
)
def test_damaged_legacy_torch_checkpoints_scan_soundly(data: bytes) -> None:
    scan_soundly(data, "legacy.pt")


@FUZZ
@given(copies=st.integers(2, 200), program=pickle_programs())
def test_many_concatenated_pickles_scan_soundly(copies: int, program: bytes) -> None:
    # Files that hold pickle after pickle (legacy torch, joblib) must stop at the per-file bound.
    scan_soundly(pickle_seeds()[2].data * copies + program, "stacked.pkl")


@settings(FUZZ, max_examples=40)
@given(depth=st.integers(1, 200_000), shape=st.sampled_from(["list", "tuple", "dict"]))
def test_deeply_nested_pickles_still_report_a_dangerous_call(depth: int, shape: str) -> None:
    # A payload under many levels of containers: never a crash, and never passed as clean.
    payload = b"cposix\nsystem\n(S'true'\ntR"
    opener, closer = {
        "list": (b"]", b"a"),
        "tuple": (b"(", b"t"),
        "dict": (b"}K\x01", b"s"),
    }[shape]
    body = opener * depth + payload + closer * depth
    findings = scan_soundly(b"\x80\x02" + body + b".", "nested.pkl")
    assert any(f.severity >= Severity.HIGH for f in findings), findings

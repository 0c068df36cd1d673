"""The same bytes give the same findings whether scanned in memory or from a file on disk,
and on every run: readers that seek in a real file and readers of a buffer must agree."""

from __future__ import annotations

from fuzz_mutations import mutated_bytes
from fuzz_oracle import FUZZ, scan_file_soundly, scan_soundly
from fuzz_seeds import (
    Seed,
    archive_seeds,
    gguf_seed,
    huggingface_seeds,
    npz_seeds,
    numpy_seeds,
    onnx_seeds,
    pickle_seeds,
    safetensors_seed,
)
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.findings import Finding


def _every_seed() -> tuple[Seed, ...]:
    return (
        *pickle_seeds(),
        *numpy_seeds(),
        *npz_seeds(),
        *archive_seeds(),
        *onnx_seeds(),
        gguf_seed(),
        safetensors_seed(),
        *huggingface_seeds(),
    )


def _outcome(findings: list[Finding]) -> set[tuple[str, str, str | None, str]]:
    # Time-limit findings depend on the machine's load, not on the bytes.
    return {
        (f.rule, f.severity.value, f.location.member, f.key)
        for f in findings
        if f.evidence.get("limit") != "seconds_per_file"
    }


@FUZZ
@given(
    case=st.deferred(
        lambda: st.sampled_from(_every_seed()).flatmap(
            lambda seed: st.tuples(
                st.just(seed),
                st.one_of(st.just(seed.data), mutated_bytes(seed.data, seed.fields)),
            )
        )
    )
)
def test_memory_and_disk_scans_agree(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    in_memory = _outcome(scan_soundly(data, seed.name))
    assert _outcome(scan_soundly(data, seed.name)) == in_memory  # deterministic
    assert _outcome(scan_file_soundly(data, seed.name)) == in_memory

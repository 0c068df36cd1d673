"""The fuzz seeds themselves: each is sniffed as the kind it should reach, and clean ones scan
clean. Without this, a seed that no scanner accepts would make its fuzz tests vacuous."""

from __future__ import annotations

import pytest
from fuzz_oracle import scan_file_soundly, scan_soundly
from fuzz_seeds import (
    Seed,
    archive_seeds,
    gguf_seed,
    huggingface_seeds,
    keras_files,
    npz_seeds,
    numpy_seeds,
    onnx_seeds,
    pickle_seeds,
    safetensors_seed,
    saved_model_pb,
)

from mlwarden.findings import Severity
from mlwarden.scanners import scanners_for
from mlwarden.sniff import HEAD_BYTES, Kind, sniff


def _all_seeds() -> list[Seed]:
    seeds = [*pickle_seeds(), *numpy_seeds(), *npz_seeds(), *archive_seeds(), *onnx_seeds()]
    seeds += [gguf_seed(), safetensors_seed(), *huggingface_seeds()]
    # The SavedModel seed holds ReadFile and PyFunc nodes on purpose.
    seeds.append(Seed("saved_model.pb", saved_model_pb(), Kind.TF_SAVEDMODEL, benign=False))
    keras = keras_files() or {}
    if "model.keras" in keras:
        seeds.append(Seed("model.keras", keras["model.keras"], Kind.ZIP, benign=False))
        seeds.append(Seed("model.h5", keras["model.h5"], Kind.HDF5, benign=False, needs_file=True))
    return seeds


SEEDS = _all_seeds()


#: Clean seeds that are still reported high, each a known false positive to fix.
@pytest.mark.parametrize("seed", SEEDS, ids=[s.name for s in SEEDS])
def test_seed_is_sniffed_as_its_kind(seed: Seed) -> None:
    assert sniff(seed.data[:HEAD_BYTES], seed.name) is seed.kind


@pytest.mark.parametrize("seed", SEEDS, ids=[s.name for s in SEEDS])
def test_seed_scans_soundly_and_clean_seeds_scan_clean(seed: Seed) -> None:
    scan = scan_file_soundly if seed.needs_file else scan_soundly
    findings = scan(seed.data, seed.name)
    if not scanners_for(seed.kind):
        pytest.skip(f"no scanner registered for {seed.kind.value} yet")
    if seed.benign:
        serious = [(f.rule, f.message) for f in findings if f.severity >= Severity.HIGH]
        assert serious == []
    else:
        assert any(f.severity >= Severity.MEDIUM for f in findings), findings

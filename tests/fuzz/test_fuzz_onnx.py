"""Fuzz the ONNX scanner: damaged models made with onnx.helper."""

from __future__ import annotations

from fuzz_mutations import mutated_seed
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, onnx_seeds
from hypothesis import given
from hypothesis import strategies as st


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(onnx_seeds())))
def test_damaged_onnx_models_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(location=st.text(max_size=80), offset=st.text(max_size=24), length=st.text(max_size=24))
def test_arbitrary_external_data_entries_scan_soundly(
    location: str, offset: str, length: str
) -> None:
    import onnx

    model = onnx.ModelProto()
    model.ParseFromString(onnx_seeds()[1].data)
    entries = model.graph.initializer[0].external_data
    for entry, value in zip(entries, (location, offset, length), strict=True):
        entry.value = value
    scan_soundly(model.SerializeToString(), "external.onnx")

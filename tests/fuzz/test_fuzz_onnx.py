"""Fuzz the ONNX scanner: damaged models made with onnx.helper."""

from __future__ import annotations

from fuzz_mutations import mutated_seed
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, onnx_seeds
from hypothesis import given, settings
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


@settings(FUZZ, max_examples=30)
@given(depth=st.integers(1, 3000))
def test_deeply_nested_subgraphs_scan_soundly(depth: int) -> None:
    # An If node whose branch holds an If node ... : subgraph recursion must be bounded.
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "leaf",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    raw = graph.SerializeToString()
    for level in range(depth):
        node = helper.make_node("If", ["c"], ["y"], name=f"if{level}")
        attribute = node.attribute.add()
        attribute.name, attribute.type = "then_branch", 5  # AttributeProto.GRAPH
        node_bytes = node.SerializeToString()
        # Field 6 (g) of AttributeProto holds the branch; appended as raw bytes so that
        # building the nesting stays linear.
        branch = b"\x32" + _varint(len(raw)) + raw
        attr_bytes = attribute.SerializeToString() + branch
        node_bytes = node_bytes.replace(
            b"\x2a" + _varint(len(attribute.SerializeToString())) + attribute.SerializeToString(),
            b"\x2a" + _varint(len(attr_bytes)) + attr_bytes,
        )
        raw = b"\x0a" + _varint(len(node_bytes)) + node_bytes + b"\x12\x04nest"
    model = b"\x08\x08\x12\x04fuzz\x3a" + _varint(len(raw)) + raw + b"\x42\x02\x10\x11"
    scan_soundly(model, "nested.onnx")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)

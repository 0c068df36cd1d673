"""ONNX: external data that leaves the model directory, custom operator domains."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.models.onnx import location_escape


def _model(domain: str = "", op: str = "Add", big: bool = False) -> onnx.ModelProto:
    weight = np.arange(64 * 64 if big else 4, dtype=np.float32)
    init = numpy_helper.from_array(weight.reshape(-1), name="w")
    node = helper.make_node(op, ["x", "w"], ["y"], domain=domain, name="n0")
    inner = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["z"])],
        "then",
        [],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
    )
    cond = helper.make_node("If", ["c"], ["o"], then_branch=inner, else_branch=inner)
    graph = helper.make_graph(
        [node, cond],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [weight.size]),
            helper.make_tensor_value_info("c", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [weight.size])],
        [init],
    )
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets, producer_name="tests")


def _rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def _scan(path: Path) -> list[Finding]:
    return scan_file(str(path), path).findings


def test_benign_model_has_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_model(), path)
    assert _scan(path) == []


def test_benign_external_data_has_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(
        _model(big=True), path, save_as_external_data=True, location="w.bin", size_threshold=16
    )
    assert (tmp_path / "w.bin").exists()
    assert _scan(path) == []


def test_protobuf_without_onnx_name_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    onnx.save(_model(), path)
    assert _scan(path) == []
    assert scan_bytes(path.read_bytes(), "blob") == []


def _with_location(location: str) -> onnx.ModelProto:
    model = _model(big=True)
    onnx.external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="weights.bin", size_threshold=16
    )
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    return model


@pytest.mark.parametrize(
    ("location", "severity"),
    [
        ("../../etc/passwd", Severity.CRITICAL),
        ("/etc/shadow", Severity.CRITICAL),
        ("../secrets.bin", Severity.HIGH),
        ("C:\\weights.bin", Severity.HIGH),
        ("\\\\server\\share\\w.bin", Severity.HIGH),
        ("https://example.com/w.bin", Severity.HIGH),
        ("/tmp/w.bin", Severity.HIGH),
    ],
)
def test_external_data_path_traversal(tmp_path: Path, location: str, severity: Severity) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(_with_location(location).SerializeToString())
    findings = _scan(path)
    assert _rules(findings) == ["MW140"]
    (finding,) = findings
    assert finding.severity is severity
    assert finding.evidence["location"] == location
    assert finding.evidence["tensor"] == "w"
    assert finding.evidence["format"] == "onnx"
    assert finding.location.path == str(path)


def test_external_data_through_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(b"x" * 16384)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(outside, model_dir / "data")
    path = model_dir / "model.onnx"
    path.write_bytes(_with_location("data/secret.bin").SerializeToString())
    findings = _scan(path)
    assert _rules(findings) == ["MW140"]
    assert "symbolic link" in findings[0].message


def test_plain_relative_locations_are_fine() -> None:
    assert location_escape("weights.bin") is None
    assert location_escape("sub/dir/weights.bin") is None
    assert location_escape("a..b.bin") is None


def test_custom_domain_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_model(domain="evil.ops", op="RunShell"), path)
    findings = _scan(path)
    assert _rules(findings) == ["MW141"]
    assert findings[0].evidence["domain"] == "evil.ops"
    assert findings[0].evidence["operators"] == ["RunShell"]
    assert findings[0].severity is Severity.MEDIUM


def test_contrib_domain_is_standard(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(_model(domain="com.microsoft", op="FusedMatMul"), path)
    assert _scan(path) == []


def test_local_function_is_not_a_custom_op(tmp_path: Path) -> None:
    model = _model(domain="local.fns", op="MyAdd")
    fn = helper.make_function(
        "local.fns",
        "MyAdd",
        ["a", "b"],
        ["c"],
        [helper.make_node("Add", ["a", "b"], ["c"])],
        [helper.make_opsetid("", 17)],
    )
    model.functions.append(fn)
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    assert _scan(path) == []


def test_custom_op_in_nested_graph(tmp_path: Path) -> None:
    model = _model()
    branch = model.graph.node[1].attribute[0].g
    branch.node[0].domain = "vendor.x"
    branch.node[0].op_type = "Backdoor"
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    findings = _scan(path)
    assert _rules(findings) == ["MW141"]
    assert findings[0].evidence["operators"] == ["Backdoor"]


@pytest.mark.parametrize("cut", [10, 40, -3])
def test_truncated_model_fails_closed(tmp_path: Path, cut: int) -> None:
    data = _model(big=True).SerializeToString()
    path = tmp_path / "model.onnx"
    path.write_bytes(data[:cut])
    findings = _scan(path)
    assert _rules(findings) == ["MW002"]
    assert findings[0].severity is Severity.HIGH


def test_not_protobuf_named_onnx_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")
    assert _rules(_scan(path)) == ["MW002"]


def test_sniffed_without_producer_name(tmp_path: Path) -> None:
    # An exporter that sets no producer writes the graph (or opsets, or a doc string) second.
    model = _model()
    model.producer_name = ""
    model.doc_string = "exported"
    model.graph.node[0].domain = "custom.ops"
    path = tmp_path / "exported.bin"
    path.write_bytes(model.SerializeToString())
    assert _rules(_scan(path)) == ["MW141"]


def test_large_model_is_streamed(tmp_path: Path) -> None:
    # Over the in-memory threshold, so the graph is walked from the file, tensor bytes skipped.
    model = _model(domain="big.ops", op="Huge")
    model.graph.initializer.append(
        numpy_helper.from_array(np.zeros(700_000, dtype=np.float32), name="big")
    )
    path = tmp_path / "large.onnx"
    onnx.save(model, path)
    assert path.stat().st_size > 2_000_000
    findings = _scan(path)
    assert _rules(findings) == ["MW141"]

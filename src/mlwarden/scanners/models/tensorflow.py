"""TensorFlow SavedModels: operations that run Python, touch files or send data out.

``saved_model.pb`` is walked with the wire-format reader of :mod:`.protobuf`: SavedModel ->
MetaGraphDef -> GraphDef nodes and the FunctionDefLibrary's function bodies (field numbers from
``saved_model.proto``, ``meta_graph.proto``, ``graph.proto``, ``node_def.proto``,
``function.proto`` and ``attr_value.proto``). TensorFlow is not needed and nothing is run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.scanners.models.onnx import location_escape
from mlwarden.scanners.models.protobuf import ProtoField, ProtoMessage, ProtoReader, WireType
from mlwarden.sniff import Kind

#: Operations that call a Python function while the graph runs.
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

#: File-system operations and how bad each is outside a data pipeline.
FILE_OPS: dict[str, Severity] = {
    "ReadFile": Severity.HIGH,
    "WriteFile": Severity.HIGH,
    "ImmutableConst": Severity.HIGH,  # memory-maps a file named in an attribute
    "DatasetToTFRecord": Severity.HIGH,
    "SaveDataset": Severity.HIGH,
    "SaveDatasetV2": Severity.HIGH,
    "CreateSummaryFileWriter": Severity.HIGH,
    "MatchingFiles": Severity.MEDIUM,
    "MatchingFilesDataset": Severity.MEDIUM,
    "WholeFileReader": Severity.MEDIUM,
    "WholeFileReaderV2": Severity.MEDIUM,
    "TextLineReader": Severity.MEDIUM,
    "TextLineReaderV2": Severity.MEDIUM,
    "FixedLengthRecordReader": Severity.MEDIUM,
    "FixedLengthRecordReaderV2": Severity.MEDIUM,
    "TFRecordReader": Severity.MEDIUM,
    "TFRecordReaderV2": Severity.MEDIUM,
    "TextLineDataset": Severity.MEDIUM,
    "TFRecordDataset": Severity.MEDIUM,
    "TFRecordDatasetV2": Severity.MEDIUM,
    "FixedLengthRecordDataset": Severity.MEDIUM,
    "FixedLengthRecordDatasetV2": Severity.MEDIUM,
    "CSVDataset": Severity.MEDIUM,
    "CSVDatasetV2": Severity.MEDIUM,
    "ExperimentalCSVDataset": Severity.MEDIUM,
    "SqlDataset": Severity.MEDIUM,
    "ExperimentalSqlDataset": Severity.MEDIUM,
    "LoadDataset": Severity.MEDIUM,
    "SnapshotDataset": Severity.MEDIUM,
    "SnapshotDatasetV2": Severity.MEDIUM,
    "LoadAndRemapMatrix": Severity.MEDIUM,
}

#: Checkpoint I/O: normal inside the saver subgraph, suspicious anywhere else.
CHECKPOINT_OPS = frozenset(
    {"SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore", "RestoreSlice"}
)

DEBUG_OPS = frozenset(
    {
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        "DebugNumericSummaryV2",
        "Copy",
        "CopyHost",
    }
)
RPC_OPS = frozenset({"Rpc", "TryRpc", "RpcCall", "RpcClient", "RpcServer", "RpcServerStart"})

# The TF1 saver lives in the "save" name scope; TF2 writes save/restore as traced functions.
_SAVER_NODE = re.compile(r"^save(_\d+)?/")
_SAVER_FUNCTION = re.compile(r"^__inference__traced_(save|restore)_\d+$")
_EXFIL_URL = re.compile(r"^(file|grpc)://", re.IGNORECASE)

# Field numbers.
_SM_META_GRAPHS = 2
_MG_GRAPH_DEF, _MG_ASSET_FILE_DEF = 2, 6
_ASSET_FILENAME = 2
_GD_NODE, _GD_LIBRARY = 1, 2
_LIB_FUNCTION = 1
_FD_SIGNATURE, _FD_NODE_DEF = 1, 3
_OPDEF_NAME = 1
_ND_NAME, _ND_OP, _ND_INPUT, _ND_ATTR = 1, 2, 3, 5
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_AV_LIST, _AV_S, _AV_TENSOR = 1, 2, 8
_LIST_S = 2
_TENSOR_STRING_VAL = 8

#: Longest string attribute or constant kept for evidence.
_EVIDENCE_CHARS = 512


@dataclass(slots=True)
class TfNode:
    """The parts of a NodeDef that matter here."""

    name: str = ""
    op: str = ""
    inputs: list[str] = field(default_factory=list)
    strings: dict[str, list[str]] = field(default_factory=dict)  # string attributes
    constant: str | None = None  # the first string of a Const node


@dataclass(slots=True)
class TfScope:
    """The main graph of a meta graph, or one library function."""

    name: str
    nodes: list[TfNode] = field(default_factory=list)

    @property
    def is_saver(self) -> bool:
        return bool(_SAVER_FUNCTION.match(self.name))


@register
class SavedModelScanner(Scanner):
    """Flags dangerous operations in TensorFlow SavedModel graphs and functions."""

    name = "tensorflow"
    kinds = frozenset({Kind.TF_SAVEDMODEL})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            reader = ProtoReader.from_stream(
                stream,
                artifact.size,
                max_bytes=context.limits.max_metadata_bytes,
                tick=context.check_time,
            )
            contents = read_saved_model(reader.root())
        # A .pb that is some other message (fingerprint.pb, a GraphDef) reads as no meta graph.
        for asset in contents.assets:
            why = location_escape(asset)
            if why is not None:
                yield self.finding(
                    artifact,
                    "MW154",
                    f"asset file {asset!r} {why}",
                    evidence={"format": "tf-savedmodel", "asset": asset, "reason": why},
                    key=asset,
                )
        for scope in contents.scopes:
            constants = {n.name: n.constant for n in scope.nodes if n.constant is not None}
            for node in scope.nodes:
                yield from self._node_findings(artifact, scope, node, constants)

    def _node_findings(
        self, artifact: Artifact, scope: TfScope, node: TfNode, constants: dict[str, str]
    ) -> Iterator[Finding]:
        op = node.op
        where = f"{scope.name}/{node.name}"
        args = [c for c in (constants.get(_input_node(i)) for i in node.inputs) if c]
        evidence: dict[str, object] = {
            "format": "tf-savedmodel",
            "op": op,
            "node": node.name,
            "scope": scope.name,
        }
        if args:
            evidence["arguments"] = args
        if op in PYTHON_OPS:
            yield self.finding(
                artifact,
                "MW150",
                f"{op} node {node.name!r} in {scope.name} runs Python code when the graph runs",
                evidence=evidence,
                key=where,
            )
        elif op in FILE_OPS:
            detail = f" on {', '.join(map(repr, args))}" if args else ""
            if op == "ImmutableConst":
                evidence["attributes"] = node.strings
                detail = f" on {node.strings.get('memory_region_name', ['?'])[0]!r}"
            yield self.finding(
                artifact,
                "MW151",
                f"{op} node {node.name!r} in {scope.name} accesses the file system{detail}",
                severity=FILE_OPS[op],
                evidence=evidence,
                key=where,
            )
        elif op in CHECKPOINT_OPS:
            in_saver = scope.is_saver or (scope.name == "graph" and _SAVER_NODE.match(node.name))
            if not in_saver:
                yield self.finding(
                    artifact,
                    "MW152",
                    f"{op} node {node.name!r} in {scope.name} reads or writes checkpoint files "
                    "outside the standard saver",
                    evidence=evidence,
                    key=where,
                )
        else:
            why = _exfiltration(node)
            if why is not None:
                evidence["attributes"] = node.strings
                yield self.finding(
                    artifact,
                    "MW153",
                    f"{op} node {node.name!r} in {scope.name} {why}",
                    evidence=evidence,
                    key=where,
                )


def _exfiltration(node: TfNode) -> str | None:
    if node.op in RPC_OPS:
        return "makes remote procedure calls"
    if node.op in DEBUG_OPS:
        urls = [u for u in node.strings.get("debug_urls", []) if _EXFIL_URL.match(u)]
        if urls:
            return f"sends tensors to {', '.join(urls)}"
        if any(node.strings.get("dump_root", [])):
            return f"dumps tensors under {node.strings['dump_root'][0]!r}"
    if node.op == "PrintV2":
        stream = (node.strings.get("output_stream") or [""])[0]
        if stream.lower().startswith("file://"):
            return f"writes tensors to {stream}"
    return None


def _input_node(name: str) -> str:
    return name.lstrip("^").split(":", 1)[0]


@dataclass(slots=True)
class SavedModelContents:
    """Every graph and function of every meta graph, and the asset file names."""

    scopes: list[TfScope] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)


def read_saved_model(saved_model: ProtoMessage) -> SavedModelContents:
    """Walk a ``SavedModel`` message: graphs, library functions, asset file names."""
    contents = SavedModelContents()
    for f in saved_model.fields():
        if f.number != _SM_META_GRAPHS or f.wire_type is not WireType.LEN:
            continue
        for mg in f.message().fields():
            if mg.wire_type is not WireType.LEN:
                continue
            if mg.number == _MG_GRAPH_DEF:
                contents.scopes.extend(_read_graph(mg.message()))
            elif mg.number == _MG_ASSET_FILE_DEF:
                contents.assets.extend(
                    a.text()
                    for a in mg.message().fields()
                    if a.number == _ASSET_FILENAME and a.wire_type is WireType.LEN
                )
    return contents


def _read_graph(graph: ProtoMessage) -> list[TfScope]:
    main = TfScope("graph")
    scopes = [main]
    for f in graph.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number == _GD_NODE:
            main.nodes.append(_read_node(f.message()))
        elif f.number == _GD_LIBRARY:
            scopes.extend(
                _read_function(lib.message())
                for lib in f.message().fields()
                if lib.number == _LIB_FUNCTION and lib.wire_type is WireType.LEN
            )
    return scopes


def _read_function(function: ProtoMessage) -> TfScope:
    scope = TfScope("<unnamed function>")
    for f in function.fields():
        if f.number == _FD_SIGNATURE and f.wire_type is WireType.LEN:
            for sig in f.message().fields():
                if sig.number == _OPDEF_NAME and sig.wire_type is WireType.LEN:
                    scope.name = sig.text()
        elif f.number == _FD_NODE_DEF and f.wire_type is WireType.LEN:
            scope.nodes.append(_read_node(f.message()))
    return scope


def _read_node(message: ProtoMessage) -> TfNode:
    node = TfNode()
    attrs: list[ProtoField] = []
    for f in message.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number == _ND_NAME:
            node.name = f.text()
        elif f.number == _ND_OP:
            node.op = f.text()
        elif f.number == _ND_INPUT:
            node.inputs.append(f.text())
        elif f.number == _ND_ATTR:
            attrs.append(f)
    wanted = node.op == "Const" or node.op in DEBUG_OPS or node.op in ("PrintV2", "ImmutableConst")
    if wanted:
        for attr in attrs:
            _read_attr(attr.message(), node)
    return node


def _read_attr(entry: ProtoMessage, node: TfNode) -> None:
    key = ""
    value: ProtoMessage | None = None
    for f in entry.fields():
        if f.number == _ENTRY_KEY and f.wire_type is WireType.LEN:
            key = f.text()
        elif f.number == _ENTRY_VALUE and f.wire_type is WireType.LEN:
            value = f.message()
    if value is None:
        return
    for f in value.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number == _AV_S:
            node.strings.setdefault(key, []).append(_short(f))
        elif f.number == _AV_LIST:
            for item in f.message().fields():
                if item.number == _LIST_S and item.wire_type is WireType.LEN:
                    node.strings.setdefault(key, []).append(_short(item))
        elif f.number == _AV_TENSOR and node.op == "Const" and key == "value":
            for t in f.message().fields():
                if t.number == _TENSOR_STRING_VAL and t.wire_type is WireType.LEN:
                    node.constant = _short(t)
                    break


def _short(f: ProtoField) -> str:
    return f.head(_EVIDENCE_CHARS).decode("utf-8", "replace")


__all__ = [
    "CHECKPOINT_OPS",
    "FILE_OPS",
    "PYTHON_OPS",
    "SavedModelContents",
    "SavedModelScanner",
    "read_saved_model",
]

"""ONNX models: external-data paths that leave the model directory, custom operator domains.

The ``ModelProto`` is walked with the wire-format reader of :mod:`.protobuf` (field numbers
from ``onnx.proto``); tensor bytes are skipped, nothing is loaded or run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, ScanContext, Scanner
from mlwarden.scanners.models.protobuf import ProtoMessage, ProtoReader, WireType
from mlwarden.sniff import Kind

#: Operator domains every ONNX runtime implements (ONNX Runtime's contrib ops included).
STANDARD_DOMAINS = frozenset(
    {
        "",
        "ai.onnx",
        "ai.onnx.ml",
        "ai.onnx.training",
        "ai.onnx.preview.training",
        "com.microsoft",
        "com.microsoft.nchwc",
        "com.microsoft.experimental",
    }
)

# onnx.proto field numbers.
_MODEL_GRAPH, _MODEL_TRAINING_INFO, _MODEL_FUNCTIONS = 7, 20, 25
_GRAPH_NODE, _GRAPH_INITIALIZER, _GRAPH_SPARSE_INITIALIZER = 1, 5, 15
_NODE_OP_TYPE, _NODE_ATTRIBUTE, _NODE_DOMAIN, _NODE_NAME = 4, 5, 7, 3
_ATTR_T, _ATTR_G, _ATTR_TENSORS, _ATTR_GRAPHS = 5, 6, 10, 11
_ATTR_SPARSE_TENSOR, _ATTR_SPARSE_TENSORS = 22, 23
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA = 8, 13
_SPARSE_VALUES, _SPARSE_INDICES = 1, 2
_TRAINING_INITIALIZATION, _TRAINING_ALGORITHM = 1, 2
_FUNCTION_NAME, _FUNCTION_NODE, _FUNCTION_DOMAIN = 1, 7, 10
_ENTRY_KEY, _ENTRY_VALUE = 1, 2

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE = re.compile(r"^[A-Za-z]:")
_SENSITIVE = re.compile(
    r"(^|/)(etc/(passwd|shadow|sudoers|hosts)|proc/|sys/|dev/|root/|\.ssh/|\.aws/|\.kube/"
    r"|\.docker/|\.netrc|\.git-credentials|\.bash_history|id_rsa|id_ed25519|windows/system32)",
    re.IGNORECASE,
)


@dataclass(slots=True)
class OnnxInventory:
    """What the walk of one model collected."""

    external: list[tuple[str, str]] = field(default_factory=list)  # (tensor, location)
    custom_ops: dict[str, set[str]] = field(default_factory=dict)  # domain -> op types
    local_functions: set[tuple[str, str]] = field(default_factory=set)  # (domain, name)


def location_escape(location: str) -> str | None:
    """Why an external-data location leaves the model directory, or ``None`` if it does not."""
    if "\x00" in location:
        return "contains a NUL byte"
    norm = location.replace("\\", "/")
    if norm.startswith("//"):
        return "is a network share path"
    if _DRIVE.match(location):
        return "names a drive"
    if _URL.match(location):
        return "is a URL"
    if norm.startswith("/"):
        return "is an absolute path"
    if norm.startswith("~"):
        return "refers to a home directory"
    if ".." in norm.split("/"):
        return "climbs out with '..'"
    return None


def _symlink_escape(model_path: str, location: str) -> str | None:
    # Only stat the names (never open them): a link anywhere on the way that resolves outside
    # the model directory is the CVE-2024-27318 bypass.
    base = Path(model_path).parent
    root = base.resolve()
    current = base
    for part in location.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if not target.is_relative_to(root):
                return f"goes through a symbolic link to {target}"
    return None


@register
class OnnxScanner(Scanner):
    """Walks ONNX models for external-data path traversal and custom operator domains."""

    name = "onnx"
    kinds = frozenset({Kind.ONNX})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            reader = ProtoReader.from_stream(
                stream,
                artifact.size,
                max_bytes=context.limits.max_metadata_bytes,
                tick=context.check_time,
            )
            inventory = OnnxInventory()
            _walk_model(reader.root(), inventory)
        yield from self._external_findings(artifact, inventory)
        yield from self._custom_op_findings(artifact, inventory)

    def _external_findings(self, artifact: Artifact, inv: OnnxInventory) -> Iterator[Finding]:
        for tensor, location in inv.external:
            why = location_escape(location)
            if why is None and artifact.fs_path is not None:
                why = _symlink_escape(artifact.fs_path, location)
            if why is None:
                continue
            sensitive = bool(_SENSITIVE.search(location.replace("\\", "/")))
            yield self.finding(
                artifact,
                "MW140",
                f"tensor {tensor!r} reads its data from {location!r}, which {why}",
                severity=Severity.CRITICAL if sensitive else Severity.HIGH,
                evidence={"format": "onnx", "tensor": tensor, "location": location, "reason": why},
                key=f"{tensor}\x1f{location}",
            )

    def _custom_op_findings(self, artifact: Artifact, inv: OnnxInventory) -> Iterator[Finding]:
        for domain in sorted(inv.custom_ops):
            ops = sorted(inv.custom_ops[domain])
            yield self.finding(
                artifact,
                "MW141",
                f"operators {', '.join(ops)} come from custom domain {domain!r}, which needs a "
                "custom operator library",
                evidence={"format": "onnx", "domain": domain, "operators": ops},
                key=domain,
            )


def _walk_model(model: ProtoMessage, inv: OnnxInventory) -> None:
    seen_graph = False
    functions: list[ProtoMessage] = []
    for f in model.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number == _MODEL_GRAPH:
            seen_graph = True
            _walk_graph(f.message(), inv)
        elif f.number == _MODEL_TRAINING_INFO:
            for t in f.message().fields():
                if t.number in (_TRAINING_INITIALIZATION, _TRAINING_ALGORITHM):
                    _walk_graph(t.message(), inv)
        elif f.number == _MODEL_FUNCTIONS:
            functions.append(f.message())
    if not seen_graph:
        raise FormatError("ONNX model has no graph")
    for function in functions:
        _walk_function(function, inv)
    # Nodes that call a function defined in the model run that function's body (walked above),
    # not a native operator.
    for domain, name in inv.local_functions:
        ops = inv.custom_ops.get(domain)
        if ops is not None:
            ops.discard(name)
            if not ops:
                del inv.custom_ops[domain]


def _walk_function(function: ProtoMessage, inv: OnnxInventory) -> None:
    name = domain = ""
    for f in function.fields():
        if f.number == _FUNCTION_NAME:
            name = f.text()
        elif f.number == _FUNCTION_DOMAIN:
            domain = f.text()
        elif f.number == _FUNCTION_NODE:
            _walk_node(f.message(), inv)
    inv.local_functions.add((domain, name))


def _walk_graph(graph: ProtoMessage, inv: OnnxInventory) -> None:
    for f in graph.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number == _GRAPH_NODE:
            _walk_node(f.message(), inv)
        elif f.number == _GRAPH_INITIALIZER:
            _walk_tensor(f.message(), inv)
        elif f.number == _GRAPH_SPARSE_INITIALIZER:
            _walk_sparse(f.message(), inv)


def _walk_node(node: ProtoMessage, inv: OnnxInventory) -> None:
    op_type = domain = ""
    for f in node.fields():
        if f.number == _NODE_OP_TYPE:
            op_type = f.text()
        elif f.number == _NODE_DOMAIN:
            domain = f.text()
        elif f.number == _NODE_ATTRIBUTE:
            _walk_attribute(f.message(), inv)
    if domain not in STANDARD_DOMAINS:
        inv.custom_ops.setdefault(domain, set()).add(op_type)


def _walk_attribute(attribute: ProtoMessage, inv: OnnxInventory) -> None:
    for f in attribute.fields():
        if f.wire_type is not WireType.LEN:
            continue
        if f.number in (_ATTR_G, _ATTR_GRAPHS):
            _walk_graph(f.message(), inv)
        elif f.number in (_ATTR_T, _ATTR_TENSORS):
            _walk_tensor(f.message(), inv)
        elif f.number in (_ATTR_SPARSE_TENSOR, _ATTR_SPARSE_TENSORS):
            _walk_sparse(f.message(), inv)


def _walk_sparse(sparse: ProtoMessage, inv: OnnxInventory) -> None:
    for f in sparse.fields():
        if f.number in (_SPARSE_VALUES, _SPARSE_INDICES) and f.wire_type is WireType.LEN:
            _walk_tensor(f.message(), inv)


def _walk_tensor(tensor: ProtoMessage, inv: OnnxInventory) -> None:
    name = ""
    locations: list[str] = []
    for f in tensor.fields():
        if f.number == _TENSOR_NAME and f.wire_type is WireType.LEN:
            name = f.text()
        elif f.number == _TENSOR_EXTERNAL_DATA and f.wire_type is WireType.LEN:
            key = value = ""
            for entry in f.message().fields():
                if entry.number == _ENTRY_KEY:
                    key = entry.text()
                elif entry.number == _ENTRY_VALUE:
                    value = entry.text()
            if key == "location":
                locations.append(value)
    inv.external.extend((name, location) for location in locations)


__all__ = ["STANDARD_DOMAINS", "OnnxInventory", "OnnxScanner", "location_escape"]

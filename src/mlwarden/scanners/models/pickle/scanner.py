"""The pickle scanner: plain pickles, legacy torch.save files and joblib dumps.

:func:`scan_pickle_stream` is the shared entry point for any pickle found inside another
format (the data of a NumPy object array, a pickle member of an archive).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    LimitExceeded,
    ScanContext,
    Scanner,
)
from mlwarden.scanners.models.pickle.calls import NESTED_LOADERS
from mlwarden.scanners.models.pickle.formats import PickleAnalysis, analyse_stream
from mlwarden.scanners.models.pickle.policy import Verdict
from mlwarden.scanners.models.pickle.stream import Blob, ByteSource
from mlwarden.scanners.models.pickle.values import GlobalUse
from mlwarden.sniff import Kind

#: How deep embedded torch files inside embedded torch files are followed.
MAX_EMBEDDED_DEPTH = 4


def scan_pickle_stream(
    artifact: Artifact,
    context: ScanContext,
    stream: IO[bytes],
    *,
    start: int = 0,
    fmt: str | None = None,
) -> Iterator[Finding]:
    """Analyse the pickle(s) in ``stream`` (positioned at offset ``start``) and yield findings.

    ``fmt`` is the ``format`` evidence (``numpy``, ``joblib``...); by default the artifact's
    container, else the layout found (``pickle``, ``legacy-torch``, ``joblib``). Findings made
    before a malformed part or a limit are yielded, then the error is raised again, so that
    the engine adds its MW002 or MW001 finding.
    """
    source = ByteSource(stream, start)
    size = artifact.size or None
    yield from _analyse(artifact, context, source, size, fmt, depth=0)


def _analyse(
    artifact: Artifact,
    context: ScanContext,
    source: ByteSource,
    size: int | None,
    fmt: str | None,
    depth: int,
) -> Iterator[Finding]:
    try:
        analysis = analyse_stream(source, context.limits, context.check_time, size)
    except (FormatError, LimitExceeded) as exc:
        partial: PickleAnalysis | None = getattr(exc, "analysis", None)
        if partial is not None:
            yield from findings_for(artifact, partial, fmt)
        raise
    yield from findings_for(artifact, analysis, fmt)
    for embedded in analysis.program.nested:
        if depth >= MAX_EMBEDDED_DEPTH:
            raise LimitExceeded(
                "max_archive_depth", f"embedded torch files nested over {MAX_EMBEDDED_DEPTH} deep"
            )
        yield from _analyse_embedded(artifact, context, embedded, fmt, depth + 1)


def _analyse_embedded(
    artifact: Artifact,
    context: ScanContext,
    embedded: bytes | Blob,
    fmt: str | None,
    depth: int,
) -> Iterator[Finding]:
    """Analyse a legacy torch.save file embedded as a bytes argument, where it lies."""
    if isinstance(embedded, bytes):
        source = ByteSource(io.BytesIO(embedded))
        yield from _analyse(artifact, context, source, len(embedded), fmt, depth)
        return
    with artifact.open() as stream:
        if stream.seekable():
            stream.seek(embedded.offset)
        else:
            ByteSource(stream).skip(embedded.offset)
        window = io.BufferedReader(_Window(stream, embedded.length))
        source = ByteSource(window, embedded.offset)
        end = embedded.offset + embedded.length
        yield from _analyse(artifact, context, source, end, fmt, depth)


class _Window(io.RawIOBase):
    """At most ``length`` bytes of a stream, from its current position."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream = stream
        self._left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left)]
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self._left -= len(data)
        return len(data)


def findings_for(
    artifact: Artifact, analysis: PickleAnalysis, fmt: str | None = None
) -> Iterator[Finding]:
    """The findings for an analysed stream: one per global, one per unresolved import."""
    layout = fmt or artifact.container or analysis.layout
    program = analysis.program
    merged: dict[str, GlobalUse] = {}
    for use in program.uses:
        seen = merged.get(use.qualified)
        if seen is None or (use.called and not seen.called):
            merged[use.qualified] = use
    for use in merged.values():
        if use.qualified in NESTED_LOADERS and use.qualified not in program.opaque_loaders:
            continue  # the embedded file it loads is analysed instead
        finding = _global_finding(artifact, use, layout, program.protocols)
        if finding is not None:
            yield finding
    for item in program.unresolved:
        yield Scanner.finding(
            artifact,
            "MW103",
            f"{item.opcode} at offset {item.offset} imports a global that cannot be "
            f"resolved statically ({item.detail})",
            evidence={
                "format": layout,
                "globals": [],
                "opcode": item.opcode,
                "offset": item.offset,
                "pickle_index": item.pickle_index,
                "detail": item.detail,
            },
            key=f"{item.pickle_index}:{item.offset}",
        )
    if analysis.trailing:
        yield Scanner.finding(
            artifact,
            "MW105",
            f"{analysis.trailing} bytes after the last pickle (offset {analysis.end}) are not "
            "a pickle",
            evidence={
                "format": layout,
                "globals": [],
                "offset": analysis.end,
                "length": analysis.trailing,
                "pickles": analysis.pickles,
            },
            key="trailing",
        )


def _global_finding(
    artifact: Artifact, use: GlobalUse, layout: str, protocols: list[int]
) -> Finding | None:
    verdict = use.verdict
    if verdict.verdict is Verdict.ALLOWED:
        return None
    offset = use.call_offset if use.called and use.call_offset is not None else use.offset
    evidence: dict[str, object] = {
        "format": layout,
        "globals": [use.qualified],
        "called": use.called,
        "offset": offset,
        "pickle_index": use.pickle_index,
        "opcode": use.opcode,
    }
    if use.via:
        evidence["via"] = use.via
    if protocols:
        evidence["protocol"] = protocols[min(use.pickle_index, len(protocols) - 1)]
    how = "calls" if use.called else "imports"
    via = f" (reached through {use.via})" if use.via else ""
    if verdict.verdict is Verdict.DANGEROUS:
        evidence["reason"] = verdict.reason
        evidence["matched"] = verdict.matched
        evidence["references"] = list(verdict.references)
        return Scanner.finding(
            artifact,
            "MW100",
            f"pickle {how} {use.qualified}{via} at offset {offset}: {verdict.reason}",
            severity=Severity.CRITICAL,
            evidence=evidence,
            key=use.qualified,
        )
    rule = "MW101" if use.called else "MW102"
    return Scanner.finding(
        artifact,
        rule,
        f"pickle {how} {use.qualified}{via} at offset {offset}, which is not on the allowlist",
        evidence=evidence,
        key=use.qualified,
    )


@register
class PickleScanner(Scanner):
    """Pickle streams of any protocol, several per file, legacy torch.save and joblib."""

    name = "pickle"
    kinds = frozenset({Kind.PICKLE})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            if artifact.container == STORAGE_CONTAINER:
                yield from _scan_storage(artifact, context, stream)
                return
            yield from scan_pickle_stream(artifact, context, stream)


#: The container the archive scanner gives raw tensor storages of a PyTorch zip whose first
#: bytes look like a pickle. torch.load never unpickles them, and tensor bytes start with
#: ``0x80 0x02``..``0x05`` by chance, so only a complete pickle that imports something is
#: worth reporting there: a payload hidden in a storage member, waiting for another loader.
STORAGE_CONTAINER = "pytorch-storage"


def _scan_storage(artifact: Artifact, context: ScanContext, stream: IO[bytes]) -> Iterator[Finding]:
    try:
        analysis = analyse_stream(ByteSource(stream), context.limits, context.check_time, None)
    except (FormatError, LimitExceeded):
        return  # tensor bytes that merely start like a pickle
    if not analysis.program.uses and not analysis.program.unresolved:
        return
    for finding in findings_for(artifact, analysis, "pytorch-zip"):
        if finding.rule != "MW105":  # tensor bytes after a pickle prefix are expected here
            yield finding

"""The scan engine: walk targets, sniff kinds, dispatch to scanners, bounded parallelism."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mlwarden.findings import Finding, Report, ScanError, Severity, dedupe
from mlwarden.scanners import scanners_for
from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    LimitExceeded,
    Limits,
    ScanContext,
)
from mlwarden.sniff import (
    DATA_KINDS,
    DEPENDENCY_KINDS,
    HDF5_MAGIC,
    HEAD_BYTES,
    TEXT_KINDS,
    Kind,
    sniff,
)

#: How far from its end a zip's end-of-central-directory record can be (its comment is at
#: most 65,535 bytes).
ZIP_TAIL_BYTES = 22 + 65_535

#: Directory names never descended into: version-control metadata and virtual environments.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", ".venv-peers", ".tox"})

#: Below this many files the cost of starting worker processes outweighs the gain.
PARALLEL_THRESHOLD = 16

#: Kinds that are model or archive formats: an artifact of these kinds that cannot be read
#: completely is a finding (it could not be shown safe), not only an error.
FAIL_CLOSED_KINDS = (
    frozenset(Kind) - {Kind.UNKNOWN, Kind.JSON} - DEPENDENCY_KINDS - TEXT_KINDS - DATA_KINDS
)

#: Names of zip-based office documents that hold datasets as well as being archives.
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")

ProgressCallback = Callable[[int, int, str], None]


@dataclass(slots=True)
class FileResult:
    """What scanning one top-level file gave."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    size: int = 0
    kind: Kind = Kind.UNKNOWN


def iter_files(targets: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, Path]]:
    """Yield ``(display path, file)`` for every regular file under the targets.

    Directories are walked recursively in a stable order; symbolic links to directories are not
    followed (they can loop), and :data:`SKIP_DIRS` are left out. A missing target raises
    ``FileNotFoundError``.
    """
    for target in targets:
        root = Path(target)
        if root.is_file():
            yield str(target), root
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"no such file or directory: {target}")
        yield from _walk(str(root))


def _walk(directory: str) -> Iterator[tuple[str, Path]]:
    """Files of ``directory``, then of its subdirectories, depth first, each level sorted.

    Directory entries carry their type, so only links are looked up again. Directories that
    cannot be listed are skipped, as unreadable ones are by ``os.walk``.
    """
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    subdirectories = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    subdirectories.append(entry.path)
            elif entry.is_file():  # regular files, and links to them
                path = Path(entry.path)
                yield str(path), path
        except OSError:
            continue
    for subdirectory in subdirectories:
        yield from _walk(subdirectory)


def scan_artifact(artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
    """Run every scanner that accepts the artifact's kind, turning failures into findings."""
    for scanner in scanners_for(artifact.kind):
        try:
            yield from scanner.scan(artifact, context)
        except LimitExceeded as exc:
            yield _limit_finding(artifact, exc)
        except FormatError as exc:
            yield _incomplete_finding(artifact, str(exc), scanner.name)
        except (OSError, EOFError) as exc:
            yield _incomplete_finding(artifact, f"read failed: {exc}", scanner.name)


def _limit_finding(artifact: Artifact, exc: LimitExceeded) -> Finding:
    from mlwarden.scanners.interface import Scanner

    return Scanner.finding(
        artifact,
        "MW001",
        f"{exc}; the rest of this file was not scanned",
        evidence={"limit": exc.limit, "format": artifact.kind.value},
        key=exc.limit,
    )


def _incomplete_finding(artifact: Artifact, why: str, scanner: str) -> Finding:
    from mlwarden.scanners.interface import Scanner

    severity = Severity.HIGH if artifact.kind in FAIL_CLOSED_KINDS else Severity.LOW
    return Scanner.finding(
        artifact,
        "MW002",
        f"could not be read completely ({why}); it cannot be shown safe",
        severity=severity,
        evidence={"format": artifact.kind.value, "scanner": scanner, "reason": why},
        key=scanner,
    )


def _read_head(stream: IO[bytes]) -> bytes:
    return stream.read(HEAD_BYTES)


def _scan_member(artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
    """An archive member handed back by a scanner: sniffed, then scanned like a file."""
    if not artifact.head:
        with artifact.open() as stream:
            artifact.head = _read_head(stream)
    if artifact.kind is Kind.UNKNOWN:
        artifact.kind = sniff(artifact.head, artifact.member or artifact.name)
    context.check_time()
    yield from scan_artifact(artifact, context)


def scan_file(
    display: str,
    path: Path,
    limits: Limits | None = None,
    options: dict[str, object] | None = None,
) -> FileResult:
    """Scan one file on disk, whatever it holds. Never raises for bad input."""
    result = FileResult(path=display)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = _read_head(stream)
            kinds = artifact_kinds(head, str(path), size, stream)
    except OSError as exc:
        result.errors.append(ScanError(display, f"cannot read: {exc.strerror or exc}"))
        return result
    result.size = size
    result.kind = kinds[0]
    kinds = [k for k in kinds if scanners_for(k)]
    if not kinds:
        return result

    def opener() -> IO[bytes]:
        return path.open("rb")

    for kind in kinds:
        artifact = Artifact(
            path=display, kind=kind, size=size, opener=opener, head=head, fs_path=str(path)
        )
        context = ScanContext(
            limits=limits or Limits(), options=dict(options or {}), nested=_scan_member
        )
        try:
            result.findings.extend(scan_artifact(artifact, context))
        except LimitExceeded as exc:
            result.findings.append(_limit_finding(artifact, exc))
        except Exception as exc:  # fail closed: a scanner bug must not pass a file as clean
            message = f"internal error: {type(exc).__name__}: {exc}"
            result.errors.append(ScanError(display, message))
            result.findings.append(
                _incomplete_finding(artifact, f"internal error: {type(exc).__name__}", "engine")
            )
        result.warnings.extend(context.warnings)
    result.findings = dedupe(result.findings)
    return result


def artifact_kinds(head: bytes, name: str, size: int, stream: IO[bytes]) -> list[Kind]:
    """Every kind a file is scanned as: its sniffed kind, and a zip found at its end.

    ``stream`` is the seekable content; besides the head, only a few bytes at user-block
    offsets (HDF5) and the last 64 KiB (a zip's end record) are read.
    """
    kind = sniff(head, name)
    if kind in (Kind.UNKNOWN, Kind.TEXT) and _has_hdf5_superblock(stream, size):
        kind = Kind.HDF5
    kinds = [kind]
    if kind is Kind.ZIP and name.lower().endswith(SPREADSHEET_SUFFIXES):
        kinds.append(Kind.EXCEL)
    if kind is not Kind.ZIP and size >= 22:
        # Data in front of a zip (a script, a pickle) hides it from a sniff of the head, but
        # zipfile-based loaders (Keras, numpy.load) find the archive from its end.
        stream.seek(max(0, size - ZIP_TAIL_BYTES))
        if ends_with_zip_directory(stream.read(ZIP_TAIL_BYTES)):
            kinds.append(Kind.ZIP)
    return kinds


def _has_hdf5_superblock(stream: IO[bytes], size: int) -> bool:
    """Whether an HDF5 superblock follows a user block longer than the sniffed head.

    User blocks are powers of two from 512 bytes; h5py (and so Keras) finds the superblock at
    any of them. Only those offsets are read, a few bytes each.
    """
    offset = HEAD_BYTES
    while offset + len(HDF5_MAGIC) <= size:
        stream.seek(offset)
        if stream.read(len(HDF5_MAGIC)) == HDF5_MAGIC:
            return True
        offset *= 2
    return False


def ends_with_zip_directory(tail: bytes) -> bool:
    """Whether ``tail`` (the last bytes of a file) ends exactly with a zip's end record.

    The record's comment length must reach the very end, the way zipfile-based loaders find
    it; an archive member that is itself a zip (inside a padded tar, say) does not count.
    """
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if len(tail) - at >= 22:
            comment = int.from_bytes(tail[at + 20 : at + 22], "little")
            if at + 22 + comment == len(tail):
                return True
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return False


def scan_bytes(data: bytes, name: str = "<bytes>", limits: Limits | None = None) -> list[Finding]:
    """Scan an in-memory artifact (used by tests, fuzzing and embedding applications)."""
    kinds = artifact_kinds(data[:HEAD_BYTES], name, len(data), io.BytesIO(data))
    findings: list[Finding] = []
    for each in kinds:
        artifact = Artifact(
            path=name,
            kind=each,
            size=len(data),
            opener=lambda: io.BytesIO(data),
            head=data[:HEAD_BYTES],
        )
        context = ScanContext(limits=limits or Limits(), nested=_scan_member)
        try:
            findings.extend(scan_artifact(artifact, context))
        except LimitExceeded as exc:
            findings.append(_limit_finding(artifact, exc))
    return dedupe(findings)


Job = tuple[str, Path, Limits, dict[str, object]]


def scan_job(job: Job) -> FileResult:
    """Scan one file of a scan: ``(display path, path, limits, options)``."""
    display, path, limits, options = job
    return scan_file(display, path, limits, options)


def failed_result(display: str, path: Path, why: str) -> FileResult:
    """The result for a file whose scan did not complete (its worker process ended).

    It fails closed: an error entry, and MW002 at the severity of the file's kind.
    """
    result = FileResult(path=display)
    try:
        result.size = path.stat().st_size
        with path.open("rb") as stream:
            head = _read_head(stream)
            result.kind = artifact_kinds(head, str(path), result.size, stream)[0]
    except OSError:
        pass
    result.errors.append(ScanError(display, f"internal error: {why}"))

    def opener() -> IO[bytes]:
        return path.open("rb")

    artifact = Artifact(path=display, kind=result.kind, size=result.size, opener=opener)
    result.findings.append(_incomplete_finding(artifact, f"internal error: {why}", "engine"))
    return result


def scan_paths(
    targets: Sequence[str | os.PathLike[str]],
    *,
    limits: Limits | None = None,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    options: dict[str, object] | None = None,
    exclude: Callable[[str], bool] | None = None,
    walked: Sequence[tuple[str, Path]] | None = None,
) -> Report:
    """Scan files and directories and return the raw report (no policy applied).

    ``jobs`` worker processes are used when there are many files (default: the CPU count).
    ``progress(done, total, path)`` is called after each file. ``exclude(path)`` drops files.
    ``walked`` is what :func:`iter_files` gives for ``targets``, when the caller has it.
    """
    started = time.monotonic()
    limits = limits or Limits()
    opts = dict(options or {})
    if walked is None:
        walked = list(iter_files(targets))
    files = [(d, p) for d, p in walked if not (exclude and exclude(d))]
    jobs = jobs or os.cpu_count() or 1
    work: list[Job] = [(d, p, limits, opts) for d, p in files]
    results: list[FileResult] = []
    if jobs > 1 and len(work) >= PARALLEL_THRESHOLD:
        from mlwarden.sharing import scan_in_workers

        results = scan_in_workers(work, jobs, progress)
    else:
        for job in work:
            results.append(scan_job(job))
            if progress:
                progress(len(results), len(work), job[0])
    # A file reached twice (a requirements file included by another and also found in the
    # tree) reports each finding once.
    findings = dedupe(f for r in results for f in r.findings)
    errors = [e for r in results for e in r.errors]
    warnings = list(dict.fromkeys(w for r in results for w in r.warnings))
    return Report(
        targets=tuple(str(t) for t in targets),
        findings=tuple(findings),
        errors=tuple(errors),
        warnings=tuple(warnings),
        files=len(results),
        bytes=sum(r.size for r in results),
        seconds=time.monotonic() - started,
    )

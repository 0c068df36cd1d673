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
from mlwarden.workers import WorkerLost, can_fork, run_forked

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


def _nested(context: ScanContext) -> Callable[[Artifact], Iterator[Finding]]:
    def scan_member(artifact: Artifact) -> Iterator[Finding]:
        if not artifact.head:
            with artifact.open() as stream:
                artifact.head = _read_head(stream)
        if artifact.kind is Kind.UNKNOWN:
            artifact.kind = sniff(artifact.head, artifact.member or artifact.name)
        context.check_time()
        yield from scan_artifact(artifact, context)

    return scan_member


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
        context = ScanContext(limits=limits or Limits(), options=dict(options or {}))
        context.nested = _nested(context)
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
        context = ScanContext(limits=limits or Limits())
        context.nested = _nested(context)
        try:
            findings.extend(scan_artifact(artifact, context))
        except LimitExceeded as exc:
            findings.append(_limit_finding(artifact, exc))
    return dedupe(findings)


Job = tuple[str, Path, Limits, dict[str, object]]

#: Formats whose scanners load sizeable libraries or modules of their own (a template parser,
#: an HDF5 reader, protobuf walkers), by file-name suffix. Files of one family are handed to
#: worker processes together, so that, in a scan of many small files, each family's modules
#: are loaded by one worker rather than by all of them. Only the order of work depends on
#: names; what a file is scanned as is decided by its content, as everywhere.
SCHEDULING_FAMILIES = {
    ".gguf": "gguf",
    ".keras": "keras",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".onnx": "onnx",
    ".pb": "tensorflow",
}

#: Families whose scanners need none of the archive, pickle and text scanners that most
#: scans load: their files can start in a worker before those are loaded.
EARLY_FAMILIES = frozenset({"gguf", "hdf5", "onnx", "tensorflow"})

#: Most files in one unit of work handed to a worker process.
MAX_BATCH = 64

#: Files whose heads are read, before workers start, to learn which scanners most files need.
PRELOAD_SAMPLE = 64

#: Kinds of containers whose members are, most often, pickles, text and JSON documents.
_CONTAINER_KINDS = frozenset({Kind.ZIP, Kind.TAR, Kind.COMPRESSED})


def _scan_one(job: Job) -> FileResult:
    display, path, limits, options = job
    return scan_file(display, path, limits, options)


def _scan_batch(batch: list[Job]) -> list[FileResult]:
    return [_scan_one(job) for job in batch]


def _family(path: Path) -> str:
    return SCHEDULING_FAMILIES.get(path.suffix.lower(), "")


def batches(work: list[Job], jobs: int) -> list[list[int]]:
    """Units of work for ``jobs`` worker processes, as indexes into ``work``.

    Files of each scheduling family come first, in units of their own (the early families
    first of all, see :func:`early_units`). The other files follow
    in units that shrink as the work runs out (each about a ``2 * jobs``-th of what is left),
    so that workers start with few hand-overs and still finish close together.
    """
    size = max(1, min(MAX_BATCH, -(-len(work) // (jobs * 4))))
    families: dict[str, list[int]] = {}
    for index, job in enumerate(work):
        families.setdefault(_family(job[1]), []).append(index)
    units: list[list[int]] = []
    order = sorted(families.items(), key=lambda f: (f[0] not in EARLY_FAMILIES, f[0] == "", f[0]))
    for family, members in order:
        if family:
            units.extend(members[start : start + size] for start in range(0, len(members), size))
            continue
        start = 0
        while start < len(members):
            step = max(1, min(MAX_BATCH, (len(members) - start) // (jobs * 2)))
            units.append(members[start : start + step])
            start += step
    return units


def _scan_in_workers(
    work: list[Job], jobs: int, progress: ProgressCallback | None
) -> list[FileResult]:
    """Scan ``work`` in ``jobs`` worker processes; results in the order of ``work``."""
    done: dict[int, FileResult] = {}

    def record(index: int, result: FileResult) -> None:
        done[index] = result
        if progress:
            progress(len(done), len(work), result.path)

    units = batches(work, jobs)
    if not can_fork():
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            unit_jobs = [[work[i] for i in unit] for unit in units]
            for unit, unit_results in zip(units, pool.map(_scan_batch, unit_jobs), strict=True):
                for index, result in zip(unit, unit_results, strict=True):
                    record(index, result)
    else:
        alone: list[list[int]] = []  # files of a lost unit, retried one by one
        for attempt in (units, alone):
            unit_jobs = [[work[i] for i in unit] for unit in attempt]
            outcomes = run_forked(
                unit_jobs,
                _scan_batch,
                jobs,
                early=early_units(work, attempt),
                prepare=(lambda: preload_scanners(work)) if attempt is units else None,
            )
            for number, outcome in outcomes:
                unit = attempt[number]
                if isinstance(outcome, list):
                    for index, result in zip(unit, outcome, strict=True):
                        record(index, result)
                elif isinstance(outcome, WorkerLost) and attempt is units and len(unit) > 1:
                    alone.extend([index] for index in unit)
                else:
                    why = outcome.reason if isinstance(outcome, WorkerLost) else outcome.error
                    for index in unit:
                        record(index, _lost(work[index], why))
    # Reports list files in the order they were found, however the work was shared.
    return [done[index] for index in range(len(work))]


def early_units(work: list[Job], units: list[list[int]]) -> int:
    """How many of the first units hold files of the early families only."""
    count = 0
    for unit in units:
        if not all(_family(work[i][1]) in EARLY_FAMILIES for i in unit):
            break
        count += 1
    return count


def preload_scanners(work: list[Job]) -> None:
    """Load, before workers are forked, the scanner modules that most of ``work`` needs.

    Modules loaded here are shared by every forked worker instead of being loaded by each of
    them. Kinds are sniffed from the heads of up to :data:`PRELOAD_SAMPLE` files spread over
    the work; files of a scheduling family are left out, since one worker scans those.
    """
    common = [job for job in work if not _family(job[1])]
    step = max(1, len(common) // PRELOAD_SAMPLE)
    kinds: set[Kind] = set()
    for _display, path, _limits, _options in common[::step][:PRELOAD_SAMPLE]:
        try:
            with path.open("rb") as stream:
                kinds.add(sniff(_read_head(stream), str(path)))
        except OSError:
            continue
    if kinds & _CONTAINER_KINDS:
        kinds |= {Kind.PICKLE, Kind.TEXT, Kind.JSON}
    for kind in kinds:
        scanners_for(kind)
    if kinds - {Kind.UNKNOWN}:
        from mlwarden.rules import get_rule

        get_rule("MW001")  # loads the rule catalogue, which every finding names a rule of


def _lost(job: Job, why: str) -> FileResult:
    """The result for a file whose scan ended its worker process (or failed there)."""
    display, path = job[0], job[1]
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
) -> Report:
    """Scan files and directories and return the raw report (no policy applied).

    ``jobs`` worker processes are used when there are many files (default: the CPU count).
    ``progress(done, total, path)`` is called after each file. ``exclude(path)`` drops files.
    """
    started = time.monotonic()
    limits = limits or Limits()
    opts = dict(options or {})
    files = [(d, p) for d, p in iter_files(targets) if not (exclude and exclude(d))]
    jobs = jobs or os.cpu_count() or 1
    work: list[Job] = [(d, p, limits, opts) for d, p in files]
    results: list[FileResult] = []
    if jobs > 1 and len(work) >= PARALLEL_THRESHOLD:
        results = _scan_in_workers(work, jobs, progress)
    else:
        for job in work:
            results.append(_scan_one(job))
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

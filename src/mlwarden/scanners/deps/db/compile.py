"""Compile OSV records (a directory at any depth, or an OSV ``all.zip``) into a SQLite file.

Decoding YAML is most of the cost, so files are read by a pool of worker processes (one per
core, the C YAML loader when PyYAML has it), in chunks; the parent groups records by alias and
writes the database. The file is built under a temporary name beside the target and moved over
it at the end, so readers see the old database or the new one, never a partial one, and a
failed compilation leaves the old one untouched.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import os
import sqlite3
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlwarden.atomic import atomic_output
from mlwarden.scanners.deps.db.schema import FORMAT, SCHEMA
from mlwarden.scanners.deps.grouping import AliasGroups, shown_id
from mlwarden.scanners.deps.osv import (
    AdvisoryFormatError,
    is_record_name,
    is_yaml_name,
    load_document,
    parse_advisory,
)

#: Below this many files, one process reads them all (a pool costs more than it saves).
_PARALLEL_THRESHOLD = 200
#: Skipped files and warnings kept in the metadata (the counts are always complete).
_KEPT_NOTES = 500
_NOT_A_RECORD = "not a .json, .yaml or .yml file"


class CompileError(Exception):
    """The records could not be compiled; the message says what to do."""


@dataclass(slots=True)
class CompileSummary:
    """What a compilation read, kept, skipped and noticed."""

    source: str
    records: int = 0
    packages: int = 0
    withdrawn: int = 0
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    built_at: str = ""


# A parsed file: ("ok", name, advisory JSON) or ("skip", name, reason).
_Outcome = tuple[str, str, Any]


def parse_record_bytes(name: str, text: bytes) -> list[_Outcome]:
    """Parse one record file: ``("ok", name, advisory JSON)`` or ``("skip", name, reason)``."""
    try:
        document = load_document(text, yaml_syntax=is_yaml_name(name))
    except Exception as exc:  # any decoder error is a skipped file, never a crash
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [
            ("skip", name, f"not valid {'YAML' if is_yaml_name(name) else 'JSON'}: {first_line}")
        ]
    documents = document if isinstance(document, list) else [document]
    outcomes: list[_Outcome] = []
    for item in documents:
        try:
            advisory = parse_advisory(item)
        except AdvisoryFormatError as exc:
            outcomes.append(("skip", name, f"not an OSV record: {exc}"))
            continue
        if not advisory.affected:
            outcomes.append(("skip", name, f"{advisory.id} names no PyPI package"))
            continue
        outcomes.append(("ok", name, advisory.to_json()))
    return outcomes


def _parse_files(paths: Sequence[str]) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    with _no_cycle_collection():
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                outcomes.append(("skip", path, f"unreadable: {exc.strerror or exc}"))
                continue
            outcomes.extend(parse_record_bytes(path, data))
    return outcomes


def _parse_members(job: tuple[str, Sequence[str]]) -> list[_Outcome]:
    archive, names = job
    outcomes: list[_Outcome] = []
    with zipfile.ZipFile(archive) as zf, _no_cycle_collection():
        for name in names:
            try:
                data = zf.read(name)
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                outcomes.append(("skip", name, f"unreadable member: {exc}"))
                continue
            outcomes.extend(parse_record_bytes(name, data))
    return outcomes


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    # Parsing allocates millions of small acyclic objects; the cycle collector would walk
    # them again and again (measured: about a third of the time) and find nothing to free.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(items: Sequence[str], count: int) -> list[Sequence[str]]:
    size = max(1, -(-len(items) // count))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _workers(requested: int | None) -> int:
    if requested is not None:
        return max(1, requested)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def read_records(source: Path, *, workers: int | None = None) -> tuple[list[_Outcome], int]:
    """Parse every record file under ``source`` (directory or zip): outcomes and file count."""
    pool_size = _workers(workers)
    if source.is_dir():
        names: list[str] = []
        skipped: list[_Outcome] = []
        for root, _dirs, files in os.walk(source):
            for file in files:
                full = os.path.join(root, file)
                if is_record_name(file):
                    names.append(full)
                else:
                    skipped.append(("skip", full, _NOT_A_RECORD))
        names.sort()
        jobs: list[Any] = _chunks(names, pool_size * 4)
        run: Any = _parse_files
        total = len(names) + len(skipped)
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            members = [i.filename for i in zf.infolist() if not i.is_dir()]
        names = sorted(m for m in members if is_record_name(m))
        skipped = [
            ("skip", m, "not a .json, .yaml or .yml file") for m in members if not is_record_name(m)
        ]
        jobs = [(str(source), chunk) for chunk in _chunks(names, pool_size * 4)]
        run = _parse_members
        total = len(members)
    else:
        raise CompileError(f"{source} is neither a directory of OSV records nor a zip of them")
    outcomes = list(skipped)
    if pool_size == 1 or len(names) < _PARALLEL_THRESHOLD:
        for job in jobs:
            outcomes.extend(run(job))
    else:
        with multiprocessing.get_context().Pool(min(pool_size, len(jobs))) as pool:
            for result in pool.imap(run, jobs):
                outcomes.extend(result)
    return outcomes, total


def _latest(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    # The schema: of two entries with one id, the later ``modified`` is authoritative.
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        seen = by_id.get(record["id"])
        if seen is None or (record["modified"] or "") > (seen["modified"] or ""):
            by_id[record["id"]] = record
    return [by_id[k] for k in sorted(by_id)]


def write_database(
    target: Path, records: Sequence[dict[str, Any]], summary: CompileSummary, fingerprint: str = ""
) -> None:
    """Write the compiled database to ``target`` atomically (see the module docstring)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target, suffix=".tmp") as tmp:
        connection = sqlite3.connect(tmp)
        try:
            fill_database(connection, records, summary, fingerprint)
        finally:
            connection.close()


def fill_database(
    connection: sqlite3.Connection,
    records: Sequence[dict[str, Any]],
    summary: CompileSummary,
    fingerprint: str = "",
) -> None:
    """Create the tables in an empty database and write ``records`` (advisory JSON forms)."""
    groups = AliasGroups()
    live = [r for r in records if not r["withdrawn"]]
    for record in live:
        # Withdrawn records take no part in grouping: their aliases may be the very mistake.
        groups.add([record["id"], *record["aliases"]])
    components = groups.components()
    group_number = {root: n for n, root in enumerate(sorted(components))}
    connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    connection.executemany(
        "INSERT INTO groups(grp, shown, ids) VALUES (?, ?, ?)",
        ((group_number[root], shown_id(ids), json.dumps(ids)) for root, ids in components.items()),
    )
    packages: set[str] = set()
    affects: list[tuple[str, int]] = []
    rows = []
    for rowid, record in enumerate(live, start=1):
        grp = group_number[groups.root(record["id"])]
        rows.append((rowid, record["id"], grp, json.dumps(record, separators=(",", ":"))))
        for name in {a["name"] for a in record["affected"]}:
            affects.append((name, rowid))
            packages.add(name)
    connection.executemany("INSERT INTO records(rowid, id, grp, body) VALUES (?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO affects(package, record) VALUES (?, ?)", affects)
    connection.execute("CREATE INDEX affects_package ON affects(package)")
    summary.records = len(live)
    summary.packages = len(packages)
    summary.withdrawn = len(records) - len(live)
    meta = {
        "format": FORMAT,
        "source": summary.source,
        "built_at": summary.built_at,
        "records": str(summary.records),
        "packages": str(summary.packages),
        "withdrawn": str(summary.withdrawn),
        "files": str(summary.files),
        "skipped_count": str(len(summary.skipped)),
        "skipped": json.dumps(summary.skipped[:_KEPT_NOTES]),
        "warnings_count": str(len(summary.warnings)),
        "warnings": json.dumps(summary.warnings[:_KEPT_NOTES]),
        "seconds": f"{summary.seconds:.3f}",
        "fingerprint": fingerprint,
    }
    connection.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
    connection.commit()


def collect(outcomes: Iterable[_Outcome], summary: CompileSummary) -> list[dict[str, Any]]:
    """Sort parse outcomes into records and notes (skipped files, warnings) in ``summary``."""
    records = []
    for status, name, payload in outcomes:
        if status == "ok":
            records.append(payload)
            summary.warnings.extend(payload["warnings"])
        else:
            summary.skipped.append((name, payload))
    return _latest(records)


def compile_database(
    source: Path,
    target: Path,
    *,
    label: str | None = None,
    workers: int | None = None,
    fingerprint: str = "",
) -> CompileSummary:
    """Compile ``source`` (directory or zip of OSV records) into ``target``.

    ``label`` is what the metadata names as the source (a URL for a download); it defaults to
    the resolved path. ``CompileError`` when nothing usable is found; ``target`` is then left
    as it was.
    """
    started = time.perf_counter()
    summary = CompileSummary(source=label or str(source.resolve()))
    outcomes, summary.files = read_records(source, workers=workers)
    records = collect(outcomes, summary)
    if not records:
        raise CompileError(
            f"no OSV records of PyPI packages in {summary.source} "
            f"({summary.files} files, {len(summary.skipped)} skipped)"
        )
    summary.built_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary.seconds = time.perf_counter() - started
    write_database(target, records, summary, fingerprint)
    summary.seconds = time.perf_counter() - started
    return summary

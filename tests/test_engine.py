"""The scan engine: walking, content-based dispatch, parallelism, limits and failure handling.

The registry is replaced by probe scanners for each test, so these tests exercise the engine
alone, whatever format scanners are installed.
"""

from __future__ import annotations

import collections
import gc
import hashlib
import io
import pickle
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest

import mlwarden.scanners as registry
from mlwarden.engine import iter_files, scan_bytes, scan_file, scan_paths
from mlwarden.findings import Finding, Severity
from mlwarden.rules import get_rule
from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    Limits,
    ScanContext,
    Scanner,
)
from mlwarden.sharing import MAX_BATCH, batches, scheduling_families
from mlwarden.sniff import Kind


class ContentProbe(Scanner):
    """Reports every artifact it is given with a finding derived from its content only."""

    name = "test-content-probe"
    kinds: ClassVar[frozenset[Kind]] = frozenset(Kind) - {Kind.UNKNOWN, Kind.TEXT}
    seen: ClassVar[list[tuple[str, str | None, Kind]]] = []

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            digest = hashlib.sha256(stream.read()).hexdigest()[:16]
        ContentProbe.seen.append((artifact.path, artifact.member, artifact.kind))
        yield self.finding(
            artifact,
            "MW002",
            f"probe saw {artifact.kind.value} {digest}",
            severity=Severity.INFO,
            evidence={"format": artifact.kind.value, "digest": digest},
            key=digest,
        )


class SlowProbe(Scanner):
    """Works on a pickle until its time is up, checking the clock as scanners must."""

    name = "test-slow-probe"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.PICKLE})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            context.check_time()
            time.sleep(0.005)
        yield from ()


class ZipDescender(Scanner):
    """Hands every zip member back to the engine, one level deeper, as archive scanners do."""

    name = "test-zip-descender"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.ZIP})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            archive = zipfile.ZipFile(io.BytesIO(stream.read()))
        for info in archive.infolist():
            data = archive.read(info)
            prefix = f"{artifact.member}!" if artifact.member else ""
            member = Artifact(
                path=artifact.path,
                kind=Kind.UNKNOWN,
                size=len(data),
                opener=lambda data=data: io.BytesIO(data),
                member=prefix + info.filename,
                depth=artifact.depth + 1,
                container="zip",
            )
            yield from context.scan_nested(member)


class CrashingProbe(Scanner):
    """A scanner with a bug: it raises something the engine does not expect."""

    name = "test-crashing-probe"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.PICKLE})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        raise RuntimeError("probe bug")
        yield  # pragma: no cover


class MalformedProbe(Scanner):
    """Rejects every input as malformed."""

    name = "test-malformed-probe"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.PICKLE, Kind.JSON})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        raise FormatError("truncated at byte 3")
        yield  # pragma: no cover


@pytest.fixture
def use_scanners(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Replace the registry with the given scanner classes for one test."""
    registry.registered()  # load the built-in scanners first, so they cannot re-register later
    ContentProbe.seen.clear()

    def install(*classes: type[Scanner]) -> None:
        monkeypatch.setattr(registry, "_REGISTRY", list(classes))

    return install


def _pickle_bytes(value: object) -> bytes:
    return pickle.dumps(value, protocol=4)


# --- walking --------------------------------------------------------------------------------


def test_walk_is_sorted_skips_vcs_and_does_not_follow_directory_links(tmp_path: Path) -> None:
    for rel in ["b/z.bin", "b/a.bin", "a/m.bin", "top.bin", ".git/objects/x", ".venv/lib/y"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "c-link").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "back").symlink_to(tmp_path, target_is_directory=True)

    found = [p.relative_to(tmp_path).as_posix() for _, p in iter_files([tmp_path])]

    assert found == ["top.bin", "a/m.bin", "b/a.bin", "b/z.bin"]


def test_walk_includes_links_to_files_and_keeps_display_paths(tmp_path: Path) -> None:
    (tmp_path / "real.pkl").write_bytes(b"x")
    (tmp_path / "alias.pkl").symlink_to(tmp_path / "real.pkl")
    displays = [d for d, _ in iter_files([str(tmp_path)])]
    assert displays == [str(tmp_path / "alias.pkl"), str(tmp_path / "real.pkl")]
    single = tmp_path / "real.pkl"
    assert list(iter_files([single])) == [(str(single), single)]


def test_walk_of_a_missing_target_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(iter_files([tmp_path / "absent"]))


# --- dispatch by content --------------------------------------------------------------------


def test_a_pickle_named_txt_is_scanned_as_a_pickle(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    disguised = tmp_path / "notes.txt"
    disguised.write_bytes(_pickle_bytes({"weights": [1, 2, 3]}))

    result = scan_file(str(disguised), disguised)

    assert result.kind is Kind.PICKLE
    assert ContentProbe.seen == [(str(disguised), None, Kind.PICKLE)]
    assert [f.rule for f in result.findings] == ["MW002"]
    assert result.findings[0].evidence["format"] == "pickle"


def test_a_text_file_named_pkl_is_not_a_pickle(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    text = tmp_path / "model.pkl"
    text.write_text("just some notes about the model\n", encoding="utf-8")

    result = scan_file(str(text), text)

    assert result.kind is Kind.TEXT
    assert result.findings == [] and result.errors == []


def test_json_nested_past_the_decoder_depth_does_not_end_the_scan(
    tmp_path: Path, use_scanners: Any
) -> None:
    # Regression: sniffing 3000 nested brackets raised RecursionError out of scan_paths.
    use_scanners(ContentProbe)
    (tmp_path / "deep.json").write_text("[" * 3000 + "]" * 3000, encoding="utf-8")
    (tmp_path / "model.pkl").write_bytes(_pickle_bytes([1]))

    report = scan_paths([tmp_path], jobs=1)

    assert report.files == 2
    assert sorted(kind.value for _, _, kind in ContentProbe.seen) == ["json", "pickle"]


def test_scan_bytes_dispatches_on_content(use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    findings = scan_bytes(_pickle_bytes([1, 2]), name="weights.json")
    assert [f.evidence["format"] for f in findings] == ["pickle"]
    assert ContentProbe.seen == [("weights.json", None, Kind.PICKLE)]


# --- parallel and serial paths give the same report ----------------------------------------


def _many_files(root: Path) -> None:
    for i in range(40):
        folder = root / f"part{i % 4}"
        folder.mkdir(exist_ok=True)
        if i % 3 == 0:
            (folder / f"m{i}.pkl").write_bytes(_pickle_bytes({"layer": i, "w": list(range(i))}))
        elif i % 3 == 1:
            (folder / f"c{i}.json").write_text(f'{{"hidden_size": {i}}}', encoding="utf-8")
        else:
            (folder / f"n{i}.txt").write_text(f"note {i}\n", encoding="utf-8")


def _summary(report: Any) -> tuple[Any, ...]:
    findings = sorted((f.fingerprint, f.rule, f.severity, f.message) for f in report.findings)
    errors = sorted((e.path, e.message) for e in report.errors)
    return findings, errors, report.files, report.bytes


def test_parallel_scan_equals_serial_scan(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    _many_files(tmp_path)

    serial = scan_paths([tmp_path], jobs=1)
    parallel = scan_paths([tmp_path], jobs=2)

    assert serial.files == 40
    assert len(serial.findings) == 27  # 14 pickles and 13 JSON documents
    assert _summary(parallel) == _summary(serial)


def test_work_is_shared_by_family_and_covers_every_file_once() -> None:
    names = [f"m{i}.{ext}" for i in range(30) for ext in ("pt", "gguf", "keras", "H5", "onnx")]
    work = [(name, Path(name), Limits(), {}) for name in names]
    units = batches(work, 2)
    assert sorted(i for unit in units for i in unit) == list(range(len(work)))
    families = [{Path(names[i]).suffix.lower().replace(".h5", ".keras") for i in u} for u in units]
    assert all(len(f) == 1 for f in families)  # one family per unit
    # Families with modules of their own come first, the rest after them.
    assert families[-1] == {".pt"} and families[0] != {".pt"}
    assert max(len(u) for u in units) <= MAX_BATCH
    assert batches(work[:3], 8) == [[1], [2], [0]]  # gguf, keras, then the rest


def test_scheduling_families_are_confirmed_by_content(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"GGUF" + bytes(60))
    (tmp_path / "weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(56))
    (tmp_path / "renamed.h5").write_bytes(pickle.dumps({"a": 1}))  # a pickle, not HDF5
    with zipfile.ZipFile(tmp_path / "zipped.gguf", "w") as archive:
        archive.writestr("data.pkl", pickle.dumps(1))
    names = ["model.gguf", "weights.h5", "renamed.h5", "zipped.gguf", "gone.h5", "plain.pt"]
    work = [(name, tmp_path / name, Limits(), {}) for name in names]
    # A file that cannot be read keeps the family its name gives.
    assert scheduling_families(work) == ["gguf", "hdf5", "", "", "hdf5", ""]


def test_parallel_scan_reports_files_in_walk_order(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    for i in range(24):
        ext = ("gguf", "pkl", "onnx")[i % 3]
        (tmp_path / f"f{i:02d}.{ext}").write_bytes(_pickle_bytes([i]))
    serial = scan_paths([tmp_path], jobs=1)
    parallel = scan_paths([tmp_path], jobs=2)
    assert [f.location.path for f in parallel.findings] == [
        f.location.path for f in serial.findings
    ]
    assert len(serial.findings) == 24


def test_progress_is_reported_once_per_file(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    _many_files(tmp_path)
    calls: list[tuple[int, int, str]] = []
    scan_paths(
        [tmp_path], jobs=1, progress=lambda done, total, path: calls.append((done, total, path))
    )
    assert [c[0] for c in calls] == list(range(1, 41))
    assert {c[1] for c in calls} == {40}


def test_exclude_drops_files_before_they_are_read(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ContentProbe)
    _many_files(tmp_path)
    report = scan_paths([tmp_path], jobs=1, exclude=lambda path: "part0" not in path)
    assert report.files == 10
    assert all("part0" in f.location.path for f in report.findings)


# --- limits end in MW001 --------------------------------------------------------------------


def test_time_limit_ends_in_mw001(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(SlowProbe)
    path = tmp_path / "slow.pkl"
    path.write_bytes(_pickle_bytes(list(range(100))))

    started = time.monotonic()
    result = scan_file(str(path), path, Limits(seconds_per_file=0.05))

    assert time.monotonic() - started < 5
    assert [(f.rule, f.evidence["limit"]) for f in result.findings] == [
        ("MW001", "seconds_per_file")
    ]
    assert result.findings[0].severity is get_rule("MW001").severity


def _nested_zip(depth: int) -> bytes:
    data = _pickle_bytes({"innermost": True})
    name = "data.pkl"
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, data)
        data, name = buffer.getvalue(), f"level{level}.zip"
    return data


def test_archive_depth_limit_ends_in_mw001(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ZipDescender, ContentProbe)
    path = tmp_path / "deep.zip"
    path.write_bytes(_nested_zip(6))

    result = scan_file(str(path), path, Limits(max_archive_depth=2))

    limits = [f for f in result.findings if f.rule == "MW001"]
    assert [f.evidence["limit"] for f in limits] == ["max_archive_depth"]
    assert limits[0].location.path == str(path)
    # Nothing past the limit was scanned: the pickle at depth 6 never reached a scanner.
    assert all(kind is Kind.ZIP for _, _, kind in ContentProbe.seen)


def test_nested_members_are_sniffed_and_named(tmp_path: Path, use_scanners: Any) -> None:
    use_scanners(ZipDescender, ContentProbe)
    path = tmp_path / "two.zip"
    path.write_bytes(_nested_zip(2))

    result = scan_file(str(path), path)

    assert not [f for f in result.findings if f.rule == "MW001"]
    assert (str(path), "level0.zip!data.pkl", Kind.PICKLE) in ContentProbe.seen


def test_scan_bytes_turns_limits_into_mw001(use_scanners: Any) -> None:
    use_scanners(ZipDescender)
    findings = scan_bytes(_nested_zip(4), limits=Limits(max_archive_depth=1))
    assert [(f.rule, f.evidence["limit"]) for f in findings] == [("MW001", "max_archive_depth")]


# --- failures are reported, never passed as clean -------------------------------------------


def test_unreadable_file_is_an_error_entry(
    tmp_path: Path, use_scanners: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_scanners(ContentProbe)
    locked = tmp_path / "locked.pkl"
    locked.write_bytes(_pickle_bytes([1]))
    (tmp_path / "open.pkl").write_bytes(_pickle_bytes([2]))
    real_open = Path.open

    def open_or_deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        # Permissions cannot be relied on here (tests may run as root), so deny by path.
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_or_deny)
    report = scan_paths([tmp_path], jobs=1)

    assert [(e.path, e.message) for e in report.errors] == [
        (str(locked), "cannot read: Permission denied")
    ]
    assert [f.location.path for f in report.findings] == [str(tmp_path / "open.pkl")]
    assert report.files == 2


def test_a_directory_given_as_a_file_is_an_error_entry(tmp_path: Path) -> None:
    result = scan_file("folder", tmp_path)
    assert result.findings == []
    assert len(result.errors) == 1 and result.errors[0].message.startswith("cannot read")


def test_internal_scanner_error_is_mw002_and_an_error_entry(
    tmp_path: Path, use_scanners: Any
) -> None:
    use_scanners(CrashingProbe)
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickle_bytes({"w": 1}))

    report = scan_paths([tmp_path], jobs=1)

    assert [e.message for e in report.errors] == ["internal error: RuntimeError: probe bug"]
    assert [(f.rule, f.severity, f.evidence["scanner"]) for f in report.findings] == [
        ("MW002", Severity.HIGH, "engine")
    ]
    assert report.failed(Severity.HIGH)


def test_format_error_is_mw002_high_for_models_and_low_for_json(
    tmp_path: Path, use_scanners: Any
) -> None:
    use_scanners(MalformedProbe)
    model = tmp_path / "model.pkl"
    model.write_bytes(_pickle_bytes({"w": 1}))
    config = tmp_path / "config.json"
    config.write_text('{"a": 1}', encoding="utf-8")

    severities = {
        Path(f.location.path).name: (f.rule, f.severity, f.evidence["scanner"])
        for f in scan_paths([tmp_path], jobs=1).findings
    }

    assert severities == {
        "model.pkl": ("MW002", Severity.HIGH, "test-malformed-probe"),
        "config.json": ("MW002", Severity.LOW, "test-malformed-probe"),
    }


def test_registry_is_restored_after_probes(use_scanners: Any) -> None:
    use_scanners(CrashingProbe)
    assert registry.scanners_for(Kind.PICKLE)[0].name == "test-crashing-probe"


def test_probe_scanners_do_not_leak_into_the_real_registry() -> None:
    names = {cls.name for cls in registry.registered()}
    assert not any(name.startswith("test-") for name in names)


def test_an_artifact_shorter_than_its_head_is_read_from_the_head() -> None:
    def refuse() -> IO[bytes]:
        raise AssertionError("the stream was opened")

    small = Artifact(path="a.txt", kind=Kind.TEXT, size=5, opener=refuse, head=b"hello")
    assert small.read_at_most(100) == b"hello"
    assert small.read_at_most(2) == b"he"
    longer = Artifact(
        path="b.txt",
        kind=Kind.TEXT,
        size=10,
        opener=lambda: io.BytesIO(b"0123456789"),
        head=b"01234",
    )
    assert longer.read_at_most(100) == b"0123456789"


def test_scans_free_what_they_build_without_the_cycle_collector(tmp_path: Path) -> None:
    # Symbolic pickle values, contexts and their hooks are freed by reference counting as soon
    # as a scan ends; cycles among them would leave it to the collector, scan after scan.
    plain = tmp_path / "model.pkl"
    plain.write_bytes(pickle.dumps(collections.OrderedDict(w=[1.0, 2.0], b=(3, "x"))))
    archive = tmp_path / "model.pt"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("model/data.pkl", plain.read_bytes())
        zipped.writestr("model/version", "3\n")
    for path in (plain, archive):  # first scans load modules, which leave cycles of their own
        scan_file(path.name, path)
    gc.collect()
    gc.disable()
    try:
        for path in (plain, archive):
            assert scan_file(path.name, path).findings == []
        assert gc.collect() == 0
    finally:
        gc.enable()

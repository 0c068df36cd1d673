"""TAR archives and compressed streams (joblib's compressed dumps, tarballs, gzip bombs)."""

from __future__ import annotations

import gzip
import importlib.util
import io
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_builders import Payload, describe, payload_pickle, rules_at, scan, serious

from mlwarden.findings import Finding
from mlwarden.scanners.interface import Artifact, Limits, ScanContext
from mlwarden.scanners.models.archives import CompressedScanner
from mlwarden.sniff import HEAD_BYTES, Kind


def _tar(members: list[tarfile.TarInfo], data: dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
            archive.addfile(info, io.BytesIO(body) if body is not None else None)
    return buffer.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def test_tar_with_payload_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = _tar(
        [_file("readme.txt"), _file("model/payload.bin")],
        {"readme.txt": b"hello", "model/payload.bin": payload_pickle(marker)},
    )
    path = tmp_path / "model.tar"
    path.write_bytes(data)
    result = scan(path)
    assert rules_at(result, "model/payload.bin") == {"MW100"}, describe(result)
    assert rules_at(result, "readme.txt") == set()
    assert not marker.exists()


def test_gzipped_tar_with_payload(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = _tar([_file("p.pkl")], {"p.pkl": payload_pickle(marker)}, mode="w:gz")
    path = tmp_path / "model.tar.gz"
    path.write_bytes(data)
    result = scan(path)
    assert "MW100" in rules_at(result, "p.pkl"), describe(result)
    assert not marker.exists()


def test_tar_links_and_traversal(tmp_path: Path) -> None:
    outside = _file("config")
    outside.type, outside.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
    inside = _file("alias.bin")
    inside.type, inside.linkname = tarfile.SYMTYPE, "weights.bin"
    hard = _file("hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/shadow"
    data = _tar(
        [_file("weights.bin"), outside, inside, hard, _file("../escape.txt")],
        {"weights.bin": b"\x00" * 16, "../escape.txt": b"x"},
    )
    path = tmp_path / "links.tar"
    path.write_bytes(data)
    result = scan(path)
    by_member = {(f.location.member, f.rule): f.severity.value for f in result.findings}
    assert by_member == {
        ("config", "MW130"): "high",
        ("alias.bin", "MW130"): "medium",
        ("hard", "MW130"): "high",
        ("../escape.txt", "MW126"): "high",
    }, describe(result)


def test_truncated_tar_is_not_clean(tmp_path: Path) -> None:
    data = _tar([_file("a.bin")], {"a.bin": b"\x01" * 5000})
    path = tmp_path / "cut.tar"
    path.write_bytes(data[:2048])
    result = scan(path)
    assert any(f.rule == "MW002" for f in result.findings), describe(result)


def _model() -> object:
    from sklearn.linear_model import LogisticRegression

    features = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    return LogisticRegression().fit(features, [0, 1, 1, 0])


COMPRESSORS = ["zlib", "gzip", "bz2", "xz", "lzma"]


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_joblib_compressed_model_is_quiet(tmp_path: Path, compressor: str) -> None:
    joblib = pytest.importorskip("joblib")
    path = tmp_path / f"model.{compressor}.joblib"
    joblib.dump(_model(), path, compress=(compressor, 3))
    result = scan(path)
    assert result.kind is Kind.COMPRESSED
    assert not serious(result), describe(result)


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_joblib_compressed_payload_is_found(tmp_path: Path, compressor: str) -> None:
    joblib = pytest.importorskip("joblib")
    marker = tmp_path / "marker"
    path = tmp_path / f"payload.{compressor}.joblib"
    joblib.dump({"model": Payload(marker)}, path, compress=(compressor, 3))
    result = scan(path)
    assert "MW100" in rules_at(result, None), describe(result)
    assert not marker.exists()


def _nested_of(data: bytes) -> list[tuple[Artifact, bytes]]:
    """What the compressed scanner hands back to the engine for these bytes, and its content
    (read while the scan runs: nested streams live as long as the scan of their container)."""
    seen: list[tuple[Artifact, bytes]] = []

    def capture(artifact: Artifact, _context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            seen.append((artifact, stream.read()))
        return iter(())

    context = ScanContext(limits=Limits(), nested=capture)
    artifact = Artifact(
        path="x", kind=Kind.COMPRESSED, size=len(data), opener=lambda: io.BytesIO(data),
        head=data[:HEAD_BYTES],
    )  # fmt: skip
    list(CompressedScanner().scan(artifact, context))
    return seen


def test_joblib_container_is_named(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    path = tmp_path / "model.joblib"
    joblib.dump(_model(), path, compress=("zlib", 3))
    data = path.read_bytes()
    [(nested, content)] = _nested_of(data)
    assert (nested.container, nested.depth) == ("joblib", 1)
    assert nested.size == len(content) == len(zlib.decompress(data))
    assert content.startswith(b"\x80")


def test_concatenated_gzip_members_are_one_stream() -> None:
    data = gzip.compress(b"part one, ") + gzip.compress(b"part two")
    [(nested, content)] = _nested_of(data)
    assert content == b"part one, part two"
    assert nested.container == "compressed"


def test_gzip_bomb_ends_in_a_finding(tmp_path: Path) -> None:
    chunk = b"\x00" * (1024 * 1024)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = b"".join(packer.compress(chunk) for _ in range(48)) + packer.flush()
    path = tmp_path / "bomb.gz"
    path.write_bytes(data)
    result = scan(path)
    assert [f.rule for f in result.findings] == ["MW129"], describe(result)
    assert result.findings[0].evidence["limit"] == "max_compression_ratio"


def test_truncated_gzip_is_not_clean(tmp_path: Path) -> None:
    data = gzip.compress(payload_pickle(tmp_path / "marker") * 50)
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    result = scan(path)
    assert any(f.rule == "MW002" for f in result.findings), describe(result)


@pytest.mark.skipif(importlib.util.find_spec("lz4") is not None, reason="lz4 is installed")
def test_lz4_without_the_library_is_uninspectable(tmp_path: Path) -> None:
    path = tmp_path / "model.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(range(64)))
    result = scan(path)
    assert [f.rule for f in result.findings] == ["MW132"], describe(result)

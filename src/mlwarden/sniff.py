"""Content-based kind detection: magic bytes and structure, never the file name alone.

A pickle named ``.txt`` is a pickle; an archive member named ``DATA.PKL`` is still read.
Names are used only to break ties between formats that carry no magic number (protobuf).
"""

from __future__ import annotations

import enum
import json
import struct

#: How many leading bytes the engine reads for sniffing.
HEAD_BYTES = 4096


class Kind(enum.StrEnum):
    """What an artifact is, as far as its first bytes tell."""

    PICKLE = "pickle"
    ZIP = "zip"
    TAR = "tar"
    COMPRESSED = "compressed"  # gzip, bz2, xz, lzma, zlib, lz4, zstd stream around something
    NUMPY = "numpy"
    HDF5 = "hdf5"
    GGUF = "gguf"
    SAFETENSORS = "safetensors"
    ONNX = "onnx"
    TF_SAVEDMODEL = "tf-savedmodel"
    JSON = "json"
    # Dependency files: text formats told apart by file name and structure together.
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    POETRY_LOCK = "poetry-lock"
    UV_LOCK = "uv-lock"
    PIPFILE_LOCK = "pipfile-lock"
    PYLOCK = "pylock"
    CONDA_ENV = "conda-environment"
    UNKNOWN = "unknown"


HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

_COMPRESSED_MAGICS = (
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"\x04\x22\x4d\x18",  # lz4 frame
    b"\x28\xb5\x2f\xfd",  # zstd
    b"ZF0x",  # joblib before 0.10: "ZF", a hexadecimal length, then a zlib stream
)

# Opcodes a pickle of protocol 0 or 1 can start with: ones that push onto an empty stack.
# Opcodes that need a mark, a memo entry or stack items (``d``, ``l``, ``h``, ``g``, ``R``...)
# cannot come first, which keeps ordinary text from looking like a pickle.
_PICKLE_V0_START = frozenset(b"(}])NILJKMFGSTUVXcP")


def sniff(head: bytes, name: str = "") -> Kind:
    """Decide the kind of an artifact from its first bytes (``HEAD_BYTES`` of them).

    ``name`` is a weak hint, consulted only for formats without a magic number.
    """
    if not head:
        return Kind.UNKNOWN
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return Kind.ZIP
    if head.startswith(b"\x93NUMPY"):
        return Kind.NUMPY
    if head.startswith(HDF5_MAGIC):
        return Kind.HDF5
    if head.startswith(b"GGUF"):
        return Kind.GGUF
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Kind.TAR
    if head.startswith(_COMPRESSED_MAGICS) or _is_zlib(head) or _is_lzma_alone(head):
        return Kind.COMPRESSED
    if looks_like_pickle(head):
        return Kind.PICKLE
    if _is_safetensors(head):
        return Kind.SAFETENSORS
    # After every binary check (a pickle named requirements.txt stays a pickle) and before
    # JSON (Pipfile.lock is JSON).
    dependency_file = _sniff_dependency_file(head, name)
    if dependency_file is not None:
        return dependency_file
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[") and _is_json_start(stripped):
        return Kind.JSON
    proto = _sniff_protobuf(head, name)
    if proto is not None:
        return proto
    return Kind.UNKNOWN


def looks_like_pickle(head: bytes) -> bool:
    """Whether these bytes start a pickle of any protocol.

    Protocol 2 and later start with ``PROTO n``. Protocols 0 and 1 have no header, so the
    first opcodes are decoded (decoding never runs anything) and must form a plausible start.
    """
    if len(head) >= 2 and head[0] == 0x80:
        return 2 <= head[1] <= 5
    if not head or head[0] not in _PICKLE_V0_START:
        return False
    return _plausible_v0(head)


def _plausible_v0(head: bytes) -> bool:
    """Decode the first opcodes and check that they form a valid stack program.

    Decoding runs nothing. A real pickle never pops from an empty stack, never closes a mark it
    did not open and names globals with identifiers; text that happens to start with an opcode
    letter fails one of these within a few bytes.
    """
    import io
    import pickletools

    depth = 0
    marks: list[int] = []  # stack depth at each open mark
    count = 0
    try:
        for opcode, arg, _pos in pickletools.genops(io.BytesIO(head)):
            count += 1
            if opcode.name in ("GLOBAL", "INST") and not _dotted_pair(arg):
                return False
            before = opcode.stack_before
            if pickletools.markobject in before:
                if not marks:
                    return False
                depth = marks.pop()
                need = before.index(pickletools.markobject)  # items below the mark
            else:
                need = len(before)
            if need > depth:
                return False
            depth -= need
            if opcode.name == "MARK":
                marks.append(depth)
                continue
            depth += len(opcode.stack_after)
            if opcode.name == "STOP":
                return count >= 2
            if count >= 16:
                return True
    except (ValueError, EOFError, UnicodeDecodeError, struct.error) as exc:
        if "exhausted" in str(exc):
            # The bytes ended between opcodes with no STOP: a short run of opcode letters is
            # more likely text than a pickle.
            return count >= 8
        # Ran off the end of the head inside a long argument: plausible if we got that far.
        return count >= 3
    return count >= 3


def _dotted_pair(arg: object) -> bool:
    if not isinstance(arg, str) or " " not in arg:
        return False
    module, name = arg.split(" ", 1)
    return all(part.isidentifier() for part in (*module.split("."), *name.split(".")))


def _is_zlib(head: bytes) -> bool:
    # zlib streams (joblib's "zlib" compressor) start with CMF/FLG where CMF*256+FLG % 31 == 0.
    if len(head) < 2 or head[0] != 0x78:
        return False
    return (head[0] << 8 | head[1]) % 31 == 0 and head[1] in (0x01, 0x5E, 0x9C, 0xDA)


def _is_lzma_alone(head: bytes) -> bool:
    # The legacy .lzma header: properties byte 0x5D, then a little-endian dictionary size.
    return len(head) >= 13 and head[0] == 0x5D and head[1:3] == b"\x00\x00"


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length < 2**32 and head[8:9] == b"{"


def _is_json_start(text: bytes) -> bool:
    try:
        json.loads(text)
        return True
    except UnicodeDecodeError:
        return False
    except RecursionError:
        # Brackets nested past the decoder's depth: still a JSON document, and the scanners
        # must see it (a crash here would end the whole scan).
        return True
    except json.JSONDecodeError as exc:
        # A head cut off in the middle of a valid document fails only at its very end.
        return exc.pos >= len(text.decode("utf-8", "replace")) - 64 and exc.pos > 1


def _sniff_dependency_file(head: bytes, name: str) -> Kind | None:
    """Requirements files, pyproject.toml, lock files and conda environments.

    ``name`` may be a path: its parent directory counts (``requirements/base.txt``).
    """
    if not name:
        return None
    # Imported here: the detector is small, but sniff must stay importable on its own.
    from mlwarden.scanners.deps.sources.detect import detect_source

    found = detect_source(name, head)
    return Kind(found) if found is not None else None


def _sniff_protobuf(head: bytes, name: str) -> Kind | None:
    """ONNX and SavedModel files are protobuf messages with no magic number.

    Both start with field 1 as a varint (``0x08``). An ONNX ``ModelProto`` carries its IR
    version there (3 and up) and soon a producer name or graph; a ``SavedModel`` carries schema
    version 1 followed by its meta graphs (field 2). The name breaks remaining ties.
    """
    lower = name.lower()
    if len(head) < 4 or head[0] != 0x08:
        return None
    version = head[1]
    # After ir_version: producer_name, producer_version, domain, model_version, doc_string,
    # graph or opset_import (fields 2-8), whichever the exporter set first.
    onnx_next = (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)
    if lower.endswith(".onnx") or (3 <= version <= 30 and head[2] in onnx_next):
        return Kind.ONNX
    if lower.endswith(".pb") or (version == 1 and head[2] == 0x12):
        return Kind.TF_SAVEDMODEL
    return None

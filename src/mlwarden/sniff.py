"""Content-based kind detection: magic bytes and structure, never the file name alone.

A pickle named ``.txt`` is a pickle; an archive member named ``DATA.PKL`` is still read.
Names are used only to break ties between formats that carry no magic number (protobuf).
"""

from __future__ import annotations

import enum
import json
import struct
import warnings
from collections.abc import Iterator
from typing import Any

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
    # Code, notebooks and configuration: text told apart by name and content together.
    NOTEBOOK = "notebook"
    PYTHON = "python"
    SHELL = "shell"
    DOCKERFILE = "dockerfile"
    COMPOSE = "compose"
    PROPERTIES = "properties"  # Java-style key=value files (TorchServe's config.properties)
    TEXT = "text"  # any other UTF-8 text: configs, YAML, .env files, docs
    # Datasets, scanned for personal data.
    CSV = "csv"  # also TSV and other delimited text
    JSONL = "jsonl"
    PARQUET = "parquet"
    EXCEL = "excel"  # .xlsx, a zip: scanned as an archive too
    UNKNOWN = "unknown"


#: Kinds that declare dependencies rather than hold a model.
DEPENDENCY_KINDS = frozenset(
    {
        Kind.REQUIREMENTS,
        Kind.PYPROJECT,
        Kind.POETRY_LOCK,
        Kind.UV_LOCK,
        Kind.PIPFILE_LOCK,
        Kind.PYLOCK,
        Kind.CONDA_ENV,
    }
)

#: Kinds that hold code, notebooks or configuration text rather than a model.
TEXT_KINDS = frozenset(
    {
        Kind.NOTEBOOK,
        Kind.PYTHON,
        Kind.SHELL,
        Kind.DOCKERFILE,
        Kind.COMPOSE,
        Kind.PROPERTIES,
        Kind.TEXT,
    }
)

#: Kinds that hold tabular or record data.
DATA_KINDS = frozenset({Kind.CSV, Kind.JSONL, Kind.PARQUET, Kind.EXCEL})

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

_COMPRESSED_MAGICS = (
    b"\x1f\x8b",  # gzip
    b"BZh",  # bzip2
    b"\xfd7zXZ\x00",  # xz
    b"\x04\x22\x4d\x18",  # lz4 frame
    b"\x28\xb5\x2f\xfd",  # zstd
    b"ZF0x",  # joblib before 0.10: "ZF", a hexadecimal length, then a zlib stream
)


def _empty_stack_opcodes() -> frozenset[int]:
    # Opcodes that can run on an empty stack: the only ones a pickle can start with. Opcodes
    # that need a mark, a memo entry or stack items (``d``, ``l``, ``h``, ``g``, ``R``...)
    # cannot come first, which keeps ordinary text from looking like a pickle.
    import pickletools

    return frozenset(
        op.code.encode("latin-1")[0] for op in pickletools.opcodes if not op.stack_before
    )


_PICKLE_START = _empty_stack_opcodes()


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
    if head.startswith(b"PAR1"):
        return Kind.PARQUET
    if _is_hdf5_with_userblock(head):
        return Kind.HDF5
    if _is_tar(head):
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
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".jsonlines")) or _is_json_lines(head):
        return Kind.JSONL
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[") and _is_json_start(stripped):
        return Kind.NOTEBOOK if _is_notebook(stripped, name) else Kind.JSON
    proto = _sniff_protobuf(head, name)
    if proto is not None:
        return proto
    return _sniff_text(head, name)


def _is_notebook(text: bytes, name: str) -> bool:
    # nbformat 4 writes "cells" first and "nbformat" last, so a long notebook shows only its
    # cells in the head; the name settles those.
    if name.lower().endswith(".ipynb"):
        return True
    return b'"nbformat"' in text and b'"cells"' in text


_PYTHON_SUFFIXES = (".py", ".pyw", ".pyi")
_DELIMITED_SUFFIXES = (".csv", ".tsv", ".psv", ".tab")
_SHELL_SUFFIXES = (".sh", ".bash", ".zsh")


def _sniff_text(head: bytes, name: str) -> Kind:
    """Code and configuration kinds of a text file; ``UNKNOWN`` for binary data.

    Text formats have no magic, so the name decides among them, but only for bytes that are
    text (UTF-8 with no NUL); a shebang line names the interpreter of a script.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if b"\x00" in head or not _is_utf8(head):
        # Delimited text exported in a legacy encoding (cp1252) is still a dataset.
        delimited = b"\x00" not in head and base.endswith(_DELIMITED_SUFFIXES)
        return Kind.CSV if delimited else Kind.UNKNOWN
    first = head.split(b"\n", 1)[0]
    if base.endswith(_PYTHON_SUFFIXES) or (first.startswith(b"#!") and b"python" in first):
        return Kind.PYTHON
    if base.endswith(_SHELL_SUFFIXES) or (
        first.startswith(b"#!") and first.rstrip().endswith((b"sh", b"bash", b"zsh"))
    ):
        return Kind.SHELL
    if base == "dockerfile" or base.startswith("dockerfile.") or base.endswith(".dockerfile"):
        return Kind.DOCKERFILE
    if base.endswith((".yml", ".yaml")) and ("compose" in base) and b"services:" in head:
        return Kind.COMPOSE
    if base.endswith(".properties"):
        return Kind.PROPERTIES
    if base.endswith(_DELIMITED_SUFFIXES):
        return Kind.CSV
    return Kind.TEXT


def _is_json_lines(head: bytes) -> bool:
    # Two or more lines that are each a JSON object: JSON Lines whatever the file is called.
    lines = [line for line in head.split(b"\n")[:-1] if line.strip()][:3]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(json.loads(line), dict) for line in lines)
    except (ValueError, RecursionError):
        return False


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A head may end inside a multi-byte character.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def looks_like_pickle(head: bytes) -> bool:
    """Whether these bytes start a pickle of any protocol.

    There is no reliable header: ``PROTO`` is optional, and loaders accept any version number
    in it, a leading ``FRAME`` or any opcode that works on an empty stack. So the first opcodes
    are decoded (decoding never runs anything) and must form a plausible stack program.
    """
    if not head or head[0] not in _PICKLE_START:
        return False
    if head[0] == 0x80 and len(head) >= 2 and 2 <= head[1] <= 5:
        return True  # what every pickler of protocol 2 and later writes
    return _plausible_v0(head)


def _plausible_v0(head: bytes) -> bool:
    """Decode the first opcodes and check that they form a valid stack program.

    Decoding runs nothing. A real pickle never pops from an empty stack, never closes a mark it
    did not open and names globals with identifiers; text that happens to start with an opcode
    letter fails one of these within a few bytes.
    """
    import io
    import pickletools

    with warnings.catch_warnings():
        # Decoding a protocol-0 STRING argument warns about odd escapes; that is data here.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _stack_discipline(pickletools.genops(io.BytesIO(head)))


def _stack_discipline(ops: Iterator[tuple[Any, Any, int | None]]) -> bool:
    import pickletools

    depth = 0
    marks: list[int] = []  # stack depth at each open mark
    count = 0
    try:
        for opcode, arg, _pos in ops:
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
            if opcode.name in ("PROTO", "FRAME"):
                count -= 1  # headers say nothing about plausibility
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
    # The legacy .lzma header has no magic: a properties byte (0x5D for the usual lc/lp/pb),
    # a little-endian dictionary size and the uncompressed size. Confirm by decoding a little.
    if len(head) < 13 or head[0] != 0x5D:
        return False
    import lzma

    try:
        lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(head, max_length=16)
    except lzma.LZMAError:
        return False
    return True


def _is_tar(head: bytes) -> bool:
    # POSIX tar has "ustar" at offset 257; old V7 archives have no magic, so the header
    # checksum (the byte sum with the checksum field read as spaces) decides.
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    field = head[148:156].replace(b"\x00", b" ").strip()
    if not field or not all(48 <= c <= 55 for c in field):
        return False
    stored = int(field, 8)
    computed = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    return stored == computed and head[0] != 0 and head[100:108].strip(b" \x00") != b""


def _is_hdf5_with_userblock(head: bytes) -> bool:
    # HDF5 allows a user block of 512, 1024, 2048... bytes before the superblock.
    offset = 512
    while offset + len(HDF5_MAGIC) <= len(head):
        if head[offset : offset + len(HDF5_MAGIC)] == HDF5_MAGIC:
            return True
        offset *= 2
    return False


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    # Any length below 2**56: a header that claims more than the file holds is a finding of
    # the safetensors scanner, not a reason to skip the file. The top byte must be zero, which
    # text never is: JSON such as '{"data":{"...' would otherwise pass for a header length.
    return (
        length >= 2
        and head[7] == 0
        and head[8:9] == b"{"
        and head[9:10] in (b'"', b"}", b" ", b"\n")
    )


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
        # A head cut off in the middle of a valid document fails only at its very end, or
        # inside a string that runs past it (a long chat template).
        if exc.msg.startswith("Unterminated string") and len(text) >= HEAD_BYTES - 64:
            return True
        return exc.pos >= len(text.decode("utf-8", "replace")) - 64 and exc.pos > 1


def _sniff_dependency_file(head: bytes, name: str) -> Kind | None:
    """Requirements files, pyproject.toml, lock files and conda environments.

    ``name`` may be a path: its parent directory counts (``requirements/base.txt``).
    """
    if not name:
        return None
    # Imported here: the detector is small, but sniff must stay importable on its own. It
    # lives outside the sources package, whose parsers need far more than detecting does.
    from mlwarden.scanners.deps.detect import detect_source

    return detect_source(name, head)


#: Top-level fields of an ONNX ``ModelProto`` and their wire types (0 varint, 2 length).
_ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
#: Top-level fields of a TensorFlow ``SavedModel``: schema version and meta graphs.
_SAVEDMODEL_FIELDS = {1: 0, 2: 2}


def _top_level_fields(head: bytes) -> list[tuple[int, int, int]] | None:
    """``(field, wire type, length or value)`` of the top-level protobuf fields in ``head``.

    Stops at the first field that runs past the head. ``None`` when the bytes are not a valid
    protobuf prefix (a bad wire type, field 0, an overlong varint).
    """

    def varint(pos: int) -> tuple[int, int] | None:
        value = shift = 0
        while pos < len(head) and shift < 64:
            byte = head[pos]
            value |= (byte & 0x7F) << shift
            pos += 1
            if not byte & 0x80:
                return value, pos
            shift += 7
        return None

    fields: list[tuple[int, int, int]] = []
    pos = 0
    while pos < len(head) and len(fields) < 32:
        tag = varint(pos)
        if tag is None:
            break
        key, pos = tag
        number, wire = key >> 3, key & 7
        if number == 0 or wire not in (0, 1, 2, 5):
            return None
        if wire == 0:
            value = varint(pos)
            if value is None:
                break
            fields.append((number, wire, value[0]))
            pos = value[1]
        elif wire == 2:
            length = varint(pos)
            if length is None:
                break
            fields.append((number, wire, length[0]))
            pos = length[1] + length[0]
        else:
            fields.append((number, wire, 0))
            pos += 8 if wire == 1 else 4
    return fields


def _sniff_protobuf(head: bytes, name: str) -> Kind | None:
    """ONNX and SavedModel files are protobuf messages with no magic number.

    The top-level fields in the head must all be fields of the message with their wire types,
    in any order (writers need not put ``ir_version`` first). A ``SavedModel`` has only a
    schema version (1) and meta graphs (2, large); an ONNX ``ModelProto`` has more fields, and
    its field 2 is a short producer name. The name (``.onnx``, ``.pb``) breaks remaining ties.
    """
    lower = name.lower()
    if len(head) < 4:
        return None
    fields = _top_level_fields(head)
    if not fields:
        return None
    numbers = {number for number, _wire, _value in fields}
    onnx = all(_ONNX_FIELDS.get(n) == w for n, w, _v in fields)
    savedmodel = all(_SAVEDMODEL_FIELDS.get(n) == w for n, w, _v in fields)
    if lower.endswith(".onnx") and onnx:
        return Kind.ONNX
    if lower.endswith(".pb") and savedmodel:
        return Kind.TF_SAVEDMODEL
    if savedmodel and 2 in numbers:
        meta_graph_len = max(v for n, _w, v in fields if n == 2)
        version = next((v for n, _w, v in fields if n == 1), 1)
        if version == 1 and meta_graph_len > 256:
            return Kind.TF_SAVEDMODEL
    if onnx and (numbers & {7, 8}) and len(fields) >= 2:
        return Kind.ONNX
    return None

"""NumPy ``.npy`` files: the header is read; object arrays have their pickle analysed.

Layout (NumPy format versions 1.0, 2.0 and 3.0): the magic ``\\x93NUMPY``, a major and a minor
version byte, the header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then
the header: a Python dict literal with ``descr``, ``fortran_order`` and ``shape`` (latin-1
text, UTF-8 in 3.0). For an object dtype the data is a pickle; otherwise it is raw array
bytes, which are never read. ``.npz`` files are zip archives whose members come back here.
"""

from __future__ import annotations

import ast
import struct
from collections.abc import Iterator

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, ScanContext, Scanner
from mlwarden.scanners.models.pickle.scanner import scan_pickle_stream
from mlwarden.sniff import Kind

MAGIC = b"\x93NUMPY"
#: Longest header accepted; NumPy itself refuses headers over 10,000 bytes by default.
MAX_HEADER_BYTES = 64 * 1024
_LENGTH_FORMAT = {1: "<H", 2: "<I", 3: "<I"}


def read_header(stream_head: bytes) -> tuple[dict[str, object], int]:
    """Parse a ``.npy`` header from the file's first bytes; return it and the data offset."""
    if not stream_head.startswith(MAGIC) or len(stream_head) < 10:
        raise FormatError("not a .npy file (bad magic)")
    major, minor = stream_head[6], stream_head[7]
    fmt = _LENGTH_FORMAT.get(major)
    if fmt is None or minor != 0:
        raise FormatError(f"unsupported .npy format version {major}.{minor}")
    size = struct.calcsize(fmt)
    (length,) = struct.unpack(fmt, stream_head[8 : 8 + size])
    start = 8 + size
    if length > MAX_HEADER_BYTES:
        raise FormatError(f".npy header of {length} bytes is longer than {MAX_HEADER_BYTES}")
    raw = stream_head[start : start + length]
    if len(raw) < length:
        raise FormatError(".npy header truncated")
    try:
        text = raw.decode("utf-8" if major >= 3 else "latin-1")
        # literal_eval accepts literals only: it cannot call, import or look anything up.
        header = ast.literal_eval(text)
    except (UnicodeDecodeError, ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise FormatError(f".npy header is not a dict literal: {type(exc).__name__}") from exc
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= header.keys():
        raise FormatError(".npy header lacks descr, fortran_order or shape")
    return header, start + length


def descr_has_object(descr: object) -> bool:
    """Whether a dtype description (a type string or a structured field list) holds objects."""
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(descr_has_object(part) for part in descr)
    return False


@register
class NumpyScanner(Scanner):
    """``.npy`` arrays (and npz members): object dtypes mean a pickle, which is analysed."""

    name = "numpy"
    kinds = frozenset({Kind.NUMPY})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            header, data_start = read_header(stream.read(12 + MAX_HEADER_BYTES))
        descr = header["descr"]
        if not descr_has_object(descr):
            return  # raw numbers: nothing runs on load, and the data is never read
        fmt = artifact.container or "numpy"
        yield Scanner.finding(
            artifact,
            "MW104",
            f"array of dtype {descr!r} and shape {header['shape']!r} holds pickled Python "
            "objects; loading it needs allow_pickle=True",
            evidence={
                "format": fmt,
                "globals": [],
                "descr": str(descr),
                "shape": str(header["shape"]),
                "offset": data_start,
            },
            key="object-array",
        )
        with artifact.open() as stream:
            if stream.seekable():
                stream.seek(data_start)
            elif len(stream.read(data_start)) < data_start:
                raise FormatError(".npy data truncated")
            yield from scan_pickle_stream(artifact, context, stream, start=data_start, fmt=fmt)

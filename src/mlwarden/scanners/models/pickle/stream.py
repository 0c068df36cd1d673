"""A streaming pickle opcode reader that never holds a large argument in memory.

The opcode table comes from :mod:`pickletools` (facts about the format); decoding is ours,
because ``pickletools.genops`` reads every argument whole, and a tensor blob in a
``BINBYTES8`` can be gigabytes. Arguments longer than :data:`BLOB_THRESHOLD` are skipped
(seeking, or reading in fixed-size chunks) and stand for themselves as a :class:`Blob`.
"""

from __future__ import annotations

import ast
import pickletools
import struct
from dataclasses import dataclass
from typing import IO, NamedTuple

from mlwarden.scanners.interface import FormatError

#: Arguments longer than this are skipped rather than read.
BLOB_THRESHOLD = 64 * 1024
#: Longest line a text (protocol 0) argument may have.
MAX_LINE = 64 * 1024
#: How much is read from the underlying stream at a time.
CHUNK = 1024 * 1024

_OPCODES: dict[int, pickletools.OpcodeInfo] = {
    ord(op.code.encode("latin-1")): op for op in pickletools.opcodes
}


@dataclass(frozen=True, slots=True)
class Blob:
    """A long argument that was skipped: where it was and how long it is."""

    offset: int
    length: int
    kind: str  # "bytes", "str" or "int"


class Op(NamedTuple):
    """One decoded opcode: its name, argument (``None`` if it has none) and offset."""

    name: str
    arg: object
    offset: int


class ByteSource:
    """Buffered reading of a binary stream with an exact position, skipping and peeking."""

    def __init__(self, stream: IO[bytes], start: int = 0) -> None:
        self._stream = stream
        self._buffer = b""
        self._index = 0
        self._position = start  # offset of _buffer[_index] in the artifact
        try:
            self._seekable = bool(stream.seekable())
        except (AttributeError, OSError):
            self._seekable = False

    @property
    def position(self) -> int:
        """Offset of the next unread byte."""
        return self._position

    def _fill(self, wanted: int) -> None:
        while len(self._buffer) - self._index < wanted:
            chunk = self._stream.read(max(CHUNK, wanted))
            if not chunk:
                return
            self._buffer = self._buffer[self._index :] + chunk
            self._index = 0

    def peek(self, count: int) -> bytes:
        """Up to ``count`` next bytes, without consuming them."""
        self._fill(count)
        return self._buffer[self._index : self._index + count]

    def read(self, count: int) -> bytes:
        """Exactly ``count`` bytes; :class:`FormatError` if the stream ends first."""
        if len(self._buffer) - self._index < count:
            self._fill(count)
        data = self._buffer[self._index : self._index + count]
        if len(data) < count:
            raise FormatError(f"pickle truncated at offset {self._position + len(data)}")
        self._index += count
        self._position += count
        return data

    def read_line(self) -> bytes:
        """A line without its newline (protocol 0 arguments), bounded by :data:`MAX_LINE`."""
        while True:
            end = self._buffer.find(b"\n", self._index)
            if end >= 0:
                break
            if len(self._buffer) - self._index > MAX_LINE:
                raise FormatError(f"text argument longer than {MAX_LINE} bytes")
            before = len(self._buffer) - self._index
            self._fill(before + 1)
            if len(self._buffer) - self._index == before:
                raise FormatError(f"pickle truncated at offset {self._position + before}")
        line = self._buffer[self._index : end]
        self._position += end + 1 - self._index
        self._index = end + 1
        return line

    def skip(self, count: int) -> None:
        """Move past ``count`` bytes without keeping them; truncation is a FormatError."""
        buffered = len(self._buffer) - self._index
        if count <= buffered:
            self._index += count
            self._position += count
            return
        remaining = count - buffered
        self._position += buffered
        self._buffer, self._index = b"", 0
        if self._seekable:
            here = self._stream.tell()
            end = self._stream.seek(0, 2)
            if end - here < remaining:
                raise FormatError(f"pickle truncated at offset {self._position + end - here}")
            self._stream.seek(here + remaining)
            self._position += remaining
            return
        while remaining:
            chunk = self._stream.read(min(CHUNK, remaining))
            if not chunk:
                raise FormatError(f"pickle truncated at offset {self._position}")
            remaining -= len(chunk)
            self._position += len(chunk)

    def window(self, wanted: int) -> tuple[bytes, int, int]:
        """The buffer, filled to ``wanted`` unread bytes where the stream has them.

        Returns ``(buffer, index, base)``: the index of the next unread byte in the buffer
        and the artifact offset of the buffer's first byte. Bytes read from the buffer
        directly are consumed with :meth:`consume_to`.
        """
        if len(self._buffer) - self._index < wanted:
            self._fill(wanted)
        return self._buffer, self._index, self._position - self._index

    def consume_to(self, index: int) -> None:
        """Mark the buffer of the last :meth:`window` as read up to ``index``."""
        self._position += index - self._index
        self._index = index

    def at_end(self) -> bool:
        """Whether no byte is left."""
        return not self.peek(1)


def _uint(source: ByteSource, size: int) -> int:
    return int.from_bytes(source.read(size), "little", signed=False)


def _sized(source: ByteSource, length: int, kind: str) -> object:
    """A length-prefixed argument: read if short, skipped as a :class:`Blob` if long."""
    offset = source.position
    if length > BLOB_THRESHOLD:
        source.skip(length)
        return Blob(offset, length, "str" if kind == "latin1" else kind)
    data = source.read(length)
    if kind == "str":
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise FormatError(f"invalid UTF-8 string at offset {offset}") from exc
    if kind == "int":
        return int.from_bytes(data, "little", signed=True)
    if kind == "latin1":
        return data.decode("latin-1")
    return data


def _text_int(line: bytes, offset: int) -> object:
    text = line.strip().rstrip(b"L")
    if line in (b"00", b"01"):
        return line == b"01"
    try:
        return int(text)
    except ValueError as exc:
        raise FormatError(f"invalid integer argument at offset {offset}") from exc


def _quoted(line: bytes, offset: int) -> str:
    # A protocol 0 STRING is a Python bytes literal; literal_eval accepts literals only.
    if len(line) < 2 or line[:1] not in (b"'", b'"') or line[-1:] != line[:1]:
        raise FormatError(f"invalid quoted string at offset {offset}")
    try:
        value = ast.literal_eval("b" + line.decode("latin-1"))
    except (ValueError, SyntaxError) as exc:
        raise FormatError(f"invalid quoted string at offset {offset}") from exc
    if not isinstance(value, bytes):
        raise FormatError(f"invalid quoted string at offset {offset}")
    return value.decode("latin-1")


def _decode(source: ByteSource, kind: str, offset: int) -> object:
    if kind == "uint1":
        return _uint(source, 1)
    if kind == "uint2":
        return _uint(source, 2)
    if kind == "uint4":
        return _uint(source, 4)
    if kind == "uint8":
        return _uint(source, 8)
    if kind == "int4":
        return int.from_bytes(source.read(4), "little", signed=True)
    if kind == "float8":
        return float(struct.unpack(">d", source.read(8))[0])
    if kind == "long1":
        return _sized(source, _uint(source, 1), "int")
    if kind == "long4":
        length = int.from_bytes(source.read(4), "little", signed=True)
        if length < 0:
            raise FormatError(f"negative LONG4 length at offset {offset}")
        return _sized(source, length, "int")
    if kind in ("string1", "bytes1", "unicodestring1"):
        return _sized(source, _uint(source, 1), _kind_of(kind))
    if kind in ("string4", "unicodestring4"):
        return _sized(source, _uint(source, 4), _kind_of(kind))
    if kind == "bytes4":
        return _sized(source, _uint(source, 4), "bytes")
    if kind in ("bytes8", "bytearray8", "unicodestring8"):
        return _sized(source, _uint(source, 8), _kind_of(kind))
    line = source.read_line()
    if kind == "decimalnl_short":
        return _text_int(line, offset)
    if kind == "decimalnl_long":
        return _text_int(line, offset)
    if kind == "floatnl":
        try:
            return float(line)
        except ValueError as exc:
            raise FormatError(f"invalid float argument at offset {offset}") from exc
    if kind == "stringnl":
        return _quoted(line, offset)
    if kind == "stringnl_noescape":
        return line.decode("latin-1")
    if kind == "stringnl_noescape_pair":
        second = source.read_line()
        return (line.decode("utf-8", "replace"), second.decode("utf-8", "replace"))
    if kind == "unicodestringnl":
        return line.decode("raw-unicode-escape")
    raise FormatError(f"unsupported argument kind {kind}")  # pragma: no cover


def _kind_of(arg_kind: str) -> str:
    if arg_kind.startswith("unicode"):
        return "str"
    # Protocol 1 BINSTRING is decoded as text by Python 3 loaders (encoding="ASCII").
    if arg_kind.startswith("string"):
        return "latin1"
    return "bytes"


def read_op(source: ByteSource) -> Op:
    """Decode the next opcode and its argument; :class:`FormatError` if it is not one."""
    offset = source.position
    code = source.read(1)[0]
    info = _OPCODES.get(code)
    if info is None:
        raise FormatError(f"invalid pickle opcode 0x{code:02x} at offset {offset}")
    arg: object = None
    if info.arg is not None:
        arg = _decode(source, info.arg.name, offset)
    return Op(info.name, arg, offset)

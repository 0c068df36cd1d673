"""Pickle programs written opcode by opcode.

The benchmark corpus needs pickles that no ordinary ``pickle.dumps`` call produces
(STACK_GLOBAL fed from the memo, INST/OBJ, calls on the result of a call, payloads
after a multi-gigabyte blob). Writing the bytes directly means no payload is ever run
while the corpus is built: this module only concatenates bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import BinaryIO

PROTO = b"\x80"
STOP = b"."
MARK = b"("
POP = b"0"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
SETITEM = b"s"
APPEND = b"a"
REDUCE = b"R"
BUILD = b"b"
OBJ = b"o"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
NONE = b"N"
NEWTRUE = b"\x88"


def proto(version: int = 4) -> bytes:
    """PROTO opcode announcing the protocol version."""
    return PROTO + bytes([version])


def text(value: str) -> bytes:
    """A str pushed with SHORT_BINUNICODE or BINUNICODE, whichever fits."""
    raw = value.encode("utf-8")
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def data(value: bytes) -> bytes:
    """A bytes object pushed with SHORT_BINBYTES or BINBYTES."""
    if len(value) < 256:
        return b"C" + bytes([len(value)]) + value
    return b"B" + struct.pack("<I", len(value)) + value


def integer(value: int) -> bytes:
    """A small non-negative int (BININT1/BININT)."""
    if 0 <= value < 256:
        return b"K" + bytes([value])
    return b"J" + struct.pack("<i", value)


def global_op(module: str, name: str) -> bytes:
    """GLOBAL: the text-line form every protocol understands."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module: str, name: str) -> bytes:
    """STACK_GLOBAL with module and name pushed as strings right before it."""
    return text(module) + text(name) + STACK_GLOBAL


def binget(index: int) -> bytes:
    """Push a memo entry (BINGET / LONG_BINGET)."""
    if index < 256:
        return b"h" + bytes([index])
    return b"j" + struct.pack("<I", index)


def args(*items: bytes) -> bytes:
    """A tuple of already-encoded items."""
    return MARK + b"".join(items) + TUPLE


def call(callable_op: bytes, *arg_items: bytes) -> bytes:
    """callable(*args) through REDUCE."""
    return callable_op + args(*arg_items) + REDUCE


def program(body: bytes, version: int = 4) -> bytes:
    """A complete pickle: PROTO, the body (which leaves one value) and STOP."""
    return proto(version) + body + STOP


def call_global(module: str, name: str, *arg_items: bytes, version: int = 4) -> bytes:
    """The classic payload: ``module.name(*args)`` as the whole pickle."""
    return program(call(global_op(module, name), *arg_items), version)


def attribute_of(obj_op: bytes, attribute: str) -> bytes:
    """``getattr(obj, attribute)`` through builtins.getattr."""
    return call(global_op("builtins", "getattr"), obj_op, text(attribute))


def dict_with(items: Iterable[tuple[str, bytes]]) -> bytes:
    """A dict built with EMPTY_DICT and one SETITEM per pair."""
    out = EMPTY_DICT
    for key, value in items:
        out += text(key) + value + SETITEM
    return out


def write_blob_then(
    out: BinaryIO, blob_size: int, tail: bytes, chunk: int = 64 << 20, version: int = 4
) -> None:
    """Write ``{"weights": <blob_size bytes>, "config": <tail>}`` as one pickle.

    The blob goes out with BINBYTES8 in chunks so memory stays flat; ``tail`` is
    evaluated by ``pickle.load`` after the blob, which is exactly what a scanner that
    stops reading early would miss.
    """
    out.write(proto(version) + EMPTY_DICT + text("weights"))
    out.write(b"\x8e" + struct.pack("<Q", blob_size))
    zeros = bytes(chunk)
    left = blob_size
    while left:
        step = min(chunk, left)
        out.write(zeros if step == chunk else bytes(step))
        left -= step
    out.write(SETITEM + text("config") + tail + SETITEM + STOP)

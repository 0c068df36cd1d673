"""Hand assembly of pickle opcodes for tests: exact bytes, no pickler involved."""

from __future__ import annotations

import struct

PROTO4 = b"\x80\x04"
PROTO2 = b"\x80\x02"
STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
REDUCE = b"R"
BUILD = b"b"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
EMPTY_DICT = b"}"
POP = b"0"


def ustr(text: str) -> bytes:
    """SHORT_BINUNICODE or BINUNICODE for ``text``."""
    data = text.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def glob(module: str, name: str) -> bytes:
    """GLOBAL ``module name`` (protocol 0 text form)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_glob(module: str, name: str) -> bytes:
    """STACK_GLOBAL from two pushed strings."""
    return ustr(module) + ustr(name) + STACK_GLOBAL


def binput(index: int) -> bytes:
    return b"q" + bytes([index])


def binget(index: int) -> bytes:
    return b"h" + bytes([index])


def call(func: bytes, *args: str) -> bytes:
    """``func(*args)`` with string arguments, as MARK ... TUPLE REDUCE."""
    return func + MARK + b"".join(ustr(a) for a in args) + TUPLE + REDUCE


def program(body: bytes, proto: bytes = PROTO4) -> bytes:
    """A complete pickle: protocol header, body, STOP."""
    return proto + body + STOP

"""Hypothesis strategies that damage real artifacts the way corrupt or hostile files do.

Byte-level mutations (flips, truncation, insertions, deletions, duplicated chunks, length
fields set to extreme values) work on any seed; structure-aware ones rebuild a zip around a
damaged member or generate pickle programs opcode by opcode, so that mutations reach the
parsers behind a container's checksums.
"""

from __future__ import annotations

import io
import struct
import zipfile

from fuzz_seeds import LengthField, Seed, encode_length
from hypothesis import strategies as st

#: Values that break length arithmetic: zero, one past small, sign boundaries, all ones.
EXTREME_LENGTHS = (
    0,
    1,
    0x7F,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x1_0000_0000,
    0x7FFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
)

#: Any JSON document, small enough to scan quickly.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


def _position(size: int) -> st.SearchStrategy[int]:
    # Headers hold most of what parsers trust, so the first bytes are drawn more often.
    if size <= 1:
        return st.just(0)
    return st.one_of(st.integers(0, min(size - 1, 64)), st.integers(0, size - 1))


@st.composite
def _one_mutation(draw: st.DrawFn, data: bytes, fields: tuple[LengthField, ...]) -> bytes:
    size = len(data)
    choices = ["flip", "truncate", "insert", "delete", "duplicate", "overwrite_int"]
    if fields:
        choices += ["length", "length"]
    kind = draw(st.sampled_from(choices))
    if size == 0:
        return draw(st.binary(max_size=16))
    at = draw(_position(size))
    if kind == "flip":
        mask = draw(st.integers(1, 255))
        return data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 64)) :]
    if kind == "duplicate":
        chunk = data[at : at + draw(st.integers(1, 256))]
        where = draw(_position(size))
        return data[:where] + chunk * draw(st.integers(1, 8)) + data[where:]
    value = draw(st.one_of(st.sampled_from(EXTREME_LENGTHS), st.integers(0, 2**64 - 1)))
    if kind == "length":
        target = draw(st.sampled_from(fields))
        raw = encode_length(value, target)
        return data[: target.offset] + raw + data[target.offset + len(raw) :]
    width = draw(st.sampled_from([2, 4, 8]))
    raw = (value % 256**width).to_bytes(width, draw(st.sampled_from(["little", "big"])))
    return data[:at] + raw + data[at + width :]


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes, fields: tuple[LengthField, ...] = ()) -> bytes:
    """``data`` with one to four mutations applied in turn."""
    for _ in range(draw(st.integers(1, 4))):
        data = draw(_one_mutation(data, fields))
    return data


def mutated_seed(seeds: tuple[Seed, ...]) -> st.SearchStrategy[tuple[Seed, bytes]]:
    """A seed and a mutated copy of it."""
    return st.sampled_from(seeds).flatmap(
        lambda seed: st.tuples(st.just(seed), mutated_bytes(seed.data, seed.fields))
    )


def _zip_members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


@st.composite
def zip_with_mutated_member(
    draw: st.DrawFn, data: bytes, member_suffixes: tuple[str, ...] = ()
) -> bytes:
    """The zip rebuilt with one member damaged; checksums match, so readers reach the member.

    ``member_suffixes`` picks which members may be damaged (all when empty).
    """
    members = _zip_members(data)
    candidates = [
        i
        for i, (info, _) in enumerate(members)
        if not member_suffixes or info.filename.endswith(member_suffixes)
    ]
    target = draw(st.sampled_from(candidates))
    damaged = draw(mutated_bytes(members[target][1]))
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for i, (info, payload) in enumerate(members):
            archive.writestr(info.filename, damaged if i == target else payload)
    return buffer.getvalue()


# --- pickle programs ---------------------------------------------------------------------------

_MODULES = [
    "builtins",
    "os",
    "posix",
    "subprocess",
    "collections",
    "torch._utils",
    "numpy",
    "numpy.core.multiarray",
    "_codecs",
    "__main__",
    "",
    "a.b.c",
    "torch",
]
_NAMES = [
    "eval",
    "exec",
    "system",
    "getattr",
    "OrderedDict",
    "_rebuild_tensor_v2",
    "dtype",
    "_reconstruct",
    "encode",
    "Popen",
    "",
    "__import__",
    "apply",
]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_MODULES + _NAMES), st.text(max_size=12))


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


@st.composite
def _opcode(draw: st.DrawFn) -> bytes:
    """One pickle opcode with an argument of the right shape (or, sometimes, a wrong one)."""
    name = draw(
        st.sampled_from(
            [
                "MARK",
                "STOP",
                "POP",
                "POP_MARK",
                "DUP",
                "NONE",
                "NEWTRUE",
                "NEWFALSE",
                "BININT",
                "BININT1",
                "BININT2",
                "LONG1",
                "BINFLOAT",
                "SHORT_BINUNICODE",
                "BINUNICODE",
                "SHORT_BINBYTES",
                "EMPTY_LIST",
                "APPEND",
                "APPENDS",
                "LIST",
                "EMPTY_TUPLE",
                "TUPLE",
                "TUPLE1",
                "TUPLE2",
                "TUPLE3",
                "EMPTY_DICT",
                "DICT",
                "SETITEM",
                "SETITEMS",
                "EMPTY_SET",
                "ADDITEMS",
                "FROZENSET",
                "GLOBAL",
                "STACK_GLOBAL",
                "REDUCE",
                "BUILD",
                "INST",
                "OBJ",
                "NEWOBJ",
                "NEWOBJ_EX",
                "BINPUT",
                "LONG_BINPUT",
                "BINGET",
                "LONG_BINGET",
                "MEMOIZE",
                "PERSID",
                "BINPERSID",
                "EXT1",
                "FRAME",
                "PROTO",
                "INT",
                "STRING",
                "UNICODE",
            ]
        )
    )
    codes = {
        "MARK": b"(",
        "STOP": b".",
        "POP": b"0",
        "POP_MARK": b"1",
        "DUP": b"2",
        "NONE": b"N",
        "NEWTRUE": b"\x88",
        "NEWFALSE": b"\x89",
        "EMPTY_LIST": b"]",
        "APPEND": b"a",
        "APPENDS": b"e",
        "LIST": b"l",
        "EMPTY_TUPLE": b")",
        "TUPLE": b"t",
        "TUPLE1": b"\x85",
        "TUPLE2": b"\x86",
        "TUPLE3": b"\x87",
        "EMPTY_DICT": b"}",
        "DICT": b"d",
        "SETITEM": b"s",
        "SETITEMS": b"u",
        "EMPTY_SET": b"\x8f",
        "ADDITEMS": b"\x90",
        "FROZENSET": b"\x91",
        "STACK_GLOBAL": b"\x93",
        "REDUCE": b"R",
        "BUILD": b"b",
        "OBJ": b"o",
        "NEWOBJ": b"\x81",
        "NEWOBJ_EX": b"\x92",
        "MEMOIZE": b"\x94",
        "BINPERSID": b"Q",
    }
    if name in codes:
        return codes[name]
    small = draw(st.integers(0, 255))
    if name == "BININT":
        return b"J" + struct.pack("<i", draw(st.integers(-(2**31), 2**31 - 1)))
    if name == "BININT1":
        return b"K" + bytes([small])
    if name == "BININT2":
        return b"M" + struct.pack("<H", draw(st.integers(0, 65535)))
    if name == "LONG1":
        raw = draw(st.binary(max_size=12))
        return b"\x8a" + bytes([len(raw)]) + raw
    if name == "BINFLOAT":
        return b"G" + struct.pack(">d", draw(st.floats(allow_nan=True)))
    if name in ("SHORT_BINUNICODE", "BINUNICODE", "SHORT_BINBYTES"):
        raw = draw(_text()).encode()
        if name == "BINUNICODE":
            return b"X" + _u32(len(raw)) + raw
        return (b"\x8c" if name == "SHORT_BINUNICODE" else b"C") + bytes([len(raw)]) + raw
    if name in ("GLOBAL", "INST"):
        op = b"c" if name == "GLOBAL" else b"i"
        return op + draw(_text()).encode() + b"\n" + draw(_text()).encode() + b"\n"
    if name in ("BINPUT", "BINGET"):
        return (b"q" if name == "BINPUT" else b"h") + bytes([small % 8])
    if name in ("LONG_BINPUT", "LONG_BINGET"):
        index = draw(st.sampled_from([0, 1, 2, 2**31, 2**32 - 1]))
        return (b"r" if name == "LONG_BINPUT" else b"j") + _u32(index)
    if name == "PERSID":
        return b"P" + draw(_text()).encode() + b"\n"
    if name == "EXT1":
        return b"\x82" + bytes([small])
    if name == "FRAME":
        return b"\x95" + struct.pack("<Q", draw(st.sampled_from([0, 9, 2**20, 2**63 - 1])))
    if name == "PROTO":
        return b"\x80" + bytes([draw(st.integers(0, 6))])
    if name == "INT":
        return b"I" + draw(st.sampled_from([b"01", b"00", b"-5", b"9" * 30, b"x"])) + b"\n"
    if name == "STRING":
        return b"S" + draw(st.sampled_from([b"'os'", b'"a"', b"'unterminated", b""])) + b"\n"
    return b"V" + draw(_text()).encode("raw_unicode_escape") + b"\n"


@st.composite
def pickle_programs(draw: st.DrawFn) -> bytes:
    """A sequence of pickle opcodes: usually with a protocol header and a final STOP."""
    body = b"".join(draw(st.lists(_opcode(), min_size=1, max_size=60)))
    header = draw(st.sampled_from([b"\x80\x02", b"\x80\x04", b"\x80\x05", b"(", b""]))
    tail = draw(st.sampled_from([b".", b".", b"", b".\x80\x02N."]))
    return header + body + tail


# --- chat templates ----------------------------------------------------------------------------

_TEMPLATE_TOKENS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{%-",
    "-%}",
    "{{-",
    "-}}",
    " ",
    "\n",
    "for",
    "in",
    "endfor",
    "if",
    "elif",
    "else",
    "endif",
    "set",
    "macro",
    "endmacro",
    "call",
    "endcall",
    "include",
    "import",
    "from",
    "extends",
    "block",
    "endblock",
    "raw",
    "endraw",
    "filter",
    "endfilter",
    "with",
    "endwith",
    "messages",
    "message",
    "m",
    "['content']",
    "['role']",
    ".",
    "__class__",
    "__mro__",
    "__subclasses__",
    "__init__",
    "__globals__",
    "__builtins__",
    "cycler",
    "joiner",
    "namespace",
    "lipsum",
    "range",
    "os",
    "popen",
    "system",
    "read",
    "(",
    ")",
    "[",
    "]",
    "|",
    "attr",
    "safe",
    "format",
    "join",
    "'x'",
    '"y"',
    "'",
    '"',
    "~",
    "+",
    "*",
    "**",
    "1",
    "0",
    "-",
    "%",
    "=",
    "==",
    ",",
    ":",
    "loop",
    "self",
    "caller",
    "true",
    "none",
    "add_generation_prompt",
    "bos_token",
    "raise_exception",
    "'\\x5f\\x5f'",
]


@st.composite
def chat_templates(draw: st.DrawFn) -> str:
    """Jinja-like text: template syntax, attribute chains and names in random order."""
    parts = draw(
        st.lists(st.one_of(st.sampled_from(_TEMPLATE_TOKENS), st.text(max_size=6)), max_size=80)
    )
    return "".join(parts)

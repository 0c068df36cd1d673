"""GGUF (llama.cpp) models: a bounded header parser and chat-template analysis.

Layout (versions 1-3): ``GGUF``, version (u32), tensor count and metadata count (u32 in v1,
u64 after), typed key/value metadata, tensor infos (name, dims, ggml type, offset), padding to
``general.alignment``, tensor data. Every count and length is checked against what is left of
the file before anything is allocated; tensor data is never read. The chat template stored in
``tokenizer.chat_template`` is parsed, never rendered (see :mod:`.chat_template`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.sniff import Kind

#: ggml tensor types: (elements per block, bytes per block), from ggml's type traits.
GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
}

# Metadata value types: struct format of the fixed-size ones.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_SCALARS |= {10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_MAX_ARRAY_DEPTH = 8  # nested arrays: real files have none
_MAX_DIMS = 4  # GGML_MAX_DIMS: llama.cpp refuses more
_KEPT_CHARS = 256  # strings kept for evidence (chat templates are kept whole)
_CHUNK = 1 << 20
_TEMPLATE_KEY = "tokenizer.chat_template"


@dataclass(slots=True)
class GgufTensor:
    """One tensor info: where its data is and how big it is."""

    name: str
    dims: list[int]
    ggml_type: int
    offset: int

    @property
    def nbytes(self) -> int | None:
        """Bytes of data, or ``None`` for a ggml type this table does not know."""
        block = GGML_BLOCKS.get(self.ggml_type)
        if block is None:
            return None
        elements = 1
        for d in self.dims:
            elements *= d
        return elements // block[0] * block[1]


@dataclass(slots=True)
class GgufHeader:
    """The parsed header: version, metadata (arrays as their length), tensors."""

    version: int
    metadata: dict[str, object] = field(default_factory=dict)
    tensors: list[GgufTensor] = field(default_factory=list)
    data_start: int = 0


class _Cursor:
    """Reads a stream forward through a buffer; skipping past the buffer seeks."""

    def __init__(self, stream: IO[bytes], size: int, budget: int, context: ScanContext):
        self.stream, self.size, self.budget, self.context = stream, size, budget, context
        self.pos = 0
        self.buf = b""
        self.buf_start = 0
        self.count = 0

    def take(self, n: int) -> bytes:
        if n > self.size - self.pos:
            raise FormatError(f"truncated: {n} bytes wanted at offset {self.pos}")
        if self.pos + n > self.budget:
            raise LimitExceeded(
                "max_metadata_bytes", f"GGUF header is larger than {self.budget} bytes"
            )
        start = self.pos - self.buf_start
        if start < 0 or start + n > len(self.buf):
            self.stream.seek(self.pos)
            self.buf = self.stream.read(max(n, _CHUNK))
            self.buf_start = self.pos
            start = 0
            if len(self.buf) < n:
                raise FormatError(f"truncated: {n} bytes wanted at offset {self.pos}")
        self.pos += n
        self.count += 1
        if self.count % 65536 == 0:
            self.context.check_time()
        return self.buf[start : start + n]

    def skip(self, n: int) -> None:
        if n > self.size - self.pos:
            raise FormatError(f"truncated: {n} bytes to skip at offset {self.pos}")
        self.pos += n

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def uint(self, wide: bool) -> int:
        return int(self.unpack("<Q" if wide else "<I"))

    def string(self, wide: bool, keep: int | None) -> str:
        length = self.uint(wide)
        if keep is not None and length > keep:
            text = self.take(keep).decode("utf-8", "replace")
            self.skip(length - keep)
            return text
        return self.take(length).decode("utf-8", "replace")


def read_header(stream: IO[bytes], size: int, context: ScanContext) -> GgufHeader:
    """Parse and check a GGUF header. Malformed or truncated input is :class:`FormatError`."""
    cur = _Cursor(stream, size, context.limits.max_metadata_bytes, context)
    if cur.take(4) != b"GGUF":
        raise FormatError("not a GGUF file (bad magic)")
    version = cur.uint(False)
    if version not in (1, 2, 3):
        raise FormatError(f"unsupported GGUF version {version}")
    wide = version >= 2
    n_tensors, n_kv = cur.uint(wide), cur.uint(wide)
    # Each entry takes at least 12 bytes: counts past that cannot be real.
    if n_tensors > size // 12 or n_kv > size // 12:
        raise FormatError(f"GGUF counts ({n_tensors} tensors, {n_kv} keys) exceed the file size")
    header = GgufHeader(version)
    for _ in range(n_kv):
        key = cur.string(wide, None)
        value_type = cur.uint(False)
        keep = None if key.startswith(_TEMPLATE_KEY) else _KEPT_CHARS
        if key in header.metadata:
            # Readers differ on which copy wins (a clean template first, a malicious one second).
            raise FormatError(f"duplicate GGUF metadata key {key!r}")
        header.metadata[key] = _read_value(cur, value_type, wide, keep)
    names: set[str] = set()
    for _ in range(n_tensors):
        name = cur.string(wide, None)
        n_dims = cur.uint(False)
        if n_dims > _MAX_DIMS:
            raise FormatError(f"tensor {name!r} has {n_dims} dimensions (at most {_MAX_DIMS})")
        dims = [cur.uint(wide) for _ in range(n_dims)]
        ggml_type = cur.uint(False)
        if name in names:
            raise FormatError(f"duplicate GGUF tensor name {name!r}")
        names.add(name)
        header.tensors.append(GgufTensor(name, dims, ggml_type, cur.uint(True)))
    alignment = header.metadata.get("general.alignment", 32)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise FormatError(f"general.alignment {alignment!r} is not a power of two")
    header.data_start = -(-cur.pos // alignment) * alignment
    _check_tensors(header, size, alignment)
    return header


def _read_value(
    cur: _Cursor, value_type: int, wide: bool, keep: int | None, depth: int = 0
) -> object:
    if value_type in _SCALARS:
        return cur.unpack(_SCALARS[value_type])
    if value_type == _STRING:
        return cur.string(wide, keep)
    if value_type == _ARRAY:
        item_type = cur.uint(False)
        count = cur.uint(wide)
        if item_type in _SCALARS:
            cur.skip(count * struct.calcsize(_SCALARS[item_type]))
        elif item_type == _STRING:
            if count > (cur.size - cur.pos) // (8 if wide else 4):
                raise FormatError(f"GGUF string array of {count} items exceeds the file size")
            for _ in range(count):
                cur.skip(cur.uint(wide))
        elif item_type == _ARRAY:
            # Nested arrays are allowed by the format; each is read (and bounded) the same way.
            if count > (cur.size - cur.pos) // 12:
                raise FormatError(f"GGUF array of {count} arrays exceeds the file size")
            if depth >= _MAX_ARRAY_DEPTH:
                raise FormatError(f"GGUF arrays nested deeper than {_MAX_ARRAY_DEPTH}")
            for _ in range(count):
                _read_value(cur, _ARRAY, wide, _KEPT_CHARS, depth + 1)
        else:
            raise FormatError(f"GGUF array of unknown value type {item_type}")
        return [count]
    raise FormatError(f"GGUF metadata value of unknown type {value_type}")


def _check_tensors(header: GgufHeader, size: int, alignment: int) -> None:
    for tensor in header.tensors:
        if tensor.offset % alignment:
            raise FormatError(f"tensor {tensor.name!r} is not aligned to {alignment} bytes")
        start = header.data_start + tensor.offset
        nbytes = tensor.nbytes or 0
        block = GGML_BLOCKS.get(tensor.ggml_type)
        if block is not None and tensor.dims and tensor.dims[0] % block[0]:
            raise FormatError(
                f"tensor {tensor.name!r}: {tensor.dims[0]} elements per row is not a multiple "
                f"of the block size {block[0]}"
            )
        if start + nbytes > size or start > size:
            raise FormatError(
                f"tensor {tensor.name!r} ends at {start + nbytes}, past the end of the file "
                f"({size} bytes): truncated"
            )


@register
class GgufScanner(Scanner):
    """Checks GGUF headers against the file and analyses chat templates without rendering."""

    name = "gguf"
    kinds = frozenset({Kind.GGUF})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            header = read_header(stream, artifact.size, context)
        for key, value in header.metadata.items():
            if key.startswith(_TEMPLATE_KEY) and isinstance(value, str):
                context.check_time()
                yield from self._template_findings(artifact, key, value)

    def _template_findings(self, artifact: Artifact, key: str, source: str) -> Iterator[Finding]:
        # jinja2's parser is imported only for files that carry a template.
        from mlwarden.scanners.models.chat_template import template_findings

        yield from template_findings(artifact, key, source, "gguf")


__all__ = ["GGML_BLOCKS", "GgufHeader", "GgufScanner", "GgufTensor", "read_header"]

"""safetensors: the header must describe the data exactly; tensor bytes are never read.

Layout: an 8-byte little-endian header length, a JSON header (tensor name -> dtype, shape,
data_offsets; optional ``__metadata__`` of strings), then the data region. Real writers produce
tensors laid end to end from offset 0, with no gap, overlap or trailing bytes.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator
from typing import Any

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.sniff import Kind

#: Bits per element of every dtype the format defines.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}

#: At most this many problems are listed in one finding's evidence.
_MAX_PROBLEMS = 20


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of duplicate keys, the Rust reader rejects them: a differential.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def check_header(header: dict[str, Any], data_size: int) -> list[str]:
    """Every way the header disagrees with itself or with a data region of ``data_size``."""
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                problems.append("__metadata__ must map strings to strings")
            continue
        if not isinstance(info, dict):
            problems.append(f"{name!r}: entry is not an object")
            continue
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            problems.append(f"{name!r}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            problems.append(f"{name!r}: shape {shape!r} is not a list of non-negative integers")
            shape = None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or offsets[0] > offsets[1]
        ):
            problems.append(f"{name!r}: data_offsets {offsets!r} are not [begin, end]")
            continue
        begin, end = offsets
        if end > data_size:
            problems.append(f"{name!r}: data ends at {end}, past the data region ({data_size})")
        if bits is not None and shape is not None:
            total_bits = math.prod(shape) * bits
            if total_bits % 8 or total_bits // 8 != end - begin:
                problems.append(
                    f"{name!r}: {end - begin} bytes for shape {shape} of {dtype} "
                    f"({total_bits / 8:g} expected)"
                )
        spans.append((begin, end, name))
    problems.extend(_layout_problems(spans, data_size))
    return problems


def _layout_problems(spans: list[tuple[int, int, str]], data_size: int) -> list[str]:
    problems: list[str] = []
    position = 0
    for begin, end, name in sorted(spans):
        if begin < position:
            problems.append(f"{name!r}: overlaps the tensor before it (starts at {begin})")
        elif begin > position:
            problems.append(f"{name!r}: gap of {begin - position} bytes before it")
        position = max(position, end)
    if position < data_size:
        problems.append(f"{data_size - position} bytes after the last tensor are not described")
    return problems


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@register
class SafetensorsScanner(Scanner):
    """Validates a safetensors header against itself and the file size."""

    name = "safetensors"
    kinds = frozenset({Kind.SAFETENSORS})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        with artifact.open() as stream:
            prefix = stream.read(8)
            if len(prefix) != 8:
                raise FormatError("safetensors file shorter than its 8-byte header length")
            (length,) = struct.unpack("<Q", prefix)
            if length > context.limits.max_metadata_bytes:
                if 8 + length > artifact.size:
                    # Larger than any real header and than the file: a length that lies.
                    problem = (
                        f"the header length says {length} bytes, but the file holds only "
                        f"{artifact.size} bytes"
                    )
                    yield self._inconsistent(artifact, [problem])
                    return
                raise LimitExceeded(
                    "max_metadata_bytes",
                    f"safetensors header of {length} bytes is over the metadata limit",
                )
            if 8 + length > artifact.size:
                raise FormatError(
                    f"safetensors header of {length} bytes runs past the end of the file "
                    f"({artifact.size} bytes): truncated"
                )
            raw = stream.read(length)
        if len(raw) != length:
            raise FormatError("safetensors header is truncated")
        try:
            header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except _DuplicateKey as exc:
            yield self._inconsistent(artifact, [f"duplicate key {exc.args[0]!r} in the header"])
            return
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise FormatError(f"safetensors header is not valid JSON: {exc}") from None
        if not isinstance(header, dict):
            raise FormatError("safetensors header is not a JSON object")
        problems = check_header(header, artifact.size - 8 - length)
        if problems:
            yield self._inconsistent(artifact, problems)

    def _inconsistent(self, artifact: Artifact, problems: list[str]) -> Finding:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        return self.finding(
            artifact,
            "MW180",
            f"the safetensors header does not match the data: {shown}",
            evidence={
                "format": "safetensors",
                "problems": problems[:_MAX_PROBLEMS],
                "problem_count": len(problems),
            },
        )


__all__ = ["DTYPE_BITS", "SafetensorsScanner", "check_header"]

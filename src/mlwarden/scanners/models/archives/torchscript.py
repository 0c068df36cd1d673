"""Plausibility of TorchScript source: what the TorchScript compiler can and cannot emit.

A TorchScript archive stores its program as Python-like text under ``code/``. The compiler
writes class definitions, typed methods and calls into ``torch``; it never writes imports of
other modules, dynamic imports, ``exec``/``eval``/``compile``/``open`` calls, or references to
``os``, ``subprocess`` or ``importlib``. Finding those means the text was not made by it.
"""

from __future__ import annotations

import re

#: Code members are read up to this size; TorchScript sources are kilobytes.
MAX_CODE_BYTES = 4 * 1024 * 1024

_SUSPICIOUS = re.compile(
    r"""
      ^[ \t]*(?:import|from)[ \t]+(?!torch\b|__torch__\b|typing\b)[\w.]+   # foreign imports
    | \b__import__\b
    | (?<![\w.])(?:exec|eval|compile|open|breakpoint)[ \t]*\(             # bare builtins
    | \bsubprocess\b
    | \bimportlib\b
    | \b__builtins__\b
    | \bos[ \t]*\.[ \t]*(?:system|popen|exec\w*|spawn\w*|remove|unlink|environ)\b
    | \bsys[ \t]*\.[ \t]*modules\b
    """,
    re.MULTILINE | re.VERBOSE,
)


def is_code_member(name: str) -> bool:
    """Whether a TorchScript archive member holds compiled source (``<prefix>/code/**.py``)."""
    parts = name.split("/")
    return len(parts) >= 3 and parts[1] == "code" and name.endswith(".py")


def suspicious_constructs(source: bytes, limit: int = 8) -> list[str]:
    """The constructs in this source that the TorchScript compiler never emits (at most
    ``limit``); text that is not UTF-8 is itself reported."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return ["<not UTF-8 text>"]
    found: list[str] = []
    for match in _SUSPICIOUS.finditer(text):
        snippet = match.group(0).strip()
        if snippet not in found:
            found.append(snippet)
        if len(found) >= limit:
            break
    return found

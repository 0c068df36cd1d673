"""SHA-256 digests for fingerprints and keys, without loading OpenSSL.

Importing :mod:`hashlib` loads OpenSSL's libcrypto, which costs a few milliseconds in every
process that computes a finding's fingerprint; CPython's built-in SHA-256 module gives the
same digests and loads in a fraction of that time. :mod:`random` chooses its SHA-512 the same
way. Other interpreters use :mod:`hashlib`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol


class _Digest(Protocol):
    def hexdigest(self) -> str: ...


def _builtin_sha256() -> Callable[[bytes], _Digest]:
    for module in ("_sha256", "_sha2"):  # CPython 3.11, then 3.12 and later
        try:
            constructor: Callable[[bytes], _Digest] = importlib.import_module(module).sha256
        except (ImportError, AttributeError):
            continue
        return constructor
    import hashlib

    return hashlib.sha256


_SHA256 = _builtin_sha256()


def sha256_hex(data: bytes) -> str:
    """The SHA-256 digest of ``data``, in hexadecimal."""
    return _SHA256(data).hexdigest()

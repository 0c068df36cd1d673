"""The secret behind ``hash``, ``fake`` and ``encrypt``: where it comes from, what it derives.

One key, given by the user, feeds three independent sub-keys (HKDF-SHA256 with a label per
method), so that a pseudonym never reveals anything about a ciphertext made with the same key,
and a fake stand-in's seed is not a usable pseudonym. The key is never generated here: a
pseudonym or ciphertext is only useful if the same key can be given again, so the user must
own it (``python -c "import secrets; print(secrets.token_hex(32))" > redact.key``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mlwarden.protect.redact.errors import KeyRequiredError

#: Shorter secrets are guessable; 16 bytes is the floor, 32 random bytes is the advice.
MIN_KEY_BYTES = 16

_HASH_INFO = b"mlwarden redact v1 hash"
_FAKE_INFO = b"mlwarden redact v1 fake"
_ENCRYPT_INFO = b"mlwarden redact v1 encrypt"


def _derive(secret: bytes, info: bytes, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


@dataclass(frozen=True)
class RedactionKey:
    """A user's secret and the sub-keys derived from it, one per keyed method.

    ``secret`` is used as given (any bytes, at least ``MIN_KEY_BYTES``). The derivation is
    fixed, so the same secret gives the same pseudonyms and ciphertexts on every machine.
    """

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise KeyRequiredError(
                f"the key is {len(self.secret)} bytes; at least {MIN_KEY_BYTES} are needed "
                "(32 random bytes are advised)"
            )

    @classmethod
    def of(cls, key: RedactionKey | bytes | str) -> RedactionKey:
        """A key from a ``RedactionKey``, raw bytes, or text (its UTF-8 bytes)."""
        if isinstance(key, RedactionKey):
            return key
        if isinstance(key, str):
            return cls(key.encode("utf-8"))
        return cls(bytes(key))

    @cached_property
    def hash_key(self) -> bytes:
        """The HMAC-SHA256 key for ``hash`` pseudonyms."""
        return _derive(self.secret, _HASH_INFO, 32)

    @cached_property
    def fake_key(self) -> bytes:
        """The HMAC-SHA256 key that seeds ``fake`` stand-ins."""
        return _derive(self.secret, _FAKE_INFO, 32)

    @cached_property
    def encrypt_key(self) -> bytes:
        """The 512-bit AES-SIV key (two AES-256 keys) for ``encrypt``."""
        return _derive(self.secret, _ENCRYPT_INFO, 64)


def load_key(
    *, key_file: str | os.PathLike[str] | None = None, key_env: str | None = None
) -> RedactionKey:
    """Read the key from a file or an environment variable (exactly one of them).

    A key file is read as bytes; a final line ending is ignored, so that a key written with
    ``echo`` and one written without it are the same key. An environment variable gives the
    UTF-8 bytes of its value.
    """
    if (key_file is None) == (key_env is None):
        raise KeyRequiredError("give the key either as a file or as an environment variable")
    if key_file is not None:
        try:
            data = Path(key_file).read_bytes()
        except OSError as exc:
            raise KeyRequiredError(
                f"cannot read key file {key_file}: {exc.strerror or exc}"
            ) from None
        return RedactionKey(data.rstrip(b"\r\n"))
    assert key_env is not None
    value = os.environ.get(key_env)
    if not value:
        raise KeyRequiredError(f"environment variable {key_env} is not set or empty")
    return RedactionKey(value.encode("utf-8"))

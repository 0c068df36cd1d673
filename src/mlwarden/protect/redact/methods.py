"""What each method does to one value: pure functions of the value, the entity and the key.

- ``mask``: format-preserving masking (the same masking the scan reports use as evidence).
- ``hash``: a keyed pseudonym ``<ENTITY>_<16 base32 characters>``: the first 80 bits of
  HMAC-SHA256 over the exact value, under a key derived from the user's key. Equal values give
  equal pseudonyms in every file and run with the same key, so joins across tables still work;
  the entity prefix (``VALUE`` when the entity is not known) only helps a reader. 80 bits keep
  accidental collisions negligible below about a trillion distinct values.
- ``fake``: a realistic stand-in of the same entity, the same for the same value (see fakes).
- ``encrypt``: ``ENC_<base64url>``: AES-SIV (RFC 5297), which is deterministic (equal values
  give equal tokens, so joins still work) and authenticated (an altered token or a wrong key is
  refused, never decrypted to garbage). :func:`decrypt_value` reverses it.
- ``drop``: the value is removed: an empty cell in text formats, a null in typed ones.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from collections.abc import Callable
from functools import lru_cache

from mlwarden.protect.redact.errors import DecryptionError, KeyRequiredError
from mlwarden.protect.redact.keys import RedactionKey

#: Marks an ``encrypt`` token; what follows is base64url without padding.
ENCRYPTED_PREFIX = "ENC_"
#: Prefix of ``hash`` pseudonyms whose entity is not known.
UNKNOWN_ENTITY = "VALUE"
#: A token: the prefix, then at least the 16-byte SIV tag and one byte of ciphertext.
ENCRYPTED_TOKEN = re.compile(re.escape(ENCRYPTED_PREFIX) + r"[A-Za-z0-9_-]{23,}")


class RedactionMethod(enum.StrEnum):
    """How a personal value is taken out."""

    MASK = "mask"
    HASH = "hash"
    FAKE = "fake"
    ENCRYPT = "encrypt"
    DROP = "drop"

    @property
    def needs_key(self) -> bool:
        """``hash``, ``fake`` and ``encrypt`` are keyed; ``mask`` and ``drop`` are not."""
        return self in (RedactionMethod.HASH, RedactionMethod.FAKE, RedactionMethod.ENCRYPT)

    @classmethod
    def parse(cls, text: str | RedactionMethod) -> RedactionMethod:
        """Read a method name; ``ValueError`` names the choices."""
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(
                f"unknown redaction method {text!r}; choose one of {choices}"
            ) from None


#: ``(entity, value) -> replacement``; ``None`` means the value is dropped.
ValueRedactor = Callable[[str | None, str], str | None]


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pseudonym(hash_key: bytes, entity: str | None, value: str) -> str:
    """The ``hash`` pseudonym of ``value``: stable for one key, unrelated across keys."""
    digest = hmac.new(hash_key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return f"{entity or UNKNOWN_ENTITY}_{base64.b32encode(digest[:10]).decode('ascii')}"


def mask(entity: str | None, value: str) -> str:
    """Format-preserving masking, from the recognisers (one masking for evidence and output)."""
    from mlwarden.scanners.data.recognisers import mask_value

    return str(mask_value(entity or UNKNOWN_ENTITY, value))


def make_redactor(method: RedactionMethod, key: RedactionKey | None) -> ValueRedactor:
    """The value function of ``method``; keyed methods refuse to run without a key."""
    if method.needs_key and key is None:
        raise KeyRequiredError(
            f"method {method.value} needs a secret key (--key-file FILE or --key-env VAR); "
            "only mask and drop work without one"
        )
    if method is RedactionMethod.MASK:
        return mask
    if method is RedactionMethod.DROP:
        return lambda entity, value: None
    assert key is not None
    if method is RedactionMethod.HASH:
        hash_key = key.hash_key
        return lambda entity, value: pseudonym(hash_key, entity, value)
    if method is RedactionMethod.FAKE:
        from mlwarden.protect.redact.fakes import FakeValues

        stand_ins = FakeValues(key.fake_key)
        return lambda entity, value: stand_ins.stand_in(entity, value)
    return _encryptor(key.encrypt_key)


def _encryptor(encrypt_key: bytes) -> ValueRedactor:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    cipher = AESSIV(encrypt_key)

    @lru_cache(maxsize=65536)
    def encrypt(value: str) -> str:
        # No associated data: the token depends on the value alone, so that the same value
        # in two columns or two files encrypts the same and joins survive.
        token = cipher.encrypt(value.encode("utf-8", "surrogatepass"), None)
        return ENCRYPTED_PREFIX + _encode(token)

    return lambda entity, value: encrypt(value)


def encrypt_value(value: str, key: RedactionKey | bytes | str) -> str:
    """The ``encrypt`` token of one value (what :func:`redact` writes for it)."""
    return _encryptor(RedactionKey.of(key).encrypt_key)(None, value) or ""


class ValueDecryptor:
    """Reverses ``encrypt`` tokens made with one key."""

    def __init__(self, key: RedactionKey | bytes | str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV

        self._cipher = AESSIV(RedactionKey.of(key).encrypt_key)

    def decrypt(self, token: str) -> str:
        """The original value; ``DecryptionError`` if the token is altered or the key wrong."""
        from cryptography.exceptions import InvalidTag

        if not token.startswith(ENCRYPTED_PREFIX):
            raise DecryptionError(f"not an encrypted value (no {ENCRYPTED_PREFIX} prefix)")
        try:
            data = _decode(token[len(ENCRYPTED_PREFIX) :])
            plain = self._cipher.decrypt(data, None)
        except (InvalidTag, ValueError):
            raise DecryptionError(
                "the value does not decrypt with this key: the key is not the one used to "
                "encrypt it, or the value was altered"
            ) from None
        return plain.decode("utf-8", "surrogatepass")

    def decrypt_text(self, text: str) -> str:
        """``text`` with every token in it decrypted (cells and free text alike).

        In free text a token may be followed by characters of the base64url alphabet; since a
        token only authenticates at its exact length, shorter readings are tried until one
        authenticates. A token that authenticates at no length is an error, never left as is.
        """

        def replace(match: re.Match[str]) -> str:
            candidate = match.group(0)
            minimum = len(ENCRYPTED_PREFIX) + 23
            for end in range(len(candidate), minimum - 1, -1):
                try:
                    plain = self.decrypt(candidate[:end])
                except DecryptionError:
                    continue
                return plain + candidate[end:]
            return self.decrypt(candidate)

        return ENCRYPTED_TOKEN.sub(replace, text)


def decrypt_value(token: str, key: RedactionKey | bytes | str) -> str:
    """Reverse one ``encrypt`` token with the key that made it.

    Raises :class:`DecryptionError` when the key is wrong or the token was altered.
    """
    return ValueDecryptor(key).decrypt(token)

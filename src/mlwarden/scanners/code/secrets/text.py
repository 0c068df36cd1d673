"""Text helpers for secret detection: masking of encoded payloads, entropy, redaction.

Secrets are found in the text as written, but some text is never a secret and is long enough
to contain a token-shaped run by chance: base64 images (``data:image/png;base64,...``) and other
long encoded blobs. Those are blanked out first, keeping every offset, so lines and columns of
what is found still point at the original text.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from mlwarden.digests import sha256_hex

#: Runs of base64 characters at least this long are encoded payloads, not credentials (the
#: longest credential format detected is about 110 characters).
ENCODED_RUN = 200

_ENCODED = re.compile(
    r"data:[A-Za-z0-9.+/-]{1,80};base64,[A-Za-z0-9+/=]*"
    rf"|[A-Za-z0-9+/]{{{ENCODED_RUN},}}={{0,2}}"
)

#: Words that mark a value as an example or a placeholder rather than a credential.
_PLACEHOLDER_WORDS = (
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "dummy",
    "fake",
    "mock",
    "sample",
    "redacted",
    "replace",
    "insert",
    "xxxx",
    "****",
    "....",
    "12345678",
    "abcdefgh",
    "qwerty",
)
_PLACEHOLDER_SYNTAX = ("<", ">", "${", "{{", "}}", "%(", "$(", "{env", "os.environ", "getenv")


def mask_encoded(text: str) -> str:
    """The text with base64 data URIs and long encoded runs blanked (same length, same lines)."""
    return _ENCODED.sub(lambda m: " " * len(m.group()), text)


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0 for an empty string)."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def is_placeholder(value: str) -> bool:
    """Whether a value reads as an example, a template or an unset marker, not a credential."""
    lowered = value.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return True
    if any(mark in lowered for mark in _PLACEHOLDER_SYNTAX):
        return True
    # A value made of a handful of distinct characters ("aaaa...", "abab...") is filler.
    return len(set(lowered)) <= max(4, len(value) // 8)


def redact(value: str, shown: int = 4) -> str:
    """``value`` reduced to its first ``shown`` characters and its length: ``hf_A…(37 chars)``."""
    shown = max(0, min(shown, len(value) // 3))
    return f"{value[:shown]}…({len(value)} chars)"


def fingerprint_key(kind: str, value: str) -> str:
    """A stable key for a secret that does not reveal it (a short salted digest)."""
    digest = sha256_hex(b"mlwarden-secret\x00" + value.encode("utf-8", "replace"))
    return f"{kind}:{digest[:12]}"

"""Taking personal data out of datasets: ``redact`` a CSV/TSV, Parquet or JSON Lines file.

>>> from mlwarden.protect.redact import redact
>>> plan = redact("users.csv", "users.redacted.csv", method="hash", key=secret)  # doctest: +SKIP

Methods (see :mod:`mlwarden.protect.redact.methods` for the exact token formats): ``mask``,
``hash`` (keyed, stable pseudonyms that keep joins working), ``fake`` (consistent realistic
stand-ins), ``encrypt`` (deterministic, authenticated AES-SIV, reversed by :func:`restore`
or :func:`decrypt_value`) and ``drop``. Heavy libraries load only when a file is redacted.
"""

from __future__ import annotations

from mlwarden.protect.redact.api import redact, restore
from mlwarden.protect.redact.errors import (
    DecryptionError,
    KeyRequiredError,
    RedactionError,
    UnknownColumnError,
    UnsupportedInputError,
)
from mlwarden.protect.redact.keys import RedactionKey, load_key
from mlwarden.protect.redact.methods import (
    RedactionMethod,
    decrypt_value,
    encrypt_value,
    pseudonym,
)
from mlwarden.protect.redact.plan import ColumnRedaction, RedactionPlan

__all__ = [
    "ColumnRedaction",
    "DecryptionError",
    "KeyRequiredError",
    "RedactionError",
    "RedactionKey",
    "RedactionMethod",
    "RedactionPlan",
    "UnknownColumnError",
    "UnsupportedInputError",
    "decrypt_value",
    "encrypt_value",
    "load_key",
    "pseudonym",
    "redact",
    "restore",
]

"""Why a file was not redacted, in words a person can act on.

Every refusal happens before the output is written: a failed redaction leaves no output file
and never touches the input.
"""

from __future__ import annotations


class RedactionError(Exception):
    """The redaction could not be done as asked; nothing was written."""


class KeyRequiredError(RedactionError):
    """``hash``, ``fake`` and ``encrypt`` need a secret key; ``mask`` and ``drop`` do not."""


class UnknownColumnError(RedactionError):
    """A column named for redaction is not in the input."""


class UnsupportedInputError(RedactionError):
    """The input is not a CSV/TSV, Parquet or JSON Lines file, or it is malformed."""


class DecryptionError(RedactionError):
    """A token did not decrypt: it was altered, or the key is not the one that made it."""

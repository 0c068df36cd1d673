"""Secrets in any text: vendor credentials, private keys and high-entropy named values.

:func:`find_secrets` is the reusable core (the notebook scanner and personal-data scanning call
it); :class:`SecretsScanner` runs it over code, configuration and other text files. Nothing is
verified over a network and no value leaves the process: matches carry a redacted form and a
salted digest only.
"""

from __future__ import annotations

from mlwarden.scanners.code.secrets.detect import SecretMatch, find_secrets
from mlwarden.scanners.code.secrets.formats import SECRET_KINDS, SecretKind
from mlwarden.scanners.code.secrets.scanner import SecretsScanner

__all__ = ["SECRET_KINDS", "SecretKind", "SecretMatch", "SecretsScanner", "find_secrets"]

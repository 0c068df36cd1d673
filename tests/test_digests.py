"""SHA-256 without OpenSSL: the same digests as hashlib, and hashlib left unloaded."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from mlwarden.digests import sha256_hex
from mlwarden.findings import Finding, Location, Severity


@pytest.mark.parametrize("data", [b"", b"abc", bytes(range(256)) * 40, "é\x1f".encode()])
def test_digests_are_hashlibs(data: bytes) -> None:
    assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_fingerprints_keep_their_values() -> None:
    # Baselines store fingerprints: they must not change with how SHA-256 is computed.
    finding = Finding("MW100", Severity.CRITICAL, "m", Location("model.pt", member="data.pkl"))
    parts = ["MW100", "model.pt", "data.pkl", "None", "m"]
    assert finding.fingerprint == hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def test_the_command_line_does_not_load_openssl_for_digests() -> None:
    code = "import sys, mlwarden.cli, mlwarden.commands.scan; print('_hashlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

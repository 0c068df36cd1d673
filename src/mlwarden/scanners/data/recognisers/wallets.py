"""Crypto-currency wallet addresses, each with its own checksum.

- Bitcoin legacy (P2PKH, ``1...``) and script (P2SH, ``3...``) addresses: Base58Check, the
  last four bytes of the 25 are the start of a double SHA-256 of the first 21.
- Bitcoin SegWit (``bc1...``): Bech32 (BIP 173) for witness version 0, Bech32m (BIP 350) for
  later versions.
- Ethereum (``0x`` and 40 hex digits): a mixed-case address must carry its EIP-55 checksum
  (capital letters where Keccak-256 of the lower-case address has a high nibble); an all-lower
  or all-upper one has no checksum and scores lower.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import CRYPTO_WALLET, EntityMatch
from mlwarden.scanners.data.recognisers.keccak import keccak256

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {ch: i for i, ch in enumerate(_BASE58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {ch: i for i, ch in enumerate(_BECH32)}
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3

_CANDIDATE = re.compile(
    r"(?<![\w])(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71}"
    r"|BC1[02-9AC-HJ-NP-Z]{11,71}|0x[0-9a-fA-F]{40})(?!\w)"
)


def base58check_valid(address: str) -> bool:
    """True for a Bitcoin P2PKH or P2SH address with a good Base58Check checksum."""
    number = 0
    for ch in address:
        digit = _BASE58_INDEX.get(ch)
        if digit is None:
            return False
        number = number * 58 + digit
    pad = len(address) - len(address.lstrip("1"))
    try:
        raw = b"\x00" * pad + number.to_bytes((number.bit_length() + 7) // 8, "big")
    except OverflowError:  # pragma: no cover - bounded by the pattern
        return False
    if len(raw) != 25 or raw[0] not in (0x00, 0x05):
        return False
    digest = hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()
    return digest[:4] == raw[21:]


def _polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= generator[i]
    return checksum


def bech32_valid(address: str) -> bool:
    """True for a ``bc1`` SegWit address with a good Bech32 (v0) or Bech32m (v1+) checksum."""
    if address.lower() != address and address.upper() != address:
        return False
    lowered = address.lower()
    hrp, _, data_part = lowered.rpartition("1")
    if hrp != "bc" or len(data_part) < 7:
        return False
    data = [_BECH32_INDEX[ch] for ch in data_part if ch in _BECH32_INDEX]
    if len(data) != len(data_part):
        return False
    expanded = [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]
    constant = _polymod(expanded + data)
    version = data[0]
    if version == 0:
        return constant == _BECH32_CONST and len(data_part) in (39, 59)
    return constant == _BECH32M_CONST and version <= 16


def eip55_valid(address: str) -> bool:
    """True when a mixed-case ``0x`` address carries its EIP-55 checksum."""
    body = address[2:]
    digest = keccak256(body.lower().encode("ascii")).hex()
    for ch, nibble in zip(body, digest[: len(body)], strict=True):
        if ch.isalpha() and ch.isupper() != (int(nibble, 16) >= 8):
            return False
    return True


def wallet_score(value: str) -> float | None:
    """A score for ``value`` as a wallet address (None when it is not one)."""
    if value.startswith("0x"):
        body = value[2:]
        if len(body) != 40 or len(set(body.lower())) < 6:
            return None
        if body.lower() == body or body.upper() == body:
            return 0.6
        return 0.95 if eip55_valid(value) else None
    if value[:3].lower() == "bc1":
        return 0.95 if bech32_valid(value) else None
    if value[:1] in ("1", "3"):
        return 0.95 if base58check_valid(value) else None
    return None


class WalletRecogniser:
    """Bitcoin and Ethereum wallet addresses, checksum-validated."""

    entities: tuple[str, ...] = (CRYPTO_WALLET,)
    column_hint: re.Pattern[str] | None = re.compile(r"wallet|btc|bitcoin|eth|crypto", re.I)
    cell_shape: re.Pattern[str] = re.compile(r"[13bB0][0-9A-Za-z]{25,89}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every wallet address in ``text``."""
        for m in _CANDIDATE.finditer(text):
            score = wallet_score(m.group())
            if score is not None:
                yield EntityMatch(CRYPTO_WALLET, m.start(), m.end(), score, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """CRYPTO_WALLET when the whole ``value`` is an address."""
        if _CANDIDATE.fullmatch(value) is None:
            return None
        return CRYPTO_WALLET if wallet_score(value) is not None else None

"""IP and MAC addresses, URLs with credentials and crypto wallets, both directions."""

from __future__ import annotations

import pytest

from mlwarden.scanners.data.recognisers import find_entities
from mlwarden.scanners.data.recognisers.keccak import keccak256


def entities_in(text: str) -> list[tuple[str, str]]:
    return [(m.entity, text[m.start : m.end]) for m in find_entities(text)]


@pytest.mark.parametrize(
    "address",
    [
        "192.168.10.12",
        "8.8.8.8",
        "203.0.113.254",
        "2001:db8::8a2e:370:7334",
        "fe80::1ff:fe23:4567:890a",
    ],
)
def test_ip_fires(address: str) -> None:
    assert entities_in(f"login from {address} at noon") == [("IP_ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4 released",
        "upgrade to v10.2.0.1 now",
        "torch==2.1.0.1 installed",
        "OID 1.3.6.1.4.1.311 registered",
        "build 4.10.2.17-beta",
        "on 12.03.2024 we met",
        "value 256.1.1.1 overflows",
        "ratio 1.2.3.4.5",
        "bind 0.0.0.0",
        "at 12:30:45 sharp",
        "namespace std::vector",
    ],
)
def test_ip_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "IP_ADDRESS"] == []


@pytest.mark.parametrize("mac", ["00:1A:2B:3C:4D:5E", "a4-5e-60-c2-11-0f", "001a.2b3c.4d5e"])
def test_mac_fires(mac: str) -> None:
    assert entities_in(f"device {mac} joined") == [("MAC_ADDRESS", mac)]


@pytest.mark.parametrize(
    "text", ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "00:1A:2B-3C:4D:5E", "12:30:45:10"]
)
def test_mac_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "MAC_ADDRESS"] == []


def test_url_credentials() -> None:
    text = "db at postgres://admin:s3cr3tPw@db.internal:5432/prod ok"
    assert ("URL_CREDENTIALS", "postgres://admin:s3cr3tPw@db.internal:5432/prod") in entities_in(
        text
    )
    for harmless in (
        "https://example.com/path",
        "https://user@example.com",
        "https://user:${PASSWORD}@example.com",
        "mailto:someone@example.com",
    ):
        assert [e for e, _ in entities_in(harmless) if e == "URL_CREDENTIALS"] == []


def test_keccak256_matches_the_reference_digests() -> None:
    assert keccak256(b"").hex().startswith("c5d2460186f7233c927e7db2dcc703c0")
    assert keccak256(b"abc").hex().startswith("4e03657aea45a94fc7d47ba826c8d667")


@pytest.mark.parametrize(
    "wallet",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # P2PKH
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # P2SH
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # Bech32 v0
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",  # Bech32m v1
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55
        "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359",  # no checksum (lower case)
    ],
)
def test_wallet_fires(wallet: str) -> None:
    assert entities_in(f"send to {wallet} now") == [("CRYPTO_WALLET", wallet)]


@pytest.mark.parametrize(
    "text",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # Base58Check fails
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # Bech32 fails
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # EIP-55 fails
        "0x0000000000000000000000000000000000000000",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
    ],
)
def test_wallet_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "CRYPTO_WALLET"] == []

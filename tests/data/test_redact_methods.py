"""Redaction methods value by value: pseudonyms, encryption, stand-ins, keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from redact_builders import KEY, OTHER_KEY

from mlwarden.protect.redact import (
    DecryptionError,
    KeyRequiredError,
    RedactionKey,
    RedactionMethod,
    decrypt_value,
    encrypt_value,
    load_key,
    pseudonym,
)
from mlwarden.protect.redact.fakes import FakeValues
from mlwarden.protect.redact.methods import ValueDecryptor, make_redactor


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def test_pseudonym_is_stable_per_key_and_keeps_an_entity_prefix() -> None:
    key = RedactionKey.of(KEY)
    first = pseudonym(key.hash_key, "EMAIL", "jane@example.com")
    assert re.fullmatch(r"EMAIL_[A-Z2-7]{16}", first)
    assert pseudonym(RedactionKey.of(KEY).hash_key, "EMAIL", "jane@example.com") == first
    assert pseudonym(key.hash_key, "EMAIL", "jane@example.co") != first
    assert pseudonym(RedactionKey.of(OTHER_KEY).hash_key, "EMAIL", "jane@example.com") != first
    # The digest depends on the value only: the prefix is a label for people.
    assert pseudonym(key.hash_key, None, "jane@example.com") == "VALUE_" + first[6:]


def test_encrypt_is_deterministic_and_reverses_only_with_its_key() -> None:
    token = encrypt_value("jane@example.com", KEY)
    assert token.startswith("ENC_")
    assert re.fullmatch(r"ENC_[A-Za-z0-9_-]+", token)
    assert encrypt_value("jane@example.com", KEY) == token
    assert encrypt_value("jane@example.com", OTHER_KEY) != token
    assert decrypt_value(token, KEY) == "jane@example.com"
    with pytest.raises(DecryptionError, match="does not decrypt with this key"):
        decrypt_value(token, OTHER_KEY)


def test_an_altered_token_is_refused_never_decrypted_to_garbage() -> None:
    token = encrypt_value("4111 1111 1111 1111", KEY)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(DecryptionError):
        decrypt_value(flipped, KEY)
    with pytest.raises(DecryptionError, match="no ENC_ prefix"):
        decrypt_value("jane@example.com", KEY)


def test_tokens_inside_free_text_decrypt_even_when_glued_to_token_characters() -> None:
    token = encrypt_value("jane@example.com", KEY)
    text = f"mail {token}_2 or {token}. Thanks"
    assert (
        ValueDecryptor(KEY).decrypt_text(text)
        == "mail jane@example.com_2 or jane@example.com. Thanks"
    )


def test_non_ascii_values_survive_encryption() -> None:
    assert decrypt_value(encrypt_value("José Müller-Łukasz", KEY), KEY) == "José Müller-Łukasz"


def test_fake_stand_ins_are_consistent_and_keyed() -> None:
    fakes = FakeValues(RedactionKey.of(KEY).fake_key)
    again = FakeValues(RedactionKey.of(KEY).fake_key)
    other = FakeValues(RedactionKey.of(OTHER_KEY).fake_key)
    email = fakes.stand_in("EMAIL", "jane@example.com")
    assert again.stand_in("EMAIL", "jane@example.com") == email
    assert other.stand_in("EMAIL", "jane@example.com") != email
    assert re.fullmatch(r"[^@\s]+@example\.(com|org|net)", email)
    assert fakes.stand_in("EMAIL", "john@example.com") != email


def test_fake_cards_ibans_and_dates_keep_their_shape_and_validity() -> None:
    fakes = FakeValues(RedactionKey.of(KEY).fake_key)
    card = fakes.stand_in("CREDIT_CARD", "4111 1111 1111 1111")
    assert re.fullmatch(r"4\d{3} \d{4} \d{4} \d{4}", card) and luhn_ok(card)
    assert card != "4111 1111 1111 1111"
    iban = fakes.stand_in("IBAN", "GB82 WEST 1234 5698 7654 32")
    assert iban.startswith("GB") and len(iban) == len("GB82 WEST 1234 5698 7654 32")
    assert iban_ok(iban)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fakes.stand_in("DATE_OF_BIRTH", "1984-03-07"))
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", fakes.stand_in("DATE_OF_BIRTH", "07/03/1984"))
    phone = fakes.stand_in("PHONE", "+44 20 7946 0958")
    assert re.fullmatch(r"\+44 \d{2} \d{4} \d{4}", phone)
    unknown = fakes.stand_in(None, "AB-1234-cd")
    assert re.fullmatch(r"[A-Z]{2}-\d{4}-[a-z]{2}", unknown)


def test_keyed_methods_refuse_to_run_without_a_key() -> None:
    for method in (RedactionMethod.HASH, RedactionMethod.FAKE, RedactionMethod.ENCRYPT):
        with pytest.raises(KeyRequiredError, match="needs a secret key"):
            make_redactor(method, None)
    assert make_redactor(RedactionMethod.DROP, None)("EMAIL", "a@b.example") is None


def test_short_keys_are_refused() -> None:
    with pytest.raises(KeyRequiredError, match="at least 16"):
        RedactionKey.of("short")


def test_keys_from_a_file_ignore_the_final_line_ending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_newline = tmp_path / "a.key"
    with_newline.write_text(KEY + "\n")
    without = tmp_path / "b.key"
    without.write_text(KEY)
    assert load_key(key_file=with_newline).secret == load_key(key_file=without).secret
    monkeypatch.setenv("REDACT_KEY", KEY)
    assert load_key(key_env="REDACT_KEY").secret == KEY.encode()
    with pytest.raises(KeyRequiredError, match="not set"):
        load_key(key_env="NO_SUCH_VARIABLE_FOR_REDACTION")
    with pytest.raises(KeyRequiredError, match="cannot read key file"):
        load_key(key_file=tmp_path / "missing.key")
    with pytest.raises(KeyRequiredError, match="either"):
        load_key()


def test_unknown_methods_are_named() -> None:
    with pytest.raises(ValueError, match="choose one of mask, hash, fake, encrypt, drop"):
        RedactionMethod.parse("scramble")
    assert RedactionMethod.parse(" HASH ") is RedactionMethod.HASH

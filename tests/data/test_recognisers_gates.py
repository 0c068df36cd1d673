"""The fast searches find exactly what the plain patterns find over the whole text."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.scanners.data.recognisers import base, credentials, dates, gates, national_ids
from mlwarden.scanners.data.recognisers.contact import _EMAIL, EmailRecogniser
from mlwarden.scanners.data.recognisers.network import _URL_CREDENTIALS, UrlCredentialsRecogniser

# Pieces that make the gates and patterns fire, nearly fire, or run into each other.
PIECES = [
    " ", "  ", "\n", base.CELL_BARRIER, "\t", ".", ",", "-", ":", "@", "://", "x", "Born",
    "born:", "DOB", "d.o.b", "date of birth", "née", "NÉ", "nato", "Geburtsdatum", "SSN",
    "ssn:", "Soc. Sec.", "BSN", "Steuer-ID", "idnr", "Aadhaar", "UID", "CPF", "PESEL",
    "passport", "PASSPORT", "Reisepass", "123-45-6789", "123 45 6789", "123456789",
    "1234.56.782", "12 345 678 901", "2345 6789 0123", "52998224725", "44051401359",
    "AB1234567", "X1234567L", "12345678Z", "AB 12 34 56 C", "12/03/1985", "1985-03-12",
    "3 March 1985", "password", "api key", "AKIA", "ghp_", "sk-", "SG.", "eyJ",
    "aBcDeFgHiJkLmNoPqRsT1234", "abcdefghijklmnopqrstuvwxyzpassword", "-----BEGIN",
    "jane.doe@example.com", "a@b", "postgres://u:p@db.example.com:5432/x", "user@host",
    "\u0130", "\u017f", "\u0131", "café",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def _spans(matches: object) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in matches]  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_secret_gate_lines_match_the_whole_text_scan(text: str) -> None:
    assert credentials.gated_lines(text) == sorted(set(credentials._scanned_lines(text)))


@pytest.mark.parametrize(
    "text",
    [
        "abcdefghijklmnopqrstuvwxyzpassword",  # a word inside a run that does not open
        "token abcdefghijklmnopqrstuvwxyz",
        "AKIAabcdefghijklmnopqrstuvwxyz",  # a prefix at a run's start
        "aBcDeFgHiJkLmNoPqRsT1234",
        f"one{base.CELL_BARRIER}password=hunter2{base.CELL_BARRIER}three",
    ],
)
def test_secret_gate_examples(text: str) -> None:
    assert credentials.gated_lines(text) == sorted(set(credentials._scanned_lines(text)))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_birth_words_on_a_lower_cased_copy(text: str) -> None:
    expected = _spans(dates._BIRTH_WORDS.finditer(text))
    assert _spans(dates._birth_words(text)) == expected


def test_lower_case_words_keeps_the_boundaries() -> None:
    pattern = gates.lower_case_words(["birth", "birth ?date", "dob"])
    assert _spans(pattern.finditer("rebirth birth date dob dobs")) == [(8, 13), (19, 22)]


@settings(max_examples=300, deadline=None)
@given(texts)
def test_national_ids_gated_equal_ungated(text: str) -> None:
    recognisers = national_ids.national_id_recognisers()
    gated = [list(r.find(text)) for r in recognisers]
    with mock.patch.object(national_ids, "lowered", lambda _: None):
        whole = [list(r.find(text)) for r in recognisers]
    assert gated == whole


@settings(max_examples=200, deadline=None)
@given(texts)
def test_strict_shapes_searched_from_their_first_character(text: str) -> None:
    for scheme in national_ids.SCHEMES:
        for shape in (scheme.strict, scheme.loose):
            if shape is None:
                continue
            plain = re.compile(rf"(?<![\w.-])(?:{shape.pattern})(?![\w-]|[.,]\w)")
            fast = national_ids._search_pattern(shape)
            assert _spans(fast.finditer(text)) == _spans(plain.finditer(text))


def test_first_character_rewrite_is_used() -> None:
    assert national_ids._search_pattern(re.compile(r"\d{3}-\d{2}")).pattern.startswith(r"\d(?<!")
    assert national_ids._search_pattern(re.compile(r"a|b")).pattern.startswith("(?<!")


@settings(max_examples=300, deadline=None)
@given(texts)
def test_token_regions_find_every_address_and_url(text: str) -> None:
    found = _spans(gates.matches_in_regions(_EMAIL, text, gates.token_regions(text, "@"), 0))
    assert found == _spans(_EMAIL.finditer(text))
    assert len(list(EmailRecogniser().find(text))) <= len(found)
    urls = _spans(
        gates.matches_in_regions(_URL_CREDENTIALS, text, gates.token_regions(text, "://"), 0)
    )
    assert urls == _spans(_URL_CREDENTIALS.finditer(text))
    assert len(list(UrlCredentialsRecogniser().find(text))) <= len(urls)


def test_lowered_refuses_unfaithful_copies() -> None:
    assert gates.lowered("Straße SSN") == "straße ssn"
    assert gates.lowered("\u0130stanbul") is None
    assert gates.lowered("Lo\u017fung") is None


def test_merged_regions_and_literals() -> None:
    assert gates.literal_positions("abab", ["ab", "ba"]) == [0, 1, 2]
    assert gates.merged_regions([5, 8, 30], 2, 3, 32) == [(3, 11), (28, 32)]


def test_digits_of() -> None:
    assert base.digits_of("+44 (0)20-7946 0958 x12") == "440207946095812"
    assert base.digits_of("٣٤") == ""

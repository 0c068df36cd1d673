"""E-mail, phone and card recognisers: real values fire, near-misses do not."""

from __future__ import annotations

import pytest

from mlwarden.scanners.data.recognisers import classify_column, find_entities, mask_value


def entities_in(text: str, context: str = "") -> list[tuple[str, str]]:
    return [(m.entity, text[m.start : m.end]) for m in find_entities(text, context=context)]


@pytest.mark.parametrize(
    "address",
    [
        "jane.doe@example.com",
        "o'brien+ml@sub.example.co.uk",
        "müller@example.de".replace("ü", "ue"),
        "x_y-z@xn--bcher-kva.example",
    ],
)
def test_email_fires(address: str) -> None:
    assert entities_in(f"write to {address}, thanks") == [("EMAIL", address)]


@pytest.mark.parametrize(
    "text",
    [
        "logo@2x.png",
        "sprite@3x.webp",
        "pip install pkg@1.2.3",
        "user@localhost",
        "git@github",
        "no at sign here.com",
        "weights@model.pkl",
    ],
)
def test_email_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "EMAIL"] == []


@pytest.mark.parametrize(
    "number",
    [
        "+44 20 7946 0958",
        "+49 30 901820",
        "+33 1 83 41 77 76",
        "+34 912 345 678",
        "+39 06 6982 0000",
        "+55 11 91234-5678",
        "+91 98765 43210",
        "+48 22 123 45 67",
        "+31 20 123 4567",
        "(415) 555-2671",
        "0049 30 901820",
    ],
)
def test_phone_fires_in_many_countries(number: str) -> None:
    assert entities_in(f"call {number} today") == [("PHONE", number)]


@pytest.mark.parametrize(
    "text",
    [
        "server at 192.168.10.12 is down",
        "released 2024-03-12 at 10:15",
        "born 12/03/1985",
        "version 1.2.3.4 shipped",
        "order 1234567 shipped",
        "price 1,234,567.89 USD",
        "SKU 12-3456-7890-1",
        "timestamp 1700000000",
        "ISBN 978-3-16-148410-0",
    ],
)
def test_phone_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "PHONE"] == []


def test_national_number_needs_a_phone_word_outside_the_default_region() -> None:
    assert entities_in("Telefon: 030 901820", "") == [("PHONE", "030 901820")]
    assert entities_in("Reference 030 901820", "") == []


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",  # Visa 16
        "4222222222222",  # Visa 13
        "4000 0000 0000 0000 006",  # Visa 19
        "5555-5555-5555-4444",  # Mastercard 5-series
        "2223 0031 2200 3222",  # Mastercard 2-series
        "3782 822463 10005",  # Amex 15
        "6011 1111 1111 1117",  # Discover
        "3530 1113 3330 0000",  # JCB 16
        "6304 0000 0000",  # Maestro 12
        "6200 0000 0000 0005",  # UnionPay
    ],
)
def test_card_fires(card: str) -> None:
    assert entities_in(f"paid with {card}.") == [("CREDIT_CARD", card)]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # fails Luhn
        "1234 5678 1234 5678",  # no issuer, fails Luhn
        "9999 9999 9999 9995",  # passes Luhn, no issuer
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6",
        "4444444444444444",
    ],
)
def test_card_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "CREDIT_CARD"] == []


def test_columns_get_a_verdict() -> None:
    phones = ["+33 1 83 41 77 76", "04 15 39 15 00", None, "", "+33 2 36 70 66 90"]
    verdict = classify_column("contact", phones)
    assert (verdict.entity, verdict.count, verdict.non_empty) == ("PHONE", 3, 3)
    assert verdict.first_row == 0
    assert all("41 77" not in e for e in verdict.examples)

    emails = classify_column("email", ["a@b.com", "jane@example.org", "n/a"])
    assert emails.entity == "EMAIL"
    assert emails.examples == ("*@b.com", "j***@example.org")

    orders = classify_column("order_id", [f"{4000000000000000 + i * 7}" for i in range(100)])
    assert orders.entity is None


def test_free_text_columns_are_flagged() -> None:
    text = "The customer wrote a long complaint about the delivery of the parcel last week."
    verdict = classify_column("notes", [text] * 10)
    assert verdict.free_text and verdict.entity is None


def test_masks_keep_the_format() -> None:
    assert mask_value("CREDIT_CARD", "4111 1111 1111 1111") == "**** **** **** 1111"
    assert mask_value("EMAIL", "jane.doe@example.com") == "j***.***@example.com"
    assert mask_value("PHONE", "+44 20 7946 0958") == "+44 ** **** **58"
    assert mask_value("PHONE", "(415) 555-2671") == "(***) ***-**71"

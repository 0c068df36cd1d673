"""Payment card numbers: Luhn checksum and issuer ranges (ISO/IEC 7812 prefixes)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import CREDIT_CARD, EntityMatch, digits_of

# 12 to 19 digits, optionally grouped by single spaces or dashes.
# The look-behind follows the first digit so that the search skips to digits.
_CARD_CANDIDATE = re.compile(r"\d(?<![\w.,/-]\d)(?:[ -]?\d){11,18}(?![\w/]|[.,-]\d)")

#: (first, last prefix inclusive, prefix length, allowed lengths, issuer)
_RANGES: tuple[tuple[int, int, int, frozenset[int], str], ...] = (
    (4, 4, 1, frozenset({13, 16, 19}), "visa"),
    (51, 55, 2, frozenset({16}), "mastercard"),
    (2221, 2720, 4, frozenset({16}), "mastercard"),
    (34, 34, 2, frozenset({15}), "amex"),
    (37, 37, 2, frozenset({15}), "amex"),
    (6011, 6011, 4, frozenset(range(16, 20)), "discover"),
    (644, 649, 3, frozenset(range(16, 20)), "discover"),
    (65, 65, 2, frozenset(range(16, 20)), "discover"),
    (3528, 3589, 4, frozenset(range(15, 20)), "jcb"),
    (62, 62, 2, frozenset(range(16, 20)), "unionpay"),
    (81, 81, 2, frozenset(range(16, 20)), "unionpay"),
    (300, 305, 3, frozenset(range(14, 20)), "diners"),
    (36, 36, 2, frozenset(range(14, 20)), "diners"),
    (38, 39, 2, frozenset(range(14, 20)), "diners"),
    (50, 50, 2, frozenset(range(12, 20)), "maestro"),
    (56, 69, 2, frozenset(range(12, 20)), "maestro"),
    (2200, 2204, 4, frozenset(range(16, 20)), "mir"),
)


def luhn_valid(number: str) -> bool:
    """True when the digit string ``number`` passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer(number: str) -> str | None:
    """The issuer whose prefix range and length fit the digit string ``number``, if any."""
    length = len(number)
    for low, high, width, lengths, issuer in _RANGES:
        if length in lengths and low <= int(number[:width]) <= high:
            return issuer
    return None


def _grouping_ok(raw: str) -> bool:
    # One kind of separator, used between groups of at least 3 digits (4-4-4-4, 4-6-5,
    # 4-4-4-4-3); runs like "1 2 3 4" are tables of numbers, not cards.
    seps = {ch for ch in raw if not ch.isdigit()}
    if not seps:
        return True
    if len(seps) > 1:
        return False
    groups = re.split(r"[ -]", raw)
    return all(len(g) >= 3 for g in groups) and len(groups) <= 5


def is_card_number(raw: str) -> bool:
    """True when ``raw`` (digits with optional single separators) is a plausible card number."""
    number = digits_of(raw)
    if not 12 <= len(number) <= 19 or not _grouping_ok(raw):
        return False
    if len(set(number)) == 1:
        return False
    return card_issuer(number) is not None and luhn_valid(number)


class CardRecogniser:
    """Payment card numbers (PAN): issuer range, length and Luhn must all agree.

    Covers Visa (13/16/19 digits), Mastercard (51-55 and the 2221-2720 series), American
    Express, Discover, JCB (15-19 digits), UnionPay, Diners, Maestro (12-19 digits) and Mir.
    """

    entities: tuple[str, ...] = (CREDIT_CARD,)
    column_hint: re.Pattern[str] | None = re.compile(
        r"card|\bcc_?(?:num|no)|\bpan\b|kreditkarte|carte|tarjeta|carta|cartao|cartão", re.I
    )
    cell_shape: re.Pattern[str] = re.compile(r"\d(?:[ -]?\d){11,18}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every card number in ``text``."""
        for m in _CARD_CANDIDATE.finditer(text):
            if is_card_number(m.group()):
                yield EntityMatch(CREDIT_CARD, m.start(), m.end(), 0.95, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """CREDIT_CARD when the whole ``value`` is a card number."""
        return CREDIT_CARD if is_card_number(value) else None

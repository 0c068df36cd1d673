"""The shared vocabulary of the recognisers: entities, matches, column verdicts, the protocol.

A recogniser knows one family of personal data. It answers two questions: where in a free
text does the entity occur (:meth:`Recogniser.find`), and is this whole table cell an instance
of it (:meth:`Recogniser.validate`). Cheap regular expressions find candidates; validators
(checksums, issuer ranges, calendars, dictionaries) decide. Context (a column name, words near
a match) raises confidence, and some entities (passports, bare national numbers with weak
checksums, birth dates) fire only with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

#: Separates cells when a whole column is searched as one string; context windows stop at it.
CELL_BARRIER = "\n\x1e\n"

EMAIL = "EMAIL"
PHONE = "PHONE"
CREDIT_CARD = "CREDIT_CARD"
IBAN = "IBAN"
US_SSN = "US_SSN"
UK_NINO = "UK_NINO"
FR_NIR = "FR_NIR"
ES_NIF = "ES_NIF"
ES_NIE = "ES_NIE"
IT_FISCAL_CODE = "IT_FISCAL_CODE"
NL_BSN = "NL_BSN"
DE_TAX_ID = "DE_TAX_ID"
IN_AADHAAR = "IN_AADHAAR"
BR_CPF = "BR_CPF"
PL_PESEL = "PL_PESEL"
PASSPORT = "PASSPORT"
IP_ADDRESS = "IP_ADDRESS"
MAC_ADDRESS = "MAC_ADDRESS"
URL_CREDENTIALS = "URL_CREDENTIALS"
CRYPTO_WALLET = "CRYPTO_WALLET"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
ADDRESS = "ADDRESS"
GEO_COORDINATES = "GEO_COORDINATES"
PERSON = "PERSON"
SECRET = "SECRET"

#: National identifiers (one entity per country scheme).
NATIONAL_IDS = frozenset(
    {US_SSN, UK_NINO, FR_NIR, ES_NIF, ES_NIE, IT_FISCAL_CODE, NL_BSN, DE_TAX_ID, IN_AADHAAR,
     BR_CPF, PL_PESEL}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EntityMatch:
    """One entity found in a text: ``text[start:end]`` is the value.

    ``score`` is in [0, 1]; ``validated`` is true when a checksum, issuer range, calendar or
    library validator confirmed the value (not only its shape).
    """

    entity: str
    start: int
    end: int
    score: float
    validated: bool


@dataclass(frozen=True, slots=True)
class ColumnVerdict:
    """What a column holds, judged from its name and its values.

    ``entity`` is None when no entity reaches the threshold. ``share`` is the fraction of
    non-empty values that validated as ``entity``; ``count`` how many did; ``examples`` are
    masked (never raw values). ``free_text`` marks a column of long, many-word strings that
    should be searched cell by cell with :func:`find_entities`. ``first_row`` is the index
    (in the values given) of the first validated value. ``scores`` holds the share of every
    entity that had any validated value, for callers that want more than the winner.
    """

    name: str
    entity: str | None
    share: float
    confidence: float
    count: int
    non_empty: int
    examples: tuple[str, ...] = ()
    free_text: bool = False
    first_row: int | None = None
    scores: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Recogniser(Protocol):
    """One family of personal data.

    ``entities`` lists what :meth:`find` may report. ``column_hint`` matches column names that
    suggest the entity; ``cell_shape`` is a cheap pattern (no anchors) that every whole-cell
    value of the entity matches, used to prefilter a whole column at once. When
    ``needs_context`` is true the recogniser fires in a column only under a suggestive name.
    """

    entities: tuple[str, ...]
    column_hint: re.Pattern[str] | None
    cell_shape: re.Pattern[str]
    needs_context: bool

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every occurrence in ``text``; ``context`` is a column name or surrounding label."""
        ...

    def validate(self, value: str, context: str = "") -> str | None:
        """The entity ``value`` (a whole, stripped cell) is an instance of, or None."""
        ...


def window_before(text: str, start: int, width: int = 40) -> str:
    """Up to ``width`` characters before ``start``, never crossing into a previous cell."""
    window = text[max(0, start - width) : start]
    cut = window.rfind("\x1e")
    return window[cut + 1 :] if cut >= 0 else window


def window_after(text: str, end: int, width: int = 40) -> str:
    """Up to ``width`` characters after ``end``, never crossing into the next cell."""
    window = text[end : end + width]
    cut = window.find("\x1e")
    return window[:cut] if cut >= 0 else window


def bounded(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is not glued to letters or digits on either side."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())


_NOT_ASCII_DIGIT = re.compile(r"[^0-9]+")


def digits_of(value: str) -> str:
    """Only the ASCII digits of ``value``."""
    return _NOT_ASCII_DIGIT.sub("", value)

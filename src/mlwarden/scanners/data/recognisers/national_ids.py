"""National identifiers: one recogniser per scheme, checksums from ``python-stdnum``.

A scheme has a *strict* shape that is distinctive on its own (``123-45-6789``, ``AB123456C``,
``123.456.789-09``) and may have a *loose* one (a bare run of digits) that fires only with
context: a column name or a word just before it (``SSN``, ``BSN``, ``PESEL``...). Schemes whose
checksum lets one random number in ten or eleven through (BSN, PESEL, Steuer-ID) have no
strict shape at all. Passports have no checksum in their printed form: context only.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mlwarden.scanners.data.recognisers import base
from mlwarden.scanners.data.recognisers.base import EntityMatch, bounded, window_before
from mlwarden.scanners.data.recognisers.gates import (
    literal_positions,
    lowered,
    matches_in_regions,
    merged_regions,
)

_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _stdnum(module: str) -> Callable[[str], bool]:
    @functools.lru_cache(maxsize=16384)
    def check(value: str) -> bool:
        validator = importlib.import_module(f"stdnum.{module}")
        return bool(validator.is_valid(value))

    return check


def _us_ssn(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    # SSA rules: no area 000, 666 or 900-999, no group 00, no serial 0000; the two numbers
    # printed on sample cards are void.
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in ("078051120", "219099999", "123456789")


def _uk_nino(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if re.fullmatch(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]", compact) is None:
        return False
    return compact[:2] not in _NINO_BAD_PREFIXES


def _passport(value: str) -> bool:
    compact = value.replace(" ", "")
    return (
        6 <= len(compact) <= 9
        and any(ch.isdigit() for ch in compact)
        and len(set(compact)) > 2
        and not compact.isalpha()
    )


@dataclass(frozen=True)
class IdScheme:
    """How one national identifier looks, is checked and is named."""

    entity: str
    strict: re.Pattern[str] | None
    loose: re.Pattern[str] | None
    check: Callable[[str], bool]
    words: re.Pattern[str]
    column_hint: re.Pattern[str]
    score: float = 0.8
    #: Lower-case literals, one at the start of every form of ``words``: a loose shape is
    #: searched only just after one of them (see :mod:`gates`).
    gate: tuple[str, ...] = ()


def _p(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


SCHEMES: tuple[IdScheme, ...] = (
    IdScheme(
        base.US_SSN,
        _p(r"\d{3}-\d{2}-\d{4}"),
        _p(r"\d{3} ?\d{2} ?\d{4}"),
        _us_ssn,
        _p(r"\b(?:ssn|social security|soc\.? sec)", re.I),
        _p(r"ssn|social_?sec", re.I),
        0.7,
        gate=("ssn", "soc"),
    ),
    IdScheme(
        base.UK_NINO,
        _p(r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]"),
        None,
        _uk_nino,
        _p(r"\b(?:nino|national insurance|ni number|ni no)", re.I),
        _p(r"nino|national_?ins|\bni_?(?:no|num)", re.I),
        0.85,
    ),
    IdScheme(
        base.FR_NIR,
        _p(r"[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}"),
        None,
        _stdnum("fr.nir"),
        _p(r"\b(?:nir|insee|s[ée]curit[ée] sociale|num[ée]ro de s[ée]cu)", re.I),
        _p(r"\bnir\b|insee|secu", re.I),
        0.85,
    ),
    IdScheme(
        base.ES_NIF,
        _p(r"\d{8}-?[A-Z]"),
        None,
        _stdnum("es.dni"),
        _p(r"\b(?:dni|nif|documento)", re.I),
        _p(r"\bdni\b|\bnif\b", re.I),
        0.85,
    ),
    IdScheme(
        base.ES_NIE,
        _p(r"[XYZ]-?\d{7}-?[A-Z]"),
        None,
        _stdnum("es.nie"),
        _p(r"\b(?:nie|extranjero)", re.I),
        _p(r"\bnie\b", re.I),
        0.85,
    ),
    IdScheme(
        base.IT_FISCAL_CODE,
        _p(r"[A-Z]{6}\d{2}[A-EHLMPR-T][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]"),
        None,
        _stdnum("it.codicefiscale"),
        _p(r"\b(?:codice fiscale|cod\. fisc|c\.f\.)", re.I),
        _p(r"codice_?fiscale|cod_?fisc|\bcf\b", re.I),
        0.9,
    ),
    IdScheme(
        base.NL_BSN,
        None,
        _p(r"\d{4}\.?\d{2}\.?\d{3}|\d{9}"),
        _stdnum("nl.bsn"),
        _p(r"\b(?:bsn|burgerservicenummer|sofinummer)", re.I),
        _p(r"\bbsn\b|burgerservice|sofi", re.I),
        gate=("bsn", "burgerservicenummer", "sofinummer"),
    ),
    IdScheme(
        base.DE_TAX_ID,
        None,
        _p(r"\d{2} ?\d{3} ?\d{3} ?\d{3}"),
        _stdnum("de.idnr"),
        # Generic identity wording counts too: the checksum and the digit-repetition rule of
        # the Steuer-ID keep chance 11-digit numbers (phones, order numbers) out.
        _p(
            r"\b(?:steuer-?id|steueridentifikationsnummer|identifikationsnummer|idnr"
            r"|identity|identification|national id|tax id|tax number)",
            re.I,
        ),
        _p(r"steuer_?id|steueridentifikation|\bidnr\b|tax_?id|national_?id|identi", re.I),
        gate=("steuer", "identifikationsnummer", "idnr", "identi", "national id", "tax "),
    ),
    IdScheme(
        base.IN_AADHAAR,
        _p(r"[2-9]\d{3} \d{4} \d{4}"),
        _p(r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}"),
        _stdnum("in_.aadhaar"),
        _p(r"\b(?:aadhaa?r|uidai|uid)", re.I),
        _p(r"aadhaa?r|\buid\b", re.I),
        0.6,
        gate=("aadhaa", "uid"),
    ),
    IdScheme(
        base.BR_CPF,
        _p(r"\d{3}\.\d{3}\.\d{3}-\d{2}"),
        _p(r"\d{11}"),
        _stdnum("br.cpf"),
        _p(r"\bcpf\b", re.I),
        _p(r"\bcpf\b", re.I),
        0.85,
        gate=("cpf",),
    ),
    IdScheme(
        base.PL_PESEL,
        None,
        _p(r"\d{11}"),
        _stdnum("pl.pesel"),
        _p(r"\bpesel\b", re.I),
        _p(r"pesel", re.I),
        gate=("pesel",),
    ),
    IdScheme(
        base.PASSPORT,
        None,
        _p(r"[A-Z0-9]{1,3} ?[0-9]{5,8}|[A-Z]{1,2}[0-9A-Z]{6,8}"),
        _passport,
        _p(
            r"\b(?:passport|passeport|reisepass|pasaporte|passaporto|paszport|paspoort"
            r"|passaporte)\b",
            re.I,
        ),
        _p(r"passport|passeport|reisepass|pasaporte|passaporto|paszport|paspoort", re.I),
        0.7,
        gate=("pas", "reisepass"),
    ),
)


_FIRST_ATOM = re.compile(r"(\\d|\[[^\]]+\])(?:\{(\d+)(?:,(\d+))?\})?(.*)", re.S)


def _search_pattern(shape: re.Pattern[str]) -> re.Pattern[str]:
    """``shape`` not glued to a word, a dot or a dash on either side.

    When the shape starts with one character class (``\\d{3}-...``, ``[A-Z]{2}...``), the
    look-behind goes after that first character, so that the engine skips straight to the
    characters that can start a match instead of testing the look-behind everywhere.
    """
    after = r"(?![\w-]|[.,]\w)"
    m = _FIRST_ATOM.fullmatch(shape.pattern)
    if m is None or _has_top_level_branch(shape.pattern):
        return re.compile(rf"(?<![\w.-])(?:{shape.pattern}){after}", shape.flags)
    atom, low, high, tail = m.groups()
    if low is not None:
        lower, upper = int(low) - 1, int(high or low) - 1
        tail = (f"{atom}{{{lower},{upper}}}" if upper else "") + tail
    return re.compile(rf"{atom}(?<![\w.-].)(?:{tail}){after}", shape.flags)


def _has_top_level_branch(pattern: str) -> bool:
    depth, in_class, escaped = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


#: Characters a loose shape can be followed by that its search must see (look-ahead).
_LOOSE_MARGIN = 24
#: How far after a context word a loose value may start (``window_before``'s width).
_CONTEXT_WIDTH = 40


class NationalIdRecogniser:
    """One identifier scheme: strict shapes fire alone, loose ones only in context."""

    needs_context: bool

    def __init__(self, scheme: IdScheme) -> None:
        self.scheme = scheme
        self.entities: tuple[str, ...] = (scheme.entity,)
        self.column_hint: re.Pattern[str] | None = scheme.column_hint
        self.needs_context = scheme.strict is None
        shapes = [s.pattern for s in (scheme.strict, scheme.loose) if s is not None]
        self.cell_shape: re.Pattern[str] = re.compile("|".join(f"(?:{s})" for s in shapes))
        self._strict = _search_pattern(scheme.strict) if scheme.strict else None
        self._loose = _search_pattern(scheme.loose) if scheme.loose else None

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every identifier of this scheme in ``text``."""
        scheme = self.scheme
        hinted = bool(context) and scheme.column_hint.search(context) is not None
        seen: set[int] = set()
        if self._strict is not None:
            for m in self._strict.finditer(text):
                if scheme.check(m.group()):
                    seen.add(m.start())
                    near = hinted or scheme.words.search(window_before(text, m.start()))
                    score = min(1.0, scheme.score + (0.15 if near else 0.0))
                    yield EntityMatch(scheme.entity, m.start(), m.end(), score, True)
        if self._loose is None:
            return
        for m in self._loose_candidates(text, hinted):
            if m.start() in seen or not bounded(text, m.start(), m.end()):
                continue
            if not (hinted or scheme.words.search(window_before(text, m.start()))):
                continue
            if scheme.check(m.group()):
                yield EntityMatch(scheme.entity, m.start(), m.end(), 0.75, True)

    def _loose_candidates(self, text: str, hinted: bool) -> Iterator[re.Match[str]]:
        # Without a suggestive label a loose value needs a context word in the 40 characters
        # before it: only the stretches after a word's first letters are searched.
        assert self._loose is not None
        low_text = None if hinted or not self.scheme.gate else lowered(text)
        if low_text is None:
            yield from self._loose.finditer(text)
            return
        starts = literal_positions(low_text, self.scheme.gate)
        regions = merged_regions(starts, 0, _CONTEXT_WIDTH + 1, len(text))
        yield from matches_in_regions(self._loose, text, regions, _LOOSE_MARGIN)

    def validate(self, value: str, context: str = "") -> str | None:
        """The scheme's entity when ``value`` has its shape and checksum (and, for loose
        shapes, ``context`` names the scheme)."""
        scheme = self.scheme
        strict = scheme.strict is not None and scheme.strict.fullmatch(value) is not None
        if not strict:
            hinted = scheme.loose is not None and scheme.column_hint.search(context) is not None
            if not (hinted and scheme.loose is not None and scheme.loose.fullmatch(value)):
                return None
        return scheme.entity if scheme.check(value) else None


def national_id_recognisers() -> tuple[NationalIdRecogniser, ...]:
    """A recogniser for every scheme in :data:`SCHEMES`."""
    return tuple(NationalIdRecogniser(scheme) for scheme in SCHEMES)

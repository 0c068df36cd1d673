"""Dates of birth: a real calendar date in a plausible birth range, with context.

A date alone is not personal (orders, releases, log lines have dates): it becomes a birth date
under a column named for it (``dob``, ``birth_date``, ``Geburtsdatum``...) or after a word that
says so (``born``, ``DOB``, ``geboren``, ``née``...). Timestamps (a time after the date) never
are.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import DATE_OF_BIRTH, EntityMatch
from mlwarden.scanners.data.recognisers.gates import lower_case_words, lowered

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan januar janvier enero gennaio janeiro januari styczeń stycznia",
            "february feb februar février fevrier febrero febbraio fevereiro februari lutego",
            "march mar märz maerz mars marzo março maart marca",
            "april apr avril abril aprile kwietnia",
            "may mai mayo maggio maio mei maja",
            "june jun juni juin junio giugno junho czerwca",
            "july jul juli juillet julio luglio julho lipca",
            "august aug août aout agosto augustus sierpnia",
            "september sep sept septembre septiembre settembre setembro września",
            "october oct oktober octobre octubre ottobre outubro października",
            "november nov novembre noviembre novembro listopada",
            "december dec dezember décembre decembre diciembre dicembre dezembro grudnia",
        ),
        start=1,
    )
    for name in names.split()
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

_DATE = re.compile(
    r"(?<![\w.:/-])(?:"
    r"(?P<iy>\d{4})[-/.](?P<im>\d{1,2})[-/.](?P<id>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"|(?P<td>\d{1,2})\.?\s+(?:de\s+)?(?P<tm>" + _MONTH_NAMES + r")\.?,?\s+(?:de\s+)?(?P<ty>\d{4})"
    r"|(?P<um>" + _MONTH_NAMES + r")\.?\s+(?P<ud>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<uy>\d{4})"
    r")(?![\w:/-]|\.\d|[ T]\d{1,2}:\d{2})",
    re.I,
)
_BIRTH_ALTERNATIVES = (
    r"born", r"dob", r"d\.o\.b", r"date of birth", r"birth ?date", r"birthday", r"birth",
    r"geboren", r"geb\.", r"geburtsdatum", r"né", r"née", r"nee", r"date de naissance",
    r"naissance", r"nacido", r"nacida", r"fecha de nacimiento", r"nato", r"nata",
    r"data di nascita", r"nascido", r"nascida", r"data de nascimento", r"geboortedatum",
    r"urodzony", r"urodzona", r"data urodzenia",
)  # fmt: skip
_BIRTH_WORDS = re.compile(rf"\b(?:{'|'.join(_BIRTH_ALTERNATIVES)})\b", re.I)
#: The same words, for a lower-cased copy of the text (several times faster to search).
_BIRTH_WORDS_LOWER = lower_case_words(_BIRTH_ALTERNATIVES)


def _birth_words(text: str) -> Iterator[re.Match[str]]:
    """The matches of :data:`_BIRTH_WORDS` in ``text``."""
    low_text = lowered(text)
    if low_text is None:
        return _BIRTH_WORDS.finditer(text)
    return _BIRTH_WORDS_LOWER.finditer(low_text)


_COLUMN_HINT = re.compile(
    r"dob|birth|geburt|naissance|nacimiento|nascita|nascimento|geboorte|urodzenia|bday", re.I
)
_OLDEST = 120


def _plausible(year: int, month: int, day: int) -> bool:
    today = datetime.date.today()
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        return False
    return today.year - _OLDEST <= year and date <= today


def parse_birth_date(m: re.Match[str]) -> bool:
    """True when the date matched by the module's pattern is a plausible birth date."""
    g = m.groupdict()
    if g["iy"]:
        return _plausible(int(g["iy"]), int(g["im"]), int(g["id"]))
    if g["y"]:
        a, b, year = int(g["a"]), int(g["b"]), int(g["y"])
        # Day-first and month-first are both read; either calendar-valid reading counts.
        return _plausible(year, b, a) or _plausible(year, a, b)
    if g["ty"]:
        return _plausible(int(g["ty"]), _MONTHS[g["tm"].lower()], int(g["td"]))
    return _plausible(int(g["uy"]), _MONTHS[g["um"].lower()], int(g["ud"]))


class BirthDateRecogniser:
    """Dates of birth (context required)."""

    entities: tuple[str, ...] = (DATE_OF_BIRTH,)
    column_hint: re.Pattern[str] | None = _COLUMN_HINT
    cell_shape: re.Pattern[str] = re.compile(r"[\w.,/ -]{6,30}")
    needs_context: bool = True

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every birth date in ``text`` (a date after a birth word, or under a birth label)."""
        hinted = bool(context) and _COLUMN_HINT.search(context) is not None
        if hinted:
            spans = [(0, len(text))]
        else:
            # Dates are searched only just after a birth word, not over the whole text.
            spans = [(w.end(), min(len(text), w.end() + 40)) for w in _birth_words(text)]
        last_end = -1
        for low, high in spans:
            for m in _DATE.finditer(text, max(low, last_end), high):
                if parse_birth_date(m):
                    last_end = m.end()
                    yield EntityMatch(DATE_OF_BIRTH, m.start(), m.end(), 0.85, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """DATE_OF_BIRTH when ``value`` is a plausible birth date under a birth ``context``."""
        if not _COLUMN_HINT.search(context):
            return None
        m = _DATE.fullmatch(value)
        return DATE_OF_BIRTH if m is not None and parse_birth_date(m) else None

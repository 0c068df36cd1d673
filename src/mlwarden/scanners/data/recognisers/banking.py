"""IBANs: ISO 13616 mod-97 check and per-country length and layout (``python-stdnum``)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import IBAN, EntityMatch

# Country code, check digits, then the BBAN printed in groups of four or as one run. The
# look-behind follows the first letter so that the search skips straight to capitals.
_IBAN_CANDIDATE = re.compile(
    r"[A-Z](?<![\w-][A-Z])[A-Z]\d{2}"
    r"(?:(?: [A-Z0-9]{4}){2,8}(?: [A-Z0-9]{1,3})?|[A-Z0-9]{10,30})(?!\w)"
)


@functools.lru_cache(maxsize=65536)
def is_iban(value: str) -> bool:
    """True when ``value`` is an IBAN with a valid checksum and its country's length."""
    from stdnum import iban

    compact = value.replace(" ", "").replace("-", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    return bool(iban.is_valid(compact))


class IbanRecogniser:
    """International bank account numbers."""

    entities: tuple[str, ...] = (IBAN,)
    column_hint: re.Pattern[str] | None = re.compile(
        r"iban|account|konto|compte|cuenta|conto", re.I
    )
    cell_shape: re.Pattern[str] = re.compile(r"[A-Za-z]{2}\d{2}[ A-Za-z0-9-]{11,40}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every valid IBAN in ``text``; a trailing word glued on by spacing is dropped."""
        for m in _IBAN_CANDIDATE.finditer(text):
            value, end = m.group(), m.end()
            # "DE89 3704 0044 0532 0130 00 AB12" can swallow a following code: retry shorter.
            for _ in range(3):
                if is_iban(value):
                    yield EntityMatch(IBAN, m.start(), end, 0.95, True)
                    break
                cut = value.rfind(" ")
                if cut < 0:
                    break
                value, end = value[:cut], m.start() + cut

    def validate(self, value: str, context: str = "") -> str | None:
        """IBAN when the whole ``value`` is one."""
        return IBAN if is_iban(value) else None

"""Recognisers of personal data, for free text and for whole table columns.

- :func:`find_entities` finds entities in one text; :func:`find_entities_in_cells` in every
  cell of a free-text column at once.
- :func:`classify_column` gives a column's verdict from its name and values.
- :func:`mask_value` masks a value while keeping its format (evidence and redaction).

Heavy dependencies (``phonenumbers``, ``python-stdnum``, Faker's name lists) load on first use.
"""

from __future__ import annotations

from mlwarden.scanners.data.recognisers.base import (
    NATIONAL_IDS,
    ColumnVerdict,
    EntityMatch,
    Recogniser,
)
from mlwarden.scanners.data.recognisers.columns import classify_column
from mlwarden.scanners.data.recognisers.masking import mask_value
from mlwarden.scanners.data.recognisers.registry import all_recognisers
from mlwarden.scanners.data.recognisers.text import (
    find_entities,
    find_entities_in_cells,
    resolve_overlaps,
)

__all__ = [
    "NATIONAL_IDS",
    "ColumnVerdict",
    "EntityMatch",
    "Recogniser",
    "all_recognisers",
    "classify_column",
    "find_entities",
    "find_entities_in_cells",
    "mask_value",
    "resolve_overlaps",
]

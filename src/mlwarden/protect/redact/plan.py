"""Which columns are redacted and how: decided once, before any output is written.

A :class:`ColumnRule` says what happens to one column: every non-empty cell replaced
(``cells``: a column that holds an entity, or one the user named) or only the matched spans of
free text (``spans``). Rules are decided from the first rows of the input (``plan_rows``) and
then applied to every row, so that one column is treated the same from its first row to its
last, and the same plan can be shipped to many workers.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlwarden.protect.redact.errors import UnknownColumnError
from mlwarden.protect.redact.keys import RedactionKey
from mlwarden.protect.redact.methods import RedactionMethod, make_redactor


class RedactionScope(enum.StrEnum):
    """How much of a column's cells is replaced."""

    CELLS = "cells"  # every non-empty cell
    SPANS = "spans"  # only the entities found inside free text


@dataclass(frozen=True)
class ColumnRule:
    """What happens to one column (``index`` is its position in the input's columns)."""

    column: str
    index: int
    scope: RedactionScope
    entity: str | None = None  # the column's entity (CELLS); None when not recognised
    entities: frozenset[str] | None = None  # entities replaced in free text (SPANS); None: all


@dataclass(frozen=True)
class ColumnRedaction:
    """What the redaction did to one column, for the summary.

    ``type_changed`` names a column whose type had to change to hold the replacements (a
    numeric Parquet column replaced by text), as ``"int64 -> string"``.
    """

    column: str
    scope: str
    entity: str | None
    method: str
    cells_changed: int
    type_changed: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return {
            "column": self.column,
            "scope": self.scope,
            "entity": self.entity,
            "method": self.method,
            "cells_changed": self.cells_changed,
            "type_changed": self.type_changed,
        }


@dataclass(frozen=True)
class RedactionPlan:
    """What :func:`~mlwarden.protect.redact.redact` decided and did, column by column."""

    input: str
    output: str
    format: str
    method: str
    engine: str
    rows: int
    columns: tuple[ColumnRedaction, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cells_changed(self) -> int:
        """Cells changed in all columns together."""
        return sum(c.cells_changed for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return {
            "input": self.input,
            "output": self.output,
            "format": self.format,
            "method": self.method,
            "engine": self.engine,
            "rows": self.rows,
            "cells_changed": self.cells_changed,
            "columns": [c.to_dict() for c in self.columns],
            "notes": list(self.notes),
        }


@dataclass
class _ColumnEvidence:
    entity_counts: Counter[str] = field(default_factory=Counter)
    non_empty: int = 0
    free_text_cells: int = 0


class ColumnSurvey:
    """Column verdicts gathered batch by batch over the first rows of an input.

    A column's entity is the one its batch verdicts named for the most cells; it is free text
    when the batches that judged it free text hold at least half of its non-empty cells.
    """

    def __init__(self, columns: Sequence[str], entities: frozenset[str] | None) -> None:
        self.columns = list(columns)
        self.entities = entities
        self._evidence = [_ColumnEvidence() for _ in self.columns]

    def add(self, batch: Mapping[int, Sequence[str | None]]) -> None:
        """Judge one batch: column index -> its cells as text (``None`` when empty)."""
        from mlwarden.scanners.data.recognisers import classify_column

        for index, values in batch.items():
            verdict = classify_column(self.columns[index], values, entities=self.entities)
            evidence = self._evidence[index]
            evidence.non_empty += verdict.non_empty
            if verdict.free_text:
                evidence.free_text_cells += verdict.non_empty
            elif verdict.entity is not None:
                evidence.entity_counts[verdict.entity] += verdict.count

    def entity(self, index: int) -> str | None:
        """The entity column ``index`` holds, or None."""
        counts = self._evidence[index].entity_counts
        if not counts:
            return None
        return max(sorted(counts), key=lambda e: counts[e])

    def free_text(self, index: int) -> bool:
        """True when column ``index`` is mostly long, many-word text."""
        evidence = self._evidence[index]
        return evidence.non_empty > 0 and 2 * evidence.free_text_cells >= evidence.non_empty


def resolve_columns(available: Sequence[str], names: Iterable[str]) -> list[int]:
    """Indices of the named columns (every column of a repeated name); unknown names refused."""
    indices: list[int] = []
    unknown: list[str] = []
    for name in names:
        found = [i for i, column in enumerate(available) if column == name]
        if not found:
            unknown.append(name)
        indices.extend(i for i in found if i not in indices)
    if unknown:
        shown = ", ".join(repr(c) for c in available[:30])
        more = f" and {len(available) - 30} more" if len(available) > 30 else ""
        raise UnknownColumnError(
            f"no column named {', '.join(repr(u) for u in unknown)} in the input; "
            f"its columns are {shown}{more}"
        )
    return sorted(indices)


def decide_rules(
    survey: ColumnSurvey,
    *,
    columns: Sequence[int] | None,
    entities: frozenset[str] | None,
) -> list[ColumnRule]:
    """The rules for every column that will change.

    Named columns (``columns``) are replaced cell by cell; with ``entities`` too, only the
    named columns are touched and only for those entities (whole cells where the column holds
    one of them, spans elsewhere). Without ``columns``, every column with a verdict is
    replaced cell by cell and every free-text column span by span.
    """
    rules: list[ColumnRule] = []
    chosen = range(len(survey.columns)) if columns is None else columns
    for index in chosen:
        name = survey.columns[index]
        entity = survey.entity(index)
        if survey.free_text(index):
            if columns is None or entities is not None:
                rules.append(ColumnRule(name, index, RedactionScope.SPANS, entities=entities))
            else:
                rules.append(ColumnRule(name, index, RedactionScope.CELLS, entity=None))
        elif entity is not None:
            rules.append(ColumnRule(name, index, RedactionScope.CELLS, entity=entity))
        elif columns is not None:
            if entities is None:
                rules.append(ColumnRule(name, index, RedactionScope.CELLS))
            else:
                rules.append(ColumnRule(name, index, RedactionScope.SPANS, entities=entities))
    return rules


class CellRedactor:
    """Applies the rules to cells and counts the cells it changed, per column index.

    Everything here is a pure function of the cell, the rule, the method and the key: two
    workers given the same plan write the same bytes for the same cells.
    """

    def __init__(
        self, rules: Sequence[ColumnRule], method: RedactionMethod, key: RedactionKey | None
    ) -> None:
        self.rules = {rule.index: rule for rule in rules}
        self.method = method
        self.value = make_redactor(method, key)
        self.changed: Counter[int] = Counter()

    def cells(self, rule: ColumnRule, values: Sequence[str | None]) -> list[str | None]:
        """New values for some cells of one column (``None`` in: ``None`` out).

        A dropped whole cell becomes ``None``; callers writing text write it as empty.
        """
        if rule.scope is RedactionScope.SPANS:
            return self._spans(rule, values)
        out: list[str | None] = []
        memo: dict[str, str | None] = {}
        changed = 0
        for value in values:
            if value is None or not value.strip():
                out.append(value)
                continue
            if value not in memo:
                memo[value] = self.value(rule.entity, value)
            new = memo[value]
            changed += new != value
            out.append(new)
        self.changed[rule.index] += changed
        return out

    def _spans(self, rule: ColumnRule, values: Sequence[str | None]) -> list[str | None]:
        from mlwarden.scanners.data.recognisers import find_entities_in_cells

        found = find_entities_in_cells(values, context=rule.column, entities=rule.entities)
        out: list[str | None] = []
        changed = 0
        for value, matches in zip(values, found, strict=True):
            if value is None or not matches:
                out.append(value)
                continue
            pieces: list[str] = []
            cursor = 0
            for match in matches:
                pieces.append(value[cursor : match.start])
                pieces.append(self.value(match.entity, value[match.start : match.end]) or "")
                cursor = match.end
            pieces.append(value[cursor:])
            new = "".join(pieces)
            changed += new != value
            out.append(new)
        self.changed[rule.index] += changed
        return out


def summarise(
    rules: Sequence[ColumnRule],
    method: RedactionMethod,
    changed: Mapping[int, int],
    type_changes: Mapping[int, str] | None = None,
) -> tuple[ColumnRedaction, ...]:
    """One :class:`ColumnRedaction` per rule, in column order."""
    type_changes = type_changes or {}
    return tuple(
        ColumnRedaction(
            column=rule.column,
            scope=rule.scope.value,
            entity=rule.entity,
            method=method.value,
            cells_changed=changed.get(rule.index, 0),
            type_changed=type_changes.get(rule.index),
        )
        for rule in sorted(rules, key=lambda r: r.index)
    )

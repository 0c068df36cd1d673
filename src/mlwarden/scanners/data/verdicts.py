"""Column verdicts summed over every batch of a dataset.

A batch gives each column a verdict (:func:`classify_column`): the entity most of its values
are, with a count and masked examples. A column of long, many-word values is free text
instead, and every cell is searched (:func:`cells_for_pii`). :class:`DatasetTally` adds both
up over all batches, so that a finding speaks of the whole file: how many values, what share
of the column's non-empty cells, the first row, up to :data:`EXAMPLES` masked examples.

Only masked values are ever kept: a tally can be printed, logged or pickled to another process
without leaking what it counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from mlwarden.scanners.data.tables import ColumnBatch

#: Masked examples kept per column and entity.
EXAMPLES = 3
#: How a column's entities were found: its verdict, or a search of every cell.
BY_COLUMN = "column"
BY_CELLS = "cells"


@dataclass(slots=True)
class EntityTally:
    """One entity in one column, over every batch read so far."""

    entity: str
    detection: str  # BY_COLUMN or BY_CELLS
    count: int = 0  # values (column) or matches (cells)
    cells: int = 0  # cells that hold the entity
    weighted_confidence: float = 0.0  # confidence times count, summed
    first_row: int | None = None
    examples: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """The mean confidence of the values counted."""
        return self.weighted_confidence / self.count if self.count else 0.0

    def add(
        self, count: int, cells: int, confidence: float, first_row: int | None, examples: list[str]
    ) -> None:
        """Add what one batch found."""
        self.count += count
        self.cells += cells
        self.weighted_confidence += confidence * count
        self._note(first_row, examples)

    def absorb(self, other: EntityTally, row_offset: int = 0) -> None:
        """Add the tally of the same entity in a later part of the dataset."""
        self.count += other.count
        self.cells += other.cells
        self.weighted_confidence += other.weighted_confidence
        first = other.first_row + row_offset if other.first_row is not None else None
        self._note(first, other.examples)

    def _note(self, first_row: int | None, examples: list[str]) -> None:
        if self.first_row is None:
            self.first_row = first_row
        for example in examples:
            if len(self.examples) < EXAMPLES and example not in self.examples:
                self.examples.append(example)


@dataclass(slots=True)
class ColumnTally:
    """One column of one table: its size and the entities found in it."""

    name: str
    table: str | None = None
    non_empty: int = 0
    free_text: bool = False
    entities: dict[str, EntityTally] = field(default_factory=dict)

    def share(self, tally: EntityTally) -> float:
        """The share of this column's non-empty cells that hold the entity."""
        return min(1.0, tally.cells / self.non_empty) if self.non_empty else 0.0

    def entity(self, entity: str, detection: str) -> EntityTally:
        """The tally of ``entity`` in this column, created on first use."""
        if entity not in self.entities:
            self.entities[entity] = EntityTally(entity, detection)
        return self.entities[entity]


@dataclass(slots=True)
class DatasetTally:
    """Every column of a dataset, over every batch read so far."""

    columns: dict[tuple[str | None, str], ColumnTally] = field(default_factory=dict)

    def add(self, batch: ColumnBatch) -> None:
        """Judge every column of a batch and add the verdicts."""
        for name, values in batch.columns.items():
            column = self.columns.get((batch.table, name))
            if column is None:
                column = self.columns[batch.table, name] = ColumnTally(name, batch.table)
            if column.free_text:
                self.add_cells(column, values, batch.first_row)
                continue
            self._add_column(column, values, batch.first_row)

    def _add_column(self, column: ColumnTally, values: list[str | None], first_row: int) -> None:
        from mlwarden.scanners.data.recognisers import classify_column

        verdict = classify_column(column.name, values)
        if verdict.free_text:
            # Once free text, always: later batches are searched cell by cell too.
            column.free_text = True
            self.add_cells(column, values, first_row)
            return
        column.non_empty += verdict.non_empty
        if verdict.entity is None or verdict.count <= 0:
            return
        row = first_row + verdict.first_row if verdict.first_row is not None else None
        column.entity(verdict.entity, BY_COLUMN).add(
            verdict.count, verdict.count, verdict.confidence, row, list(verdict.examples)
        )

    def add_cells(
        self,
        column: ColumnTally,
        values: list[str | None],
        first_row: int,
        row_ids: list[int] | None = None,
    ) -> None:
        """Search every cell of a free-text column and add the matches.

        The first row of an entity is ``first_row`` plus the cell's index, or the cell's entry
        in ``row_ids`` when given (line numbers of a text file).
        """
        from mlwarden.scanners.data.freetext import cells_for_pii
        from mlwarden.scanners.data.recognisers import mask_value

        column.non_empty += sum(1 for v in values if v is not None and v.strip())
        found = cells_for_pii(values, context=column.name)
        per_entity: dict[str, tuple[int, set[int], float, int, list[str]]] = {}
        for index, matches in enumerate(found):
            if not matches:
                continue
            cell = values[index] or ""
            for match in matches:
                count, rows, score, first, examples = per_entity.get(
                    match.entity, (0, set(), 0.0, index, [])
                )
                rows.add(index)
                if len(examples) < EXAMPLES:
                    examples.append(mask_value(match.entity, cell[match.start : match.end]))
                per_entity[match.entity] = (count + 1, rows, score + match.score, first, examples)
        for entity, (count, rows, score, first, examples) in per_entity.items():
            row = row_ids[first] if row_ids is not None else first_row + first
            column.entity(entity, BY_CELLS).add(count, len(rows), score / count, row, examples)

    def merge(self, other: DatasetTally, row_offset: int = 0) -> None:
        """Add the tally of a later part of the same dataset (a partition read elsewhere).

        ``row_offset`` is the index of that part's first row in the whole dataset.
        """
        for key, theirs in other.columns.items():
            ours = self.columns.get(key)
            if ours is None:
                ours = self.columns[key] = ColumnTally(theirs.name, theirs.table)
            ours.non_empty += theirs.non_empty
            ours.free_text = ours.free_text or theirs.free_text
            for entity, tally in theirs.entities.items():
                ours.entity(entity, tally.detection).absorb(tally, row_offset)

    def results(self) -> Iterator[tuple[ColumnTally, EntityTally]]:
        """Every (column, entity) found, in column order, the most frequent entity first."""
        for column in self.columns.values():
            for tally in sorted(column.entities.values(), key=lambda t: -t.count):
                yield column, tally


__all__ = ["BY_CELLS", "BY_COLUMN", "ColumnTally", "DatasetTally", "EntityTally"]

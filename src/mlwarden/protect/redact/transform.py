"""The one interface every file format rewrites through: column values in, column values out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mlwarden.protect.redact.keys import RedactionKey
from mlwarden.protect.redact.methods import ENCRYPTED_PREFIX, RedactionMethod, ValueDecryptor
from mlwarden.protect.redact.plan import CellRedactor, ColumnRule


class TableTransform(Protocol):
    """Changes some columns of a batch of rows; the format modules do the reading and writing.

    ``wanted`` lists the column indices to hand to :meth:`apply` (of a table ``width`` wide);
    ``apply`` returns the new cells of one column, ``None`` for a dropped or missing cell;
    ``changed`` counts the cells it changed, per column index.
    """

    changed: Counter[int]

    def wanted(self, width: int) -> list[int]:
        """Column indices this transform changes."""
        ...

    def apply(self, index: int, values: Sequence[str | None]) -> list[str | None]:
        """The new cells of column ``index`` for one batch."""
        ...


class RedactTransform:
    """Redaction through the plan's rules (see :class:`CellRedactor`)."""

    def __init__(self, cells: CellRedactor) -> None:
        self.cells = cells
        self.changed = cells.changed

    def wanted(self, width: int) -> list[int]:
        """The columns that have a rule."""
        return sorted(i for i in self.cells.rules if i < width)

    def apply(self, index: int, values: Sequence[str | None]) -> list[str | None]:
        """Redact one column's cells."""
        return self.cells.cells(self.cells.rules[index], values)


class RestoreTransform:
    """Decrypts every ``encrypt`` token found in the text cells of some (or all) columns."""

    def __init__(self, key: RedactionKey, columns: Sequence[int] | None = None) -> None:
        self._decryptor = ValueDecryptor(key)
        self._prefix = ENCRYPTED_PREFIX
        self.columns = None if columns is None else list(columns)
        self.changed: Counter[int] = Counter()

    def wanted(self, width: int) -> list[int]:
        """The named columns, or all of them."""
        return (
            list(range(width)) if self.columns is None else [c for c in self.columns if c < width]
        )

    def apply(self, index: int, values: Sequence[str | None]) -> list[str | None]:
        """Each token decrypted in place; text without tokens is returned as it is."""
        out: list[str | None] = []
        changed = 0
        for value in values:
            if value is None or self._prefix not in value:
                out.append(value)
                continue
            new = self._decryptor.decrypt_text(value)
            changed += new != value
            out.append(new)
        self.changed[index] += changed
        return out


@dataclass(frozen=True)
class RedactSpec:
    """Everything a worker needs to build the redaction: plain, picklable data."""

    rules: tuple[ColumnRule, ...]
    method: RedactionMethod
    key: RedactionKey | None

    def build(self) -> TableTransform:
        """A fresh transform with its own counts."""
        return RedactTransform(CellRedactor(self.rules, self.method, self.key))


@dataclass(frozen=True)
class RestoreSpec:
    """Everything a worker needs to decrypt ``encrypt`` tokens."""

    key: RedactionKey
    columns: tuple[int, ...] | None = None

    def build(self) -> TableTransform:
        """A fresh transform with its own counts."""
        return RestoreTransform(self.key, self.columns)


TransformSpec = RedactSpec | RestoreSpec

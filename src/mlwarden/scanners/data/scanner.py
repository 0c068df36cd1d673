"""The dataset scanner: personal data in CSV/TSV, Parquet, JSON Lines, Excel and text corpora.

Datasets are read in bounded batches (:mod:`mlwarden.scanners.data.tables`), each column is
judged per batch and the verdicts are summed over the file
(:mod:`mlwarden.scanners.data.verdicts`); one finding is reported per column and entity, under
the entity's rule (MW600-619). Plain-text files are searched only when they look like a
corpus (see :mod:`mlwarden.scanners.data.freetext`).

A report never carries a personal value: examples are masked, column names holding a value
are masked too, and parse errors are reported without the row they quote. When a limit or a
malformed part ends the read early, what was found up to there is still reported before the
limit or format finding the engine adds.

The scan option ``sample`` (``--sample N``) reads only the first N rows of each table. The
time limit of a dataset grows with its size (:func:`with_time_for_size`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.data.freetext import (
    is_corpus_text,
    is_personal_value,
    masked_name,
    scan_text_for_pii,
)
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.sniff import DATA_KINDS, Kind

if TYPE_CHECKING:
    # Imported where used: most text files met in a scan are no corpus, and a scan should not
    # pay for the table readers and tallies to learn that.
    from mlwarden.scanners.data.tables import ReadStats
    from mlwarden.scanners.data.verdicts import ColumnTally, DatasetTally, EntityTally

#: A dataset gets one more second of scan time for each this many bytes (1 GiB: 512 s more).
BYTES_PER_EXTRA_SECOND = 2 * 1024 * 1024
#: Below this confidence a finding is reported one severity level lower.
LOW_CONFIDENCE = 0.5

_LOWER = {
    Severity.CRITICAL: Severity.HIGH,
    Severity.HIGH: Severity.MEDIUM,
    Severity.MEDIUM: Severity.LOW,
    Severity.LOW: Severity.LOW,
    Severity.INFO: Severity.INFO,
}


def sample_option(context: ScanContext) -> int | None:
    """The ``sample`` scan option: read only this many rows per table (None: all)."""
    value = context.options.get("sample")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"the sample option must be a positive integer, got {value!r}")
    return value


def _rule_and_severity(entity: EntityTally) -> tuple[str, Severity, float]:
    """The entity's rule, the finding's severity and its rounded confidence."""
    from mlwarden.catalogue.data import rule_for_entity
    from mlwarden.rules import get_rule
    from mlwarden.scanners.data.recognisers import NATIONAL_IDS

    rule = rule_for_entity(entity.entity, NATIONAL_IDS)
    confidence = round(entity.confidence, 3)
    severity = get_rule(rule).severity
    if confidence < LOW_CONFIDENCE:
        severity = _LOWER[severity]
    return rule, severity, confidence


def _skipped(stats: ReadStats) -> str:
    parts = []
    if stats.skipped:
        parts.append(f"{stats.skipped} row{'s' if stats.skipped != 1 else ''}")
    if stats.skipped_columns:
        plural = "s" if stats.skipped_columns != 1 else ""
        parts.append(f"{stats.skipped_columns} column{plural} past the limit")
    return " and ".join(parts)


def with_time_for_size(context: ScanContext, size: int) -> ScanContext:
    """The context with a time limit that grows with the dataset's size.

    The per-file limit is there to end hangs, not to cut short an honest read of a large
    dataset: each :data:`BYTES_PER_EXTRA_SECOND` bytes add one second to it.
    """
    extra = size / BYTES_PER_EXTRA_SECOND
    if extra < 1:
        return context
    limits = dataclasses.replace(
        context.limits, seconds_per_file=context.limits.seconds_per_file + extra
    )
    return ScanContext(
        limits=limits,
        started=context.started,
        nested=context.nested,
        options=context.options,
        warnings=context.warnings,
    )


@register
class DatasetScanner(Scanner):
    """Personal data in tabular datasets and plain-text corpora."""

    name = "datasets"
    kinds: ClassVar[frozenset[Kind]] = DATA_KINDS | {Kind.TEXT}

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        if artifact.kind is Kind.TEXT:
            if is_corpus_text(artifact):
                yield from self._scan_text(artifact, context)
            return
        scheduler = context.options.get("scheduler")
        if scheduler and artifact.fs_path and artifact.member is None:
            yield from self._scan_on_cluster(artifact, context, str(scheduler))
            return
        yield from self._scan_table(artifact, context)

    def _scan_on_cluster(
        self, artifact: Artifact, context: ScanContext, scheduler: str
    ) -> Iterator[Finding]:
        """The same judgement as :meth:`_scan_table`, over partitions on a Dask cluster."""
        from mlwarden.distributed import ClusterError, IncompleteScan, scan_dataset_on_cluster

        try:
            yield from scan_dataset_on_cluster(
                str(artifact.fs_path),
                scheduler,
                sample=sample_option(context),
                limits=context.limits,
                display=artifact.path,
            )
        except IncompleteScan as exc:
            yield from exc.findings
            raise FormatError(str(exc)) from None
        except ClusterError as exc:
            raise FormatError(f"the Dask cluster could not scan this file: {exc}") from None

    def _scan_table(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        from mlwarden.scanners.data.tables import ReadStats, read_batches
        from mlwarden.scanners.data.verdicts import DatasetTally

        context = with_time_for_size(context, artifact.size)
        stats = ReadStats(format=artifact.kind.value)
        tally = DatasetTally()
        batches = read_batches(
            artifact, context, stats, is_value=is_personal_value, sample=sample_option(context)
        )
        try:
            for batch in batches:
                context.check_time()
                tally.add(batch)
        except (LimitExceeded, FormatError, OSError):
            # Report what was found before the read stopped, then let the engine say why.
            yield from self.table_findings(artifact, tally, stats)
            raise
        yield from self.table_findings(artifact, tally, stats)

    def table_findings(
        self, artifact: Artifact, tally: DatasetTally, stats: ReadStats
    ) -> Iterator[Finding]:
        """The findings of a whole dataset from its tally and read statistics.

        Public so that a dataset tallied elsewhere (partitions on a cluster, merged with
        :meth:`DatasetTally.merge`) is reported exactly as a local scan would report it.
        """
        for column, entity in tally.results():
            yield self._column_finding(artifact, column, entity, stats)
        if stats.skipped or stats.skipped_columns:
            yield self.finding(
                artifact,
                "MW629",
                f"{_skipped(stats)} could not be read and were skipped: "
                + "; ".join(stats.reasons or ["too many columns"]),
                evidence={
                    "format": stats.format,
                    "skipped": stats.skipped,
                    "skipped_columns": stats.skipped_columns,
                    "reasons": list(stats.reasons),
                    "rows_scanned": stats.rows,
                },
            )
        if stats.sampled:
            yield self.finding(
                artifact,
                "MW628",
                f"only the first {stats.rows} rows were scanned (--sample)",
                evidence={"format": stats.format, "rows_scanned": stats.rows},
            )

    def _column_finding(
        self, artifact: Artifact, column: ColumnTally, entity: EntityTally, stats: ReadStats
    ) -> Finding:
        rule, severity, confidence = _rule_and_severity(entity)
        name = masked_name(column.name)
        share = column.share(entity)
        where = f"sheet {masked_name(column.table)!r}, " if column.table is not None else ""
        what = "values" if entity.detection == "column" else "matches in free text"
        example = f", e.g. {entity.examples[0]}" if entity.examples else ""
        evidence: dict[str, object] = {
            "entity": entity.entity,
            "column": name,
            "count": entity.count,
            "share": round(share, 4),
            "confidence": confidence,
            "examples": list(entity.examples),
            "rows_scanned": stats.rows,
            "first_row": entity.first_row,
            "detection": entity.detection,
            "format": stats.format,
        }
        if column.table is not None:
            evidence["sheet"] = masked_name(column.table)
        if stats.sampled:
            evidence["sampled"] = True
        return self.finding(
            artifact,
            rule,
            f"{where}column {name!r}: {entity.count} {entity.entity} {what} in"
            f" {share:.0%} of its non-empty cells{example}",
            severity=severity,
            evidence=evidence,
            key=f"{column.table or ''}\x1f{column.name}\x1f{entity.entity}",
        )

    def _scan_text(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        from mlwarden.scanners.data.freetext import text_batches
        from mlwarden.scanners.data.verdicts import ColumnTally, DatasetTally

        # A text file is one free-text column whose cells are its lines.
        column = ColumnTally(name="", free_text=True)
        tally = DatasetTally(columns={(None, ""): column})
        try:
            for numbers, lines in text_batches(artifact, context.limits.max_metadata_bytes):
                context.check_time()
                tally.add_cells(column, lines, 0, row_ids=numbers)
        except LimitExceeded:
            yield from self._text_findings(artifact, tally)
            raise
        yield from self._text_findings(artifact, tally)

    def _text_findings(self, artifact: Artifact, tally: DatasetTally) -> Iterator[Finding]:
        for column, entity in tally.results():
            yield self._text_finding(artifact, column, entity)

    def _text_finding(
        self, artifact: Artifact, column: ColumnTally, entity: EntityTally
    ) -> Finding:
        rule, severity, confidence = _rule_and_severity(entity)
        example = f", e.g. {entity.examples[0]}" if entity.examples else ""
        return self.finding(
            artifact,
            rule,
            f"{entity.count} {entity.entity} matches on {entity.cells} lines{example}",
            severity=severity,
            evidence={
                "entity": entity.entity,
                "count": entity.count,
                "lines": entity.cells,
                "share": round(column.share(entity), 4),
                "confidence": confidence,
                "examples": list(entity.examples),
                "detection": "cells",
                "format": "text",
            },
            key=entity.entity,
            line=entity.first_row,
        )


__all__ = ["DatasetScanner", "sample_option", "scan_text_for_pii"]

"""Dataset scans on a Dask cluster: the same per-batch work, spread over workers.

A personal-data scan of a large table spends its time judging columns and searching free
text, batch by batch; reading the batches is cheap next to it. Here the batches are read on
this machine with the scanner's own readers (so that they are exactly the batches a local scan
sees), each batch is judged on a worker of a ``dask.distributed`` cluster with the scanner's
own :class:`~mlwarden.scanners.data.verdicts.DatasetTally`, and the per-batch tallies are
added up here in file order. The findings are therefore the ones a local scan reports.

A local scan treats a column as free text from the first batch that looks like free text on;
a worker judging a later batch may not know yet. A batch judged without that knowledge is
judged again once it is known, so that the order-dependent rule holds exactly.

Redaction on a cluster is in :mod:`mlwarden.protect.redact.dask_engine`. Dask is imported only
when one of these functions runs.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwarden.findings import Finding

if TYPE_CHECKING:
    from mlwarden.scanners.data.tables import ColumnBatch
    from mlwarden.scanners.data.verdicts import DatasetTally
    from mlwarden.scanners.interface import Limits

#: How long to wait for the scheduler to answer before giving up.
CONNECT_TIMEOUT = "30s"
#: Batches in flight per worker: enough to keep workers busy, few enough to bound memory here.
IN_FLIGHT_PER_WORKER = 2

ColumnKey = tuple[str | None, str]


class ClusterError(Exception):
    """The Dask cluster could not be reached or used."""


class IncompleteScan(Exception):
    """The dataset could not be read to its end; ``findings`` holds what was found before.

    ``__cause__`` is the scanner's ``FormatError`` or ``LimitExceeded``.
    """

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


def connect_client(scheduler: str) -> Any:
    """A ``dask.distributed.Client`` for the scheduler at ``scheduler`` (``tcp://host:8786``)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(
            "the dask engine needs dask.distributed: pip install 'mlwarden[dask]'"
        ) from None
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def tally_batch(batch: ColumnBatch, free_text: frozenset[ColumnKey]) -> DatasetTally:
    """Judge one batch (runs on a worker); ``free_text`` lists columns already free text."""
    from mlwarden.scanners.data.verdicts import ColumnTally, DatasetTally

    tally = DatasetTally()
    for key in free_text:
        table, name = key
        if name in batch.columns and table == batch.table:
            tally.columns[key] = ColumnTally(name, table, free_text=True)
    tally.add(batch)
    # The batch's column order, as a local scan meets the columns.
    ordered = [(batch.table, name) for name in batch.columns]
    tally.columns = {key: tally.columns[key] for key in ordered if key in tally.columns}
    return tally


def _stale(total: DatasetTally, part: DatasetTally, assumed: frozenset[ColumnKey]) -> bool:
    # Judged as a plain column although an earlier batch had already made it free text.
    return any(
        key not in assumed and not column.free_text and total.columns.get(key) is not None
        and total.columns[key].free_text
        for key, column in part.columns.items()
    )  # fmt: skip


def scan_dataset_on_cluster(
    path: str | os.PathLike[str],
    scheduler: str,
    *,
    sample: int | None = None,
    limits: Limits | None = None,
    display: str | None = None,
) -> list[Finding]:
    """The personal-data findings of one dataset file, judged on the cluster at ``scheduler``.

    ``display`` is the path findings show (default: ``path`` as given). ``sample`` reads only
    the first rows, like ``scan --sample``. Findings equal those of a local scan of the file.
    A file that cannot be read completely raises :class:`IncompleteScan`, which carries the
    findings made before the read stopped.
    """
    from mlwarden.scanners.data.freetext import is_personal_value
    from mlwarden.scanners.data.scanner import DatasetScanner
    from mlwarden.scanners.data.tables import ReadStats, read_batches
    from mlwarden.scanners.data.verdicts import DatasetTally
    from mlwarden.scanners.interface import (
        Artifact,
        FormatError,
        LimitExceeded,
        ScanContext,
    )
    from mlwarden.scanners.interface import Limits as DefaultLimits
    from mlwarden.sniff import DATA_KINDS, HEAD_BYTES, Kind, sniff

    file = Path(path)
    with file.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    kind = sniff(head, file.name)
    if kind is Kind.ZIP and file.suffix.lower() in (".xlsx", ".xlsm"):
        kind = Kind.EXCEL
    if kind not in DATA_KINDS:
        raise FormatError(f"{file} is {kind.value}, not a dataset")
    artifact = Artifact(
        path=display or str(path),
        kind=kind,
        size=file.stat().st_size,
        opener=lambda: file.open("rb"),
        head=head,
        fs_path=str(file),
    )
    options: dict[str, object] = {} if sample is None else {"sample": sample}
    context = ScanContext(limits=limits or DefaultLimits(), options=options)
    stats = ReadStats(format=kind.value)
    total = DatasetTally()
    scanner = DatasetScanner()
    client = connect_client(scheduler)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        window = IN_FLIGHT_PER_WORKER * workers
        pending: deque[tuple[ColumnBatch, frozenset[ColumnKey], Any]] = deque()

        def settle_one() -> None:
            batch, assumed, future = pending.popleft()
            part = future.result()
            if _stale(total, part, assumed):
                known = _free_text_columns(total)
                part = client.submit(tally_batch, batch, known, pure=False).result()
            total.merge(part)

        try:
            batches = read_batches(
                artifact, context, stats, is_value=is_personal_value, sample=sample
            )
            for batch in batches:
                assumed = _free_text_columns(total)
                pending.append(
                    (batch, assumed, client.submit(tally_batch, batch, assumed, pure=False))
                )
                while len(pending) >= window:
                    settle_one()
            while pending:
                settle_one()
        except (FormatError, LimitExceeded) as exc:
            while pending:
                settle_one()
            found = list(scanner.table_findings(artifact, total, stats))
            raise IncompleteScan(f"{artifact.path}: {exc}", found) from exc
    finally:
        client.close()
    return list(scanner.table_findings(artifact, total, stats))


def _free_text_columns(total: DatasetTally) -> frozenset[ColumnKey]:
    return frozenset(key for key, column in total.columns.items() if column.free_text)

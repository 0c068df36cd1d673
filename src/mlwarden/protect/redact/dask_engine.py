"""Redaction over partitions of a large dataset on a Dask cluster (``engine="dask"``).

The input is cut into partitions the same way a single pass reads it: CSV into byte ranges
that start on record boundaries, JSON Lines into byte ranges that start on lines, Parquet into
runs of row groups. Each worker rewrites its partition with the same plan, the same pure value
functions and the same writer code as the local engine, into a part file beside the output;
the parts are then joined in order into the single output. A CSV or JSON Lines output is
therefore byte-for-byte the file the local engine writes; a Parquet output has the same schema,
row groups and values.

Workers must see the input and the output's directory at the same paths (one machine, or a
shared file system), as Dask's own file readers require. ``dask.distributed`` is imported only
here, and only when this engine runs.
"""

from __future__ import annotations

import itertools
import math
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from mlwarden.protect.redact import csv_format, jsonl_format, parquet_format
from mlwarden.protect.redact.errors import RedactionError
from mlwarden.protect.redact.formats import Layout, parquet_schema, rewrite_parquet
from mlwarden.protect.redact.transform import TransformSpec


def connect(scheduler: str) -> Any:
    """A ``dask.distributed.Client`` for the scheduler at ``scheduler``; refused clearly."""
    from mlwarden.distributed import ClusterError, connect_client

    try:
        return connect_client(scheduler)
    except ClusterError as exc:
        raise RedactionError(str(exc)) from None


def rewrite_text_part(
    path: Path, layout: Layout, spec: TransformSpec, start: int, end: int, part: Path
) -> tuple[int, int, dict[int, int]]:
    """Rewrite one CSV or JSON Lines byte range into ``part`` (runs on a worker).

    Returns rows, the offset where the last record ended, and the cells changed per column.
    """
    transform = spec.build()
    with part.open("wb") as sink:
        if isinstance(layout, csv_format.CsvLayout):
            rows, stop = csv_format.rewrite_range(
                path, layout, transform, sink, start=start, end=end, header=False
            )
        elif isinstance(layout, jsonl_format.JsonlLayout):
            rows, stop = jsonl_format.rewrite_range(
                path, layout, transform, sink, start=start, end=end
            )
        else:
            raise TypeError("byte ranges are for CSV and JSON Lines")
    return rows, stop, dict(transform.changed)


def rewrite_parquet_part(
    path: Path, layout: parquet_format.ParquetLayout, spec: TransformSpec, start: int, end: int,
    part: Path,
) -> tuple[int, dict[int, int]]:  # fmt: skip
    """Rewrite row groups ``[start, end)`` into the Parquet file ``part`` (runs on a worker)."""
    transform = spec.build()
    rows = rewrite_parquet(path, layout, spec, transform, part, start, end)
    return rows, dict(transform.changed)


def rewrite_on_cluster(
    path: Path, layout: Layout, spec: TransformSpec, output: Path, scheduler: str, blocksize: int
) -> tuple[int, Counter[int]]:
    """Rewrite ``path`` into ``output`` over partitions of about ``blocksize`` bytes."""
    parts_dir = Path(tempfile.mkdtemp(prefix=f".{output.name}.parts-", dir=output.parent))
    client = connect(scheduler)
    try:
        if isinstance(layout, parquet_format.ParquetLayout):
            return _parquet(client, path, layout, spec, output, parts_dir, blocksize)
        return _text(client, path, layout, spec, output, parts_dir, blocksize)
    finally:
        client.close()
        shutil.rmtree(parts_dir, ignore_errors=True)


def _text(
    client: Any, path: Path, layout: Layout, spec: TransformSpec, output: Path, parts_dir: Path,
    blocksize: int,
) -> tuple[int, Counter[int]]:  # fmt: skip
    assert not isinstance(layout, parquet_format.ParquetLayout)
    parts = max(1, math.ceil(layout.size / blocksize))
    if isinstance(layout, csv_format.CsvLayout):
        bounds = csv_format.record_boundaries(path, layout, parts)
    else:
        bounds = jsonl_format.line_boundaries(path, parts)
    ranges = list(itertools.pairwise(bounds))
    names = [parts_dir / f"part-{i:06d}" for i in range(len(ranges))]
    futures = [
        client.submit(rewrite_text_part, path, layout, spec, start, end, name, pure=False)
        for (start, end), name in zip(ranges, names, strict=True)
    ]
    results = client.gather(futures)
    for (_start, end), (_rows, stop, _changed) in zip(ranges, results, strict=True):
        if stop > end:
            # A range's last record ran past the next range's start: the split was not on a
            # record boundary (quote characters inside unquoted fields can cause that).
            raise RedactionError(
                f"{path} could not be split on record boundaries for the dask engine; "
                "redact it with the local engine"
            )
    with output.open("wb") as sink:
        if isinstance(layout, csv_format.CsvLayout):
            with path.open("rb") as source:
                sink.write(source.read(layout.data_start))
        for name in names:
            with name.open("rb") as part:
                shutil.copyfileobj(part, sink, 1 << 20)
    return _totals([(rows, changed) for rows, _stop, changed in results])


def _parquet(
    client: Any, path: Path, layout: parquet_format.ParquetLayout, spec: TransformSpec,
    output: Path, parts_dir: Path, blocksize: int,
) -> tuple[int, Counter[int]]:  # fmt: skip
    groups = layout.row_groups
    size = path.stat().st_size
    parts = max(1, min(groups, math.ceil(size / blocksize)))
    bounds = [groups * k // parts for k in range(parts + 1)]
    ranges = [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
    names = [parts_dir / f"part-{i:06d}.parquet" for i in range(len(ranges))]
    futures = [
        client.submit(rewrite_parquet_part, path, layout, spec, start, end, name, pure=False)
        for (start, end), name in zip(ranges, names, strict=True)
    ]
    results = client.gather(futures)
    schema = parquet_schema(path, spec)
    writer = parquet_format.make_writer(str(output), schema, layout)
    try:
        for name in names:
            part = parquet_format.open_parquet(name)
            for group in range(part.metadata.num_row_groups):
                table = part.read_row_group(group, use_threads=False)
                writer.write_table(table, row_group_size=max(1, table.num_rows))
    finally:
        writer.close()
    return _totals(results)


def _totals(results: list[tuple[int, dict[int, int]]]) -> tuple[int, Counter[int]]:
    rows = 0
    changed: Counter[int] = Counter()
    for part_rows, part_changed in results:
        rows += part_rows
        changed.update(part_changed)
    return rows, changed

"""Datasets with personal data for the redaction tests, built by code, raw bytes known exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KEY = "test key: thirty-two bytes long!"
OTHER_KEY = "another key, also long enough..."

HEADER = ["id", "name", "email", "phone", "notes", "amount"]


def people(count: int) -> list[dict[str, Any]]:
    """Rows of a customer table: ids, names, e-mails, phones, free-text notes, amounts."""
    rows: list[dict[str, Any]] = []
    for i in range(count):
        email = f"user{i % 50}@example.com"
        phone = f"+44 20 7946 0{i % 1000:03d}"
        if i % 3 == 0:
            notes = (
                f"Called the customer about order {1000 + i}; reach them at {email} "
                "before Friday, they asked for a callback about the delivery window"
            )
        elif i % 3 == 1:
            notes = (
                "Delivery left with the neighbour as requested, nothing else to add, "
                "the parcel was signed for on arrival"
            )
        else:
            notes = f'Multi-line note\nsecond line for order {1000 + i}, "quoted" words, commas'
        rows.append(
            {
                "id": i,
                "name": f"Person {i}",
                "email": email,
                "phone": phone,
                "notes": notes,
                "amount": round(i * 1.25, 2),
            }
        )
    return rows


def raw_csv_fields(row: dict[str, Any]) -> list[str]:
    """One row as raw CSV field texts, with deliberately varied quoting.

    Even ids quote the name even though nothing requires it; odd ids leave it bare. The
    amount is written with a trailing zero that a CSV writer would not produce.
    """
    name = f'"{row["name"]}"' if row["id"] % 2 == 0 else row["name"]
    notes = '"' + row["notes"].replace('"', '""') + '"'
    return [str(row["id"]), name, row["email"], row["phone"], notes, f"{row['amount']:.2f}0"]


def write_csv(
    path: Path, rows: list[dict[str, Any]], *, delimiter: str = ",", ending: str = "\r\n"
) -> list[list[str]]:
    """Write ``rows`` as CSV (no final line ending); returns the raw fields of every record."""
    records = [HEADER] + [raw_csv_fields(r) for r in rows]
    text = ending.join(delimiter.join(fields) for fields in records)
    path.write_bytes(text.encode("utf-8"))
    return records


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> list[str]:
    """Write ``rows`` as JSON Lines in a hand-made style (spacing, escapes); returns the lines."""
    lines: list[str] = []
    for row in rows:
        if row["id"] % 2 == 0:
            line = json.dumps(row, ensure_ascii=True)
        else:
            line = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
            line = line.replace('"amount":', '"amount" :  ')
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def write_parquet(path: Path, rows: list[dict[str, Any]], *, row_group_size: int = 40) -> None:
    """Write ``rows`` as Parquet with several row groups and varied column types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "name": pa.array([r["name"] for r in rows], pa.string()),
            "email": pa.array([r["email"] for r in rows], pa.string()),
            "phone": pa.array([r["phone"] for r in rows], pa.string()).dictionary_encode(),
            "notes": pa.array([r["notes"] for r in rows], pa.large_string()),
            "amount": pa.array([r["amount"] for r in rows], pa.float64()),
            "maybe": pa.array([None if r["id"] % 4 else r["email"] for r in rows], pa.string()),
        },
        metadata={"origin": "redaction tests"},
    )
    pq.write_table(table, path, row_group_size=row_group_size, compression="zstd")

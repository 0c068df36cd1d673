"""Dataset readers: delimiters, quoting, encodings, Parquet, JSON Lines, workbooks, samples."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlwarden.scanners.data.tables import (
    ColumnBatch,
    ReadStats,
    column_names,
    detect_delimiter,
    read_batches,
)
from mlwarden.scanners.interface import Artifact, FormatError, Limits, ScanContext
from mlwarden.sniff import HEAD_BYTES, Kind, sniff


def never(text: str) -> bool:
    return False


def artifact_for(path: Path, kind: Kind | None = None) -> Artifact:
    head = path.read_bytes()[:HEAD_BYTES]
    return Artifact(
        path=str(path),
        kind=kind or sniff(head, path.name),
        size=path.stat().st_size,
        opener=lambda: path.open("rb"),
        head=head,
        fs_path=str(path),
    )


def read(
    path: Path,
    *,
    kind: Kind | None = None,
    sample: int | None = None,
    is_value: Callable[[str], bool] = never,
    limits: Limits | None = None,
) -> tuple[list[ColumnBatch], ReadStats]:
    stats = ReadStats(format="")
    context = ScanContext(limits=limits or Limits())
    art = artifact_for(path, kind)
    batches = list(read_batches(art, context, stats, is_value=is_value, sample=sample))
    return batches, stats


def whole(batches: list[ColumnBatch], table: str | None = None) -> dict[str, list[str | None]]:
    """Every batch of one table joined back into full columns."""
    columns: dict[str, list[str | None]] = {}
    for batch in batches:
        if batch.table != table:
            continue
        for name, values in batch.columns.items():
            columns.setdefault(name, []).extend(values)
    return columns


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", "x.csv", ","),
        ("a\tb\tc\n1\t2\t3\n", "x.tsv", "\t"),
        ("a;b;c\n1,5;2;3\n4;5,5;6\n", "x.csv", ";"),  # decimal commas inside fields
        ("a|b\n1|2\n", "x.psv", "|"),
        ('name,note\n"Smith; Jane","a; b; c"\n"Doe; John","x; y"\n', "x.csv", ","),
        ("just one column\nvalue\n", "x.csv", ","),
    ],
)
def test_delimiter_is_detected_from_the_head(text: str, name: str, expected: str) -> None:
    assert detect_delimiter(text, name) == expected


def test_csv_columns_are_text_quoted_fields_and_newlines_kept(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "note", "amount"])
        writer.writerow(["00123", "first line\nsecond, with comma", "1e5"])
        writer.writerow(["00124", 'she said "hi"', ""])
    batches, stats = read(path)
    columns = whole(batches)
    # Leading zeros and exponent notation survive: nothing is parsed as a number.
    assert columns["id"] == ["00123", "00124"]
    assert columns["note"] == ["first line\nsecond, with comma", 'she said "hi"']
    assert columns["amount"] == ["1e5", None]
    assert stats.rows == 2 and stats.format == "csv" and stats.skipped == 0


def test_tsv_and_semicolon_files(tmp_path: Path) -> None:
    tsv = tmp_path / "t.tsv"
    tsv.write_text("name\tcity\nAnn\tParis\nBob\tLyon\n", encoding="utf-8")
    batches, stats = read(tsv)
    assert whole(batches) == {"name": ["Ann", "Bob"], "city": ["Paris", "Lyon"]}
    assert stats.format == "tsv"
    semi = tmp_path / "s.csv"
    semi.write_text("name;price\nAnn;1,50\nBob;2,75\n", encoding="utf-8")
    assert whole(read(semi)[0]) == {"name": ["Ann", "Bob"], "price": ["1,50", "2,75"]}


def test_legacy_encodings_are_decoded_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    body = "name,city\n" + "Ann,Paris\n" * 120_000  # past the head read to pick the encoding
    path.write_bytes(body.encode() + "José,Málaga\n".encode("cp1252") + "Zoë,Köln\n".encode())
    batches, _ = read(path)
    columns = whole(batches)
    # A UTF-8 file with one cp1252 row: each cell decoded as what it is.
    assert columns["name"][-2:] == ["José", "Zoë"]
    assert columns["city"][-2:] == ["Málaga", "Köln"]


def test_a_cp1252_file_is_still_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("nom;ville\nRené;Orléans\n".encode("cp1252"))
    assert sniff(path.read_bytes(), path.name) is Kind.CSV
    batches, _ = read(path)
    assert whole(batches) == {"nom": ["René"], "ville": ["Orléans"]}


def test_rows_with_the_wrong_number_of_fields_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6\n7,8\n", encoding="utf-8")
    batches, stats = read(path)
    assert whole(batches) == {"a": ["1", "7"], "b": ["2", "8"]}
    assert stats.skipped == 2
    assert stats.reasons and "fields" in stats.reasons[0]
    # The reason never quotes the row.
    assert "3,4,5" not in " ".join(stats.reasons)


def test_a_value_longer_than_a_block_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    long_value = "word " * 500_000  # 2.5 MB, longer than one block
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text"])
        writer.writerows([str(i), "short"] for i in range(3000))
        writer.writerow(["x", long_value])
        writer.writerows([str(i), "after"] for i in range(3000))
    batches, stats = read(path)
    columns = whole(batches)
    assert stats.rows == 6001
    assert columns["text"][3000] == long_value.strip() or columns["text"][3000] == long_value
    assert columns["text"][-1] == "after"
    assert [b.first_row for b in batches] == sorted(b.first_row for b in batches)


def test_headerless_csv_gets_generated_names(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text("jane@example.com,1\nbob@example.org,2\n", encoding="utf-8")
    batches, stats = read(path, is_value=lambda text: "@" in text)
    assert stats.headerless
    assert whole(batches) == {
        "column_1": ["jane@example.com", "bob@example.org"],
        "column_2": ["1", "2"],
    }


def test_repeated_and_empty_header_names_are_made_unique() -> None:
    stats = ReadStats(format="csv")
    assert column_names(["a", "a", "", None, "a"], stats) == [
        "a",
        "a.2",
        "column_3",
        "column_4",
        "a.3",
    ]


def test_sample_reads_only_the_first_rows(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("n\n" + "".join(f"{i}\n" for i in range(100_000)), encoding="utf-8")
    batches, stats = read(path, sample=10)
    assert whole(batches) == {"n": [str(i) for i in range(10)]}
    assert stats.rows == 10 and stats.sampled
    batches, stats = read(path, sample=200_000)
    assert stats.rows == 100_000 and not stats.sampled


def test_empty_csv_gives_no_batches(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n", encoding="utf-8")
    assert read(path, kind=Kind.CSV)[0] == []


def test_parquet_text_ints_structs_lists_dictionaries(tmp_path: Path) -> None:
    table = pa.table(
        {
            "name": ["Ann", "Bob", None],
            "phone": pa.array([442079460958, 14155552671, None], pa.int64()),
            "count": pa.array([1, 2, 3], pa.int32()),  # too small to be an identifier
            "score": [0.5, 0.7, 0.9],  # floats are skipped...
            "latitude": [48.8584, 51.5007, 40.6892],  # ...unless named as a position
            "flag": [True, False, True],
            "address": [{"street": "1 Main St", "zip": 12345}, None, {"street": "x", "zip": 1}],
            "tags": [["a", "b"], [], None],
            "city": pa.array(["Paris", "Paris", "Lyon"]).dictionary_encode(),
            "blob": pa.array([b"ann@example.com", b"\xff\xfe", None], pa.binary()),
        }
    )
    path = tmp_path / "people.parquet"
    pq.write_table(table, path)
    batches, stats = read(path)
    columns = whole(batches)
    assert stats.format == "parquet" and stats.rows == 3
    assert columns["name"] == ["Ann", "Bob", None]
    assert columns["phone"] == ["442079460958", "14155552671", None]
    assert "count" not in columns and "score" not in columns and "flag" not in columns
    assert columns["latitude"] == ["48.8584", "51.5007", "40.6892"]
    assert columns["address.street"] == ["1 Main St", None, "x"]
    assert columns["tags"] == ["a b", None, None]
    assert columns["city"] == ["Paris", "Paris", "Lyon"]
    assert columns["blob"][0] == "ann@example.com" and columns["blob"][1] is not None


def test_parquet_batches_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"v": [f"value {i}" for i in range(100_000)]}), path)
    batches, stats = read(path)
    assert stats.rows == 100_000
    assert max(b.rows for b in batches) <= 32_768


def test_parquet_sample(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"v": [str(i) for i in range(50_000)]}), path)
    batches, stats = read(path, sample=5)
    assert whole(batches) == {"v": ["0", "1", "2", "3", "4"]} and stats.sampled


def test_malformed_parquet_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00garbage" * 100)
    with pytest.raises(FormatError):
        read(path)


def test_jsonl_flattens_one_level_and_counts_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"name": "Ann", "contact": {"email": "ann@example.com", "geo": {"lat": 1}}}),
        "[1, 2, 3]",
        "not json at all",
        "",
        json.dumps({"name": "Bob", "phone": 14155552671, "vip": True, "tags": ["x", "y"]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches, stats = read(path)
    columns = whole(batches)
    assert columns["name"] == ["Ann", "Bob"]
    assert columns["contact.email"] == ["ann@example.com", None]
    assert columns["contact.geo"] == ['{"lat":1}', None]
    assert columns["phone"] == [None, "14155552671"]
    assert columns["vip"] == [None, None]
    assert columns["tags"] == [None, "x y"]
    assert stats.skipped == 2 and stats.rows == 2 and stats.format == "jsonl"


def test_jsonl_line_over_the_limit_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    rows = [json.dumps({"a": "x" * 5000}), json.dumps({"a": "short"})]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    batches, stats = read(path, kind=Kind.JSONL, limits=Limits(max_metadata_bytes=1000))
    assert whole(batches) == {"a": ["short"]}
    assert stats.skipped == 1


def test_excel_every_sheet_with_its_header(tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "Customers"
    first.append(["name", "phone", "born"])
    first.append(["Ann", 442079460958, dt.date(1980, 5, 17)])
    first.append(["Bob", None, dt.date(1975, 1, 2)])
    second = book.create_sheet("Orders")
    second.append(["order", "total"])
    second.append(["ORD-1", 19.5])
    path = tmp_path / "book.xlsx"
    book.save(path)
    batches, stats = read(path, kind=Kind.EXCEL)
    assert whole(batches, "Customers") == {
        "name": ["Ann", "Bob"],
        "phone": ["442079460958", None],
        "born": ["1980-05-17T00:00:00", "1975-01-02T00:00:00"],
    }
    assert whole(batches, "Orders") == {"order": ["ORD-1"], "total": ["19.5"]}
    assert stats.format == "excel" and stats.rows == 3


def test_excel_that_is_not_a_workbook_is_a_format_error(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(FormatError):
        read(path, kind=Kind.EXCEL)


def test_csv_member_read_from_a_stream(tmp_path: Path) -> None:
    data = b"name,email\nAnn,ann@example.com\n"
    art = Artifact(
        path="archive.zip",
        member="inner/people.csv",
        kind=Kind.CSV,
        size=len(data),
        opener=lambda: io.BytesIO(data),
        head=data,
    )
    stats = ReadStats(format="")
    batches = list(read_batches(art, ScanContext(limits=Limits()), stats, is_value=never))
    assert whole(batches) == {"name": ["Ann"], "email": ["ann@example.com"]}


def test_parquet_member_is_copied_to_be_read(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"v": ["a", "b"]}), path)
    data = path.read_bytes()
    art = Artifact(
        path="archive.zip",
        member="m.parquet",
        kind=Kind.PARQUET,
        size=len(data),
        opener=lambda: io.BytesIO(data),
        head=data[:HEAD_BYTES],
    )
    stats = ReadStats(format="")
    batches = list(read_batches(art, ScanContext(limits=Limits()), stats, is_value=never))
    assert whole(batches) == {"v": ["a", "b"]}

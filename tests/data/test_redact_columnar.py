"""Redacting Parquet and JSON Lines: schema, row groups and untouched values kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redact_builders import KEY, OTHER_KEY, people, write_jsonl, write_parquet

from mlwarden.protect.redact import RedactionError, UnsupportedInputError, redact, restore

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def read(path: Path) -> Any:
    return pq.read_table(path)


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.parquet"
    write_parquet(path, people(200))
    return path


@pytest.mark.parametrize("method", ["mask", "hash", "fake", "encrypt", "drop"])
def test_parquet_keeps_schema_row_groups_and_untouched_columns(
    parquet_file: Path, tmp_path: Path, method: str
) -> None:
    out = tmp_path / "out.parquet"
    plan = redact(parquet_file, out, method=method, key=KEY)
    before, after = pq.ParquetFile(parquet_file), pq.ParquetFile(out)
    assert after.schema_arrow == before.schema_arrow
    assert after.schema_arrow.metadata[b"origin"] == b"redaction tests"
    assert after.metadata.num_row_groups == before.metadata.num_row_groups == 5
    assert [after.metadata.row_group(i).num_rows for i in range(5)] == [40] * 5
    assert after.metadata.row_group(0).column(0).compression == "ZSTD"
    old, new = read(parquet_file), read(out)
    changed = {c.column for c in plan.columns}
    assert {"email", "phone", "maybe"} <= changed
    for name in old.column_names:
        if name not in changed:
            assert new.column(name).equals(old.column(name)), name
    emails_old = old.column("email").to_pylist()
    emails_new = new.column("email").to_pylist()
    if method == "drop":
        assert emails_new == [None] * 200
    else:
        assert all(n != o for n, o in zip(emails_new, emails_old, strict=True))
    # Nulls stay null whatever the method.
    maybe_old, maybe_new = old.column("maybe").to_pylist(), new.column("maybe").to_pylist()
    assert [v is None for v in maybe_new] == [v is None or method == "drop" for v in maybe_old]


def test_parquet_encrypt_round_trip(parquet_file: Path, tmp_path: Path) -> None:
    encrypted, restored = tmp_path / "enc.parquet", tmp_path / "back.parquet"
    redact(parquet_file, encrypted, method="encrypt", key=KEY)
    assert "user1@example.com" not in str(read(encrypted).column("email").to_pylist())
    restore(encrypted, restored, key=KEY)
    # Compared as values: dictionary columns may be encoded with other dictionaries.
    assert read(restored).schema == read(parquet_file).schema
    assert read(restored).to_pylist() == read(parquet_file).to_pylist()
    with pytest.raises(RedactionError, match="does not decrypt"):
        restore(encrypted, tmp_path / "wrong.parquet", key=OTHER_KEY)
    assert not (tmp_path / "wrong.parquet").exists()


def test_parquet_numeric_column_becomes_text_only_when_the_method_needs_it(
    parquet_file: Path, tmp_path: Path
) -> None:
    hashed = redact(parquet_file, tmp_path / "h.parquet", method="hash", columns=["id"], key=KEY)
    assert hashed.columns[0].type_changed == "int64 -> string"
    column = read(tmp_path / "h.parquet").column("id")
    assert column.type == pa.string() and column[0].as_py().startswith("VALUE_")
    dropped = redact(parquet_file, tmp_path / "d.parquet", method="drop", columns=["id"])
    assert dropped.columns[0].type_changed is None
    table = read(tmp_path / "d.parquet")
    assert table.schema == read(parquet_file).schema
    assert table.column("id").null_count == 200


def test_hash_joins_between_parquet_and_jsonl(parquet_file: Path, tmp_path: Path) -> None:
    lines = tmp_path / "people.jsonl"
    write_jsonl(lines, people(60))
    redact(parquet_file, tmp_path / "p.parquet", method="hash", columns=["email"], key=KEY)
    redact(lines, tmp_path / "p.jsonl", method="hash", columns=["email"], key=KEY)
    from_parquet = dict(
        zip(
            read(tmp_path / "p.parquet").column("id").to_pylist(),
            read(tmp_path / "p.parquet").column("email").to_pylist(),
            strict=True,
        )
    )
    for line in (tmp_path / "p.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert from_parquet[row["id"]] == row["email"]


@pytest.fixture
def jsonl_file(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "people.jsonl"
    return path, write_jsonl(path, people(30))


def test_jsonl_changes_only_the_redacted_values_in_place(
    jsonl_file: tuple[Path, list[str]], tmp_path: Path
) -> None:
    source, lines = jsonl_file
    out = tmp_path / "out.jsonl"
    redact(source, out, method="drop", columns=["email", "phone"])
    written = out.read_text().split("\n")
    assert written[-1] == "" and len(written) == len(lines) + 1
    for original, new in zip(lines, written, strict=False):
        row = json.loads(original)
        expected = original.replace(json.dumps(row["email"]), "null", 1).replace(
            json.dumps(row["phone"]), "null", 1
        )
        assert new == expected
        assert list(json.loads(new)) == list(row)  # same keys, same order


def test_jsonl_redacts_lists_leaf_by_leaf_and_keeps_numbers(tmp_path: Path) -> None:
    source = tmp_path / "contacts.jsonl"
    source.write_text(
        '{"id": 1, "emails": ["jane@example.com", "j.doe@example.org"], "score": 1.50}\n'
        '{"id": 2, "emails": [], "score": 2}\n'
        "\n"
        '{"id": 3, "emails": null, "score": 3e2}\n'
    )
    out = tmp_path / "out.jsonl"
    plan = redact(source, out, method="mask", columns=["emails"])
    assert out.read_text() == (
        '{"id": 1, "emails": ["j***@example.com", "j.***@example.org"], "score": 1.50}\n'
        '{"id": 2, "emails": [], "score": 2}\n'
        "\n"
        '{"id": 3, "emails": null, "score": 3e2}\n'
    )
    assert plan.columns[0].cells_changed == 2


def test_jsonl_encrypt_round_trip_and_free_text(
    jsonl_file: tuple[Path, list[str]], tmp_path: Path
) -> None:
    source, _ = jsonl_file
    encrypted, restored = tmp_path / "enc.jsonl", tmp_path / "back.jsonl"
    plan = redact(source, encrypted, method="encrypt", key=KEY)
    assert {c.column: c.scope for c in plan.columns}["notes"] == "spans"
    assert "@example.com" not in encrypted.read_text()
    restore(encrypted, restored, key=KEY)
    original = [json.loads(line) for line in source.read_text().splitlines()]
    assert [json.loads(line) for line in restored.read_text().splitlines()] == original


def test_jsonl_with_a_broken_line_or_a_repeated_key_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"email": "a@example.com"}\n{"email": "b@example.com"}\n{"email": \n')
    with pytest.raises(UnsupportedInputError, match="not a JSON object"):
        redact(source, tmp_path / "out.jsonl", method="mask", columns=["email"])
    source.write_text(
        '{"email": "a@example.com"}\n{"email": "b@example.com", "email": "c@example.com"}\n'
    )
    with pytest.raises(UnsupportedInputError, match="appears twice"):
        redact(source, tmp_path / "out.jsonl", method="mask", columns=["email"])
    assert not (tmp_path / "out.jsonl").exists()

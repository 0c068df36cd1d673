"""Redacting CSV and TSV: untouched bytes kept, every method, selection, atomic writes."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from redact_builders import HEADER, KEY, OTHER_KEY, people, write_csv

from mlwarden.protect.redact import (
    KeyRequiredError,
    RedactionError,
    RedactionKey,
    UnknownColumnError,
    UnsupportedInputError,
    csv_format,
    encrypt_value,
    pseudonym,
    redact,
    restore,
)
from mlwarden.protect.redact.plan import CellRedactor


def parse(path: Path, delimiter: str = ",") -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    path = tmp_path / "people.csv"
    return path, write_csv(path, people(30))


def expected_bytes(records: list[list[str]], column: int, replace: object) -> bytes:
    """The input with one column's raw fields replaced; every other byte as written."""
    out = [records[0]]
    for fields in records[1:]:
        changed = list(fields)
        changed[column] = replace(fields[column])  # type: ignore[operator]
        out.append(changed)
    return "\r\n".join(",".join(f) for f in out).encode()


def test_hash_of_a_named_column_changes_only_that_column_byte_for_byte(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, records = table
    out = tmp_path / "out.csv"
    plan = redact(source, out, method="hash", columns=["email"], key=KEY)
    hash_key = RedactionKey.of(KEY).hash_key
    entity = plan.columns[0].entity
    assert entity == "EMAIL"
    expected = expected_bytes(records, 2, lambda raw: pseudonym(hash_key, entity, raw))
    assert out.read_bytes() == expected
    assert plan.rows == 30
    assert [(c.column, c.scope, c.cells_changed) for c in plan.columns] == [("email", "cells", 30)]


def test_default_detection_replaces_columns_and_only_spans_of_free_text(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _records = table
    out = tmp_path / "out.csv"
    plan = redact(source, out, method="mask")
    by_column = {c.column: c for c in plan.columns}
    assert by_column["email"].entity == "EMAIL" and by_column["email"].scope == "cells"
    assert by_column["notes"].scope == "spans"
    before, after = parse(source), parse(out)
    assert len(after) == len(before) and after[0] == HEADER
    for old, new in zip(before[1:], after[1:], strict=True):
        assert new[0] == old[0] and new[1] == old[1] and new[5] == old[5]
        assert new[2] != old[2] and new[2].endswith("@example.com")
        if old[2] in old[4]:
            # Only the address inside the note changed; the words around it did not.
            assert new[4] == old[4].replace(old[2], new[2])
        else:
            assert new[4] == old[4]


def test_hash_is_consistent_across_files_and_changes_with_the_key(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(first, people(20))
    write_csv(second, list(reversed(people(40))), delimiter="\t", ending="\n")
    redact(first, tmp_path / "a.out", method="hash", columns=["email"], key=KEY)
    redact(second, tmp_path / "b.out.tsv", method="hash", columns=["email"], key=KEY)
    redact(first, tmp_path / "c.out", method="hash", columns=["email"], key=OTHER_KEY)
    pairs_a = {(r[0], r[2]) for r in parse(tmp_path / "a.out")[1:]}
    pairs_b = {(r[0], r[2]) for r in parse(tmp_path / "b.out.tsv", "\t")[1:]}
    assert pairs_a <= pairs_b  # same id, same pseudonym: a join on the pseudonym still works
    other = {(r[0], r[2]) for r in parse(tmp_path / "c.out")[1:]}
    assert not other & pairs_a


def test_tsv_keeps_its_delimiter_and_line_endings(tmp_path: Path) -> None:
    source = tmp_path / "people.tsv"
    write_csv(source, people(10), delimiter="\t", ending="\n")
    out = tmp_path / "out.tsv"
    redact(source, out, method="drop", columns=["phone"])
    lines = out.read_bytes().split(b"\n")
    assert lines[0] == b"\t".join(h.encode() for h in HEADER)
    assert b"\r" not in out.read_bytes()
    assert all(r[3] == "" for r in parse(out, "\t")[1:])


def test_encrypt_round_trip_restores_the_exact_bytes(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    encrypted, restored = tmp_path / "enc.csv", tmp_path / "back.csv"
    redact(source, encrypted, method="encrypt", key=KEY)
    text = encrypted.read_text()
    assert "user1@example.com" not in text and encrypt_value("user1@example.com", KEY) in text
    plan = restore(encrypted, restored, key=KEY)
    assert restored.read_bytes() == source.read_bytes()
    assert plan.method == "decrypt" and plan.cells_changed > 0


def test_restoring_with_another_key_fails_and_writes_nothing(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    encrypted, restored = tmp_path / "enc.csv", tmp_path / "back.csv"
    redact(source, encrypted, method="encrypt", columns=["email"], key=KEY)
    with pytest.raises(RedactionError, match="does not decrypt"):
        restore(encrypted, restored, key=OTHER_KEY)
    assert not restored.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enc.csv", "people.csv"]


def test_fake_is_consistent_per_value(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    write_csv(source, people(120))
    out = tmp_path / "out.csv"
    redact(source, out, method="fake", columns=["email", "phone"], key=KEY)
    mapping: dict[str, str] = {}
    for old, new in zip(parse(source)[1:], parse(out)[1:], strict=True):
        assert new[2] != old[2] and new[2].count("@") == 1
        assert mapping.setdefault(old[2], new[2]) == new[2]
        assert new[3].startswith("+44 ") and len(new[3]) == len(old[3])


def test_drop_empties_cells_and_keeps_rows_and_columns(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    out = tmp_path / "out.csv"
    redact(source, out, method="drop", columns=["email", "name"])
    rows = parse(out)
    assert rows[0] == HEADER and len(rows) == 31
    assert all(len(r) == 6 and r[1] == "" and r[2] == "" for r in rows[1:])
    # A quoted field that is dropped keeps its quotes: "" and not nothing.
    assert b',"",' in out.read_bytes()


def test_named_column_without_an_entity_is_pseudonymised_as_value(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    out = tmp_path / "out.csv"
    plan = redact(source, out, method="hash", columns=["id"], key=KEY)
    assert plan.columns[0].entity is None
    assert all(r[0].startswith("VALUE_") for r in parse(out)[1:])


def test_entities_restrict_what_is_replaced(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    out = tmp_path / "out.csv"
    plan = redact(source, out, method="hash", entities=["email"], key=KEY)
    assert {c.entity for c in plan.columns if c.scope == "cells"} == {"EMAIL"}
    before, after = parse(source), parse(out)
    for old, new in zip(before[1:], after[1:], strict=True):
        assert new[3] == old[3]  # phones untouched
        assert new[2].startswith("EMAIL_")


def test_missing_key_unknown_column_and_unknown_entity_are_refused_before_writing(
    table: tuple[Path, list[list[str]]], tmp_path: Path
) -> None:
    source, _ = table
    out = tmp_path / "out.csv"
    with pytest.raises(KeyRequiredError):
        redact(source, out, method="encrypt")
    with pytest.raises(UnknownColumnError, match="'mail'"):
        redact(source, out, columns=["mail"])
    with pytest.raises(RedactionError, match="unknown entity"):
        redact(source, out, entities=["SHOE_SIZE"])
    with pytest.raises(RedactionError, match="unknown redaction method"):
        redact(source, out, method="scramble")
    assert not out.exists()


def test_the_input_is_never_the_output(table: tuple[Path, list[list[str]]], tmp_path: Path) -> None:
    source, _ = table
    original = source.read_bytes()
    link = tmp_path / "link.csv"
    link.symlink_to(source)
    hard = tmp_path / "hard.csv"
    os.link(source, hard)
    for target in (source, link, hard, tmp_path / "." / "people.csv"):
        with pytest.raises(RedactionError, match="never writes over its input"):
            redact(source, target, method="mask", columns=["email"])
    assert source.read_bytes() == original


def test_a_failure_midway_leaves_no_partial_output(
    table: tuple[Path, list[list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = table
    out = tmp_path / "out.csv"
    out.write_text("previous content")
    monkeypatch.setattr(csv_format, "BATCH_ROWS", 5)
    calls = {"n": 0}
    real = CellRedactor.cells

    def failing(self: CellRedactor, rule: object, values: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, rule, values)  # type: ignore[arg-type]

    monkeypatch.setattr(CellRedactor, "cells", failing)
    with pytest.raises(OSError, match="disk full"):
        redact(source, out, method="mask", columns=["email"])
    assert out.read_text() == "previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "people.csv"]


def test_inputs_that_are_not_datasets_are_refused(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n")
    with pytest.raises(UnsupportedInputError, match="python"):
        redact(script, tmp_path / "out", method="mask")
    with pytest.raises(UnsupportedInputError, match="does not exist"):
        redact(tmp_path / "missing.csv", tmp_path / "out", method="mask")


def test_odd_but_valid_csv_survives(tmp_path: Path) -> None:
    # A UTF-8 BOM, a byte that is not UTF-8 in an untouched column, a short row, a blank line
    # and a field with a stray quote in its middle.
    source = tmp_path / "odd.csv"
    source.write_bytes(
        b"\xef\xbb\xbfid,email,comment\n"
        b"1,jane@example.com,caf\xe9\n"
        b"2,john@example.com\n"
        b"\n"
        b"3,ann@example.com,5'3\" tall\n"
    )
    out = tmp_path / "out.csv"
    plan = redact(source, out, method="mask", columns=["email"])
    assert plan.rows == 4  # the blank line is a record too
    assert out.read_bytes() == (
        b"\xef\xbb\xbfid,email,comment\n"
        b"1,j***@example.com,caf\xe9\n"
        b"2,j***@example.com\n"
        b"\n"
        b"3,a**@example.com,5'3\" tall\n"
    )

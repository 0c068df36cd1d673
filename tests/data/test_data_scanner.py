"""The dataset scanner end to end: real files in every format, findings per column and entity,
masked evidence only, hard negatives silent, archives, samples and malformed input."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faker import Faker

from mlwarden.cli import main
from mlwarden.engine import scan_file
from mlwarden.findings import Finding, Report, Severity
from mlwarden.scanners.data.scanner import scan_text_for_pii
from mlwarden.scanners.interface import Limits

#: Faker locales and the phone region of each.
LOCALES = {
    "en_US": "US",
    "en_GB": "GB",
    "de_DE": "DE",
    "fr_FR": "FR",
    "es_ES": "ES",
    "it_IT": "IT",
    "nl_NL": "NL",
}
PERSONAL = ("name", "email", "phone", "card", "iban")
NEGATIVE = ("order_id", "sku", "uuid", "price", "version", "created", "digest", "quantity")
ROWS = 420


def valid_phone(fake: Faker, region: str) -> str:
    while True:
        number = fake.phone_number()
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                return str(number)
        except phonenumbers.NumberParseException:
            continue


def people(count: int, seed: int = 11) -> list[dict[str, str]]:
    """Rows of people from several locales, beside columns that only look like identifiers."""
    rng = random.Random(seed)
    fakes = {locale: Faker(locale) for locale in LOCALES}
    for fake in fakes.values():
        fake.seed_instance(seed)
    rows = []
    for i in range(count):
        locale = list(LOCALES)[i % len(LOCALES)]
        fake = fakes[locale]
        note = fake.sentence(nb_words=10)
        note += (
            f" Write to {fake.email()} before Friday."
            if i % 3 == 0
            else " Nothing else to add on this ticket today."
        )
        rows.append(
            {
                "name": fake.name(),
                "email": fake.email(),
                "phone": valid_phone(fake, LOCALES[locale]),
                "card": fake.credit_card_number(),
                "iban": fake.iban(),
                "order_id": f"ORD-2024-{i:06d}",
                "sku": f"{rng.choice(['AB', 'XK', 'QZ'])}-{rng.randint(1000, 9999)}-LM",
                "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                "price": f"{rng.uniform(1, 500):.2f}",
                "version": f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
                "created": fake.date_time().isoformat(),
                "digest": hashlib.sha1(str(i).encode()).hexdigest(),
                "quantity": str(rng.randint(1, 40)),
                "notes": note,
            }
        )
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return people(ROWS)


def write_csv(rows: list[dict[str, str]], path: Path) -> Path:
    path = path.with_suffix(".csv")
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_tsv(rows: list[dict[str, str]], path: Path) -> Path:
    import pandas as pd

    path = path.with_suffix(".tsv")
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


def write_parquet(rows: list[dict[str, str]], path: Path) -> Path:
    path = path.with_suffix(".parquet")
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=100)
    return path


def write_jsonl(rows: list[dict[str, str]], path: Path) -> Path:
    path = path.with_suffix(".jsonl")
    with path.open("w", encoding="utf-8") as stream:
        for row in rows:
            # One level of nesting, as exports often have.
            record: dict[str, Any] = dict(row)
            if "email" in record:
                record["contact"] = {"email": record.pop("email"), "phone": record.pop("phone")}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def write_excel(rows: list[dict[str, str]], path: Path) -> Path:
    import openpyxl

    path = path.with_suffix(".xlsx")
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("People")
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    book.save(path)
    return path


WRITERS: dict[str, Callable[[list[dict[str, str]], Path], Path]] = {
    "csv": write_csv,
    "tsv": write_tsv,
    "parquet": write_parquet,
    "jsonl": write_jsonl,
    "excel": write_excel,
}


def data_findings(path: Path, **options: object) -> list[Finding]:
    result = scan_file(str(path), path, Limits(), options)
    assert not result.errors, result.errors
    return [f for f in result.findings if f.rule.startswith("MW6")]


def by_column(findings: list[Finding]) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for f in findings:
        if "column" in f.evidence:
            found.setdefault(str(f.evidence["column"]), set()).add((f.rule, f.evidence["entity"]))
    return found


def report_text(path: Path, findings: list[Finding]) -> str:
    report = Report(targets=(str(path),), findings=tuple(findings))
    return json.dumps(report.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_personal_columns_found_in_every_format(
    fmt: str, rows: list[dict[str, str]], tmp_path: Path
) -> None:
    path = WRITERS[fmt](rows, tmp_path / "people")
    findings = data_findings(path)
    found = by_column(findings)
    email, phone = ("contact.email", "contact.phone") if fmt == "jsonl" else ("email", "phone")
    assert ("MW605", "EMAIL") in found[email]
    assert ("MW606", "PHONE") in found[phone]
    assert ("MW600", "CREDIT_CARD") in found["card"]
    assert ("MW601", "IBAN") in found["iban"]
    assert ("MW607", "PERSON") in found["name"]
    # E-mail addresses inside a free-text column are found cell by cell.
    notes = [f for f in findings if f.evidence.get("column") == "notes"]
    assert [(f.rule, f.evidence["entity"], f.evidence["detection"]) for f in notes] == [
        ("MW605", "EMAIL", "cells")
    ]
    assert notes[0].evidence["count"] == ROWS // 3
    for column in NEGATIVE:
        assert column not in found, (column, found.get(column))
    for f in findings:
        assert f.location.path == str(path) and f.location.line is None
        assert f.evidence["rows_scanned"] == ROWS
        assert f.evidence["format"] == ("excel" if fmt == "excel" else fmt)
        assert 0 < f.evidence["share"] <= 1 and f.evidence["count"] > 0
        assert 1 <= len(f.evidence["examples"]) <= 3


def identity_columns(count: int, seed: int = 5) -> list[dict[str, str]]:
    """US-style identity columns: one column per remaining entity family."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rows = []
    for _ in range(count):
        lat, lon = fake.latlng()
        rows.append(
            {
                "ssn": fake.ssn(),
                "date_of_birth": fake.date_of_birth().isoformat(),
                "client_ip": fake.ipv4_public(),
                "mac": fake.mac_address(),
                "position": f"{float(lat):.5f}, {float(lon):.5f}",
                "address": f"{fake.street_address()}, {fake.city()}",
                "passport_number": fake.bothify("?########").upper(),
                "db_url": f"https://{fake.user_name()}:{fake.password()}@db.example.com/x",
                "created_at": fake.date_time().isoformat(),  # a date that is no birth date
            }
        )
    return rows


def test_every_entity_family_has_its_rule(tmp_path: Path) -> None:
    rows = identity_columns(300)
    path = write_csv(rows, tmp_path / "identities")
    findings = data_findings(path)
    assert {c: {r for r, _ in found} for c, found in by_column(findings).items()} == {
        "ssn": {"MW602"},
        "date_of_birth": {"MW609"},
        "client_ip": {"MW611"},
        "mac": {"MW612"},
        "position": {"MW610"},
        "address": {"MW608"},
        "passport_number": {"MW603"},
        "db_url": {"MW604"},
    }
    severities = {f.rule: f.severity for f in findings}
    assert severities["MW602"] is Severity.HIGH and severities["MW604"] is Severity.HIGH
    assert severities["MW609"] is Severity.MEDIUM and severities["MW611"] is Severity.LOW
    text = report_text(path, findings)
    for row in rows:
        for column in ("ssn", "client_ip", "mac", "address", "passport_number", "db_url"):
            assert row[column] not in text, (column, row[column])


def test_column_evidence_and_severity(rows: list[dict[str, str]], tmp_path: Path) -> None:
    findings = {
        (f.evidence["column"], f.rule): f for f in data_findings(write_csv(rows, tmp_path / "p"))
    }
    card = findings["card", "MW600"]
    assert card.severity is Severity.HIGH
    assert card.evidence["first_row"] == 0
    assert card.evidence["detection"] == "column"
    assert card.evidence["confidence"] >= 0.5
    email = findings["email", "MW605"]
    assert email.severity is Severity.MEDIUM
    assert email.evidence["count"] == ROWS and email.evidence["share"] == 1.0
    assert "column 'email'" in email.message


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_reports_never_hold_a_raw_value(
    fmt: str, rows: list[dict[str, str]], tmp_path: Path
) -> None:
    path = WRITERS[fmt](rows, tmp_path / "people")
    findings = data_findings(path)
    text = report_text(path, findings)
    for row in rows:
        for column in PERSONAL:
            assert row[column] not in text, (column, row[column])
    # The e-mail addresses inside the notes are not shown either.
    for row in rows[::3]:
        written = row["notes"].split("Write to ", 1)[1].split(" ", 1)[0]
        assert written not in text


def test_headerless_file_keeps_values_out_of_column_names(tmp_path: Path) -> None:
    fake = Faker("en_GB")
    fake.seed_instance(3)
    emails = [fake.email() for _ in range(50)]
    path = tmp_path / "noheader.csv"
    path.write_text("".join(f"{e},{i}\n" for i, e in enumerate(emails)), encoding="utf-8")
    findings = data_findings(path)
    assert [(f.rule, f.evidence["column"], f.evidence["count"]) for f in findings] == [
        ("MW605", "column_1", 50)  # the first row is data, counted too
    ]
    text = report_text(path, findings)
    assert not any(e in text for e in emails)


def test_json_keys_that_are_values_are_masked(tmp_path: Path) -> None:
    path = tmp_path / "keys.jsonl"
    lines = [json.dumps({"jane.doe@example.com": f"user{i}@example.org"}) for i in range(20)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    findings = data_findings(path)
    assert [f.rule for f in findings] == ["MW605"]
    text = report_text(path, findings)
    assert "jane.doe@example.com" not in text and "user1@example.org" not in text


def test_csv_inside_a_zip(rows: list[dict[str, str]], tmp_path: Path) -> None:
    inner = write_csv(rows[:100], tmp_path / "inner")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(inner, "exports/people.csv")
    findings = data_findings(archive)
    emails = [f for f in findings if f.evidence.get("column") == "email"]
    assert len(emails) == 1
    assert emails[0].rule == "MW605"
    assert emails[0].location.path == str(archive)
    assert emails[0].location.member == "exports/people.csv"
    assert emails[0].evidence["rows_scanned"] == 100


def test_parquet_inside_a_zip(rows: list[dict[str, str]], tmp_path: Path) -> None:
    inner = write_parquet(rows[:100], tmp_path / "inner")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(inner, "part-0.parquet")
    findings = data_findings(archive)
    assert any(f.rule == "MW600" and f.location.member == "part-0.parquet" for f in findings), (
        findings
    )


def test_sample_option_reads_the_first_rows(rows: list[dict[str, str]], tmp_path: Path) -> None:
    path = write_csv(rows, tmp_path / "p")
    findings = data_findings(path, sample=40)
    sampled = [f for f in findings if f.rule == "MW628"]
    assert len(sampled) == 1 and sampled[0].severity is Severity.INFO
    assert sampled[0].evidence["rows_scanned"] == 40
    email = next(f for f in findings if f.evidence.get("column") == "email")
    assert email.evidence["count"] == 40 and email.evidence["sampled"] is True
    # A sample larger than the file reads it all and says nothing about sampling.
    assert not [f for f in data_findings(path, sample=10_000) if f.rule == "MW628"]


def test_scan_command_sample_flag(rows: list[dict[str, str]], tmp_path: Path) -> None:
    path = write_parquet(rows, tmp_path / "p")
    out = tmp_path / "report.json"
    code = main(["scan", str(path), "--sample", "25", "--format", "json", "-o", str(out)])
    assert code == 1  # card numbers are high
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {f["evidence"]["rows_scanned"] for f in report["findings"]} == {25}
    assert "MW628" in {f["rule"] for f in report["findings"]}
    assert main(["scan", str(path), "--sample", "0"]) == 2


def test_rows_that_cannot_be_read_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = [json.dumps({"email": f"person{i}@example.com"}) for i in range(30)]
    path.write_text("\n".join([*good, "{broken", "42", '"text"']) + "\n", encoding="utf-8")
    findings = data_findings(path)
    skipped = [f for f in findings if f.rule == "MW629"]
    assert len(skipped) == 1 and skipped[0].severity is Severity.LOW
    assert skipped[0].evidence["skipped"] == 3
    assert "{broken" not in report_text(path, findings)
    assert any(f.rule == "MW605" and f.evidence["count"] == 30 for f in findings)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("broken.parquet", b"PAR1" + bytes(range(256)) * 8),
        ("cut.parquet", None),  # a real file cut in half
        ("garbage.csv", bytes(range(1, 256)) * 64),
        ("binary.jsonl", b'{"a": 1}\n{"b": 2}\n' + bytes(range(256)) * 16),
        ("fake.xlsx", None),  # a zip that is no workbook
    ],
)
def test_malformed_input_never_crashes(name: str, data: bytes | None, tmp_path: Path) -> None:
    path = tmp_path / name
    if name == "cut.parquet":
        whole = tmp_path / "whole.parquet"
        pq.write_table(pa.table({"email": [f"p{i}@example.com" for i in range(1000)]}), whole)
        data = whole.read_bytes()[: whole.stat().st_size // 2]
    if name == "fake.xlsx":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/nothing.xml", "<x/>")
    else:
        assert data is not None
        path.write_bytes(data)
    result = scan_file(str(path), path)
    assert not result.errors, result.errors  # no internal error
    for f in result.findings:
        assert f.severity <= Severity.LOW or f.rule.startswith("MW6"), f


def test_a_damaged_row_group_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "damaged.parquet"
    emails = [f"person{i}@example.com" for i in range(5000)]
    pq.write_table(pa.table({"email": emails}), path, row_group_size=1000, compression="none")
    offset = pq.ParquetFile(path).metadata.row_group(3).column(0).data_page_offset
    data = bytearray(path.read_bytes())
    data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    findings = {f.rule: f for f in data_findings(path)}
    assert set(findings) == {"MW605", "MW629"}
    assert findings["MW605"].evidence["count"] == 4000
    assert findings["MW629"].evidence["skipped"] == 1000


def test_a_limit_mid_file_still_reports_what_was_found_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlwarden.scanners.data.verdicts import DatasetTally
    from mlwarden.scanners.interface import LimitExceeded

    path = tmp_path / "many.parquet"
    emails = [f"person{i}@example.com" for i in range(100_000)]
    pq.write_table(pa.table({"email": emails}), path)
    original = DatasetTally.add
    calls: list[int] = []

    def add_then_stop(self: DatasetTally, batch: Any) -> None:
        calls.append(1)
        if len(calls) > 1:
            raise LimitExceeded("seconds_per_file", "scan time limit reached")
        original(self, batch)

    monkeypatch.setattr(DatasetTally, "add", add_then_stop)
    result = scan_file(str(path), path)
    rules = {f.rule: f for f in result.findings}
    assert set(rules) == {"MW605", "MW001"}
    assert rules["MW605"].evidence["count"] == 32_768  # the first batch


def test_plain_text_corpus_is_searched_and_docs_are_not(tmp_path: Path) -> None:
    corpus = tmp_path / "data" / "transcripts.txt"
    corpus.parent.mkdir()
    lines = ["Hello and welcome.", "", "You can reach me at maria.rossi@example.it anytime."]
    lines += ["Nothing here."] * 5 + ["Or call me: +44 20 7946 0958."]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    findings = data_findings(corpus)
    located = sorted((f.rule, f.location.line, f.evidence["entity"]) for f in findings)
    assert located == [("MW605", 3, "EMAIL"), ("MW606", 9, "PHONE")]
    assert "maria.rossi@example.it" not in report_text(corpus, findings)
    notes = tmp_path / "docs" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("\n".join(lines), encoding="utf-8")
    readme = tmp_path / "data" / "README.md"
    readme.write_text("\n".join(lines), encoding="utf-8")
    assert data_findings(notes) == [] and data_findings(readme) == []


def test_scan_text_for_pii_gives_offsets() -> None:
    text = "Card 4111 1111 1111 1111, mail jane@example.com, release 1.2.3.4"
    matches = scan_text_for_pii(text)
    assert [(m.entity, text[m.start : m.end]) for m in matches] == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("EMAIL", "jane@example.com"),
    ]
    assert scan_text_for_pii("nothing personal in version 2.0.1 or order ORD-2024-000123") == []


def test_only_negatives_give_no_finding(rows: list[dict[str, str]], tmp_path: Path) -> None:
    negatives = [{k: row[k] for k in NEGATIVE} for row in rows]
    for writer in (write_csv, write_parquet, write_jsonl):
        path = writer(negatives, tmp_path / f"neg-{writer.__name__}")
        assert data_findings(path) == []


def test_library_scan_takes_the_sample_from_the_config(
    rows: list[dict[str, str]], tmp_path: Path
) -> None:
    from mlwarden.api import scan
    from mlwarden.config import Config

    path = write_jsonl(rows, tmp_path / "p")
    report = scan(path, config=Config(sample=7))
    assert {f.evidence["rows_scanned"] for f in report.findings} == {7}
    assert "MW628" in {f.rule for f in report.findings}


def test_tallies_of_parts_merge_into_the_tally_of_the_whole(
    rows: list[dict[str, str]], tmp_path: Path
) -> None:
    from mlwarden.scanners.data.tables import ColumnBatch
    from mlwarden.scanners.data.verdicts import DatasetTally

    def batch(part: list[dict[str, str]], first: int) -> ColumnBatch:
        columns = {k: [r[k] for r in part] for k in ("email", "card", "notes")}
        return ColumnBatch(first_row=first, rows=len(part), columns=dict(columns))

    whole = DatasetTally()
    whole.add(batch(rows[:200], 0))
    whole.add(batch(rows[200:], 200))
    merged, later = DatasetTally(), DatasetTally()
    merged.add(batch(rows[:200], 0))
    later.add(batch(rows[200:], 0))
    merged.merge(later, row_offset=200)

    def summary(tally: DatasetTally) -> list[tuple[object, ...]]:
        return [
            (c.name, c.non_empty, e.entity, e.count, e.cells, e.first_row, e.examples)
            for c, e in tally.results()
        ]

    assert summary(merged) == summary(whole)

"""The labelled table: personal data in tidy columns and in free text, with hard negatives.

Writes ``table.csv`` (one header line, one line per row) and ``labels.jsonl`` (one JSON object
per row: its locale and, per column, the ``[entity, start, end]`` spans of its personal data,
offsets in characters of the cell's text). Deterministic for a seed.

Names come from Faker's locale lists and, for 30% of people, from the fake identities that
``presidio-evaluator`` ships (FakeNameGenerator: name sets of 30+ countries), so a recogniser
built on Faker's own lists is also tested on names it has never seen. A share of the notes
use presidio-evaluator's sentence templates (the placeholders this table can label).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import values as v
from faker import Faker

COLUMNS = (
    "customer_name", "email", "phone", "card_number", "iban", "national_id", "ip_address",
    "date_of_birth", "address", "order_ref", "event_id", "amount", "app_version", "created_at",
    "notes",
)  # fmt: skip
EMPTY_SHARE = 0.03
REPO = Path(__file__).resolve().parents[2]
EVALUATOR_DATA = "presidio_evaluator/data_generator/raw_data"

# Own templates for the notes column: personal data next to ids, prices, versions and times.
TEMPLATES = (
    "Customer {{person}} called about order {{order}}; call back on {{phone_number}}.",
    "Please update the card on file for {{person}} to {{credit_card_number}}.",
    "Refund of {{price}} sent to {{iban}} on {{timestamp}}.",
    "Login from {{ip_address}} with app {{version}} at {{timestamp}}, session {{uuid}}.",
    "New delivery address for {{person}}: {{address}}.",
    "{{person}} (born {{date_of_birth}}) asked us to delete their account.",
    "Contact {{email}} or {{phone_number}} about SKU {{sku}}.",
    "Identity checked: {{national_id}} for {{person}}.",
    "Payment declined for card {{bad_card}}, order {{order}}, total {{price}}.",
    "Transfer to {{bad_iban}} failed: account number invalid.",
    "Build {{version}} deployed at {{timestamp}}; roll back to {{version}} on errors.",
    "Ticket {{order}} closed at {{timestamp}}, trace {{uuid}}.",
    "Requests from {{ip_address}} blocked; {{email}} was told.",
    "Delivery for {{person}} expected on {{date}}, invoice {{order}}.",
    "Card {{credit_card_number}} charged {{price}} for {{sku}}.",
    "Wire {{price}} from {{iban}}, reference {{order}}.",
    "Sent to {{email}} at {{timestamp}} (app {{version}}).",
    "DOB {{date_of_birth}}, phone {{phone_number}}, id {{national_id}}.",
)
PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
PERSON_SLOTS = {"person", "name", "name_female", "name_male"}
FIRST_SLOTS = {"first_name", "first_name_male", "first_name_female", "first_name_nonbinary"}
LAST_SLOTS = {"last_name", "last_name_male", "last_name_female"}
ENTITY_SLOTS = {
    "email": "EMAIL", "phone_number": "PHONE", "credit_card_number": "CREDIT_CARD",
    "iban": "IBAN", "ip_address": "IP_ADDRESS", "date_of_birth": "DATE_OF_BIRTH",
    "address": "ADDRESS", "ssn": "US_SSN",
}  # fmt: skip
NEUTRAL_SLOTS = {"order", "uuid", "price", "version", "timestamp", "bad_card", "bad_iban", "date",
                 "sku", "age", "year", "job", "day_of_week"}  # fmt: skip
KNOWN_SLOTS = PERSON_SLOTS | FIRST_SLOTS | LAST_SLOTS | set(ENTITY_SLOTS) | NEUTRAL_SLOTS
KNOWN_SLOTS.add("national_id")

Span = list[object]  # [entity, start, end]


def evaluator_files() -> Path | None:
    """presidio-evaluator's data folder in ../.venv-peers, if it is installed there."""
    found = glob.glob(str(REPO / ".venv-peers/lib/python3*/site-packages" / EVALUATOR_DATA))
    return Path(found[0]) if found else None


def evaluator_material() -> tuple[list[tuple[str, str]], list[str]]:
    """Given and family names of the fake identities, and the templates this table can fill."""
    folder = evaluator_files()
    if folder is None:
        return [], []
    with (folder / "FakeNameGenerator.com_3000.csv").open(encoding="utf-8-sig") as handle:
        names = [(r["GivenName"], r["Surname"]) for r in csv.DictReader(handle)]
    templates = []
    for line in (folder / "templates.txt").read_text(encoding="utf-8").splitlines():
        slots = set(PLACEHOLDER.findall(line))
        if slots and slots <= KNOWN_SLOTS and "\ufffd" not in line:
            # Some templates hold dialogue with a literal backslash-n between the lines.
            templates.append(line.replace("\\n", " ").strip())
    return names, templates


class Row:
    """Builds one row: each locale's Faker, the shared random source, the spans per cell."""

    def __init__(self, fake: Faker, rng: random.Random, locale: str, names: list[tuple[str, str]]):
        self.fake, self.rng, self.locale, self.names = fake, rng, locale, names

    def slot(self, name: str) -> tuple[str, str | None]:
        """The text for a template placeholder and the entity it is, if any."""
        fake, rng, loc = self.fake, self.rng, self.locale
        if name in PERSON_SLOTS:
            return v.person(fake, rng, self.names), "PERSON"
        if name in FIRST_SLOTS:
            return str(fake.first_name()), "PERSON"
        if name in LAST_SLOTS:
            return str(fake.last_name()), "PERSON"
        if name == "national_id":
            return v.national_id(fake, rng, loc)
        makers: dict[str, Callable[[], str]] = {
            "email": lambda: v.email(fake, rng, v.person(fake, rng, self.names)),
            "phone_number": lambda: v.phone(fake, rng, loc),
            "credit_card_number": lambda: v.card_number(rng)[0],
            "iban": lambda: v.iban(fake, rng),
            "ip_address": lambda: v.ip_address(fake, rng),
            "date_of_birth": lambda: v.birth_date(fake, rng, loc),
            "address": lambda: v.address(fake),
            "ssn": lambda: v.national_id(fake, rng, "en_US")[0],
            "order": lambda: v.order_ref(rng),
            "sku": lambda: v.order_ref(rng),
            "uuid": lambda: v.event_id(rng),
            "price": lambda: v.price(rng),
            "version": lambda: v.version(rng),
            "timestamp": lambda: v.timestamp(rng),
            "bad_card": lambda: v.bad_card_number(rng),
            "bad_iban": lambda: v.bad_iban(fake, rng),
            "date": lambda: fake.date_between("-1y", "+1y").strftime(v.BIRTH_FORMATS[loc]),
            "age": lambda: str(rng.randint(18, 90)),
            "year": lambda: str(rng.randint(1950, 2026)),
            "job": lambda: str(fake.job()),
            "day_of_week": lambda: str(fake.day_of_week()),
        }
        return makers[name](), ENTITY_SLOTS.get(name)

    def fill(self, template: str) -> tuple[str, list[Span]]:
        """The template with every placeholder filled, and the spans of the personal data."""
        out: list[str] = []
        spans: list[Span] = []
        length = 0
        last = 0
        for match in PLACEHOLDER.finditer(template):
            literal = template[last : match.start()]
            out.append(literal)
            length += len(literal)
            text, entity = self.slot(match.group(1))
            if entity is not None:
                spans.append([entity, length, length + len(text)])
            out.append(text)
            length += len(text)
            last = match.end()
        out.append(template[last:])
        return "".join(out), spans

    def notes(self, evaluator_templates: list[str]) -> tuple[str, list[Span]]:
        """One or two sentences of free text."""
        parts = 2 if self.rng.random() < 0.3 else 1
        text, spans = "", []
        for _ in range(parts):
            pool = evaluator_templates if evaluator_templates and self.rng.random() < 0.4 else None
            template = self.rng.choice(pool or TEMPLATES)
            piece, piece_spans = self.fill(template)
            offset = len(text) + (1 if text else 0)
            text = f"{text} {piece}" if text else piece
            spans.extend([e, s + offset, t + offset] for e, s, t in piece_spans)  # type: ignore[operator]
        return text, spans

    def cells(self, evaluator_templates: list[str]) -> dict[str, tuple[str, list[Span]]]:
        """Every column's text and spans for this row."""
        fake, rng, loc = self.fake, self.rng, self.locale
        name = v.person(fake, rng, self.names)
        whole: dict[str, tuple[str, str | None]] = {
            "customer_name": (name, "PERSON"),
            "email": (v.email(fake, rng, name), "EMAIL"),
            "phone": (v.phone(fake, rng, loc), "PHONE"),
            "card_number": (
                (v.card_number(rng)[0], "CREDIT_CARD")
                if rng.random() < 0.9
                else (v.bad_card_number(rng), None)
            ),
            "iban": (
                (v.iban(fake, rng), "IBAN") if rng.random() < 0.9 else (v.bad_iban(fake, rng), None)
            ),
            "national_id": v.national_id(fake, rng, loc),
            "ip_address": (v.ip_address(fake, rng), "IP_ADDRESS"),
            "date_of_birth": (v.birth_date(fake, rng, loc), "DATE_OF_BIRTH"),
            "address": (v.address(fake), "ADDRESS"),
            "order_ref": (v.order_ref(rng), None),
            "event_id": (v.event_id(rng), None),
            "amount": (v.price(rng), None),
            "app_version": (v.version(rng), None),
            "created_at": (v.timestamp(rng), None),
        }
        row: dict[str, tuple[str, list[Span]]] = {}
        for column, (text, entity) in whole.items():
            if rng.random() < EMPTY_SHARE:
                row[column] = ("", [])
            else:
                row[column] = (text, [[entity, 0, len(text)]] if entity else [])
        row["notes"] = self.notes(evaluator_templates)
        return row


def generate(out_dir: Path, rows: int, seed: int) -> dict[str, object]:
    """Write ``table.csv`` and ``labels.jsonl`` into ``out_dir``; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names, templates = evaluator_material()
    fakers = {}
    for index, locale in enumerate(v.LOCALES):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed * 100 + index)
    counts: Counter[str] = Counter()
    per_locale: Counter[str] = Counter()
    with (
        (out_dir / "table.csv").open("w", encoding="utf-8", newline="") as table,
        (out_dir / "labels.jsonl").open("w", encoding="utf-8") as labels,
    ):
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(COLUMNS)
        for index in range(rows):
            locale = rng.choice(v.LOCALES)
            per_locale[locale] += 1
            row = Row(fakers[locale], rng, locale, names).cells(templates)
            writer.writerow([row[c][0] for c in COLUMNS])
            spans = {c: row[c][1] for c in COLUMNS if row[c][1]}
            for cell_spans in spans.values():
                counts.update(str(s[0]) for s in cell_spans)
            labels.write(json.dumps({"row": index, "locale": locale, "spans": spans}) + "\n")
    manifest: dict[str, object] = {
        "rows": rows,
        "seed": seed,
        "columns": list(COLUMNS),
        "locales": dict(sorted(per_locale.items())),
        "entities": dict(sorted(counts.items())),
        "evaluator_names": len(names),
        "evaluator_templates": len(templates),
        "bytes": (out_dir / "table.csv").stat().st_size,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> None:
    """Command line: ``generate.py --rows 20000 --seed 7 --out DIR``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/work/privacy")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.rows, args.seed), indent=2))


if __name__ == "__main__":
    main()

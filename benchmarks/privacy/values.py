"""Values for the generated table: personal data that validates, and hard negatives that do not.

Every generator takes a ``random.Random`` (and a Faker instance where the locale matters), so
the table is the same for the same seed. Personal values are checked with the validators a
real value would pass (``phonenumbers``, ``python-stdnum``, Luhn): a benchmark of detectors
must not label as personal data what no real register would ever issue.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import string
import uuid
from collections.abc import Callable

import phonenumbers
from faker import Faker
from stdnum import iban as std_iban
from stdnum.de import idnr
from stdnum.es import nie as std_nie
from stdnum.es import nif as std_nif
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.nl import bsn

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
REGION = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "fr_FR": "FR", "es_ES": "ES",
          "it_IT": "IT", "nl_NL": "NL"}  # fmt: skip
BIRTH_FORMATS = {"en_US": "%m/%d/%Y", "en_GB": "%d/%m/%Y", "de_DE": "%d.%m.%Y",
                 "fr_FR": "%d/%m/%Y", "es_ES": "%d/%m/%Y", "it_IT": "%d/%m/%Y",
                 "nl_NL": "%d-%m-%Y"}  # fmt: skip


def luhn_digit(body: str) -> str:
    """The Luhn check digit that completes ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


# (brand, prefixes, length): Mastercard's 2-series and 19-digit Visa are included on purpose.
CARD_BRANDS: tuple[tuple[str, tuple[str, ...], int, float], ...] = (
    ("visa16", ("4",), 16, 0.25),
    ("visa19", ("4",), 19, 0.05),
    ("mastercard5", ("51", "52", "53", "54", "55"), 16, 0.18),
    ("mastercard2", tuple(str(p) for p in range(2221, 2721)), 16, 0.15),
    ("amex", ("34", "37"), 15, 0.15),
    ("discover", ("6011", "65", *(str(p) for p in range(644, 650))), 16, 0.10),
    ("jcb", tuple(str(p) for p in range(3528, 3590)), 16, 0.07),
    ("diners", ("36", "38"), 14, 0.05),
)


def _group(digits: str, rng: random.Random, brand: str) -> str:
    style = rng.random()
    if style < 0.4:
        return digits
    sep = " " if style < 0.8 else "-"
    if brand == "amex":
        return sep.join((digits[:4], digits[4:10], digits[10:]))
    if brand == "diners":
        return sep.join((digits[:4], digits[4:10], digits[10:]))
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def card_number(rng: random.Random) -> tuple[str, str]:
    """A Luhn-valid card number of a weighted random brand, formatted; and the brand."""
    brand, prefixes, length, _ = rng.choices(CARD_BRANDS, weights=[b[3] for b in CARD_BRANDS])[0]
    prefix = rng.choice(prefixes)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return _group(body + luhn_digit(body), rng, brand), brand


def bad_card_number(rng: random.Random) -> str:
    """A 16-digit number with a card's prefix and grouping whose Luhn check fails."""
    body = "4" + "".join(rng.choice(string.digits) for _ in range(14))
    good = luhn_digit(body)
    wrong = rng.choice([d for d in string.digits if d != good])
    return _group(body + wrong, rng, "visa16")


def iban(fake: Faker, rng: random.Random) -> str:
    """A valid IBAN of the locale's country, compact or in groups of four."""
    while True:
        value = fake.iban()
        if std_iban.is_valid(value):
            break
    if rng.random() < 0.5:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def bad_iban(fake: Faker, rng: random.Random) -> str:
    """An IBAN-shaped value whose mod-97 check fails (check digits changed)."""
    value = fake.iban()
    check = int(value[2:4])
    wrong = f"{(check + rng.randint(1, 90)) % 97 + 2:02d}"
    return value[:2] + wrong + value[4:]


def phone(fake: Faker, rng: random.Random, locale: str) -> str:
    """A number valid for the locale's country: Faker's national form, international or E.164."""
    region = REGION[locale]
    for _ in range(50):
        raw = fake.phone_number().split("x")[0].strip()
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            break
    else:
        parsed = phonenumbers.example_number(region)
        raw = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    style = rng.random()
    if style < 0.5:
        return raw
    if style < 0.75:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    style = rng.random()
    sep = "-" if style < 0.7 else (" " if style < 0.85 else "")
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NINO_BANNED = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def _nino(rng: random.Random) -> str:
    while True:
        prefix = rng.choice(NINO_FIRST) + rng.choice(NINO_SECOND)
        if prefix not in NINO_BANNED:
            break
    digits = "".join(rng.choice(string.digits) for _ in range(6))
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{prefix}{digits}{suffix}"


def _retry(make: Callable[[], str], valid: Callable[[str], bool]) -> str:
    for _ in range(200):
        value = make()
        if valid(value):
            return value
    raise RuntimeError("no valid value generated")


def _steuer_id(rng: random.Random) -> str:
    def make() -> str:
        # Ten digits where one digit occurs twice and one is missing, as the scheme requires.
        digits = list(string.digits)
        rng.shuffle(digits)
        digits[rng.randrange(10)] = rng.choice(digits)
        body = "".join(digits)
        return body + str(idnr.mod_11_10.calc_check_digit(body))

    return _retry(make, idnr.is_valid)


def national_id(fake: Faker, rng: random.Random, locale: str) -> tuple[str, str]:
    """The locale's national identifier and its entity name."""
    if locale == "en_US":
        return _ssn(rng), "US_SSN"
    if locale == "en_GB":
        return _nino(rng), "UK_NINO"
    if locale == "de_DE":
        return _steuer_id(rng), "DE_TAX_ID"
    if locale == "fr_FR":
        return _retry(fake.ssn, nir.is_valid), "FR_NIR"
    if locale == "es_ES":
        if rng.random() < 0.3:
            return _retry(fake.nie, std_nie.is_valid), "ES_NIE"
        return _retry(fake.nif, std_nif.is_valid), "ES_NIF"
    if locale == "it_IT":
        return _retry(fake.ssn, codicefiscale.is_valid), "IT_FISCAL_CODE"
    return _retry(fake.ssn, bsn.is_valid), "NL_BSN"


def ip_address(fake: Faker, rng: random.Random) -> str:
    """A public or private IPv4 address, or an IPv6 address (full or compressed)."""
    style = rng.random()
    if style < 0.45:
        return str(fake.ipv4_public())
    if style < 0.6:
        return str(fake.ipv4_private())
    value = ipaddress.IPv6Address(fake.ipv6())
    return value.compressed if rng.random() < 0.5 else value.exploded


def birth_date(fake: Faker, rng: random.Random, locale: str) -> str:
    """A date of birth in the locale's own format, ISO, or with an English month name."""
    born = fake.date_of_birth(minimum_age=18, maximum_age=90)
    style = rng.random()
    if style < 0.6:
        return born.strftime(BIRTH_FORMATS[locale])
    if style < 0.9:
        return born.isoformat()
    return f"{born.day} {born.strftime('%B %Y')}"


def address(fake: Faker) -> str:
    """A postal address on one line."""
    return ", ".join(part.strip() for part in fake.address().splitlines() if part.strip())


def person(fake: Faker, rng: random.Random, identities: list[tuple[str, str]]) -> str:
    """A person's name: the locale's Faker lists, or an identity from another name source."""
    if identities and rng.random() < 0.3:
        given, family = rng.choice(identities)
    else:
        given, family = fake.first_name(), fake.last_name()
    if rng.random() < 0.1:
        return f"{given} {rng.choice(string.ascii_uppercase)}. {family}"
    return f"{given} {family}"


def email(fake: Faker, rng: random.Random, name: str) -> str:
    """An e-mail address, Faker's own or derived from ``name``."""
    if rng.random() < 0.5:
        return str(fake.email())
    local = ".".join(name.replace(".", "").split()).lower()
    local = local.encode("ascii", "ignore").decode() or "contact"
    return f"{local}@{fake.free_email_domain()}"


# Hard negatives: shapes that resemble personal data and are not.


def order_ref(rng: random.Random) -> str:
    """An order number, invoice id, SKU or ASIN."""
    style = rng.random()
    if style < 0.25:
        return f"ORD-{rng.randint(2015, 2026)}-{rng.randint(0, 999999):06d}"
    if style < 0.45:
        return str(rng.randint(10**8, 10**11 - 1))
    if style < 0.6:
        return f"INV/{rng.randint(2015, 2026)}/{rng.randint(1, 99999):05d}"
    if style < 0.8:
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
        return f"SKU-{letters}{rng.randint(10, 99)}-{rng.randint(0, 9999):04d}"
    return "B0" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))


def event_id(rng: random.Random) -> str:
    """A UUID, a SHA-1 hex digest or a 64-bit trace id."""
    style = rng.random()
    if style < 0.6:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if style < 0.8:
        return f"{rng.getrandbits(160):040x}"
    return f"{rng.getrandbits(64):016x}"


def price(rng: random.Random) -> str:
    """An amount of money in one of several national conventions."""
    amount = rng.randint(1, 500000) / 100
    whole, cents = int(amount), round(amount % 1 * 100)
    style = rng.random()
    if style < 0.3:
        return f"${whole:,}.{cents:02d}"
    if style < 0.55:
        return f"€{whole:,}.{cents:02d}".replace(",", "X").replace(".", ",").replace("X", ".")
    if style < 0.7:
        return f"£{whole:,}.{cents:02d}"
    if style < 0.85:
        return f"{whole:,}.{cents:02d} GBP"
    return f"{whole} {cents:02d} EUR".replace(" ", ",", 1)


def version(rng: random.Random) -> str:
    """A software version: four dotted parts (IPv4-shaped on purpose), three, or prefixed."""
    style = rng.random()
    if style < 0.5:
        return ".".join(str(rng.randint(0, 20)) for _ in range(4))
    if style < 0.8:
        return ".".join(str(rng.randint(0, 40)) for _ in range(3))
    parts = (rng.randint(1, 12), rng.randint(0, 30), rng.randint(0, 200), rng.randint(0, 9999))
    return "v" + ".".join(str(p) for p in parts)


def timestamp(rng: random.Random) -> str:
    """An event time: ISO 8601, SQL style, epoch seconds or milliseconds, or day/month/year."""
    seconds = rng.randint(1_500_000_000, 1_790_000_000)
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    style = rng.random()
    if style < 0.3:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style < 0.55:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if style < 0.7:
        return str(seconds)
    if style < 0.85:
        return str(seconds * 1000 + rng.randint(0, 999))
    return moment.strftime("%d/%m/%Y %H:%M")

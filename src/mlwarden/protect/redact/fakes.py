"""Realistic stand-ins for ``fake``: the same original value always becomes the same stand-in.

Each value seeds its own generator from ``HMAC(fake_key, value)``, so the mapping is stable
across files, runs and machines for one key (and one Faker version: Faker's word lists are part
of the output), while nobody without the key can recompute it. Stand-ins keep the shape of
what they replace where the shape carries meaning: a card keeps its grouping and a valid Luhn
digit, an IBAN its country, length and a valid check, a date of birth its field order and
separators. E-mail stand-ins use the reserved ``example.*`` domains, so a stand-in never
reaches a real mailbox. Entities without a generator of their own keep their shape with
letters and digits drawn at random.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import random
import re
import string
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Generator = Callable[[Any, random.Random, str], str]

_DATE_YMD = re.compile(r"^(\d{4})([-/. ])(\d{1,2})\2(\d{1,2})$")
_DATE_XYZ = re.compile(r"^(\d{1,2})([-/. ])(\d{1,2})\2(\d{4})$")
_COORDS = re.compile(r"^(\s*)(-?\d+(?:\.(\d+))?)(\s*[,; ]\s*)(-?\d+(?:\.(\d+))?)(\s*)$")
_URL_CREDENTIALS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^:@/\s]*)(?::([^@/\s]*))?@(.*)$")


def reshape(original: str, rng: random.Random, source: str = "") -> str:
    """``original`` with its letters and digits replaced, everything else kept in place.

    Characters come from ``source`` (its letters and digits, in order) while it lasts and are
    then drawn at random: a letter for a letter (same case), a digit for a digit.
    """
    supply = [c for c in source if c.isalnum()]
    out: list[str] = []
    for char in original:
        if char.isdigit():
            if supply and supply[0].isdigit():
                out.append(supply.pop(0))
            else:
                out.append(rng.choice(string.digits))
        elif char.isalpha() and char.isascii():
            if supply and supply[0].isalpha():
                pick = supply.pop(0)
            else:
                pick = rng.choice(string.ascii_uppercase)
            out.append(pick.lower() if char.islower() else pick.upper())
        else:
            out.append(char)
    return "".join(out)


def _luhn_complete(digits: list[int]) -> int:
    """The check digit that makes ``digits + [check]`` pass Luhn."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10


def _card(faker: Any, rng: random.Random, value: str) -> str:
    count = sum(c.isdigit() for c in value)
    if count < 2:
        return reshape(value, rng)
    # The first digit names the network (4 Visa, 5 and 2 Mastercard, 3 Amex/JCB, 6 Discover):
    # kept, so that the stand-in is a card of the same kind.
    first = next(c for c in value if c.isdigit())
    body = [int(first)] + [rng.randrange(10) for _ in range(count - 2)]
    digits = "".join(map(str, [*body, _luhn_complete(body)]))
    return reshape(value, rng, digits)


def _iban(faker: Any, rng: random.Random, value: str) -> str:
    compact = re.sub(r"[^A-Za-z0-9]", "", value).upper()
    if len(compact) < 5 or not compact[:2].isalpha():
        return reshape(value, rng)
    bban = reshape(compact[4:], rng)
    numeric = "".join(str(int(c, 36)) for c in bban + compact[:2] + "00")
    check = f"{98 - int(numeric) % 97:02d}"
    return reshape(value, rng, compact[:2] + check + bban)


def _date(faker: Any, rng: random.Random, value: str) -> str:
    born = faker.date_of_birth(minimum_age=18, maximum_age=90)
    match = _DATE_YMD.match(value.strip())
    if match:
        sep = match.group(2)
        return f"{born.year:04d}{sep}{born.month:0{len(match.group(3))}d}{sep}" + (
            f"{born.day:0{len(match.group(4))}d}"
        )
    match = _DATE_XYZ.match(value.strip())
    if match:
        # Day-first or month-first cannot be told apart here; both fields stay at 12 or
        # below, so the stand-in is a valid date under either reading.
        sep = match.group(2)
        first, second = rng.randint(1, 12), rng.randint(1, 12)
        return (
            f"{first:0{len(match.group(1))}d}{sep}{second:0{len(match.group(3))}d}{sep}"
            f"{born.year:04d}"
        )
    return str(born.isoformat())


def _coordinates(faker: Any, rng: random.Random, value: str) -> str:
    match = _COORDS.match(value)
    if not match:
        return reshape(value, rng)
    lat_places = len(match.group(3) or "")
    lon_places = len(match.group(6) or "")
    lat = rng.uniform(-80.0, 80.0)
    lon = rng.uniform(-179.0, 179.0)
    return (
        f"{match.group(1)}{lat:.{lat_places}f}{match.group(4)}{lon:.{lon_places}f}{match.group(7)}"
    )


def _url_credentials(faker: Any, rng: random.Random, value: str) -> str:
    match = _URL_CREDENTIALS.match(value)
    if not match:
        return str(faker.uri())
    password = "" if match.group(3) is None else ":" + faker.password(special_chars=False)
    return f"{match.group(1)}{faker.user_name()}{password}@{match.group(4)}"


def _person(faker: Any, rng: random.Random, value: str) -> str:
    words = value.split()
    name = (
        str(faker.first_name()) if len(words) < 2 else f"{faker.first_name()} {faker.last_name()}"
    )
    if value.isupper():
        return name.upper()
    return name


def _phone(faker: Any, rng: random.Random, value: str) -> str:
    # Separators and the country calling code (or, without one, the first digit, a trunk or
    # area prefix) stay; the subscriber digits are drawn at random.
    kept = next((c for c in value if c.isdigit()), "")
    if value.lstrip().startswith("+"):
        import phonenumbers

        with contextlib.suppress(phonenumbers.NumberParseException):
            kept = str(phonenumbers.parse(value, None).country_code)
    return reshape(value, rng, kept)


def _ip(faker: Any, rng: random.Random, value: str) -> str:
    return str(faker.ipv6() if ":" in value else faker.ipv4_public())


def _address(faker: Any, rng: random.Random, value: str) -> str:
    return str(faker.address()).replace("\n", ", ")


#: One generator per thread and locale: a generator is re-seeded for every value, so threads
#: sharing one (a Dask worker runs several) would race and give different stand-ins.
_GENERATORS = threading.local()


def _faker(locale: str) -> Any:
    cache: dict[str, Any] | None = getattr(_GENERATORS, "by_locale", None)
    if cache is None:
        cache = _GENERATORS.by_locale = {}
    faker = cache.get(locale)
    if faker is None:
        from faker import Faker

        faker = cache[locale] = Faker(locale)
    return faker


def faker_us() -> Any:
    """This thread's English (US) generator; re-seeded for every value."""
    return _faker("en_US")


def faker_gb() -> Any:
    """This thread's English (UK) generator, for British national insurance numbers."""
    return _faker("en_GB")


GENERATORS: dict[str, Generator] = {
    "EMAIL": lambda faker, rng, value: str(faker.email()),
    "PHONE": _phone,
    "CREDIT_CARD": _card,
    "IBAN": _iban,
    "US_SSN": lambda faker, rng, value: reshape(value, rng, faker.ssn()),
    "UK_NINO": lambda faker, rng, value: reshape(value, rng, faker_gb().ssn()),
    "PERSON": _person,
    "LOCATION": _address,
    "ADDRESS": _address,
    "DATE_OF_BIRTH": _date,
    "IP_ADDRESS": _ip,
    "MAC_ADDRESS": lambda faker, rng, value: reshape(value, rng, faker.mac_address()),
    "URL_CREDENTIALS": _url_credentials,
    "GEO_COORDINATES": _coordinates,
    "PASSPORT": lambda faker, rng, value: reshape(value, rng, faker.passport_number()),
}


class FakeValues:
    """Stand-ins for one key: ``stand_in(entity, value)`` is a pure function of its inputs."""

    def __init__(self, fake_key: bytes) -> None:
        self._key = fake_key
        # Values repeat a lot in real columns; seeding Faker costs ~100 us a value.
        self.stand_in = lru_cache(maxsize=65536)(self._stand_in)

    def _seed(self, value: str) -> int:
        digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return int.from_bytes(digest.digest()[:8], "big")

    def _stand_in(self, entity: str | None, value: str) -> str:
        seed = self._seed(value)
        rng = random.Random(seed)
        generator = GENERATORS.get(entity or "")
        if generator is None:
            return reshape(value, rng)
        faker = faker_us()
        faker.seed_instance(seed)
        if entity == "UK_NINO":
            faker_gb().seed_instance(seed)
        return generator(faker, rng, value)

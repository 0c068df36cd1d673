"""E-mail addresses and telephone numbers."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence

from mlwarden.scanners.data.recognisers.base import (
    EMAIL,
    PHONE,
    EntityMatch,
    bounded,
    digits_of,
    window_before,
)
from mlwarden.scanners.data.recognisers.gates import matches_in_regions, token_regions

_EMAIL = re.compile(
    r"(?<![\w.+/-])[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[a-z0-9-]{2,59})"
    r"(?![\w-])"
)

#: Suffixes that end file names (``icon@2x.png``), not domains. Two-letter ones are kept:
#: they are country domains as well (.py is Paraguay, .pt Portugal).
_FILE_SUFFIXES = frozenset(
    re.findall(
        r"\w+",
        "png jpg jpeg gif svg webp bmp ico tif tiff js mjs css html htm json xml txt csv tsv pdf"
        " zip gz tgz tar exe dll pkl pickle bin yaml yml md lock toml ini cfg log npy npz pth"
        " onnx gguf parquet ipynb whl",
    )
)


_IN_URL = re.compile(r"//[^\s@/]*$|/$")


class EmailRecogniser:
    """E-mail addresses: RFC 5322 dot-atoms with a plausible top-level domain."""

    entities: tuple[str, ...] = (EMAIL,)
    column_hint: re.Pattern[str] | None = re.compile(r"e-?mail|courriel|correo|mail_?addr", re.I)
    cell_shape: re.Pattern[str] = re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every e-mail address in ``text``."""
        if "@" not in text:
            return
        # An address holds no white space: only the stretches around each "@" are searched.
        for m in matches_in_regions(_EMAIL, text, token_regions(text, "@"), 0):
            # "https://user:pass@host" and "//user@host" are URLs, not addresses.
            if _plausible_email(m.group()) and not _IN_URL.search(window_before(text, m.start())):
                yield EntityMatch(EMAIL, m.start(), m.end(), 0.95, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """EMAIL when the whole ``value`` is one address."""
        m = _EMAIL.fullmatch(value)
        return EMAIL if m is not None and _plausible_email(value) else None


def _plausible_email(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    if len(local) > 64 or len(address) > 254:
        return False
    tld = domain.rsplit(".", 1)[-1].lower()
    if tld in _FILE_SUFFIXES:
        return False
    # Retina asset names: "logo@2x.png" and "logo@3x.webp".
    return re.match(r"\d+x\.", domain) is None


# A phone-shaped run: optional + or 00 prefix, digits in groups with spaces, dots, dashes,
# slashes or parentheses, 7 to 15 digits in all (E.164 allows 15), optional extension.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w.+/-])(?:\+|00)?\(?\d[\d ().\-/]{5,22}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/-]|\.\d)"
)
_IPV4_LIKE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE_LIKE = re.compile(
    r"(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
)
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
_LONE_LAST_DIGIT = re.compile(r"\D\d$")
_DOTTED_VERSION = re.compile(r"\d+(?:\.\d+){3,}")
_PHONE_WORDS = re.compile(
    r"\b(?:tel|phone|call|mobile|mob|cell|fax|whatsapp|sms|contact|telefon|telefono|teléfono"
    r"|tél|téléphone|portable|móvil|movil|cellulare|celular|telefoon|numer|nummer)\b",
    re.I,
)
#: Words before a number that make it a code, not a phone (order numbers, SKUs, ISBNs).
_CODE_WORDS = re.compile(
    r"\b(?:sku|order|ref|reference|invoice|isbn|issn|ean|upc|gtin|item|product|part|serial"
    r"|model|tracking|batch|lot|version|ver|build|id|no|nr|number|art|artikel)\W{0,3}$",
    re.I,
)
_PHONE_COLUMN = re.compile(
    r"phone|mobile|cell|fax|tel(?:e|$|_|\b)|handy|portable|movil|m[oó]vil|celular|gsm|msisdn",
    re.I,
)
#: Regions tried, in order, for a national-format number when nothing says which country.
DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "BR", "NL", "PL", "IN", "CA", "AU")
_REGION_WORDS = {
    "us": "US", "usa": "US", "uk": "GB", "gb": "GB", "de": "DE", "germany": "DE", "fr": "FR",
    "france": "FR", "es": "ES", "spain": "ES", "it": "IT", "italy": "IT", "br": "BR",
    "brazil": "BR", "nl": "NL", "pl": "PL", "in": "IN", "india": "IN", "ca": "CA", "au": "AU",
}  # fmt: skip


def not_a_phone(raw: str) -> bool:
    """True for shapes that phone parsers accept but that are addresses, dates, versions or
    codes whose last group is a single check digit (``12-3456-7890-1``)."""
    core = raw.strip()
    return bool(
        _LONE_LAST_DIGIT.search(_EXTENSION.sub("", core))
        or _IPV4_LIKE.fullmatch(core)
        or _DATE_LIKE.fullmatch(core)
        or _DOTTED_VERSION.fullmatch(core)
    )


@functools.lru_cache(maxsize=65536)
def _valid_in(raw: str, region: str | None) -> bool:
    import phonenumbers

    number = raw.strip()
    if number.startswith("00"):
        number = "+" + number[2:]
    international = number.startswith("+")
    try:
        parsed = phonenumbers.parse(number, None if international else region)
    except phonenumbers.NumberParseException:
        return False
    if international or region is None:
        return bool(phonenumbers.is_valid_number(parsed))
    # Checking the one region asked for skips the search over every region of the code.
    return bool(phonenumbers.is_valid_number_for_region(parsed, region))


@functools.cache
def _general_pattern(region: str) -> tuple[re.Pattern[str], str]:
    from phonenumbers import PhoneMetadata

    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:  # pragma: no cover - known regions
        return re.compile(r"\d+"), ""
    pattern = metadata.general_desc.national_number_pattern or r"\d+"
    return re.compile(pattern), metadata.national_prefix or ""


def _plausible_in(raw: str, region: str) -> bool:
    # A cheap look at the region's number plan before the full (slow) parse and validation.
    pattern, prefix = _general_pattern(region)
    digits = digits_of(_EXTENSION.sub("", raw.strip()))
    if prefix and digits.startswith(prefix):
        digits = digits[len(prefix) :]
    return pattern.fullmatch(digits) is not None


def region_from_name(name: str) -> str | None:
    """A region code suggested by a column name or label (``phone_de``, ``UK mobile``)."""
    tokens = [t for t in re.split(r"[^a-z]+", name.lower()) if t]
    # Two-letter codes are common words in a sentence ("it", "in"): only a short label counts.
    short = len(tokens) <= 4
    for token in tokens:
        if token in _REGION_WORDS and (short or len(token) > 2):
            return _REGION_WORDS[token]
    return None


class PhoneRecogniser:
    """Telephone numbers of any country, validated by ``phonenumbers``' metadata.

    An international number (``+`` or ``00``) is checked as written. A national-format number
    needs a region: the one a column or label names, else the region most values of the column
    validate in, else the first default region; in free text, other regions are tried only
    when a phone word (tel, mobile, Telefon...) stands near the number. IPv4 addresses, dates
    and dotted version strings are never phones.
    """

    entities: tuple[str, ...] = (PHONE,)
    column_hint: re.Pattern[str] | None = _PHONE_COLUMN
    cell_shape: re.Pattern[str] = re.compile(
        r"[+(]*\d[\d ().\-/]{5,22}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?"
    )
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every valid phone number in ``text``."""
        hinted = region_from_name(context)
        for m in _PHONE_CANDIDATE.finditer(text):
            raw = m.group().rstrip(" .-/(")
            start = m.start()
            if raw.startswith("(") and ")" not in raw:
                raw, start = raw[1:], start + 1
            if len(digits_of(raw)) < 7 or not_a_phone(raw):
                continue
            end = start + len(raw)
            if not bounded(text, start, end) or _CODE_WORDS.search(window_before(text, start, 20)):
                continue
            international = raw.startswith(("+", "00"))
            region = hinted or DEFAULT_REGIONS[0]
            if (international or _plausible_in(raw, region)) and _valid_in(raw, region):
                yield EntityMatch(PHONE, start, end, 0.9 if international else 0.75, True)
            elif (
                not international
                and _PHONE_WORDS.search(window_before(text, start))
                and any(
                    _valid_in(raw, region)
                    for region in DEFAULT_REGIONS[1:]
                    if _plausible_in(raw, region)
                )
            ):
                yield EntityMatch(PHONE, start, end, 0.6, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """PHONE when the whole ``value`` is a valid number (region from ``context``)."""
        if len(digits_of(value)) < 7 or not_a_phone(value):
            return None
        international = value.startswith(("+", "00"))
        # A bare run of digits in a column is an id or an amount unless the column says phone.
        if not international and value.isdigit() and not _PHONE_COLUMN.search(context):
            return None
        region = region_from_name(context) or DEFAULT_REGIONS[0]
        return PHONE if _valid_in(value, region) else None

    def column_context(self, name: str, sample: Sequence[str]) -> str:
        """``name`` plus the region most national-format values of the column validate in."""
        if region_from_name(name):
            return name
        national = [v for v in sample if not v.lstrip().startswith(("+", "00"))][:50]
        if not national:
            return name
        votes: dict[str, int] = {}
        for region in DEFAULT_REGIONS:
            votes[region] = sum(_plausible_in(v, region) and _valid_in(v, region) for v in national)
        best = max(DEFAULT_REGIONS, key=lambda r: votes[r])
        code = {v: k for k, v in _REGION_WORDS.items() if len(k) == 2}.get(best, best.lower())
        return f"{name} {code}" if votes[best] else name

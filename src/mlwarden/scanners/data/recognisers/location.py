"""Where people live: street addresses, postcodes in address context, coordinates.

Street addresses are kept to shapes that are hard to hit by chance: a house number next to a
street-type word of the language (``12 Baker Street``, ``Hauptstraße 5``, ``12, rue de la
Paix``, ``Calle Mayor 3``, ``Via Roma, 10``, ``ul. Długa 90``). English street types come
from Faker's address provider (the USPS suffix list), loaded on first use. A postcode counts
only under a postcode column name or right after a street. Coordinates are a latitude and
longitude pair, in range, with at least three decimals each (about 100 m), or single values
under a latitude/longitude column name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import (
    ADDRESS,
    GEO_COORDINATES,
    EntityMatch,
)

_UPPER = r"[A-ZÀ-ÖØ-ÞŁŚŻŹĆ]"
_NAME = rf"{_UPPER}[^\W\d_]*(?:['\u2019-][^\W\d_]+)*"
# Joining words inside street names: "rue de la Paix", "Paseo de Joaquín", "Via dei Mille".
_JOIN = (
    r"(?:(?:de|del|della|dei|degli|da|do|dos|das|di|du|des|la|le|les|los|las|y|e|i|van|von"
    r"|der|den|am|an|im)\s+|[ld]['\u2019])"
)
_HOUSE = r"\d{1,5}(?:[a-zA-Z](?!\w))?(?:[/-]\d{1,4})?"

#: Street types written before the name (French, Spanish, Catalan, Italian, Portuguese,
#: Polish). Abbreviations need their dot.
_PREFIX_TYPES = (
    "rue avenue boulevard place chemin allée allee impasse quai route cours calle avenida paseo"
    " plaza camino carrer ronda travesía travesia glorieta rambla vial acceso callejón cañada"
    " urbanización carretera via viale piazza piazzale corso largo vicolo strada borgo contrada"
    " rotonda stretto canale incrocio rua travessa praça praca alameda estrada rodovia ladeira"
    " vereda viaduto ulica aleja plac osiedle"
)
_PREFIX_ABBREVIATIONS = r"(?:av|bd|avda|ul|al|pl|os)\.|c/"
#: Street types glued to the end of the name (German, Dutch).
_SUFFIX_WORDS_DE_NL = (
    "straße strasse str platz gasse allee weg ring damm ufer chaussee steig pfad markt"
    " straat laan plein gracht kade dijk singel baan dreef hof steeg pad boulevard"
)


@functools.cache
def _english_suffixes() -> tuple[str, ...]:
    from faker.providers.address.en_US import Provider

    extra = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl", "Sq", "Hwy", "Pkwy", "Close")
    words = {str(s) for s in Provider.street_suffixes} | set(extra)
    return tuple(sorted(words, key=len, reverse=True))


@functools.cache
def _faker_prefixes() -> tuple[str, ...]:
    # Street types of the Romance locales as Faker lists them (Pasaje, Cuesta, Travessa...).
    import importlib

    words: set[str] = set()
    for locale in ("es_ES", "pt_BR", "it_IT", "fr_FR"):
        provider = importlib.import_module(f"faker.providers.address.{locale}").Provider
        for attr in ("street_prefixes", "street_suffixes"):
            words.update(str(w) for w in provider.__dict__.get(attr, ()) if " " not in str(w))
    return tuple(sorted(words))


_Trie = dict[str, "_Trie"]


def _alternation(words: str) -> str:
    """A regular expression for any of ``words`` (lower-case or capitalised), as a prefix
    tree: the engine then rejects a position after one character instead of trying every
    word."""
    tree: _Trie = {}
    # Lower-case and capitalised forms, not IGNORECASE: case-folding every character makes
    # the engine several times slower.
    variants = {w.lower() for w in words.split()}
    variants |= {w[:1].upper() + w[1:] for w in variants}
    for word in variants:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _tree_pattern(tree)


def _tree_pattern(node: _Trie) -> str:
    branches = [re.escape(ch) + _tree_pattern(child) for ch, child in sorted(node.items()) if ch]
    if "" in node:
        return f"(?:{'|'.join(branches)})?" if branches else ""
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


@functools.cache
def _address_patterns() -> tuple[re.Pattern[str], ...]:
    english = _alternation(" ".join(_english_suffixes()))
    prefixes = _alternation(" ".join((_PREFIX_TYPES, *_faker_prefixes())))
    glued = _alternation(_SUFFIX_WORDS_DE_NL)
    unit = r"(?:,?\s+(?:Apt\.?|Suite|Unit|Flat|Studio|Piso|Puerta|Piano|Appartamento)\s+\d{1,5})?"
    return (
        # 12 Baker Street, 4833 Weaver Plaza Apt. 290
        re.compile(rf"(?<![\w.,-]){_HOUSE}\s+(?:{_NAME}\s+){{1,3}}(?:{english})\.?(?!\w){unit}"),
        # Hauptstraße 5, Kurt-Zahn-Gasse 8/7, Kerkstraat 12: found from the type word and the
        # number, then widened back to the start of the name (see _widen_glued).
        re.compile(rf"(?:{glued})\.?\s+{_HOUSE}(?!\w)"),
        # 12, rue de la Paix ; Calle Mayor 3 ; Via Roma, 10 ; ul. Długa 90
        re.compile(
            rf"(?<![\w-])(?:\d{{1,5}}(?:\s?(?:bis|ter))?,?\s+)?(?:{prefixes}|{_PREFIX_ABBREVIATIONS})"
            rf"\s+{_JOIN}*{_NAME}(?:\s+{_JOIN}*{_NAME}){{0,3}}"
            rf"(?:,?\s+(?:nº\s*|n\.\s*)?{_HOUSE}(?!\w))?{unit}"
        ),
    )


_ANY_DIGIT = re.compile(r"\d")


def _widen_glued(text: str, type_start: int) -> int | None:
    # "Kurt-Zahn-Gasse": walk back over the hyphenated, capitalised name before the type word.
    start = type_start
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] in "-.'"):
        start -= 1
    name = text[start:type_start]
    if not name:
        return start if text[type_start].isupper() else None
    return start if name[0].isupper() else None


def _address_spans(text: str) -> Iterator[tuple[int, int, float]]:
    if _ANY_DIGIT.search(text) is None:
        return
    seen: set[tuple[int, int]] = set()
    for index, pattern in enumerate(_address_patterns()):
        for m in pattern.finditer(text):
            # A type word first ("rue", "Via") needs a house number before or after it.
            if index == 2 and not any(ch.isdigit() for ch in m.group()):
                continue
            start = _widen_glued(text, m.start()) if index == 1 else m.start()
            if start is None or (start, m.end()) in seen:
                continue
            seen.add((start, m.end()))
            yield start, m.end(), 0.8 if index == 0 else 0.75


_POSTCODES = re.compile(
    r"\d{5}(?:-\d{4})?|\d{5}-\d{3}|\d{2}-\d{3}|\d{4}\s?[A-Z]{2}|\d{4}"
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d"
)
_POSTCODE_HINT = re.compile(r"zip|postcode|post_?code|postal|\bplz\b|\bcp\b|\bcap\b|postleitzahl")
_ADDRESS_HINT = re.compile(
    r"address|street|addr\b|adresse|anschrift|stra(?:ss|ß)e|direcci[oó]n|indirizzo|endere[cç]o"
    r"|adres|ulica|domicil|residence|" + _POSTCODE_HINT.pattern,
    re.I,
)


class AddressRecogniser:
    """Street addresses in several languages; postcodes under a postcode column."""

    entities: tuple[str, ...] = (ADDRESS,)
    column_hint: re.Pattern[str] | None = _ADDRESS_HINT
    cell_shape: re.Pattern[str] = re.compile(r".*\w.*")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every street address in ``text``."""
        for start, end, score in _address_spans(text):
            yield EntityMatch(ADDRESS, start, end, score, False)

    def validate(self, value: str, context: str = "") -> str | None:
        """ADDRESS when ``value`` holds a street address, or a postcode under a postcode
        column name."""
        if _POSTCODE_HINT.search(context.lower()) and _POSTCODES.fullmatch(value.upper()):
            return ADDRESS
        if not any(ch.isdigit() for ch in value) or len(value) > 200:
            return None
        return ADDRESS if next(_address_spans(value), None) is not None else None


_PAIR = re.compile(
    r"(?<![\w.-])(?P<lat>[-+]?\d{1,2}\.\d{3,10})°?\s*(?P<ns>[NS])?\s*[,;/ ]\s*"
    r"(?P<lon>[-+]?\d{1,3}\.\d{3,10})°?\s*(?P<ew>[EWO])?(?![\w.]|,\d)"
)
_COORD_HINT = re.compile(
    r"(?:^|[^a-z])(?:lat|lng|lon|long)(?:[^a-z]|$)|latitude|longitude|coord|geo|gps|location",
    re.I,
)


def _pair_ok(m: re.Match[str]) -> bool:
    lat, lon = float(m.group("lat")), float(m.group("lon"))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    # A pair of equal numbers or of round values is a range or a price, not a position.
    return lat != lon and not (lat == int(lat) and lon == int(lon))


class GeoRecogniser:
    """Latitude/longitude pairs, and single coordinates under a lat/lon column."""

    entities: tuple[str, ...] = (GEO_COORDINATES,)
    column_hint: re.Pattern[str] | None = _COORD_HINT
    cell_shape: re.Pattern[str] = re.compile(
        r"[-+]?\d{1,3}\.\d+(?:°?\s*[NSEWO]?\s*[,;/ ]\s*[-+]?\d{1,3}\.\d+°?\s*[NSEWO]?)?"
    )
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every coordinate pair in ``text``."""
        if "." not in text:
            return
        for m in _PAIR.finditer(text):
            if _pair_ok(m):
                yield EntityMatch(GEO_COORDINATES, m.start(), m.end(), 0.8, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """GEO_COORDINATES for a pair, or a single in-range coordinate with two or more
        decimals under a latitude/longitude ``context``."""
        m = _PAIR.fullmatch(value)
        if m is not None:
            return GEO_COORDINATES if _pair_ok(m) else None
        single = re.fullmatch(r"[-+]?\d{1,3}\.(\d{2,10})", value)
        if single is None or not _COORD_HINT.search(context):
            return None
        return GEO_COORDINATES if abs(float(value)) <= 180 else None

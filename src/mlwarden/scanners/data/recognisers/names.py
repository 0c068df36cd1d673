"""Person names without any model: given and family names from Faker's locale providers.

Faker's person providers are a well-kept, licence-clean source of common names in many
languages; they are read (never sampled) on first use and kept in memory. In free text a name
is two or more capitalised words where the first is a known given name and the next a known
family name or another capitalised word that is not a common word of the language (Faker's
lorem word lists say which words are common); a title (Mr, Frau, Mme...) or a ``Name:`` label
lets a single capitalised word, or a pair with no known part, count. Under a name-like column
every value with a known part counts. An optional spaCy backend is in ``ner.py``.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable, Iterator

from mlwarden.scanners.data.recognisers.base import PERSON, EntityMatch, window_before

#: Faker locales whose name lists are read.
LOCALES = (
    "en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pt_PT", "nl_NL",
    "pl_PL", "sv_SE", "da_DK", "cs_CZ", "fi_FI", "no_NO", "tr_TR", "ro_RO", "hu_HU", "en_IE",
)  # fmt: skip
_LOREM_LOCALES = ("en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TITLES = _words(
    "mr mrs ms miss mx dr prof sir madam dame lord lady herr frau fräulein m mme mlle monsieur"
    " madame sr sra srta don doña sig sigra signor signora signore dott dottoressa pan pani dhr"
    " mevr mevrouw meneer sra sr. rev fr"
)  # fmt: skip
#: Capitalised words that start sentences, name places, days, months or firms, never people.
_STOP = _words(
    "the a an this that these those there here it its is are was we you he she they i my our"
    " your his her their dear hi hello hey thanks thank please regards best kind sincerely yes"
    " no ok okay and or but if when then so new old north south east west northern southern"
    " united great saint st san santa los las la le el der die das den von van de del di da"
    " street road avenue lane city county state republic kingdom university college school"
    " hospital bank company group inc ltd llc gmbh ag sa srl bv plc corp corporation team"
    " department office customer client user admin support service order invoice product item"
    " monday tuesday wednesday thursday friday saturday sunday january february march april"
    " may june july august september october november december montag dienstag mittwoch"
    " donnerstag freitag samstag sonntag lundi mardi mercredi jeudi vendredi samedi dimanche"
    " lunes martes miércoles jueves viernes sábado domingo mr mrs ms dr prof note total"
    " account payment card phone email address name date subject re fw fwd ms word excel"
    " google microsoft apple amazon facebook twitter linkedin python java"
)  # fmt: skip
_PARTICLES = _words("de del della di da do dos das du des la le van von der den ter ten bin al")

_TOKEN = r"[A-ZÀ-ÖØ-ÞĀ-Ž][a-zß-öø-ÿā-ž'\u2019]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'\u2019]+)?"
_RUN = re.compile(
    rf"(?<![\w-]){_TOKEN}(?:\s+(?:(?:{'|'.join(sorted(_PARTICLES))})\s+)*{_TOKEN}){{0,3}}(?![\w-])"
)
_LABEL = re.compile(
    r"(?:\bname|\bnom|\bnombre|\bnome|\bnaam|\bimię|\bnazwisko|\bkunde|\bcustomer|\bpatient"
    r"|\bcontact|\bsigned|\bsincerely|\bregards|\bfrom|\bto|\battn)\s*[:,]?\s*$",
    re.I,
)
COLUMN_HINT = re.compile(
    r"(?:^|[^a-z])(?:name|names|first|last|given|family|surname|forename|fullname|customer"
    r"|client|patient|employee|contact|person|owner|author|user_?name|nom|prenom|prénom|nombre"
    r"|apellido|nome|cognome|vorname|nachname|naam|achternaam|imie|imię|nazwisko)",
    re.I,
)


def _strings(values: object) -> Iterable[str]:
    if isinstance(values, str):
        yield values
    elif isinstance(values, dict):
        for key in values:
            yield from _strings(key)
    elif isinstance(values, (tuple, list, set, frozenset)):
        for item in values:
            yield from _strings(item)


def _providers(family: str, locales: Iterable[str]) -> Iterator[type]:
    """Faker's ``family`` provider (``person``, ``lorem``) of each locale that exists."""
    for locale in locales:
        try:
            yield importlib.import_module(f"faker.providers.{family}.{locale}").Provider
        except ImportError:
            continue


@functools.cache
def name_dictionaries() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, family names), case-folded, from every locale in :data:`LOCALES`."""
    given: set[str] = set()
    family: set[str] = set()
    for provider in _providers("person", LOCALES):
        for attr in dir(provider):
            if attr.startswith("first_names"):
                given.update(n.casefold() for n in _strings(getattr(provider, attr)))
            elif attr.startswith("last_names") or attr.endswith("last_names"):
                family.update(n.casefold() for n in _strings(getattr(provider, attr)))
    # Multi-word entries ("De la Cruz") are matched word by word.
    family = {part for name in family for part in name.split() if part not in _PARTICLES}
    return frozenset(given), frozenset(family)


@functools.cache
def common_words() -> frozenset[str]:
    """Frequent words of several languages (Faker's lorem lists), case-folded."""
    words: set[str] = set()
    for provider in _providers("lorem", _LOREM_LOCALES):
        words.update(w.casefold() for w in _strings(getattr(provider, "word_list", ())))
    return frozenset(words)


def _titled(text: str, start: int) -> bool:
    before = window_before(text, start, 24)
    m = re.search(r"([A-Za-zäöüéñ]+)\.?\s*$", before)
    if m is not None and m.group(1).casefold() in _TITLES:
        return True
    return _LABEL.search(before) is not None


def _split_run(tokens: list[tuple[int, int, str]]) -> Iterator[list[tuple[int, int, str]]]:
    # Stop words split a run of capitalised words into candidate names.
    current: list[tuple[int, int, str]] = []
    for token in tokens:
        if token[2].casefold() in _STOP:
            if current:
                yield current
            current = []
        else:
            current.append(token)
    if current:
        yield current


def _from_given_name(part: list[tuple[int, int, str]]) -> list[tuple[int, int, str]] | None:
    # "Contact Jean-Pierre Dupont": the name starts at the first known given name.
    given, _ = name_dictionaries()
    for i, (_, _, word) in enumerate(part[:-1]):
        folded = word.casefold()
        if folded in given or folded.split("-")[0] in given:
            return part[i:]
    return None


#: Endings of abstract nouns and gerunds: "Grant Application", "Will Processing".
_NOUN_ENDINGS = re.compile(
    r"(?:tion|sion|ment|ness|ity|ance|ence|ship|ology|ing|ism|ics|ure|ary|ery|able|ible|ive"
    r"|ung|heit|keit|schaft|ción|zione|ção|eur|eurs|ité)$"
)


def score_name(words: list[str], *, context: bool) -> float | None:
    """How much ``words`` (capitalised, no stop words) look like a person's name."""
    given, family = name_dictionaries()
    common = common_words()
    folded = [w.casefold() for w in words if w.casefold() not in _PARTICLES]
    if not folded:
        return None
    known_given = folded[0] in given or folded[0].split("-")[0] in given
    known_family = any(w in family for w in folded[1:])
    if len(folded) >= 2 and known_given and known_family:
        return 0.9
    if context:
        return 0.8
    if (
        len(folded) >= 2
        and known_given
        and not any(w in common or _NOUN_ENDINGS.search(w) for w in folded[1:])
        and folded[0] not in common
    ):
        return 0.7
    return None


class PersonRecogniser:
    """Person names from dictionaries, capitalisation and context."""

    entities: tuple[str, ...] = (PERSON,)
    column_hint: re.Pattern[str] | None = COLUMN_HINT
    cell_shape: re.Pattern[str] = re.compile(r"[^\W\d_][^\d\n]{1,60}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every person name in ``text``."""
        labelled = bool(context) and COLUMN_HINT.search(context) is not None
        for run in _RUN.finditer(text):
            tokens = [
                (m.start() + run.start(), m.end() + run.start(), m.group())
                for m in re.finditer(r"\S+", run.group())
            ]
            for whole in _split_run(tokens):
                given = _from_given_name(whole)
                part = whole if given is None else given
                start, end = part[0][0], part[-1][1]
                has_context = labelled or _titled(text, start)
                words = [t[2] for t in part]
                # Without a known given name, or as a single word, only context makes a name.
                if not has_context and (given is None or len(words) == 1):
                    continue
                score = score_name(words, context=has_context)
                if score is not None:
                    yield EntityMatch(PERSON, start, end, score, score >= 0.9)

    def validate(self, value: str, context: str = "") -> str | None:
        """PERSON when ``value`` is a name: a known given and family name, or (under a
        name-like ``context``) any mostly alphabetic value with a known part."""
        words = re.findall(r"[^\W\d_][^\s,]*", value)
        if not words or len(words) > 5 or any(ch.isdigit() for ch in value):
            return None
        given, family = name_dictionaries()
        folded = [w.casefold().strip(".") for w in words]
        if COLUMN_HINT.search(context):
            known = any(w in given or w in family for w in folded)
            return PERSON if known else None
        if "," in value:  # "Smith, John"
            folded = folded[1:] + folded[:1]
        if len(folded) < 2:
            return None
        if folded[0] in given and any(w in family for w in folded[1:]):
            return PERSON
        # "SMITH John": family name first, as in many registers.
        return PERSON if folded[-1] in given and folded[0] in family else None

"""An optional named-entity backend: a spaCy pipeline the user has installed.

Never required and never downloaded: :func:`spacy_person_recogniser` returns None unless
``spacy`` and the named model import. It is used only when asked for (the environment variable
``MLWARDEN_PII_NER=spacy`` or ``spacy:<model>``), since a statistical model is two orders of
magnitude slower than the dictionaries.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Iterator
from typing import Any

from mlwarden.scanners.data.recognisers.base import PERSON, EntityMatch

DEFAULT_MODEL = "en_core_web_sm"


class SpacyPersonRecogniser:
    """PERSON spans from a spaCy pipeline's ``PERSON``/``PER`` entities."""

    entities: tuple[str, ...] = (PERSON,)
    column_hint: re.Pattern[str] | None = None
    cell_shape: re.Pattern[str] = re.compile(r"[^\W\d_].*")
    needs_context: bool = True

    def __init__(self, pipeline: Any) -> None:
        self._nlp = pipeline

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every person the model tags in ``text``."""
        for ent in self._nlp(text).ents:
            if ent.label_ in ("PERSON", "PER"):
                yield EntityMatch(PERSON, ent.start_char, ent.end_char, 0.85, False)

    def validate(self, value: str, context: str = "") -> str | None:
        """PERSON when the model tags the whole ``value`` as a person."""
        spans = list(self.find(value))
        return PERSON if spans and spans[0].end - spans[0].start >= len(value) - 1 else None


@functools.cache
def spacy_person_recogniser(model: str = DEFAULT_MODEL) -> SpacyPersonRecogniser | None:
    """The spaCy backend for ``model``, or None when spaCy or the model is not installed."""
    try:
        spacy = importlib.import_module("spacy")
        pipeline = spacy.load(model, disable=["lemmatizer", "parser", "tagger"])
    except (ImportError, OSError):
        return None
    return SpacyPersonRecogniser(pipeline)


def requested_backend() -> SpacyPersonRecogniser | None:
    """The backend named by ``MLWARDEN_PII_NER``, when it is set and installed."""
    setting = os.environ.get("MLWARDEN_PII_NER", "")
    if not setting.startswith("spacy"):
        return None
    _, _, model = setting.partition(":")
    return spacy_person_recogniser(model or DEFAULT_MODEL)

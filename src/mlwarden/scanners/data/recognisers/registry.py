"""The recognisers in use, built once on first use (dictionaries and validators load lazily)."""

from __future__ import annotations

import functools

from mlwarden.scanners.data.recognisers.base import Recogniser


@functools.cache
def all_recognisers() -> tuple[Recogniser, ...]:
    """Every built-in recogniser, most specific first (ties in overlap go to the earlier)."""
    from mlwarden.scanners.data.recognisers.cards import CardRecogniser
    from mlwarden.scanners.data.recognisers.contact import EmailRecogniser, PhoneRecogniser

    return (CardRecogniser(), EmailRecogniser(), PhoneRecogniser())


def recognisers_for(entities: frozenset[str] | None) -> tuple[Recogniser, ...]:
    """The recognisers that can report any of ``entities`` (all of them for None)."""
    if entities is None:
        return all_recognisers()
    return tuple(r for r in all_recognisers() if entities.intersection(r.entities))

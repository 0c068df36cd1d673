"""Reading options out of an argument list: ``--name=value``, ``--name value``, ``-n value``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlwarden.scanners.code.serving.shell import Word


@dataclass(frozen=True, slots=True)
class Option:
    """An option's value and the word that named it (where findings point)."""

    value: str
    word: Word


def option(args: Sequence[Word], *names: str) -> Option | None:
    """The last value given to any of ``names`` (``--host=x``, ``--host x``, ``-h x``)."""
    found: Option | None = None
    for index, word in enumerate(args):
        text = word.text
        for name in names:
            if text == name and index + 1 < len(args):
                found = Option(args[index + 1].text, word)
            elif text.startswith(name + "="):
                found = Option(text[len(name) + 1 :], word)
    return found


def flag(args: Sequence[Word], *names: str) -> Word | None:
    """The last word that is one of ``names`` (a switch without a value)."""
    found: Word | None = None
    for word in args:
        if word.text in names:
            found = word
    return found


def unquote(value: str) -> str:
    """A value with one pair of matching quotes removed (``''`` in an exec-form list)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value

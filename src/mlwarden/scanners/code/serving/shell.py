"""A small POSIX shell reader: words with their positions, split into simple commands.

It reads the syntax that command lines of ML servers are written in (quotes, escapes, line
continuations, ``;``/``&&``/``|`` lists, redirections, here-documents, ``$(...)``) and never
runs or expands anything but the variables it is given. Positions survive quoting, so a
finding points at the line and column of the flag that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

#: Maps an offset in a text to its 1-based (line, column) in the scanned file.
Locate = Callable[[int], tuple[int, int]]

_SEPARATORS = frozenset(";&|()\n")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)", re.DOTALL)
_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?[-=](?P<default>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word after quote removal, where it starts, and how to locate inside it."""

    text: str
    line: int
    column: int
    inner: Locate  # position of an offset inside ``text`` (for ``sh -c "script"``)

    def expanded(self, variables: Mapping[str, str]) -> Word:
        """The word with known ``$NAME`` / ``${NAME}`` / ``${NAME:-default}`` replaced."""
        if "$" not in self.text:
            return self
        return Word(expand(self.text, variables), self.line, self.column, self.inner)


@dataclass(frozen=True, slots=True)
class HereDocument:
    """The body of a here-document, and how to locate offsets in it."""

    body: str
    locate: Locate


@dataclass(slots=True)
class SimpleCommand:
    """The words of one simple command and the ``NAME=value`` assignments before them, the
    files its output is redirected to, and the here-documents it reads."""

    words: list[Word] = field(default_factory=list)
    assignments: dict[str, str] = field(default_factory=dict)
    assignment_words: list[Word] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    documents: list[HereDocument] = field(default_factory=list)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Replace variable references whose value is known; leave the others as written."""

    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["plain"]
        if name in variables:
            return variables[name]
        if match["default"] is not None:
            return match["default"]
        return match.group(0)

    return _REFERENCE.sub(replace, text)


def words_locator(locate: Locate, start: int, quoted: bool) -> Locate:
    """Locate offsets inside a word that starts at ``start`` (after its quote, if any)."""
    shift = start + (1 if quoted else 0)
    return lambda offset: locate(shift + offset)


class _Reader:
    """Character-level state of one pass over a script."""

    def __init__(self, text: str, locate: Locate, bodies: Sequence[HereDocument] = ()) -> None:
        self.text = text
        self.locate = locate
        self.bodies = bodies
        self.i = 0
        self.commands: list[SimpleCommand] = []
        self.current = SimpleCommand()
        # (delimiter, strip leading tabs, the command that reads it)
        self.heredocs: list[tuple[str, bool, SimpleCommand]] = []
        self.redirect_target = False
        self.heredoc_target: bool | None = None  # None: not after <<; else strip-tabs flag

    def run(self) -> list[SimpleCommand]:
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if char == "\\" and text.startswith("\n", self.i + 1):
                self.i += 2
            elif char in " \t\r":
                self.i += 1
            elif char == "\n":
                self._end_command()
                self.i += 1
                self._skip_heredoc_bodies()
            elif char == "#":
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            elif char in _SEPARATORS:
                self._end_command()
                self.i += 1
            elif char in "<>":
                self._redirection()
            else:
                self._word()
        self._end_command()
        # Bodies given from outside (a Dockerfile's here-documents follow the instruction).
        for (_delimiter, _strip, command), body in zip(self.heredocs, self.bodies, strict=False):
            command.documents.append(body)
        return self.commands

    def _end_command(self) -> None:
        if self.current.words or self.current.assignments:
            self.commands.append(self.current)
        self.current = SimpleCommand()
        self.redirect_target = False

    def _redirection(self) -> None:
        text = self.text
        if text.startswith("<<", self.i) and not text.startswith("<<<", self.i):
            self.i += 2
            strip = text.startswith("-", self.i)
            self.i += 1 if strip else 0
            self.heredoc_target = strip
            return
        while self.i < len(text) and text[self.i] in "<>&|":
            self.i += 1
        # "2>&1" and ">&2" name a descriptor, not a file.
        if self.i < len(text) and text[self.i].isdigit() and text[self.i - 1] == "&":
            self.i += 1
            return
        self.redirect_target = True

    def _skip_heredoc_bodies(self) -> None:
        text = self.text
        for delimiter, strip, command in self.heredocs:
            start = self.i
            body_end = len(text)
            while self.i < len(text):
                end = text.find("\n", self.i)
                end = len(text) if end < 0 else end
                line = text[self.i : end]
                if (line.lstrip("\t") if strip else line).rstrip("\r") == delimiter:
                    body_end = self.i
                    self.i = end + 1
                    break
                self.i = end + 1
            body = text[start:body_end]
            command.documents.append(HereDocument(body, words_locator(self.locate, start, False)))
        self.heredocs = []

    def _word(self) -> None:
        text = self.text
        start = self.i
        parts: list[str] = []
        quoted = False
        while self.i < len(text):
            char = text[self.i]
            if char in " \t\r" or char in _SEPARATORS or char in "<>":
                break
            if char == "\\":
                if text.startswith("\n", self.i + 1):
                    self.i += 2
                    continue
                parts.append(text[self.i + 1 : self.i + 2])
                self.i += 2
            elif char == "'" or (char == "$" and text.startswith("'", self.i + 1)):
                quoted = True
                self.i += 2 if char == "$" else 1
                end = text.find("'", self.i)
                end = len(text) if end < 0 else end
                parts.append(text[self.i : end])
                self.i = end + 1
            elif char == '"':
                quoted = True
                self.i += 1
                parts.append(self._double_quoted())
            elif char == "$" and text.startswith("(", self.i + 1):
                parts.append(self._balanced("(", ")"))
            elif char == "`":
                end = text.find("`", self.i + 1)
                end = len(text) - 1 if end < 0 else end
                parts.append(text[self.i : end + 1])
                self.i = end + 1
            else:
                parts.append(char)
                self.i += 1
        value = "".join(parts)
        if not value and not quoted:
            self.i = max(self.i, start + 1)
            return
        self._add(value, start, quoted and text[start] in "'\"")

    def _double_quoted(self) -> str:
        text = self.text
        parts: list[str] = []
        while self.i < len(text) and text[self.i] != '"':
            char = text[self.i]
            if char == "\\" and self.i + 1 < len(text) and text[self.i + 1] in '"\\$`\n':
                if text[self.i + 1] != "\n":
                    parts.append(text[self.i + 1])
                self.i += 2
            elif char == "$" and text.startswith("(", self.i + 1):
                parts.append(self._balanced("(", ")"))
            else:
                parts.append(char)
                self.i += 1
        self.i += 1
        return "".join(parts)

    def _balanced(self, opening: str, closing: str) -> str:
        # $( ... ) copied as written: its inside is another command, not part of this one.
        text = self.text
        start = self.i
        depth = 0
        while self.i < len(text):
            char = text[self.i]
            if char == opening:
                depth += 1
            elif char == closing:
                depth -= 1
                if depth == 0:
                    self.i += 1
                    break
            self.i += 1
        return text[start : self.i]

    def _add(self, value: str, start: int, quoted: bool) -> None:
        if self.heredoc_target is not None:
            self.heredocs.append((value, self.heredoc_target, self.current))
            self.heredoc_target = None
            return
        if self.redirect_target:
            self.redirect_target = False
            self.current.redirects.append(value)
            return
        line, column = self.locate(start)
        word = Word(value, line, column, words_locator(self.locate, start, quoted))
        command = self.current
        assignment = _ASSIGNMENT.fullmatch(value)
        if not command.words and assignment is not None and not self.text.startswith("'", start):
            command.assignments[assignment["name"]] = assignment["value"]
            command.assignment_words.append(word)
            return
        command.words.append(word)


def parse_script(
    text: str, locate: Locate, bodies: Sequence[HereDocument] = ()
) -> list[SimpleCommand]:
    """The simple commands of a shell script, in order; here-document bodies are kept apart
    (in :attr:`SimpleCommand.documents`), never read as commands. ``bodies`` are the bodies of
    here-documents opened but not written in ``text`` (as in a Dockerfile ``RUN``)."""
    return _Reader(text, locate, bodies).run()


def iter_words_as_command(words: list[Word]) -> Iterator[SimpleCommand]:
    """An exec-form argument list (Dockerfile JSON, compose list) as one simple command."""
    if words:
        yield SimpleCommand(words=list(words))


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid shell variable name."""
    return _NAME.fullmatch(text) is not None

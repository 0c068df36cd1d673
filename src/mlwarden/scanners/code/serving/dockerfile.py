"""Dockerfiles: instructions with their continuation lines, ``ENV``/``ARG`` values, and the
command lines of ``RUN``, ``CMD`` and ``ENTRYPOINT`` in shell and exec form."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from mlwarden.scanners.code.lines import LineIndex
from mlwarden.scanners.code.serving.commands import (
    CommandContext,
    check_commands,
    check_environment,
    embedded_properties,
)
from mlwarden.scanners.code.serving.jupyter import STACK_IMAGE
from mlwarden.scanners.code.serving.model import ServingIssue
from mlwarden.scanners.code.serving.shell import (
    HereDocument,
    Locate,
    SimpleCommand,
    Word,
    expand,
    parse_script,
)

_SOURCE = "dockerfile"
_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(?P<char>[\\`])\s*$", re.IGNORECASE)
_HEREDOC = re.compile(r"<<(?P<strip>-?)(?P<quote>[\"']?)(?P<word>[A-Za-z_][\w.-]*)(?P=quote)")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction with its continuation lines joined, and where each character is."""

    keyword: str
    arguments: str
    line: int
    locate: Locate
    heredoc: tuple[str, Locate] | None = None  # the first here-document's body, if any


class _Joined:
    """Offsets in a joined instruction mapped back to offsets in the file."""

    def __init__(self, index: LineIndex) -> None:
        self.index = index
        self.starts: list[int] = []
        self.origins: list[int] = []
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str, origin: int) -> None:
        self.starts.append(self.length)
        self.origins.append(origin)
        self.parts.append(text)
        self.length += len(text)

    def locate(self, offset: int) -> tuple[int, int]:
        piece = max(bisect_right(self.starts, offset) - 1, 0)
        return self.index.at(self.origins[piece] + offset - self.starts[piece])


def instructions(text: str) -> Iterator[Instruction]:
    """The instructions of a Dockerfile, in order."""
    index = LineIndex(text)
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    escape = "\\"
    for line in lines[:5]:
        match = _DIRECTIVE.match(line.strip())
        if match:
            escape = match["char"]
    number = 0
    while number < len(lines):
        raw = lines[number]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            number += 1
            continue
        start_line = number
        joined = _Joined(index)
        lead = len(raw) - len(raw.lstrip())
        keyword, _space, _rest = stripped.partition(" ")
        keyword = keyword.split("\t", 1)[0]
        args_at = lead + len(keyword)
        current = raw[args_at:]
        origin = offsets[number] + args_at
        while True:
            body = current.rstrip()
            if not body.endswith(escape):
                joined.add(current.rstrip("\r"), origin)
                break
            joined.add(body[:-1], origin)
            number += 1
            while number < len(lines) and (
                not lines[number].strip() or lines[number].lstrip().startswith("#")
            ):
                number += 1
            if number >= len(lines):
                break
            current, origin = lines[number], offsets[number]
        number += 1
        arguments = "".join(joined.parts)
        heredoc: tuple[str, Locate] | None = None
        match = _HEREDOC.search(arguments)
        if match is not None and keyword.upper() in ("RUN", "COPY", "ADD"):
            body_start = number
            while number < len(lines):
                candidate = lines[number].lstrip("\t") if match["strip"] else lines[number]
                number += 1
                if candidate.rstrip("\r") == match["word"]:
                    break
            body = "\n".join(lines[body_start : number - 1])
            base = offsets[body_start] if body_start < len(offsets) else len(text)
            heredoc = (body, _shifted(index.at, base))
        yield Instruction(keyword.upper(), arguments, start_line + 1, joined.locate, heredoc)


def exec_form(instruction: Instruction) -> list[Word] | None:
    """The words of a JSON-array instruction, or ``None`` for the shell form."""
    text = instruction.arguments.strip()
    if not text.startswith("["):
        return None
    try:
        values = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    shift = len(instruction.arguments) - len(instruction.arguments.lstrip())
    literals = list(_JSON_STRING.finditer(text))
    if len(literals) != len(values):
        line, column = instruction.locate(shift)
        return [Word(v, line, column, instruction.locate) for v in values]
    words: list[Word] = []
    for literal, value in zip(literals, values, strict=True):
        at = shift + literal.start()
        line, column = instruction.locate(at)
        words.append(Word(value, line, column, _shifted(instruction.locate, at + 1)))
    return words


def _shifted(locate: Locate, shift: int) -> Locate:
    return lambda offset: locate(shift + offset)


def _env_pairs(instruction: Instruction) -> list[tuple[str, str, Word]]:
    commands = parse_script(instruction.arguments.replace("\n", " "), instruction.locate)
    words = [w for c in commands for w in c.assignment_words + c.words]
    if not words:
        return []
    if "=" in words[0].text:
        pairs = [(w.text.partition("="), w) for w in words if "=" in w.text]
        return [(name, value, w) for (name, _eq, value), w in pairs]
    # The legacy form: ENV NAME value with spaces
    value = " ".join(w.text for w in words[1:])
    return [(words[0].text, value, words[0])]


def _shell_form(instruction: Instruction) -> list[SimpleCommand]:
    if instruction.heredoc is None:
        return parse_script(instruction.arguments, instruction.locate)
    document = HereDocument(*instruction.heredoc)
    if instruction.arguments.lstrip().startswith("<<"):
        return parse_script(document.body, document.locate)  # RUN <<EOF: the body is the script
    return parse_script(instruction.arguments, instruction.locate, [document])


def check_dockerfile(text: str) -> Iterator[ServingIssue]:
    """The issues of one Dockerfile."""
    context = CommandContext(_SOURCE)
    entrypoint: list[Word] | None = None
    for instruction in instructions(text):
        keyword = instruction.keyword
        if keyword == "FROM":
            image = next((p for p in instruction.arguments.split() if not p.startswith("--")), "")
            image = expand(image, context.variables)
            context.jupyter_ip = "0.0.0.0" if STACK_IMAGE.search(image) else "localhost"
            entrypoint = None
        elif keyword in ("ENV", "ARG"):
            for name, raw, word in _env_pairs(instruction):
                value = expand(raw, context.variables)  # Docker expands ARG and ENV values too
                context.variables[name] = value
                if keyword == "ENV":
                    yield from check_environment(name, value, word, _SOURCE)
        elif keyword in ("COPY", "ADD") and instruction.heredoc is not None:
            destination = instruction.arguments.split()[-1] if instruction.arguments.split() else ""
            if destination.endswith(".properties"):
                yield from embedded_properties(HereDocument(*instruction.heredoc))
        elif keyword in ("RUN", "CMD", "ENTRYPOINT"):
            words = exec_form(instruction)
            commands = [SimpleCommand(words=words)] if words else _shell_form(instruction)
            yield from check_commands(commands, context)
            if keyword == "ENTRYPOINT":
                entrypoint = words
            elif keyword == "CMD" and entrypoint and words:
                # An exec-form ENTRYPOINT receives CMD as its arguments.
                yield from check_commands([SimpleCommand(words=entrypoint + words)], context)

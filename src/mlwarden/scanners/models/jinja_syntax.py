"""Jinja2 template syntax, read without jinja2: a lexer and a recursive-descent parser.

Chat templates are only ever parsed here, never compiled or rendered, and importing jinja2 and
building its lexer costs more than parsing a template. This module accepts the templates that
jinja2 3.x's ``ImmutableSandboxedEnvironment`` accepts with the ``loopcontrols`` and ``do``
extensions and transformers' ``{% generation %}`` block (default delimiters, no line
statements, ``trim_blocks`` and ``lstrip_blocks`` off), and builds the tree jinja2 builds: one
:class:`Node` per jinja2 node, named by its class and holding its fields in jinja2's order.

A template this parser rejects is handed to jinja2 by the caller, whose verdict and message are
final; so a wrong rejection costs time, never a wrong answer. Two rejections are deliberate
(:class:`UndecidedSyntax`), because only jinja2 itself can decide them:

- a name continued by a character that is a Python identifier character but not ``\\w``
  (combining marks, for instance): jinja2 lists such characters in a table generated from an
  older Unicode database than the running Python's, so whether the name goes on is its call;
- nesting deeper than :data:`NESTING_BUDGET`, an estimate of the stack frames jinja2's own
  parser would use: past it jinja2 may run out of stack, and a template it cannot parse must
  not pass as parsed here.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from itertools import accumulate, repeat
from typing import NoReturn, TypeAlias

#: What a field of a node holds: a node, a list of nodes, the names of a ``from`` import, or a
#: plain value (a name, a constant, a flag); ``None`` where jinja2 leaves a field empty.
Field: TypeAlias = "Node | list[Node] | list[str | tuple[str, str]] | str | int | float | None"

#: What a token carries: a name, a decoded string, a number, template text, or nothing.
TokenValue: TypeAlias = "str | int | float | None"

#: Estimated jinja2 stack frames a template may nest before this parser leaves it to jinja2.
#: jinja2 spends about 14 frames per bracket or argument list and 4 per nested block; with
#: Python's default limit of 1000 this leaves room for the caller's own frames.
NESTING_BUDGET = 600

_EXPRESSION_COST = 15  # parse_expression down to a primary, or into brackets and arguments
_BLOCK_COST = 5  # a statement body nested in another
_CHAIN_COST = 2  # one more unary sign, ``not`` or ``else`` in a chain
#: Inside brackets jinja2 parses a new expression, so past this depth the parser would all but
#: certainly exhaust its budget; the lexer stops here instead, before reading a megabyte more.
_MAX_BRACKETS = NESTING_BUDGET // _EXPRESSION_COST

#: The start of a token inside a tag, after any whitespace, in the order of jinja2's rules:
#: 1 an end delimiter (one only where it ends this tag), 2 the first digit of a number, 3 a
#: name, 4 any other character (a quote, an operator, or an error). Numbers, strings and
#: operators are read on from there; a short pattern is quick to compile.
_TAG_TOKEN = re.compile(r"\s*(?:([-+]?%\}|-?\}\})|(\d)|(\w+)|(\S))")
_OPERATORS_OF_TWO = frozenset({"//", "**", "==", "!=", ">=", "<="})
_OPERATORS_OF_ONE = frozenset("+-/*%~[](){}><=.:|,;")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}

_COMPARISONS = {"==": "eq", "!=": "ne", ">": "gt", ">=": "gteq", "<": "lt", "<=": "lteq"}
_SUMS = {"+": "Add", "-": "Sub"}
_PRODUCTS = {"*": "Mul", "/": "Div", "//": "FloorDiv", "%": "Mod"}
_POWERS = {"**": "Pow"}
_CONSTANT_NAMES: dict[str, bool | None] = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "none": None,
    "None": None,
}
#: Tokens after an operand that continue an expression at some level of precedence.
_OPERATORS = frozenset({"**", "*", "/", "//", "%", "~", "+", "-", *_COMPARISONS})
_OPERATOR_WORDS = frozenset({"in", "not", "and", "or"})
_POSTFIX_STARTS = frozenset({".", "[", "("})
_TEST_ARGUMENT_STARTS = frozenset({"name", "string", "integer", "float", "(", "[", "{"})
_TUPLE_ENDS = frozenset({"variable_end", "block_end", ")"})


class JinjaSyntaxError(Exception):
    """The template is not valid Jinja2 (jinja2 itself words the message users see)."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(f"line {lineno}: {message}")
        self.message = message
        self.lineno = lineno


class UndecidedSyntax(JinjaSyntaxError):
    """Only jinja2 can tell whether the template is valid (see the module docstring)."""


class Node:
    """One node of jinja2's syntax tree: its class name, line and fields in jinja2's order.

    ``Name`` is ``(name, ctx)``, ``Getattr`` is ``(node, attr, ctx)``, ``Call`` is ``(node,
    args, kwargs, dyn_args, dyn_kwargs)``, ``Filter`` is ``(node, name, args, kwargs, dyn_args,
    dyn_kwargs)``, and so on for every class of ``jinja2.nodes``; ``lineno`` is 0 where jinja2
    gives none.
    """

    __slots__ = ("fields", "kind", "lineno")

    def __init__(self, kind: str, lineno: int, fields: tuple[Field, ...]) -> None:
        self.kind = kind
        self.lineno = lineno
        self.fields = fields

    def children(self) -> list[Node]:
        """The nodes among the fields, in order (jinja2's ``iter_child_nodes``)."""
        found: list[Node] = []
        for value in self.fields:
            if isinstance(value, Node):
                found.append(value)
            elif isinstance(value, list):
                found.extend(item for item in value if isinstance(item, Node))
        return found

    def __repr__(self) -> str:
        return f"{self.kind}@{self.lineno}{self.fields!r}"


def parse_template(source: str) -> Node:
    """The ``Template`` node of ``source``, or :class:`JinjaSyntaxError`.

    Deep nesting ends in :class:`UndecidedSyntax` well before Python's recursion limit.
    """
    return _Parser(*_tokenize(source)).parse()


def template_nodes(source: str) -> list[Node]:
    """Every node of the tree of ``source`` once, children before parents, the ``Template``
    node last; or :class:`JinjaSyntaxError`. Cheaper than walking the tree for each node."""
    parser = _Parser(*_tokenize(source))
    parser.parse()
    return parser.made


def _error_at(source: str, pos: int, message: str) -> JinjaSyntaxError:
    return JinjaSyntaxError(message, source.count("\n", 0, pos) + 1)


def _tokenize(source: str) -> tuple[list[str], list[TokenValue], list[int]]:
    """Token kinds, values and lines; comments, whitespace and raw markers are dropped.

    Kinds are ``data``, ``variable_begin``/``_end``, ``block_begin``/``_end``, ``name``,
    ``string``, ``integer``, ``float``, the operator's own text, and two closing ``eof``.
    """
    # Line breaks are \r\n, \r or \n; one final line break is dropped, as jinja2 does.
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    if source.endswith("\n"):
        source = source[:-1]
    kinds: list[str] = []
    values: list[TokenValue] = []
    starts: list[int] = []
    end = len(source)
    pos = 0
    while pos < end:
        start = _next_tag(source, pos)
        if start < 0:
            kinds.append("data")
            values.append(source[pos:])
            starts.append(pos)
            break
        opener = source[start + 1]
        inside = start + 2
        sign = source[inside : inside + 1]
        if sign in ("-", "+"):
            inside += 1
        text = source[pos:start]
        if sign == "-":
            text = text.rstrip()
        if text:
            kinds.append("data")
            values.append(text)
            starts.append(pos)
        raw = _raw_begin_end(source, inside) if opener == "%" else -1
        if raw >= 0:
            pos = _scan_raw(source, raw, kinds, values, starts)
        elif opener == "#":
            pos = _skip_comment(source, inside)
        else:
            kinds.append("block_begin" if opener == "%" else "variable_begin")
            values.append(None)
            starts.append(start)
            pos = _scan_tag(source, inside, opener == "%", kinds, values, starts)
    # Each token's line: 1 plus the line breaks before it, counted between token starts.
    breaks = map(source.count, repeat("\n"), [0, *starts], starts)
    lines = list(accumulate(breaks, initial=1))[1:]
    last = lines[-1] if lines else 1
    kinds += ("eof", "eof")
    values += (None, None)
    lines += (last, last)
    return kinds, values, lines


def _next_tag(source: str, pos: int) -> int:
    """Where the next ``{{``, ``{%`` or ``{#`` starts, or -1."""
    brace = source.find("{", pos)
    while brace >= 0:
        if source[brace + 1 : brace + 2] in ("{", "%", "#"):
            return brace
        brace = source.find("{", brace + 1)
    return -1


def _skip_spaces(source: str, pos: int) -> int:
    """The position after the whitespace (``str.isspace``, as ``\\s``) at ``pos``."""
    end = len(source)
    while pos < end and source[pos].isspace():
        pos += 1
    return pos


def _tag_end(source: str, pos: int, plus: bool) -> int:
    """The position after ``%}`` or ``-%}`` at ``pos`` (``+%}`` too if ``plus``), else -1."""
    if source.startswith("%}", pos):
        return pos + 2
    if source.startswith("-%}", pos):
        return _skip_spaces(source, pos + 3)
    if plus and source.startswith("+%}", pos):
        return pos + 3
    return -1


def _raw_begin_end(source: str, pos: int) -> int:
    """After ``{%`` and its sign at ``pos``: the end of a ``raw`` tag there, else -1."""
    word = _skip_spaces(source, pos)
    if not source.startswith("raw", word):
        return -1
    return _tag_end(source, _skip_spaces(source, word + 3), plus=False)


def _scan_raw(
    source: str, pos: int, kinds: list[str], values: list[TokenValue], starts: list[int]
) -> int:
    """The text of a raw block as data; the position after ``{% endraw %}``."""
    tag = source.find("{%", pos)
    while tag >= 0:
        inside = tag + 2
        sign = source[inside : inside + 1]
        word = _skip_spaces(source, inside + 1 if sign in ("-", "+") else inside)
        after = -1
        if source.startswith("endraw", word):
            after = _tag_end(source, _skip_spaces(source, word + 6), plus=True)
        if after >= 0:
            text = source[pos:tag]
            if sign == "-":
                text = text.rstrip()
            if text:
                kinds.append("data")
                values.append(text)
                starts.append(pos)
            return after
        tag = source.find("{%", tag + 1)
    # A raw block opened at the very end is closed by the end (jinja2 reads it so).
    if pos < len(source):
        raise _error_at(source, pos, "missing end of raw directive")
    return pos


def _skip_comment(source: str, pos: int) -> int:
    """The position after the comment whose text starts at ``pos``."""
    close = source.find("#}", pos)
    if close == -1:
        if pos < len(source):  # a comment opened at the very end is closed by the end
            raise _error_at(source, pos, "missing end of comment tag")
        return pos
    if close > pos and source[close - 1] == "-":
        return _skip_spaces(source, close + 2)
    return close + 2


def _scan_tag(
    source: str,
    pos: int,
    block: bool,
    kinds: list[str],
    values: list[TokenValue],
    starts: list[int],
) -> int:
    """Tokens of a ``{% %}`` or ``{{ }}`` tag from ``pos``; the position after its end.

    While brackets are open an end delimiter is read as operators, as jinja2 reads it.
    """
    open_brackets: list[str] = []
    match = _TAG_TOKEN.match
    add_kind, add_value, add_start = kinds.append, values.append, starts.append
    while True:
        token = match(source, pos)
        if token is None:
            pos = _skip_spaces(source, pos)
            if pos < len(source):
                raise _error_at(source, pos, f"unexpected char {source[pos]!r}")
            return pos  # the template ends inside the tag: the parser reports it
        group = token.lastindex or 0  # one group always matches; each ends the match
        start, pos = token.span(group)
        text: str = token[group]
        if group == 3:
            follower = source[pos : pos + 1]
            if follower > "\x7f" and ("a" + follower).isidentifier():
                raise UndecidedSyntax(f"name continued by {follower!r}", 0)
            # A name never starts with a digit here (numbers come first), so an ASCII one
            # is an identifier; others may not be.
            if not text.isascii() and not text.isidentifier():
                raise _error_at(source, start, "invalid character in identifier")
            add_kind("name")
            add_value(text)
        elif group == 4:
            if text == "'" or text == '"':
                pos = _string_end(source, start)
                if pos < 0:  # jinja2 reads an unclosed quote as an unexpected character
                    raise _error_at(source, start, f"unexpected char {text!r}")
                add_kind("string")
                add_value(_string_value(source, start, source[start + 1 : pos - 1]))
                add_start(start)
                continue
            pair = source[start : start + 2]
            if pair in _OPERATORS_OF_TWO:
                text = pair
                pos = start + 2
            elif text not in _OPERATORS_OF_ONE:
                raise _error_at(source, start, f"unexpected char {text!r}")
            elif text in _CLOSERS:
                open_brackets.append(_CLOSERS[text])
                if len(open_brackets) > _MAX_BRACKETS:
                    raise UndecidedSyntax("brackets nested too deeply", 0)
            elif text in (")", "]", "}") and (not open_brackets or open_brackets.pop() != text):
                raise _error_at(source, start, f"unexpected {text!r}")
            add_kind(text)
            add_value(None)
        elif group == 1:
            if not open_brackets and (text[-2] == "%") == block:
                add_kind("block_end" if block else "variable_end")
                add_value(None)
                add_start(start)
                return _skip_spaces(source, pos) if text[0] == "-" else pos
            # Not this tag's end, or brackets are open: its first character is an operator.
            text = text[0]
            pos = start + 1
            if text == "}" and (not open_brackets or open_brackets.pop() != text):
                raise _error_at(source, start, "unexpected '}'")
            add_kind(text)
            add_value(None)
        else:
            pos, is_float = _number_end(source, start)
            if pos == start:  # a digit of another script starts a name, never a valid one
                raise _error_at(source, start, "invalid character in identifier")
            text = source[start:pos].replace("_", "")
            if is_float:
                if not text.isascii():  # jinja2's literal_eval fails on other digits
                    raise _error_at(source, start, "invalid float")
                add_kind("float")
                add_value(float(text))
            else:
                try:
                    add_value(int(text, 0))
                except ValueError:  # jinja2 fails the same way, outside its syntax errors
                    raise _error_at(source, start, "invalid integer") from None
                add_kind("integer")
        add_start(start)


def _string_end(source: str, start: int) -> int:
    """The position after the string literal whose quote is at ``start``, or -1 if unclosed.

    A backslash escapes the character after it, so a quote closes the string when an even
    number of backslashes precedes it.
    """
    quote = source[start]
    close = source.find(quote, start + 1)
    while close >= 0:
        escape = close
        while escape > start + 1 and source[escape - 1] == "\\":
            escape -= 1
        if (close - escape) % 2 == 0:
            return close + 1
        close = source.find(quote, close + 1)
    return -1


def _digits_end(source: str, pos: int) -> int:
    """The end of the decimal digits at ``pos``, single underscores allowed between them."""
    end = len(source)
    i = pos
    while i < end and source[i].isdecimal():
        i += 1
    while i > pos and source[i : i + 1] == "_" and source[i + 1 : i + 2].isdecimal():
        i += 2
        while i < end and source[i].isdecimal():
            i += 1
    return i


def _exponent_end(source: str, pos: int) -> int:
    """The end of an exponent (``e``, a sign, digits) at ``pos``, or ``pos``."""
    if source[pos : pos + 1] not in ("e", "E"):
        return pos
    digits = pos + 2 if source[pos + 1 : pos + 2] in ("+", "-") else pos + 1
    end = _digits_end(source, digits)
    return end if end > digits else pos


def _number_end(source: str, pos: int) -> tuple[int, bool]:
    """The end of the number at ``pos`` (a decimal digit) and whether it is a float.

    jinja2's rules, in its order: a float (digits, then a fraction, an exponent or both; not
    right after a dot), else an integer (``0b``, ``0o``, ``0x`` and their digits, digits from 1
    to 9 first, or zeros); a digit is any decimal digit except where ASCII ones are named.
    """
    if pos == 0 or source[pos - 1] != ".":
        mantissa = _digits_end(source, pos)
        if source[mantissa : mantissa + 1] == ".":
            fraction = _digits_end(source, mantissa + 1)
            if fraction > mantissa + 1:
                return max(fraction, _exponent_end(source, fraction)), True
        else:
            exponent = _exponent_end(source, mantissa)
            if exponent > mantissa:
                return exponent, True
    first = source[pos]
    if first == "0":
        radix = source[pos + 1 : pos + 2].lower()
        if radix in ("b", "o", "x"):
            i = pos + 2
            while True:
                if _is_radix_digit(source[i : i + 1], radix):
                    i += 1
                elif source[i : i + 1] == "_" and _is_radix_digit(source[i + 1 : i + 2], radix):
                    i += 2
                else:
                    break
            if i > pos + 2:
                return i, False
        i = pos + 1
        while source[i : i + 1] == "0" or source[i : i + 2] == "_0":
            i += 1 if source[i] == "0" else 2
        return i, False
    if "1" <= first <= "9":
        return _digits_end(source, pos), False
    return pos, False


def _is_radix_digit(char: str, radix: str) -> bool:
    """Whether ``char`` (one character or none) is a digit after ``0b``, ``0o`` or ``0x``."""
    if radix == "b":
        return char in ("0", "1")
    if radix == "o":
        return len(char) == 1 and "0" <= char <= "7"
    return char.isdecimal() or (len(char) == 1 and char in "abcdefABCDEF")


def _string_value(source: str, pos: int, body: str) -> str:
    """A string literal's text with its escapes decoded as Python's unicode-escape codec does."""
    if "\\" not in body:
        return body
    try:
        return codecs.unicode_escape_decode(body.encode("ascii", "backslashreplace"))[0]
    except Exception as exc:  # any failure to decode is a syntax error, as in jinja2
        raise _error_at(source, pos, f"invalid string escape ({exc})") from None


class _Parser:
    """Recursive descent over the tokens, by jinja2's grammar, building jinja2's tree."""

    __slots__ = ("depth", "i", "kind", "kinds", "lines", "made", "values")

    def __init__(self, kinds: list[str], values: list[TokenValue], lines: list[int]) -> None:
        self.kinds = kinds
        self.values = values
        self.lines = lines
        self.i = 0
        self.kind = kinds[0]
        self.depth = 0
        self.made: list[Node] = []

    def node(self, kind: str, lineno: int, fields: tuple[Field, ...]) -> Node:
        """A new node, recorded in :attr:`made` (every node made ends up in the tree)."""
        node = Node(kind, lineno, fields)
        self.made.append(node)
        return node

    # -- tokens

    def advance(self) -> int:
        """Move past the current token (never past the end); its index."""
        i = self.i
        if self.kind != "eof":
            self.i = i + 1
            self.kind = self.kinds[i + 1]
        return i

    def line(self) -> int:
        return self.lines[self.i]

    def at_name(self, word: str) -> bool:
        return self.kind == "name" and self.values[self.i] == word

    def next_is_name(self, word: str) -> bool:
        return self.kinds[self.i + 1] == "name" and self.values[self.i + 1] == word

    def skip_name(self, word: str) -> bool:
        if self.kind == "name" and self.values[self.i] == word:
            self.advance()
            return True
        return False

    def skip_phrase(self, first: str, second: str) -> bool:
        """Move past the names ``first second`` if they come next."""
        if self.at_name(first) and self.next_is_name(second):
            self.advance()
            self.advance()
            return True
        return False

    def expect(self, kind: str) -> int:
        if self.kind != kind:
            self.fail(f"expected {kind!r}, got {self.kind!r}")
        i = self.i  # not at the end: the end is no kind anything expects
        self.i = i + 1
        self.kind = self.kinds[i + 1]
        return i

    def expect_name(self) -> str:
        value = self.values[self.expect("name")]
        assert isinstance(value, str)
        return value

    def fail(self, message: str, lineno: int | None = None) -> NoReturn:
        raise JinjaSyntaxError(message, self.line() if lineno is None else lineno)

    def enter(self, cost: int) -> None:
        self.depth += cost
        if self.depth > NESTING_BUDGET:
            raise UndecidedSyntax("nested too deeply", self.line())

    # -- statements

    def parse(self) -> Node:
        return self.node("Template", 1, (self.subparse(None),))

    def subparse(self, end_names: tuple[str, ...] | None) -> list[Node]:
        body: list[Node] = []
        output: list[Node] = []
        while self.kind != "eof":
            kind = self.kind
            if kind == "data":
                i = self.advance()
                output.append(self.node("TemplateData", self.lines[i], (self.values[i],)))
            elif kind == "variable_begin":
                self.advance()
                output.append(self.parse_tuple())
                self.expect("variable_end")
            else:
                if output:
                    body.append(self.node("Output", output[0].lineno, (output,)))
                    output = []
                self.advance()
                if (
                    end_names is not None
                    and self.kind == "name"
                    and self.values[self.i] in end_names
                ):
                    return body
                body.append(self.parse_statement())
                self.expect("block_end")
        if output:
            body.append(self.node("Output", output[0].lineno, (output,)))
        return body

    def parse_statement(self) -> Node:
        if self.kind != "name":
            self.fail("tag name expected")
        word = self.values[self.i]
        parse = _STATEMENTS.get(str(word))
        if parse is None:
            self.fail("unknown tag")
        return parse(self)

    def parse_statements(self, end_names: tuple[str, ...], drop_needle: bool = False) -> list[Node]:
        if self.kind == ":":
            self.advance()
        self.expect("block_end")
        self.enter(_BLOCK_COST)
        body = self.subparse(end_names)
        self.depth -= _BLOCK_COST
        if self.kind == "eof":
            self.fail(f"unexpected end of template, expected one of {end_names}")
        if drop_needle:
            self.advance()
        return body

    def parse_set(self) -> Node:
        lineno = self.lines[self.advance()]
        target = self.parse_assign_target(with_namespace=True)
        if self.kind == "=":
            self.advance()
            return self.node("Assign", lineno, (target, self.parse_tuple()))
        filter_node = self.parse_filter(None)
        body = self.parse_statements(("endset",), drop_needle=True)
        return self.node("AssignBlock", lineno, (target, filter_node, body))

    def parse_for(self) -> Node:
        lineno = self.lines[self.advance()]
        # jinja2 passes ``in`` (and ``recursive`` below) as tuple ends in a way that never
        # matches, so ``for a, in in x`` assigns to a name ``in``; the same holds here.
        target = self.parse_assign_target()
        if not self.skip_name("in"):
            self.fail("expected 'in'")
        iterable = self.parse_tuple(with_condexpr=False)
        test = self.parse_expression() if self.skip_name("if") else None
        recursive = self.skip_name("recursive")
        body = self.parse_statements(("endfor", "else"))
        if self.values[self.advance()] == "endfor":
            orelse: list[Node] = []
        else:
            orelse = self.parse_statements(("endfor",), drop_needle=True)
        return self.node("For", lineno, (target, iterable, body, orelse, test, recursive))

    def parse_if(self) -> Node:
        lineno = self.lines[self.advance()]
        clauses: list[tuple[int, Node, list[Node]]] = []
        orelse: list[Node] = []
        while True:
            test = self.parse_tuple(with_condexpr=False)
            body = self.parse_statements(("elif", "else", "endif"))
            clauses.append((lineno, test, body))
            word = self.values[self.advance()]
            if word == "elif":
                lineno = self.line()
                continue
            if word == "else":
                orelse = self.parse_statements(("endif",), drop_needle=True)
            break
        first_line, first_test, first_body = clauses[0]
        elifs = [self.node("If", line, (test, body, [], [])) for line, test, body in clauses[1:]]
        return self.node("If", first_line, (first_test, first_body, elifs, orelse))

    def parse_with(self) -> Node:
        lineno = self.lines[self.advance()]
        targets: list[Node] = []
        values: list[Node] = []
        while self.kind != "block_end":
            if targets:
                self.expect(",")
            targets.append(self.parse_assign_target(ctx="param"))
            self.expect("=")
            values.append(self.parse_expression())
        body = self.parse_statements(("endwith",), drop_needle=True)
        return self.node("With", lineno, (targets, values, body))

    def parse_autoescape(self) -> Node:
        lineno = self.lines[self.advance()]
        option = self.node("Keyword", 0, ("autoescape", self.parse_expression()))
        body = self.parse_statements(("endautoescape",), drop_needle=True)
        return self.node(
            "Scope", 0, ([self.node("ScopedEvalContextModifier", lineno, ([option], body))],)
        )

    def parse_block(self) -> Node:
        lineno = self.lines[self.advance()]
        name = self.expect_name()
        scoped = self.skip_name("scoped")
        required = self.skip_name("required")
        if self.kind == "-":
            self.fail("block names may not contain hyphens")
        body = self.parse_statements(("endblock",), drop_needle=True)
        if required:
            for node in body:
                contents = node.fields[0] if node.kind == "Output" else None
                if not isinstance(contents, list) or not all(
                    item.kind == "TemplateData"
                    and isinstance(item.fields[0], str)
                    and item.fields[0].isspace()
                    for item in contents
                    if isinstance(item, Node)
                ):
                    self.fail("required blocks can only contain comments or whitespace")
        self.skip_name(name)
        return self.node("Block", lineno, (name, body, scoped, required))

    def parse_extends(self) -> Node:
        lineno = self.lines[self.advance()]
        return self.node("Extends", lineno, (self.parse_expression(),))

    def parse_context(self, default: bool) -> bool:
        """``with context`` or ``without context`` after an include or import, if there."""
        context = self.from_context() if self.kind == "name" else None
        return default if context is None else context

    def parse_include(self) -> Node:
        lineno = self.lines[self.advance()]
        template = self.parse_expression()
        ignore_missing = self.skip_phrase("ignore", "missing")
        with_context = self.parse_context(True)
        return self.node("Include", lineno, (template, with_context, ignore_missing))

    def parse_import(self) -> Node:
        lineno = self.lines[self.advance()]
        template = self.parse_expression()
        if not self.skip_name("as"):
            self.fail("expected 'as'")
        target = self.parse_name_target()
        return self.node("Import", lineno, (template, target, self.parse_context(False)))

    def parse_from(self) -> Node:
        lineno = self.lines[self.advance()]
        template = self.parse_expression()
        if not self.skip_name("import"):
            self.fail("expected 'import'")
        names: list[str | tuple[str, str]] = []
        with_context: bool | None = None
        while True:
            if names:
                self.expect(",")
            if self.kind != "name":
                self.fail("expected a name to import")
            with_context = self.from_context()
            if with_context is not None:
                break
            line = self.line()
            name = self.parse_name_target()
            if name.startswith("_"):
                self.fail("names starting with an underline can not be imported", line)
            if self.skip_name("as"):
                names.append((name, self.parse_name_target()))
            else:
                names.append(name)
            with_context = self.from_context()
            if with_context is not None or self.kind != ",":
                break
        return self.node("FromImport", lineno, (template, names, bool(with_context)))

    def from_context(self) -> bool | None:
        # Here jinja2 looks at the token's value alone: a string 'with' counts as well.
        word = self.values[self.i]
        if word in ("with", "without") and self.next_is_name("context"):
            self.advance()
            self.advance()
            return word == "with"
        return None

    def parse_signature(self) -> tuple[list[Node], list[Node]]:
        args: list[Node] = []
        defaults: list[Node] = []
        self.expect("(")
        while self.kind != ")":
            if args:
                self.expect(",")
            lineno = self.line()
            arg = self.node("Name", lineno, (self.parse_name_target(), "param"))
            if self.kind == "=":
                self.advance()
                defaults.append(self.parse_expression())
            elif defaults:
                self.fail("non-default argument follows default argument")
            args.append(arg)
        self.expect(")")
        return args, defaults

    def parse_call_block(self) -> Node:
        lineno = self.lines[self.advance()]
        args, defaults = self.parse_signature() if self.kind == "(" else ([], [])
        call = self.parse_expression()
        if call.kind != "Call":
            self.fail("expected call", lineno)
        body = self.parse_statements(("endcall",), drop_needle=True)
        return self.node("CallBlock", lineno, (call, args, defaults, body))

    def parse_filter_block(self) -> Node:
        lineno = self.lines[self.advance()]
        filter_node = self.parse_filter(None, start_inline=True)
        body = self.parse_statements(("endfilter",), drop_needle=True)
        return self.node("FilterBlock", lineno, (body, filter_node))

    def parse_macro(self) -> Node:
        lineno = self.lines[self.advance()]
        name = self.parse_name_target()
        args, defaults = self.parse_signature()
        body = self.parse_statements(("endmacro",), drop_needle=True)
        return self.node("Macro", lineno, (name, args, defaults, body))

    def parse_print(self) -> Node:
        lineno = self.lines[self.advance()]
        items: list[Node] = []
        while self.kind != "block_end":
            if items:
                self.expect(",")
            items.append(self.parse_expression())
        return self.node("Output", lineno, (items,))

    def parse_do(self) -> Node:
        lineno = self.lines[self.advance()]
        return self.node("ExprStmt", lineno, (self.parse_tuple(),))

    def parse_loop_control(self) -> Node:
        i = self.advance()
        return self.node("Break" if self.values[i] == "break" else "Continue", self.lines[i], ())

    def parse_generation(self) -> Node:
        lineno = self.lines[self.advance()]
        body = self.parse_statements(("endgeneration",), drop_needle=True)
        return self.node("Scope", lineno, (body,))

    # -- assignment targets

    def parse_name_target(self) -> str:
        lineno = self.line()
        name = self.expect_name()
        if name in _CONSTANT_NAMES:
            self.fail(f"can't assign to {name!r}", lineno)
        return name

    def parse_assign_target(self, with_namespace: bool = False, ctx: str = "store") -> Node:
        target = self.parse_tuple(simplified=True, with_namespace=with_namespace)
        return self.as_target(target, ctx)

    def as_target(self, node: Node, ctx: str) -> Node:
        """``node``, its ``ctx`` set, if something can be assigned to it (jinja2's set_ctx)."""
        kind = node.kind
        if kind == "Name":
            node.fields = (node.fields[0], ctx)
        elif kind == "Tuple" and isinstance(node.fields[0], list):
            for item in node.fields[0]:
                if isinstance(item, Node):
                    self.as_target(item, ctx)
            node.fields = (node.fields[0], ctx)
        elif kind != "NSRef":
            self.fail(f"can't assign to {kind.lower()!r}", node.lineno)
        return node

    # -- expressions

    # Each level of jinja2's precedence chain is a function that parses its first operand at
    # the next level down, then a loop over its own operators (``*_rest``) that gets the line
    # of that first operand. An operand followed by no operator at all, the usual case, skips
    # the chain: the loops are entered only when one of their operators follows.

    def parse_expression(self, with_condexpr: bool = True) -> Node:
        self.enter(_EXPRESSION_COST)
        lineno = self.lines[self.i]
        node = self.parse_or()
        if with_condexpr and self.kind == "name" and self.values[self.i] == "if":
            node = self.condexpr_rest(node, lineno)
        self.depth -= _EXPRESSION_COST
        return node

    def parse_condexpr(self) -> Node:
        lineno = self.lines[self.i]
        return self.condexpr_rest(self.parse_or(), lineno)

    def condexpr_rest(self, node: Node, lineno: int) -> Node:
        while self.skip_name("if"):
            test = self.parse_or()
            orelse = None
            if self.skip_name("else"):
                self.enter(_CHAIN_COST)
                orelse = self.parse_condexpr()
                self.depth -= _CHAIN_COST
            node = self.node("CondExpr", lineno, (test, node, orelse))
            lineno = self.lines[self.i]
        return node

    def parse_or(self) -> Node:
        lineno = self.lines[self.i]
        if self.kind == "name" and self.values[self.i] == "not":
            return self.or_rest(self.and_rest(self.parse_not(), lineno), lineno)
        node = self.parse_unary()
        kind = self.kind
        if kind in _OPERATORS or (kind == "name" and self.values[self.i] in _OPERATOR_WORDS):
            node = self.math2_rest(self.pow_rest(node, lineno), lineno)
            node = self.math1_rest(self.concat_rest(node, lineno), lineno)
            node = self.and_rest(self.compare_rest(node, lineno), lineno)
            node = self.or_rest(node, lineno)
        return node

    def or_rest(self, node: Node, lineno: int) -> Node:
        while self.skip_name("or"):
            node = self.node("Or", lineno, (node, self.parse_and()))
            lineno = self.lines[self.i]
        return node

    def parse_and(self) -> Node:
        lineno = self.lines[self.i]
        return self.and_rest(self.parse_not(), lineno)

    def and_rest(self, node: Node, lineno: int) -> Node:
        while self.skip_name("and"):
            node = self.node("And", lineno, (node, self.parse_not()))
            lineno = self.lines[self.i]
        return node

    def parse_not(self) -> Node:
        if self.kind == "name" and self.values[self.i] == "not":
            lineno = self.lines[self.advance()]
            self.enter(_CHAIN_COST)
            node = self.node("Not", lineno, (self.parse_not(),))
            self.depth -= _CHAIN_COST
            return node
        lineno = self.lines[self.i]
        return self.compare_rest(self.parse_math1(), lineno)

    def compare_rest(self, node: Node, lineno: int) -> Node:
        operands: list[Node] = []
        while True:
            kind = self.kind
            if kind in _COMPARISONS:
                self.advance()
                operands.append(self.node("Operand", 0, (_COMPARISONS[kind], self.parse_math1())))
            elif self.skip_name("in"):
                operands.append(self.node("Operand", 0, ("in", self.parse_math1())))
            elif self.skip_phrase("not", "in"):
                operands.append(self.node("Operand", 0, ("notin", self.parse_math1())))
            else:
                break
            lineno = self.lines[self.i]
        return self.node("Compare", lineno, (node, operands)) if operands else node

    def parse_math1(self) -> Node:
        lineno = self.lines[self.i]
        return self.math1_rest(self.parse_concat(), lineno)

    def math1_rest(self, node: Node, lineno: int) -> Node:
        return self.binary_rest(node, lineno, _SUMS, self.parse_concat)

    def binary_rest(
        self, node: Node, lineno: int, operators: dict[str, str], operand: Callable[[], Node]
    ) -> Node:
        """Left-associative operators of one precedence level, after their first operand."""
        while self.kind in operators:
            kind = operators[self.kind]
            self.advance()
            node = self.node(kind, lineno, (node, operand()))
            lineno = self.lines[self.i]
        return node

    def parse_concat(self) -> Node:
        lineno = self.lines[self.i]
        return self.concat_rest(self.parse_math2(), lineno)

    def concat_rest(self, node: Node, lineno: int) -> Node:
        if self.kind != "~":
            return node
        items = [node]
        while self.kind == "~":
            self.advance()
            items.append(self.parse_math2())
        return self.node("Concat", lineno, (items,))

    def parse_math2(self) -> Node:
        lineno = self.lines[self.i]
        return self.math2_rest(self.parse_pow(), lineno)

    def math2_rest(self, node: Node, lineno: int) -> Node:
        return self.binary_rest(node, lineno, _PRODUCTS, self.parse_pow)

    def parse_pow(self) -> Node:
        lineno = self.lines[self.i]
        return self.pow_rest(self.parse_unary(), lineno)

    def pow_rest(self, node: Node, lineno: int) -> Node:
        return self.binary_rest(node, lineno, _POWERS, self.parse_unary)

    def parse_unary(self, with_filter: bool = True) -> Node:
        kind = self.kind
        if kind in ("-", "+"):
            lineno = self.lines[self.advance()]
            self.enter(_CHAIN_COST)
            node = self.node("Neg" if kind == "-" else "Pos", lineno, (self.parse_unary(False),))
            self.depth -= _CHAIN_COST
        else:
            node = self.parse_primary()
        if self.kind in _POSTFIX_STARTS:
            node = self.parse_postfix(node)
        if with_filter and (self.kind == "|" or self.kind == "(" or self.at_name("is")):
            node = self.parse_filter_expr(node)
        return node

    def parse_primary(self, with_namespace: bool = False) -> Node:
        kind = self.kind
        i = self.i
        lineno = self.lines[i]
        if kind == "name":
            self.i = i + 1
            self.kind = self.kinds[i + 1]
            name = self.values[i]
            assert isinstance(name, str)
            if name in _CONSTANT_NAMES:
                return self.node("Const", lineno, (_CONSTANT_NAMES[name],))
            if with_namespace and self.kind == ".":
                self.advance()
                return self.node("NSRef", lineno, (name, self.expect_name()))
            return self.node("Name", lineno, (name, "load"))
        if kind == "string":
            self.advance()
            parts = [self.values[i]]
            while self.kind == "string":
                parts.append(self.values[self.advance()])
            return self.node("Const", lineno, ("".join(p for p in parts if isinstance(p, str)),))
        if kind in ("integer", "float"):
            self.i = i + 1
            self.kind = self.kinds[i + 1]
            return self.node("Const", lineno, (self.values[i],))
        if kind == "(":
            self.advance()
            node = self.parse_tuple(explicit_parentheses=True)
            self.expect(")")
            return node
        if kind == "[":
            return self.parse_list()
        if kind == "{":
            return self.parse_dict()
        self.fail(f"unexpected {kind!r}")

    def parse_tuple(
        self,
        simplified: bool = False,
        with_condexpr: bool = True,
        explicit_parentheses: bool = False,
        with_namespace: bool = False,
    ) -> Node:
        """Expressions separated by commas: one expression, or a ``Tuple`` if commas follow."""
        lineno = self.line()
        items: list[Node] = []
        is_tuple = False
        while True:
            if items:
                self.expect(",")
            if self.kind in _TUPLE_ENDS:
                break
            if simplified:
                items.append(self.parse_primary(with_namespace))
            else:
                items.append(self.parse_expression(with_condexpr))
            if self.kind != ",":
                break
            is_tuple = True
            lineno = self.line()
        if not is_tuple:
            if items:
                return items[0]
            if not explicit_parentheses:
                self.fail(f"expected an expression, got {self.kind!r}")
        return self.node("Tuple", lineno, (items, "load"))

    def parse_list(self) -> Node:
        lineno = self.lines[self.advance()]
        items: list[Node] = []
        while self.kind != "]":
            if items:
                self.expect(",")
            if self.kind == "]":
                break
            items.append(self.parse_expression())
        self.expect("]")
        return self.node("List", lineno, (items,))

    def parse_dict(self) -> Node:
        lineno = self.lines[self.advance()]
        items: list[Node] = []
        while self.kind != "}":
            if items:
                self.expect(",")
            if self.kind == "}":
                break
            key = self.parse_expression()
            self.expect(":")
            items.append(self.node("Pair", key.lineno, (key, self.parse_expression())))
        self.expect("}")
        return self.node("Dict", lineno, (items,))

    def parse_postfix(self, node: Node) -> Node:
        while True:
            kind = self.kind
            if kind in (".", "["):
                node = self.parse_subscript(node)
            elif kind == "(":
                node = self.parse_call(node)
            else:
                return node

    def parse_filter_expr(self, node: Node) -> Node:
        while True:
            kind = self.kind
            if kind == "|":
                filtered = self.parse_filter(node)
                assert filtered is not None  # a filter of a node is a node
                node = filtered
            elif kind == "name" and self.values[self.i] == "is":
                node = self.parse_test(node)
            elif kind == "(":
                node = self.parse_call(node)
            else:
                return node

    def parse_subscript(self, node: Node) -> Node:
        i = self.advance()
        lineno = self.lines[i]
        if self.kinds[i] == ".":
            j = self.advance()
            kind = self.kinds[j]
            if kind == "name":
                return self.node("Getattr", lineno, (node, self.values[j], "load"))
            if kind != "integer":
                self.fail("expected name or number", self.lines[j])
            index = self.node("Const", self.lines[j], (self.values[j],))
            return self.node("Getitem", lineno, (node, index, "load"))
        args: list[Node] = []
        while self.kind != "]":
            if args:
                self.expect(",")
            args.append(self.parse_subscribed())
        self.expect("]")
        arg = args[0] if len(args) == 1 else self.node("Tuple", lineno, (args, "load"))
        return self.node("Getitem", lineno, (node, arg, "load"))

    def parse_subscribed(self) -> Node:
        lineno = self.line()
        start: Node | None = None
        if self.kind == ":":
            self.advance()
        else:
            start = self.parse_expression()
            if self.kind != ":":
                return start
            self.advance()
        stop = None
        if self.kind not in (":", "]", ","):
            stop = self.parse_expression()
        step = None
        if self.kind == ":":
            self.advance()
            if self.kind not in ("]", ","):
                step = self.parse_expression()
        return self.node("Slice", lineno, (start, stop, step))

    def parse_call_args(self) -> tuple[list[Node], list[Node], Node | None, Node | None]:
        lineno = self.lines[self.expect("(")]
        args: list[Node] = []
        kwargs: list[Node] = []
        dyn_args: Node | None = None
        dyn_kwargs: Node | None = None
        require_comma = False
        while self.kind != ")":
            if require_comma:
                self.expect(",")
                if self.kind == ")":
                    break
            kind = self.kind
            if kind == "*":
                if dyn_args is not None or dyn_kwargs is not None:
                    self.fail("invalid syntax for function call expression", lineno)
                self.advance()
                dyn_args = self.parse_expression()
            elif kind == "**":
                if dyn_kwargs is not None:
                    self.fail("invalid syntax for function call expression", lineno)
                self.advance()
                dyn_kwargs = self.parse_expression()
            elif kind == "name" and self.kinds[self.i + 1] == "=":
                if dyn_kwargs is not None:
                    self.fail("invalid syntax for function call expression", lineno)
                key = self.values[self.i]
                self.advance()
                self.advance()
                value = self.parse_expression()
                kwargs.append(self.node("Keyword", value.lineno, (key, value)))
            else:
                if dyn_args is not None or dyn_kwargs is not None or kwargs:
                    self.fail("invalid syntax for function call expression", lineno)
                args.append(self.parse_expression())
            require_comma = True
        self.expect(")")
        return args, kwargs, dyn_args, dyn_kwargs

    def parse_call(self, node: Node) -> Node:
        lineno = self.line()
        args, kwargs, dyn_args, dyn_kwargs = self.parse_call_args()
        return self.node("Call", lineno, (node, args, kwargs, dyn_args, dyn_kwargs))

    def parse_filter(self, node: Node | None, start_inline: bool = False) -> Node | None:
        while self.kind == "|" or start_inline:
            if not start_inline:
                self.advance()
            lineno = self.line()
            name = self.dotted_name()
            args: list[Node] = []
            kwargs: list[Node] = []
            dyn_args = dyn_kwargs = None
            if self.kind == "(":
                args, kwargs, dyn_args, dyn_kwargs = self.parse_call_args()
            node = self.node("Filter", lineno, (node, name, args, kwargs, dyn_args, dyn_kwargs))
            start_inline = False
        return node

    def dotted_name(self) -> str:
        name = self.expect_name()
        while self.kind == ".":
            self.advance()
            name += "." + self.expect_name()
        return name

    def parse_test(self, node: Node) -> Node:
        lineno = self.lines[self.advance()]
        negated = self.skip_name("not")
        name = self.dotted_name()
        args: list[Node] = []
        kwargs: list[Node] = []
        dyn_args = dyn_kwargs = None
        kind = self.kind
        if kind == "(":
            args, kwargs, dyn_args, dyn_kwargs = self.parse_call_args()
        elif kind in _TEST_ARGUMENT_STARTS and not (
            kind == "name" and self.values[self.i] in ("else", "or", "and")
        ):
            if self.at_name("is"):
                self.fail("you cannot chain multiple tests with is")
            args = [self.parse_postfix(self.parse_primary())]
        test = self.node("Test", lineno, (node, name, args, kwargs, dyn_args, dyn_kwargs))
        return self.node("Not", lineno, (test,)) if negated else test


_STATEMENTS = {
    "for": _Parser.parse_for,
    "if": _Parser.parse_if,
    "block": _Parser.parse_block,
    "extends": _Parser.parse_extends,
    "print": _Parser.parse_print,
    "macro": _Parser.parse_macro,
    "include": _Parser.parse_include,
    "from": _Parser.parse_from,
    "import": _Parser.parse_import,
    "set": _Parser.parse_set,
    "with": _Parser.parse_with,
    "autoescape": _Parser.parse_autoescape,
    "call": _Parser.parse_call_block,
    "filter": _Parser.parse_filter_block,
    "break": _Parser.parse_loop_control,
    "continue": _Parser.parse_loop_control,
    "do": _Parser.parse_do,
    "generation": _Parser.parse_generation,
}

__all__ = [
    "NESTING_BUDGET",
    "Field",
    "JinjaSyntaxError",
    "Node",
    "UndecidedSyntax",
    "parse_template",
    "template_nodes",
]

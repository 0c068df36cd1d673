"""Differential fuzzing of :mod:`mlwarden.scanners.models.jinja_syntax` against jinja2.

jinja2's parser (with the extensions chat renderers use) is the reference. For each generated
template both must agree on whether it parses, and where both parse, they must build the same
tree and the chat-template analysis over each must list the same constructs.

Templates come from a grammar of every statement, expression form, operator and literal, with
whitespace control, comments, raw blocks, brackets inside tags and string escapes; a second
pass deletes, repeats, swaps or inserts tokens, so that many are subtly invalid. Real chat
templates are mutated the same way.

The parser may defer to jinja2 (``UndecidedSyntax``) in the two cases its module docstring
lists, and in no other; it never accepts a template jinja2 rejects, and never rejects one
jinja2 accepts.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings

from fuzz_mutations import chat_templates
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import nodes

from mlwarden.scanners.models import chat_template
from mlwarden.scanners.models.jinja_syntax import (
    JinjaSyntaxError,
    Node,
    UndecidedSyntax,
    parse_template,
)

DIFFERENTIAL = settings(
    max_examples=int(os.environ.get("MLWARDEN_JINJA_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

Canonical = object


def _canonical(value: object) -> Canonical:
    """A comparable form of a tree of either parser: class, line, fields; values with types."""
    if isinstance(value, Node):
        return (value.kind, value.lineno, [_canonical(f) for f in value.fields])
    if isinstance(value, nodes.Node):
        fields = [_canonical(getattr(value, f)) for f in value.fields]
        return (type(value).__name__, value.lineno or 0, fields)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return (type(value).__name__, value)


def _jinja2_tree(source: str) -> Canonical | None:
    try:
        return _canonical(chat_template._jinja2_environment().parse(source))
    except Exception:  # syntax errors, and the ValueError/SyntaxError jinja2 lets through
        return None


#: Why the parser may leave a template to jinja2: the cases its module docstring lists.
DEFERRALS = ("name continued by", "nested too deeply")


def _our_tree(source: str) -> tuple[Canonical | None, bool]:
    """Our tree (or ``None``) and whether the parser deferred to jinja2."""
    try:
        return _canonical(parse_template(source)), False
    except UndecidedSyntax as undecided:
        assert any(reason in undecided.message for reason in DEFERRALS), undecided
        return None, True
    except JinjaSyntaxError:
        return None, False


def assert_agrees(source: str) -> None:
    """Same verdict as jinja2; where both parse, the same tree and the same analysis."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes warn in both parsers alike
        reference = _jinja2_tree(source)
        ours, deferred = _our_tree(source)
        if deferred:
            return
        assert (ours is None) == (reference is None), (
            f"jinja2 {'rejects' if reference is None else 'accepts'}, we do not: {source!r}"
        )
        if ours is None:
            return
        assert ours == reference, source
        analysis = chat_template.analyse_template(source)
        expected = chat_template._analyse_with_jinja2(source)
    assert analysis.error is None
    assert (analysis.dangerous, analysis.loads) == (expected.dangerous, expected.loads), source


# -- the grammar, as lists of tokens joined by generated whitespace

_NAMES = [
    "messages",
    "message",
    "loop",
    "ns",
    "x",
    "_y",
    "tools",
    "cycler",
    "lipsum",
    "namespace",
    "self",
    "config",
    "os",
    "range",
    "dict",
    "if",
    "in",
    "is",
    "not",
    "and",
    "or",
    "else",
    "recursive",
    "with",
    "context",
    "true",
    "True",
    "false",
    "FALSE",
    "none",
    "None",
    "endfor",
    "raw",
    "ÄÖ",
    "名前",
]
_ATTRIBUTES = [
    "content",
    "role",
    "__class__",
    "__globals__",
    "mro",
    "globals",
    "system",
    "popen",
    "items",
    "0",
    "1",
    "if",
    "_x",
]
_STRINGS = [
    "''",
    '""',
    "'user'",
    '"assistant"',
    "'__class__'",
    "'__cla'",
    "'ss__'",
    "'\\x5f\\x5fclass\\x5f\\x5f'",
    "'\\n'",
    "'it\\'s'",
    '"say \\"hi\\""',
    "'\\u00e9\\N{EM DASH}'",
    "'\\x5'",
    "'\\N{NO SUCH NAME}'",
    "'é'",
    "'with'",
    "'line\nbreak'",
    "'{{ not a tag }}'",
    "'%}'",
    "'unterminated",
]
_NUMBERS = [
    "0",
    "1",
    "42",
    "1_000",
    "0b101",
    "0B1_1",
    "0o17",
    "0x_fF",
    "00",
    "0_0",
    "1.5",
    "1_0.2_5",
    "1e3",
    "2E-2",
    "1.5e+3",
    "01",
    "1__0",
    "1.e5",
    ".5",
    "1_",
    "0x",
    "1٣",
]
_BINARY = ["+", "-", "*", "/", "//", "%", "**", "~", "and", "or", "==", "!=", "<", "<=", ">", ">="]
_BINARY += ["in", "not in"]
_TESTS = ["defined", "none", "string", "divisibleby", "sameas", "eq", "a.b", "in"]
_FILTERS = ["trim", "tojson", "join", "attr", "map", "selectattr", "sort", "list", "x.y", "length"]
_ODD = ["!", "@", "$", "?", "`", "\\", "&", "^", "#", ";", "'", '"', "\x00", "\u0301", "²", "٣"]
_SEPARATORS = st.sampled_from(["", " ", " ", "  ", "\n", "\r\n", "\r", "\t", "\u00a0", "\x0c"])


def _literal(draw: st.DrawFn) -> list[str]:
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return [draw(st.sampled_from(_NAMES))]
    if choice == 1:
        return draw(st.lists(st.sampled_from(_STRINGS), min_size=1, max_size=3))
    if choice == 2:
        return [draw(st.sampled_from(_NUMBERS))]
    return [draw(st.sampled_from(["true", "false", "none", "True", "None", "FALSE"]))]


def _arguments(draw: st.DrawFn, depth: int) -> list[str]:
    tokens = ["("]
    for i in range(draw(st.integers(0, 3))):
        if i:
            tokens.append(",")
        form = draw(st.integers(0, 4))
        if form == 1:
            tokens += [draw(st.sampled_from(["attribute", "indent", "x", "if"])), "="]
        elif form == 2:
            tokens.append("*")
        elif form == 3:
            tokens.append("**")
        tokens += _expression(draw, depth + 1)
    if draw(st.booleans()) and len(tokens) > 1:
        tokens.append(",")
    return [*tokens, ")"]


def _postfix(draw: st.DrawFn, depth: int) -> list[str]:
    form = draw(st.integers(0, 4))
    if form == 0:
        return [".", draw(st.sampled_from(_ATTRIBUTES))]
    if form == 1:
        return _arguments(draw, depth)
    if form == 2:
        tokens = ["["]
        for i in range(draw(st.integers(0, 2))):
            if i:
                tokens.append(",")
            parts = draw(st.lists(st.sampled_from(["expr", ":"]), min_size=1, max_size=4))
            for part in parts:
                tokens += [":"] if part == ":" else _expression(draw, depth + 1)
        return [*tokens, "]"]
    if form == 3:
        tokens = ["|", draw(st.sampled_from(_FILTERS))]
        return tokens + (_arguments(draw, depth) if draw(st.booleans()) else [])
    tokens = ["is"]
    if draw(st.booleans()):
        tokens.append("not")
    tokens.append(draw(st.sampled_from(_TESTS)))
    argument = draw(st.integers(0, 2))
    if argument == 1:
        tokens += _arguments(draw, depth)
    elif argument == 2:
        tokens += _literal(draw)
    return tokens


def _expression(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """Tokens of an expression (sometimes a slightly wrong one)."""
    form = draw(st.integers(0, 9 if depth < 3 else 1))
    if form <= 1:
        tokens = _literal(draw)
    elif form == 2:
        tokens = [draw(st.sampled_from(["-", "+", "not"])), *_expression(draw, depth + 1)]
    elif form == 3:
        tokens = [*_expression(draw, depth + 1), draw(st.sampled_from(_BINARY))]
        tokens += _expression(draw, depth + 1)
    elif form == 4:
        tokens = [*_expression(draw, depth + 1), "if", *_expression(draw, depth + 1)]
        if draw(st.booleans()):
            tokens += ["else", *_expression(draw, depth + 1)]
    elif form == 5:
        opener, closer = draw(st.sampled_from([("(", ")"), ("[", "]")]))
        tokens = [opener]
        for i in range(draw(st.integers(0, 3))):
            if i:
                tokens.append(",")
            tokens += _expression(draw, depth + 1)
        if draw(st.booleans()):
            tokens.append(",")
        tokens.append(closer)
    elif form == 6:
        tokens = ["{"]
        for i in range(draw(st.integers(0, 2))):
            if i:
                tokens.append(",")
            tokens += [*_expression(draw, depth + 1), ":", *_expression(draw, depth + 1)]
        tokens.append("}")
    else:
        tokens = _literal(draw)
        for _ in range(draw(st.integers(1, 3))):
            tokens += _postfix(draw, depth)
    return tokens


def _target(draw: st.DrawFn, namespace: bool = False) -> list[str]:
    names = ["a", "b", "loop", "ns", "true", "'s'", "1", "if"]
    form = draw(st.integers(0, 3))
    if form == 0:
        return [draw(st.sampled_from(names))]
    if form == 1 and namespace:
        return ["ns", ".", draw(st.sampled_from(["a", "if", "0"]))]
    if form == 2:
        tokens = ["("]
        for i in range(draw(st.integers(0, 3))):
            if i:
                tokens.append(",")
            tokens += _target(draw)
        return [*tokens, ")"]
    tokens = []
    for i in range(draw(st.integers(1, 3))):
        if i:
            tokens.append(",")
        tokens += _target(draw, namespace)
    if draw(st.booleans()):
        tokens.append(",")
    return tokens


def _tag(draw: st.DrawFn, *inside: str) -> list[str]:
    begin = draw(st.sampled_from(["{%", "{%", "{%-", "{%+"]))
    end = draw(st.sampled_from(["%}", "%}", "-%}", "+%}"]))
    return [begin, *inside, end]


def _signature(draw: st.DrawFn) -> list[str]:
    tokens = ["("]
    for i in range(draw(st.integers(0, 3))):
        if i:
            tokens.append(",")
        tokens.append(draw(st.sampled_from(["a", "b", "c", "none", "_d"])))
        if draw(st.booleans()):
            tokens += ["=", *_expression(draw, 2)]
    return [*tokens, ")"]


def _statement(draw: st.DrawFn, depth: int) -> list[str]:
    """Tokens of one statement with its body (sometimes a slightly wrong one)."""
    kind = draw(
        st.sampled_from(
            [
                "for",
                "if",
                "set",
                "setblock",
                "macro",
                "call",
                "filter",
                "block",
                "extends",
                "include",
                "import",
                "from",
                "with",
                "autoescape",
                "print",
                "do",
                "break",
                "continue",
                "generation",
                "raw",
                "unknown",
            ]
        )
    )

    def body() -> list[str]:
        return _template_tokens(draw, depth + 1)

    if kind == "for":
        head = [*_target(draw), "in", *_expression(draw, 1)]
        if draw(st.booleans()):
            head += ["if", *_expression(draw, 1)]
        if draw(st.booleans()):
            head.append("recursive")
        tokens = _tag(draw, "for", *head) + body()
        if draw(st.booleans()):
            tokens += _tag(draw, "else") + body()
        return tokens + _tag(draw, "endfor")
    if kind == "if":
        tokens = _tag(draw, "if", *_expression(draw, 1)) + body()
        for _ in range(draw(st.integers(0, 2))):
            tokens += _tag(draw, "elif", *_expression(draw, 1)) + body()
        if draw(st.booleans()):
            tokens += _tag(draw, "else") + body()
        return tokens + _tag(draw, "endif")
    if kind == "set":
        return _tag(draw, "set", *_target(draw, namespace=True), "=", *_expression(draw, 1))
    if kind == "setblock":
        filters = ["|", "trim", "|", "upper"] if draw(st.booleans()) else []
        return _tag(draw, "set", *_target(draw, True), *filters) + body() + _tag(draw, "endset")
    if kind == "macro":
        head = ["macro", draw(st.sampled_from(["m", "render", "true"])), *_signature(draw)]
        return _tag(draw, *head) + body() + _tag(draw, "endmacro")
    if kind == "call":
        signature = _signature(draw) if draw(st.booleans()) else []
        head = ["call", *signature, *_expression(draw, 1)]
        if draw(st.booleans()):
            head = ["call", *signature, "m", *_arguments(draw, 1)]
        return _tag(draw, *head) + body() + _tag(draw, "endcall")
    if kind == "filter":
        head = ["filter", draw(st.sampled_from(_FILTERS))]
        if draw(st.booleans()):
            head += _arguments(draw, 1)
        return _tag(draw, *head) + body() + _tag(draw, "endfilter")
    if kind == "block":
        head = ["block", draw(st.sampled_from(["content", "if", "a"]))]
        head += draw(st.sampled_from([[], ["scoped"], ["required"], ["scoped", "required"]]))
        blank = draw(st.sampled_from([[" "], ["\n"], []]))
        inner = blank if draw(st.booleans()) else body()
        closer = ["endblock", *draw(st.sampled_from([[], [head[1]], ["other"]]))]
        return _tag(draw, *head) + inner + _tag(draw, *closer)
    if kind in ("extends", "include", "import", "from"):
        head = [kind, draw(st.sampled_from([*_STRINGS[:4], "name", "['a', 'b']"]))]
        if kind == "include":
            head += draw(st.sampled_from([[], ["ignore", "missing"]]))
            head += draw(st.sampled_from([[], ["with", "context"], ["without", "context"]]))
        elif kind == "import":
            head += ["as", draw(st.sampled_from(["m", "none", "_m"]))]
            head += draw(st.sampled_from([[], ["with", "context"], ["without", "context"]]))
        elif kind == "from":
            head.append("import")
            for i in range(draw(st.integers(0, 3))):
                if i:
                    head.append(",")
                head.append(draw(st.sampled_from(["a", "_b", "with", "true"])))
                if draw(st.booleans()):
                    head += ["as", draw(st.sampled_from(["c", "none"]))]
            head += draw(st.sampled_from([[], ["with", "context"], ["'with'", "context"]]))
        return _tag(draw, *head)
    if kind == "with":
        head = ["with"]
        for i in range(draw(st.integers(0, 2))):
            if i:
                head.append(",")
            head += [*_target(draw), "=", *_expression(draw, 1)]
        return _tag(draw, *head) + body() + _tag(draw, "endwith")
    if kind == "autoescape":
        return (
            _tag(draw, "autoescape", *_expression(draw, 2)) + body() + _tag(draw, "endautoescape")
        )
    if kind == "print":
        head = ["print"]
        for i in range(draw(st.integers(0, 2))):
            if i:
                head.append(",")
            head += _expression(draw, 1)
        return _tag(draw, *head)
    if kind == "do":
        return _tag(draw, "do", *_expression(draw, 1))
    if kind in ("break", "continue"):
        return _tag(draw, kind)
    if kind == "generation":
        return _tag(draw, "generation") + body() + _tag(draw, "endgeneration")
    if kind == "raw":
        inner = draw(st.sampled_from(["{{ x }}", "{% if %}", "", " a ", "{% endraw x %}"]))
        return [*_tag(draw, "raw"), inner, *_tag(draw, "endraw")]
    return _tag(draw, draw(st.sampled_from(["endfor", "endif", "else", "elif", "raw", "foo"])))


def _template_tokens(draw: st.DrawFn, depth: int = 0) -> list[str]:
    tokens: list[str] = []
    for _ in range(draw(st.integers(0, 4 if depth < 2 else 1))):
        part = draw(st.integers(0, 5 if depth < 3 else 3))
        if part == 0:
            tokens.append(
                draw(st.sampled_from(["text", "\n", "  ", "a { b } c", "}}", "%}", "#}"]))
            )
        elif part == 1:
            begin = draw(st.sampled_from(["{{", "{{-", "{{+"]))
            end = draw(st.sampled_from(["}}", "-}}", "+}}"]))
            tokens += [begin, *_expression(draw), end]
        elif part == 2:
            begin = draw(st.sampled_from(["{#", "{#-"]))
            text = draw(st.sampled_from(["", " note ", "{{ x }}", "#", "-"]))
            tokens += [begin, text, draw(st.sampled_from(["#}", "-#}", "+#}"]))]
        else:
            tokens += _statement(draw, depth)
    return tokens


def _mutated(draw: st.DrawFn, tokens: list[str]) -> list[str]:
    """``tokens`` after a few deletions, repeats, swaps and insertions (often none)."""
    tokens = list(tokens)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2, 3]))):
        if not tokens:
            break
        i = draw(st.integers(0, len(tokens) - 1))
        operation = draw(st.integers(0, 3))
        if operation == 0:
            del tokens[i]
        elif operation == 1:
            tokens.insert(i, tokens[i])
        elif operation == 2:
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens.insert(i, draw(st.sampled_from(_ODD + _BINARY + ["(", "]", "}}", "%}", "{%"])))
    return tokens


def _joined(draw: st.DrawFn, tokens: list[str]) -> str:
    return "".join(token + draw(_SEPARATORS) for token in tokens)


@st.composite
def grammar_templates(draw: st.DrawFn) -> str:
    """Templates from the grammar, a few of them mutated into near misses."""
    return _joined(draw, _mutated(draw, _template_tokens(draw)))


@st.composite
def expression_templates(draw: st.DrawFn) -> str:
    """One ``{{ }}`` or statement head around a generated expression, mutated at times."""
    tokens = _mutated(draw, _expression(draw))
    begin, end = draw(st.sampled_from([("{{", "}}"), ("{% if", "%}{% endif %}"), ("{% do", "%}")]))
    return begin + " " + _joined(draw, tokens) + " " + end


#: Real chat templates, in the styles of several model families.
REAL_TEMPLATES = [
    # Qwen-style tool calling
    """{%- if tools %}{{- '<|im_start|>system\\n' }}
{%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
{{- "</tools><|im_end|>\\n" }}{%- endif %}
{%- for message in messages %}
{%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
{%- elif message.role == "assistant" %}{{- '<|im_start|>' + message.role }}
{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}
{%- set tool_call = tool_call.function %}{%- endif %}
{{- '{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}
{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}""",
    # Phi-style, with a macro and a namespace
    """{% macro render(m, sep='\\n') -%}<|{{ m['role'] }}|>{{ sep }}{{ m['content'] | trim }}<|end|>
{%- endmacro %}{% set ns = namespace(count=0, last=none) %}
{% for m in messages if m.content is string %}{% set ns.count = ns.count + 1 %}
{{ render(m) }}{% if loop.last and add_generation_prompt %}<|assistant|>{% endif %}
{% else %}{{ raise_exception('no messages') }}{% endfor %}""",
    # Mistral-style alternation check with slices and arithmetic
    """{{ bos_token }}{% for message in messages[1:] if true %}
{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' ~ message['content'] ~ ' [/INST]' }}
{% elif message['role'] == 'assistant' %}{{ message['content'][:-1] ~ eos_token }}{% endif %}
{% endfor %}{# trailing comment #}{% raw %}{{ literal }}{% endraw %}""",
]


@st.composite
def mutated_real_templates(draw: st.DrawFn) -> str:
    """A real template with a few tokens deleted, repeated, swapped or inserted."""
    source = draw(st.sampled_from(REAL_TEMPLATES))
    pieces = [p for p in _split_tokens(source) if p]
    return "".join(_mutated(draw, pieces))


def _split_tokens(source: str) -> list[str]:
    """Rough tokens of a template: tag delimiters, words, and single other characters."""
    pieces: list[str] = []
    word = ""
    i = 0
    while i < len(source):
        pair = source[i : i + 2]
        if pair in ("{{", "}}", "{%", "%}", "{#", "#}"):
            pieces += [word, pair]
            word = ""
            i += 2
            continue
        char = source[i]
        if char.isalnum() or char == "_":
            word += char
        else:
            pieces += [word, char]
            word = ""
        i += 1
    return [*pieces, word]


@DIFFERENTIAL
@given(source=grammar_templates())
def test_generated_templates_parse_as_jinja2_parses_them(source: str) -> None:
    assert_agrees(source)


@DIFFERENTIAL
@given(source=expression_templates())
def test_generated_expressions_parse_as_jinja2_parses_them(source: str) -> None:
    assert_agrees(source)


@DIFFERENTIAL
@given(source=mutated_real_templates())
def test_mutated_real_templates_parse_as_jinja2_parses_them(source: str) -> None:
    assert_agrees(source)


@DIFFERENTIAL
@given(source=chat_templates())
def test_token_soup_parses_as_jinja2_parses_it(source: str) -> None:
    assert_agrees(source)


@settings(DIFFERENTIAL, max_examples=DIFFERENTIAL.max_examples // 2)
@given(source=st.text(alphabet=st.sampled_from("{}%#-+ 'a\\\n()[].|=,:0_1e\"x"), max_size=40))
def test_character_soup_parses_as_jinja2_parses_it(source: str) -> None:
    assert_agrees(source)


def test_real_templates_agree_unmutated() -> None:
    for source in REAL_TEMPLATES:
        assert_agrees(source)
        assert parse_template(source).kind == "Template"


#: A megabyte of brackets, strings, comments and markers each; none may take long to lex.
_MEGABYTE = 1 << 20
HOSTILE_TEMPLATES = [
    "{{ " + "(" * _MEGABYTE,
    "{{ " + "[" * (_MEGABYTE // 2) + "]" * (_MEGABYTE // 2) + " }}",
    "{{ " + "([{" * (_MEGABYTE // 3) + " }}",
    "{{ " + ")" * _MEGABYTE,
    "{{ (" + "]" * _MEGABYTE,
    ("{% if " + "(" * 40 + "x" + ")" * 40 + " %}{% endif %}") * (_MEGABYTE // 100),
    "{{ '" + "\\x" * (_MEGABYTE // 2),
    "{{ '" + "a" * _MEGABYTE + "' }}",
    '{{ "' + "\\\\" * (_MEGABYTE // 2) + " }}",
    "{{ '" + "\\'" * (_MEGABYTE // 2) + " }}",
    "{% raw %}" + "{% endra" * (_MEGABYTE // 8),
    "{% raw %}" + "{%  " * (_MEGABYTE // 4) + "{% endraw %}",
    "{#" + "-" * _MEGABYTE,
    "{#" + "#" * _MEGABYTE + "}",
    "{{ " + "1" * _MEGABYTE + " }}",
    "{{ " + "1_" * (_MEGABYTE // 2) + ".5 }}",
    "{{ 0x" + "f" * _MEGABYTE + " }}",
    "{% if x %}" * (_MEGABYTE // 10),
    "{{" * (_MEGABYTE // 2),
    "{" * _MEGABYTE,
    "x" + " " * _MEGABYTE + "{{- a -}}" + " " * _MEGABYTE,
    "{{ a" + ".b" * (_MEGABYTE // 16) + " }}",
]


def test_hostile_templates_end_quickly() -> None:
    for source in HOSTILE_TEMPLATES:
        started = time.process_time()
        with contextlib.suppress(JinjaSyntaxError):
            parse_template(source)
        assert time.process_time() - started < 3.0, source[:40]

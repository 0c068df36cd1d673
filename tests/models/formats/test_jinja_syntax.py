"""Jinja2 syntax without jinja2: the lexer, the parser and the chat-template analysis over them.

Every template here is also parsed by jinja2, and the two trees must be the same node for
node, line for line; the analysis must list what the analysis over jinja2's tree lists.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import nodes
from jinja2.lexer import float_re, integer_re
from template_samples import CHATML, INJECTION_VARIANTS

from mlwarden.scanners.models import chat_template
from mlwarden.scanners.models.chat_template import analyse_template
from mlwarden.scanners.models.jinja_syntax import (
    JinjaSyntaxError,
    Node,
    UndecidedSyntax,
    _number_end,
    parse_template,
    template_nodes,
)

LLAMA3 = """{{- bos_token }}
{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}
{%- if not tools_in_user_message is defined %}{%- set tools_in_user_message = true %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions.\\n\\n" }}
    {%- for t in tools %}{{- t | tojson(indent=4) }}{{- "\\n\\n" }}{%- endfor %}
{%- endif %}
{{- system_message }}{{- "<|eot_id|>" }}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '{"name": "' + tool_call.name + '", ' }}{{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}{{- "}" }}{{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}
"""  # noqa: E501 - real templates have long lines

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""  # noqa: E501 - real templates have long lines

GEMMA = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' if messages[0]['content'] is not string else messages[0]['content'] + '\\n\\n' -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- set role = "model" if message['role'] == 'assistant' else message['role'] -%}
    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{'<start_of_turn>model\\n'}}{%- endif -%}
"""  # noqa: E501 - real templates have long lines

TOOL_CALLING = """{%- macro render_args(args, indent=2) -%}
    {%- for name, value in args.items() -%}
        {{ name }}={{ value | tojson(ensure_ascii=False) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro -%}
{%- macro render_tool(tool) -%}
    {%- set fn = tool.function if tool.function is defined else tool -%}
    {{ fn.name }}({{ fn.parameters.properties | list | join(", ") }})
{%- endmacro -%}
{%- set ns = namespace(last_user=-1, tools=[], seen={}) -%}
{%- for message in messages -%}
    {%- if message.role == "user" -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- if tools -%}
    <|tools|>{% for tool in tools %}{{ render_tool(tool) }}{% if not loop.last %}
{% endif %}{% endfor %}<|end_tools|>
{%- endif -%}
{%- for message in messages if message.role != "system" -%}
    {%- if message.role == "assistant" and message.tool_calls is defined -%}
        {%- for call in message.tool_calls -%}
            <|call|>{{ call.function.name }}({% call() render_args(call.function.arguments) %}{% endcall %})
        {%- endfor -%}
    {%- elif message.role == "assistant" -%}
        {%- generation -%}{{ message.content }}{%- endgeneration -%}
    {%- else -%}
        <|{{ message.role }}|>{{ message.content if message.content is string else message.content | map(attribute="text") | join }}
    {%- endif -%}
    {%- if loop.last and loop.index0 > ns.last_user and message.role == "tool" -%}{%- break -%}{%- endif -%}
{%- else -%}
    {{ raise_exception("no messages") }}
{%- endfor -%}
{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}
"""  # noqa: E501 - real templates have long lines

REAL_TEMPLATES = {
    "chatml": CHATML,
    "llama3": LLAMA3,
    "mistral": MISTRAL,
    "gemma": GEMMA,
    "tool_calling": TOOL_CALLING,
}

#: The injection variants, and the CVE-2024-34359 payload.
INJECTIONS = [
    *INJECTION_VARIANTS,
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').popen('touch /tmp/x') }}"
    "{% endif %}{% endfor %}",
]


def _form(value: object) -> object:
    """A comparable form of a tree of either parser: class, line, fields; values with types."""
    if isinstance(value, Node):
        return (value.kind, value.lineno, [_form(f) for f in value.fields])
    if isinstance(value, nodes.Node):
        return (
            type(value).__name__,
            value.lineno or 0,
            [_form(getattr(value, f)) for f in value.fields],
        )
    if isinstance(value, list | tuple):
        return [_form(item) for item in value]
    return (type(value).__name__, value)


def _walk(tree: Node) -> list[Node]:
    """Every node of ``tree``, parents before children."""
    found, stack = [], [tree]
    while stack:
        found.append(stack.pop())
        stack.extend(reversed(found[-1].children()))
    return found


def assert_same_as_jinja2(source: str) -> Node:
    """Our tree of ``source``, after checking it is jinja2's, and the analyses agree."""
    tree = parse_template(source)
    assert _form(tree) == _form(chat_template._jinja2_environment().parse(source))
    nodes = template_nodes(source)  # the tree's nodes, each once, children before parents
    order = {id(node): i for i, node in enumerate(nodes)}
    walked = _walk(nodes[-1])
    assert nodes[-1].kind == "Template" and _form(nodes[-1]) == _form(tree)
    assert len(order) == len(nodes) == len(walked)
    assert all(order[id(child)] < order[id(node)] for node in walked for child in node.children())
    ours, reference = analyse_template(source), chat_template._analyse_with_jinja2(source)
    assert (ours.dangerous, ours.loads, ours.error) == (reference.dangerous, reference.loads, None)
    return tree


def assert_rejected_like_jinja2(source: str) -> None:
    with pytest.raises(JinjaSyntaxError) as raised:
        parse_template(source)
    assert not isinstance(raised.value, UndecidedSyntax)
    with pytest.raises(Exception):  # noqa: B017 - jinja2 must reject it too
        chat_template._jinja2_environment().parse(source)
    assert analyse_template(source).error == chat_template._analyse_with_jinja2(source).error


def _expression(source: str) -> Node:
    """The single expression printed by ``{{ source }}``."""
    output = assert_same_as_jinja2("{{ " + source + " }}").fields[0]
    assert isinstance(output, list)
    printed = output[0].fields[0]
    assert isinstance(printed, list) and isinstance(printed[0], Node)
    return printed[0]


# -- real templates


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_templates_parse_as_jinja2_and_are_clean(name: str) -> None:
    assert_same_as_jinja2(REAL_TEMPLATES[name])
    assert analyse_template(REAL_TEMPLATES[name]) == chat_template.TemplateAnalysis()


def test_common_path_does_not_import_jinja2() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from mlwarden.scanners.models.chat_template import analyse_template
        analysis = analyse_template({TOOL_CALLING!r})
        assert analysis.error is None and not analysis.dangerous, analysis
        assert "jinja2" not in sys.modules, sorted(m for m in sys.modules if "jinja" in m)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_a_rejected_template_gets_jinja2_s_message() -> None:
    analysis = analyse_template("{% if %}{{ x")
    assert analysis.error == "line 1: Expected an expression, got 'end of statement block'"
    assert analyse_template("a\n{% endfor %}").error is not None
    assert analyse_template("{{ a }}\n{% for x in y %}").error == (
        "line 2: Unexpected end of template. Jinja was looking for the following tags: "
        "'endfor' or 'else'. The innermost block that needs to be closed is 'for'."
    )


# -- injection variants


@pytest.mark.parametrize("source", INJECTIONS)
def test_injection_variants_are_found_by_our_parser(source: str) -> None:
    assert_same_as_jinja2(source)
    assert analyse_template(source).dangerous


def test_cve_payload_constructs_in_line_order() -> None:
    source = INJECTIONS[-1].replace("%}{%", "%}\n{%").replace("%}{{", "%}\n{{")
    assert analyse_template(source).dangerous == [
        "attribute '__base__' (line 1)",
        "attribute '__class__' (line 1)",
        "attribute '__subclasses__' (line 1)",
        "attribute '__name__' (line 2)",
        "a call of popen() (line 3)",
        "attribute '__builtins__' (line 3)",
        "attribute '__import__' (line 3)",
        "attribute '_module' (line 3)",
        "the string '__import__' (line 3)",
    ]


# -- the lexer


def test_data_tags_and_comments() -> None:
    tree = assert_same_as_jinja2("a {# note {{ x }} #}b{{ c }}{% if d %}e{% endif %}")
    assert [n.kind for n in tree.children()] == ["Output", "If"]
    assert_same_as_jinja2("{#}#}{##}{# a -#}  {#- b #}")
    assert_same_as_jinja2("text { } }} %} #} {")


@pytest.mark.parametrize(
    "source",
    [
        "  a  {{- b -}}  c  {%- if x -%}  d  {%- endif -%}  e  ",
        "a  {{+ b }}  {%+ if x +%}  {% endif +%}  ",
        "a  {#- comment -#}  b  {#+ c +#}  ",
        "{{ x -}}\n\n  \t {{- y }}",
        "{%- raw -%}  {{ not parsed }} {% if %}  {%- endraw -%}  after",
        "{%raw%}{%endraw%}{% raw  %}x{%  endraw %}",
        "{% raw %}{% endraw x %}{% endraw %}",
    ],
)
def test_whitespace_control_and_raw_blocks(source: str) -> None:
    assert_same_as_jinja2(source)


def test_a_raw_block_or_comment_opened_at_the_end_is_accepted_as_jinja2_does() -> None:
    assert_same_as_jinja2("hello {#")
    assert_same_as_jinja2("hello {% raw %}")
    assert_same_as_jinja2("hello {% raw -%}\n  \n")
    assert_rejected_like_jinja2("hello {# x")
    assert_rejected_like_jinja2("hello {% raw %}x")


@pytest.mark.parametrize(
    "source",
    [
        "{{ {'a': 1}}}",
        "{{{'a': {'b': 2}}}}",
        "{% set x = {'a': '%}'} %}",
        "{{ [1, (2, {3: 4})] }}",
        "{% set x = (1 %} 2) %}",  # %} inside brackets is the operator % and a brace
    ],
)
def test_end_delimiters_inside_brackets_are_operators(source: str) -> None:
    if "(1 %}" in source:
        assert_rejected_like_jinja2(source)
    else:
        assert_same_as_jinja2(source)


@pytest.mark.parametrize("source", ["{{ (a }}", "{{ a) }}", "{{ [a) }}", "{% if a] %}", "{{ } }}"])
def test_unbalanced_brackets_are_errors(source: str) -> None:
    assert_rejected_like_jinja2(source)


def test_names_are_unicode_identifiers() -> None:
    assert _expression("größe").fields == ("größe", "load")
    assert _expression("名前.属性").fields[1] == "属性"
    assert_same_as_jinja2("{{ _x1 }}{{ café }}{{ ǅ }}")
    assert_rejected_like_jinja2("{{ ٣ }}")  # a digit that is a word character, not a start
    assert_rejected_like_jinja2("{{ a½ }}")  # ½ is a word character but not an identifier one


def test_a_name_continued_by_a_combining_mark_is_left_to_jinja2() -> None:
    source = "{{ cafe\u0301.__class__ }}"  # e + combining acute accent
    with pytest.raises(UndecidedSyntax):
        parse_template(source)
    assert analyse_template(source).dangerous == ["attribute '__class__' (line 1)"]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'\\x5f\\x5fclass\\x5f\\x5f'", "__class__"),
        ('"\\u005f\\u005fclass\\u005f\\u005f"', "__class__"),
        ("'\\N{LOW LINE}\\N{LOW LINE}class__'", "__class__"),
        ("'\\137\\137class__'", "__class__"),
        ("'it\\'s'", "it's"),
        ('"a\\"b"', 'a"b'),
        ("'é\\x41'", "éA"),
        ("'a\\\nb'", "ab"),
        ("'tab\\there'", "tab\there"),
        ("'''", None),
    ],
)
def test_string_escapes_are_decoded_as_jinja2_decodes_them(literal: str, value: str | None) -> None:
    if value is None:
        assert_rejected_like_jinja2("{{ " + literal + " }}")
        return
    assert _expression(literal).fields == (value,)


@pytest.mark.parametrize(
    "literal", ["'\\x5'", "'\\N{NO SUCH CHARACTER}'", "'\\u12'", "'\\U0011ffff'"]
)
def test_invalid_string_escapes_are_errors(literal: str) -> None:
    assert_rejected_like_jinja2("{{ " + literal + " }}")


def test_dunder_strings_spelt_with_escapes_are_found() -> None:
    assert analyse_template("{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}").dangerous == [
        "attribute '__class__' (line 1)",
        "the string '__class__' (line 1)",
    ]


def test_adjacent_strings_fold_into_one() -> None:
    assert _expression("'__cla' \"ss__\" '' ").fields == ("__class__",)
    assert analyse_template("{{ x['__cla'\n'ss__'] }}").dangerous == [
        "attribute '__class__' (line 1)",
        "the string '__class__' (line 1)",
    ]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("1_000", 1000),
        ("0b1_01", 5),
        ("0B11", 3),
        ("0o17", 15),
        ("0x_fF", 255),
        ("0_0", 0),
        ("1.5", 1.5),
        ("1_0.2_5", 10.25),
        ("1e3", 1000.0),
        ("2E-2", 0.02),
        ("1.5e+3", 1500.0),
        ("01.5", 1.5),
        ("1٣", 13),  # later digits may be any decimal digits, as in int()
    ],
)
def test_numbers(literal: str, value: float) -> None:
    const = _expression(literal)
    assert const.kind == "Const"
    assert const.fields == (value,)
    assert type(const.fields[0]) is type(value)


@pytest.mark.parametrize("literal", ["01", "1__0", "0x", "1_", "0b2", "1٣.5", "1" * 5000])
def test_malformed_numbers_are_errors(literal: str) -> None:
    with pytest.raises(JinjaSyntaxError):
        parse_template("{{ " + literal + " }}")


@settings(max_examples=400, deadline=None)
@given(
    before=st.sampled_from(["", ".", "a", " "]),
    digit=st.sampled_from("0123456789٣"),
    rest=st.text(alphabet="0123456789_.eE+-bBoOxXaAfFz٣²", max_size=10),
)
def test_number_ends_where_jinja2_s_number_rules_end_it(before: str, digit: str, rest: str) -> None:
    source = before + digit + rest
    start = len(before)
    match = float_re.match(source, start)
    expected = (match.end(), True) if match else (start, False)
    if match is None:
        match = integer_re.match(source, start)
        expected = (match.end(), False) if match else (start, False)
    assert _number_end(source, start) == expected


def test_numbers_next_to_dots() -> None:
    assert _expression("a.1.2").kind == "Getitem"  # no float after a dot: a[1][2]
    assert _expression("1.e5").kind == "Getattr"  # 1 . e5
    assert_rejected_like_jinja2("{{ .5 }}")


@pytest.mark.parametrize("char", ["!", "@", "$", "?", "`", "\\", "&", "^", "#", ";", "\x00", "²"])
def test_unexpected_characters_are_errors(char: str) -> None:
    assert_rejected_like_jinja2("{{ a " + char + " b }}")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_lines_are_counted_as_jinja2_counts_them(newline: str) -> None:
    source = newline.join(
        ["{{ a }}", "{# two", "lines #}{{ b.__class__ }}", "{{ 'x", "y' ~ c.mro }}", ""]
    )
    assert_same_as_jinja2(source)
    assert analyse_template(source).dangerous == [
        "attribute '__class__' (line 3)",
        "attribute 'mro' (line 5)",
    ]


def test_lines_of_whitespace_controlled_and_raw_text_count() -> None:
    source = "a\n\n {%- if x -%}\n\n{% raw %}\n{% endraw -%}\n\n{{ y.mro }}{% endif %}"
    assert_same_as_jinja2(source)
    assert analyse_template(source).dangerous == ["attribute 'mro' (line 8)"]


# -- statements


@pytest.mark.parametrize(
    "source",
    [
        "{% for x in y %}{{ x }}{% endfor %}",
        "{% for k, v in d.items() if v is not none recursive %}{{ loop(v) }}{% else %}{% endfor %}",
        "{% for (a, (b, c)) in x %}{% endfor %}",
        "{% for a, b, in in x %}{% endfor %}",
        "{% for x in a, b %}{% endfor %}",
        "{% for x in y: %}{% endfor %}",
        "{% for in in x %}{% endfor %}",  # 'in' ends no tuple in jinja2: it is a name here
        "{% for x in recursive %}{% endfor %}",
        "{% for () in x %}{% endfor %}",
        "{% if a %}1{% elif b %}2{% elif c %}3{% else %}4{% endif %}",
        "{% if a, b %}{% endif %}",
        "{% if x: %}{% else: %}{% endif %}",
        "{% macro m(a, b=1, c='x') %}{{ a }}{{ caller(b) }}{% endmacro %}",
        "{% macro m() %}{% endmacro %}{% call m() %}body{% endcall %}",
        "{% call(x, y=2) m(1) %}{{ x }}{% endcall %}",
        "{% call m()() %}{% endcall %}",
        "{% filter upper %}x{% endfilter %}",
        "{% filter a.b(1, c=2)|trim %}x{% endfilter %}",
        "{% set x = 1 %}{% set a, b = 1, 2 %}{% set (c, d) = e %}",
        "{% set ns.count = ns.count + 1 %}{% set ns.a, b = 1, 2 %}",
        "{% set x %}body{% endset %}{% set y | trim | upper %} body {% endset %}",
        "{% set x: %}{% endset %}",
        "{% block body %}x{% endblock %}{% block b scoped %}{% endblock b %}",
        "{% block b required %} \n {# only comments #} {% endblock %}",
        "{% block b scoped required %}{% print %}{% endblock %}",
        "{% block if %}{% endblock if %}",
        "{% extends 'base.html' %}{% extends layout %}",
        "{% include 'a' %}{% include ['a', 'b'] ignore missing %}",
        "{% include 'a' without context %}{% include 'a' ignore missing with context %}",
        "{% import 'forms.html' as forms %}{% import 'f' as f with context %}",
        "{% from 'f' import a %}{% from 'f' import a as b, c with context %}",
        "{% from 'f' import with context %}{% from 'f' import a, without context %}",
        "{% from 'f' import a 'with' context %}",  # jinja2 reads the value, not the kind
        "{% with %}{% endwith %}{% with a = 1, b = a %}{{ b }}{% endwith %}",
        "{% with a, b = (1, 2) %}{% endwith %}",
        "{% autoescape true %}{{ x }}{% endautoescape %}",
        "{% print %}{% print a, b %}",
        "{% do x.append(1) %}{% do a, b %}",
        "{% for x in y %}{% break %}{% continue %}{% endfor %}",
        "{% break %}",  # only the compiler objects to a break outside a loop
        "{% generation %}{{ x }}{% endgeneration %}{% generation: %}{% endgeneration %}",
    ],
)
def test_statements(source: str) -> None:
    assert_same_as_jinja2(source)


@pytest.mark.parametrize(
    "source",
    [
        "{% endfor %}",
        "{% foo %}",
        "{% raw x %}{% endraw %}",
        "{% %}",
        "{% 1 %}",
        "{% for x in y %}",
        "{% for x in y %}{% endif %}",
        "{% for x in y %}{% endfor x %}",
        "{% for a, in x %}{% endfor %}",
        "{% for a, b, in x %}{% endfor %}",
        "{% for 'a' in x %}{% endfor %}",
        "{% for a.b in x %}{% endfor %}",
        "{% for ns.a in x %}{% endfor %}",
        "{% if %}{% endif %}",
        "{% if a %}{% else %}{% elif b %}{% endif %}",
        "{% if a if b else c %}{% endif %}",
        "{% macro m(a=1, b) %}{% endmacro %}",
        "{% macro m(a,) %}{% endmacro %}",
        "{% macro true() %}{% endmacro %}",
        "{% call m %}{% endcall %}",
        "{% call m() | f %}{% endcall %}",
        "{% set x %}",
        "{% set a, = 1 %}",
        "{% set true = 1 %}",
        "{% set none = 1 %}",
        "{% set a[0] = 1 %}",
        "{% set a.b.c = 1 %}",
        "{% set (ns.a) = 1 %}",
        "{% set [a] = 1 %}",
        "{% block a-b %}{% endblock %}",
        "{% block b required %}text{% endblock %}",
        "{% block b required %}{{ x }}{% endblock %}",
        "{% block b required %}{% if x %}{% endif %}{% endblock %}",
        "{% block b %}{% endblock c %}",
        "{% block b required scoped %}{% endblock %}",
        "{% import 'f' %}",
        "{% import 'f' as none %}",
        "{% from 'f' import %}",
        "{% from 'f' import a, %}",
        "{% from 'f' import _private %}",
        "{% from 'f' import 'with' context %}",
        "{% with a = 1, %}{% endwith %}",
        "{% with a = 1 b = 2 %}{% endwith %}",
        "{% with: %}{% endwith %}",
        "{% with a, b = 1, 2 %}{% endwith %}",
        "{% print a, %}",
        "{% do %}",
        "{% break x %}",
        "{% generation %}",
        "{% autoescape %}{% endautoescape %}",
    ],
)
def test_invalid_statements(source: str) -> None:
    assert_rejected_like_jinja2(source)


# -- expressions


@pytest.mark.parametrize(
    "source",
    [
        "a if b",
        "a if b else c if d else e",
        "a if b if c",
        "a or b and not c or d",
        "not not a",
        "and and and",  # keywords are names where jinja2 expects a primary
        "if",
        "a < b <= c == d != e > f >= g",
        "a in b not in c",
        "a is defined",
        "a is not none",
        "a is divisibleby 3",
        "a is sameas false",
        "a is string and b",
        "a is eq(1) or b",
        "a is test.dotted(1, x=2)",
        "x if a is defined else y",
        "a is is",
        "a is in b",  # a test named 'in' with one argument
        "a ~ b ~ c + d - e * f / g // h % i ** j ** k",
        "-a.b(c)|f",
        "- - +a",
        "-a ** 2",
        "a | f | g(1) | h.i(j=2)",
        "a|f(1)(2)",
        "a[1]['b'][c:d][::2][:][1:][:2:][1, 2][]",
        "a.b.c.0.1",
        "f()",
        "f(1, 2,)",
        "f(a, b=1, *c, **d)",
        "f(*c, b=1)",
        "f(b=1, **d)",
        "f(if=1, true=2)",
        "[]",
        "[1, 2,]",
        "()",
        "(1,)",
        "(a, b)",
        "a, b",
        "a,",
        "{}",
        "{'a': 1, 'b': [2], }",
        "true, True, false, False, none, None, TRUE, nONE",
        "1 if x else (2 if y else 3)",
        "a.if.in",
        "loop.index0 % 2 == 0",
    ],
)
def test_expressions(source: str) -> None:
    assert_same_as_jinja2("{{ " + source + " }}")


@pytest.mark.parametrize(
    "source",
    [
        "",
        "a b",
        "a is defined is b",
        "a is defined if b else c",  # the test takes 'if' as its argument
        "f(a=1, b)",
        "f(*a, b)",
        "f(*a, *b)",
        "f(**a, *b)",
        "f(**a, **b)",
        "f(**a, b=1)",
        "f(,)",
        "f(a,,)",
        "[,]",
        "{'a'}",
        "{'a': 1 'b': 2}",
        "a[,]",
        "a[1,]",
        "a[1:2:3:4]",
        "a.'b'",
        "a.",
        "a | 1",
        "a |",
        "a is",
        "a is not",
        "a if",
        "a if b else",
        "not",
        "-",
        "(",
        "a ** ",
        "a < ",
        "a not b",
        "a ~",
    ],
)
def test_invalid_expressions(source: str) -> None:
    assert_rejected_like_jinja2("{{ " + source + " }}")


# -- the analysis


@pytest.mark.parametrize(
    ("source", "dangerous"),
    [
        ("{{ a.__class__ }}", ["attribute '__class__' (line 1)"]),
        ("{{ a.mro }}", ["attribute 'mro' (line 1)"]),
        ("{{ a._private }}", ["attribute '_private' (line 1)"]),
        ("{{ cycler.next }}", ["cycler.next (line 1)"]),
        ("{{ range['x'] }}", ["range.x (line 1)"]),
        (
            "{{ a['__dict__'] }}",
            ["attribute '__dict__' (line 1)", "the string '__dict__' (line 1)"],
        ),
        ("{{ a['__di' ~ 'ct__'] }}", ["attribute '__dict__' (line 1)"]),
        ("{{ a['__di' + 'ct__'] }}", ["attribute '__dict__' (line 1)"]),
        ("{{ a['__di' ~ b] }}", []),
        ("{{ a[0] }}{{ a.0 }}", []),
        ("{{ a.popen }}", []),
        ("{{ a.popen() }}", ["a call of popen() (line 1)"]),
        ("{{ a.b.system('id') }}", ["a call of system() (line 1)"]),
        ("{{ system('id') }}", []),
        ("{{ x | attr('y') }}", ["the attr filter (line 1)"]),
        ("{{ x | map(attribute='_y') }}", ["map(attribute='_y') (line 1)"]),
        ("{{ x | sort(attribute='a') }}", []),
        ("{{ x | join(attribute='_y') }}", []),
        ("{{ config }}", ["the name 'config' (line 1)"]),
        ("{% set os = 1 %}{% for config in x %}{% endfor %}", []),
        ("{% macro m(request) %}{% endmacro %}{% with open = 1 %}{% endwith %}", []),
        ("{% set ns.config = 1 %}", []),
        ("{{ '__init__' }}", ["the string '__init__' (line 1)"]),
        ("{{ '__init__ ' }}", []),
    ],
)
def test_analysis_rules(source: str, dangerous: list[str]) -> None:
    assert_same_as_jinja2(source)
    assert analyse_template(source).dangerous == dangerous


def test_loads_are_listed_with_their_lines() -> None:
    source = (
        "{% extends 'base' %}\n{% include 'a' %}\n{% import 'b' as b %}\n{% from 'c' import d %}"
    )
    assert_same_as_jinja2(source)
    analysis = analyse_template(source)
    assert analysis.loads == [
        "extends (line 1)",
        "include (line 2)",
        "import (line 3)",
        "fromimport (line 4)",
    ]
    assert analysis.dangerous == []


def test_constructs_are_unique_and_in_order_of_line_and_text() -> None:
    source = "{{ b.mro }}{{ a.mro }}\n{{ x.__class__ }}{{ a.mro }}\n{{ a.mro }}"
    assert_same_as_jinja2(source)
    assert analyse_template(source).dangerous == [
        "attribute 'mro' (line 1)",
        "attribute '__class__' (line 2)",
        "attribute 'mro' (line 2)",
        "attribute 'mro' (line 3)",
    ]


def test_at_most_twenty_constructs_are_listed_first_lines_first() -> None:
    source = "\n".join(f"{{{{ x._a{i:02} }}}}" for i in range(30, 0, -1))
    analysis = analyse_template(source)
    assert len(analysis.dangerous) == 20
    assert analysis.dangerous[0] == "attribute '_a30' (line 1)"
    assert analysis.dangerous[-1] == "attribute '_a11' (line 20)"
    assert analysis == chat_template._analyse_with_jinja2(source)


#: Templates nested ``n`` deep, one way each to nest in jinja2's grammar.
NESTINGS = {
    "parentheses": lambda n: "{{ " + "(" * n + "x" + ")" * n + " }}",
    "lists": lambda n: "{{ " + "[" * n + "]" * n + " }}",
    "dicts": lambda n: "{{ " + "{1: " * n + "2" + "}" * n + " }}",
    "calls": lambda n: "{{ " + "f(" * n + ")" * n + " }}",
    "subscripts": lambda n: "{{ " + "a[" * n + "0" + "]" * n + " }}",
    "filter arguments": lambda n: "{{ " + "x|f(" * n + "y" + ")" * n + " }}",
    "tests": lambda n: "{{ " + "x is t(" * n + "y" + ")" * n + " }}",
    "not": lambda n: "{{ " + "not " * n + "x }}",
    "signs": lambda n: "{{ " + "- " * n + "x }}",
    "else": lambda n: "{{ " + "a if b else " * n + "c }}",
    "blocks": lambda n: "{% if x %}" * n + "{% endif %}" * n,
    "loops in blocks with brackets": lambda n: (
        "{% for a in (b) %}{% if (c) %}" * n + "{% endif %}{% endfor %}" * n
    ),
    "targets": lambda n: "{% for " + "(" * n + "a" + ")" * n + " in b %}{% endfor %}",
    "macro defaults": lambda n: "{% macro m(a=" + "(" * n + "1" + ")" * n + ") %}{% endmacro %}",
}


@pytest.mark.parametrize("nesting", sorted(NESTINGS))
def test_the_deepest_template_parsed_here_is_parsed_by_jinja2(nesting: str) -> None:
    build = NESTINGS[nesting]
    depth = 1
    while depth < 1000:
        try:
            parse_template(build(depth + 1))
        except UndecidedSyntax:
            break
        depth += 1
    assert depth < 1000, "no nesting budget"
    assert depth >= 20, "real templates nest deeper than this"
    assert_same_as_jinja2(build(depth))


def test_deep_nesting_is_left_to_jinja2() -> None:
    deep = "{{ " + "(" * 200 + "x" + ")" * 200 + " }}"
    with pytest.raises(UndecidedSyntax):
        parse_template(deep)
    assert analyse_template(deep).error == "nested too deeply to parse"
    nested_blocks = "{% if x %}" * 30 + "{{ y.__class__ }}" + "{% endif %}" * 30
    assert_same_as_jinja2(nested_blocks)
    nested_brackets = "{{ " + "f(" * 20 + "y.__class__" + ")" * 20 + " }}"
    assert analyse_template(nested_brackets).dangerous == ["attribute '__class__' (line 1)"]
    assert_same_as_jinja2(nested_brackets)

"""Static analysis of Jinja2 chat templates (GGUF metadata, Hugging Face tokenizer configs).

A template is parsed into Jinja2's syntax tree and the tree is walked; it is never compiled
or rendered. Real chat templates (loops over messages, conditionals, ``raise_exception``,
``namespace`` counters, string filters) use none of the constructs that server-side template
injection needs: dunder attributes, the ``attr`` filter, gadget globals' internals, imports.

The tree comes from :mod:`.jinja_syntax`, which parses what jinja2 parses without importing
it. Only a template that parser rejects goes to jinja2 itself, so that the error message is
jinja2's, and a template wrongly rejected there is still analysed, by the same rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlwarden.findings import Finding
from mlwarden.scanners.interface import Artifact, Scanner
from mlwarden.scanners.models.jinja_syntax import JinjaSyntaxError, Node, template_nodes

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.parser import Parser
    from jinja2.sandbox import ImmutableSandboxedEnvironment

#: Attribute names that only lead from template objects to Python internals.
DANGEROUS_ATTRIBUTES = frozenset(
    {
        "globals",
        "func_globals",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "mro",
        "subclasses",
        "builtins",
    }
)

#: Method names that run commands or code when called. Only calls count: a template may well
#: read a field named ``system`` (``ns.system``), but never calls ``x.system(...)``.
DANGEROUS_CALLS = frozenset(
    {
        "popen",
        "system",
        "eval",
        "exec",
        "import_module",
        "check_output",
        "check_call",
        "spawnv",
        "execv",
        "load_module",
        "get_source",
    }
)

#: Globals a renderer provides whose internals reach Python (``cycler.__init__.__globals__``).
GADGET_GLOBALS = frozenset({"cycler", "joiner", "namespace", "lipsum", "range", "dict", "self"})

#: Names no chat renderer defines; a template that uses them expects another environment
#: (Flask's ``config``/``request``) or tries to reach Python builtins.
FOREIGN_NAMES = frozenset(
    {
        "os",
        "subprocess",
        "popen",
        "eval",
        "exec",
        "__import__",
        "import",
        "getattr",
        "setattr",
        "globals",
        "builtins",
        "__builtins__",
        "open",
        "compile",
        "config",
        "request",
        "url_for",
        "get_flashed_messages",
    }
)

#: Filters that look attributes up by a name given as an argument.
_ATTRIBUTE_FILTERS = frozenset(
    {"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"}
)
_DUNDER = re.compile(r"^__\w+__$")

#: Nodes that load another template.
_LOADS = frozenset({"Include", "Import", "FromImport", "Extends"})
#: Nodes the rules look at.
_INSPECTED = frozenset({"Getattr", "Call", "Getitem", "Filter", "Name", "Const", *_LOADS})

#: Most constructs listed per template.
_MAX_CONSTRUCTS = 20


class TemplateAnalysis:
    """What a chat template does that a chat template should not.

    A plain class rather than a dataclass: making a dataclass compiles its methods when the
    module is imported, which costs about as much as parsing a chat template.
    """

    __slots__ = ("dangerous", "error", "loads")

    def __init__(
        self,
        dangerous: list[str] | None = None,
        loads: list[str] | None = None,
        error: str | None = None,
    ) -> None:
        self.dangerous = [] if dangerous is None else dangerous  # sandbox escapes, code execution
        self.loads = [] if loads is None else loads  # include / import / extends
        self.error = error  # the template could not be parsed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TemplateAnalysis):
            return NotImplemented
        return (self.dangerous, self.loads, self.error) == (
            other.dangerous,
            other.loads,
            other.error,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it holds

    def __repr__(self) -> str:
        fields = f"dangerous={self.dangerous!r}, loads={self.loads!r}, error={self.error!r}"
        return f"TemplateAnalysis({fields})"


class _Constructs:
    """Constructs found so far, each with the line it is on."""

    __slots__ = ("dangerous", "loads")

    def __init__(self) -> None:
        self.dangerous: list[tuple[int, str]] = []
        self.loads: list[tuple[int, str]] = []

    def analysis(self) -> TemplateAnalysis:
        """Each list without repeats, in order of line and text, cut to the first few."""
        return TemplateAnalysis(dangerous=_listed(self.dangerous), loads=_listed(self.loads))


def analyse_template(source: str) -> TemplateAnalysis:
    """Parse ``source`` (never render it) and list its dangerous constructs."""
    try:
        tree = template_nodes(source)
    except (JinjaSyntaxError, RecursionError):
        return _analyse_with_jinja2(source)  # jinja2 has the last word, and words the error
    return _analysis(tree)


def _analysis(tree: list[Node]) -> TemplateAnalysis:
    """The constructs in ``tree``, every node of one template's tree."""
    found = _Constructs()
    for node in tree:
        if node.kind in _INSPECTED:
            _inspect(node, found)
    return found.analysis()


def _inspect(node: Node, found: _Constructs) -> None:
    """Record what ``node`` itself does; its children are inspected on their own."""
    kind = node.kind
    if kind == "Getattr":
        owner, attr = node.fields[0], node.fields[1]
        if isinstance(owner, Node) and isinstance(attr, str):
            _check_attribute(attr, _name_of(owner), node.lineno, found)
    elif kind == "Call":
        callee = node.fields[0]
        if isinstance(callee, Node) and callee.kind == "Getattr":
            attr = callee.fields[1]
            if attr in DANGEROUS_CALLS:
                found.dangerous.append((node.lineno, f"a call of {attr}() (line {node.lineno})"))
    elif kind == "Getitem":
        owner, arg = node.fields[0], node.fields[1]
        key = _constant_text(arg) if isinstance(arg, Node) else None
        if key is not None and isinstance(owner, Node):
            _check_attribute(key, _name_of(owner), node.lineno, found)
    elif kind == "Filter":
        name, kwargs = node.fields[1], node.fields[3]
        if name == "attr":
            found.dangerous.append((node.lineno, f"the attr filter (line {node.lineno})"))
        elif name in _ATTRIBUTE_FILTERS and isinstance(kwargs, list):
            for keyword in kwargs:
                if isinstance(keyword, Node) and keyword.fields[0] == "attribute":
                    value = keyword.fields[1]
                    text = _constant_text(value) if isinstance(value, Node) else None
                    if text is not None and _is_private(text):
                        found.dangerous.append(
                            (node.lineno, f"{name}(attribute={text!r}) (line {node.lineno})")
                        )
    elif kind == "Name":
        name, ctx = node.fields
        if ctx == "load" and name in FOREIGN_NAMES:
            found.dangerous.append((node.lineno, f"the name {name!r} (line {node.lineno})"))
    elif kind == "Const":
        value = node.fields[0]
        if isinstance(value, str) and _DUNDER.match(value):
            found.dangerous.append((node.lineno, f"the string {value!r} (line {node.lineno})"))
    elif kind in _LOADS:
        found.loads.append((node.lineno, f"{kind.lower()} (line {node.lineno})"))


def _name_of(node: Node) -> str | None:
    """The name a ``Name`` node looks up, else ``None``."""
    name = node.fields[0] if node.kind == "Name" else None
    return name if isinstance(name, str) else None


def _check_attribute(name: str, owner: str | None, line: int, found: _Constructs) -> None:
    """``owner.name`` or ``owner[name]``, where ``owner`` is the name of a plain name lookup."""
    if _is_private(name) or name in DANGEROUS_ATTRIBUTES:
        found.dangerous.append((line, f"attribute {name!r} (line {line})"))
    elif owner in GADGET_GLOBALS:
        found.dangerous.append((line, f"{owner}.{name} (line {line})"))


def _constant_text(node: Node) -> str | None:
    """The string an expression of constants folds to (``'__cla' ~ 'ss__'``), else ``None``."""
    if node.kind == "Const":
        value = node.fields[0]
        return value if isinstance(value, str) else None
    if node.kind == "Concat":
        parts = [_constant_text(item) for item in node.children()]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    if node.kind == "Add":
        left, right = node.fields
        if not isinstance(left, Node) or not isinstance(right, Node):
            return None
        left_text, right_text = _constant_text(left), _constant_text(right)
        return None if left_text is None or right_text is None else left_text + right_text
    return None


@functools.cache
def _jinja2_environment() -> ImmutableSandboxedEnvironment:
    """The environment chat renderers parse with: loop controls, ``do`` and ``generation``."""
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationBlock(Extension):
        """Parses transformers' ``{% generation %}...{% endgeneration %}`` marker as a scope."""

        tags = {"generation"}  # noqa: RUF012 - the Extension API declares it this way

        def parse(self, parser: Parser) -> nodes.Node:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    return ImmutableSandboxedEnvironment(
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", GenerationBlock]
    )


def _analyse_with_jinja2(source: str) -> TemplateAnalysis:
    """The same analysis over jinja2's own parse, for templates :mod:`.jinja_syntax` rejects."""
    from jinja2 import TemplateSyntaxError

    try:
        tree = _jinja2_environment().parse(source)
    except TemplateSyntaxError as exc:
        return TemplateAnalysis(error=f"line {exc.lineno}: {exc.message}")
    except RecursionError:
        return TemplateAnalysis(error="nested too deeply to parse")
    except (ValueError, SyntaxError, OverflowError) as exc:
        # Literals jinja2's lexer cannot convert (an integer of more digits than Python
        # converts, digits outside ASCII): no renderer could load the template either.
        return TemplateAnalysis(error=f"a literal jinja2 cannot read ({str(exc)[:120]})")
    return _analysis(_jinja2_nodes(tree))


def _jinja2_nodes(tree: nodes.Node) -> list[Node]:
    """Every node of jinja2's tree as a :class:`Node`, the form :mod:`.jinja_syntax` builds.

    Both parsers give the same tree (class, line, fields in jinja2's order), so one set of
    rules serves both.
    """
    from jinja2 import nodes

    made: list[Node] = []

    def convert(value: Any) -> Any:
        if isinstance(value, nodes.Node):
            fields = tuple(convert(getattr(value, name)) for name in value.fields)
            node = Node(type(value).__name__, value.lineno or 0, fields)
            made.append(node)
            return node
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    convert(tree)
    return made


def _is_private(name: str) -> bool:
    return name.startswith("_")


def _listed(constructs: list[tuple[int, str]]) -> list[str]:
    unique = dict.fromkeys(constructs)
    return [text for _, text in sorted(unique)][:_MAX_CONSTRUCTS]


__all__ = ["TemplateAnalysis", "analyse_template"]


def template_findings(artifact: Artifact, key: str, source: str, fmt: str) -> Iterator[Finding]:
    """MW170-MW172 for the chat template stored under ``key`` of an artifact of format ``fmt``."""
    analysis = analyse_template(source)
    evidence: dict[str, object] = {"format": fmt, "key": key}
    if analysis.error is not None:
        yield Scanner.finding(
            artifact,
            "MW171",
            f"the chat template in {key} is not valid Jinja2 ({analysis.error})",
            evidence={**evidence, "error": analysis.error},
            key=key,
        )
    for rule, constructs in (("MW170", analysis.dangerous), ("MW172", analysis.loads)):
        if constructs:
            yield Scanner.finding(
                artifact,
                rule,
                f"the chat template in {key} uses {', '.join(constructs[:3])}",
                evidence={**evidence, "constructs": constructs},
                key=key,
            )

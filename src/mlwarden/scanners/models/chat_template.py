"""Static analysis of Jinja2 chat templates (GGUF metadata, Hugging Face tokenizer configs).

A template is parsed into Jinja2's syntax tree and the tree is walked; it is never compiled
or rendered. Real chat templates (loops over messages, conditionals, ``raise_exception``,
``namespace`` counters, string filters) use none of the constructs that server-side template
injection needs: dunder attributes, the ``attr`` filter, gadget globals' internals, imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from jinja2 import TemplateSyntaxError, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mlwarden.findings import Finding
from mlwarden.scanners.interface import Artifact, Scanner

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

#: Most constructs listed per template.
_MAX_CONSTRUCTS = 20


class _GenerationBlock(Extension):
    """Parses transformers' ``{% generation %}...{% endgeneration %}`` marker as a scope."""

    tags = {"generation"}  # noqa: RUF012 - the Extension API declares it this way

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


@dataclass(slots=True)
class TemplateAnalysis:
    """What a chat template does that a chat template should not."""

    dangerous: list[str] = field(default_factory=list)  # sandbox escapes, code execution
    loads: list[str] = field(default_factory=list)  # include / import / extends
    error: str | None = None  # the template could not be parsed


def analyse_template(source: str) -> TemplateAnalysis:
    """Parse ``source`` (never render it) and list its dangerous constructs."""
    result = TemplateAnalysis()
    env = ImmutableSandboxedEnvironment(
        extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", _GenerationBlock]
    )
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        result.error = f"line {exc.lineno}: {exc.message}"
        return result
    except RecursionError:
        result.error = "nested too deeply to parse"
        return result
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        _inspect(node, result)
        stack.extend(node.iter_child_nodes())
    result.dangerous = _unique(result.dangerous)[:_MAX_CONSTRUCTS]
    result.loads = _unique(result.loads)[:_MAX_CONSTRUCTS]
    return result


def _inspect(node: nodes.Node, result: TemplateAnalysis) -> None:
    line = getattr(node, "lineno", 0)
    where = f" (line {line})"
    if isinstance(node, nodes.Getattr):
        _check_attribute(node.attr, node.node, result, where)
    elif isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        if node.node.attr in DANGEROUS_CALLS:
            result.dangerous.append(f"a call of {node.node.attr}(){where}")
    elif isinstance(node, nodes.Getitem):
        key = _constant_text(node.arg)
        if key is not None:
            _check_attribute(key, node.node, result, where)
    elif isinstance(node, nodes.Filter):
        if node.name == "attr":
            result.dangerous.append(f"the attr filter{where}")
        elif node.name in _ATTRIBUTE_FILTERS:
            for kw in node.kwargs:
                value = _constant_text(kw.value)
                if kw.key == "attribute" and value is not None and _is_private(value):
                    result.dangerous.append(f"{node.name}(attribute={value!r}){where}")
    elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name in FOREIGN_NAMES:
        result.dangerous.append(f"the name {node.name!r}{where}")
    elif isinstance(node, nodes.Const) and isinstance(node.value, str):
        if _DUNDER.match(node.value):
            result.dangerous.append(f"the string {node.value!r}{where}")
    elif isinstance(node, nodes.Include | nodes.Import | nodes.FromImport | nodes.Extends):
        result.loads.append(f"{type(node).__name__.lower()}{where}")


def _check_attribute(name: str, owner: nodes.Node, result: TemplateAnalysis, where: str) -> None:
    if _is_private(name) or name in DANGEROUS_ATTRIBUTES:
        result.dangerous.append(f"attribute {name!r}{where}")
    elif isinstance(owner, nodes.Name) and owner.name in GADGET_GLOBALS:
        result.dangerous.append(f"{owner.name}.{name}{where}")


def _is_private(name: str) -> bool:
    return name.startswith("_")


def _constant_text(node: nodes.Node) -> str | None:
    """The string an expression of constants folds to (``'__cla' ~ 'ss__'``), else ``None``."""
    if isinstance(node, nodes.Const):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, nodes.Concat):
        parts = [_constant_text(n) for n in node.nodes]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    if isinstance(node, nodes.Add):
        left, right = _constant_text(node.left), _constant_text(node.right)
        return None if left is None or right is None else left + right
    return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


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

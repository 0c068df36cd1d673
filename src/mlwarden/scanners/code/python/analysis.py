"""One parse and one walk per module, dispatching each node to the rules that care about it.

Rules are looked up by the last part of the called name (``load``, ``from_pretrained``,
``run``), so a call that no rule names costs a dictionary miss. Modules that mention none of
the names any rule needs are not parsed at all.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping

from mlwarden.scanners.code.python import deserialisation, servers, supply_chain, taint
from mlwarden.scanners.code.python.context import CallRule, CodeIssue, ModuleAnalysis, Scope


def _merge(*tables: Mapping[str, tuple[CallRule, ...]]) -> dict[str, tuple[CallRule, ...]]:
    merged: dict[str, tuple[CallRule, ...]] = {}
    for table in tables:
        for name, rules in table.items():
            merged[name] = (*merged.get(name, ()), *rules)
    return merged


_CALL_RULES = _merge(
    deserialisation.CALL_RULES, supply_chain.CALL_RULES, taint.CALL_RULES, servers.CALL_RULES
)
_KEYWORD_RULES: dict[str, CallRule] = dict(supply_chain.KEYWORD_RULES)

#: A module that contains none of these strings cannot make any rule fire: every rule needs
#: a module, function or keyword name, or a literal, that includes one of them. Aliases do
#: not escape this: ``import pickle as p`` still spells ``pickle``.
TRIGGERS = (
    "pickle",
    "dill",
    "shelve",
    "marshal",
    "joblib",
    "torch",
    "keras",
    "yaml",
    "trust_remote_code",
    "from_pretrained",
    "hf_hub_download",
    "snapshot_download",
    "load_dataset",
    "pipeline",
    "http://",
    "verif",
    "cert_reqs",
    "CERT_NONE",
    "check_hostname",
    "eval",
    "exec",
    "compile",
    "system",
    "popen",
    "Popen",
    "subprocess",
    "getoutput",
    "spawn",
    "read_sql",
    "sqlalchemy",
    "debug",
    "share",
    "0.0.0.0",
    '"::"',
    "'::'",
    "[::]",
    "'*'",
    '"*"',
    "dashboard",
    "mlflow",
    "jupyter",
)
#: How many nodes are visited between two checks of the time limit.
_TIME_CHECK_EVERY = 4096

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NEUTRAL = ast.Constant(value=None)
_CLOSE = ast.Pass()


def may_match(text: str) -> bool:
    """Whether any rule could fire on this text (a cheap test before parsing)."""
    return any(t in text for t in TRIGGERS)


def check_source(
    text: str,
    *,
    path: str = "<string>",
    check_time: Callable[[], None] | None = None,
    report_syntax_errors: bool = True,
) -> list[CodeIssue]:
    """The issues the Python rules find in ``text``; the code is parsed, never run.

    Text that does not parse gives one MW339 issue (or nothing when
    ``report_syntax_errors`` is false). ``check_time`` is called now and then during the walk
    and may raise to stop it.
    """
    if not may_match(text):
        return []
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        if not report_syntax_errors:
            return []
        return [_unparsable(exc)]
    analysis = ModuleAnalysis(text)
    analysis.names.prescan(tree)
    _walk(analysis, tree, "http://" in text, check_time)
    return analysis.issues


def _unparsable(exc: BaseException) -> CodeIssue:
    line = getattr(exc, "lineno", None) or 1
    column = getattr(exc, "offset", None) or 1
    reason = getattr(exc, "msg", None) or type(exc).__name__
    return CodeIssue(
        "MW339",
        int(line),
        max(1, int(column)),
        f"could not be parsed as Python ({reason}); its code was not checked",
        None,
        {"error": str(reason)},
        "parse",
    )


#: Fields that never hold a node worth visiting: expression contexts, operators, names.
_LEAF_FIELDS = frozenset(
    {"ctx", "op", "ops", "type_comment", "kind", "id", "attr", "name", "module", "level"}
    | {"arg", "asname", "names", "type_ignores", "is_async", "conversion", "kwd_attrs"}
)


def _child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    if kind is ast.Constant:
        return ()
    return tuple(f for f in kind._fields if f not in _LEAF_FIELDS)


#: The fields to descend into, by node type (filled once per type, on first sight).
_CHILDREN: dict[type[ast.AST], tuple[str, ...]] = {}


def _walk(
    analysis: ModuleAnalysis,
    tree: ast.Module,
    http: bool,
    check_time: Callable[[], None] | None,
) -> None:
    # Depth-first, in source order, without recursion. _CLOSE on the stack closes a scope;
    # None entries come from optional list items (dict splats, missing keyword defaults).
    stack: list[ast.AST | None] = list(reversed(tree.body))
    handlers = _HANDLERS
    children = _CHILDREN
    visited = 0
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node is _CLOSE:
            analysis.scopes.pop()
            continue
        visited += 1
        if check_time is not None and not visited % _TIME_CHECK_EVERY:
            check_time()
        kind = type(node)
        handler = handlers.get(kind)
        if handler is not None and handler(analysis, node, http):
            stack.append(_CLOSE)  # the handler opened a scope
        fields = children.get(kind)
        if fields is None:
            fields = children[kind] = _child_fields(kind)
        for name in reversed(fields):
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(reversed(value))
            elif isinstance(value, ast.AST):
                stack.append(value)


def _on_call(analysis: ModuleAnalysis, node: ast.AST, http: bool) -> bool:
    _call(analysis, node, http)  # type: ignore[arg-type]
    return False


def _on_string(analysis: ModuleAnalysis, node: ast.AST, http: bool) -> bool:
    if http:
        value = getattr(node, "value", None)
        if isinstance(node, ast.JoinedStr) or (
            isinstance(value, str) and value.startswith("http://")
        ):
            supply_chain.url_literal(analysis, node)  # type: ignore[arg-type]
    return False


def _on_assign(analysis: ModuleAnalysis, node: ast.AST, http: bool) -> bool:
    assert isinstance(node, ast.Assign)
    _assign(analysis, node.targets, node.value)
    return False


def _on_scope(analysis: ModuleAnalysis, node: ast.AST, http: bool) -> bool:
    assert isinstance(node, _SCOPES)
    _enter(analysis, node)
    return True


def _on_binding(analysis: ModuleAnalysis, node: ast.AST, http: bool) -> bool:
    _bind(analysis, node)
    return False


_HANDLERS: dict[type[ast.AST], Callable[[ModuleAnalysis, ast.AST, bool], bool]] = {
    ast.Call: _on_call,
    ast.Constant: _on_string,
    ast.JoinedStr: _on_string,
    ast.Assign: _on_assign,
    ast.FunctionDef: _on_scope,
    ast.AsyncFunctionDef: _on_scope,
    ast.ClassDef: _on_scope,
    ast.AugAssign: _on_binding,
    ast.NamedExpr: _on_binding,
    ast.AnnAssign: _on_binding,
    ast.For: _on_binding,
    ast.AsyncFor: _on_binding,
    ast.comprehension: _on_binding,
    ast.withitem: _on_binding,
    ast.Import: _on_binding,
    ast.ImportFrom: _on_binding,
}


def _enter(
    analysis: ModuleAnalysis, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
) -> None:
    outer = analysis.scope.name
    name = node.name if outer == "<module>" else f"{outer}.{node.name}"
    analysis.scopes.append(Scope(name))
    if isinstance(node, ast.ClassDef):
        return
    arguments = node.args
    everything = (
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        *(a for a in (arguments.vararg, arguments.kwarg) if a is not None),
    )
    for arg in everything:
        analysis.scope.bind(arg.arg, _NEUTRAL)  # parameters shadow outer names
    taint.request_handler_parameters(analysis, node)


def _bind(analysis: ModuleAnalysis, node: ast.AST) -> None:
    if isinstance(node, ast.AugAssign | ast.NamedExpr):
        _bind_target(analysis, node.target, node.value)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        _assign(analysis, [node.target], node.value)
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        _bind_target(analysis, node.target, node.iter)
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        _bind_target(analysis, node.optional_vars, node.context_expr)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        analysis.names.bind_import(node)


def _assign(analysis: ModuleAnalysis, targets: Iterable[ast.expr], value: ast.expr) -> None:
    targets = list(targets)
    for target in targets:
        if isinstance(target, ast.Attribute):
            supply_chain.tls_assignment(analysis, target, value)
        else:
            _bind_target(analysis, target, value)
    if len(analysis.scopes) == 1:
        analysis.names.bind_assignment(targets, value)
    else:
        analysis.names.bind_local(targets, value)


def _bind_target(analysis: ModuleAnalysis, target: ast.expr, value: ast.expr) -> None:
    if isinstance(target, ast.Name):
        analysis.scope.bind(target.id, value)
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            _bind_target(analysis, element, value)
    elif isinstance(target, ast.Starred):
        _bind_target(analysis, target.value, value)


def _call(analysis: ModuleAnalysis, call: ast.Call, http: bool) -> None:
    func = call.func
    resolved: str | None
    if isinstance(func, ast.Attribute):
        final = func.attr
        resolved = None
        pending = True
    else:
        resolved = analysis.names.resolve(func)
        final = resolved.rsplit(".", 1)[-1] if resolved else getattr(func, "id", "")
        pending = False
    rules = _CALL_RULES.get(final)
    if rules:
        if pending:
            resolved, pending = analysis.names.resolve(func), False
        for rule in rules:
            rule(analysis, call, resolved)
    if call.keywords:
        seen: set[CallRule] = set()
        for kw in call.keywords:
            keyword_rule = _KEYWORD_RULES.get(kw.arg or "")
            if keyword_rule is not None and keyword_rule not in seen:
                seen.add(keyword_rule)
                if pending:
                    resolved, pending = analysis.names.resolve(func), False
                keyword_rule(analysis, call, resolved)
    if http and final in supply_chain.DOWNLOAD_CALLS:
        if pending:
            resolved = analysis.names.resolve(func)
        supply_chain.download_urls(analysis, call, resolved)

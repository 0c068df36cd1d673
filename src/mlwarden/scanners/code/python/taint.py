"""Model output and request input reaching code execution or SQL (MW320-MW323).

The analysis is local to one function: it follows assignments, f-strings, concatenation,
``%`` and ``.format``, string methods and attribute or item access on tainted values, back to a
source. Sources are model or LLM output (``model.generate``, a called ``pipeline``,
``client.chat.completions.create``, ``.choices[0].message.content``, ``llm.invoke``,
``tokenizer.decode``) and request input (flask ``request``, parameters of web handlers,
``input()``, ``sys.argv``). Values are only looked up when a sink is reached, so a module
without sinks costs nothing.
"""

from __future__ import annotations

import ast

from mlwarden.findings import Severity
from mlwarden.scanners.code.python.context import (
    CallRule,
    ModuleAnalysis,
    Source,
    argument,
    is_true,
    keyword,
    snippet,
)

MODEL = "model-output"
REQUEST = "request-input"

_MAX_DEPTH = 40
_MODEL_METHODS = frozenset(
    {"invoke", "ainvoke", "predict", "apredict", "predict_messages", "complete", "acomplete"}
    | {"chat", "run", "arun", "call_as_llm", "generate_content", "text_generation"}
)
_MODEL_RECEIVER_HINTS = ("llm", "chain", "agent", "model", "client", "openai", "anthropic", "gpt")
_COMPLETION_PARTS = frozenset({"completions", "ChatCompletion", "Completion", "messages"})
_COMPLETION_PARTS_ALL = _COMPLETION_PARTS | {"responses"}
_MODEL_PACKAGES = ("openai.", "anthropic.", "ollama.", "litellm.", "google.generativeai.")
#: Calls that build a model object whose call output is model output.
_MODEL_FACTORIES = frozenset(
    {"pipeline", "from_pretrained", "OpenAI", "AsyncOpenAI", "AzureOpenAI", "ChatOpenAI"}
    | {"Anthropic", "ChatAnthropic", "Ollama", "ChatOllama", "LLM", "HuggingFacePipeline"}
    | {"GenerativeModel", "LLMChain", "InferenceClient"}
)
_REQUEST_ATTRIBUTES = frozenset(
    {"args", "form", "json", "values", "data", "files", "cookies", "headers", "GET", "POST"}
    | {"query_params", "path_params", "body", "get_json", "get_data", "stream", "text"}
)
#: Functions whose result carries the taint of their arguments.
_PASS_THROUGH = frozenset(
    {"str", "repr", "format", "bytes", "json.loads", "textwrap.dedent", "base64.b64decode"}
    | {"ast.literal_eval", "codecs.decode", "shlex.join"}
)
_WEB_ROUTES = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "websocket", "head"}
)


def taint_of(analysis: ModuleAnalysis, node: ast.expr | None, depth: int = 0) -> Source | None:
    """The source an expression's value derives from, or ``None``."""
    if node is None or depth > _MAX_DEPTH:
        return None
    down = depth + 1
    if isinstance(node, ast.Name):
        for value in analysis.lookup(node.id):
            if isinstance(value, Source):
                return value
            # A name bound to itself (x = x + 1) is followed once, not forever.
            found = taint_of(analysis, value, down + 4)
            if found is not None:
                return found
        return None
    if isinstance(node, ast.Attribute):
        return _attribute(analysis, node, down)
    if isinstance(node, ast.Subscript | ast.Starred | ast.Await | ast.FormattedValue):
        return taint_of(analysis, node.value, down)
    if isinstance(node, ast.NamedExpr):
        return taint_of(analysis, node.value, down)
    if isinstance(node, ast.Call):
        return _call(analysis, node, down)
    if isinstance(node, ast.JoinedStr | ast.BoolOp):
        return _first_tainted(analysis, node.values, down)
    if isinstance(node, ast.BinOp):
        return taint_of(analysis, node.left, down) or taint_of(analysis, node.right, down)
    if isinstance(node, ast.IfExp):
        return taint_of(analysis, node.body, down) or taint_of(analysis, node.orelse, down)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return _first_tainted(analysis, node.elts, down)
    return None


def _first_tainted(analysis: ModuleAnalysis, nodes: list[ast.expr], depth: int) -> Source | None:
    for each in nodes:
        found = taint_of(analysis, each, depth)
        if found is not None:
            return found
    return None


def _attribute(analysis: ModuleAnalysis, node: ast.Attribute, depth: int) -> Source | None:
    if node.attr == "choices":
        return taint_of(analysis, node.value, depth) or Source(MODEL, snippet(node), node.lineno)
    resolved = analysis.names.resolve(node)
    if resolved == "sys.argv":
        return Source(REQUEST, "sys.argv", node.lineno)
    if node.attr in _REQUEST_ATTRIBUTES and _is_request_object(analysis, node.value):
        return Source(REQUEST, snippet(node), node.lineno)
    return taint_of(analysis, node.value, depth)


def _is_request_object(analysis: ModuleAnalysis, node: ast.expr) -> bool:
    resolved = analysis.names.resolve(node)
    if resolved in ("flask.request", "request", "req"):
        return True
    return isinstance(node, ast.Name) and node.id in ("request", "req")


def _call(analysis: ModuleAnalysis, call: ast.Call, depth: int) -> Source | None:
    func = call.func
    resolved = analysis.names.resolve(func) if not isinstance(func, ast.Call) else None
    if resolved in ("input", "builtins.input", "raw_input"):
        return Source(REQUEST, "input()", call.lineno)
    if _is_model_call(analysis, call, resolved, depth):
        return Source(MODEL, snippet(func) + "()", call.lineno)
    if isinstance(func, ast.Attribute):
        # Methods of a tainted value (text.strip(), response.json()) and "...".format(x).
        if func.attr in _REQUEST_ATTRIBUTES and _is_request_object(analysis, func.value):
            return Source(REQUEST, snippet(func) + "()", call.lineno)
        receiver = func.value
        if isinstance(receiver, ast.Constant) and isinstance(receiver.value, str):
            return _arguments_taint(analysis, call, depth)
        found = taint_of(analysis, receiver, depth)
        if found is not None:
            return found
        if func.attr == "join":
            return _arguments_taint(analysis, call, depth)
    if resolved in _PASS_THROUGH:
        return _arguments_taint(analysis, call, depth)
    return None


def _arguments_taint(analysis: ModuleAnalysis, call: ast.Call, depth: int) -> Source | None:
    return _first_tainted(analysis, [*call.args, *(k.value for k in call.keywords)], depth)


def _is_model_call(
    analysis: ModuleAnalysis, call: ast.Call, resolved: str | None, depth: int
) -> bool:
    func = call.func
    if isinstance(func, ast.Call):  # pipeline("text-generation")(prompt)
        return _is_model_object(analysis, func, depth)
    if resolved is not None and resolved.startswith(_MODEL_PACKAGES):
        return resolved.rsplit(".", 1)[-1] in ("create", "chat", "generate", "completion")
    if isinstance(func, ast.Attribute):
        name = func.attr
        if name == "generate":
            return True
        if name in ("create", "acreate", "parse", "stream"):
            parts = set(snippet(func.value).replace("(", ".").split("."))
            return bool(parts & _COMPLETION_PARTS_ALL)
        if name in ("decode", "batch_decode"):
            hint = snippet(func.value).lower()
            return "tokenizer" in hint or "processor" in hint
        if name in _MODEL_METHODS:
            hint = snippet(func.value).lower()
            return any(h in hint for h in _MODEL_RECEIVER_HINTS) or _is_model_object(
                analysis, func.value, depth
            )
        return False
    if isinstance(func, ast.Name):
        lowered = func.id.lower()
        if "llm" in lowered or "chain" in lowered or "agent" in lowered:
            return True
        return _is_model_object(analysis, func, depth)
    return False


def _is_model_object(analysis: ModuleAnalysis, node: ast.expr, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in _MODEL_FACTORIES
    if isinstance(node, ast.Name):
        return any(
            not isinstance(v, Source) and _is_model_object(analysis, v, depth + 4)
            for v in analysis.lookup(node.id)
        )
    return False


# Sinks ---------------------------------------------------------------------------------------

_EVAL_SINKS = frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec"})
_SHELL_ALWAYS = frozenset(
    {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
    | {"commands.getoutput", "asyncio.create_subprocess_shell", "pty.spawn"}
)
_SHELL_OPTIONAL = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
    | {"subprocess.Popen"}
)
_SQL_METHODS = frozenset({"execute", "executemany", "executescript"})
_SQL_FUNCTIONS = frozenset(
    {"pandas.read_sql", "pandas.read_sql_query", "sqlalchemy.text", "sqlalchemy.sql.text"}
)


def code_execution(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW320/MW321: eval, exec, compile and shell commands built from untrusted text."""
    if resolved in _EVAL_SINKS:
        kind = "code"
    elif resolved in _SHELL_ALWAYS or (resolved in _SHELL_OPTIONAL and _shell_true(call)):
        kind = "shell"
    else:
        return
    payload = argument(call, 0, "args") if kind == "shell" else argument(call, 0, "source")
    source = taint_of(analysis, payload)
    if source is None:
        return
    rule = "MW320" if source.kind == MODEL else "MW321"
    what = "model output" if source.kind == MODEL else "request input"
    runs = "runs it as Python code" if kind == "code" else "runs it in a shell"
    analysis.report(
        rule,
        call,
        f"{resolved}() {runs}, and the text comes from {what} ({source.what})",
        evidence=_taint_evidence(resolved, payload, source),
        subject=str(resolved),
        severity=Severity.CRITICAL,
    )


def _shell_true(call: ast.Call) -> bool:
    shell = keyword(call, "shell")
    return shell is not None and is_true(shell.value)


def sql_execution(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW322/MW323: SQL text built from untrusted text."""
    func = call.func
    is_method = isinstance(func, ast.Attribute) and func.attr in _SQL_METHODS
    if not is_method and resolved not in _SQL_FUNCTIONS:
        return
    query = argument(call, 0, "sql")
    source = taint_of(analysis, query)
    if source is None:
        return
    rule = "MW322" if source.kind == MODEL else "MW323"
    what = "model output" if source.kind == MODEL else "request input"
    called = resolved or snippet(func)
    analysis.report(
        rule,
        call,
        f"{called}() runs SQL built from {what} ({source.what})",
        evidence=_taint_evidence(called, query, source),
        subject=called,
    )


def _taint_evidence(
    sink: str | None, payload: ast.expr | None, source: Source
) -> dict[str, object]:
    return {
        "sink": sink,
        "argument": snippet(payload) if payload is not None else "",
        "source": source.what,
        "source_kind": source.kind,
        "source_line": source.line,
    }


def request_handler_parameters(
    analysis: ModuleAnalysis, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> None:
    """Parameters of web route handlers (``@app.get``, ``@router.post``, ``@app.route``)."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in _WEB_ROUTES:
            break
    else:
        return
    arguments = node.args
    for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if arg.arg not in ("self", "cls"):
            analysis.scope.bind(arg.arg, Source(REQUEST, f"parameter {arg.arg}", arg.lineno))


#: Handlers by the last part of the called name.
CALL_RULES: dict[str, tuple[CallRule, ...]] = {
    "eval": (code_execution,),
    "exec": (code_execution,),
    "compile": (code_execution,),
    "system": (code_execution,),
    "popen": (code_execution,),
    "getoutput": (code_execution,),
    "getstatusoutput": (code_execution,),
    "create_subprocess_shell": (code_execution,),
    "spawn": (code_execution,),
    "run": (code_execution,),
    "call": (code_execution,),
    "check_call": (code_execution,),
    "check_output": (code_execution,),
    "Popen": (code_execution,),
    "execute": (sql_execution,),
    "executemany": (sql_execution,),
    "executescript": (sql_execution,),
    "read_sql": (sql_execution,),
    "read_sql_query": (sql_execution,),
    "text": (sql_execution,),
}

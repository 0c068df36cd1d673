"""ML servers started from Python in debug mode or open to every network (MW330-MW335).

Flask, Dash and Werkzeug development servers, uvicorn, Gradio, the Ray dashboard, and MLflow
or Jupyter servers started through ``subprocess``/``os.system`` command lines.
"""

from __future__ import annotations

import ast
import re

from mlwarden.findings import Severity
from mlwarden.scanners.code.python.context import (
    CallRule,
    ModuleAnalysis,
    argument,
    is_true,
    keyword,
    snippet,
)

#: Bind addresses that mean every interface.
ALL_INTERFACES = frozenset({"0.0.0.0", "::", "[::]", "*"})
_NOT_SERVERS = ("asyncio.", "subprocess.", "mlflow.", "ray.", "trio.", "anyio.")
_HOST_FIRST = frozenset({"run_simple"})
_APP_FIRST = frozenset({"uvicorn.run", "aiohttp.web.run_app", "hypercorn.run"})
_COMMAND_CALLS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output"}
    | {"subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput", "os.system"}
    | {"os.popen", "asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec"}
)

_MLFLOW = re.compile(r"\bmlflow\s+(?:server|ui)\b")
_MLFLOW_OPEN = re.compile(r"(?:--host|-h)[=\s]+['\"]?(?:0\.0\.0\.0|::|\*)(?![\w.])")
_MLFLOW_AUTH = re.compile(r"--app-name[=\s]+['\"]?basic-auth\b")
_JUPYTER = re.compile(r"\bjupyter(?:-|\s+)(?:notebook|lab|server)\b")
_JUPYTER_OPEN = re.compile(r"--ip[=\s]+['\"]?(?:0\.0\.0\.0|::|\*)['\"]?(?![\w.])")
_JUPYTER_NO_TOKEN = re.compile(
    r"--(?:NotebookApp|ServerApp|IdentityProvider)\.token[=\s]*(?:''|\"\"|(?=\s|$))"
)
_JUPYTER_PASSWORD = re.compile(r"--(?:NotebookApp|ServerApp|PasswordIdentityProvider)\.\w*password")
_RAY_START = re.compile(r"\bray\s+start\b")
_RAY_OPEN = re.compile(r"--dashboard-host[=\s]+['\"]?(?:0\.0\.0\.0|::|\*)")


def _host(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None, name: str) -> str | None:
    host = keyword(call, "host")
    if host is not None:
        return analysis.names.string(host.value)
    if name in _HOST_FIRST:
        return analysis.names.string(argument(call, 0, "hostname"))
    if resolved in _APP_FIRST or not call.args:
        return None
    return analysis.names.string(call.args[0])


def development_server(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW330 debug servers and MW331 servers bound to every interface."""
    if resolved is not None and resolved.startswith(_NOT_SERVERS) and resolved not in _APP_FIRST:
        return
    name = resolved.rsplit(".", 1)[-1] if resolved else getattr(call.func, "attr", "")
    host = _host(analysis, call, resolved, name)
    exposed = host in ALL_INTERFACES
    called = resolved or snippet(call.func)
    debug = keyword(call, "debug") or keyword(call, "use_debugger")
    if debug is not None and is_true(debug.value):
        where = "every interface" if exposed else "this machine"
        analysis.report(
            "MW330",
            debug,
            f"{called}() starts a server in debug mode, reachable from {where}: "
            "the interactive debugger runs any Python code sent to it",
            evidence={"call": called, "debug": True, "host": host},
            subject=called,
            severity=Severity.CRITICAL if exposed else None,
        )
    if exposed:
        _all_interfaces(analysis, call, called, host)


def _all_interfaces(analysis: ModuleAnalysis, node: ast.AST, called: str, host: str | None) -> None:
    analysis.report(
        "MW331",
        node,
        f"{called}() listens on every network interface ({host}) with no authentication in sight",
        evidence={"call": called, "host": host},
        subject=called,
    )


def gradio_launch(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW332 public share links and MW331 Gradio apps on every interface without auth."""
    auth = keyword(call, "auth")
    has_auth = auth is not None and not (
        isinstance(auth.value, ast.Constant) and auth.value.value is None
    )
    called = resolved or snippet(call.func)
    share = keyword(call, "share")
    if share is not None and is_true(share.value):
        analysis.report(
            "MW332",
            share,
            f"{called}(share=True) publishes the app on a public share link"
            + ("" if has_auth else " with no authentication"),
            evidence={"call": called, "share": True, "auth": has_auth},
            subject=called,
            severity=Severity.MEDIUM if has_auth else None,
        )
    server = keyword(call, "server_name")
    host = analysis.names.string(server.value) if server is not None else None
    if host in ALL_INTERFACES and not has_auth:
        _all_interfaces(analysis, call, called, host)


def ray_init(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW333: the Ray dashboard (and its job API) bound to every interface."""
    if resolved != "ray.init":
        return
    host = keyword(call, "dashboard_host")
    if host is None or analysis.names.string(host.value) not in ALL_INTERFACES:
        return
    include = keyword(call, "include_dashboard")
    if include is not None and isinstance(include.value, ast.Constant) and not include.value.value:
        return
    analysis.report(
        "MW333",
        host,
        "ray.init() exposes the Ray dashboard and its job submission API on every interface",
        evidence={"call": resolved, "dashboard_host": analysis.names.string(host.value)},
        subject=resolved,
    )


def command_text(analysis: ModuleAnalysis, node: ast.expr | None) -> str | None:
    """A command line from a string, a list of strings, or ``shlex.split("...")``."""
    if node is None:
        return None
    text = analysis.names.string(node)
    if text is not None:
        return text
    if isinstance(node, ast.List | ast.Tuple):
        parts = [analysis.names.string(e) for e in node.elts]
        return " ".join(p if p is not None else "…" for p in parts)
    if isinstance(node, ast.Call) and analysis.names.resolve(node.func) == "shlex.split":
        return command_text(analysis, node.args[0] if node.args else None)
    return None


def server_commands(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW333-MW335: ray, MLflow and Jupyter servers started by a command line."""
    if resolved not in _COMMAND_CALLS:
        return
    if resolved == "asyncio.create_subprocess_exec":  # the program and its arguments, spread
        command = command_text(analysis, ast.List(elts=list(call.args)))
    else:
        command = command_text(analysis, argument(call, 0, "args"))
    if command is None:
        return
    for rule, message in check_command(command):
        analysis.report(
            rule,
            call,
            message,
            evidence={"call": resolved, "command": command[:160]},
            subject=f"{resolved}:{rule}",
        )


def check_command(command: str) -> list[tuple[str, str]]:
    """The (rule, message) pairs a shell command line that starts an ML server deserves."""
    found: list[tuple[str, str]] = []
    if (
        _MLFLOW.search(command)
        and _MLFLOW_OPEN.search(command)
        and not _MLFLOW_AUTH.search(command)
    ):
        found.append(("MW334", "an MLflow server listens on every interface without basic-auth"))
    if (
        _JUPYTER.search(command)
        and _JUPYTER_OPEN.search(command)
        and _JUPYTER_NO_TOKEN.search(command)
        and not _JUPYTER_PASSWORD.search(command)
    ):
        found.append(
            ("MW335", "a Jupyter server listens on every interface with no token or password")
        )
    if _RAY_START.search(command) and _RAY_OPEN.search(command):
        found.append(("MW333", "ray start exposes the Ray dashboard on every interface"))
    return found


#: Handlers by the last part of the called name.
CALL_RULES: dict[str, tuple[CallRule, ...]] = {
    "run": (development_server, server_commands),
    "run_server": (development_server,),
    "run_simple": (development_server,),
    "run_app": (development_server,),
    "launch": (gradio_launch,),
    "init": (ray_init,),
    "call": (server_commands,),
    "check_call": (server_commands,),
    "check_output": (server_commands,),
    "Popen": (server_commands,),
    "system": (server_commands,),
    "popen": (server_commands,),
    "getoutput": (server_commands,),
    "getstatusoutput": (server_commands,),
    "create_subprocess_shell": (server_commands,),
    "create_subprocess_exec": (server_commands,),
}

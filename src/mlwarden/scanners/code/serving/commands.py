"""Command lines that start ML servers, wherever they are written (scripts, Dockerfiles,
compose files), and the environment variables that configure them."""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from mlwarden.findings import Severity
from mlwarden.scanners.code.lines import LineIndex
from mlwarden.scanners.code.serving import jupyter
from mlwarden.scanners.code.serving.model import (
    ServingIssue,
    host_exposure,
    is_false,
    is_true,
    shorten,
)
from mlwarden.scanners.code.serving.options import flag, option
from mlwarden.scanners.code.serving.ports import published_port_issues
from mlwarden.scanners.code.serving.shell import HereDocument, SimpleCommand, Word, parse_script
from mlwarden.scanners.code.serving.torchserve import (
    check_properties,
    is_torchserve_config,
    parse_properties,
)

_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh"})
_JUPYTER_APPS = {
    "jupyter-notebook": "notebook",
    "jupyter-lab": "lab",
    "jupyter-server": "server",
    "jupyter-nbclassic": "nbclassic",
}
#: Jupyter Docker stacks' start scripts: their image configuration listens on 0.0.0.0.
_STACK_SCRIPTS = frozenset(
    {"start-notebook.sh", "start-notebook.py", "start-singleuser.sh", "start-singleuser.py"}
)
#: ``python -m MODULE``: Jupyter front ends by the application they start, other servers by
#: their command name.
_PYTHON_MODULES = {"jupyter": "jupyter", "notebook": "notebook", "jupyterlab": "lab"}
_PYTHON_PROGRAMS = frozenset({"mlflow", "streamlit", "ray"})
_PROGRAMS = frozenset(
    {"jupyter", "mlflow", "ray", "torchserve", "tritonserver", "streamlit", "docker", "podman"}
)
_MAX_DEPTH = 4


@dataclass(slots=True)
class CommandContext:
    """What the surrounding file says that a command line does not.

    ``variables`` are the known values of ``$NAME`` (Dockerfile ``ENV``/``ARG``, script
    assignments); ``jupyter_ip`` is where Jupyter listens when no ``--ip`` is given (the
    Jupyter Docker stacks images configure ``0.0.0.0``).
    """

    source: str
    variables: dict[str, str] = field(default_factory=dict)
    jupyter_ip: str = "localhost"


def check_commands(
    commands: Sequence[SimpleCommand], context: CommandContext, depth: int = 0
) -> Iterator[ServingIssue]:
    """The issues of every command in a list, following ``sh -c "..."`` scripts."""
    for command in commands:
        variables = {**context.variables, **command.assignments}
        for word in command.assignment_words:
            name, _eq, value = word.text.partition("=")
            yield from check_environment(name, value, word, context.source)
        if not command.words:
            context.variables.update(command.assignments)  # NAME=value alone sets a variable
            continue
        words = [w.expanded(variables) for w in command.words]
        scoped = CommandContext(context.source, variables, context.jupyter_ip)
        yield from _check_words(words, scoped, depth)
        targets = list(command.redirects)
        if posixpath.basename(words[0].text) == "tee":
            targets += [w.text for w in words[1:] if not w.text.startswith("-")]
        if any(t.endswith(".properties") for t in targets):
            for document in command.documents:
                yield from embedded_properties(document)


def embedded_properties(document: HereDocument) -> Iterator[ServingIssue]:
    """TorchServe settings written into a ``.properties`` file by a here-document."""
    entries = parse_properties(document.body)
    if not is_torchserve_config(entries):
        return
    lines = LineIndex(document.body)
    for issue in check_properties(entries):
        line, column = document.locate(lines.line_start(issue.line))
        yield dataclasses.replace(issue, line=line, column=column)


def _check_words(words: list[Word], context: CommandContext, depth: int) -> Iterator[ServingIssue]:
    for index, word in enumerate(words):
        name = posixpath.basename(word.text)
        rest = words[index + 1 :]
        if name in _SHELLS and len(rest) >= 2 and re.fullmatch(r"-\w*c\w*", rest[0].text):
            if depth < _MAX_DEPTH:
                script = rest[1]
                inner = parse_script(script.text, script.inner)
                yield from check_commands(inner, context, depth + 1)
            return
        if name == "-m" and rest and rest[0].text in _PYTHON_MODULES:
            module = _PYTHON_MODULES[rest[0].text]
            args = rest[1:] if module == "jupyter" else [_named(rest[0], module), *rest[1:]]
            yield from _jupyter(words, args, context)
            return
        if name == "-m" and rest and rest[0].text in _PYTHON_PROGRAMS:
            yield from _HANDLERS[rest[0].text](words, rest[1:], context)
            return
        if name in _JUPYTER_APPS:
            yield from _jupyter(words, [_named(word, _JUPYTER_APPS[name]), *rest], context)
            return
        if name in _STACK_SCRIPTS:
            yield from _jupyter(words, [_named(word, "lab"), *rest], context, stack=True)
            return
        if name == "export" and index == 0:
            for arg in rest:
                key, equals, value = arg.text.partition("=")
                if equals:
                    context.variables[key] = value
                    yield from check_environment(key, value, arg, context.source)
            return
        if name in _PROGRAMS:
            yield from _HANDLERS[name](words, rest, context)
            return


def _named(word: Word, text: str) -> Word:
    return Word(text, word.line, word.column, word.inner)


def _evidence(words: Sequence[Word], context: CommandContext, server: str) -> dict[str, object]:
    return {
        "server": server,
        "source": context.source,
        "command": shorten(" ".join(w.text for w in words)),
    }


def _jupyter(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext, stack: bool = False
) -> Iterator[ServingIssue]:
    if not args or args[0].text not in ("notebook", "lab", "server", "nbclassic"):
        return
    settings = jupyter.settings_from_args(args[1:])
    default_ip = "0.0.0.0" if stack else context.jupyter_ip
    yield from jupyter.evaluate(
        settings, source=context.source, default_ip=default_ip, context=words
    )


def _mlflow(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    if not args or args[0].text not in ("server", "ui"):
        return
    host = option(args, "--host", "-h")
    if host is None or not host_exposure(host.value).reachable:
        return
    if option(args, "--app-name") is not None:
        return
    yield ServingIssue(
        "MW518",
        host.word.line,
        f"mlflow {args[0].text} listens on {host.value} without --app-name basic-auth",
        column=host.word.column,
        evidence={**_evidence(words, context, "mlflow"), "host": host.value},
        key="host",
    )


def _ray(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    if not args or args[0].text != "start" or flag(args, "--head") is None:
        return
    host = option(args, "--dashboard-host")
    if host is None or not host_exposure(host.value).reachable:
        return
    include = option(args, "--include-dashboard")
    if include is not None and is_false(include.value):
        return
    token = context.variables.get("RAY_AUTH_MODE", "").strip().lower() == "token"
    yield ServingIssue(
        "MW521",
        host.word.line,
        f"Ray dashboard and Jobs API bound to {host.value}"
        + (" (token authentication on)" if token else " with no authentication"),
        column=host.word.column,
        severity=Severity.LOW if token else None,
        evidence={
            **_evidence(words, context, "ray"),
            "dashboard_host": host.value,
            "auth_mode": "token" if token else "disabled",
        },
        key="dashboard-host",
    )


def _torchserve(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    for name, rule, what in (
        ("--disable-token-auth", "MW502", "token authorization disabled"),
        ("--enable-model-api", "MW503", "model registration API enabled"),
    ):
        word = flag(args, name)
        if word is not None:
            yield ServingIssue(
                rule,
                word.line,
                f"torchserve started with {name}: {what}",
                column=word.column,
                evidence={**_evidence(words, context, "torchserve"), "flag": name},
                key=name,
            )


def _triton(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    mode = option(args, "--model-control-mode")
    if mode is None or mode.value.strip().lower() != "explicit":
        return
    restricted = [
        o.value
        for o in (option(args, "--http-restricted-api"), option(args, "--grpc-restricted-api"))
        if o is not None
    ]
    if any("model-repository" in value for value in restricted):
        return
    yield ServingIssue(
        "MW524",
        mode.word.line,
        "tritonserver --model-control-mode=explicit without a restricted model-repository API",
        column=mode.word.column,
        evidence={**_evidence(words, context, "triton"), "model_control_mode": "explicit"},
        key="model-control-mode",
    )


def _streamlit(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    if not args or args[0].text != "run":
        return
    base = _evidence(words, context, "streamlit")
    address = option(args, "--server.address")
    if address is not None and host_exposure(address.value).reachable:
        yield ServingIssue(
            "MW525",
            address.word.line,
            f"Streamlit app listens on {address.value}",
            column=address.word.column,
            evidence={**base, "address": address.value},
            key="server.address",
        )
    for name, rule, what in (
        ("--server.enableCORS", "MW515", "CORS protection disabled"),
        ("--server.enableXsrfProtection", "MW516", "XSRF protection disabled"),
    ):
        setting = option(args, name)
        if setting is not None and is_false(setting.value):
            yield ServingIssue(
                rule,
                setting.word.line,
                f"Streamlit app with {what} ({name} {setting.value})",
                column=setting.word.column,
                severity=Severity.LOW,
                evidence={**base, "setting": name[2:], "value": False},
                key=name,
            )


def _docker(
    words: Sequence[Word], args: Sequence[Word], context: CommandContext
) -> Iterator[ServingIssue]:
    texts = [a.text for a in args[:2]]
    if texts[:1] != ["run"] and texts != ["container", "run"]:
        return
    specs: list[tuple[str, Word]] = []
    for index, word in enumerate(args):
        text = word.text
        if text in ("-p", "--publish") and index + 1 < len(args):
            specs.append((args[index + 1].text, word))
        elif text.startswith("--publish="):
            specs.append((text.partition("=")[2], word))
        elif text.startswith("-p") and len(text) > 2 and text[2].isdigit():
            specs.append((text[2:], word))
    hint = " ".join(w.text for w in words)
    for spec, word in specs:
        yield from published_port_issues(
            spec, hint, word.line, word.column, source=context.source, how="docker run -p"
        )


_HANDLERS = {
    "jupyter": lambda words, rest, context: _jupyter(words, rest, context),
    "mlflow": _mlflow,
    "ray": _ray,
    "torchserve": _torchserve,
    "tritonserver": _triton,
    "streamlit": _streamlit,
    "docker": _docker,
    "podman": _docker,
}


# --- environment variables --------------------------------------------------------------

_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def _remote_plain_http(uri: str) -> str | None:
    """The host of a plain-HTTP URI that leaves this machine and its container network."""
    try:
        parts = urlsplit(uri.strip().strip("'\""))
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "http" or not host or "$" in uri:
        return None
    if host_exposure(host).reachable is False:
        return None
    if "." not in host and ":" not in host:
        return None  # a compose service or Kubernetes service name: one private network
    if host.endswith(_CLUSTER_SUFFIXES):
        return None
    return host


#: Variables that turn a TorchServe safeguard off when true: rule and what they do.
_TORCHSERVE_SWITCHES = {
    "TS_DISABLE_TOKEN_AUTHORIZATION": ("MW502", "disables TorchServe token authorization"),
    "TS_ENABLE_MODEL_API": ("MW503", "enables TorchServe model registration"),
}


def check_environment(name: str, value: str, word: Word, source: str) -> Iterator[ServingIssue]:
    """Issues of one environment variable setting (``ENV``, ``environment:``, ``export``)."""
    if name == "MLFLOW_TRACKING_URI":
        host = _remote_plain_http(value)
        if host is None:
            return
        rule = "MW519"
        message = f"MLFLOW_TRACKING_URI sends tracking data over plain HTTP to {host}"
        facts: dict[str, object] = {"server": "mlflow", "value": shorten(value), "host": host}
    elif name in _TORCHSERVE_SWITCHES and is_true(value):
        rule, what = _TORCHSERVE_SWITCHES[name]
        message = f"{name}=true {what}"
        facts = {"server": "torchserve", "value": value}
    elif name == "GRADIO_SERVER_NAME" and host_exposure(value).reachable:
        rule = "MW525"
        message = f"Gradio apps listen on {value} ({name})"
        facts = {"server": "gradio", "value": value}
    else:
        return
    yield ServingIssue(
        rule,
        word.line,
        message,
        column=word.column,
        evidence={"source": source, "variable": name, **facts},
        key=name,
    )

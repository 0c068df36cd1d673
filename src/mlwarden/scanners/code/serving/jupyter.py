"""Jupyter server settings from config files (``.py`` read with ``ast``, ``.json``) and from
command lines, judged the same way whatever they came from."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from mlwarden.findings import Severity
from mlwarden.scanners.code.serving.model import (
    Exposure,
    ServingIssue,
    host_exposure,
    is_true,
    shorten,
)
from mlwarden.scanners.code.serving.options import unquote
from mlwarden.scanners.code.serving.shell import Word

#: Configurable classes whose traits decide who may use the server.
CLASSES = frozenset(
    {
        "ServerApp",
        "NotebookApp",
        "LabApp",
        "LabServerApp",
        "ExtensionApp",
        "IdentityProvider",
        "PasswordIdentityProvider",
    }
)
TRAITS = frozenset(
    {
        "token",
        "password",
        "hashed_password",
        "ip",
        "allow_origin",
        "allow_origin_pat",
        "disable_check_xsrf",
        "allow_remote_access",
        "allow_root",
    }
)
#: Config file names: ``jupyter_server_config.py``, ``jupyter_notebook_config.json``...
CONFIG_NAME = re.compile(r"jupyter_\w*config\w*\.(?P<ext>py|json)", re.IGNORECASE)
#: Images of the Jupyter Docker stacks, whose configuration listens on 0.0.0.0.
STACK_IMAGE = re.compile(r"(?:^|/)jupyter/[\w.-]+|quay\.io/jupyter/", re.IGNORECASE)
#: Probe origins for ``allow_origin_pat``: a pattern matching these admits any site.
_PROBE_ORIGINS = ("https://attacker.invalid", "http://198.51.100.7:8000")


@dataclass(frozen=True, slots=True)
class Setting:
    """One trait value and where it was set."""

    value: object
    line: int
    column: int | None
    spelled: str  # as written, for evidence: "c.ServerApp.token = ''", "--ip=0.0.0.0"


def is_config_name(name: str, ext: str) -> bool:
    """Whether a file name is a Jupyter config of this extension (``py`` or ``json``)."""
    match = CONFIG_NAME.fullmatch(name)
    return match is not None and match["ext"].lower() == ext


def _matches_any_origin(pattern: object) -> bool:
    if not isinstance(pattern, str) or not pattern or len(pattern) > 500:
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    # Jupyter applies the pattern with re.match, so a prefix match is enough.
    return all(compiled.match(origin) for origin in _PROBE_ORIGINS)


def _all(settings: Mapping[str, Setting], trait: str) -> list[tuple[str, Setting]]:
    """Every ``Class.trait`` setting of one trait, in the order they were written."""
    found = [(name, s) for name, s in settings.items() if name.rpartition(".")[2] == trait]
    return sorted(found, key=lambda item: (item[1].line, item[1].column or 0))


def evaluate(
    settings: Mapping[str, Setting],
    *,
    source: str,
    default_ip: str = "localhost",
    context: Sequence[Word] = (),
) -> Iterator[ServingIssue]:
    """The issues of one Jupyter server's settings, keyed ``Class.trait`` (a file may set
    ``NotebookApp`` and ``ServerApp`` both, for the two generations of the server).
    ``source`` names where they came from."""
    ips = _all(settings, "ip")
    exposures = [host_exposure(str(s.value)) for _n, s in ips] or [host_exposure(default_ip)]
    exposure = next((e for e in exposures if e.reachable), exposures[-1])
    has_password = any(
        str(s.value) != ""
        for trait in ("password", "hashed_password")
        for _n, s in _all(settings, trait)
    )
    empty_tokens = [(n, s) for n, s in _all(settings, "token") if str(s.value) == ""]
    no_auth = bool(empty_tokens) and not has_password
    base: dict[str, object] = {"server": "jupyter", "source": source}
    if context:
        base["command"] = shorten(" ".join(w.text for w in context))
    reach: dict[str, object] = {"exposure": exposure.value}
    if ips:
        reach["ip"] = str(ips[-1][1].value)
    local = exposure is Exposure.LOCAL
    for name, token in empty_tokens if no_auth else []:
        yield ServingIssue(
            "MW510",
            token.line,
            f"Jupyter server with an empty token and no password ({token.spelled}), "
            + ("listening on localhost" if local else f"listening on {exposure.value}"),
            column=token.column,
            severity=Severity.MEDIUM if local else Severity.HIGH,
            evidence={**base, **reach, "setting": name, "value": ""},
            key=name,
        )
    for name, ip in ips if not no_auth else []:
        if host_exposure(str(ip.value)).reachable:
            yield ServingIssue(
                "MW511",
                ip.line,
                f"Jupyter server listens on {ip.value!s} ({ip.spelled})",
                column=ip.column,
                evidence={
                    **base,
                    "exposure": exposure.value,
                    "setting": name,
                    "value": str(ip.value),
                },
                key=name,
            )
    yield from _origin_issues(settings, base, no_auth)
    for trait, rule, what in (
        ("disable_check_xsrf", "MW516", "XSRF checks disabled"),
        ("allow_remote_access", "MW512", "Host header check disabled"),
        ("allow_root", "MW513", "allowed to run as root"),
    ):
        for name, setting in _all(settings, trait):
            if is_true(setting.value):
                yield ServingIssue(
                    rule,
                    setting.line,
                    f"Jupyter server {what} ({setting.spelled})",
                    column=setting.column,
                    evidence={**base, "setting": name, "value": True},
                    key=name,
                )


def _origin_issues(
    settings: Mapping[str, Setting], base: dict[str, object], no_auth: bool
) -> Iterator[ServingIssue]:
    severity = Severity.HIGH if no_auth else None
    candidates = [
        (name, s, str(s.value).strip() == "*") for name, s in _all(settings, "allow_origin")
    ] + [(name, s, _matches_any_origin(s.value)) for name, s in _all(settings, "allow_origin_pat")]
    for name, setting, open_to_all in candidates:
        if not open_to_all:
            continue
        yield ServingIssue(
            "MW515",
            setting.line,
            f"Jupyter server accepts requests from any origin ({setting.spelled})",
            column=setting.column,
            severity=severity,
            evidence={**base, "setting": name, "value": str(setting.value)},
            key=name,
        )


# --- config files -----------------------------------------------------------------------


def settings_from_python(source: str) -> dict[str, Setting]:
    """``c.ServerApp.token = ''`` and the like, read with ``ast`` (nothing is run).

    Only literal values count; a value computed at start-up (``os.environ[...]``) is unknown
    and stays silent. Later assignments win, as when Jupyter loads the file.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    lines = source.splitlines()
    found: list[tuple[int, int, str, Setting]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        for target in node.targets:
            trait = _config_trait(target)
            if trait is None:
                continue
            spelled = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else trait
            setting = Setting(node.value.value, node.lineno, node.col_offset + 1, spelled)
            found.append((node.lineno, node.col_offset, trait, setting))
    return {trait: setting for _l, _c, trait, setting in sorted(found, key=lambda t: t[:2])}


def _config_trait(target: ast.expr) -> str | None:
    # c.<Class>.<trait>, where c is the config object get_config() returns.
    if not isinstance(target, ast.Attribute) or target.attr not in TRAITS:
        return None
    owner = target.value
    if not isinstance(owner, ast.Attribute) or owner.attr not in CLASSES:
        return None
    if not isinstance(owner.value, ast.Name) or owner.value.id != "c":
        return None
    return f"{owner.attr}.{target.attr}"


def settings_from_json(text: str) -> dict[str, Setting]:
    """``{"ServerApp": {"token": ""}}``; lines come from where each key is written."""
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    settings: dict[str, Setting] = {}
    for cls, traits in document.items():
        if cls not in CLASSES or not isinstance(traits, dict):
            continue
        class_at = _key_offset(text, cls, 0)
        for trait, value in traits.items():
            if trait not in TRAITS or isinstance(value, (dict, list)) or value is None:
                continue
            at = _key_offset(text, trait, class_at)
            line = text.count("\n", 0, at) + 1
            column = at - (text.rfind("\n", 0, at) + 1) + 1
            spelled = f"{cls}.{trait} = {json.dumps(value)}"
            settings[f"{cls}.{trait}"] = Setting(value, line, column, spelled)
    return settings


def _key_offset(text: str, key: str, start: int) -> int:
    match = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, max(start, 0))
    return match.start() if match else max(start, 0)


# --- command lines ----------------------------------------------------------------------

#: Short options Jupyter applications define, and the traits they set.
_ALIASES = {"--ip": "ServerApp.ip"}
_SWITCHES = {"--allow-root": ("ServerApp.allow_root", True)}


def settings_from_args(args: Sequence[Word]) -> dict[str, Setting]:
    """Traits set on a ``jupyter lab``/``notebook``/``server`` command line."""
    settings: dict[str, Setting] = {}
    index = 0
    while index < len(args):
        word = args[index]
        text = word.text
        index += 1
        if text in _SWITCHES:
            switch, on = _SWITCHES[text]
            settings[switch] = Setting(on, word.line, word.column, text)
            continue
        if not text.startswith("--"):
            continue
        name, equals, value = text.partition("=")
        cls, _dot, attr = name[2:].partition(".")
        trait = _ALIASES.get(name) or (name[2:] if cls in CLASSES and attr in TRAITS else "")
        if not trait:
            continue
        if not equals:
            if index >= len(args) or args[index].text.startswith("--"):
                continue
            value = args[index].text
            text = f"{text} {value!r}"
            index += 1
        settings[trait] = Setting(unquote(value), word.line, word.column, text)
    return settings

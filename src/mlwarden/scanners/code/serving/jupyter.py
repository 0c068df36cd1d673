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


def evaluate(
    settings: Mapping[str, Setting],
    *,
    source: str,
    default_ip: str = "localhost",
    context: Sequence[Word] = (),
) -> Iterator[ServingIssue]:
    """The issues of one Jupyter server's settings. ``source`` names where they came from."""
    ip = settings.get("ip")
    exposure = host_exposure(str(ip.value) if ip is not None else default_ip)
    token = settings.get("token")
    password = settings.get("password") or settings.get("hashed_password")
    has_password = password is not None and str(password.value) != ""
    no_auth = token is not None and str(token.value) == "" and not has_password
    base: dict[str, object] = {"server": "jupyter", "source": source}
    if context:
        base["command"] = shorten(" ".join(w.text for w in context))
    reach = {"exposure": exposure.value}
    if ip is not None:
        reach["ip"] = str(ip.value)
    if no_auth and token is not None:
        local = exposure is Exposure.LOCAL
        yield ServingIssue(
            "MW510",
            token.line,
            f"Jupyter server with an empty token and no password ({token.spelled}), "
            + ("listening on localhost" if local else f"listening on {exposure.value}"),
            column=token.column,
            severity=Severity.MEDIUM if local else Severity.HIGH,
            evidence={**base, **reach, "setting": "token", "value": ""},
            key="token",
        )
    elif ip is not None and exposure.reachable:
        yield ServingIssue(
            "MW511",
            ip.line,
            f"Jupyter server listens on {ip.value!s} ({ip.spelled})",
            column=ip.column,
            evidence={**base, **reach, "setting": "ip", "value": str(ip.value)},
            key="ip",
        )
    yield from _origin_issues(settings, base, no_auth)
    for trait, rule, what in (
        ("disable_check_xsrf", "MW516", "XSRF checks disabled"),
        ("allow_remote_access", "MW512", "Host header check disabled"),
        ("allow_root", "MW513", "allowed to run as root"),
    ):
        setting = settings.get(trait)
        if setting is not None and is_true(setting.value):
            yield ServingIssue(
                rule,
                setting.line,
                f"Jupyter server {what} ({setting.spelled})",
                column=setting.column,
                evidence={**base, "setting": trait, "value": True},
                key=trait,
            )


def _origin_issues(
    settings: Mapping[str, Setting], base: dict[str, object], no_auth: bool
) -> Iterator[ServingIssue]:
    severity = Severity.HIGH if no_auth else None
    origin = settings.get("allow_origin")
    if origin is not None and str(origin.value).strip() == "*":
        yield ServingIssue(
            "MW515",
            origin.line,
            f"Jupyter server accepts requests from any origin ({origin.spelled})",
            column=origin.column,
            severity=severity,
            evidence={**base, "setting": "allow_origin", "value": "*"},
            key="allow_origin",
        )
    pattern = settings.get("allow_origin_pat")
    if pattern is not None and _matches_any_origin(pattern.value):
        yield ServingIssue(
            "MW515",
            pattern.line,
            f"Jupyter server accepts requests from any origin ({pattern.spelled})",
            column=pattern.column,
            severity=severity,
            evidence={**base, "setting": "allow_origin_pat", "value": str(pattern.value)},
            key="allow_origin_pat",
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
    return target.attr


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
            settings[trait] = Setting(value, line, column, spelled)
    return settings


def _key_offset(text: str, key: str, start: int) -> int:
    match = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, max(start, 0))
    return match.start() if match else max(start, 0)


# --- command lines ----------------------------------------------------------------------

#: Short options Jupyter applications define, and the traits they set.
_ALIASES = {"--ip": "ip"}
_SWITCHES = {"--allow-root": ("allow_root", True)}


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
        trait = _ALIASES.get(name) or (attr if cls in CLASSES and attr in TRAITS else "")
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

"""TorchServe ``config.properties``: a Java properties reader and the checks over it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mlwarden.findings import Severity
from mlwarden.scanners.code.serving.model import (
    Exposure,
    ServingIssue,
    is_true,
    url_exposure,
)

#: Keys only a TorchServe configuration has; a .properties file without one is left alone.
MARKER_KEYS = frozenset(
    {
        "inference_address",
        "management_address",
        "metrics_address",
        "grpc_inference_address",
        "grpc_management_address",
        "model_store",
        "load_models",
        "allowed_urls",
        "enable_model_api",
        "disable_token_authorization",
        "default_workers_per_model",
    }
)
#: What TorchServe binds when the key is absent (localhost since 0.8.2).
_DEFAULT_MANAGEMENT = "http://127.0.0.1:8081"
#: Probe URLs: an ``allowed_urls`` pattern matching these admits any web server.
_PROBE_URLS = ("http://attacker.invalid/model.mar", "https://198.51.100.7/x/model.mar")
_FORMAT = "torchserve-properties"


@dataclass(frozen=True, slots=True)
class Property:
    """One key and value of a properties file, at the line where its entry starts."""

    key: str
    value: str
    line: int


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 >= len(text):
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
            out.append(chr(int(text[index + 2 : index + 6], 16)))
            index += 6
            continue
        out.append(_ESCAPES.get(following, following))
        index += 2
    return "".join(out)


def _continues(line: str) -> bool:
    # An odd number of trailing backslashes joins the next line.
    stripped = line.rstrip("\r")
    count = len(stripped) - len(stripped.rstrip("\\"))
    return count % 2 == 1


def parse_properties(text: str) -> list[Property]:
    """The entries of a ``java.util.Properties`` file, in order (later ones win)."""
    entries: list[Property] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start = index
        raw = lines[index].lstrip(" \t\f")
        index += 1
        if not raw or raw[0] in "#!":
            continue
        pieces = [raw.rstrip("\r")]
        while _continues(pieces[-1]) and index < len(lines):
            pieces[-1] = pieces[-1][:-1]
            pieces.append(lines[index].lstrip(" \t\f").rstrip("\r"))
            index += 1
        if _continues(pieces[-1]):
            pieces[-1] = pieces[-1][:-1]
        logical = "".join(pieces)
        match = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:]?\s*", logical)
        key_end = match.end(1) if match else len(logical)
        rest = logical[match.end() if match else key_end :]
        entries.append(Property(_unescape(logical[:key_end]), _unescape(rest), start + 1))
    return entries


def is_torchserve_config(entries: list[Property]) -> bool:
    """Whether the properties look like TorchServe's (a marker key is set)."""
    return any(entry.key in MARKER_KEYS for entry in entries)


def _urls_unrestricted(value: str) -> bool:
    for pattern in value.split(","):
        pattern = pattern.strip().strip("'\"")
        if not pattern or len(pattern) > 500:
            continue
        try:
            compiled = re.compile(pattern)
        except re.error:
            continue
        if all(compiled.fullmatch(url) for url in _PROBE_URLS):
            return True
    return False


def check_properties(entries: list[Property]) -> Iterator[ServingIssue]:
    """The issues of one TorchServe configuration."""
    last = {entry.key: entry for entry in entries}
    management = last.get("grpc_management_address")
    if management is None or not url_exposure(management.value).reachable:
        management = last.get("management_address")
    mgmt_value = management.value if management is not None else _DEFAULT_MANAGEMENT
    mgmt_exposure = url_exposure(mgmt_value)
    token_off = _true(last, "disable_token_authorization")
    model_api = _true(last, "enable_model_api")
    urls = last.get("allowed_urls")
    urls_open = urls is None or _urls_unrestricted(urls.value)
    any_api_exposed = mgmt_exposure.reachable or any(
        url_exposure(last[k].value).reachable
        for k in ("inference_address", "grpc_inference_address")
        if k in last
    )

    def issue(rule: str, entry: Property, message: str, **more: object) -> ServingIssue:
        severity = more.pop("severity", None)
        evidence: dict[str, object] = {
            "format": _FORMAT,
            "server": "torchserve",
            "setting": entry.key,
            "value": entry.value,
            **more,
        }
        return ServingIssue(
            rule,
            entry.line,
            message,
            column=1,
            severity=severity if isinstance(severity, Severity) else None,
            evidence=evidence,
            key=entry.key,
        )

    if management is not None and mgmt_exposure.reachable:
        critical = token_off is not None and model_api is not None and urls_open
        yield issue(
            "MW500",
            management,
            f"management API bound to {management.value}"
            + (" with token authorization off, model API on and any model URL" if critical else ""),
            severity=Severity.CRITICAL if critical else None,
            exposure=mgmt_exposure.value,
        )
    if urls is not None and urls_open:
        severity = (
            Severity.HIGH
            if mgmt_exposure.reachable
            else Severity.MEDIUM
            if model_api is not None
            else Severity.LOW
        )
        yield issue(
            "MW501",
            urls,
            f"allowed_urls={urls.value!r} admits models from any web server",
            severity=severity,
            management_exposure=mgmt_exposure.value,
        )
    elif urls is None and (management is not None and mgmt_exposure.reachable):
        yield issue(
            "MW501",
            management,
            "allowed_urls is not set (the default admits any URL) and the management API "
            f"is bound to {management.value}",
            management_exposure=mgmt_exposure.value,
            allowed_urls=None,
        )
    elif urls is None and model_api is not None:
        yield issue(
            "MW501",
            model_api,
            "allowed_urls is not set (the default admits any URL) and the model API is enabled",
            severity=Severity.MEDIUM,
            management_exposure=mgmt_exposure.value,
            allowed_urls=None,
        )
    if token_off is not None:
        yield issue(
            "MW502",
            token_off,
            "token authorization disabled (disable_token_authorization=true)",
            severity=None
            if any_api_exposed or mgmt_exposure is Exposure.UNKNOWN
            else Severity.MEDIUM,
            management_exposure=mgmt_exposure.value,
        )
    if model_api is not None:
        yield issue(
            "MW503",
            model_api,
            "model registration API enabled (enable_model_api=true)",
            severity=Severity.HIGH if mgmt_exposure.reachable else None,
            management_exposure=mgmt_exposure.value,
        )
    yield from _listener_issues(last)


def _listener_issues(last: dict[str, Property]) -> Iterator[ServingIssue]:
    for key, rule, what in (
        ("metrics_address", "MW504", "metrics API"),
        ("inference_address", "MW505", "inference API"),
        ("grpc_inference_address", "MW505", "gRPC inference API"),
    ):
        entry = last.get(key)
        if entry is None:
            continue
        exposure = url_exposure(entry.value)
        if not exposure.reachable:
            continue
        yield ServingIssue(
            rule,
            entry.line,
            f"{what} bound to {entry.value}",
            column=1,
            evidence={
                "format": _FORMAT,
                "server": "torchserve",
                "setting": key,
                "value": entry.value,
                "exposure": exposure.value,
            },
            key=key,
        )
    cors = last.get("cors_allowed_origin")
    if cors is not None and cors.value.strip().strip("'\"") == "*":
        yield ServingIssue(
            "MW515",
            cors.line,
            "TorchServe accepts cross-origin requests from any origin (cors_allowed_origin=*)",
            column=1,
            evidence={
                "format": _FORMAT,
                "server": "torchserve",
                "setting": "cors_allowed_origin",
                "value": "*",
            },
            key="cors_allowed_origin",
        )


def _true(last: dict[str, Property], key: str) -> Property | None:
    entry = last.get(key)
    return entry if entry is not None and is_true(entry.value) else None

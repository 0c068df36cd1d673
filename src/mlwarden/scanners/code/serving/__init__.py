"""ML-serving configuration: servers reachable without authentication (MW500-529).

Reads TorchServe ``config.properties``, Jupyter server configs (``jupyter_*config*.py`` with
``ast``, ``.json``), Dockerfiles, compose files, shell scripts and ``.env`` files, and the
command lines in them (``jupyter lab``, ``mlflow server``, ``ray start``, ``torchserve``,
``tritonserver``, ``streamlit run``, ``docker run -p``). Nothing is executed or expanded
beyond the variables the file itself sets. Python code that starts servers (``ray.init``,
``app.run``) is the Python rules' concern.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.code.inline import mark
from mlwarden.scanners.code.issues import issue_finding
from mlwarden.scanners.code.serving.model import ServingIssue, suppressions
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.sniff import Kind

__all__ = ["ServingConfigScanner", "ServingIssue", "check_text"]

#: Configuration files are small; a larger text file of these kinds is not one.
MAX_CONFIG_BYTES = 16 * 1024 * 1024

# The readers import their modules when first used: most text files met in a scan (archive
# members, data, notes) are none of these formats, and a scan should not pay for them.


def _check_properties(text: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.serving.torchserve import (
        check_properties,
        is_torchserve_config,
        parse_properties,
    )

    entries = parse_properties(text)
    if is_torchserve_config(entries):
        yield from check_properties(entries)


def _check_jupyter_python(text: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.serving import jupyter

    yield from jupyter.evaluate(jupyter.settings_from_python(text), source="jupyter-config")


def _check_jupyter_json(text: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.serving import jupyter

    yield from jupyter.evaluate(jupyter.settings_from_json(text), source="jupyter-config")


def _check_dockerfile(text: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.serving.dockerfile import check_dockerfile

    yield from check_dockerfile(text)


def _check_compose(text: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.serving.compose import check_compose

    yield from check_compose(text)


def _check_script(text: str, source: str) -> Iterator[ServingIssue]:
    from mlwarden.scanners.code.lines import LineIndex
    from mlwarden.scanners.code.serving.commands import CommandContext, check_commands
    from mlwarden.scanners.code.serving.shell import parse_script

    commands = parse_script(text, LineIndex(text).at)
    yield from check_commands(commands, CommandContext(source))


def _is_dotenv(name: str) -> bool:
    lower = name.lower()
    return lower == ".env" or lower.endswith(".env") or lower.startswith(".env.")


def _is_jupyter_config(name: str, ext: str) -> bool:
    if "jupyter" not in name.lower():
        return False
    from mlwarden.scanners.code.serving import jupyter

    return jupyter.is_config_name(name, ext)


def _reader(kind: Kind, name: str) -> tuple[str, Callable[[str], Iterator[ServingIssue]]] | None:
    """The format name and check for a file of this kind and name, or ``None`` to skip it."""
    if kind is Kind.PROPERTIES:
        return "torchserve-properties", _check_properties
    if kind is Kind.PYTHON and _is_jupyter_config(name, "py"):
        return "jupyter-config", _check_jupyter_python
    if kind is Kind.JSON and _is_jupyter_config(name, "json"):
        return "jupyter-config", _check_jupyter_json
    if kind is Kind.DOCKERFILE:
        return "dockerfile", _check_dockerfile
    if kind is Kind.COMPOSE:
        return "compose", _check_compose
    if kind is Kind.SHELL:
        return "shell", lambda text: _check_script(text, "shell")
    if kind is Kind.TEXT and _is_dotenv(name):
        return "dotenv", lambda text: _check_script(text, "dotenv")
    return None


def check_text(text: str, kind: Kind, name: str) -> list[ServingIssue]:
    """The serving issues of one configuration text, as the scanner sees it (for tests and
    embedding applications). Repeats of one issue at one place are dropped."""
    reader = _reader(kind, name)
    if reader is None:
        return []
    fmt, check = reader
    seen: set[tuple[str, int, int | None, str]] = set()
    keys: dict[tuple[str, str], int] = {}
    issues: list[ServingIssue] = []
    for issue in sorted(check(text), key=lambda i: (i.line, i.column or 0)):
        where = (issue.rule, issue.line, issue.column, issue.key)
        if where in seen:
            continue
        seen.add(where)
        issue.evidence.setdefault("format", fmt)
        # Fingerprints leave lines out, so the same setting made twice in one file needs a
        # key of its own: the second and later ones are numbered in file order.
        count = keys.get((issue.rule, issue.key), 0) + 1
        keys[(issue.rule, issue.key)] = count
        if count > 1:
            issue = dataclasses.replace(issue, key=f"{issue.key}#{count}")
        issues.append(issue)
    return issues


@register
class ServingConfigScanner(Scanner):
    """Exposed model servers, notebooks, tracking servers and dashboards in configuration."""

    name = "serving"
    kinds = frozenset(
        {
            Kind.PROPERTIES,
            Kind.PYTHON,
            Kind.JSON,
            Kind.DOCKERFILE,
            Kind.COMPOSE,
            Kind.SHELL,
            Kind.TEXT,
        }
    )

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        if _reader(artifact.kind, artifact.name) is None:
            return
        limit = min(context.limits.max_metadata_bytes, MAX_CONFIG_BYTES)
        if artifact.size > limit:
            return  # not a configuration file; text kinds never fail closed
        data = artifact.read_at_most(limit + 1)
        text = data.decode("utf-8", errors="replace")
        context.check_time()
        issues = check_text(text, artifact.kind, artifact.name)
        hidden = suppressions(text) if issues else {}
        for issue in issues:
            yield mark(issue_finding(artifact, issue), hidden)

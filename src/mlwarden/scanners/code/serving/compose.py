"""Compose files: each service's command, entrypoint, environment and published ports.

The YAML is composed into nodes (never constructed into objects), which keeps the line and
column of every value; anchors and merge keys (``<<: *defaults``) are followed once.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from mlwarden.scanners.code.serving.commands import (
    CommandContext,
    check_commands,
    check_environment,
)
from mlwarden.scanners.code.serving.jupyter import STACK_IMAGE
from mlwarden.scanners.code.serving.model import ServingIssue
from mlwarden.scanners.code.serving.ports import published_port_issues
from mlwarden.scanners.code.serving.shell import Locate, SimpleCommand, Word, parse_script

_SOURCE = "compose"
_MAX_MERGE_DEPTH = 8
_MAX_TEXT_NODES = 10_000


def _mapping(node: yaml.Node, depth: int = 0) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's entries by key (key node, value node); merged keys lose to own keys."""
    if not isinstance(node, yaml.MappingNode) or depth > _MAX_MERGE_DEPTH:
        return {}
    entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value == "<<":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                for name, entry in _mapping(source, depth + 1).items():
                    merged.setdefault(name, entry)
            continue
        entries[key.value] = (key, value)
    return {**merged, **entries}


def _scalar_locator(node: yaml.ScalarNode, lines: list[str]) -> Locate:
    line = node.start_mark.line + 1
    column = node.start_mark.column + 1
    if node.style in ("|", ">"):
        value = node.value

        def in_block(offset: int) -> tuple[int, int]:
            at = line + 1 + value.count("\n", 0, offset)
            text = lines[at - 1] if at - 1 < len(lines) else ""
            indent = len(text) - len(text.lstrip())
            return at, indent + offset - (value.rfind("\n", 0, offset) + 1) + 1

        return in_block
    shift = 1 if node.style in ("'", '"') else 0
    return lambda offset: (line, column + shift + offset)


def _word(node: yaml.ScalarNode, lines: list[str]) -> Word:
    locate = _scalar_locator(node, lines)
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    return Word(str(node.value), line, column, locate)


def _command(node: yaml.Node, lines: list[str]) -> list[SimpleCommand]:
    if isinstance(node, yaml.ScalarNode):
        return parse_script(str(node.value), _scalar_locator(node, lines))
    if isinstance(node, yaml.SequenceNode):
        words = [_word(item, lines) for item in node.value if isinstance(item, yaml.ScalarNode)]
        return [SimpleCommand(words=words)] if words else []
    return []


def _environment(node: yaml.Node, lines: list[str]) -> list[tuple[str, str, Word]]:
    pairs: list[tuple[str, str, Word]] = []
    if isinstance(node, yaml.MappingNode):
        for name, (key, value) in _mapping(node).items():
            text = str(value.value) if isinstance(value, yaml.ScalarNode) else ""
            if isinstance(key, yaml.ScalarNode):
                pairs.append((name, text, _word(key, lines)))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and "=" in str(item.value):
                name, _eq, value = str(item.value).partition("=")
                pairs.append((name, value, _word(item, lines)))
    return pairs


def _text(node: yaml.Node | None, limit: int = _MAX_TEXT_NODES) -> str:
    """The scalars under a node, joined with spaces; aliases can make a small document a huge
    tree, so at most ``limit`` nodes are visited."""
    parts: list[str] = []
    stack = [node] if node is not None else []
    visited = 0
    while stack and visited < limit:
        current = stack.pop()
        visited += 1
        if isinstance(current, yaml.ScalarNode):
            parts.append(str(current.value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(value for _key, value in reversed(current.value))
    return " ".join(parts)


def check_compose(text: str) -> Iterator[ServingIssue]:
    """The issues of one compose file; YAML that does not parse gives none."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return
    services = _mapping(root).get("services") if root is not None else None
    if services is None:
        return
    lines = text.splitlines()
    for name, (_key, service) in _mapping(services[1]).items():
        yield from _service(name, _mapping(service), lines)


def _service(
    name: str, entries: dict[str, tuple[yaml.Node, yaml.Node]], lines: list[str]
) -> Iterator[ServingIssue]:
    def node(key: str) -> yaml.Node | None:
        entry = entries.get(key)
        return entry[1] if entry is not None else None

    image = _text(node("image"))
    context = CommandContext(_SOURCE)
    context.jupyter_ip = "0.0.0.0" if STACK_IMAGE.search(image) else "localhost"
    environment = node("environment")
    for variable, value, word in _environment(environment, lines) if environment else []:
        context.variables[variable] = value
        yield from check_environment(variable, value, word, _SOURCE)
    commands: list[SimpleCommand] = []
    entrypoint, command = node("entrypoint"), node("command")
    for part in (entrypoint, command):
        if part is not None:
            commands += _command(part, lines)
    if isinstance(entrypoint, yaml.SequenceNode) and isinstance(command, yaml.SequenceNode):
        joined = _command(entrypoint, lines) + _command(command, lines)
        commands.append(SimpleCommand(words=[w for c in joined for w in c.words]))
    yield from check_commands(commands, context)
    ports = node("ports")
    if not isinstance(ports, yaml.SequenceNode) or _text(node("network_mode")) == "host":
        return
    all_words = " ".join(w.text for c in commands for w in c.words)
    hint = " ".join((name, image, _text(node("container_name")), all_words))
    authenticated = frozenset(
        product
        for product, on in (
            ("mlflow", "--app-name" in all_words),
            ("ray", context.variables.get("RAY_AUTH_MODE", "").lower() == "token"),
        )
        if on
    )
    for item in ports.value:
        spec = _port_spec(item)
        if spec is None:
            continue
        yield from published_port_issues(
            spec,
            hint,
            item.start_mark.line + 1,
            item.start_mark.column + 1,
            source=_SOURCE,
            how=f"service {name!r}",
            authenticated=authenticated,
        )


def _port_spec(item: yaml.Node) -> str | None:
    if isinstance(item, yaml.ScalarNode):
        return str(item.value)
    entries = _mapping(item)
    if "target" not in entries:
        return None
    target = _text(entries["target"][1])
    published = _text(entries["published"][1]) if "published" in entries else ""
    host_ip = _text(entries["host_ip"][1]) if "host_ip" in entries else ""
    return f"{host_ip}:{published}:{target}" if host_ip else f"{published}:{target}"

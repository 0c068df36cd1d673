"""What the serving checks produce, and how they judge an address.

Every reader (properties, Jupyter configs, Dockerfiles, compose files, shell scripts) turns
its file into :class:`ServingIssue` values; the scanner makes findings of them.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlwarden.findings import Severity
from mlwarden.scanners.code.inline import InlineSuppression, parse_inline


@dataclass(frozen=True, slots=True)
class ServingIssue:
    """One misconfiguration at a 1-based line (and column) of the scanned file.

    ``severity`` is ``None`` for the rule's default. ``key`` tells apart two issues of one
    rule on the same line (two published ports, say).
    """

    rule: str
    line: int
    message: str
    column: int | None = None
    severity: Severity | None = None
    evidence: dict[str, object] = field(default_factory=dict)
    key: str = ""


class Exposure(enum.Enum):
    """Who can reach a listening address."""

    LOCAL = "localhost"  # loopback or a Unix socket
    ALL = "all-interfaces"  # 0.0.0.0, [::], *
    NETWORK = "network-address"  # one named or numbered interface that is not loopback
    UNKNOWN = "unknown"  # a variable whose value is not in the file

    @property
    def reachable(self) -> bool:
        """Whether other hosts can connect."""
        return self in (Exposure.ALL, Exposure.NETWORK)


_WILDCARDS = frozenset({"", "0.0.0.0", "::", "*", "0", "[::]", "::0", "0:0:0:0:0:0:0:0"})
_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback", "localhost6"})
_VARIABLE = re.compile(r"\$\{?[A-Za-z_]")


def host_exposure(host: str) -> Exposure:
    """How far a bare host or IP address (no scheme, no port) is reachable."""
    host = host.strip().strip("'\"").lower()
    if _VARIABLE.search(host):
        return Exposure.UNKNOWN
    if host in _WILDCARDS:
        return Exposure.ALL
    bare = host.strip("[]")
    if bare in _LOOPBACK_NAMES or bare.endswith(".localhost"):
        return Exposure.LOCAL
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        return Exposure.NETWORK
    if address.is_loopback:
        return Exposure.LOCAL
    if address.is_unspecified:
        return Exposure.ALL
    return Exposure.NETWORK


def url_exposure(value: str) -> Exposure:
    """How far a listening URL such as ``http://0.0.0.0:8081`` or ``unix:/x.sock`` reaches."""
    value = value.strip().strip("'\"")
    if value.lower().startswith("unix:"):
        return Exposure.LOCAL
    if "://" in value:
        value = value.split("://", 1)[1]
    host = value.split("/", 1)[0]
    if host.startswith("["):
        return host_exposure(host.split("]", 1)[0] + "]")
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host_exposure(host)


def is_true(value: object) -> bool:
    """A boolean setting as configuration files and command lines spell it."""
    if isinstance(value, bool):
        return value
    return str(value).strip().strip("'\"").lower() in ("true", "1", "yes", "on")


def is_false(value: object) -> bool:
    """The explicit negative spellings of a boolean setting."""
    if isinstance(value, bool):
        return not value
    return str(value).strip().strip("'\"").lower() in ("false", "0", "no", "off")


def suppressions(text: str) -> dict[int, InlineSuppression]:
    """Inline suppressions by line; a comment alone on its line also covers the next line.

    Dockerfile instructions and ``.properties`` values cannot carry a trailing comment
    without changing their meaning, so there the comment goes on the line above.
    """
    if "mlwarden" not in text:
        return {}
    lines = text.splitlines()
    found = parse_inline(lines)
    extended: dict[int, InlineSuppression] = dict(found)
    for number, suppression in found.items():
        if not lines[number - 1].lstrip().startswith("#"):
            continue
        following = number + 1
        while following <= len(lines) and (
            not lines[following - 1].strip() or lines[following - 1].lstrip().startswith("#")
        ):
            following += 1
        if following <= len(lines) and following not in extended:
            extended[following] = suppression
    return extended


def shorten(text: str, limit: int = 200) -> str:
    """Text for evidence, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_of(settings: Mapping[str, object], *names: str) -> object | None:
    """The value of the first name present in ``settings``."""
    for name in names:
        if name in settings:
            return settings[name]
    return None

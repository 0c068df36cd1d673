"""Records of one vulnerability, grouped by their ids and aliases.

The OSV schema says aliases are symmetric and transitive: records that share any id or alias
describe one vulnerability, even when no record names all the others (A aliases B, C aliases
B: A, B and C are one). The groups are the connected components of the graph whose nodes are
ids and whose edges join a record's id to each of its aliases (union-find).

The id shown for a group prefers, in order: a GitHub advisory (``GHSA-``), a PyPI advisory
(``PYSEC-``), a CVE, then any other id; among ids of the same kind, the smallest in sort order.
GHSA ids come first because GitHub reviews every one, and they are what Dependabot and most
tools print; the CVE is always among the aliases when one exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_PREFERENCE = ("GHSA-", "PYSEC-", "CVE-")


def shown_id(ids: Iterable[str]) -> str:
    """The id to show for a group of ids (see the module docstring for the order)."""

    def rank(identifier: str) -> tuple[int, str]:
        for position, prefix in enumerate(_PREFERENCE):
            if identifier.upper().startswith(prefix):
                return position, identifier
        return len(_PREFERENCE), identifier

    return min(ids, key=rank)


class AliasGroups:
    """Union-find over vulnerability ids."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def _find(self, identifier: str) -> str:
        parent = self._parent.setdefault(identifier, identifier)
        root = identifier
        while parent != root:
            root = parent
            parent = self._parent[root]
        # Path compression: later finds on this chain are one step.
        while identifier != root:
            self._parent[identifier], identifier = root, self._parent[identifier]
        return root

    def add(self, ids: Sequence[str]) -> None:
        """Record that all of ``ids`` (a record's id and aliases) are one vulnerability."""
        if not ids:
            return
        first = self._find(ids[0])
        for other in ids[1:]:
            root = self._find(other)
            if root != first:
                self._parent[root] = first

    def root(self, identifier: str) -> str:
        """The representative of ``identifier``'s group."""
        return self._find(identifier)

    def components(self) -> dict[str, list[str]]:
        """Every group, keyed by its representative, with its ids sorted."""
        groups: dict[str, list[str]] = {}
        for identifier in list(self._parent):
            groups.setdefault(self._find(identifier), []).append(identifier)
        for members in groups.values():
            members.sort()
        return groups

"""What the archive scanners share: member naming, name checks, and the storage convention.

Raw tensor storages in a PyTorch or TorchScript ZIP (``<prefix>/data/<key>``) are bulk bytes
that a loader never interprets: they may begin with bytes that look like a pickle or a
compressed stream by chance. Such members are handed to the engine only when their first
bytes sniff as a pickle or a container, and then with ``container="pytorch-storage"``:

* a scanner that receives a ``pytorch-storage`` artifact reports only what it can show is
  really there (for pickles: a complete program that ends at ``STOP`` and imports globals),
  and stays silent when the bytes simply do not parse, since random tensor data does not;
* the archive scanners here follow the same convention for ZIP, TAR and compressed data.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from mlwarden.findings import Finding
from mlwarden.scanners.interface import Artifact, FormatError
from mlwarden.sniff import Kind

#: ``Artifact.container`` for raw tensor storages of a PyTorch or TorchScript archive.
STORAGE_CONTAINER = "pytorch-storage"

#: Kinds worth a look inside storages: what could carry code if something read it as such.
STORAGE_SCANNED_KINDS = frozenset({Kind.PICKLE, Kind.ZIP, Kind.TAR, Kind.COMPRESSED})

#: Directories of a PyTorch / TorchScript archive whose members are raw storages.
STORAGE_DIRS = frozenset({"data", "constants", "traced_inputs"})

#: Members up to this size may be read into memory when that is simpler than streaming.
SMALL_MEMBER_BYTES = 1024 * 1024

_DRIVE = re.compile(r"^[A-Za-z]:")


def member_path(artifact: Artifact, name: str) -> str:
    """The location of a member: nested archive members are joined with ``!``."""
    return f"{artifact.member}!{name}" if artifact.member else name


def at_member(artifact: Artifact, name: str) -> Artifact:
    """The same artifact, located at one of its members (for findings about the member)."""
    return dataclasses.replace(artifact, member=member_path(artifact, name))


def escapes_root(name: str) -> bool:
    """Whether extracting a member of this name would write outside the target directory."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return True
    return ".." in norm.split("/")


def is_storage(name: str, container: str) -> bool:
    """Whether a member of a PyTorch/TorchScript ZIP is a raw tensor storage."""
    if container not in ("pytorch-zip", "torchscript"):
        return False
    parts = name.split("/")
    return len(parts) == 3 and parts[1] in STORAGE_DIRS and bool(parts[2])


def quiet_in_storage(artifact: Artifact, findings: Iterator[Finding]) -> Iterator[Finding]:
    """An archive scanner's ``findings``, ended silently when ``artifact`` is a raw storage
    whose bytes merely start like the archive: elsewhere a :class:`FormatError` goes on."""
    try:
        yield from findings
    except FormatError:
        if artifact.container == STORAGE_CONTAINER:
            return
        raise

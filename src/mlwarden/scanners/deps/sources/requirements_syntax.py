"""The line syntax of pip requirements files, shared by reading and detecting them.

Physical lines are joined at a trailing ``\\`` and comments removed (pip's rules: ``#`` at the
start of a line or after whitespace); option names are sorted into those pip knows; a
requirement is told apart from a bare URL, VCS reference, archive or local path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A comment starts at the beginning of a line or after whitespace; ``#egg=`` in a URL is not one.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
#: Options that take a value and only tell pip where or how to find packages.
VALUED_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "--only-binary",
        "--no-binary",
        "--use-feature",
        "--progress-bar",
    }
)
#: Options without a value that change only how pip installs.
FLAG_OPTIONS = frozenset({"--no-index", "--pre", "--prefer-binary", "--require-hashes"})
#: Options allowed after a requirement on the same line.
PER_REQUIREMENT_OPTIONS = frozenset(
    {"--hash", "--config-settings", "--global-option", "--install-option"}
)
#: Options that include another file, and what that file holds.
INCLUDE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(first physical line number, line)`` with continuations joined, comments gone."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#"):
            # A comment line ends a continuation (pip does the same) and adds nothing to it.
            if pending:
                yield start, uncomment("".join(pending))
                pending = []
            continue
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        yield start, uncomment("".join(pending))
        pending = []
    if pending:
        yield start, uncomment("".join(pending))


def uncomment(line: str) -> str:
    return _COMMENT.sub("", line).strip()


def is_direct_reference(spec: str) -> bool:
    """A bare URL, VCS reference, archive or local path rather than ``name[...] spec``."""
    head = spec.split(";", 1)[0].strip()
    if _NAMED_URL.match(head):
        return False  # PEP 508 "name[extras] @ url": packaging reads it
    lower = head.lower()
    return (
        "://" in head
        or lower.startswith(_VCS_PREFIXES)
        or head.startswith((".", "/", "~", "\\"))
        or "/" in head
        or "\\" in head
        or lower.endswith(_ARCHIVE_SUFFIXES)
    )


_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_DIST_FILE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)-\d")


def name_of_reference(url: str) -> str | None:
    """The project name a direct reference names, from ``#egg=`` or an archive's file name."""
    egg = _EGG.search(url)
    if egg:
        return egg.group(1)
    file_name = url.split("#", 1)[0].split("?", 1)[0].rstrip("/").replace("\\", "/")
    file_name = file_name.rsplit("/", 1)[-1]
    if file_name.lower().endswith(_ARCHIVE_SUFFIXES):
        match = _DIST_FILE.match(file_name)
        if match:
            return match.group(1)
    return None


def looks_like_requirements(text: str) -> tuple[int, int]:
    """Count ``(valid, invalid)`` entries in requirements text, for detection.

    An option line pip knows and a parsable requirement or reference are valid; anything else
    (prose, another format) is not.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    valid = invalid = 0
    for _number, line in logical_lines(text):
        if not line:
            continue
        if line.startswith("-"):
            option = line.split()[0].partition("=")[0]
            known = option[:2] in ("-r", "-c", "-e", "-i", "-f") or option in (
                VALUED_OPTIONS | FLAG_OPTIONS | {"--requirement", "--constraint", "--editable"}
            )
            valid, invalid = (valid + 1, invalid) if known else (valid, invalid + 1)
            continue
        spec = " ".join(t for t in line.split() if not t.startswith("--hash"))
        spec = spec.split(" --", 1)[0]
        if "://" in spec or spec.lower().startswith(_VCS_PREFIXES):
            valid += 1
            continue
        try:
            Requirement(spec)
        except InvalidRequirement:
            invalid += 1
        else:
            valid += 1
    return valid, invalid

"""A straightforward OSV matcher: the baseline mlwarden's compiled database is measured against.

Every run loads every YAML record with PyYAML's safe loader (its C version when PyYAML has
libyaml, the fastest safe choice a plain script has), keeps the PyPI entries of the pinned
packages, and evaluates them with ``packaging`` on plain OSV semantics:

- a version is affected when it is in an entry's ``versions`` list (compared as PEP 440
  versions when both sides parse, as text otherwise) or inside an ``ECOSYSTEM`` range,
  evaluated as the OSV schema's ``IsVulnerable`` pseudocode says (events sorted by version,
  ``introduced: "0"`` first; ``introduced`` opens, ``fixed`` closes at or above, and
  ``last_affected`` above; a version must be below some ``limit`` when finite limits exist);
- withdrawn records never match; ``GIT`` and ``SEMVER`` ranges are not evaluated;
- a range with any event that is not valid PEP 440 is skipped (counted, not guessed at);
- no alias grouping: results are (package, version, record id).

Usage: ``python naive_matcher.py --db VULNS --pins requirements.txt --output result.json``.
The pins file holds ``name==version`` lines. The output lists the matches and what was skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def record_files(root: Path) -> Iterator[Path]:
    """Every YAML record under ``root``, in a stable order."""
    for directory, _dirs, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")):
                yield Path(directory) / name


def load_records(root: Path) -> Iterator[dict[str, Any]]:
    """Every record under ``root``, decoded by the safe loader."""
    for path in record_files(root):
        with path.open("rb") as stream:
            data = yaml.load(stream, Loader=SAFE_LOADER)
        if isinstance(data, dict):
            yield data


def read_pins(path: Path) -> dict[str, list[str]]:
    """``name==version`` lines as canonical name to versions (comments and blanks skipped)."""
    pins: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if "==" not in text:
            continue
        name, version = (part.strip() for part in text.split("==", 1))
        pins.setdefault(canonicalize_name(name), []).append(version)
    return pins


def as_version(text: str) -> Version | None:
    """``text`` as a PEP 440 version, or ``None``."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def in_range(version: Version, events: list[dict[str, Any]]) -> bool | None:
    """The OSV ``IsVulnerable`` evaluation of one range; ``None`` when an event is not PEP 440."""
    ordered: list[tuple[Version | None, str]] = []
    limits: list[Version] = []
    for event in events:
        for kind, raw in event.items():
            value = str(raw)
            if kind == "introduced" and value == "0":
                ordered.append((None, kind))
                continue
            if kind == "limit" and value == "*":
                continue
            parsed = as_version(value)
            if parsed is None:
                return None
            if kind == "limit":
                limits.append(parsed)
            elif kind in ("introduced", "fixed", "last_affected"):
                ordered.append((parsed, kind))
    if limits and not any(version < limit for limit in limits):
        return False
    ordered.sort(key=lambda e: (e[0] is not None, e[0] or Version("0")))
    vulnerable = False
    for bound, kind in ordered:
        if kind == "introduced":
            if bound is None or version >= bound:
                vulnerable = True
        elif kind == "fixed":
            if bound is not None and version >= bound:
                vulnerable = False
        elif bound is not None and version > bound:  # last_affected
            vulnerable = False
    return vulnerable


def listed(version_text: str, versions: list[Any]) -> bool:
    """Whether a version is in a ``versions`` list (PEP 440 equality where both parse)."""
    parsed = as_version(version_text)
    for item in versions:
        text = str(item)
        other = as_version(text)
        if (parsed is not None and other is not None and parsed == other) or text == version_text:
            return True
    return False


def affected(version_text: str, entry: dict[str, Any], skipped: list[str]) -> bool:
    """Whether one ``affected`` entry says ``version_text`` is affected."""
    if listed(version_text, entry.get("versions") or []):
        return True
    version = as_version(version_text)
    if version is None:
        return False
    for rng in entry.get("ranges") or []:
        if rng.get("type") != "ECOSYSTEM":
            continue
        verdict = in_range(version, rng.get("events") or [])
        if verdict is None:
            skipped.append(str(rng.get("events")))
            continue
        if verdict:
            return True
    return False


def match(root: Path, pins: dict[str, list[str]]) -> dict[str, Any]:
    """All (package, version, record id) matches of ``pins`` in the records under ``root``."""
    matches: set[tuple[str, str, str]] = set()
    skipped_ranges: dict[str, list[str]] = {}
    records = withdrawn = 0
    for record in load_records(root):
        records += 1
        if record.get("withdrawn"):
            withdrawn += 1
            continue
        record_id = str(record.get("id"))
        for entry in record.get("affected") or []:
            package = entry.get("package") or {}
            if package.get("ecosystem") != "PyPI":
                continue
            name = canonicalize_name(str(package.get("name", "")))
            for version in pins.get(name, []):
                skipped: list[str] = []
                if affected(version, entry, skipped):
                    matches.add((name, version, record_id))
                if skipped:
                    skipped_ranges.setdefault(f"{record_id} {name} {version}", []).extend(skipped)
    return {
        "records": records,
        "withdrawn": withdrawn,
        "matches": sorted(list(m) for m in matches),
        "skipped_ranges": skipped_ranges,
    }


def main(argv: list[str] | None = None) -> int:
    """Match a pins file against a directory of OSV YAML records; write the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="directory of OSV YAML records")
    parser.add_argument("--pins", type=Path, required=True, help="name==version lines")
    parser.add_argument("--output", type=Path, required=True, help="result JSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = match(args.db, read_pins(args.pins))
    result["seconds"] = round(time.perf_counter() - start, 3)
    result["loader"] = SAFE_LOADER.__name__
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{len(result['matches'])} matches over {result['records']} records "
        f"in {result['seconds']} s ({result['loader']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

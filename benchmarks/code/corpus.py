"""The annotated corpus: every fixture under ``tests/code/fixtures/`` and what it must give.

Annotations are read with the test harness itself (``tests/code/annotations.py``), so the
benchmark and the tests agree on what each line expects: ``# expect: RULE``,
``# expect-next: RULE``, ``# suppressed[-next]: RULE``, ``# ok``, ``<name>.expect`` sidecars for
JSON files, and notebooks cell by cell (cell index 0-based, line 1-based within the cell).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "code" / "fixtures"
HARNESS = REPO / "tests" / "code" / "annotations.py"
FAKE_CREDENTIALS = REPO / "tests" / "code" / "fake_credentials.py"

_OK = re.compile(r"(?:#|//|!|<!--)\s*ok\b")
_SIDECAR_LINE = re.compile(r"^\s*(?P<line>\d+)\s*(?P<hidden>suppressed)?\s*:\s*(?P<rules>.+)$")
_SKIPPED_NAMES = {"__pycache__", ".pytest_cache"}

#: Rule families of the issue, in table order.
FAMILIES = (
    "deserialisation",
    "remote code",
    "revisions/http",
    "code execution from model output",
    "servers",
    "secrets",
    "notebooks",
    "serving configs",
    "other",
)

# Python rules (MW300-339) come in blocks of the catalogue, one per family of the issue.
_PYTHON_BLOCKS = (
    (300, 309, "deserialisation"),
    (310, 311, "remote code"),
    (312, 319, "revisions/http"),
    (320, 329, "code execution from model output"),
    (330, 338, "servers"),
)


@dataclass(frozen=True, order=True)
class Expectation:
    """One rule that must fire at one place (``cell`` is None outside notebooks)."""

    path: str
    cell: int | None
    line: int
    rule: str
    suppressed: bool


@dataclass
class FixtureFile:
    """One corpus file: its expectations and the lines marked ``# ok``."""

    path: str
    kind: str
    expectations: list[Expectation]
    ok_lines: set[tuple[int | None, int]]


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _harness() -> ModuleType:
    return _module("mlwarden_fixture_annotations", HARNESS)


def prepare(dest: Path, source: Path = FIXTURES) -> Path:
    """A copy of the fixtures in ``dest`` with credential markers filled in, as the tests do.

    Secret fixtures hold ``@@KIND@@`` markers instead of credential-shaped strings; the tests
    render them with fake values (``tests/code/fake_credentials.py``) before scanning, and so
    does the benchmark, for every tool. Annotations are then read from the rendered copy.
    """
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*_SKIPPED_NAMES, "*.pyc"))
    render = _module("mlwarden_fake_credentials", FAKE_CREDENTIALS).render
    for path in sorted(dest.rglob("*")):
        if not path.is_file() or path.name.endswith(".expect"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "@@" in text:
            path.write_text(render(text), encoding="utf-8")
    return dest


def family_of(rule: str) -> str:
    """The issue's family for a rule id."""
    number = int(rule[2:]) if rule[2:].isdigit() else -1
    if 340 <= number <= 349:
        return "notebooks"
    if 400 <= number <= 429:
        return "secrets"
    if 500 <= number <= 529:
        return "serving configs"
    for low, high, family in _PYTHON_BLOCKS:
        if low <= number <= high:
            return family
    return "other"


def _kind(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "notebook"
    if path.suffix in {".py", ".pyw", ".pyi"}:
        return "python"
    return "config/other"


def _ok_lines(text: str) -> set[int]:
    return {n for n, line in enumerate(text.splitlines(), start=1) if _OK.search(line)}


def _sidecar(path: Path) -> tuple[set[tuple[str, int]], set[tuple[str, int]]] | None:
    side = path.with_name(path.name + ".expect")
    if not side.is_file():
        return None
    active: set[tuple[str, int]] = set()
    hidden: set[tuple[str, int]] = set()
    for raw in side.read_text(encoding="utf-8").splitlines():
        match = _SIDECAR_LINE.match(raw)
        if match is None:
            continue
        rules = [r.strip() for r in match["rules"].split(",") if r.strip()]
        target = hidden if match["hidden"] else active
        target.update((rule, int(match["line"])) for rule in rules)
    return active, hidden


def _read(path: Path, rel: str, harness: ModuleType) -> FixtureFile:
    expectations: list[Expectation] = []
    ok: set[tuple[int | None, int]] = set()
    if path.suffix == ".ipynb":
        document = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(document.get("cells", [])):
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            active, hidden = harness.annotations(text)
            expectations += [Expectation(rel, index, ln, r, False) for r, ln in active]
            expectations += [Expectation(rel, index, ln, r, True) for r, ln in hidden]
            ok |= {(index, ln) for ln in _ok_lines(text)}
    else:
        text = path.read_text(encoding="utf-8", errors="replace")
        pairs = _sidecar(path) or harness.annotations(text)
        expectations += [Expectation(rel, None, ln, r, False) for r, ln in pairs[0]]
        expectations += [Expectation(rel, None, ln, r, True) for r, ln in pairs[1]]
        ok |= {(None, ln) for ln in _ok_lines(text)}
    return FixtureFile(rel, _kind(path), sorted(expectations), ok)


def load(root: Path = FIXTURES) -> list[FixtureFile]:
    """Every fixture file under ``root`` (sidecars and caches left out), sorted by path."""
    harness = _harness()
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.endswith(".expect"):
            continue
        if _SKIPPED_NAMES & set(path.relative_to(root).parts) or path.suffix == ".pyc":
            continue
        files.append(_read(path, path.relative_to(root).as_posix(), harness))
    return files


def file_family(fixture: FixtureFile) -> str:
    """The family a file's stray findings count under: that of most of its expectations."""
    counts = Counter(family_of(e.rule) for e in fixture.expectations)
    if counts:
        return counts.most_common(1)[0][0]
    top = fixture.path.split("/", 1)[0]
    by_folder = {"secrets": "secrets", "notebooks": "notebooks", "serving": "serving configs"}
    return by_folder.get(top, "notebooks" if fixture.kind == "notebook" else "other")

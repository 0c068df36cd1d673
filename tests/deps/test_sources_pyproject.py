"""pyproject.toml, written from PEP 621, PEP 735 and Poetry's pyproject documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.scanners.deps.model import IssueKind, SourceError
from mlwarden.scanners.deps.sources import parse_source
from mlwarden.scanners.deps.sources.poetry_constraint import (
    ConstraintError,
    poetry_to_pep440,
    python_marker,
)

PEP_621 = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "vision-service"
version = "0.3.0"
dynamic = ["optional-dependencies"]
dependencies = [
    "torch==2.1.0",
    "torchvision>=0.16",
    'pillow==10.0.0 ; platform_system != "Windows"',
    "mlflow @ git+https://github.com/example/mlflow.git@v2.8.0",
]

[project.optional-dependencies]
serve = ["fastapi==0.95.0", "uvicorn[standard]>=0.22"]
all = ["vision-service[serve]"]

[dependency-groups]
test = ["pytest==7.4.0", "coverage[toml]>=7"]
lint = ["ruff"]
dev = [{include-group = "test"}, {include-group = "lint"}, "ipython==8.10.0"]
broken = [{include-group = "nope"}]
loop-a = [{include-group = "loop-b"}]
loop-b = [{include-group = "Loop_A"}]
"""


def test_pep621_project_and_pep735_groups(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PEP_621)
    result = parse_source(path, display="pyproject.toml")
    assert result.format == "pyproject"
    deps = {(d.canonical, d.group): d for d in result.dependencies}
    torch = deps["torch", None]
    assert (torch.version, torch.pinned, torch.line) == ("2.1.0", True, 10)
    assert deps["torchvision", None].specifier == ">=0.16"
    assert deps["pillow", None].marker == 'platform_system != "Windows"'
    assert deps["mlflow", None].url == "git+https://github.com/example/mlflow.git@v2.8.0"
    assert deps["fastapi", "serve"].version == "0.95.0"
    assert deps["uvicorn", "serve"].extras == ("standard",)
    # The project naming itself in an extra is not a dependency.
    assert not any(d.canonical == "vision-service" for d in result.dependencies)
    # Each group's own requirements once; included groups are not copied.
    assert deps["pytest", "test"].version == "7.4.0" and deps["pytest", "test"].line == 21
    assert deps["ipython", "dev"].version == "8.10.0"
    assert ("pytest", "dev") not in deps
    kinds = {(i.kind, i.line) for i in result.issues}
    assert (IssueKind.UNVERIFIABLE, 13) in kinds
    assert (IssueKind.DYNAMIC, 8) in kinds
    assert (IssueKind.MISSING_INCLUDE, 24) in kinds
    assert sum(i.kind is IssueKind.INCLUDE_CYCLE for i in result.issues) == 2


POETRY = """\
[tool.poetry]
name = "chatbot"
version = "1.0.0"

[tool.poetry.dependencies]
python = "^3.10"
transformers = "4.30.2"
langchain = "^0.0.200"
numpy = "~1.24"
gradio = { version = ">=3.30,<3.35", extras = ["oauth"] }
tensorflow = [
    { version = "2.12.0", markers = "sys_platform == 'linux'" },
    { version = "2.11.1", python = ">=3.8,<3.11" },
]
ray = { version = "^2.5 || ^1.13", optional = true }
peft = { git = "https://github.com/example/peft.git", tag = "v0.4.0" }
local-lib = { path = "../local-lib", develop = true }
requests = "*"
aiohttp = "==3.8.4"

[tool.poetry.extras]
cluster = ["ray"]

[tool.poetry.group.dev.dependencies]
black = "^23.1"
jupyterlab = "3.6.*"

[tool.poetry.dev-dependencies]
mypy = "0.991"
"""


def test_poetry_tables_and_constraints(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(POETRY)
    result = parse_source(path, display="pyproject.toml")
    deps: dict[str, list[object]] = {}
    for d in result.dependencies:
        deps.setdefault(d.canonical, []).append(d)
    by = {d.canonical: d for d in result.dependencies}
    assert "python" not in by and "chatbot" not in by
    # A bare version is an exact pin in Poetry.
    assert (by["transformers"].version, by["transformers"].line) == ("4.30.2", 7)
    assert by["langchain"].specifier in (">=0.0.200,<0.0.201", "<0.0.201,>=0.0.200")
    assert set(by["numpy"].specifier.split(",")) == {">=1.24", "<1.25"}
    assert by["gradio"].extras == ("oauth",) and not by["gradio"].pinned
    tf = [d for d in result.dependencies if d.canonical == "tensorflow"]
    assert [d.version for d in tf] == ["2.12.0", "2.11.1"]
    assert tf[0].marker == "sys_platform == 'linux'"
    assert tf[1].marker == 'python_version < "3.11" and python_version >= "3.8"'
    # "||" becomes one range per alternative; an optional package keeps its extra as group.
    ray = [d for d in result.dependencies if d.canonical == "ray"]
    assert [set(d.specifier.split(",")) for d in ray] == [{">=2.5", "<3"}, {">=1.13", "<2"}]
    assert {d.group for d in ray} == {"cluster"}
    assert by["peft"].url == "git+https://github.com/example/peft.git@v0.4.0"
    assert by["local-lib"].url == "../local-lib"
    assert by["requests"].specifier == "" and not by["requests"].pinned
    assert by["aiohttp"].version == "3.8.4"
    assert (by["black"].group, by["jupyterlab"].specifier) == ("dev", "==3.6.*")
    assert (by["mypy"].group, by["mypy"].version) == ("dev", "0.991")
    assert {i.line for i in result.issues if i.kind is IssueKind.UNVERIFIABLE} == {16, 17}


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", [">=1.2.3,<2"]),
        ("^1.2", [">=1.2,<2"]),
        ("^0.2.3", [">=0.2.3,<0.3"]),
        ("^0.0.3", [">=0.0.3,<0.0.4"]),
        ("^0.0", [">=0.0,<0.1"]),
        ("^0", [">=0,<1"]),
        ("~1.2.3", [">=1.2.3,<1.3"]),
        ("~1", [">=1,<2"]),
        ("~=1.2", ["~=1.2"]),
        ("1.2.*", ["==1.2.*"]),
        ("*", [""]),
        ("", [""]),
        ("1.2.3", ["==1.2.3"]),
        ("=1.2.3", ["==1.2.3"]),
        (">= 1.2, < 1.5", [">=1.2,<1.5"]),
        (">=1.2 <1.5", [">=1.2,<1.5"]),
        ("^1.0 || ^2.0", [">=1.0,<2", ">=2.0,<3"]),
        ("!=1.5", ["!=1.5"]),
    ],
)
def test_poetry_constraint_syntax(constraint: str, expected: list[str]) -> None:
    assert poetry_to_pep440(constraint) == expected


def test_poetry_constraint_errors_and_python_markers() -> None:
    with pytest.raises(ConstraintError):
        poetry_to_pep440("^banana")
    assert python_marker("*") is None
    assert python_marker("^3.9 || ~3.7") == (
        '(python_version < "4" and python_version >= "3.9") or '
        '(python_version < "3.8" and python_version >= "3.7")'
    )


def test_invalid_constraint_is_an_issue_and_bad_toml_an_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.poetry.dependencies]\nkeras = "^not-a-version"\n')
    result = parse_source(path)
    assert result.dependencies == []
    assert [(i.kind, i.line) for i in result.issues] == [(IssueKind.UNPARSABLE, 2)]
    path.write_text('[project]\ndependencies = ["a"\n')
    with pytest.raises(SourceError, match="malformed TOML"):
        parse_source(path)


def test_poetry2_reads_project_first_and_uv_sources(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "app"\ndependencies = ["torch>=2", "diffusers==0.20.0"]\n'
        '[tool.poetry.dependencies]\ntorch = { source = "pytorch" }\n'
        '[tool.uv]\ndev-dependencies = ["pytest==8.0.0"]\n'
        '[tool.uv.sources]\ndiffusers = { git = "https://github.com/example/diffusers", '
        'rev = "abc123" }\n'
    )
    result = parse_source(path)
    by = {d.canonical: d for d in result.dependencies}
    assert sum(d.canonical == "torch" for d in result.dependencies) == 1
    assert by["diffusers"].url == "git+https://github.com/example/diffusers@abc123"
    assert not by["diffusers"].pinned and by["diffusers"].version is None
    assert (by["pytest"].group, by["pytest"].version) == ("dev", "8.0.0")
    assert [i.kind for i in result.issues] == [IssueKind.UNVERIFIABLE]

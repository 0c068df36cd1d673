"""Requirements files, written from pip's "Requirements File Format", PEP 508 and PEP 440."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.scanners.deps.model import Dependency, IssueKind, SourceResult, SourceTooLarge
from mlwarden.scanners.deps.sources import parse_source
from mlwarden.scanners.deps.sources.requirements_syntax import logical_lines

REQUIREMENTS = """\
# Model serving stack
--index-url https://pypi.org/simple
--extra-index-url https://download.pytorch.org/whl/cu118
-f ./wheels
--trusted-host download.pytorch.org

torch==2.0.1+cu118    # local version label: checked on 2.0.1
transformers[torch,sentencepiece] == 4.30.0 ; python_version >= "3.8"
Pillow===9.0.0
numpy>=1.24,<2 ; sys_platform != "win32"
scikit_learn~=1.3.0
requests==2.31.* # a wildcard is a range, not a pin
Flask
protobuf==3.20.0 \\
    --hash=sha256:aaaa1111 \\
    --hash=sha256:bbbb2222
urllib3 \\
  == 1.26.5
mlflow @ https://example.com/mlflow-2.3.0-py3-none-any.whl
https://example.com/dist/gradio-3.34.0.tar.gz
git+https://github.com/example/llm-tools.git@v1.2#egg=llm-tools
-e git+https://github.com/example/peft.git@main#egg=peft
-e ./local/package
./vendor/onnx-1.13.0-cp311-cp311-linux_x86_64.whl
this is not a requirement
"""


def _by_name(result: SourceResult) -> dict[str, Dependency]:
    return {d.canonical: d for d in result.dependencies}


def test_requirements_file_from_the_pip_format(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(REQUIREMENTS)
    result = parse_source(path, display="proj/requirements.txt")
    assert result.format == "requirements"
    deps = _by_name(result)

    torch = deps["torch"]
    assert (torch.version, torch.pinned, torch.line) == ("2.0.1+cu118", True, 7)
    assert torch.source == torch.origin == "proj/requirements.txt"

    transformers = deps["transformers"]
    assert transformers.version == "4.30.0" and transformers.pinned
    assert transformers.extras == ("sentencepiece", "torch")
    assert transformers.marker == 'python_version >= "3.8"'

    assert deps["pillow"].version == "9.0.0" and deps["pillow"].name == "Pillow"
    numpy = deps["numpy"]
    assert not numpy.pinned and numpy.version is None
    assert set(numpy.specifier.split(",")) == {">=1.24", "<2"}
    assert numpy.marker == 'sys_platform != "win32"'
    assert deps["scikit-learn"].specifier == "~=1.3.0" and not deps["scikit-learn"].pinned
    assert deps["requests"].specifier == "==2.31.*" and not deps["requests"].pinned
    assert deps["flask"].specifier == "" and not deps["flask"].pinned

    protobuf = deps["protobuf"]
    assert protobuf.version == "3.20.0" and protobuf.line == 14
    assert protobuf.hashes == ("sha256:aaaa1111", "sha256:bbbb2222")
    assert deps["urllib3"].version == "1.26.5" and deps["urllib3"].line == 17

    # Direct references: a dependency with its URL, never pinned, and an unverifiable issue.
    for name in ("mlflow", "gradio", "llm-tools", "peft", "onnx"):
        assert deps[name].url is not None and not deps[name].pinned, name
    assert (
        deps["llm-tools"].url == "git+https://github.com/example/llm-tools.git@v1.2#egg=llm-tools"
    )
    unverifiable = {i.line for i in result.issues if i.kind is IssueKind.UNVERIFIABLE}
    assert unverifiable == {19, 20, 21, 22, 23, 24}  # -e ./local/package has no name: issue only
    unparsable = [i for i in result.issues if i.kind is IssueKind.UNPARSABLE]
    assert [i.line for i in unparsable] == [25]
    assert "this is not a requirement" in unparsable[0].message


def test_continuations_and_comments() -> None:
    text = "a==1 \\\n  --hash=sha256:x\n# comment \\\nb==2\nc==3 # trailing\nurl#frag\n"
    assert list(logical_lines(text)) == [
        (1, "a==1   --hash=sha256:x"),
        (4, "b==2"),
        (5, "c==3"),
        (6, "url#frag"),
    ]


def test_includes_are_read_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "requirements.txt").write_text("-r reqs/base.txt\n--requirement=reqs/dev.txt\n")
    (tmp_path / "reqs" / "base.txt").write_text("numpy==1.21.0\n-rcommon.txt\n")
    (tmp_path / "reqs" / "common.txt").write_text("pyyaml==5.3\n")
    (tmp_path / "reqs" / "dev.txt").write_text("pytest>=7\n-r common.txt\n")
    result = parse_source(tmp_path / "requirements.txt", display="requirements.txt")
    deps = _by_name(result)
    # Every package of every included file is there (pip-audit's --no-deps gap).
    assert set(deps) == {"numpy", "pyyaml", "pytest"}
    assert (deps["numpy"].source, deps["numpy"].line) == ("reqs/base.txt", 1)
    assert deps["numpy"].origin == "requirements.txt"
    assert deps["pyyaml"].source == "reqs/common.txt"
    # A file reached twice (diamond) is read once.
    assert sum(d.canonical == "pyyaml" for d in result.dependencies) == 1
    assert result.issues == []


def test_include_cycles_and_missing_includes(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r a.txt\n-r missing.txt\n-c https://x/c.txt\n")
    (tmp_path / "a.txt").write_text("torch==1.13.0\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r requirements.txt\n-r a.txt\nkeras==2.12.0\n")
    result = parse_source(tmp_path / "requirements.txt", display="requirements.txt")
    assert {d.canonical for d in result.dependencies} == {"torch", "keras"}
    issues = {(i.path, i.line, i.kind) for i in result.issues}
    assert ("b.txt", 1, IssueKind.INCLUDE_CYCLE) in issues
    assert ("b.txt", 2, IssueKind.INCLUDE_CYCLE) in issues
    assert ("requirements.txt", 2, IssueKind.MISSING_INCLUDE) in issues
    assert ("requirements.txt", 3, IssueKind.UNVERIFIABLE) in issues


def test_includes_outside_the_root_are_not_read(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "secret.txt").write_text("token==1\n")
    (project / "requirements.txt").write_text("-r ../secret.txt\n")
    result = parse_source(project / "requirements.txt", root=project)
    assert result.dependencies == []
    assert [i.kind for i in result.issues] == [IssueKind.MISSING_INCLUDE]
    assert "token" not in result.issues[0].message


def test_constraints_pin_the_requirements_they_name(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "-c constraints.txt\ntorch>=2.0\ntransformers\nnumpy==1.26.0\n"
    )
    (tmp_path / "constraints.txt").write_text(
        "torch==2.0.1\ntransformers<4.36\nnumpy==1.25.0\nurllib3==1.26.5\n"
    )
    result = parse_source(tmp_path / "requirements.txt", display="requirements.txt")
    deps = {(d.canonical, d.source): d for d in result.dependencies}
    torch = deps["torch", "requirements.txt"]
    assert (torch.version, torch.pinned) == ("2.0.1", True)
    assert torch.constrained_by == "constraints.txt:1"
    transformers = deps["transformers", "requirements.txt"]
    assert transformers.specifier == "<4.36" and not transformers.pinned
    assert transformers.constrained_by == "constraints.txt:2"
    # A pinned requirement is kept as written; the conflicting constraint is reported too.
    assert deps["numpy", "requirements.txt"].version == "1.26.0"
    assert deps["numpy", "constraints.txt"].version == "1.25.0"
    # A constraint on a package no requirement names pins an indirect dependency.
    urllib3 = deps["urllib3", "constraints.txt"]
    assert urllib3.pinned and urllib3.constrained_by == "constraints.txt:4"
    assert ("torch", "constraints.txt") not in deps


def test_every_pin_is_kept_whatever_its_marker(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        'tensorflow==2.11.0 ; sys_platform == "darwin"\n'
        'tensorflow==2.12.0 ; sys_platform != "darwin"\n'
    )
    result = parse_source(path)
    assert [(d.version, d.marker) for d in result.dependencies] == [
        ("2.11.0", 'sys_platform == "darwin"'),
        ("2.12.0", 'sys_platform != "darwin"'),
    ]


def test_unknown_options_and_too_large_files(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("--frobnicate\nrich==13.0 --silly\n")
    result = parse_source(path)
    assert [i.kind for i in result.issues] == [IssueKind.UNPARSABLE] * 2
    with pytest.raises(SourceTooLarge):
        parse_source(path, "x" * (33 * 1024 * 1024), format="requirements")


def test_direct_reference_without_spaces_keeps_its_name(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("accelerate@https://example.com/other-0.1.tar.gz\n")
    [dep] = parse_source(path).dependencies
    assert (dep.canonical, dep.url) == ("accelerate", "https://example.com/other-0.1.tar.gz")

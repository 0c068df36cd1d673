"""Conda environment.yml, written from conda's environment file and match spec docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.scanners.deps.model import IssueKind, SourceError
from mlwarden.scanners.deps.sources import parse_source
from mlwarden.scanners.deps.sources.conda import conda_specifier, pypi_name

ENVIRONMENT = """\
name: llm-training
channels:
  - pytorch
  - nvidia
  - conda-forge
dependencies:
  - python=3.10
  - pytorch::pytorch=2.0.1=py3.10_cuda11.8_cudnn8.7.0_0
  - pytorch-cuda=11.8
  - cudatoolkit=11.8.0
  - libstdcxx-ng>=12
  - openssl=3.0.8
  - numpy==1.24.3
  - conda-forge::transformers>=4.30,<4.36
  - scipy 1.11.4 py310hb13e2d6_0
  - py-xgboost=1.7
  - pyyaml
  - tensorflow-base=2.12.0=cpu_py310h1e6d0d3_0
  - pip
  - pip:
      - -r requirements/pip.txt
      - accelerate==0.20.3  # fine-tuning
      - git+https://github.com/example/trl.git#egg=trl
      - "bitsandbytes>=0.39"
"""


def test_conda_environment_and_its_pip_section(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "pip.txt").write_text("gradio==3.34.0\n")
    path = tmp_path / "environment.yml"
    path.write_text(ENVIRONMENT)
    result = parse_source(path, display="environment.yml")
    assert result.format == "conda-environment"
    by = {d.canonical: d for d in result.dependencies}
    # The interpreter, CUDA, C/C++ libraries and openssl (not PyPI's pyOpenSSL) are skipped.
    for skipped in ("python", "pytorch-cuda", "cudatoolkit", "libstdcxx-ng", "openssl"):
        assert skipped not in by
    assert "pyopenssl" not in by
    # Renamed packages are checked under their PyPI names; "=V=build" is an exact pin.
    torch = by["torch"]
    assert (torch.name, torch.version, torch.pinned, torch.line) == ("pytorch", "2.0.1", True, 8)
    assert by["tensorflow"].version == "2.12.0"
    # "=1.7" is fuzzy in conda: 1.7.*, not a pin.
    assert (by["xgboost"].specifier, by["xgboost"].pinned) == ("==1.7.*", False)
    assert by["numpy"].version == "1.24.3"
    assert set(by["transformers"].specifier.split(",")) == {">=4.30", "<4.36"}
    assert by["scipy"].version == "1.11.4"
    assert by["pyyaml"].specifier == "" and not by["pyyaml"].pinned
    assert by["pip"].specifier == ""
    # The pip section: requirements syntax, -r relative to the environment file.
    assert (by["accelerate"].version, by["accelerate"].line) == ("0.20.3", 22)
    assert by["accelerate"].source == "environment.yml"
    assert (by["gradio"].version, by["gradio"].source) == ("3.34.0", "requirements/pip.txt")
    assert by["bitsandbytes"].specifier == ">=0.39"
    assert by["trl"].url is not None
    assert [(i.kind, i.line) for i in result.issues] == [(IssueKind.UNVERIFIABLE, 23)]


@pytest.mark.parametrize(
    ("rest", "specifier", "version"),
    [
        ("", "", None),
        ("=1.2", "==1.2.*", None),
        ("=1.2.3", "==1.2.3.*", None),
        ("=1.2.*", "==1.2.*", None),
        ("=1.2.3=py311h64a7726_0", "==1.2.3", "1.2.3"),
        ("==1.2.3", "==1.2.3", "1.2.3"),
        ("==1.2.3=h123", "==1.2.3", "1.2.3"),
        (">=2.0", ">=2.0", None),
        (" 1.11.4 py310_0", "==1.11.4", "1.11.4"),
        (" 1.11.*", "==1.11.*", None),
        (" >=1.0,<2", "<2,>=1.0", None),
    ],
)
def test_conda_version_semantics(rest: str, specifier: str, version: str | None) -> None:
    assert conda_specifier(rest) == (specifier, version)


def test_conda_name_mapping() -> None:
    assert pypi_name("pytorch") == "torch"
    assert pypi_name("py-xgboost") == "xgboost"
    assert pypi_name("tensorflow-gpu") == "tensorflow-gpu"  # its own PyPI project
    assert pypi_name("PyYAML") == "PyYAML"
    assert pypi_name("librosa") == "librosa"
    for skipped in (
        "python",
        "mkl",
        "libgcc-ng",
        "_openmp_mutex",
        "r-base",
        "cuda-nvcc",
        "openssl",
        "arrow-cpp",
    ):
        assert pypi_name(skipped) is None, skipped


def test_unreadable_versions_and_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "environment.yaml"
    path.write_text("dependencies:\n  - keras=2.10|2.11\n  - {other: thing}\n")
    result = parse_source(path)
    [keras] = result.dependencies
    assert keras.specifier == "" and not keras.pinned  # read as any version, and said so
    assert [(i.kind, i.line) for i in result.issues] == [
        (IssueKind.UNPARSABLE, 2),
        (IssueKind.UNPARSABLE, 3),
    ]
    path.write_text("dependencies: [\n  - a: b\n")
    with pytest.raises(SourceError, match="malformed YAML"):
        parse_source(path, format="conda-environment")


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "environment.yml"
    path.write_text(
        "dependencies:\n"
        f"  - !!python/object/apply:os.system ['touch {marker}']\n"
        "  - numpy=1.26.4=py311h_0\n"
    )
    result = parse_source(path)
    assert not marker.exists()
    assert [d.canonical for d in result.dependencies] == ["numpy"]

"""Conda ``environment.yml``: conda packages and the ``pip:`` section.

The ``dependencies`` list holds conda match specs (``numpy=1.26.4=py311h...``,
``conda-forge::pytorch>=2.0``, ``scipy 1.11.4``) and at most one ``pip:`` list in requirements
file syntax, whose ``-r`` includes are relative to the environment file.

Conda version semantics differ from pip's: ``name=1.2`` is fuzzy (any ``1.2.*``, not a pin),
while ``name==1.2.3``, ``name=1.2.3=build`` and ``name 1.2.3 build`` are exact pins. A conda
package is checked against PyPI advisories under its PyPI name: :data:`CONDA_TO_PYPI` lists
the common renames; packages that are not Python distributions (the interpreter, compilers,
C/C++ and CUDA libraries, command-line tools) are skipped (see :func:`pypi_name`).

The YAML is composed into nodes (never constructed into objects, no tags honoured) to keep
line numbers; nothing in it is run.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from mlwarden.scanners.deps.model import (
    Dependency,
    IssueKind,
    SourceError,
    SourceIssue,
    SourceResult,
)
from mlwarden.scanners.deps.sources.pep508 import pinned_version, quote, read_source
from mlwarden.scanners.deps.sources.requirements import parse_requirement_lines

FORMAT = "conda-environment"

#: Conda packages whose PyPI distribution has another name.
CONDA_TO_PYPI: dict[str, str] = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "tensorflow-base": "tensorflow",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "py-xgboost-gpu": "xgboost",
    "py-lightgbm": "lightgbm",
    "py-opencv": "opencv-python",
    "matplotlib-base": "matplotlib",
    "numpy-base": "numpy",
    "msgpack-python": "msgpack",
    "python-graphviz": "graphviz",
    "python-kaleido": "kaleido",
}

#: Conda packages that are not Python distributions, or whose PyPI namesake is a different
#: project (conda's ``openssl`` is the C library, not PyPI's pyOpenSSL; its ``graphviz`` is
#: the tool, not the Python binding; ``zstd`` and ``snappy`` are C libraries).
NOT_ON_PYPI: frozenset[str] = frozenset(
    {
        "python",
        "cudatoolkit",
        "cudnn",
        "nccl",
        "pytorch-cuda",
        "cuda",
        "mkl",
        "mkl-service",
        "intel-openmp",
        "openssl",
        "ca-certificates",
        "zlib",
        "xz",
        "bzip2",
        "tk",
        "sqlite",
        "readline",
        "ncurses",
        "openblas",
        "blas",
        "gcc",
        "gxx",
        "gfortran",
        "compilers",
        "c-compiler",
        "cxx-compiler",
        "fortran-compiler",
        "make",
        "cmake",
        "ninja",
        "git",
        "nodejs",
        "ffmpeg",
        "graphviz",
        "magma",
        "tbb",
        "hdf5",
        "jpeg",
        "freetype",
        "icu",
        "expat",
        "krb5",
        "zstd",
        "lz4-c",
        "snappy",
        "openjdk",
        "pandoc",
        "poppler",
        "gettext",
        "tzdata",
        "ld_impl_linux-64",
        "openmp",
        "llvm-openmp",
        "gmp",
        "mpfr",
    }
)
_SKIP_PREFIXES = ("lib", "_", "r-", "cuda-", "cudatoolkit", "ocl-", "pytorch-mutex")
_SKIP_SUFFIXES = ("-ng", "-cpp", "-devel", "_linux-64", "-mutex", "-compiler")
#: Python packages whose names start like a library's.
_PYTHON_DESPITE_PREFIX = frozenset({"librosa", "libcst"})

_NAME = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*)(.*)$", re.DOTALL)
_BRACKET_VERSION = re.compile(r"""\[.*?version\s*=\s*['"]?([^'",\]]+)['"]?.*?\]""")


def pypi_name(conda_name: str) -> str | None:
    """The PyPI distribution a conda package is, or ``None`` when it is not one."""
    name = conda_name.lower()
    if name in CONDA_TO_PYPI:
        return CONDA_TO_PYPI[name]
    if name in NOT_ON_PYPI:
        return None
    if name not in _PYTHON_DESPITE_PREFIX and (
        name.startswith(_SKIP_PREFIXES) or name.endswith(_SKIP_SUFFIXES)
    ):
        return None
    return conda_name


def conda_specifier(rest: str) -> tuple[str, str | None]:
    """The PEP 440 specifier and exact version (if pinned) of a match spec's version part.

    ``rest`` is what follows the package name: ``=1.2``, ``=1.2.3=build``, ``==1.2.3``,
    ``>=1.0,<2``, `` 1.2.3 build`` or empty. Raises ``ValueError`` when it cannot be read.
    """
    rest = rest.strip()
    if not rest:
        return "", None
    build: str | None = None
    if rest.startswith("==") or rest[0] in "<>!~":
        version = rest
        exact = rest.startswith("==")
        if exact and "=" in rest[2:]:
            version, build = "==" + rest[2:].split("=", 1)[0], rest[2:].split("=", 1)[1]
    elif rest.startswith("="):
        parts = rest[1:].split("=", 1)
        version = parts[0]
        build = parts[1] if len(parts) > 1 else None
        # "=1.2" is fuzzy; "=1.2.3=build" names one exact build.
        version = f"=={version}" if build is not None else _fuzzy(version)
    else:
        tokens = rest.split()
        version = tokens[0]
        build = tokens[1] if len(tokens) > 1 else None
        if version[0] not in "<>=!~":
            version = _fuzzy(version) if "*" in version else f"=={version}"
    if "|" in version:
        raise ValueError(f"{version!r} has alternatives ('|'), read as any version")
    specifier = SpecifierSet(version.replace(" ", ""))
    return str(specifier), pinned_version(specifier)


def _fuzzy(version: str) -> str:
    version = version.rstrip("*").rstrip(".")
    return f"=={version}.*" if version else ""


def parse_conda_environment(
    path: Path, text: str | None = None, *, display: str | None = None, root: Path | None = None
) -> SourceResult:
    """Read the conda packages and the ``pip:`` requirements of an ``environment.yml``."""
    import yaml

    shown = display if display is not None else str(path)
    content = read_source(path, text, shown)
    try:
        document = yaml.compose(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise SourceError(shown, f"malformed YAML: {quote(str(exc))}") from exc
    result = SourceResult(FORMAT)
    dependencies = _mapping_value(document, "dependencies")
    if dependencies is None or not isinstance(dependencies, yaml.SequenceNode):
        return result
    for item in dependencies.value:
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            _conda_entry(result, shown, line, str(item.value))
            continue
        pip = _mapping_value(item, "pip")
        if pip is None or not isinstance(pip, yaml.SequenceNode):
            result.issues.append(
                SourceIssue(
                    shown,
                    line,
                    "an entry that is neither a conda package nor a pip list",
                    IssueKind.UNPARSABLE,
                )
            )
            continue
        lines = [
            (n.start_mark.line + 1, str(n.value))
            for n in pip.value
            if isinstance(n, yaml.ScalarNode)
        ]
        pip_result = parse_requirement_lines(
            lines, base=path.parent, display=shown, format=FORMAT, root=root
        )
        result.dependencies.extend(pip_result.dependencies)
        result.issues.extend(pip_result.issues)
    return result


def _mapping_value(node: Any, key: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for name, value in node.value:
        if isinstance(name, yaml.ScalarNode) and name.value == key:
            return value
    return None


def _conda_entry(result: SourceResult, shown: str, line: int, spec: str) -> None:
    text = spec.strip()
    if "::" in text:
        text = text.split("::", 1)[1]  # channel (and subdir) prefix
    bracket = _BRACKET_VERSION.search(text)
    text = _BRACKET_VERSION.sub("", text)
    match = _NAME.match(text)
    if match is None:
        result.issues.append(
            SourceIssue(
                shown, line, f"not a conda package spec: {quote(spec)}", IssueKind.UNPARSABLE
            )
        )
        return
    name, rest = match.group(1), match.group(2)
    if bracket and not rest.strip():
        rest = bracket.group(1) if bracket.group(1)[0] in "<>=!~" else "==" + bracket.group(1)
    pypi = pypi_name(name)
    if pypi is None:
        return
    try:
        specifier, version = conda_specifier(rest)
    except (ValueError, InvalidSpecifier) as exc:
        result.issues.append(
            SourceIssue(
                shown,
                line,
                f"{name}: version of {quote(spec)} cannot be read ({quote(str(exc))})",
                IssueKind.UNPARSABLE,
            )
        )
        specifier, version = "", None
    dependency = Dependency.create(
        name, source=shown, line=line, version=version, specifier=specifier
    )
    result.dependencies.append(replace(dependency, canonical=canonicalize_name(pypi)))

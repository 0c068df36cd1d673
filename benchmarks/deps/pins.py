"""The 500-pin project the dependency benchmark scans, made from the advisory database itself.

Package names and versions are real: they are read from the shared OSV records (versions
lists and range events), so the pins name releases that exist. Each package gets one version:
most get a version the records name as affected (a listed version, an ``introduced`` or a
``last_affected`` event), the rest the newest ``fixed`` event (usually clean, unless a later
advisory reopens it). A fixed seed makes the same pins on every run over the same records.

The same pins are written three ways: ``requirements.txt``, ``uv.lock`` and ``poetry.lock``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from naive_matcher import as_version, load_records
from packaging.utils import canonicalize_name

SEED = 20261128
COUNT = 500
#: Share of packages pinned at the newest fixed version rather than an affected one.
FIXED_SHARE = 0.4
#: ML packages pinned whenever the database has them: the projects the issue is about.
ML_PACKAGES = (
    "torch",
    "transformers",
    "tensorflow",
    "keras",
    "mlflow",
    "ray",
    "gradio",
    "langchain",
    "langchain-community",
    "jupyter-server",
    "notebook",
    "jupyterlab",
    "torchserve",
    "pillow",
    "numpy",
    "scikit-learn",
    "onnx",
    "safetensors",
    "huggingface-hub",
    "datasets",
    "vllm",
    "llama-index",
    "streamlit",
    "bentoml",
    "aiohttp",
    "requests",
    "urllib3",
    "jinja2",
    "werkzeug",
    "flask",
)


@dataclass(frozen=True)
class Pin:
    """One pinned package: canonical name, the name as a record writes it, and a version."""

    canonical: str
    name: str
    version: str


@dataclass
class _Candidates:
    name: str
    affected: set[str]
    fixed: set[str]


def _usable(text: str) -> bool:
    # Valid PEP 440 and no local label: a release an index could serve under this spelling.
    version = as_version(text)
    return version is not None and version.local is None and text.strip() == text


def collect(root: Path) -> dict[str, _Candidates]:
    """Per canonical package name, the versions its (not withdrawn) records name."""
    found: dict[str, _Candidates] = {}
    for record in load_records(root):
        if record.get("withdrawn"):
            continue
        for entry in record.get("affected") or []:
            package = entry.get("package") or {}
            if package.get("ecosystem") != "PyPI" or not package.get("name"):
                continue
            name = str(package["name"]).strip()
            slot = found.setdefault(canonicalize_name(name), _Candidates(name, set(), set()))
            slot.affected.update(str(v) for v in entry.get("versions") or [])
            for rng in entry.get("ranges") or []:
                for event in rng.get("events") or []:
                    for kind, raw in event.items():
                        target = slot.fixed if kind == "fixed" else slot.affected
                        if kind in ("introduced", "fixed", "last_affected"):
                            target.add(str(raw))
    for slot in found.values():
        slot.affected = {v for v in slot.affected if _usable(v) and v != "0"}
        slot.fixed = {v for v in slot.fixed if _usable(v)}
    return {k: v for k, v in found.items() if v.affected or v.fixed}


def choose(candidates: dict[str, _Candidates], count: int = COUNT, seed: int = SEED) -> list[Pin]:
    """``count`` pins: the ML packages present, then a seeded sample of the others."""
    rng = random.Random(seed)
    names = sorted(candidates)
    chosen = [n for n in ML_PACKAGES if n in candidates][:count]
    rest = [n for n in names if n not in chosen]
    chosen += rng.sample(rest, min(count - len(chosen), len(rest)))
    pins = []
    for canonical in sorted(chosen):
        slot = candidates[canonical]
        affected = sorted(slot.affected, key=_order)
        if slot.fixed and (not affected or rng.random() < FIXED_SHARE):
            version = max(slot.fixed, key=_order)
        else:
            version = rng.choice(affected)
        pins.append(Pin(canonical, slot.name, version))
    return pins


def _order(text: str) -> tuple[object, str]:
    return (as_version(text), text)


def write_requirements(pins: list[Pin], path: Path) -> None:
    """``name==version`` lines, as ``pip freeze`` would write them."""
    lines = ["# 500 pins made by benchmarks/deps/pins.py from the shared advisory database"]
    lines += [f"{pin.name}=={pin.version}" for pin in pins]
    path.write_text("\n".join(lines) + "\n")


def write_uv_lock(pins: list[Pin], path: Path) -> None:
    """A ``uv.lock`` (lock version 1) with one registry package per pin."""
    parts = ['version = 1\nrequires-python = ">=3.9"\n']
    parts.extend(
        f'\n[[package]]\nname = "{pin.canonical}"\nversion = "{pin.version}"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        for pin in pins
    )
    path.write_text("".join(parts))


def write_poetry_lock(pins: list[Pin], path: Path) -> None:
    """A ``poetry.lock`` (lock version 2.0) with one package table per pin."""
    parts = [
        "# This file is automatically @generated by Poetry 1.8.3 and should not be changed "
        "by hand.\n"
    ]
    parts.extend(
        f'\n[[package]]\nname = "{pin.canonical}"\nversion = "{pin.version}"\n'
        'description = ""\noptional = false\npython-versions = "*"\nfiles = []\n'
        for pin in pins
    )
    parts.append('\n[metadata]\nlock-version = "2.0"\npython-versions = "^3.9"\n')
    parts.append(f'content-hash = "{"0" * 64}"\n')
    path.write_text("".join(parts))


def generate(root: Path, directory: Path) -> list[Pin]:
    """Write the three files of the same pins into ``directory``; return the pins."""
    pins = choose(collect(root))
    directory.mkdir(parents=True, exist_ok=True)
    write_requirements(pins, directory / "requirements.txt")
    write_uv_lock(pins, directory / "uv.lock")
    write_poetry_lock(pins, directory / "poetry.lock")
    return pins

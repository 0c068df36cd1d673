"""Which pickle globals are safe, which are known to be dangerous, and why.

This module is public data: the pickle scanner classifies every import it finds with
:func:`classify_global`, and the restricted unpickler (``mlwarden.safe_load``) admits only what
:func:`is_allowed` accepts. The names below are a stable interface:

- :data:`ALLOWED_GLOBALS` maps ``"module.name"`` to the reason it is safe to import and call
  while loading (it builds plain data and reaches no file, process, network or importer).
- :data:`ALLOWED_CLASS_PREFIXES` maps a module prefix to the reason its *classes* are safe.
  Only names that look like classes (CapWords, no dots) match, so a prefix never admits the
  functions of a package.
- :data:`DANGEROUS_GLOBALS` maps an exact ``"module.name"`` to a :class:`Reference`.
- :data:`DANGEROUS_MODULES` maps a module (and all its sub-modules) whose every attribute is
  treated as dangerous to a :class:`Reference`.
- :data:`DANGEROUS_NAMES` lists bare callable names that are dangerous whatever module exposes
  them (re-exports such as ``some_package.os.system`` end up here too).

Entries are facts about the Python standard library and common ML libraries; references point
to the weakness (CWE-502) and to published scanner bypasses that used the entry.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from mlwarden.scanners.models.pickle.allowlist import ALLOWED_CLASS_PREFIXES, ALLOWED_GLOBALS
from mlwarden.scanners.models.pickle.denylist import (
    CWE_502,
    DANGEROUS_GLOBALS,
    DANGEROUS_MODULES,
    DANGEROUS_NAMES,
    Reference,
)

__all__ = [
    "ALLOWED_CLASS_PREFIXES",
    "ALLOWED_GLOBALS",
    "CWE_502",
    "DANGEROUS_GLOBALS",
    "DANGEROUS_MODULES",
    "DANGEROUS_NAMES",
    "MODULE_ALIASES",
    "GlobalVerdict",
    "Reference",
    "Verdict",
    "classify_global",
    "is_allowed",
    "normalise_module",
]


class Verdict(enum.StrEnum):
    """How a global is classified."""

    ALLOWED = "allowed"
    DANGEROUS = "dangerous"
    UNKNOWN = "unknown"


class GlobalVerdict(NamedTuple):
    """The classification of one ``module.name`` global.

    ``qualified`` is the normalised dotted path; ``matched`` is the policy entry that decided
    (empty for unknown globals); ``reason`` says why, ``references`` where to read more.
    """

    verdict: Verdict
    qualified: str
    reason: str
    references: tuple[str, ...] = ()
    matched: str = ""


#: Class-like names; ``__pyx_unpickle_<Class>`` is the restorer Cython generates for an
#: extension class (it checks a layout checksum and sets fields), so it counts as the class.
_CLASS_NAME = re.compile(r"(?:__pyx_unpickle_)?_{0,2}[A-Z][A-Za-z0-9_]*")

#: Module names as a loader sees them after Python 2 compatibility renames.
MODULE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "__builtin__": "builtins",
        "__builtins__": "builtins",
        "exceptions": "builtins",
        "_operator": "operator",
        "_functools": "functools",
        "_collections": "collections",
        "_codecs_": "_codecs",
        "posixpath": "os.path",
        "ntpath": "os.path",
        "genericpath": "os.path",
        "copy_reg": "copyreg",
        "_pathlib": "pathlib",
        "cPickle": "pickle",
        "_io": "io",
        "_bz2": "bz2",
        "_thread": "threading",
        "thread": "threading",
        "_pydoc": "pydoc",
        "importlib._bootstrap": "importlib",
        "importlib._bootstrap_external": "importlib",
        "urllib.request": "urllib",
        "numpy.core._multiarray_umath": "numpy.core.multiarray",
    }
)


def normalise_module(module: str) -> str:
    """The module name with Python 2 and private-alias renames applied (``__builtin__``)."""
    module = module.strip()
    alias = MODULE_ALIASES.get(module)
    if alias is not None:
        return alias
    head, _, rest = module.partition(".")
    alias = MODULE_ALIASES.get(head)
    return f"{alias}.{rest}" if alias and rest else module


#: Module families also matched inside a longer path (``pkg.os.system`` is ``os.system``
#: re-exported). Short generic names (``io``, ``code``, ``trace``) are matched only as the
#: leading module, since packages legitimately have sub-modules called that.
_REEXPORTED_MODULES = frozenset(
    {"os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "runpy", "importlib",
     "pickle", "_pickle", "marshal", "ctypes", "pip", "builtins", "webbrowser", "_posixsubprocess"}
)  # fmt: skip


def _dangerous_match(parts: list[str]) -> tuple[str, Reference] | None:
    # Contiguous runs of the dotted path are checked, so that re-exports such as
    # ``torch.serialization.os.system`` or qualified names such as ``Path.write_text`` cannot
    # hide an entry. Longest runs first: the most specific entry gives the reason.
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            dotted = ".".join(parts[start:end])
            ref = DANGEROUS_GLOBALS.get(dotted)
            if ref is None and (start == 0 or dotted in _REEXPORTED_MODULES):
                ref = DANGEROUS_MODULES.get(dotted)
            if ref is not None:
                return dotted, ref
    for part in parts[1:]:
        ref = DANGEROUS_NAMES.get(part)
        if ref is not None:
            return part, ref
    return None


@functools.lru_cache(maxsize=4096)  # checkpoints import the same few globals again and again
def classify_global(module: str, name: str) -> GlobalVerdict:
    """Classify the global ``module.name`` that a pickle imports.

    Order: an exact allowlist entry wins; then the denylist is matched on the full dotted
    path, every contiguous part of it and the last name; then allowed class prefixes; anything
    else is unknown. ``name`` may itself be dotted (protocol 4 qualified names).
    """
    module = normalise_module(module)
    qualified = f"{module}.{name}" if name else module
    reason = ALLOWED_GLOBALS.get(qualified)
    if reason is not None:
        return GlobalVerdict(Verdict.ALLOWED, qualified, reason, (), qualified)
    parts = [p for p in qualified.split(".") if p]
    hit = _dangerous_match(parts)
    if hit is not None:
        matched, ref = hit
        return GlobalVerdict(Verdict.DANGEROUS, qualified, ref.why, ref.references, matched)
    if _CLASS_NAME.fullmatch(name):
        for prefix, why in ALLOWED_CLASS_PREFIXES.items():
            if module.startswith(prefix) or f"{module}.".startswith(prefix):
                return GlobalVerdict(Verdict.ALLOWED, qualified, why, (), prefix)
    return GlobalVerdict(Verdict.UNKNOWN, qualified, "not on the allowlist", (CWE_502,))


def is_allowed(module: str, name: str) -> bool:
    """Whether a restricted unpickler may resolve ``module.name``."""
    return classify_global(module, name).verdict is Verdict.ALLOWED

"""The public allowlist and denylist, as a restricted loader will use them."""

from __future__ import annotations

import pytest

from mlwarden.scanners.models.pickle.policy import (
    ALLOWED_CLASS_PREFIXES,
    ALLOWED_GLOBALS,
    CWE_502,
    DANGEROUS_GLOBALS,
    DANGEROUS_MODULES,
    Verdict,
    classify_global,
    is_allowed,
)


def test_every_allowed_entry_has_a_reason() -> None:
    assert all(reason.strip() for reason in ALLOWED_GLOBALS.values())
    assert all(reason.strip() for reason in ALLOWED_CLASS_PREFIXES.values())


def test_every_dangerous_entry_has_references() -> None:
    for table in (DANGEROUS_GLOBALS, DANGEROUS_MODULES):
        for entry, ref in table.items():
            assert ref.why and CWE_502 in ref.references, entry


def test_allow_and_deny_do_not_overlap() -> None:
    for qualified in ALLOWED_GLOBALS:
        module, _, name = qualified.rpartition(".")
        assert classify_global(module, name).verdict is Verdict.ALLOWED, qualified


@pytest.mark.parametrize(
    ("module", "name", "verdict"),
    [
        ("torch._utils", "_rebuild_tensor_v2", Verdict.ALLOWED),
        ("collections", "OrderedDict", Verdict.ALLOWED),
        ("sklearn.ensemble._forest", "RandomForestClassifier", Verdict.ALLOWED),
        ("sklearn.utils", "resample", Verdict.UNKNOWN),  # a function under an allowed prefix
        ("sklearn.ensemble._forest", "os.system", Verdict.DANGEROUS),
        ("__builtin__", "set", Verdict.ALLOWED),
        ("__builtin__", "eval", Verdict.DANGEROUS),
        ("posixpath", "join", Verdict.DANGEROUS),
        ("pathlib", "PosixPath", Verdict.ALLOWED),
        ("pathlib", "PosixPath.unlink", Verdict.DANGEROUS),
        ("scipy.io", "loadmat", Verdict.UNKNOWN),
        ("mypackage", "Thing", Verdict.UNKNOWN),
    ],
)
def test_classify_global(module: str, name: str, verdict: Verdict) -> None:
    assert classify_global(module, name).verdict is verdict
    assert is_allowed(module, name) is (verdict is Verdict.ALLOWED)

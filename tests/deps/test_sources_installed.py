"""An installed environment: core metadata (dist-info, egg-info) on an interpreter's sys.path."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

from mlwarden.scanners.deps.model import EnvironmentProbeError, IssueKind
from mlwarden.scanners.deps.sources import installed_environment


def _dist_info(
    site: Path, name: str, version: str, direct_url: dict[str, object] | None = None
) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\n"
        "Name: not-a-header\nVersion: 9.9.9\n"
    )
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def _fake_python(tmp_path: Path, paths: list[str]) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho '{json.dumps(paths)}'\n")
    script.chmod(0o755)
    return str(script)


def test_installed_distributions_first_on_sys_path_wins(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist_info(first, "torch", "1.13.0")
    _dist_info(second, "torch", "2.1.0")  # shadowed, as an import would be
    _dist_info(second, "Pillow", "9.0.0")
    _dist_info(
        second,
        "peft",
        "0.5.0",
        {
            "url": "https://github.com/huggingface/peft.git",
            "vcs_info": {"vcs": "git", "commit_id": "abc123"},
        },
    )
    _dist_info(
        second, "wheel-from-url", "1.0", {"url": "https://example.com/w.whl", "archive_info": {}}
    )
    egg = second / "legacy_pkg.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy-pkg\nVersion: 0.1\n")
    (second / "old_single.egg-info").write_text("Name: old-single\nVersion: 0.2\n")
    python = _fake_python(tmp_path, ["", str(first), str(tmp_path / "missing"), str(second)])

    result = installed_environment(python)
    assert result.format == "installed"
    by = {d.canonical: d for d in result.dependencies}
    assert set(by) == {"torch", "pillow", "peft", "wheel-from-url", "legacy-pkg", "old-single"}
    assert by["torch"].version == "1.13.0" and by["torch"].pinned
    assert by["torch"].source.endswith("first/torch-1.13.0.dist-info/METADATA")
    assert by["pillow"].name == "Pillow"
    assert by["peft"].url == "git+https://github.com/huggingface/peft.git@abc123"
    assert not by["peft"].pinned
    assert by["wheel-from-url"].version == "1.0"
    assert (by["legacy-pkg"].version, by["old-single"].version) == ("0.1", "0.2")
    assert [i.kind for i in result.issues] == [IssueKind.UNVERIFIABLE]


def test_the_real_interpreter() -> None:
    result = installed_environment(sys.executable)
    by = {d.canonical: d for d in result.dependencies}
    assert by["packaging"].version == installed_version("packaging")


def test_an_interpreter_that_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProbeError, match="cannot run"):
        installed_environment(str(tmp_path / "no-such-python"))
    failing = tmp_path / "python"
    failing.write_text("#!/bin/sh\necho 'boom' >&2\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(EnvironmentProbeError, match="status 3: boom"):
        installed_environment(str(failing))
    failing.write_text("#!/bin/sh\necho 'not json'\n")
    with pytest.raises(EnvironmentProbeError, match="did not print"):
        installed_environment(str(failing))

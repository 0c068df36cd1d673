"""Scanning never runs a payload: each would create the marker file if it ran."""

from __future__ import annotations

import builtins
import os
import pickle
import subprocess
from pathlib import Path

import pytest

from mlwarden.engine import scan_bytes, scan_file


def payloads(marker: Path) -> dict[str, object]:
    class ViaSystem:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return os.system, (f"touch {marker}",)

    class ViaExec:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return builtins.exec, (f"open({str(marker)!r}, 'w').close()",)

    class ViaSubprocess:
        def __reduce__(self) -> tuple[object, tuple[list[str]]]:
            return subprocess.call, (["touch", str(marker)],)

    return {"system": ViaSystem(), "exec": ViaExec(), "subprocess": ViaSubprocess()}


@pytest.mark.parametrize("kind", ["system", "exec", "subprocess"])
@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_payload_never_runs(kind: str, protocol: int, marker: Path, tmp_path: Path) -> None:
    data = pickle.dumps(payloads(marker)[kind], protocol=protocol)
    assert "MW100" in {f.rule for f in scan_bytes(data, "payload.pkl")}
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    assert "MW100" in {f.rule for f in scan_file(str(path), path).findings}
    assert not marker.exists()

"""How much code a tree holds: the unit the code benchmark's speeds are given in."""

from __future__ import annotations

from pathlib import Path


def python_lines(tree: Path) -> dict[str, int]:
    """Files, lines and bytes of Python source (``*.py``) under ``tree``: the speed unit."""
    files = lines = size = 0
    for path in tree.rglob("*.py"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        files += 1
        size += len(data)
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return {"files": files, "lines": lines, "bytes": size}


def all_files(tree: Path) -> dict[str, int]:
    """Every regular file under ``tree`` (what a scanner that reads everything walks)."""
    files = size = 0
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            size += path.stat().st_size
    return {"files": files, "bytes": size}

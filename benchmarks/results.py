"""What every benchmark section shares: the machine it was measured on, and its place in
``RESULTS.md``, where each benchmark owns the text between its two markers."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> dict[str, Any]:
    """Processor model, cores, memory, Python and platform of this machine."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_section(block: str, start: str, end: str, path: Path = RESULTS) -> None:
    """Put ``block`` (which begins with ``start`` and ends with ``end``) in place of the text
    between the markers in ``path``, or append it; the rest of the file is left alone.

    The file is read right before it is written, so sections written one after another by
    different benchmarks all stay.
    """
    block = block.rstrip("\n") + "\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    first, last = text.find(start), text.find(end)
    if first != -1 and last > first:
        text = text[:first] + block + text[last + len(end) :].removeprefix("\n")
    else:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + block
    path.write_text(text, encoding="utf-8")

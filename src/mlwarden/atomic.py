"""Atomic writes: readers see the old file or the new one, never a part of it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def usual_mode() -> int:
    """The mode a newly created file gets here (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_output(path: Path, mode: int | None = None, suffix: str = ".part") -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it only if the block succeeds.

    The file gets ``mode``, by default the usual mode of a new file (temporary files are
    created private, which a report or a converted model should not stay). On any failure the
    temporary file is removed and ``path`` is left as it was. A symbolic link at ``path`` is
    replaced, never followed.
    """
    final = path.absolute() if path.is_symlink() else path.resolve()
    descriptor, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=suffix, dir=final.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, usual_mode() if mode is None else mode)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")

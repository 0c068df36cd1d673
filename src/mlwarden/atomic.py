"""Atomic writes: readers see the old file or the new one, never a part of it."""

from __future__ import annotations

import os
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
    temporary = _new_private_file(final.parent, f".{final.name}.", suffix)
    try:
        yield temporary
        os.chmod(temporary, usual_mode() if mode is None else mode)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _new_private_file(directory: Path, prefix: str, suffix: str) -> Path:
    """Create an empty file of an unguessable name in ``directory``, readable by its owner only.

    What :func:`tempfile.mkstemp` does, without the modules it loads (``random``, ``shutil``
    and the compressors), which every ``mlwarden`` run would otherwise pay for at start-up.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        candidate = directory / f"{prefix}{os.urandom(6).hex()}{suffix}"
        try:
            os.close(os.open(candidate, flags, 0o600))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free name for a temporary file in {directory}")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_output(path) as temporary:
        temporary.write_text(text, encoding="utf-8")

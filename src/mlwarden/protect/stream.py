"""A read-only byte source that refuses to read past what the checkpoint holds.

The pure-Python unpickler trusts the lengths written in the stream; a forged length must end
in a refusal, not in a multi-gigabyte allocation. Every read therefore returns exactly what was
asked or raises, and a read larger than what is left in a file of known size is refused before
anything is allocated. Streams of unknown size (decompressed data) are read in chunks, so memory
grows only with bytes that really exist.
"""

from __future__ import annotations

from typing import Protocol

from mlwarden.protect.errors import CheckpointFormatError

#: Largest single read from the underlying stream.
CHUNK_BYTES = 16 * 1024 * 1024


class ByteReader(Protocol):
    """What is read from: a file, an archive member, a decompressing reader."""

    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int = ..., /) -> bytes: ...


class BoundedStream:
    """A binary stream with a known end (``size``) or a cap on what may be read (``max_bytes``).

    ``what`` names the source in messages ("model.pt", "model.pt!archive/data.pkl").
    """

    def __init__(
        self, raw: ByteReader, *, size: int | None, max_bytes: int, what: str, start: int = 0
    ) -> None:
        self._raw = raw
        self._size = size
        self._max_bytes = max_bytes
        self.what = what
        self.position = start

    @property
    def remaining(self) -> int | None:
        """Bytes left before the end of the source, when its size is known."""
        if self._size is None:
            return None
        return self._size - self.position

    def claim(self, count: int, purpose: str) -> None:
        """Refuse ``count`` bytes that cannot all be in what is left of the source."""
        if count < 0:
            raise CheckpointFormatError(f"{self.what}: negative length for {purpose}")
        remaining = self.remaining
        if remaining is not None and count > remaining:
            raise CheckpointFormatError(
                f"{self.what}: {purpose} declares {count} bytes but only {remaining} remain "
                "(truncated or forged length)"
            )
        if self.position + count > self._max_bytes:
            raise CheckpointFormatError(
                f"{self.what}: more than {self._max_bytes} bytes of data (limit reached)"
            )

    def read(self, count: int = -1, /) -> bytes:
        """Exactly ``count`` bytes, or :class:`CheckpointFormatError` if the data ends first."""
        if count < 0:
            raise CheckpointFormatError(f"{self.what}: unbounded read refused")
        self.claim(count, "a pickle argument")
        if count <= CHUNK_BYTES:
            data = self._raw.read(count)
        else:
            parts = bytearray()
            while len(parts) < count:
                piece = self._raw.read(min(CHUNK_BYTES, count - len(parts)))
                if not piece:
                    break
                parts += piece
            data = bytes(parts)
        self.position += len(data)
        if len(data) != count:
            raise CheckpointFormatError(
                f"{self.what}: data ends after {self.position} bytes, {count - len(data)} short "
                "(truncated)"
            )
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """Fill ``buffer`` completely from the stream."""
        view = memoryview(buffer).cast("B")
        total = len(view)
        self.claim(total, "a data block")
        done = 0
        while done < total:
            piece = self._raw.read(min(CHUNK_BYTES, total - done))
            got = len(piece)
            if not got:
                self.position += done
                raise CheckpointFormatError(
                    f"{self.what}: data ends after {self.position} bytes, {total - done} short "
                    "(truncated)"
                )
            view[done : done + got] = piece
            done += got
        self.position += done
        return done

    def readline(self) -> bytes:
        """One line, newline included; protocol 0 opcodes carry their argument this way."""
        line = self._raw.readline(CHUNK_BYTES)
        self.position += len(line)
        if not line.endswith(b"\n"):
            if len(line) >= CHUNK_BYTES:
                raise CheckpointFormatError(f"{self.what}: text argument longer than allowed")
            raise CheckpointFormatError(f"{self.what}: data ends inside a text argument")
        return line

    def at_end(self) -> bool:
        """Whether nothing follows (consumes one byte when something does)."""
        if self.remaining is not None:
            return self.remaining <= 0
        return not self._raw.read(1)

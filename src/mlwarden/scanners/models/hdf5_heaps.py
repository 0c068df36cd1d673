"""Heaps and indexes of HDF5 files: local and global heaps, fractal heaps and version 2
B-trees, as laid out in the HDF5 File Format Specification (version 3.0).

Objects are read a few bytes at a time, never a whole heap block; every walk is bounded.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlwarden.scanners.interface import FormatError, LimitExceeded
from mlwarden.scanners.models.hdf5_file import (
    MAX_DEPTH,
    Cursor,
    H5Source,
    Unsupported,
    encoded_size,
    log2,
)

#: Local heap data segments up to this size are read once and kept; larger ones are read name
#: by name, so that memory stays flat.
LOCAL_HEAP_CACHE = 1 << 20

_B2_PREFIX = 10  # signature, version, type and checksum of every version 2 B-tree node


class LocalHeap:
    """A local heap (``HEAP``): the null-terminated names of an old-style group."""

    def __init__(self, source: H5Source, address: int | None) -> None:
        source.tick()
        cursor = source.cursor(address, 8 + 2 * source.length_size + source.offset_size, "HEAP")
        cursor.signature(b"HEAP")
        if cursor.u8() != 0:
            raise Unsupported("a local heap of an unknown version")
        cursor.take(3)
        self.segment_size = cursor.length()
        cursor.length()  # head of the free list
        segment = cursor.address()
        if segment is None:
            raise FormatError("a local heap has no data segment")
        self.segment = segment
        source.fits(self.segment, self.segment_size)
        self.source = source
        self._data: bytes | None = None
        if self.segment_size <= LOCAL_HEAP_CACHE:
            self._data = source.read(self.segment, self.segment_size, "local heap data")

    def string(self, offset: int) -> bytes:
        """The null-terminated string at ``offset`` in the data segment."""
        if offset >= self.segment_size:
            raise FormatError("a name lies outside its local heap")
        if self._data is not None:
            end = self._data.find(b"\0", offset)
            if end < 0:
                raise FormatError("a name in a local heap is not terminated")
            return self._data[offset:end]
        parts: list[bytes] = []
        while offset < self.segment_size:
            self.source.tick()
            piece = self.source.read(
                self.segment + offset, min(256, self.segment_size - offset), "local heap name"
            )
            end = piece.find(b"\0")
            if end >= 0:
                parts.append(piece[:end])
                return b"".join(parts)
            parts.append(piece)
            offset += len(piece)
        raise FormatError("a name in a local heap is not terminated")


def global_heap_object(source: H5Source, address: int | None, index: int) -> bytes:
    """Object ``index`` of the global heap collection (``GCOL``) at ``address``."""
    head_size = 8 + source.length_size
    cursor = source.cursor(address, head_size, "GCOL")
    cursor.signature(b"GCOL")
    if cursor.u8() != 1:
        raise Unsupported("a global heap of an unknown version")
    cursor.take(3)
    collection = cursor.length()
    assert address is not None  # read() raised otherwise
    if collection < head_size:
        raise FormatError("a global heap collection is smaller than its header")
    end = address + source.fits(address, collection)
    position = address + head_size
    while position + 8 + source.length_size <= end:
        source.tick()
        entry = source.cursor(position, 8 + source.length_size, "global heap object")
        number = entry.u16()
        entry.take(6)  # reference count, reserved
        size = entry.length()
        if number == 0:
            break  # free space ends the collection
        start = position + 8 + source.length_size
        if size > end - start:
            raise FormatError("a global heap object reaches past its collection")
        if number == index:
            return source.read(start, size, "global heap object")
        position = start + (size + 7) // 8 * 8
    raise FormatError(f"global heap object {index} does not exist")


def btree2_records(source: H5Source, address: int | None, record_type: int) -> Iterator[bytes]:
    """Every record of the version 2 B-tree (``BTHD``) at ``address``, in no set order."""
    source.tick()
    head = source.cursor(address, 22 + source.offset_size + source.length_size, "BTHD")
    head.signature(b"BTHD")
    if head.u8() != 0:
        raise Unsupported("a version 2 B-tree of an unknown version")
    if head.u8() != record_type:
        raise FormatError("a version 2 B-tree holds the wrong kind of records")
    node_size = head.u32()
    record_size = head.u16()
    depth = head.u16()
    head.take(2)  # split and merge percentages
    root = head.address()
    root_records = head.u16()
    if record_size == 0 or node_size < _B2_PREFIX + record_size or depth > MAX_DEPTH:
        raise FormatError("a version 2 B-tree header is inconsistent")
    # Child pointers carry record counts whose widths follow from the most records a node of
    # each level can hold, computed the way the library sizes them.
    max_records = [(node_size - _B2_PREFIX) // record_size]
    count_size = encoded_size(max_records[0])
    total_sizes = [0]
    cumulative = max_records[0]
    pointer_sizes = [0]
    for level in range(1, depth + 1):
        pointer = source.offset_size + count_size + (total_sizes[level - 1] if level > 1 else 0)
        most = (node_size - _B2_PREFIX - pointer) // (record_size + pointer)
        if most <= 0:
            raise FormatError("a version 2 B-tree node cannot hold a record")
        cumulative = (most + 1) * cumulative + most
        max_records.append(most)
        pointer_sizes.append(pointer)
        total_sizes.append(encoded_size(cumulative))
    if root is None:
        return
    stack = [(root, root_records, depth)]
    seen: set[int] = set()
    while stack:
        node, records, level = stack.pop()
        source.tick()
        if node in seen or records > max_records[level]:
            raise FormatError("a version 2 B-tree is inconsistent")
        seen.add(node)
        signature = b"BTLF" if level == 0 else b"BTIN"
        size = 6 + records * record_size + (records + 1) * pointer_sizes[level] * (level > 0)
        cursor = source.cursor(node, size, signature.decode())
        cursor.signature(signature)
        if cursor.u8() != 0 or cursor.u8() != record_type:
            raise FormatError("a version 2 B-tree node does not match its tree")
        for _ in range(records):
            yield cursor.take(record_size)
        if level == 0:
            continue
        for _ in range(records + 1):
            child = cursor.address()
            child_records = cursor.uint(count_size)
            if level > 1:
                cursor.uint(total_sizes[level - 1])
            if child is None:
                raise FormatError("a version 2 B-tree node has an undefined child")
            stack.append((child, child_records, level - 1))


class FractalHeap:
    """A fractal heap (``FRHP``): the objects of dense link and attribute storage."""

    def __init__(self, source: H5Source, address: int | None) -> None:
        source.tick()
        o, ln = source.offset_size, source.length_size
        cursor = source.cursor(address, 22 + 3 * o + 12 * ln + 10, "FRHP")
        cursor.signature(b"FRHP")
        if cursor.u8() != 0:
            raise Unsupported("a fractal heap of an unknown version")
        self.id_length = cursor.u16()
        if cursor.u16():
            raise Unsupported("a fractal heap with I/O filters")
        self.checksummed = bool(cursor.u8() & 0x02)
        max_managed = cursor.u32()
        cursor.length()  # next huge object id
        self.huge_tree = cursor.address()
        cursor.length()  # free space in managed blocks
        cursor.address()  # free-space manager
        for _ in range(8):
            cursor.length()  # space and object counts, not needed to find objects
        self.width = cursor.u16()
        self.start_block = cursor.length()
        max_direct = cursor.length()
        heap_bits = cursor.u16()
        cursor.u16()  # starting rows of the root indirect block
        self.root = cursor.address()
        self.root_rows = cursor.u16()
        if not 0 < heap_bits <= 64 or self.width == 0 or self.width > 4096:
            raise FormatError("a fractal heap header is inconsistent")
        self.start_bits = log2(self.start_block, "a fractal heap starting block size")
        direct_bits = log2(max_direct, "a fractal heap maximum direct block size")
        self.width_bits = log2(self.width, "a fractal heap table width")
        if direct_bits < self.start_bits or direct_bits > heap_bits:
            raise FormatError("a fractal heap header is inconsistent")
        self.max_direct_rows = direct_bits - self.start_bits + 2
        self.offset_size = (heap_bits + 7) // 8
        self.length_size = min((direct_bits + 7) // 8, encoded_size(max_managed))
        self.source = source
        self.address = address
        self._blocks: list[tuple[int, int, int]] | None = None

    def row_block_size(self, row: int) -> int:
        """Size of the blocks in one row of the doubling table."""
        return self.start_block << max(row - 1, 0)

    def object(self, heap_id: bytes) -> bytes:
        """The object a heap ID names."""
        self.source.tick()
        if len(heap_id) < 1 or heap_id[0] >> 6:
            raise FormatError("a fractal heap ID has an unknown version")
        kind = (heap_id[0] >> 4) & 0x03
        if kind == 0:
            cursor = Cursor(heap_id, self.source, "fractal heap ID", 1)
            return self._managed(cursor.uint(self.offset_size), cursor.uint(self.length_size))
        if kind == 2:
            if len(heap_id) <= 18:
                size = (heap_id[0] & 0x0F) + 1
                data = heap_id[1 : 1 + size]
            else:
                size = ((heap_id[0] & 0x0F) << 8 | heap_id[1]) + 1
                data = heap_id[2 : 2 + size]
            if len(data) != size:
                raise FormatError("a tiny fractal heap object is truncated")
            return data
        if kind == 1:
            return self._huge(heap_id)
        raise FormatError("a fractal heap ID has an unknown type")

    def _huge(self, heap_id: bytes) -> bytes:
        source = self.source
        cursor = Cursor(heap_id, source, "fractal heap ID", 1)
        if self.id_length - 1 >= source.offset_size + source.length_size:
            address, size = cursor.address(), cursor.length()
            return source.read(address, size, "huge fractal heap object")
        wanted = cursor.uint(min(self.id_length - 1, 8))
        for record in btree2_records(source, self.huge_tree, 1):
            entry = Cursor(record, source, "huge object record")
            address, size, number = entry.address(), entry.length(), entry.length()
            if number == wanted:
                return source.read(address, size, "huge fractal heap object")
        raise FormatError("a huge fractal heap object is not in its index")

    def _managed(self, offset: int, size: int) -> bytes:
        blocks = self._direct_blocks()
        low, high = 0, len(blocks)
        while low < high:  # the last block starting at or before the offset
            middle = (low + high) // 2
            if blocks[middle][0] <= offset:
                low = middle + 1
            else:
                high = middle
        if low == 0:
            raise FormatError("a fractal heap object lies outside every block")
        start, block_size, address = blocks[low - 1]
        header = 5 + self.source.offset_size + self.offset_size + 4 * self.checksummed
        if offset - start < header or offset + size > start + block_size:
            raise FormatError("a fractal heap object lies outside its block")
        return self.source.read(address + offset - start, size, "fractal heap object")

    def _direct_blocks(self) -> list[tuple[int, int, int]]:
        """(heap offset, size, address) of every direct block, sorted by offset."""
        if self._blocks is not None:
            return self._blocks
        blocks: list[tuple[int, int, int]] = []
        if self.root is not None:
            if self.root_rows == 0:
                self._check_direct(self.root, 0)
                blocks.append((0, self.start_block, self.root))
            else:
                self._indirect_blocks(blocks)
        blocks.sort()
        self._blocks = blocks
        return blocks

    def _check_direct(self, address: int, offset: int) -> None:
        source = self.source
        source.tick()
        cursor = source.cursor(address, 5 + source.offset_size + self.offset_size, "FHDB")
        cursor.signature(b"FHDB")
        if cursor.u8() != 0 or cursor.address() != self.address:
            raise FormatError("a fractal heap direct block does not belong to its heap")
        if cursor.uint(self.offset_size) != offset:
            raise FormatError("a fractal heap direct block is at the wrong offset")

    def _indirect_blocks(self, blocks: list[tuple[int, int, int]]) -> None:
        source = self.source
        assert self.root is not None
        stack = [(self.root, self.root_rows, 0, 0)]
        seen: set[int] = set()
        while stack:
            address, rows, offset, depth = stack.pop()
            source.tick()
            if address in seen or depth > MAX_DEPTH or rows > MAX_DEPTH:
                raise FormatError("fractal heap indirect blocks are inconsistent")
            seen.add(address)
            direct_rows = min(rows, self.max_direct_rows)
            entries = rows * self.width
            size = 5 + source.offset_size * (1 + entries) + self.offset_size
            cursor = source.cursor(address, size, "FHIB")
            cursor.signature(b"FHIB")
            if cursor.u8() != 0 or cursor.address() != self.address:
                raise FormatError("a fractal heap indirect block does not belong to its heap")
            if cursor.uint(self.offset_size) != offset:
                raise FormatError("a fractal heap indirect block is at the wrong offset")
            position = offset
            for row in range(rows):
                block_size = self.row_block_size(row)
                for _ in range(self.width):
                    child = cursor.address()
                    if child is not None:
                        if row < direct_rows:
                            self._check_direct(child, position)
                            blocks.append((position, block_size, child))
                        else:
                            child_rows = block_size.bit_length() - 1
                            child_rows -= self.start_bits + self.width_bits - 1
                            if child_rows <= 0:
                                raise FormatError("a fractal heap indirect block is too small")
                            stack.append((child, child_rows, position, depth + 1))
                    position += block_size
                    if len(blocks) > source.max_objects:
                        raise LimitExceeded("h5_objects", "fractal heap has too many blocks")


__all__ = ["FractalHeap", "LocalHeap", "btree2_records", "global_heap_object"]

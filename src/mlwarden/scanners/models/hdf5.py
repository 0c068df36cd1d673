"""A read-only reader of HDF5 metadata: root attributes that hold strings, and the links of
every group, without the HDF5 library and without reading any dataset.

It follows the HDF5 File Format Specification (version 3.0): superblocks 0 to 3 (after a user
block or not), object headers 1 and 2 with their continuation chunks, old-style groups (v1
B-tree, symbol table nodes, local heap), new-style groups (link messages, dense storage in a
fractal heap indexed by a v2 B-tree), attribute messages 1 to 3 (compact or dense) and the
External Data Files message. Anything valid that it does not read raises
:class:`Unsupported`, so that a caller can fall back to the HDF5 library; anything damaged
raises :class:`FormatError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from mlwarden.scanners.interface import FormatError, LimitExceeded
from mlwarden.scanners.models.hdf5_file import (
    ATTRIBUTE,
    ATTRIBUTE_INFO,
    EXTERNAL_FILES,
    LAYOUT,
    LINK,
    LINK_INFO,
    MAX_DEPTH,
    SHARED,
    SYMBOL_TABLE,
    Cursor,
    H5Source,
    Link,
    Message,
    Unsupported,
    check_layout,
    link_message,
    object_header,
    pad8,
)
from mlwarden.scanners.models.hdf5_heaps import (
    FractalHeap,
    LocalHeap,
    btree2_records,
    global_heap_object,
)

SIGNATURE = b"\x89HDF\r\n\x1a\n"

_GROUP_MESSAGES = frozenset({LINK_INFO, LINK, SYMBOL_TABLE})


@dataclass(frozen=True, slots=True)
class H5Link:
    """One link of a group.

    ``kind`` is ``group``, ``dataset``, ``soft``, ``external`` or ``other`` (a committed
    datatype or a user-defined link); ``target`` is the (file, object path) of an external
    link, ``external_files`` the files a dataset's data is stored in (External Data Files).
    """

    path: str
    kind: str
    target: tuple[str, str] | None = None
    external_files: tuple[str, ...] = ()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class H5Reader:
    """Root attributes and links of one HDF5 file, read from a seekable binary stream.

    ``max_objects`` bounds the links listed (``LimitExceeded`` past it) and, through
    :class:`H5Source`, the structures read; ``max_bytes`` bounds any single read.
    """

    def __init__(
        self,
        stream: IO[bytes],
        size: int,
        check_time: Callable[[], None],
        max_objects: int,
        max_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.source = H5Source(stream, size, check_time, max_objects, max_bytes)
        self.root = self._superblock()
        self._kinds: dict[int, tuple[str, tuple[str, ...]]] = {}
        self._attributes: dict[bytes, tuple[bytes, bytes, bytes]] | None = None
        self._hidden_attributes = False

    # --- superblock and object headers ----------------------------------------------------

    def _superblock(self) -> int:
        source = self.source
        position = 0
        while True:  # the superblock follows a user block of 0, 512, 1024, 2048... bytes
            if position + 8 > source.size:
                raise FormatError("no HDF5 superblock found")
            if source.read_absolute(position, 8, "superblock") == SIGNATURE:
                break
            position = 512 if position == 0 else position * 2
        head = Cursor(source.read_absolute(position, 16, "superblock"), source, "superblock", 8)
        version = head.u8()
        if version in (0, 1):
            head.take(4)
            offset_size, length_size = head.u8(), head.u8()
            # The library treats the superblock's position as the base address.
            source.set_widths(position, offset_size, length_size)
            fixed = 24 + 4 * (version == 1)
            rest = source.read_absolute(position + fixed, 6 * offset_size + 24, "superblock")
            cursor = Cursor(rest, source, "superblock", 5 * offset_size)  # to the root entry
            root = cursor.address()
        elif version in (2, 3):
            offset_size, length_size = head.u8(), head.u8()
            source.set_widths(position, offset_size, length_size)
            rest = source.read_absolute(position + 12, 4 * offset_size, "superblock")
            root = Cursor(rest, source, "superblock", 3 * offset_size).address()
        else:
            raise Unsupported(f"superblock version {version}")
        if root is None:
            raise FormatError("the superblock has no root group")
        return root

    # --- attributes ----------------------------------------------------------------------

    def root_attribute(self, name: str) -> bytes | None:
        """The string value of a root attribute, or None when the root has no such attribute.

        Fixed-length strings lose their trailing NUL padding; variable-length strings are read
        from the global heap. Other values (numbers, arrays) raise :class:`Unsupported`.
        """
        attributes = self._root_attributes()
        if self._hidden_attributes:
            # A shared attribute's name is not known here; it could be the one asked for.
            raise Unsupported("attributes kept in the shared message table")
        key = name.encode("utf-8")
        if key not in attributes:
            return None
        datatype, dataspace, value = attributes[key]
        return self._string(name, datatype, dataspace, value)

    def _root_attributes(self) -> dict[bytes, tuple[bytes, bytes, bytes]]:
        if self._attributes is not None:
            return self._attributes
        found: dict[bytes, tuple[bytes, bytes, bytes]] = {}
        for kind, flags, data in object_header(self.source, self.root):
            if kind == ATTRIBUTE:
                self._add_attribute(found, flags, data)
            elif kind == ATTRIBUTE_INFO:
                cursor = Cursor(data, self.source, "attribute info message")
                if cursor.u8() != 0:
                    raise Unsupported("an attribute info message of an unknown version")
                if cursor.u8() & 0x01:
                    cursor.u16()  # maximum creation index
                heap_address, names = cursor.address(), cursor.address()
                if heap_address is None:
                    continue  # no attribute is stored densely
                heap = FractalHeap(self.source, heap_address)
                for record in btree2_records(self.source, names, 8):
                    if len(record) < 9:
                        raise FormatError("an attribute name record is too short")
                    self._add_attribute(found, record[8], heap.object(record[:8]))
        self._attributes = found
        return found

    def _add_attribute(
        self, found: dict[bytes, tuple[bytes, bytes, bytes]], flags: int, data: bytes
    ) -> None:
        if flags & SHARED:
            self._hidden_attributes = True
            return
        cursor = Cursor(data, self.source, "attribute message")
        version = cursor.u8()
        if version not in (1, 2, 3):
            raise Unsupported(f"attribute message version {version}")
        attribute_flags = cursor.u8()
        sizes = [cursor.u16() for _ in range(3)]
        if version == 3:
            cursor.u8()  # character set of the name
        padded = [pad8(size) for size in sizes] if version == 1 else sizes
        name, datatype, dataspace = (cursor.take(size) for size in padded)
        name = name[: sizes[0]].split(b"\0", 1)[0]
        if version > 1 and attribute_flags & 0x03:
            # A shared datatype or dataspace: unreadable here, and only a problem if wanted.
            datatype = dataspace = b""
        if name in found:
            # Which copy a loader would read is not defined: the file is not sound.
            raise FormatError(f"the root group has two attributes named {_text(name)}")
        found[name] = (datatype[: sizes[1]], dataspace[: sizes[2]], data[cursor.pos :])

    def _string(self, name: str, datatype: bytes, dataspace: bytes, value: bytes) -> bytes:
        if not datatype or self._element_count(dataspace) != 1:
            raise Unsupported(f"attribute {name} that is not a single string")
        cursor = Cursor(datatype, self.source, "datatype message")
        type_class = cursor.u8() & 0x0F
        bits = cursor.take(3)
        size = cursor.u32()
        if type_class == 3:  # fixed-length string
            if len(value) < size:
                raise FormatError(f"attribute {name} is truncated")
            return value[:size].rstrip(b"\0")
        if type_class == 9 and bits[0] & 0x0F == 1:  # variable-length string
            reference = Cursor(value, self.source, f"attribute {name}")
            length = reference.u32()
            collection = reference.address()
            index = reference.u32()
            if length == 0:
                return b""
            data = global_heap_object(self.source, collection, index)
            if len(data) < length:
                raise FormatError(f"attribute {name} is shorter than its length")
            return data[:length]
        raise Unsupported(f"attribute {name} of datatype class {type_class}")

    def _element_count(self, dataspace: bytes) -> int:
        cursor = Cursor(dataspace, self.source, "dataspace message")
        version = cursor.u8()
        rank = cursor.u8()
        cursor.u8()  # flags
        if version == 1:
            cursor.take(5)
            shape = 1 if rank else 0
        elif version == 2:
            shape = cursor.u8()
        else:
            raise Unsupported(f"dataspace message version {version}")
        if shape == 2:
            return 0  # a null dataspace holds nothing
        count = 1
        for _ in range(rank):
            count *= cursor.length()
        return count

    # --- links -----------------------------------------------------------------------------

    def walk(self) -> Iterator[H5Link]:
        """Every link of every group, depth first, each group entered once (hard links may
        make cycles); links of one group come in name order."""
        listed = 0
        stack = [("", self.root)]
        seen = {self.root}
        while stack:
            prefix, address = stack.pop()
            links = sorted(
                self._links(object_header(self.source, address)), key=lambda link: link[0]
            )
            for name, kind, target in links:
                listed += 1
                if listed > self.source.max_objects:
                    raise LimitExceeded(
                        "h5_objects", f"HDF5 file has more than {self.source.max_objects} objects"
                    )
                path = f"{prefix}/{_text(name)}"
                if isinstance(target, tuple):
                    yield H5Link(path, kind, target=(_text(target[0]), _text(target[1])))
                elif not isinstance(target, int):
                    yield H5Link(path, kind)
                else:
                    object_kind, files = self._object(target)
                    yield H5Link(path, object_kind, external_files=files)
                    if object_kind == "group" and target not in seen:
                        seen.add(target)
                        stack.append((path, target))

    def _object(self, address: int) -> tuple[str, tuple[str, ...]]:
        """What the object at ``address`` is, and the external files of a dataset."""
        known = self._kinds.get(address)
        if known is not None:
            return known
        messages = object_header(self.source, address)
        kinds = {kind for kind, _, _ in messages}
        files: tuple[str, ...] = ()
        if kinds & _GROUP_MESSAGES:
            what = "group"
        elif LAYOUT in kinds:
            what = "dataset"
            for kind, _, data in messages:
                if kind == LAYOUT:
                    check_layout(data)
                elif kind == EXTERNAL_FILES:
                    files += self._external_files(data)
        else:
            what = "other"
        self._kinds[address] = (what, files)
        return what, files

    def _external_files(self, data: bytes) -> tuple[str, ...]:
        cursor = Cursor(data, self.source, "external data files message")
        if cursor.u8() != 1:
            raise Unsupported("an external data files message of an unknown version")
        cursor.take(3)
        cursor.u16()  # allocated slots
        used = cursor.u16()
        heap = LocalHeap(self.source, cursor.address())
        names = []
        for _ in range(used):
            self.source.tick()
            names.append(_text(heap.string(cursor.length())))
            cursor.take(2 * self.source.length_size)  # offset and size in that file
        return tuple(names)

    def _links(self, messages: list[Message]) -> Iterator[Link]:
        for kind, _, data in messages:
            if kind == LINK:
                yield link_message(Cursor(data, self.source, "link message"))
            elif kind == LINK_INFO:
                cursor = Cursor(data, self.source, "link info message")
                if cursor.u8() != 0:
                    raise Unsupported("a link info message of an unknown version")
                if cursor.u8() & 0x01:
                    cursor.take(8)  # maximum creation index
                heap_address, names = cursor.address(), cursor.address()
                if heap_address is None:
                    continue  # links are compact: they are link messages of this header
                heap = FractalHeap(self.source, heap_address)
                for record in btree2_records(self.source, names, 5):
                    link = heap.object(record[4:])
                    yield link_message(Cursor(link, self.source, "link message"))
            elif kind == SYMBOL_TABLE:
                cursor = Cursor(data, self.source, "symbol table message")
                yield from self._symbol_table(cursor.address(), cursor.address())

    def _symbol_table(self, tree: int | None, heap_address: int | None) -> Iterator[Link]:
        """The links of an old-style group: a v1 B-tree of symbol table nodes."""
        source = self.source
        heap = LocalHeap(source, heap_address)
        o, ln = source.offset_size, source.length_size
        stack: list[tuple[int | None, int | None]] = [(tree, None)]
        seen: set[int | None] = set()
        while stack:
            node, level = stack.pop()
            source.tick()
            if node in seen or len(seen) > source.max_objects:
                raise FormatError("a group B-tree is inconsistent")
            seen.add(node)
            head = source.cursor(node, 8 + 2 * o, "TREE")
            head.signature(b"TREE")
            node_type, node_level, entries = head.u8(), head.u8(), head.u16()
            if node_type != 0 or node_level > MAX_DEPTH or level not in (None, node_level):
                raise FormatError("a group B-tree node is inconsistent")
            assert node is not None
            body = source.cursor(node + 8 + 2 * o, entries * (o + ln) + ln, "TREE")
            for _ in range(entries):
                body.take(ln)  # the key: a name's offset in the heap
                child = body.address()
                if node_level:
                    stack.append((child, node_level - 1))
                else:
                    yield from self._symbol_node(child, heap)

    def _symbol_node(self, address: int | None, heap: LocalHeap) -> Iterator[Link]:
        source = self.source
        source.tick()
        head = source.cursor(address, 8, "SNOD")
        head.signature(b"SNOD")
        if head.u8() != 1:
            raise Unsupported("a symbol table node of an unknown version")
        head.u8()
        symbols = head.u16()
        assert address is not None
        cursor = source.cursor(address + 8, symbols * (2 * source.offset_size + 24), "SNOD")
        for _ in range(symbols):
            source.tick()
            name = heap.string(cursor.uint(source.offset_size))
            target = cursor.address()
            cache = cursor.u32()
            cursor.take(4)
            scratch = Cursor(cursor.take(16), source, "symbol table entry")
            if cache == 2:  # a soft link, its value kept in the heap
                yield name, "soft", heap.string(scratch.u32())
            elif target is None:
                raise FormatError("a symbol table entry has no object")
            else:
                yield name, "hard", target


__all__ = ["H5Link", "H5Reader", "Unsupported"]

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
from mlwarden.scanners.models.hdf5_heaps import (
    MAX_DEPTH,
    Cursor,
    FractalHeap,
    H5Source,
    LocalHeap,
    Unsupported,
    btree2_records,
    global_heap_object,
)

SIGNATURE = b"\x89HDF\r\n\x1a\n"

# Object header message types used here.
_LINK_INFO = 0x02
_EXTERNAL_FILES = 0x07
_LAYOUT = 0x08
_LINK = 0x06
_ATTRIBUTE = 0x0C
_CONTINUATION = 0x10
_SYMBOL_TABLE = 0x11
_ATTRIBUTE_INFO = 0x15
_GROUP_MESSAGES = frozenset({_LINK_INFO, _LINK, _SYMBOL_TABLE})

_SHARED = 0x02  # message flag: the message body is a reference to a shared message

#: Most continuation chunks one object header may have.
MAX_CHUNKS = 4096

_Message = tuple[int, int, bytes]  # type, flags, body
_Link = tuple[bytes, str, int | bytes | tuple[bytes, bytes] | None]  # name, kind, target


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


def _pad8(size: int) -> int:
    return (size + 7) // 8 * 8


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
        self.max_objects = max_objects
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

    def _messages(self, address: int) -> list[_Message]:
        """Every message of the object header at ``address``, continuation chunks included."""
        source = self.source
        source.tick()
        first = source.read(address, 16, "object header")
        messages: list[_Message] = []
        chunks: list[tuple[int | None, int]] = []
        if first[:4] == b"OHDR":
            if first[4] != 2:
                raise Unsupported(f"object header version {first[4]}")
            flags = first[5]
            prefix = 6 + 16 * bool(flags & 0x20) + 4 * bool(flags & 0x10)
            width = 1 << (flags & 0x03)
            size = int.from_bytes(source.read(address + prefix, width, "object header"), "little")
            start = address + prefix + width
            body = source.read(start, size, "object header")
            extra = 2 if flags & 0x04 else 0  # creation order of each message
            self._parse_v2(body, extra, messages, chunks)
        elif first[0] == 1:
            size = int.from_bytes(first[8:12], "little")
            start = address + 16
            body = source.read(start, size, "object header")
            extra = -1  # version 1: continuation chunks hold bare messages
            self._parse_v1(body, messages, chunks)
        else:
            raise FormatError("object header of an unknown version")
        seen = {address}
        for chunk_address, chunk_size in chunks:  # grows while it is walked
            if chunk_address is None or chunk_address in seen or len(seen) > MAX_CHUNKS:
                raise FormatError("object header continuation chunks are inconsistent")
            seen.add(chunk_address)
            source.tick()
            body = source.read(chunk_address, chunk_size, "object header continuation")
            if extra < 0:
                self._parse_v1(body, messages, chunks)
            else:
                if body[:4] != b"OCHK" or chunk_size < 8:
                    raise FormatError("object header continuation has no OCHK signature")
                self._parse_v2(body[4:-4], extra, messages, chunks)
        return messages

    def _parse_v1(
        self, body: bytes, messages: list[_Message], chunks: list[tuple[int | None, int]]
    ) -> None:
        position = 0
        while position + 8 <= len(body):
            self.source.tick()
            kind = body[position] | body[position + 1] << 8
            size = body[position + 2] | body[position + 3] << 8
            data = body[position + 8 : position + 8 + size]
            if len(data) != size:
                raise FormatError("object header message is truncated")
            self._keep(kind, body[position + 4], data, messages, chunks)
            position += 8 + _pad8(size)

    def _parse_v2(
        self,
        body: bytes,
        extra: int,
        messages: list[_Message],
        chunks: list[tuple[int | None, int]],
    ) -> None:
        position = 0
        header = 4 + extra
        while position + header <= len(body):  # a shorter rest is a gap
            self.source.tick()
            size = body[position + 1] | body[position + 2] << 8
            start = position + header
            data = body[start : start + size]
            if len(data) != size:
                raise FormatError("object header message is truncated")
            self._keep(body[position], body[position + 3], data, messages, chunks)
            position = start + size

    def _keep(
        self,
        kind: int,
        flags: int,
        data: bytes,
        messages: list[_Message],
        chunks: list[tuple[int | None, int]],
    ) -> None:
        if kind == _CONTINUATION:
            cursor = Cursor(data, self.source, "continuation message")
            chunks.append((cursor.address(), cursor.length()))
        elif kind:
            messages.append((kind, flags, data))

    # --- attributes ----------------------------------------------------------------------

    def root_attribute(self, name: str) -> bytes | None:
        """The string value of a root attribute, or None when the root has no such attribute.

        Fixed-length strings lose their trailing NUL padding; variable-length strings are read
        from the global heap. Other values (numbers, arrays) raise :class:`Unsupported`.
        """
        attributes = self._root_attributes()
        key = name.encode("utf-8")
        if key not in attributes:
            if self._hidden_attributes:
                raise Unsupported("attributes kept in the shared message table")
            return None
        datatype, dataspace, value = attributes[key]
        return self._string(name, datatype, dataspace, value)

    def _root_attributes(self) -> dict[bytes, tuple[bytes, bytes, bytes]]:
        if self._attributes is not None:
            return self._attributes
        found: dict[bytes, tuple[bytes, bytes, bytes]] = {}
        for kind, flags, data in self._messages(self.root):
            if kind == _ATTRIBUTE:
                self._add_attribute(found, flags, data)
            elif kind == _ATTRIBUTE_INFO:
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
        if flags & _SHARED:
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
        padded = [_pad8(size) for size in sizes] if version == 1 else sizes
        name, datatype, dataspace = (cursor.take(size) for size in padded)
        name = name[: sizes[0]].split(b"\0", 1)[0]
        if version > 1 and attribute_flags & 0x03:
            # A shared datatype or dataspace: unreadable here, and only a problem if wanted.
            datatype = dataspace = b""
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
            links = sorted(self._links(self._messages(address)), key=lambda link: link[0])
            for name, kind, target in links:
                listed += 1
                if listed > self.max_objects:
                    raise LimitExceeded(
                        "h5_objects", f"HDF5 file has more than {self.max_objects} objects"
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
        messages = self._messages(address)
        kinds = {kind for kind, _, _ in messages}
        files: tuple[str, ...] = ()
        if kinds & _GROUP_MESSAGES:
            what = "group"
        elif _LAYOUT in kinds:
            what = "dataset"
            for kind, _, data in messages:
                if kind == _LAYOUT:
                    _check_layout(data)
                elif kind == _EXTERNAL_FILES:
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

    def _links(self, messages: list[_Message]) -> Iterator[_Link]:
        for kind, _, data in messages:
            if kind == _LINK:
                yield _link(Cursor(data, self.source, "link message"))
            elif kind == _LINK_INFO:
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
                    yield _link(Cursor(link, self.source, "link message"))
            elif kind == _SYMBOL_TABLE:
                cursor = Cursor(data, self.source, "symbol table message")
                yield from self._symbol_table(cursor.address(), cursor.address())

    def _symbol_table(self, tree: int | None, heap_address: int | None) -> Iterator[_Link]:
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

    def _symbol_node(self, address: int | None, heap: LocalHeap) -> Iterator[_Link]:
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


def _link(cursor: Cursor) -> _Link:
    """A link message: the link's name, kind and target."""
    if cursor.u8() != 1:
        raise Unsupported("a link message of an unknown version")
    flags = cursor.u8()
    link_type = cursor.u8() if flags & 0x08 else 0
    if flags & 0x04:
        cursor.take(8)  # creation order
    if flags & 0x10:
        cursor.u8()  # character set of the name
    name = cursor.take(cursor.uint(1 << (flags & 0x03)))
    if link_type == 0:
        target = cursor.address()
        if target is None:
            raise FormatError("a hard link has no object")
        return name, "hard", target
    if link_type == 1:
        return name, "soft", cursor.take(cursor.u16())
    if link_type == 64:
        value = cursor.take(cursor.u16())
        if not value or value[0] >> 4:
            raise Unsupported("an external link of an unknown version")
        parts = value[1:].split(b"\0")
        return name, "external", (parts[0], parts[1] if len(parts) > 1 else b"")
    return name, "other", None


def _check_layout(data: bytes) -> None:
    """Raise :class:`Unsupported` for a virtual dataset, whose data lives in other files."""
    if len(data) < 3:
        raise FormatError("a data layout message is truncated")
    version = data[0]
    if version > 5 or version == 0:
        raise Unsupported(f"data layout message version {version}")
    layout_class = data[2] if version < 3 else data[1]
    if layout_class == 3:
        raise Unsupported("a virtual dataset")


__all__ = ["H5Link", "H5Reader", "Unsupported"]

"""The symbolic pickle machine: a stack and memo of symbolic values, never real objects.

:class:`PickleProgram` runs the opcodes of one or more pickles the way a loader would, but
each value is a description (a constant, a global reference, an object made by a call). That
is enough to know which globals are imported and which are called, even when module and name
come from memoised strings, and to follow formats that interleave raw bytes with the stream
(joblib arrays). Nothing is imported, constructed or executed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

from mlwarden.scanners.interface import FormatError, LimitExceeded, Limits
from mlwarden.scanners.models.pickle import calls
from mlwarden.scanners.models.pickle.policy import classify_global
from mlwarden.scanners.models.pickle.stream import BLOB_THRESHOLD, Blob, ByteSource, Op, read_op
from mlwarden.scanners.models.pickle.values import (
    MAX_ITEMS,
    Container,
    GlobalUse,
    Obj,
    Persistent,
    Ref,
    classify_dotted,
)

#: ``context.check_time()`` is called once per this many opcodes.
TIME_CHECK_EVERY = 65536

_SIMPLE_CONSTANTS: dict[str, object] = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_CONST_OPS = frozenset(
    {
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING",
        "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE",
        "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "FLOAT", "BINFLOAT",
    }
)  # fmt: skip
_EMPTY = {"EMPTY_LIST": "list", "EMPTY_TUPLE": "tuple", "EMPTY_DICT": "dict", "EMPTY_SET": "set"}

#: Bytes the fast path wants buffered before an opcode: the opcode, an 8-byte argument or
#: length, and room to spare. Closer to the end of the stream every opcode takes the exact,
#: slower path, which reports truncation.
_LOOKAHEAD = 16

_DOUBLE = struct.Struct(">d")

#: EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE and EMPTY_SET by opcode byte.
_EMPTY_KINDS = {0x7D: "dict", 0x5D: "list", 0x29: "tuple", 0x8F: "set"}


class Unresolved(NamedTuple):
    """A place where an import could not be resolved to constant names."""

    offset: int
    pickle_index: int
    opcode: str
    detail: str


class PickleProgram:
    """Symbolic execution of the pickles in one stream.

    After :meth:`run`, ``uses`` lists every import (direct or derived), ``unresolved`` every
    import whose name is not constant, ``results`` the top value of each pickle and
    ``protocols`` the protocol each declared. ``on_build`` lets a format hook in after a BUILD
    (joblib reads array bytes there); it gets the program, the source and the built object.
    """

    #: Whether common opcodes are decoded from the buffer directly. The exact path alone gives
    #: the same results, more slowly; tests compare the two.
    fast = True

    def __init__(self, limits: Limits, check_time: Callable[[], None] | None = None) -> None:
        self.limits = limits
        self.check_time = check_time or (lambda: None)
        self.uses: list[GlobalUse] = []
        self.unresolved: list[Unresolved] = []
        self.results: list[object] = []
        self.protocols: list[int] = []
        self.opcodes = 0
        #: Embedded files handed to a nested loader (torch.storage._load_from_bytes).
        self.nested: list[bytes | Blob] = []
        #: Nested loaders called with an argument that is not a constant: not analysable.
        self.opaque_loaders: set[str] = set()
        self.pickle_index = 0
        self.on_build: Callable[[PickleProgram, ByteSource, Obj], None] | None = None
        # One flat stack; each MARK records the stack depth it was set at.
        self._stack: list[object] = []
        self._marks: list[int] = []
        self._memo: dict[object, object] = {}

    # --- recording ------------------------------------------------------------------------

    def import_global(self, module: str, name: str, offset: int, opcode: str) -> Ref:
        """Record an import of ``module.name`` and return its reference."""
        verdict = classify_global(module, name)
        use = GlobalUse(verdict.qualified, verdict, offset, self.pickle_index, opcode=opcode)
        self.uses.append(use)
        return Ref(verdict.qualified, use)

    def derive(self, qualified: str, via: str, offset: int) -> Ref:
        """Record a name reached dynamically (``getattr(os, "system")``) and return it."""
        verdict = classify_dotted(qualified)
        use = GlobalUse(
            verdict.qualified, verdict, offset, self.pickle_index, via=via, opcode="REDUCE"
        )
        self.uses.append(use)
        return Ref(verdict.qualified, use)

    def unresolvable(self, offset: int, opcode: str, detail: str) -> Ref:
        """Record an import whose name is not constant and return a placeholder reference."""
        self.unresolved.append(Unresolved(offset, self.pickle_index, opcode, detail))
        return Ref("?", None)

    # --- stack helpers --------------------------------------------------------------------

    def _floor(self) -> int:
        """Depth of the innermost mark: values below it cannot be popped without POP_MARK."""
        return self._marks[-1] if self._marks else 0

    def _pop(self, op: Op) -> object:
        if len(self._stack) <= self._floor():
            raise FormatError(f"pickle stack underflow at offset {op.offset} ({op.name})")
        return self._stack.pop()

    def _top(self, op: Op) -> object:
        if len(self._stack) <= self._floor():
            raise FormatError(f"pickle stack underflow at offset {op.offset} ({op.name})")
        return self._stack[-1]

    def _pop_mark(self, op: Op) -> list[object]:
        if not self._marks:
            raise FormatError(f"pickle mark missing at offset {op.offset} ({op.name})")
        depth = self._marks.pop()
        items = self._stack[depth:]
        del self._stack[depth:]
        return items

    # --- running --------------------------------------------------------------------------

    def run_one(self, source: ByteSource) -> object:
        """Run one pickle, up to and including its STOP; return its symbolic result.

        The common opcodes are decoded straight from the source's buffer; any other opcode,
        and any that is damaged or near the end of the stream, takes the exact path
        (:func:`read_op` and :meth:`_step`), which also words every error.
        """
        saved = (self._stack, self._marks, self._memo)
        stack: list[object] = []
        marks: list[int] = []
        memo: dict[object, object] = {}
        self._stack, self._marks, self._memo = stack, marks, memo
        limit = self.limits.max_pickle_opcodes
        from_bytes = int.from_bytes
        # Buffered bytes an opcode needs to take the fast path (never, when it is off).
        fast_needs = _LOOKAHEAD if self.fast else 1 << 62
        # Opcodes are counted in a local; limits and the clock are looked at when the count
        # reaches ``check_at`` (the next multiple of TIME_CHECK_EVERY, or the limit).
        count = self.opcodes
        check_at = 0
        try:
            buf, i, base = source.window(_LOOKAHEAD)
            end = len(buf)
            while True:
                if end - i < _LOOKAHEAD:
                    source.consume_to(i)
                    buf, i, base = source.window(_LOOKAHEAD)
                    end = len(buf)
                count += 1
                if count >= check_at:
                    self.opcodes = count
                    if count > limit:
                        raise LimitExceeded(
                            "max_pickle_opcodes", f"more than {limit} pickle opcodes"
                        )
                    if count % TIME_CHECK_EVERY == 0:
                        self.check_time()
                    check_at = min(limit + 1, (count // TIME_CHECK_EVERY + 1) * TIME_CHECK_EVERY)
                if end - i >= fast_needs:
                    # --- fast path: arguments and their lengths are in the buffer -------
                    code = buf[i]
                    if code == 0x71:  # BINPUT
                        if len(stack) > (marks[-1] if marks else 0):
                            memo[buf[i + 1]] = stack[-1]
                            i += 2
                            continue
                    elif code == 0x68:  # BINGET
                        key = buf[i + 1]
                        if key in memo:
                            stack.append(memo[key])
                            i += 2
                            continue
                    elif code == 0x94:  # MEMOIZE
                        if len(stack) > (marks[-1] if marks else 0):
                            memo[len(memo)] = stack[-1]
                            i += 1
                            continue
                    elif code == 0x4B:  # BININT1
                        stack.append(buf[i + 1])
                        i += 2
                        continue
                    elif code == 0x8C or code == 0x58:  # SHORT_BINUNICODE, BINUNICODE
                        if code == 0x8C:
                            start, length = i + 2, buf[i + 1]
                        else:
                            start, length = i + 5, from_bytes(buf[i + 1 : i + 5], "little")
                        if start + length <= end and length <= BLOB_THRESHOLD:
                            try:
                                text = buf[start : start + length].decode("utf-8", "surrogatepass")
                            except UnicodeDecodeError:
                                pass  # the exact path reports it
                            else:
                                stack.append(text)
                                i = start + length
                                continue
                    elif code == 0x28:  # MARK
                        marks.append(len(stack))
                        i += 1
                        continue
                    elif code == 0x52 or code == 0x81:  # REDUCE, NEWOBJ
                        if len(stack) - (marks[-1] if marks else 0) >= 2:
                            call_args = stack.pop()
                            func = stack.pop()
                            stack.append(calls.call(self, func, call_args, base + i))
                            i += 1
                            continue
                    elif code == 0x74:  # TUPLE
                        if marks and len(stack) - marks[-1] <= MAX_ITEMS:
                            floor = marks.pop()
                            items = stack[floor:]
                            del stack[floor:]
                            stack.append(Container("tuple", items))
                            i += 1
                            continue
                    elif code == 0x85 or code == 0x86 or code == 0x87:  # TUPLE1, 2, 3
                        count_items = code - 0x84
                        if len(stack) - (marks[-1] if marks else 0) >= count_items:
                            items = stack[-count_items:]
                            del stack[-count_items:]
                            stack.append(Container("tuple", items))
                            i += 1
                            continue
                    elif code == 0x7D or code == 0x5D or code == 0x29 or code == 0x8F:
                        # EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, EMPTY_SET
                        stack.append(Container(_EMPTY_KINDS[code]))
                        i += 1
                        continue
                    elif code == 0x4E:  # NONE
                        stack.append(None)
                        i += 1
                        continue
                    elif code == 0x88 or code == 0x89:  # NEWTRUE, NEWFALSE
                        stack.append(code == 0x88)
                        i += 1
                        continue
                    elif code == 0x65 or code == 0x75:  # APPENDS, SETITEMS
                        if marks and marks[-1] > (marks[-2] if len(marks) > 1 else 0):
                            floor = marks[-1]
                            items = stack[floor:]
                            if code == 0x65 or len(items) % 2 == 0:
                                del stack[floor:]
                                marks.pop()
                                target = stack[-1]
                                if isinstance(target, Container):
                                    if code == 0x75:
                                        items = list(zip(items[::2], items[1::2], strict=True))
                                    target.extend(items)
                                i += 1
                                continue
                    elif code == 0x61 or code == 0x73:  # APPEND, SETITEM
                        needed = 2 if code == 0x61 else 3
                        if len(stack) - (marks[-1] if marks else 0) >= needed:
                            value = stack.pop()
                            if code == 0x73:
                                value = (stack.pop(), value)
                            target = stack[-1]
                            if isinstance(target, Container):
                                target.add(value)
                            i += 1
                            continue
                    elif code == 0x62:  # BUILD
                        if len(stack) - (marks[-1] if marks else 0) >= 2:
                            state = stack.pop()
                            target = stack[-1]
                            calls.build(self, target, state, base + i)
                            i += 1
                            if isinstance(target, Obj) and self.on_build is not None:
                                # The hook reads from the source (joblib array bytes).
                                self.opcodes = count
                                source.consume_to(i)
                                self.on_build(self, source, target)
                                count = self.opcodes
                                buf, i, base = source.window(_LOOKAHEAD)
                                end = len(buf)
                            continue
                    elif code == 0x93:  # STACK_GLOBAL
                        if len(stack) - (marks[-1] if marks else 0) >= 2:
                            module, qualname = stack[-2], stack[-1]
                            if isinstance(module, str) and isinstance(qualname, str):
                                del stack[-2:]
                                ref = self.import_global(module, qualname, base + i, "STACK_GLOBAL")
                                stack.append(ref)
                                i += 1
                                continue
                    elif code == 0x51:  # BINPERSID
                        if len(stack) > (marks[-1] if marks else 0):
                            stack.append(Persistent(stack.pop()))
                            i += 1
                            continue
                    elif code == 0x80:  # PROTO
                        self.protocols.append(buf[i + 1])
                        i += 2
                        continue
                    elif code == 0x2E:  # STOP
                        if len(stack) > (marks[-1] if marks else 0):
                            source.consume_to(i + 1)
                            return stack.pop()
                    elif code == 0x4A:  # BININT
                        stack.append(from_bytes(buf[i + 1 : i + 5], "little", signed=True))
                        i += 5
                        continue
                    elif code == 0x4D:  # BININT2
                        stack.append(from_bytes(buf[i + 1 : i + 3], "little"))
                        i += 3
                        continue
                    elif code == 0x47:  # BINFLOAT
                        stack.append(_DOUBLE.unpack_from(buf, i + 1)[0])
                        i += 9
                        continue
                    elif code == 0x43 or code == 0x55:  # SHORT_BINBYTES, SHORT_BINSTRING
                        length = buf[i + 1]
                        if i + 2 + length <= end:
                            data = buf[i + 2 : i + 2 + length]
                            stack.append(data if code == 0x43 else data.decode("latin-1"))
                            i += 2 + length
                            continue
                    elif code == 0x95:  # FRAME: framing only, the opcodes follow inline
                        i += 9
                        continue
                    elif code == 0x72:  # LONG_BINPUT
                        if len(stack) > (marks[-1] if marks else 0):
                            memo[from_bytes(buf[i + 1 : i + 5], "little")] = stack[-1]
                            i += 5
                            continue
                    elif code == 0x6A:  # LONG_BINGET
                        key = from_bytes(buf[i + 1 : i + 5], "little")
                        if key in memo:
                            stack.append(memo[key])
                            i += 5
                            continue
                # --- exact path ---------------------------------------------------------
                self.opcodes = count
                source.consume_to(i)
                op = read_op(source)
                if op.name == "STOP":
                    return self._pop(op)
                self._step(op, source)
                count = self.opcodes  # a nested pickle (joblib object arrays) counts too
                buf, i, base = source.window(_LOOKAHEAD)
                end = len(buf)
        finally:
            self.opcodes = max(self.opcodes, count)
            self._stack, self._marks, self._memo = saved

    def _step(self, op: Op, source: ByteSource) -> None:
        name = op.name
        stack = self._stack
        if name in _CONST_OPS:
            stack.append(op.arg)
        elif name in _SIMPLE_CONSTANTS:
            stack.append(_SIMPLE_CONSTANTS[name])
        elif name in _EMPTY:
            stack.append(Container(_EMPTY[name]))
        elif name == "MARK":
            self._marks.append(len(stack))
        elif name in ("PROTO", "FRAME"):
            if name == "PROTO" and isinstance(op.arg, int):
                self.protocols.append(op.arg)
        elif name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            key = len(self._memo) if name == "MEMOIZE" else op.arg
            self._memo[key] = self._top(op)
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if op.arg not in self._memo:
                raise FormatError(f"memo key {op.arg!r} missing at offset {op.offset}")
            stack.append(self._memo[op.arg])
        elif name == "POP":
            if len(stack) > self._floor():
                stack.pop()
            else:
                self._pop_mark(op)
        elif name == "POP_MARK":
            self._pop_mark(op)
        elif name == "DUP":
            stack.append(self._top(op))
        else:
            self._structural(op, source)

    def _structural(self, op: Op, source: ByteSource) -> None:
        name = op.name
        if name in ("APPEND", "SETITEM", "ADDITEMS", "APPENDS", "SETITEMS"):
            self._fill(op)
        elif name in ("LIST", "TUPLE", "DICT", "FROZENSET"):
            items = self._pop_mark(op)
            self._stack.append(self._collect(name.lower(), items))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            count = int(name[-1])
            items = [self._pop(op) for _ in range(count)][::-1]
            self._stack.append(Container("tuple", items))
        elif name == "GLOBAL" and isinstance(op.arg, tuple):
            module, qualname = op.arg
            self._stack.append(self.import_global(module, qualname, op.offset, name))
        elif name == "STACK_GLOBAL":
            qualname, module = self._pop(op), self._pop(op)
            if isinstance(module, str) and isinstance(qualname, str):
                self._stack.append(self.import_global(module, qualname, op.offset, name))
            else:
                detail = f"module {_describe(module)}, name {_describe(qualname)}"
                self._stack.append(self.unresolvable(op.offset, name, detail))
        elif name == "INST" and isinstance(op.arg, tuple):
            args = self._pop_mark(op)
            ref = self.import_global(op.arg[0], op.arg[1], op.offset, name)
            self._stack.append(calls.call(self, ref, Container("tuple", args), op.offset))
        elif name == "OBJ":
            marked = self._pop_mark(op)
            if not marked:
                raise FormatError(f"OBJ without a class at offset {op.offset}")
            obj_args = Container("tuple", marked[1:])
            self._stack.append(calls.call(self, marked[0], obj_args, op.offset))
        elif name in ("NEWOBJ", "REDUCE"):
            call_args = self._pop(op)
            self._stack.append(calls.call(self, self._pop(op), call_args, op.offset))
        elif name == "NEWOBJ_EX":
            kwargs, call_args = self._pop(op), self._pop(op)
            self._stack.append(calls.call(self, self._pop(op), call_args, op.offset, kwargs))
        elif name == "BUILD":
            state = self._pop(op)
            target = self._top(op)
            calls.build(self, target, state, op.offset)
            if isinstance(target, Obj) and self.on_build is not None:
                self.on_build(self, source, target)
        elif name == "PERSID":
            self._stack.append(Persistent(op.arg))
        elif name == "BINPERSID":
            self._stack.append(Persistent(self._pop(op)))
        elif name in ("EXT1", "EXT2", "EXT4"):
            detail = f"extension code {op.arg} (resolved through the loader's copyreg registry)"
            self._stack.append(self.unresolvable(op.offset, name, detail))
        elif name == "NEXT_BUFFER":
            self._stack.append(Obj(origin="out-of-band buffer"))
        elif name == "READONLY_BUFFER":
            self._top(op)
        else:
            raise FormatError(f"unsupported pickle opcode {name} at offset {op.offset}")

    def _fill(self, op: Op) -> None:
        name = op.name
        if name in ("APPEND", "SETITEM"):
            value = self._pop(op)
            if name == "SETITEM":
                key = self._pop(op)
                value = (key, value)
            target = self._top(op)
            if isinstance(target, Container):
                target.add(value)
            return
        items = self._pop_mark(op)
        target = self._top(op)
        if not isinstance(target, Container):
            return
        if name == "SETITEMS":
            if len(items) % 2:
                raise FormatError(f"odd number of SETITEMS items at offset {op.offset}")
            for key, value in zip(items[::2], items[1::2], strict=True):
                target.add((key, value))
        else:
            for item in items:
                target.add(item)

    @staticmethod
    def _collect(kind: str, items: list[object]) -> Container:
        container = Container(kind)
        if kind == "dict":
            for key, value in zip(items[::2], items[1::2], strict=False):
                container.add((key, value))
        else:
            for item in items:
                container.add(item)
        return container


def _describe(value: object) -> str:
    if isinstance(value, Ref):
        return f"a reference to {value.qualified}"
    if isinstance(value, Obj):
        return "the result of a call"
    if isinstance(value, str | bytes | int | float):
        return repr(value)[:80]
    return type(value).__name__

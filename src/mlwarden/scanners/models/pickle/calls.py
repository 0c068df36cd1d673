"""What a call or a BUILD does in the symbolic machine.

A call marks its callable as called. Name-resolving callables (``getattr``,
``importlib.import_module``, ``pkgutil.resolve_name``, ``pydoc.locate``, ``operator``
getters) yield a *derived* reference, classified by its full dotted path, so that
``getattr(import_module("os"), "system")`` is reported as ``os.system``. Allowed callables
that instantiate or call one of their arguments (``copyreg._reconstructor``) mark that
argument as called too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlwarden.scanners.models.pickle.stream import Blob
from mlwarden.scanners.models.pickle.values import Container, Obj, Ref, tuple_items

if TYPE_CHECKING:
    from mlwarden.scanners.models.pickle.machine import PickleProgram

#: Callables that resolve a dotted name given as their first argument.
NAME_RESOLVERS = frozenset(
    {
        "importlib.import_module",
        "builtins.__import__",
        "pkgutil.resolve_name",
        "pydoc.locate",
        "importlib.util.resolve_name",
    }
)

#: Callables that return an attribute of their first argument named by their second.
ATTRIBUTE_GETTERS = frozenset({"builtins.getattr", "operator.getitem"})

#: Callables that build a getter or caller applied later to an object.
DEFERRED_GETTERS = frozenset(
    {"operator.attrgetter", "operator.methodcaller", "operator.itemgetter"}
)

#: Loaders of an embedded legacy torch.save file given as their bytes argument (what
#: ``pickle.dumps(tensor)`` produces). The embedded file is analysed in place of a verdict.
NESTED_LOADERS = frozenset({"torch.storage._load_from_bytes"})

#: Allowed callables that instantiate or call an argument, by the argument's position.
INVOKES_ARGUMENT: dict[str, tuple[int, ...]] = {
    "copyreg._reconstructor": (0,),
    "copyreg.__newobj__": (0,),
    "copyreg.__newobj_ex__": (0,),
    "torch._tensor._rebuild_from_type_v2": (0, 1),
    "numpy.core.multiarray._reconstruct": (0,),
    "numpy._core.multiarray._reconstruct": (0,),
    "collections.defaultdict": (0,),
    "functools.partial": (0,),
    "functools.reduce": (0,),
    "builtins.map": (0,),
    "builtins.filter": (0,),
    "builtins.sorted": (),
}


def mark_called(ref: object, offset: int) -> None:
    """Record that the loader would call (or instantiate) this reference."""
    if isinstance(ref, Ref) and ref.use is not None and not ref.use.called:
        ref.use.called = True
        ref.use.call_offset = offset


def _first_string(args: object) -> str | None:
    items = tuple_items(args)
    if items and isinstance(items[0], str):
        return items[0]
    return None


def _path_of(value: object) -> str | None:
    """The dotted path of a reference, or of the class that made an object."""
    if isinstance(value, Ref):
        return value.qualified if value.use is not None else None
    if isinstance(value, Obj) and isinstance(value.origin, Ref):
        return _path_of(value.origin)
    return None


def call(
    program: PickleProgram,
    func: object,
    args: object,
    offset: int,
    kwargs: object = None,
) -> object:
    """The symbolic result of ``func(*args, **kwargs)``, recording what it calls."""
    if isinstance(func, Ref):
        mark_called(func, offset)
        qualified = func.qualified
        derived = _resolve(program, qualified, args, offset)
        if derived is not None:
            return derived
        items = tuple_items(args) or []
        if qualified in NESTED_LOADERS and func.use is not None:
            embedded = items[0] if items else None
            if isinstance(embedded, bytes | Blob):
                program.nested.append(embedded)
            else:
                program.opaque_loaders.add(qualified)
        for position in INVOKES_ARGUMENT.get(qualified, ()):
            if position < len(items):
                mark_called(items[position], offset)
        return Obj(origin=func, args=args)
    if isinstance(func, Obj) and isinstance(func.origin, Ref):
        # A getter built earlier (attrgetter("system")) applied to an object now.
        getter = func.origin.qualified
        if getter in DEFERRED_GETTERS:
            return _apply_getter(program, getter, func.args, args, offset)
    return Obj(origin=func, args=args)


def _resolve(program: PickleProgram, qualified: str, args: object, offset: int) -> Ref | None:
    if qualified in NAME_RESOLVERS:
        target = _first_string(args)
        if target is None:
            return program.unresolvable(offset, "REDUCE", f"{qualified} of a non-constant name")
        return program.derive(target.replace(":", ".").lstrip("."), qualified, offset)
    if qualified in ATTRIBUTE_GETTERS:
        items = tuple_items(args) or []
        base = _path_of(items[0]) if items else None
        attribute = items[1] if len(items) > 1 else None
        if base is None or not isinstance(attribute, str):
            return program.unresolvable(offset, "REDUCE", f"{qualified} of a non-constant path")
        return program.derive(f"{base}.{attribute}", qualified, offset)
    return None


def _apply_getter(
    program: PickleProgram, getter: str, getter_args: object, args: object, offset: int
) -> object:
    names = tuple_items(getter_args) or []
    items = tuple_items(args) or []
    base = _path_of(items[0]) if items else None
    if base is None or not names or not isinstance(names[0], str):
        return program.unresolvable(offset, "REDUCE", f"{getter} applied to a non-constant path")
    derived = program.derive(f"{base}.{names[0]}", getter, offset)
    if getter == "operator.methodcaller":
        mark_called(derived, offset)
    return derived


def build(program: PickleProgram, target: object, state: object, offset: int) -> None:
    """BUILD restores ``state`` into ``target``: a call of ``__setstate__`` when it has one.

    Whether a class has ``__setstate__`` cannot be known without importing it, so restoring
    state into an object made from a global that is not allowed counts as calling it.
    """
    if isinstance(target, Obj):
        target.state = state
        origin = target.origin
        if isinstance(origin, Ref) and not origin.allowed:
            mark_called(origin, offset)
    elif isinstance(target, Ref) and not target.allowed:
        mark_called(target, offset)
    elif isinstance(target, Container):
        return

"""The restricted unpickler: only admitted globals are ever imported, and only once admitted.

It subclasses the pure-Python ``pickle._Unpickler`` rather than the C one, for three reasons:
its opcode table can be wrapped (to count opcodes and to guard ``BUILD``), it reads the stream
only as far as each opcode needs (joblib writes raw array bytes between opcodes), and every read
goes through a :class:`~mlwarden.protect.stream.BoundedStream`, so forged lengths are refused
before memory is allocated.

What is refused, before anything is imported or called:

- any global that :func:`mlwarden.scanners.models.pickle.policy.is_allowed` rejects and the
  caller did not name in ``allow``;
- persistent ids, unless the format defines them (PyTorch storages) and they have its shape;
- extension-registry opcodes, which resolve globals through a process-wide cache;
- ``BUILD`` aimed at a class, module or function (it would rewrite live library code), and
  slot state that sets dunder attributes;
- more opcodes than the limit.
"""

from __future__ import annotations

import _compat_pickle
import importlib
import pickle
import re
import struct
import types
import warnings
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from mlwarden.protect.errors import CheckpointFormatError, SafeLoadError, UnsafeGlobalError
from mlwarden.protect.joblib_arrays import JoblibArrayRecord, read_joblib_array
from mlwarden.protect.stream import BoundedStream
from mlwarden.scanners.models.pickle.policy import (
    Verdict,
    classify_global,
    is_allowed,
    normalise_module,
)

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")

#: Old joblib formats keep arrays in side files next to the pickle: never followed.
_SIDE_FILE_WRAPPERS = frozenset(
    {
        "joblib.numpy_pickle_compat.NDArrayWrapper",
        "joblib.numpy_pickle_compat.ZNDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle_compat.NDArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle_compat.ZNDArrayWrapper",
    }
)
_JOBLIB_WRAPPERS = frozenset(
    {
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    }
)

#: Objects whose attributes ``BUILD`` must never set: that would patch library code in place.
_NOT_BUILDABLE = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
)

Substitutes = Callable[[str], object | None]
PersistentLoad = Callable[[object], object]


def _no_substitutes(_qualified: str) -> object | None:
    return None


class GlobalGate:
    """Decides which globals a restricted unpickler may resolve: the policy plus ``allow``."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        names = [allow] if isinstance(allow, str) else list(allow)
        for name in names:
            if not isinstance(name, str) or not _DOTTED.fullmatch(name):
                raise ValueError(f"allow entries are 'module.name' strings, not {name!r}")
        self.allow = frozenset(names)

    def admit(self, module: str, name: str) -> str:
        """The qualified name of an admitted global; :class:`UnsafeGlobalError` otherwise."""
        normalised = normalise_module(module)
        raw, qualified = f"{module}.{name}", f"{normalised}.{name}"
        if raw in self.allow or qualified in self.allow or is_allowed(module, name):
            return qualified
        verdict = classify_global(module, name)
        if verdict.verdict is Verdict.DANGEROUS:
            refs = ", ".join(verdict.references)
            reason = f"it {verdict.reason}" + (f" ({refs})" if refs else "")
        else:
            reason = "it is not on the allowlist of globals known to be safe to load"
        raise UnsafeGlobalError(qualified, reason)


def resolve_global(module: str, name: str) -> object:
    """Import ``module`` and walk ``name`` (dotted in protocol 4). Call only once admitted."""
    parts = name.split(".")
    if any(not p.isidentifier() for p in parts) or any(
        p.startswith("__") and p.endswith("__") for p in parts[:-1]
    ):
        raise CheckpointFormatError(f"malformed global name {module}.{name}")
    try:
        with warnings.catch_warnings():
            # numpy 2 warns when old pickles name numpy.core; the object is the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            found: object = importlib.import_module(module)
            for part in parts:
                found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise CheckpointFormatError(
            f"global {module}.{name} is admitted but cannot be found here: {exc}"
        ) from None
    return found


def _counted(step: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(unpickler: RestrictedUnpickler) -> None:
        unpickler.opcodes += 1
        if unpickler.opcodes > unpickler.max_opcodes:
            raise CheckpointFormatError(
                f"{unpickler.source.what}: more than {unpickler.max_opcodes} pickle opcodes "
                "(limit reached)"
            )
        step(unpickler)

    return run


class RestrictedUnpickler(pickle._Unpickler):
    """Unpickles from a :class:`BoundedStream`, admitting only the globals ``gate`` admits.

    ``substitutes`` may replace an admitted global by an inert stand-in or a guarded wrapper
    (storage types, tensor rebuilders); ``persistent_load`` is the format's own handler, and
    without one every persistent id is refused.
    """

    # Attributes the pure-Python base class sets in load(); declared for the type checker.
    stack: list[Any]
    append: Callable[[Any], None]
    read: Callable[[int], bytes]
    proto: int
    fix_imports: bool
    _unframer: Any

    dispatch: ClassVar[dict[int, Callable[[Any], None]]] = {}

    def __init__(
        self,
        source: BoundedStream,
        gate: GlobalGate,
        *,
        max_opcodes: int,
        substitutes: Substitutes = _no_substitutes,
        persistent_load: PersistentLoad | None = None,
    ) -> None:
        # Python 2 pickles of NumPy arrays keep raw bytes in str opcodes: latin-1 maps them 1:1.
        super().__init__(source, encoding="latin1")
        self.source = source
        self.gate = gate
        self.max_opcodes = max_opcodes
        self.opcodes = 0
        self._substitutes = substitutes
        self._persistent = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global only after the gate admits it; refuse before any import."""
        if not isinstance(module, str) or not isinstance(name, str):
            raise CheckpointFormatError("global names must be text")
        if self.proto < 3 and self.fix_imports:
            # The renames the standard unpickler applies to Python 2 pickles, checked after.
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        qualified = self.gate.admit(module, name)
        if qualified in _SIDE_FILE_WRAPPERS:
            raise CheckpointFormatError(
                "joblib < 0.10 format: arrays live in side files, which are never opened; "
                "re-save the object with a current joblib"
            )
        if qualified in _JOBLIB_WRAPPERS:
            return JoblibArrayRecord
        substitute = self._substitutes(qualified)
        if substitute is not None:
            return substitute
        return resolve_global(normalise_module(module), name)

    def persistent_load(self, pid: Any) -> Any:
        """Hand a persistent id to the format's handler; refuse it when there is none."""
        if self._persistent is None:
            raise CheckpointFormatError(
                f"{self.source.what}: persistent id {_short(pid)} in a format that defines none"
            )
        return self._persistent(pid)

    def load_object(self) -> Any:
        """Run :meth:`load`, turning every failure that is not a refusal into a format error."""
        try:
            return self.load()
        except SafeLoadError:
            raise
        except RecursionError:
            raise CheckpointFormatError(f"{self.source.what}: objects nested too deeply") from None
        except Exception as exc:
            raise CheckpointFormatError(
                f"{self.source.what}: cannot rebuild the pickled objects: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    # --- guarded opcodes ---------------------------------------------------------------

    def _frame_exhausted(self) -> bool:
        frame = getattr(self._unframer, "current_frame", None)
        if frame is None:
            return True
        with frame.getbuffer() as held:
            return bool(frame.tell() >= len(held))

    def _load_build(self) -> None:
        if len(self.stack) < 2:
            raise CheckpointFormatError(f"{self.source.what}: BUILD with nothing to build")
        state, inst = self.stack[-1], self.stack[-2]
        if isinstance(inst, JoblibArrayRecord):
            if not self._frame_exhausted():
                raise CheckpointFormatError(
                    f"{self.source.what}: joblib array data inside a pickle frame"
                )
            self.stack.pop()
            self.stack[-1] = read_joblib_array(state, self.source, self._nested_load)
            return
        if isinstance(inst, _NOT_BUILDABLE):
            raise CheckpointFormatError(
                f"{self.source.what}: BUILD would set attributes of {_short(inst)}, "
                "changing library code in place; refused"
            )
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            for key in state[1]:
                if isinstance(key, str) and key.startswith("__") and key.endswith("__"):
                    raise CheckpointFormatError(
                        f"{self.source.what}: BUILD sets the special attribute {key!r}; refused"
                    )
        _BASE_BUILD(self)

    def _refuse_extension(self) -> None:
        # EXT1/2/4 name globals through copyreg's process-wide registry and cache, which can
        # hold objects resolved earlier without this gate. ML checkpoints never use them.
        raise CheckpointFormatError(
            f"{self.source.what}: extension-registry opcodes (EXT1/EXT2/EXT4) are refused"
        )

    def _load_bytearray8(self) -> None:
        # The base class allocates the declared length before reading; read first instead.
        (length,) = struct.unpack("<Q", self.read(8))
        self.append(bytearray(self.read(length)))

    def _nested_load(self) -> object:
        nested = RestrictedUnpickler(
            self.source,
            self.gate,
            max_opcodes=self.max_opcodes - self.opcodes,
            substitutes=self._substitutes,
        )
        value = nested.load_object()
        self.opcodes += nested.opcodes
        return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


_BASE_BUILD: Callable[[Any], None] = pickle._Unpickler.dispatch[pickle.BUILD[0]]

RestrictedUnpickler.dispatch = {
    code: _counted(step) for code, step in pickle._Unpickler.dispatch.items()
}
RestrictedUnpickler.dispatch[pickle.BUILD[0]] = _counted(RestrictedUnpickler._load_build)
for _extension in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
    RestrictedUnpickler.dispatch[_extension[0]] = _counted(RestrictedUnpickler._refuse_extension)
RestrictedUnpickler.dispatch[pickle.BYTEARRAY8[0]] = _counted(RestrictedUnpickler._load_bytearray8)

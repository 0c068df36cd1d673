"""Pickle-based file layouts: plain (possibly several) pickles, legacy torch.save, joblib.

- Legacy (non-zip) ``torch.save`` writes five pickles (magic number, protocol, system info,
  the object, the storage keys) and then raw storage bytes, which are not a pickle and are
  not read.
- joblib writes the bytes of each NumPy array inside the pickle stream, right after the BUILD
  of a ``joblib.numpy_pickle.NumpyArrayWrapper``: an optional alignment byte giving a padding
  length, the padding, then ``prod(shape) * itemsize`` bytes; object arrays are a nested
  pickle instead. Those bytes are skipped (or the nested pickle analysed) so the outer stream
  can be followed to its end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from mlwarden.scanners.interface import FormatError, LimitExceeded, Limits
from mlwarden.scanners.models.pickle.machine import PickleProgram
from mlwarden.scanners.models.pickle.stream import ByteSource
from mlwarden.scanners.models.pickle.values import Container, Obj, Ref, tuple_items
from mlwarden.sniff import HEAD_BYTES, looks_like_pickle

#: The first pickle of a legacy torch.save file holds this number.
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
#: How many pickles a legacy torch.save file has before its raw storage bytes.
LEGACY_TORCH_PICKLES = 5
JOBLIB_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"


@dataclass(slots=True)
class PickleAnalysis:
    """The outcome of following a pickle-based stream."""

    program: PickleProgram
    layout: str = "pickle"  # "pickle", "legacy-torch" or "joblib"
    pickles: int = 0
    end: int = 0  # offset where the analysis stopped
    trailing: int = 0  # bytes after the last pickle that are not part of the layout
    joblib_arrays: int = 0


def analyse_stream(
    source: ByteSource,
    limits: Limits,
    check_time: Callable[[], None] | None = None,
    size: int | None = None,
) -> PickleAnalysis:
    """Follow every pickle in ``source``; the analysis so far is kept on ``FormatError``.

    Raises :class:`FormatError` (truncated or invalid) and :class:`LimitExceeded`; callers
    read ``analysis.program`` from the exception's ``analysis`` attribute to report what
    was found before the failure.
    """
    program = PickleProgram(limits, check_time)
    analysis = PickleAnalysis(program)
    program.on_build = _joblib_hook(analysis)
    try:
        _follow(source, analysis, size)
    except (FormatError, LimitExceeded) as exc:
        setattr(exc, "analysis", analysis)  # noqa: B010 - exceptions carry no such field
        raise
    finally:
        # The hook holds the analysis, which holds the program: without this cycle, the
        # symbolic values are freed as soon as the caller is done, not by the collector.
        program.on_build = None
    return analysis


def _follow(source: ByteSource, analysis: PickleAnalysis, size: int | None) -> None:
    program = analysis.program
    limits = program.limits
    while True:
        program.pickle_index = analysis.pickles
        result = program.run_one(source)
        program.results.append(result)
        analysis.pickles += 1
        if analysis.pickles == 1 and result == LEGACY_TORCH_MAGIC:
            analysis.layout = "legacy-torch"
        analysis.end = source.position
        if analysis.layout == "legacy-torch" and analysis.pickles == LEGACY_TORCH_PICKLES:
            return  # raw storage bytes follow: not a pickle, not read
        if source.at_end():
            return
        if not looks_like_pickle(source.peek(HEAD_BYTES)):
            if size is not None:
                analysis.trailing = max(size - source.position, 0)
            else:
                analysis.trailing = len(source.peek(HEAD_BYTES))
            return
        if analysis.pickles >= limits.max_pickles_per_file:
            raise LimitExceeded(
                "max_pickles_per_file",
                f"more than {limits.max_pickles_per_file} pickles in one file",
            )


def _joblib_hook(analysis: PickleAnalysis) -> Callable[[PickleProgram, ByteSource, Obj], None]:
    def after_build(program: PickleProgram, source: ByteSource, target: Obj) -> None:
        origin = target.origin
        if not (isinstance(origin, Ref) and origin.qualified == JOBLIB_WRAPPER):
            return
        analysis.layout = "joblib"
        analysis.joblib_arrays += 1
        _skip_joblib_array(program, source, target)

    return after_build


def _skip_joblib_array(program: PickleProgram, source: ByteSource, wrapper: Obj) -> None:
    state = wrapper.state
    if not isinstance(state, Container) or state.kind != "dict":
        raise FormatError("joblib array wrapper without a state dict")
    shape = tuple_items(state.get("shape"))
    dtype = state.get("dtype")
    if shape is None or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise FormatError("joblib array wrapper with an unreadable shape")
    if _dtype_has_object(dtype):
        # Object arrays are a nested pickle with its own stack and memo.
        program.run_one(source)
        return
    itemsize = _dtype_itemsize(dtype)
    if itemsize is None:
        raise FormatError("joblib array wrapper with an unreadable dtype")
    alignment = state.get("numpy_array_alignment_bytes")
    if state.has("numpy_array_alignment_bytes") and alignment is not None:
        padding = source.read(1)[0]
        source.skip(padding)
    count = math.prod(n for n in shape if isinstance(n, int))
    source.skip(count * itemsize)


def _dtype_args(dtype: object) -> tuple[str, object] | None:
    """The type string and BUILD state of a symbolic ``numpy.dtype(...)`` object."""
    if not isinstance(dtype, Obj):
        return None
    origin = dtype.origin
    if not (isinstance(origin, Ref) and origin.qualified == "numpy.dtype"):
        return None
    args = tuple_items(dtype.args)
    if not args or not isinstance(args[0], str):
        return None
    return args[0], dtype.state


def _dtype_has_object(dtype: object) -> bool:
    described = _dtype_args(dtype)
    if described is None:
        return False
    code, state = described
    fields = tuple_items(state) or []
    # Flag bit 0 of a dtype's state is NPY_ITEM_REFCOUNT: the dtype holds Python objects,
    # directly or in a field of a structured dtype.
    flags = fields[7] if len(fields) > 7 else 0
    return code.startswith("O") or (isinstance(flags, int) and bool(flags & 1))


_TYPE_CODE = re.compile(r"([A-Za-z?])(\d*)")


def _dtype_itemsize(dtype: object) -> int | None:
    described = _dtype_args(dtype)
    if described is None:
        return None
    code, state = described
    fields = tuple_items(state) or []
    if len(fields) > 5 and isinstance(fields[5], int) and fields[5] > 0:
        return fields[5]
    match = _TYPE_CODE.fullmatch(code)
    if match is None:
        return None
    letter, digits = match.groups()
    if digits:
        return int(digits) * (4 if letter == "U" else 1)
    return 1 if letter in "?bB" else None

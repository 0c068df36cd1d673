"""The pickle allowlist: globals real checkpoints use, each with the reason it is safe.

Public data, re-exported by :mod:`mlwarden.scanners.models.pickle.policy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_TORCH_REBUILD = "rebuilds a tensor from storage, sizes and strides; reads no file, runs no code"
_TORCH_STORAGE = "a typed storage class; legacy checkpoints name it to tag tensor data"
_TORCH_DTYPE = "a dtype constant; pickles name it to tag tensor element types"
_TORCH_JIT_LIST = "returns its argument as a typed TorchScript list; runs no code"
_SKLEARN_NEW = "creates an empty instance of the class it is given (cls.__new__(cls)), nothing more"
_NUMPY_REBUILD = "rebuilds an array or scalar from shape, dtype and raw bytes"

_allowed: dict[str, str] = {
    # Python built-in value types: constructing them only builds data.
    "builtins.set": "builds a set from an iterable",
    "builtins.frozenset": "builds a frozenset from an iterable",
    "builtins.slice": "builds a slice object",
    "builtins.complex": "builds a complex number",
    "builtins.bytearray": "builds a bytearray from bytes or a length",
    "builtins.bytes": "builds bytes",
    "builtins.dict": "builds a dict",
    "builtins.list": "builds a list",
    "builtins.tuple": "builds a tuple",
    "builtins.int": "builds an integer",
    "builtins.float": "builds a float",
    "builtins.str": "builds a string",
    "builtins.bool": "builds a boolean",
    "builtins.range": "builds a range object",
    "builtins.object": "the base class; copyreg._reconstructor names it as the base type",
    "builtins.Ellipsis": "the Ellipsis constant",
    "builtins.NotImplemented": "the NotImplemented constant",
    "copyreg._reconstructor": "protocol 0/1 object rebuild: base.__new__(cls) plus state; "
    "the class it creates is itself a global checked separately",
    "copyreg.__newobj__": "cls.__new__(cls, *args); the class is checked separately",
    "copyreg.__newobj_ex__": "cls.__new__(cls, *args, **kwargs); the class is checked separately",
    "_codecs.encode": "turns text into bytes; protocol 2 pickles use it to store bytes",
    "collections.OrderedDict": "an ordered dict; PyTorch state_dicts are OrderedDicts",
    "collections.defaultdict": "a dict with a default factory; the factory is a global "
    "checked separately",
    "collections.Counter": "a counting dict",
    "collections.deque": "a double-ended queue",
    "datetime.datetime": "a timestamp value",
    "datetime.date": "a date value",
    "datetime.time": "a time value",
    "datetime.timedelta": "a duration value",
    "datetime.timezone": "a fixed-offset time zone value",
    "decimal.Decimal": "a decimal number",
    "fractions.Fraction": "a rational number",
    "uuid.UUID": "a UUID value",
    "pathlib.PurePosixPath": "a pure path value; it has no file-system methods",
    "pathlib.Path": "building a path touches nothing; its file methods are denied separately",
    "pathlib.PosixPath": "building a path touches nothing; its file methods are denied separately",
    "pathlib.WindowsPath": "building a path touches nothing; its file methods are denied "
    "separately",
    "pathlib.PureWindowsPath": "a pure path value; it has no file-system methods",
    "re._compile": "compiles a regular expression pattern (tokenizer settings of estimators)",
    # PyTorch tensors and parameters.
    "torch._utils._rebuild_tensor": _TORCH_REBUILD,
    # TorchScript archives: the pickles in constants.pkl, data.pkl and the *.debug_pkl members
    # build lists and tags with these helpers; torch.jit.load's own unpickler knows only them.
    "torch.jit._pickle.build_intlist": _TORCH_JIT_LIST,
    "torch.jit._pickle.build_doublelist": _TORCH_JIT_LIST,
    "torch.jit._pickle.build_boollist": _TORCH_JIT_LIST,
    "torch.jit._pickle.build_tensorlist": _TORCH_JIT_LIST,
    "torch.jit._pickle.build_tensor_from_id": "looks a tensor up by index in the archive's "
    "own tensor table",
    "torch.jit._pickle.restore_type_tag": "attaches a TorchScript type annotation to a value",
    "torch._utils._rebuild_tensor_v2": _TORCH_REBUILD,
    "torch._utils._rebuild_tensor_v3": _TORCH_REBUILD,
    "torch._utils._rebuild_parameter": "wraps a rebuilt tensor in nn.Parameter",
    "torch._utils._rebuild_parameter_with_state": "wraps a rebuilt tensor in nn.Parameter",
    "torch._utils._rebuild_sparse_tensor": "rebuilds a sparse tensor from index/value tensors",
    "torch.serialization._get_layout": "looks a tensor layout constant up by its name, in "
    "torch's own table of layouts",
    # scikit-learn's Cython trees and distance metrics restore themselves with a helper that
    # only calls cls.__new__(cls); the class it is given is a global classified on its own.
    "sklearn.neighbors._kd_tree.newObj": _SKLEARN_NEW,
    "sklearn.neighbors._ball_tree.newObj": _SKLEARN_NEW,
    "sklearn.metrics._dist_metrics.newObj": _SKLEARN_NEW,
    "torch._utils._rebuild_device_tensor_from_numpy": "rebuilds a tensor from a NumPy array",
    "torch._utils._rebuild_qtensor": "rebuilds a quantised tensor",
    "torch._utils._rebuild_meta_tensor_no_storage": "rebuilds a meta tensor (no data)",
    "torch._tensor._rebuild_from_type_v2": "rebuilds a tensor of a tensor subclass; the "
    "subclass is a global checked separately",
    "torch.nn.parameter.Parameter": "the parameter tensor class",
    "torch.Size": "a shape tuple",
    "torch.device": "a device name value",
    "torch.storage.UntypedStorage": _TORCH_STORAGE,
    "torch.storage.TypedStorage": _TORCH_STORAGE,
    **{
        f"torch.{kind}Storage": _TORCH_STORAGE
        for kind in [
            "Float",
            "Double",
            "Half",
            "BFloat16",
            "Long",
            "Int",
            "Short",
            "Char",
            "Byte",
            "Bool",
            "ComplexFloat",
            "ComplexDouble",
            "QInt8",
            "QUInt8",
            "QInt32",
            "QUInt4x2",
            "QUInt2x4",
            "Untyped",
        ]
    },
    **{
        f"torch.{dtype}": _TORCH_DTYPE
        for dtype in [
            "float32",
            "float64",
            "float16",
            "bfloat16",
            "int64",
            "int32",
            "int16",
            "int8",
            "uint8",
            "bool",
            "complex64",
            "complex128",
            "float8_e4m3fn",
            "float8_e5m2",
            "uint16",
            "uint32",
            "uint64",
        ]
    },
    "torch.contiguous_format": "a memory-format constant",
    "torch.channels_last": "a memory-format constant",
    "torch.preserve_format": "a memory-format constant",
    "torch.strided": "a layout constant",
    "torch.sparse_coo": "a layout constant",
    # NumPy arrays, dtypes and scalars.
    "numpy.core.multiarray._reconstruct": _NUMPY_REBUILD,
    "numpy._core.multiarray._reconstruct": _NUMPY_REBUILD,
    "numpy.core.multiarray.scalar": _NUMPY_REBUILD,
    "numpy._core.multiarray.scalar": _NUMPY_REBUILD,
    "numpy.core.numeric._frombuffer": _NUMPY_REBUILD,
    "numpy._core.numeric._frombuffer": _NUMPY_REBUILD,
    "numpy.ma.core._mareconstruct": "rebuilds a masked array",
    "numpy.dtype": "a dtype description",
    **{
        f"numpy.{scalar}": "a NumPy scalar type, named as a dtype setting of an estimator"
        for scalar in [
            "float16",
            "float32",
            "float64",
            "longdouble",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "intp",
            "uintp",
            "bool_",
            "bool",
            "complex64",
            "complex128",
            "str_",
            "bytes_",
            "object_",
            "datetime64",
            "timedelta64",
        ]
    },
    "numpy.ndarray": "the array class",
    "numpy.random._pickle.__randomstate_ctor": "rebuilds a RandomState from its bit generator",
    "numpy.random._pickle.__bit_generator_ctor": "rebuilds a bit generator by its name",
    "numpy.random._pickle.__generator_ctor": "rebuilds a Generator from its bit generator",
    # joblib wrappers around array data.
    "joblib.numpy_pickle.NumpyArrayWrapper": "describes an array whose raw bytes follow in the "
    "stream; reading them runs no code (object arrays are pickles, scanned as such)",
    "joblib.numpy_pickle_compat.NDArrayWrapper": "old joblib: names a side file holding an array",
    "joblib.numpy_pickle_compat.ZNDArrayWrapper": "old joblib: a compressed side-file array",
}

#: ``"module.name"`` -> why importing and calling it while loading is safe.
ALLOWED_GLOBALS: Mapping[str, str] = MappingProxyType(_allowed)

#: Module prefix -> why the *classes* defined under it are safe to instantiate and restore.
#: Only class-like names match (see :func:`classify_global`); functions are never admitted.
ALLOWED_CLASS_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "sklearn.": "scikit-learn estimators and their helpers restore plain attributes "
        "(BaseEstimator.__setstate__ updates __dict__); callables they hold are separate globals",
        "torch.nn.modules.": "PyTorch layer classes; a pickled nn.Module restores its __dict__",
        "numpy.dtypes.": "NumPy 2 dtype classes",
        "numpy.random.": "NumPy bit generators and RandomState, restored from their state",
        "scipy.sparse.": "SciPy sparse matrix and array classes hold index and value arrays",
        "__torch__.": "TorchScript class types: torch.jit.load resolves them from the archive's "
        "own compiled code (checked as MW13x findings), never by a Python import",
    }
)

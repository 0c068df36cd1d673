"""Which pickle globals are safe, which are known to be dangerous, and why.

This module is public data: the pickle scanner classifies every import it finds with
:func:`classify_global`, and the restricted unpickler (``mlwarden.safe_load``) admits only what
:func:`is_allowed` accepts. The names below are a stable interface:

- :data:`ALLOWED_GLOBALS` maps ``"module.name"`` to the reason it is safe to import and call
  while loading (it builds plain data and reaches no file, process, network or importer).
- :data:`ALLOWED_CLASS_PREFIXES` maps a module prefix to the reason its *classes* are safe.
  Only names that look like classes (CapWords, no dots) match, so a prefix never admits the
  functions of a package.
- :data:`DANGEROUS_GLOBALS` maps an exact ``"module.name"`` to a :class:`Reference`.
- :data:`DANGEROUS_MODULES` maps a module (and all its sub-modules) whose every attribute is
  treated as dangerous to a :class:`Reference`.
- :data:`DANGEROUS_NAMES` lists bare callable names that are dangerous whatever module exposes
  them (re-exports such as ``some_package.os.system`` end up here too).

Entries are facts about the Python standard library and common ML libraries; references point
to the weakness (CWE-502) and to published scanner bypasses that used the entry.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ALLOWED_CLASS_PREFIXES",
    "ALLOWED_GLOBALS",
    "CWE_502",
    "DANGEROUS_GLOBALS",
    "DANGEROUS_MODULES",
    "DANGEROUS_NAMES",
    "MODULE_ALIASES",
    "GlobalVerdict",
    "Reference",
    "Verdict",
    "classify_global",
    "is_allowed",
    "normalise_module",
]

CWE_502 = "CWE-502"
PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html#restricting-globals"
JFROG_2025 = "https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/"
PICKLESCAN_ADVISORIES = "https://github.com/mmaitre314/picklescan/security/advisories"


@dataclass(frozen=True, slots=True)
class Reference:
    """Why a global is dangerous, with public references (CWE, CVE, GHSA ids, URLs)."""

    why: str
    references: tuple[str, ...] = (CWE_502,)


class Verdict(enum.StrEnum):
    """How a global is classified."""

    ALLOWED = "allowed"
    DANGEROUS = "dangerous"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class GlobalVerdict:
    """The classification of one ``module.name`` global.

    ``qualified`` is the normalised dotted path; ``matched`` is the policy entry that decided
    (empty for unknown globals); ``reason`` says why, ``references`` where to read more.
    """

    verdict: Verdict
    qualified: str
    reason: str
    references: tuple[str, ...] = ()
    matched: str = ""


def _ref(why: str, *refs: str) -> Reference:
    return Reference(why, (CWE_502, *refs))


# --- allowlist -----------------------------------------------------------------------------

_TORCH_REBUILD = "rebuilds a tensor from storage, sizes and strides; reads no file, runs no code"
_TORCH_STORAGE = "a typed storage class; legacy checkpoints name it to tag tensor data"
_TORCH_DTYPE = "a dtype constant; pickles name it to tag tensor element types"
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
    "torch._utils._rebuild_tensor_v2": _TORCH_REBUILD,
    "torch._utils._rebuild_tensor_v3": _TORCH_REBUILD,
    "torch._utils._rebuild_parameter": "wraps a rebuilt tensor in nn.Parameter",
    "torch._utils._rebuild_parameter_with_state": "wraps a rebuilt tensor in nn.Parameter",
    "torch._utils._rebuild_sparse_tensor": "rebuilds a sparse tensor from index/value tensors",
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
    }
)

#: Class-like names; ``__pyx_unpickle_<Class>`` is the restorer Cython generates for an
#: extension class (it checks a layout checksum and sets fields), so it counts as the class.
_CLASS_NAME = re.compile(r"(?:__pyx_unpickle_)?_{0,2}[A-Z][A-Za-z0-9_]*")

# --- denylist ------------------------------------------------------------------------------

_EXEC = _ref("runs Python source or code objects", PICKLE_DOCS)
_SHELL = _ref("runs an operating-system command", PICKLE_DOCS)
_IMPORTER = _ref(
    "resolves a name or imports a module at load time, reaching any callable",
    "GHSA-vvpj-8cmc-gx39",
    "GHSA-9gvj-pp9x-gcfr",
)
_ATTR = _ref(
    "reaches attributes or methods by name, turning an allowed object into any callable",
    "GHSA-m273-6v24-x4m4",
    "GHSA-955r-x9j8-7rhh",
)
_FILES = _ref("writes, moves or removes files", "CVE-2025-10155", "CVE-2025-10156", JFROG_2025)
_NETWORK = _ref("opens network connections", "GHSA-hgrh-qx5j-jfwx")
_NESTED = _ref("deserialises a nested payload (pickle, marshal)", "GHSA-84r2-jw7c-4r5q")
_PROFILER = _ref(
    "runs code given as a string (profilers, debuggers, test runners)",
    "GHSA-46h3-79wf-xr6c",
    "GHSA-4675-36f9-wf6r",
)
_PACKAGES = _ref(
    "installs packages or environments, running their setup code",
    "CVE-2025-1716",
    "GHSA-655q-fx9r-782v",
    "GHSA-vqmv-47xg-9wpr",
)
_NATIVE = _ref("calls native code or builds raw memory (ctypes)")
_CODEOBJ = _ref("builds functions or code objects from raw bytecode")
_SPAWN = _ref("starts processes", "CVE-2025-10157", JFROG_2025)
_STDLIB_CMD = _ref(
    "runs a shell command through a standard-library helper", "CVE-2026-56315",
    PICKLESCAN_ADVISORIES,
)  # fmt: skip

#: Modules (and their sub-modules) whose every attribute is dangerous in a pickle.
DANGEROUS_MODULES: Mapping[str, Reference] = MappingProxyType(
    {
        "os": _SHELL,
        "posix": _SHELL,
        "nt": _SHELL,
        "subprocess": _SHELL,
        "_posixsubprocess": _SHELL,
        "_winapi": _SHELL,
        "pty": _SHELL,
        "commands": _SHELL,
        "popen2": _SHELL,
        "multiprocessing": _SPAWN,
        "_multiprocessing": _SPAWN,
        "concurrent.futures.process": _SPAWN,
        "asyncio.subprocess": _SPAWN,
        "asyncio.unix_events": _SPAWN,
        "asyncio.windows_events": _SPAWN,
        "asyncio.base_subprocess": _SPAWN,
        "importlib": _IMPORTER,
        "imp": _IMPORTER,
        "zipimport": _IMPORTER,
        "pkgutil": _IMPORTER,
        "runpy": _EXEC,
        "code": _EXEC,
        "codeop": _EXEC,
        "timeit": _PROFILER,
        "cProfile": _PROFILER,
        "profile": _PROFILER,
        "pdb": _PROFILER,
        "bdb": _PROFILER,
        "trace": _PROFILER,
        "doctest": _PROFILER,
        "idlelib": _PROFILER,
        "lib2to3": _PROFILER,
        "_pyrepl": _STDLIB_CMD,
        "pip": _PACKAGES,
        "setuptools": _PACKAGES,
        "distutils": _PACKAGES,
        "venv": _PACKAGES,
        "ensurepip": _PACKAGES,
        "ctypes": _NATIVE,
        "_ctypes": _NATIVE,
        "cffi": _NATIVE,
        "marshal": _NESTED,
        "pickle": _NESTED,
        "_pickle": _NESTED,
        "dill": _NESTED,
        "cloudpickle": _NESTED,
        "shelve": _NESTED,
        "joblib.numpy_pickle_utils": _NESTED,
        "webbrowser": _ref("opens URLs with an external program"),
        "socket": _NETWORK,
        "_socket": _NETWORK,
        "ssl": _NETWORK,
        "http": _NETWORK,
        "httplib": _NETWORK,
        "urllib": _NETWORK,
        "urllib2": _NETWORK,
        "requests": _NETWORK,
        "aiohttp": _NETWORK,
        "ftplib": _NETWORK,
        "smtplib": _NETWORK,
        "telnetlib": _NETWORK,
        "xmlrpc": _NETWORK,
        "shutil": _FILES,
        "tempfile": _FILES,
        "fileinput": _FILES,
        "glob": _FILES,
        "sys": _ref("reaches the interpreter state (sys.modules, hooks, exit)"),
        "signal": _ref("changes process signal handling"),
        "gc": _ref("reaches every live object of the interpreter"),
        "inspect": _ref("reaches frames, globals and source of live objects"),
        "_io": _FILES,
        "io": _FILES,
        "_osx_support": _STDLIB_CMD,
        "_aix_support": _STDLIB_CMD,
        "imaplib": _STDLIB_CMD,
        "mailcap": _STDLIB_CMD,
        "torch.hub": _ref("downloads and runs code from a model repository"),
        "torch._dynamo": _EXEC,
        "torch._inductor": _EXEC,
        "torch.utils.cpp_extension": _ref("compiles and loads native extensions"),
        "numpy.f2py": _EXEC,
        "numpy.testing": _SHELL,
        "numpy.distutils": _PACKAGES,
    }
)

_dangerous: dict[str, Reference] = {
    f"builtins.{name}": _EXEC for name in ("eval", "exec", "compile", "execfile", "breakpoint")
}
_dangerous.update(
    {
        "builtins.__import__": _IMPORTER,
        "builtins.open": _FILES,
        "builtins.input": _ref("reads the terminal, blocking or leaking a prompt"),
        "builtins.getattr": _ATTR,
        "builtins.setattr": _ref("changes attributes of live objects, modules included"),
        "builtins.delattr": _ref("deletes attributes of live objects, modules included"),
        "builtins.globals": _ref("reaches the module namespace of the loader"),
        "builtins.locals": _ref("reaches the local namespace of the loader"),
        "builtins.vars": _ref("reaches the namespace of any object"),
        "builtins.exit": _ref("ends the interpreter"),
        "builtins.quit": _ref("ends the interpreter"),
        "builtins.help": _ref("starts the interactive help pager, which runs a command"),
        "builtins.memoryview": _NATIVE,
        "builtins.type": _ref("builds new classes with arbitrary methods from data"),
        "builtins.super": _ATTR,
        "operator.attrgetter": _ATTR,
        "operator.methodcaller": _ATTR,
        "operator.itemgetter": _ATTR,
        "operator.getitem": _ATTR,
        "operator.call": _EXEC,
        "functools.partial": _ref(
            "wraps another callable with bound arguments, hiding the call", "GHSA-3329-ghmp-jmv5"
        ),
        "functools.reduce": _ref("calls a callable repeatedly"),
        "types.CodeType": _CODEOBJ,
        "types.FunctionType": _CODEOBJ,
        "types.MethodType": _CODEOBJ,
        "types.LambdaType": _CODEOBJ,
        "types.ModuleType": _IMPORTER,
        "pydoc.locate": _IMPORTER,
        "pydoc.pipepager": _SHELL,
        "pydoc.tempfilepager": _SHELL,
        "pydoc.pager": _SHELL,
        "pydoc.getpager": _SHELL,
        "platform.popen": _SHELL,
        "platform._syscmd_file": _SHELL,
        "platform._syscmd_ver": _SHELL,
        "uuid._get_command_stdout": _STDLIB_CMD,
        "uuid._popen": _STDLIB_CMD,
        "codecs.open": _FILES,
        "logging.config.listen": _EXEC,
        "logging.config.fileConfig": _EXEC,
        "logging.config.dictConfig": _EXEC,
        **{
            f"pathlib.{cls}.{method}": _FILES
            for cls in ("Path", "PosixPath", "WindowsPath")
            for method in [
                "write_text",
                "write_bytes",
                "open",
                "unlink",
                "rmdir",
                "touch",
                "mkdir",
                "rename",
                "replace",
                "symlink_to",
                "hardlink_to",
                "chmod",
                "read_text",
                "read_bytes",
            ]
        },
        "os.path": _FILES,
        "zipfile.ZipFile": _FILES,
        "tarfile.open": _FILES,
        "tarfile.TarFile": _FILES,
        "numpy.load": _NESTED,
        "numpy.save": _FILES,
        "numpy.savetxt": _FILES,
        "numpy.tofile": _FILES,
        "numpy.fromfile": _FILES,
        "numpy.memmap": _FILES,
        "numpy.lib.npyio.load": _NESTED,
        "numpy.ctypeslib.load_library": _NATIVE,
        "torch.load": _NESTED,
        "torch.save": _FILES,
        "torch.serialization.load": _NESTED,
        "torch.serialization.save": _FILES,
        "torch.storage._load_from_bytes": _NESTED,
        "torch.jit.load": _NESTED,
        "torch.ops.load_library": _NATIVE,
        "torch.classes.load_library": _NATIVE,
        "torch._C._jit_pass_inline": _EXEC,
        "joblib.load": _NESTED,
        "joblib.dump": _FILES,
        "sklearn.utils._joblib.load": _NESTED,
        "dis.dis": _CODEOBJ,
        "cgitb.handler": _SHELL,
        "site.main": _PACKAGES,
        "site.addsitedir": _PACKAGES,
    }
)

#: ``"module.name"`` -> why it is dangerous. Checked on the full dotted path and its prefixes.
DANGEROUS_GLOBALS: Mapping[str, Reference] = MappingProxyType(_dangerous)

#: Callable names dangerous whatever module re-exports them.
DANGEROUS_NAMES: Mapping[str, Reference] = MappingProxyType(
    {
        "eval": _EXEC,
        "exec": _EXEC,
        "execfile": _EXEC,
        "system": _SHELL,
        "popen": _SHELL,
        "__import__": _IMPORTER,
        "import_module": _IMPORTER,
        "resolve_name": _IMPORTER,
        "spawnl": _SHELL,
        "spawnv": _SHELL,
        "execv": _SHELL,
        "execve": _SHELL,
        "execvp": _SHELL,
        "check_output": _SHELL,
        "check_call": _SHELL,
        "getoutput": _SHELL,
        "getstatusoutput": _SHELL,
        "Popen": _SHELL,
        "run_path": _EXEC,
        "run_module": _EXEC,
        "_run_code": _EXEC,
    }
)

#: Module names as a loader sees them after Python 2 compatibility renames.
MODULE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "__builtin__": "builtins",
        "__builtins__": "builtins",
        "exceptions": "builtins",
        "_operator": "operator",
        "_functools": "functools",
        "_collections": "collections",
        "_codecs_": "_codecs",
        "posixpath": "os.path",
        "ntpath": "os.path",
        "genericpath": "os.path",
        "copy_reg": "copyreg",
        "_pathlib": "pathlib",
        "cPickle": "pickle",
        "_io": "io",
        "_bz2": "bz2",
        "_thread": "threading",
        "thread": "threading",
        "_pydoc": "pydoc",
        "importlib._bootstrap": "importlib",
        "importlib._bootstrap_external": "importlib",
        "urllib.request": "urllib",
        "numpy.core._multiarray_umath": "numpy.core.multiarray",
    }
)


def normalise_module(module: str) -> str:
    """The module name with Python 2 and private-alias renames applied (``__builtin__``)."""
    module = module.strip()
    alias = MODULE_ALIASES.get(module)
    if alias is not None:
        return alias
    head, _, rest = module.partition(".")
    alias = MODULE_ALIASES.get(head)
    return f"{alias}.{rest}" if alias and rest else module


#: Module families also matched inside a longer path (``pkg.os.system`` is ``os.system``
#: re-exported). Short generic names (``io``, ``code``, ``trace``) are matched only as the
#: leading module, since packages legitimately have sub-modules called that.
_REEXPORTED_MODULES = frozenset(
    {"os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "pty", "runpy", "importlib",
     "pickle", "_pickle", "marshal", "ctypes", "pip", "builtins", "webbrowser", "_posixsubprocess"}
)  # fmt: skip


def _dangerous_match(parts: list[str]) -> tuple[str, Reference] | None:
    # Contiguous runs of the dotted path are checked, so that re-exports such as
    # ``torch.serialization.os.system`` or qualified names such as ``Path.write_text`` cannot
    # hide an entry. Longest runs first: the most specific entry gives the reason.
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            dotted = ".".join(parts[start:end])
            ref = DANGEROUS_GLOBALS.get(dotted)
            if ref is None and (start == 0 or dotted in _REEXPORTED_MODULES):
                ref = DANGEROUS_MODULES.get(dotted)
            if ref is not None:
                return dotted, ref
    for part in parts[1:]:
        ref = DANGEROUS_NAMES.get(part)
        if ref is not None:
            return part, ref
    return None


def classify_global(module: str, name: str) -> GlobalVerdict:
    """Classify the global ``module.name`` that a pickle imports.

    Order: an exact allowlist entry wins; then the denylist is matched on the full dotted
    path, every contiguous part of it and the last name; then allowed class prefixes; anything
    else is unknown. ``name`` may itself be dotted (protocol 4 qualified names).
    """
    module = normalise_module(module)
    qualified = f"{module}.{name}" if name else module
    reason = ALLOWED_GLOBALS.get(qualified)
    if reason is not None:
        return GlobalVerdict(Verdict.ALLOWED, qualified, reason, (), qualified)
    parts = [p for p in qualified.split(".") if p]
    hit = _dangerous_match(parts)
    if hit is not None:
        matched, ref = hit
        return GlobalVerdict(Verdict.DANGEROUS, qualified, ref.why, ref.references, matched)
    if _CLASS_NAME.fullmatch(name):
        for prefix, why in ALLOWED_CLASS_PREFIXES.items():
            if module.startswith(prefix) or f"{module}.".startswith(prefix):
                return GlobalVerdict(Verdict.ALLOWED, qualified, why, (), prefix)
    return GlobalVerdict(Verdict.UNKNOWN, qualified, "not on the allowlist", (CWE_502,))


def is_allowed(module: str, name: str) -> bool:
    """Whether a restricted unpickler may resolve ``module.name``."""
    return classify_global(module, name).verdict is Verdict.ALLOWED

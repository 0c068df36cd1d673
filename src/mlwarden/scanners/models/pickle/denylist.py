"""The pickle denylist: callables known to be dangerous in a pickle, with references.

Public data, re-exported by :mod:`mlwarden.scanners.models.pickle.policy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

CWE_502 = "CWE-502"
PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html#restricting-globals"
JFROG_2025 = "https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/"
PICKLESCAN_ADVISORIES = "https://github.com/mmaitre314/picklescan/security/advisories"


class Reference(NamedTuple):
    """Why a global is dangerous, with public references (CWE, CVE, GHSA ids, URLs)."""

    why: str
    references: tuple[str, ...] = (CWE_502,)


def _ref(why: str, *refs: str) -> Reference:
    return Reference(why, (CWE_502, *refs))


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
        # Library functions that evaluate or deserialise what they are given.
        "sympy.sympify": _ref("evaluates its string argument as Python code"),
        "sympy.core.sympify.sympify": _ref("evaluates its string argument as Python code"),
        "sympy.parsing.sympy_parser.parse_expr": _ref("evaluates its string argument"),
        "yaml.load": _ref("constructs arbitrary Python objects from YAML tags", "CVE-2017-18342"),
        "yaml.unsafe_load": _ref("constructs arbitrary Python objects from YAML tags"),
        "yaml.full_load": _ref("constructs Python objects from YAML tags", "CVE-2020-14343"),
        "yaml.load_all": _ref("constructs arbitrary Python objects from YAML tags"),
        "yaml.unsafe_load_all": _ref("constructs arbitrary Python objects from YAML tags"),
        "pandas.read_pickle": _NESTED,
        "pandas.io.pickle.read_pickle": _NESTED,
        "logging.FileHandler": _ref("creates or truncates a file at a path", "CVE-2026-56304"),
        "logging.handlers.RotatingFileHandler": _FILES,
        "logging.handlers.TimedRotatingFileHandler": _FILES,
        "logging.handlers.WatchedFileHandler": _FILES,
        "asyncio.create_subprocess_shell": _SPAWN,
        "asyncio.create_subprocess_exec": _SPAWN,
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

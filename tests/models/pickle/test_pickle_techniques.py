"""One regression test per technique used to hide a call in a pickle."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from pickle_asm import (
    MARK,
    MEMOIZE,
    POP,
    PROTO2,
    REDUCE,
    STACK_GLOBAL,
    TUPLE,
    TUPLE1,
    binget,
    binput,
    call,
    glob,
    program,
    stack_glob,
    ustr,
)

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Finding, Severity

SYSTEM = {"os.system", "posix.system", "nt.system"}


def rule_globals(findings: list[Finding], rule: str) -> set[str]:
    return {g for f in findings if f.rule == rule for g in f.evidence["globals"]}


def only(findings: list[Finding], rule: str, qualified: str) -> Finding:
    hits = [f for f in findings if f.rule == rule and qualified in f.evidence["globals"]]
    assert len(hits) == 1, findings
    return hits[0]


class SystemPayload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


@pytest.mark.parametrize("protocol", range(6))
def test_reduce_payload_every_protocol(protocol: int, marker: Path) -> None:
    data = pickle.dumps({"w": [1.0, SystemPayload(f"touch {marker}")]}, protocol=protocol)
    findings = scan_bytes(data, "model.pkl")
    dangerous = [f for f in findings if f.rule == "MW100"]
    assert len(dangerous) == 1
    hit = dangerous[0]
    assert hit.severity is Severity.CRITICAL
    assert set(hit.evidence["globals"]) <= SYSTEM
    assert hit.evidence["called"] is True
    assert hit.evidence["format"] == "pickle"
    assert hit.evidence["pickle_index"] == 0
    assert isinstance(hit.evidence["offset"], int)


@pytest.mark.parametrize("name", ["model.bin", "model.pt", "model.safetensors", "notes.txt"])
def test_renamed_pickle_is_scanned_by_content(name: str, tmp_path: Path, marker: Path) -> None:
    path = tmp_path / name
    path.write_bytes(pickle.dumps(SystemPayload(f"touch {marker}"), protocol=2))
    result = scan_file(str(path), path)
    assert rule_globals(result.findings, "MW100") & SYSTEM


def test_stack_global_from_memoised_strings() -> None:
    body = (
        ustr("os") + MEMOIZE + ustr("system") + MEMOIZE + POP + POP
        + binget(0) + binget(1) + STACK_GLOBAL + ustr("touch /nonexistent") + TUPLE1 + REDUCE
    )  # fmt: skip
    hit = only(scan_bytes(program(body)), "MW100", "os.system")
    assert hit.evidence["opcode"] == "STACK_GLOBAL"
    assert hit.evidence["called"] is True


def test_memo_mixing_put_and_memoize_does_not_hide_global() -> None:
    # MEMOIZE stores at len(memo), not at a running counter: a model that counts MEMOIZE
    # opcodes alone would resolve these reads to the harmless strings.
    body = (
        ustr("torch._utils") + binput(0) + ustr("os") + MEMOIZE
        + ustr("_rebuild_tensor_v2") + binput(2) + ustr("system") + MEMOIZE
        + binput(0) + POP  # memo[0] is now overwritten with "system" too
        + POP + POP + POP
        + binget(1) + binget(3) + STACK_GLOBAL + ustr("id") + TUPLE1 + REDUCE
    )  # fmt: skip
    findings = scan_bytes(program(body))
    assert only(findings, "MW100", "os.system").evidence["called"] is True
    assert "torch._utils._rebuild_tensor_v2" not in rule_globals(findings, "MW100")


def test_stack_global_from_call_result_is_unresolved() -> None:
    # The module name is the result of str("os"): not a constant, so it cannot be resolved.
    body = call(glob("builtins", "str"), "os") + ustr("system") + STACK_GLOBAL
    body += ustr("id") + TUPLE1 + REDUCE
    findings = scan_bytes(program(body))
    unresolved = [f for f in findings if f.rule == "MW103"]
    assert len(unresolved) == 1
    assert unresolved[0].severity is Severity.HIGH
    assert unresolved[0].evidence["opcode"] == "STACK_GLOBAL"


def test_extension_code_is_unresolved() -> None:
    body = b"\x82\x01" + ustr("id") + TUPLE1 + REDUCE  # EXT1 1
    assert [f.rule for f in scan_bytes(program(body, PROTO2))] == ["MW103"]


def test_inst_opcode() -> None:
    data = b"(S'touch /nonexistent'\nios\nsystem\n."
    hit = only(scan_bytes(data), "MW100", "os.system")
    assert hit.evidence["opcode"] == "INST"
    assert hit.evidence["called"] is True


def test_obj_opcode() -> None:
    data = b"(cos\nsystem\nS'touch /nonexistent'\no."
    assert only(scan_bytes(data), "MW100", "os.system").evidence["called"] is True


def test_dotted_module_and_name() -> None:
    findings = scan_bytes(program(call(glob("os.path", "join"), "a")))
    assert only(findings, "MW100", "os.path.join").evidence["matched"] in {"os.path", "os"}
    findings = scan_bytes(program(call(stack_glob("pathlib", "Path.write_text"), "x")))
    assert only(findings, "MW100", "pathlib.Path.write_text")
    # A dangerous module re-exported as an attribute of another one.
    findings = scan_bytes(program(call(stack_glob("torch.serialization", "os.system"), "x")))
    assert only(findings, "MW100", "torch.serialization.os.system")


def test_getattr_chain_resolves_full_path() -> None:
    # getattr(importlib.import_module("os"), "system")("touch ...")
    module = call(glob("importlib", "import_module"), "os")
    getter = glob("builtins", "getattr") + MARK + module + ustr("system") + TUPLE + REDUCE
    body = getter + MARK + ustr("touch /nonexistent") + TUPLE + REDUCE
    findings = scan_bytes(program(body))
    system = only(findings, "MW100", "os.system")
    assert system.evidence["via"] == "builtins.getattr"
    assert system.evidence["called"] is True
    assert {"builtins.getattr", "importlib.import_module", "os"} <= rule_globals(findings, "MW100")


def test_attrgetter_and_methodcaller_resolve_full_path() -> None:
    module = call(glob("importlib", "import_module"), "subprocess")
    getter = call(glob("operator", "attrgetter"), "check_output")
    body = getter + MARK + module + TUPLE + REDUCE + ustr("id") + TUPLE1 + REDUCE
    findings = scan_bytes(program(body))
    assert only(findings, "MW100", "subprocess.check_output").evidence["via"] == (
        "operator.attrgetter"
    )
    caller = call(glob("operator", "methodcaller"), "system", "id")
    body = caller + MARK + call(glob("importlib", "import_module"), "os") + TUPLE + REDUCE
    findings = scan_bytes(program(body))
    assert only(findings, "MW100", "os.system").evidence["called"] is True


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("pkgutil", "resolve_name"),
        ("pydoc", "locate"),
        ("importlib", "import_module"),
        ("operator", "attrgetter"),
        ("operator", "methodcaller"),
        ("_operator", "attrgetter"),
        ("builtins", "getattr"),
        ("__builtin__", "eval"),
        ("builtins", "exec"),
        ("builtins", "__import__"),
        ("runpy", "_run_code"),
        ("runpy", "run_path"),
        ("pip", "main"),
        ("pip._internal.cli.main", "main"),
        ("timeit", "timeit"),
        ("cProfile", "run"),
        ("profile", "run"),
        ("pty", "spawn"),
        ("code", "InteractiveInterpreter"),
        ("code", "interact"),
        ("ctypes", "CDLL"),
        ("types", "CodeType"),
        ("types", "FunctionType"),
        ("marshal", "loads"),
        ("webbrowser", "open"),
        ("socket", "create_connection"),
        ("shutil", "rmtree"),
        ("os", "remove"),
        ("posix", "unlink"),
        ("subprocess", "Popen"),
        ("_posixsubprocess", "fork_exec"),
        ("functools", "partial"),
        ("torch.hub", "load"),
        ("numpy", "load"),
        ("pickle", "loads"),
        ("_pickle", "loads"),
        ("dill", "loads"),
        ("asyncio.unix_events", "_UnixSubprocessTransport"),
        ("multiprocessing", "Process"),
        ("bdb", "Bdb"),
        ("trace", "Trace"),
        ("doctest", "debug_script"),
        ("distutils.file_util", "write_file"),
        ("setuptools", "setup"),
        ("venv", "create"),
        ("ensurepip", "bootstrap"),
        ("zipimport", "zipimporter"),
        ("platform", "popen"),
        ("uuid", "_get_command_stdout"),
        ("tempfile", "mkstemp"),
        ("sys", "modules"),
        ("io", "open"),
        ("_io", "FileIO"),
        ("codecs", "open"),
        ("sympy", "sympify"),
        ("yaml", "unsafe_load"),
        ("yaml", "load"),
        ("pandas", "read_pickle"),
        ("asyncio", "create_subprocess_shell"),
        ("logging", "FileHandler"),
        ("imaplib", "IMAP4_stream"),
        ("_pyrepl.pager", "pipe_pager"),
        ("pydoc", "pipepager"),
    ],
)
@pytest.mark.parametrize("opcode", ["GLOBAL", "STACK_GLOBAL"])
def test_dangerous_callable_family(module: str, name: str, opcode: str) -> None:
    ref = glob(module, name) if opcode == "GLOBAL" else stack_glob(module, name)
    findings = scan_bytes(program(call(ref, "x")))
    hits = [f for f in findings if f.rule == "MW100"]
    assert len(hits) == 1, findings
    assert hits[0].severity is Severity.CRITICAL
    assert hits[0].evidence["called"] is True
    assert hits[0].evidence["opcode"] == opcode
    assert "CWE-502" in hits[0].evidence["references"]


def test_unknown_global_called_is_high_and_imported_is_medium() -> None:
    findings = scan_bytes(program(call(glob("mypackage.models", "Builder"), "x")))
    assert only(findings, "MW101", "mypackage.models.Builder").severity is Severity.HIGH
    body = ustr("k") + glob("mypackage.models", "Builder") + TUPLE1 + POP + ustr("v")
    findings = scan_bytes(program(b"(" + body + b"t"))
    assert only(findings, "MW102", "mypackage.models.Builder").severity is Severity.MEDIUM
    assert only(findings, "MW102", "mypackage.models.Builder").evidence["called"] is False


def test_build_on_unknown_class_counts_as_call() -> None:
    # NEWOBJ is a call anyway; an object rebuilt by copyreg._reconstructor then BUILD
    # (protocol 0/1 style) calls the class through the allowlisted helper.
    body = (
        glob("copyreg", "_reconstructor") + MARK + glob("evil", "Gadget")
        + glob("builtins", "object") + b"N" + TUPLE + REDUCE + b"}" + b"b"
    )  # fmt: skip
    findings = scan_bytes(program(body, PROTO2))
    assert only(findings, "MW101", "evil.Gadget").evidence["called"] is True


def test_payload_in_second_pickle() -> None:
    benign = pickle.dumps({"weights": [1, 2, 3]}, protocol=4)
    payload = pickle.dumps(SystemPayload("touch /nonexistent"), protocol=4)
    findings = scan_bytes(benign + payload)
    hits = [f for f in findings if f.rule == "MW100"]
    assert len(hits) == 1
    assert hits[0].evidence["pickle_index"] == 1
    assert hits[0].evidence["offset"] >= len(benign)


def test_trailing_bytes_after_pickle() -> None:
    findings = scan_bytes(pickle.dumps([1, 2], protocol=4) + b"\x00\xffjunk" * 10)
    assert [f.rule for f in findings] == ["MW105"]
    assert findings[0].evidence["length"] == 60

"""A pickle that would call a dangerous function is never passed as clean, however the call is
encoded and whatever containers it travels in.

Pickles are written opcode by opcode, so each way the unpickler can reach a global (GLOBAL,
STACK_GLOBAL from any string opcode or from the memo, INST, Python 2 module names it maps back)
is covered, and then wrapped in zips, tars, compressed streams, NumPy arrays and real torch
checkpoints, in random order and depth.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import zipfile

from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import MARKER, torch_checkpoint
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.findings import Severity

#: Callables that run commands or code; module names as the unpickler would be given them.
DANGEROUS = [
    ("os", "system"),
    ("posix", "system"),
    ("nt", "system"),
    ("subprocess", "Popen"),
    ("subprocess", "check_output"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("__builtin__", "eval"),  # Python 2 name: the unpickler maps it to builtins
    ("commands", "getoutput"),  # Python 2 name of subprocess.getoutput
    ("os", "popen"),
    ("runpy", "_run_code"),
    ("pty", "spawn"),
]


def _short(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _string(text: str, form: str) -> bytes:
    raw = text.encode()
    if form == "short":
        return _short(text)
    if form == "long":
        return b"X" + struct.pack("<I", len(raw)) + raw
    if form == "long8":
        return b"\x8d" + struct.pack("<Q", len(raw)) + raw
    if form == "binstring":  # protocol 1 bytes-string, read as str with the default encoding
        return b"U" + bytes([len(raw)]) + raw
    return b"V" + raw + b"\n"  # protocol 0 unicode


@st.composite
def dangerous_pickles(
    draw: st.DrawFn, headers: tuple[bytes, ...] = (b"\x80\x02", b"\x80\x04", b"\x80\x05")
) -> bytes:
    """A pickle whose loading would call a dangerous global with a harmless argument.

    ``headers`` are the opening bytes to choose from (PROTO n, or none at all).
    """
    module, name = draw(st.sampled_from(DANGEROUS))
    argument = _short(f"touch {MARKER}")
    style = draw(st.sampled_from(["global", "stack", "memo", "inst", "obj", "framed"]))
    form = draw(st.sampled_from(["short", "long", "long8", "binstring", "unicode"]))
    noise = b"}" + _short("epoch") + b"K\x03s0" if draw(st.booleans()) else b""
    if style == "global":
        body = b"c" + f"{module}\n{name}\n".encode() + argument + b"\x85R"
    elif style in ("stack", "framed"):
        body = _string(module, form) + _string(name, form) + b"\x93" + argument + b"\x85R"
    elif style == "memo":
        # The names go through the memo: stored, popped, fetched back.
        body = _string(module, form) + b"q\x01" + b"0" + _string(name, form) + b"q\x02" + b"0"
        body += b"h\x01h\x02\x93" + argument + b"\x85R"
    elif style == "inst":
        body = b"(" + argument + b"i" + f"{module}\n{name}\n".encode()
    else:
        body = b"(c" + f"{module}\n{name}\n".encode() + argument + b"o"
    body = noise + body + b"."
    if style == "framed":
        body = b"\x95" + struct.pack("<Q", len(body)) + body
    return draw(st.sampled_from(headers)) + body


def _zip(name: str, data: bytes, deflate: bool) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("README.md", b"weights for the review classifier\n")
        archive.writestr(name, data)
    return buffer.getvalue()


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _npy_object_array(pickled: bytes) -> bytes:
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + pickled


def _in_torch_checkpoint(pickled: bytes) -> bytes:
    # A real torch.save archive with its data.pkl replaced.
    source = zipfile.ZipFile(io.BytesIO(torch_checkpoint()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = pickled if info.filename.endswith("/data.pkl") else source.read(info)
            archive.writestr(info.filename, data)
    return buffer.getvalue()


MEMBER_NAMES = st.sampled_from(
    ["data.pkl", "DATA.PKL", "archive/data.pkl", "weights.bin", "notes.txt", "a/b/c/model"]
)


@st.composite
def wrapped(draw: st.DrawFn, data: bytes) -> tuple[bytes, list[str]]:
    """``data`` inside zero to three containers, innermost first; returns the layers too."""
    layers: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        layer = draw(st.sampled_from(["zip", "tar", "gzip", "bz2", "xz", "npy", "torch"]))
        if layer in ("npy", "torch") and layers:
            continue  # these hold a pickle, not an archive
        if layer == "zip":
            data = _zip(draw(MEMBER_NAMES), data, draw(st.booleans()))
        elif layer == "tar":
            data = _tar(draw(MEMBER_NAMES), data)
        elif layer == "gzip":
            data = gzip.compress(data)
        elif layer == "bz2":
            data = bz2.compress(data)
        elif layer == "xz":
            data = lzma.compress(data)
        elif layer == "npy":
            data = _npy_object_array(data)
        else:
            data = _in_torch_checkpoint(data)
        layers.append(layer)
    return data, layers


@FUZZ
@given(pickled=dangerous_pickles(), data=st.data())
def test_dangerous_call_is_never_passed_as_clean(pickled: bytes, data: st.DataObject) -> None:
    artifact, layers = data.draw(wrapped(pickled))
    findings = scan_soundly(artifact, "model.bin")
    serious = [f for f in findings if f.severity >= Severity.HIGH]
    assert serious, f"nothing high in {' > '.join(layers) or 'plain pickle'}: {findings}"


#: Openings the unpickler accepts as well: PROTO 0 and 1, no PROTO at all (the unpickler takes
#: any opcode of any protocol), a harmless value then POP. ``pickle.loads`` and
#: ``joblib.load`` run all of them.
UNUSUAL_HEADERS = (b"\x80\x00", b"\x80\x01", b"", b"\x8f0", b"\x8a\x01\x010", b"M\x01\x000")


@FUZZ
@given(pickled=dangerous_pickles(UNUSUAL_HEADERS), data=st.data())
def test_pickles_with_unusual_openings_are_never_passed_as_clean(
    pickled: bytes, data: st.DataObject
) -> None:
    artifact, layers = data.draw(wrapped(pickled))
    findings = scan_soundly(artifact, "model.bin")
    serious = [f for f in findings if f.severity >= Severity.HIGH]
    assert serious, f"nothing high in {' > '.join(layers) or 'plain pickle'}: {findings}"


@FUZZ
@given(prefix=st.binary(min_size=1, max_size=512), pickled=dangerous_pickles())
def test_zips_with_a_prefix_are_never_passed_as_clean(prefix: bytes, pickled: bytes) -> None:
    artifact = prefix + _zip("data.pkl", pickled, deflate=True)
    findings = scan_soundly(artifact, "model.keras")
    assert any(f.severity >= Severity.HIGH for f in findings), findings

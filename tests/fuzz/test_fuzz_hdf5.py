"""Fuzz the HDF5 metadata reader on damaged copies of real files, with h5py out of reach.

Whatever the bytes, the reader ends within its limits and raises nothing but FormatError,
Unsupported or LimitExceeded; a scan of the same bytes without h5py stays sound.
"""

from __future__ import annotations

import io
import sys
import time
from functools import cache

import pytest
from fuzz_mutations import mutated_bytes
from fuzz_oracle import FUZZ, FUZZ_LIMITS, MAX_SECONDS, scan_file_soundly
from fuzz_seeds import keras_files
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.scanners.interface import FormatError, LimitExceeded, ScanContext
from mlwarden.scanners.models.hdf5 import H5Reader, Unsupported

h5py = pytest.importorskip("h5py")
np = pytest.importorskip("numpy")

_EXPECTED = (FormatError, Unsupported, LimitExceeded)


def _h5py_file(libver: str) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver=(libver, "latest")) as f:
        f.attrs["model_config"] = np.bytes_(b'{"class_name": "Sequential"}')
        f.attrs["training_config"] = '{"loss": "mse"}'
        for i in range(10):
            f.attrs[f"a{i}"] = f"value {i}"  # dense attribute storage when new-style
        layers = f.create_group("layers")
        for i in range(12):
            layers.create_group(f"g{i}")  # dense link storage when new-style
        layers.create_dataset("ext", (4,), dtype="f4", external=[("/etc/hostname", 0, 16)])
        layers.create_dataset("w", data=np.arange(6, dtype="f4"))
        f["leak"] = h5py.ExternalLink("other.h5", "/x")
        f["soft"] = h5py.SoftLink("/layers")
        layers["up"] = f
    return buffer.getvalue()


@cache
def _seeds() -> dict[str, bytes]:
    seeds = {"earliest.h5": _h5py_file("earliest"), "latest.h5": _h5py_file("latest")}
    files = keras_files()
    if files is not None:
        seeds["model.h5"] = files["model.h5"]
    return seeds


def _read(data: bytes) -> None:
    context = ScanContext(FUZZ_LIMITS)
    started = time.process_time()
    try:
        reader = H5Reader(io.BytesIO(data), len(data), context.check_time, 5_000, 1 << 22)
        for _ in reader.walk():
            pass
        for name in ("model_config", "training_config"):
            reader.root_attribute(name)
    except _EXPECTED:
        pass
    assert time.process_time() - started < MAX_SECONDS


def test_hdf5_seeds_are_read_whole() -> None:
    for data in _seeds().values():
        reader = H5Reader(io.BytesIO(data), len(data), lambda: None, 5_000)
        assert list(reader.walk())
        assert reader.root_attribute("model_config")


@FUZZ
@given(data=st.data())
def test_damaged_hdf5_files_raise_only_format_errors(data: st.DataObject) -> None:
    seeds = _seeds()
    seed = seeds[data.draw(st.sampled_from(sorted(seeds)))]
    _read(data.draw(mutated_bytes(seed)))


@FUZZ
@given(data=st.data())
def test_damaged_hdf5_files_scan_soundly_without_h5py(data: st.DataObject) -> None:
    seeds = _seeds()
    seed = seeds[data.draw(st.sampled_from(sorted(seeds)))]
    damaged = data.draw(mutated_bytes(seed))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "h5py", None)
        scan_file_soundly(damaged, "model.h5")

"""safe_load on plain pickles, joblib and NumPy files: equal objects, refused payloads."""

from __future__ import annotations

import collections
import ipaddress
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlwarden import Limits, UnsafeGlobalError, safe_load
from mlwarden.protect import CheckpointFormatError

from .builders import PAYLOADS, ShellPayload

COMPRESSORS = ["zlib", "gzip", "bz2", "lzma", "xz"]


@pytest.fixture(scope="module")
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def estimators(iris: tuple[Any, Any]) -> dict[str, Any]:
    features, labels = iris
    return {
        "forest": RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(
            features, labels
        ),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(
            features, labels
        ),
    }


def assert_same_estimator(loaded: Any, original: Any, features: Any) -> None:
    assert type(loaded) is type(original)
    assert repr(loaded.get_params()) == repr(original.get_params())
    np.testing.assert_array_equal(loaded.predict_proba(features), original.predict_proba(features))


@pytest.mark.parametrize("name", ["forest", "pipeline"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_sklearn_model_by_pickle(
    tmp_path: Path, estimators: dict[str, Any], iris: Any, name: str, protocol: int
) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(estimators[name], protocol=protocol))
    assert_same_estimator(safe_load(path), estimators[name], iris[0])


@pytest.mark.parametrize("name", ["forest", "pipeline"])
@pytest.mark.parametrize("compress", [None, *COMPRESSORS])
def test_sklearn_model_by_joblib(
    tmp_path: Path, estimators: dict[str, Any], iris: Any, name: str, compress: str | None
) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(estimators[name], path, compress=(compress, 3) if compress else 0)
    assert_same_estimator(safe_load(path), estimators[name], iris[0])


def test_joblib_arrays_keep_order_dtype_and_byte_order(tmp_path: Path) -> None:
    values = {
        "c": np.arange(12, dtype=np.float32).reshape(3, 4),
        "f": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "big": np.arange(5, dtype=">i4"),
        "record": np.array([(1, 2.0)], dtype=[("a", "<i2"), ("b", "<f8")]),
        "objects": np.array([1, "two", None, {"k": (3,)}], dtype=object),
        "empty": np.zeros((0, 3)),
        "scalar": np.float64(2.5),
    }
    path = tmp_path / "arrays.joblib"
    joblib.dump(values, path)
    loaded = safe_load(path)
    for key, expected in values.items():
        np.testing.assert_array_equal(loaded[key], expected)
        assert loaded[key].shape == np.shape(expected)
    assert loaded["f"].flags.f_contiguous
    assert loaded["big"].dtype == np.dtype("=i4")  # native byte order, as joblib.load gives


@pytest.mark.parametrize("fortran", [False, True])
def test_npy_arrays(tmp_path: Path, fortran: bool) -> None:
    array = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    array = np.asfortranarray(array) if fortran else array
    path = tmp_path / "array.npy"
    np.save(path, array)
    loaded = safe_load(path)
    np.testing.assert_array_equal(loaded, np.load(path))
    assert loaded.flags.f_contiguous == fortran


def test_npy_object_array_goes_through_the_restricted_unpickler(tmp_path: Path) -> None:
    array = np.array([1, "text", None, [1.5, 2]], dtype=object)
    path = tmp_path / "objects.npy"
    np.save(path, array, allow_pickle=True)
    loaded = safe_load(path)
    assert loaded.dtype == object and list(loaded) == list(array)


def test_npz_archive(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, weights=np.eye(3), labels=np.array([1, 0, 1]))
    loaded = safe_load(path)
    assert sorted(loaded) == ["labels", "weights"]
    np.testing.assert_array_equal(loaded["weights"], np.eye(3))


# --- payloads ------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_plain_pickle_payload_is_refused(
    tmp_path: Path, marker: Path, payload: str, protocol: int
) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"ok": [1, 2], "evil": PAYLOADS[payload](marker)}, protocol))
    with pytest.raises(UnsafeGlobalError) as refused:
        safe_load(path)
    assert "allow" in str(refused.value)
    assert not marker.exists()


@pytest.mark.parametrize("compress", [None, *COMPRESSORS])
def test_joblib_payload_is_refused(tmp_path: Path, marker: Path, compress: str | None) -> None:
    path = tmp_path / "evil.joblib"
    value = {"weights": np.arange(10.0), "evil": ShellPayload(marker)}
    joblib.dump(value, path, compress=(compress, 3) if compress else 0)
    with pytest.raises(UnsafeGlobalError, match=r"posix\.system"):
        safe_load(path)


def test_payload_inside_joblib_object_array_is_refused(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "evil.joblib"
    joblib.dump({"objects": np.array([1, ShellPayload(marker)], dtype=object)}, path)
    with pytest.raises(UnsafeGlobalError, match=r"posix\.system"):
        safe_load(path)


def test_payload_inside_npy_object_array_is_refused(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "evil.npy"
    np.save(path, np.array([ShellPayload(marker)], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafeGlobalError, match=r"posix\.system"):
        safe_load(path)


def test_payload_in_a_file_named_like_text_is_still_refused(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(pickle.dumps(ShellPayload(marker)))
    with pytest.raises(UnsafeGlobalError):
        safe_load(path)


# --- allow= --------------------------------------------------------------------------


def test_allow_admits_a_named_global(tmp_path: Path) -> None:
    address = ipaddress.IPv4Address("192.0.2.7")
    path = tmp_path / "address.pkl"
    path.write_bytes(pickle.dumps({"host": address}))
    with pytest.raises(UnsafeGlobalError) as refused:
        safe_load(path)
    assert refused.value.global_name == "ipaddress.IPv4Address"
    assert safe_load(path, allow=["ipaddress.IPv4Address"]) == {"host": address}


def test_allow_names_only_what_it_names(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([ipaddress.IPv4Address("192.0.2.7"), ShellPayload(marker)]))
    with pytest.raises(UnsafeGlobalError, match=r"posix\.system"):
        safe_load(path, allow=["ipaddress.IPv4Address"])


def test_allow_entries_must_be_qualified_names() -> None:
    with pytest.raises(ValueError, match=r"module\.name"):
        safe_load("unused", allow=["system"])


# --- structure and bounds ------------------------------------------------------------


def test_build_on_a_class_is_refused(tmp_path: Path) -> None:
    # GLOBAL collections.Counter; BUILD (None, {"most_common": 1}): would patch the class.
    path = tmp_path / "patch.pkl"
    path.write_bytes(b"\x80\x02ccollections\nCounter\nN}X\x0b\x00\x00\x00most_commonK\x01s\x86b.")
    with pytest.raises(CheckpointFormatError, match="changing library code"):
        safe_load(path)
    assert callable(collections.Counter.most_common)


def test_memo_reference_to_nothing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "memo.pkl"
    path.write_bytes(b"\x80\x02h\x07.")  # BINGET 7 with an empty memo
    with pytest.raises(CheckpointFormatError, match="Memo"):
        safe_load(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x05\x96" + (2**40).to_bytes(8, "little") + b".",  # BYTEARRAY8
        b"\x80\x04\x8e" + (2**40).to_bytes(8, "little") + b".",  # BINBYTES8
        b"\x80\x04\x95" + (2**40).to_bytes(8, "little") + b".",  # FRAME
    ],
    ids=["bytearray8", "binbytes8", "frame"],
)
def test_forged_lengths_are_refused_before_allocating(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "forged.pkl"
    path.write_bytes(data)
    with pytest.raises(CheckpointFormatError, match=r"remain|truncated"):
        safe_load(path)


def test_forged_joblib_array_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "arrays.joblib"
    joblib.dump({"a": np.arange(4, dtype=np.int64)}, path)
    data = path.read_bytes()
    forged = data.replace(b"K\x04\x85", b"J\x00\x00\x00\x40\x85", 1)  # shape (4,) -> (2**30,)
    assert forged != data
    path.write_bytes(forged)
    with pytest.raises(CheckpointFormatError, match="joblib array"):
        safe_load(path)


def test_opcode_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.pkl"
    path.write_bytes(pickle.dumps(list(range(5000)), protocol=0))
    with pytest.raises(CheckpointFormatError, match="limit"):
        safe_load(path, limits=Limits(max_pickle_opcodes=1000))


def test_trailing_pickle_is_refused(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "two.pkl"
    path.write_bytes(pickle.dumps([1, 2]) + pickle.dumps(ShellPayload(marker)))
    with pytest.raises(CheckpointFormatError, match="follows"):
        safe_load(path)


@pytest.mark.parametrize("compress", [None, "gzip", "zlib"])
def test_truncated_joblib_is_refused(tmp_path: Path, compress: str | None) -> None:
    path = tmp_path / "arrays.joblib"
    joblib.dump({"a": np.arange(1000.0)}, path, compress=(compress, 3) if compress else 0)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointFormatError):
        safe_load(path)


def test_safetensors_input_is_not_a_pickle(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"w": np.zeros(2)}, path)
    with pytest.raises(CheckpointFormatError, match="already a safetensors file"):
        safe_load(path)


def test_numpy_and_joblib_files_load_without_importing_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    npy, dumped = tmp_path / "a.npy", tmp_path / "b.joblib"
    np.save(npy, np.arange(3))
    joblib.dump({"a": np.arange(3)}, dumped)
    script = (
        "import sys, mlwarden\n"
        f"mlwarden.safe_load({str(npy)!r}); mlwarden.safe_load({str(dumped)!r})\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_extension_registry_opcodes_are_refused(tmp_path: Path) -> None:
    import copyreg

    copyreg.add_extension("ipaddress", "IPv4Address", 0x4D57)
    try:
        path = tmp_path / "ext.pkl"
        path.write_bytes(pickle.dumps(ipaddress.IPv4Address("192.0.2.1"), protocol=2))
        assert b"\x83" in path.read_bytes()  # EXT2
        with pytest.raises(CheckpointFormatError, match="extension-registry"):
            safe_load(path, allow=["ipaddress.IPv4Address"])
    finally:
        copyreg.remove_extension("ipaddress", "IPv4Address", 0x4D57)

"""Calls that deserialise objects in a way that can run code (MW300-MW307)."""

from __future__ import annotations

import ast

from mlwarden.findings import Severity
from mlwarden.scanners.code.python.context import (
    CallRule,
    ModuleAnalysis,
    argument,
    has_splat,
    is_false,
    is_true,
    keyword,
    snippet,
)

#: Loaders that run pickle (or a pickle superset, or marshal) on what they read.
PICKLE_LOADERS = frozenset(
    {
        "pickle.load",
        "pickle.loads",
        "pickle.Unpickler",
        "dill.load",
        "dill.loads",
        "dill.Unpickler",
        "dill.load_session",
        "dill.load_module",
        "cloudpickle.load",
        "cloudpickle.loads",
        "shelve.open",
        "shelve.DbfilenameShelf",
        "marshal.load",
        "marshal.loads",
        "jsonpickle.decode",
        "jsonpickle.loads",
    }
)

_LEGACY_KERAS_SUFFIXES = (".h5", ".hdf5")
_SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
_FULL_YAML_LOADERS = frozenset({"FullLoader", "CFullLoader"})
_UNSAFE_YAML_LOADERS = frozenset({"Loader", "CLoader", "UnsafeLoader", "CUnsafeLoader"})
_YAML_LOADING = frozenset({"yaml.load", "yaml.load_all"})
_YAML_UNSAFE_CALLS = frozenset({"yaml.unsafe_load", "yaml.unsafe_load_all"})
_YAML_FULL_CALLS = frozenset({"yaml.full_load", "yaml.full_load_all"})


def _first_argument(call: ast.Call) -> str:
    return snippet(call.args[0]) if call.args else ""


def pickle_family(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW300: pickle, dill, cloudpickle, shelve, marshal and jsonpickle loaders."""
    if resolved not in PICKLE_LOADERS:
        return
    analysis.report(
        "MW300",
        call,
        f"{resolved}() deserialises with pickle semantics: a crafted input runs code",
        evidence={"call": resolved, "argument": _first_argument(call)},
        subject=resolved,
    )


def joblib_load(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW301: joblib.load unpickles."""
    if resolved != "joblib.load":
        return
    analysis.report(
        "MW301",
        call,
        "joblib.load() unpickles the file: a crafted file runs code",
        evidence={"call": resolved, "argument": _first_argument(call)},
        subject=resolved,
    )


def pandas_read_pickle(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW302: pandas.read_pickle unpickles."""
    if resolved != "pandas.read_pickle":
        return
    analysis.report(
        "MW302",
        call,
        "pandas.read_pickle() unpickles the file: a crafted file runs code",
        evidence={"call": resolved, "argument": _first_argument(call)},
        subject=resolved,
    )


def numpy_load(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW303: numpy.load(allow_pickle=True)."""
    if resolved != "numpy.load":
        return
    allow = keyword(call, "allow_pickle")
    value = allow.value if allow is not None else argument(call, 2, "allow_pickle")
    if not is_true(value):
        return
    analysis.report(
        "MW303",
        call,
        "numpy.load(allow_pickle=True) unpickles object arrays: a crafted file runs code",
        evidence={"call": resolved, "argument": _first_argument(call), "allow_pickle": True},
        subject=resolved,
    )


def torch_load(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW304: torch.load (and load_state_dict_from_url) without weights_only=True."""
    if resolved not in ("torch.load", "torch.hub.load_state_dict_from_url"):
        return
    weights_only = keyword(call, "weights_only")
    if weights_only is None and has_splat(call):
        return  # may be passed in **kwargs
    evidence: dict[str, object] = {"call": resolved, "argument": _first_argument(call)}
    if weights_only is not None and is_true(weights_only.value):
        return
    if weights_only is not None and is_false(weights_only.value):
        severity, why = Severity.HIGH, "weights_only=False unpickles arbitrary objects"
        evidence["weights_only"] = False
    elif weights_only is not None:
        severity, why = Severity.MEDIUM, "weights_only is not a constant True"
        evidence["weights_only"] = snippet(weights_only.value)
    elif resolved == "torch.hub.load_state_dict_from_url":
        severity, why = Severity.HIGH, "weights_only defaults to False here"
    elif keyword(call, "pickle_module") is not None:
        severity, why = Severity.HIGH, "a pickle_module turns the weights_only default off"
    else:
        severity = Severity.MEDIUM
        why = "weights_only is not given; torch before 2.6 defaults to a full unpickle"
    analysis.report(
        "MW304",
        call,
        f"{resolved}() without weights_only=True: {why}",
        evidence=evidence,
        subject=resolved,
        severity=severity,
    )


def torch_package(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW305: torch.package.PackageImporter runs the packaged code and unpickles."""
    if resolved is None or not (
        resolved.startswith("torch.package.") and resolved.endswith("PackageImporter")
    ):
        return
    analysis.report(
        "MW305",
        call,
        "torch.package.PackageImporter imports code and unpickles objects from the package",
        evidence={"call": resolved, "argument": _first_argument(call)},
        subject=resolved,
    )


def keras_load(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW306: Keras loading with safe mode off, or from the legacy HDF5 format."""
    if resolved is None or not resolved.startswith("keras."):
        return
    if resolved.endswith(".enable_unsafe_deserialization"):
        analysis.report(
            "MW306",
            call,
            "keras unsafe deserialisation is switched on for the whole process",
            evidence={"call": resolved},
            subject=resolved,
            severity=Severity.CRITICAL,
        )
        return
    if not resolved.endswith(".load_model"):
        return
    path = analysis.names.string(argument(call, 0, "filepath"))
    safe_mode = keyword(call, "safe_mode")
    evidence: dict[str, object] = {"call": resolved, "argument": _first_argument(call)}
    if safe_mode is not None and is_false(safe_mode.value):
        evidence["safe_mode"] = False
        analysis.report(
            "MW306",
            call,
            f"{resolved}(safe_mode=False) deserialises Lambda layers: a crafted model runs code",
            evidence=evidence,
            subject=resolved,
            severity=Severity.CRITICAL,
        )
    elif path is not None and path.lower().endswith(_LEGACY_KERAS_SUFFIXES):
        evidence["legacy_format"] = "hdf5"
        analysis.report(
            "MW306",
            call,
            f"{resolved}() on a legacy HDF5 model: safe_mode does not apply to that format",
            evidence=evidence,
            subject=resolved,
        )


def yaml_load(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW307: PyYAML loading that constructs arbitrary Python objects."""
    if resolved in _YAML_UNSAFE_CALLS:
        severity, loader = Severity.HIGH, resolved.rsplit(".", 1)[-1]
    elif resolved in _YAML_FULL_CALLS:
        severity, loader = Severity.MEDIUM, "FullLoader"
    elif resolved in _YAML_LOADING:
        given = argument(call, 1, "Loader")
        if given is None:
            if has_splat(call):
                return
            severity, loader = Severity.HIGH, "default"
        else:
            name = analysis.names.resolve(given) or ""
            module, _, short = name.rpartition(".")
            if module != "yaml" or short in _SAFE_YAML_LOADERS:
                return  # a safe loader, or one of the project's own: not judged here
            if short in _FULL_YAML_LOADERS:
                severity, loader = Severity.MEDIUM, short
            elif short in _UNSAFE_YAML_LOADERS:
                severity, loader = Severity.HIGH, short
            else:
                return
    else:
        return
    analysis.report(
        "MW307",
        call,
        f"{resolved}() with the {loader} loader can construct arbitrary Python objects",
        evidence={"call": resolved, "loader": loader, "argument": _first_argument(call)},
        subject=resolved,
        severity=severity,
    )


#: Handlers by the last part of the called name.
CALL_RULES: dict[str, tuple[CallRule, ...]] = {
    "load": (pickle_family, joblib_load, numpy_load, torch_load, yaml_load),
    "loads": (pickle_family,),
    "Unpickler": (pickle_family,),
    "load_session": (pickle_family,),
    "load_module": (pickle_family,),
    "open": (pickle_family,),
    "DbfilenameShelf": (pickle_family,),
    "decode": (pickle_family,),
    "read_pickle": (pandas_read_pickle,),
    "load_state_dict_from_url": (torch_load,),
    "PackageImporter": (torch_package,),
    "load_model": (keras_load,),
    "enable_unsafe_deserialization": (keras_load,),
    "unsafe_load": (yaml_load,),
    "unsafe_load_all": (yaml_load,),
    "full_load": (yaml_load,),
    "full_load_all": (yaml_load,),
    "load_all": (yaml_load,),
}

"""Analysis of Keras model configs (``config.json`` of ``.keras``, ``model_config`` of ``.h5``).

Keras rebuilds a model from nested ``{"module", "class_name", "config", "registered_name"}``
objects, importing ``module`` and looking ``class_name`` (or, for functions, the name in
``config``) up in it. The config is walked as data: what it would import and call is listed,
nothing is imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from mlwarden.findings import Severity
from mlwarden.scanners.interface import LimitExceeded

#: Top-level packages whose objects Keras configs normally name.
KERAS_ROOTS = frozenset({"keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv", "keras_rs"})
#: TensorFlow's bundled Keras, named through the ``tensorflow`` package.
KERAS_PREFIXES = ("tensorflow.keras", "tensorflow.python.keras", "tf.keras")

#: Modules whose import and use from a model config means code execution, file or network
#: access: the CVE-2025-1550 family.
DANGEROUS_ROOTS = frozenset(
    {
        "builtins",
        "__builtin__",
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "sys",
        "shutil",
        "socket",
        "importlib",
        "runpy",
        "pickle",
        "_pickle",
        "marshal",
        "dill",
        "cloudpickle",
        "joblib",
        "ctypes",
        "pty",
        "code",
        "codeop",
        "types",
        "inspect",
        "webbrowser",
        "urllib",
        "urllib3",
        "requests",
        "httpx",
        "http",
        "ftplib",
        "smtplib",
        "telnetlib",
        "io",
        "_io",
        "pathlib",
        "tempfile",
        "glob",
        "zipfile",
        "tarfile",
        "multiprocessing",
        "threading",
        "asyncio",
        "signal",
        "operator",
        "functools",
        "pydoc",
        "platform",
    }
)

#: Functions inside Keras that configs abuse: downloads (CVE-2025-8747), turning safe mode off
#: (CVE-2025-9906), loading a second model with ``safe_mode=False``, unmarshalling code.
KERAS_GADGETS = frozenset(
    {
        "get_file",
        "enable_unsafe_deserialization",
        "load_model",
        "set_global_attribute",
        "func_load",
        "load_weights",
        "model_from_json",
        "model_from_config",
        "deserialize_keras_object",
    }
)

#: Layers that load code or another model (class name -> why, severity).
CODE_LOADING_LAYERS: dict[str, tuple[str, Severity]] = {
    "TorchModuleWrapper": ("holds a pickled PyTorch module (CVE-2025-49655)", Severity.CRITICAL),
    "TFSMLayer": ("loads a TensorFlow SavedModel from a path (CVE-2026-1462)", Severity.HIGH),
}

#: Most nodes walked in one config; a real config has far fewer.
MAX_NODES = 5_000_000


class ConfigIssue(NamedTuple):
    """One problem in a config: a rule, a severity, a message and where in the config."""

    rule: str
    severity: Severity
    message: str
    path: str
    target: str = ""


def looks_like_keras_config(document: object) -> bool:
    """Whether a JSON document is a Keras model (or layer) config."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("class_name"), str)
        and "config" in document
    )


def module_is_keras(module: str) -> bool:
    """Whether a module belongs to Keras or one of its libraries."""
    return module.split(".", 1)[0] in KERAS_ROOTS or any(
        module == p or module.startswith(p + ".") for p in KERAS_PREFIXES
    )


def analyse_config(document: object) -> list[ConfigIssue]:
    """Every Lambda, dangerous reference and non-Keras import in a Keras config."""
    issues: dict[tuple[str, str], ConfigIssue] = {}
    for path, node in _objects(document):
        for issue in _node_issues(path, node):
            key = (issue.rule, issue.path)
            seen = issues.get(key)
            if seen is None or issue.severity > seen.severity:
                issues[key] = issue
    return list(issues.values())


def _objects(document: object) -> Iterator[tuple[str, dict[str, object]]]:
    stack: list[tuple[str, object]] = [("$", document)]
    count = 0
    while stack:
        path, value = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise LimitExceeded("config_nodes", f"Keras config has more than {MAX_NODES} nodes")
        if isinstance(value, dict):
            yield path, value
            stack.extend((f"{path}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))


def _node_issues(path: str, node: dict[str, object]) -> Iterator[ConfigIssue]:
    class_name = node.get("class_name")
    config = node.get("config")
    if class_name == "__lambda__":
        yield ConfigIssue(
            "MW160", Severity.CRITICAL, "a Lambda function stored as marshalled bytecode", path
        )
        return
    if class_name == "Lambda" and isinstance(config, dict):
        yield from _lambda_issues(path, config)
    if isinstance(class_name, str) and class_name in CODE_LOADING_LAYERS:
        why, severity = CODE_LOADING_LAYERS[class_name]
        yield ConfigIssue("MW163", severity, f"a {class_name} layer {why}", path, class_name)
    module = node.get("module")
    if not isinstance(class_name, str) or not isinstance(module, str):
        return
    name = config if class_name == "function" and isinstance(config, str) else class_name
    yield from _reference_issues(path, module, name)


def _lambda_issues(path: str, config: dict[str, object]) -> Iterator[ConfigIssue]:
    function = config.get("function")
    kind = config.get("function_type")
    if kind == "lambda" or (isinstance(function, list) and function):
        # Keras 2 and tf.keras: [base64 marshalled code, defaults, closure].
        yield ConfigIssue(
            "MW160", Severity.CRITICAL, "a Lambda layer with marshalled Python bytecode", path
        )
    elif kind == "function" and isinstance(function, str):
        module = config.get("module")
        target = f"{module}.{function}" if isinstance(module, str) else function
        yield ConfigIssue("MW160", Severity.HIGH, f"a Lambda layer calling {target}", path, target)
        if isinstance(module, str):
            yield from _reference_issues(path, module, function)
    elif isinstance(function, dict) and function.get("class_name") == "function":
        target = f"{function.get('module')}.{function.get('config')}"
        yield ConfigIssue("MW160", Severity.HIGH, f"a Lambda layer calling {target}", path, target)
    elif not (isinstance(function, dict) and function.get("class_name") == "__lambda__"):
        yield ConfigIssue("MW160", Severity.HIGH, "a Lambda layer", path)


def _reference_issues(path: str, module: str, name: str) -> Iterator[ConfigIssue]:
    target = f"{module}.{name}"
    root = module.split(".", 1)[0]
    if root in DANGEROUS_ROOTS:
        yield ConfigIssue(
            "MW161", Severity.CRITICAL, f"a reference to {target}, imported on load", path, target
        )
    elif module_is_keras(module):
        if name in KERAS_GADGETS:
            yield ConfigIssue(
                "MW161",
                Severity.CRITICAL,
                f"a reference to the Keras function {target}, called on load",
                path,
                target,
            )
    else:
        yield ConfigIssue(
            "MW162",
            Severity.HIGH,
            f"a reference to {target} from module {module!r}, imported on load",
            path,
            target,
        )


__all__ = [
    "CODE_LOADING_LAYERS",
    "DANGEROUS_ROOTS",
    "KERAS_GADGETS",
    "KERAS_ROOTS",
    "ConfigIssue",
    "analyse_config",
    "looks_like_keras_config",
    "module_is_keras",
]

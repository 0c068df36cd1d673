"""Rules for pickle and pickle-based model formats (MW100-119): pickle, legacy torch.save,
joblib, NumPy object arrays. Pickle members of containers (PyTorch zip, npz) use them too."""

from mlwarden.findings import Severity
from mlwarden.rules import define

_CWE_URL = "https://cwe.mitre.org/data/definitions/502.html"
_PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html"
_TORCH_LOAD = "https://pytorch.org/docs/stable/generated/torch.load.html"
_ATLAS = ("AML.T0010", "AML.T0011.000")
_SAFETENSORS = (
    "Load weights only with a restricted loader (torch.load(weights_only=True), "
    "mlwarden.safe_load), or convert the model to safetensors in an isolated environment."
)

define(
    "MW100",
    "pickle-dangerous-global",
    "Pickle imports a dangerous callable",
    Severity.CRITICAL,
    "model",
    """
    The pickle stream imports a callable that can run commands or code, import modules,
    reach attributes by name, touch files or the network, or deserialise a nested payload
    (for example os.system, builtins.exec, subprocess.Popen, importlib.import_module,
    pkgutil.resolve_name, pip.main, runpy._run_code). Loading the file with pickle,
    torch.load(weights_only=False), joblib.load or numpy.load(allow_pickle=True) runs it.
    Names reached dynamically (getattr(module, "system"), attrgetter, import_module) are
    followed and classified by their full dotted path.
    """,
    f"Do not load the file. {_SAFETENSORS} Obtain the model from a trusted source.",
    cwe=(502, 94),
    owasp_ml=("ML06",),
    atlas=_ATLAS,
    references=(
        "CWE-502",
        "CVE-2025-1716",
        "CVE-2025-10155",
        "CVE-2025-10156",
        "CVE-2025-10157",
        "GHSA-655q-fx9r-782v",
        "GHSA-vvpj-8cmc-gx39",
        "GHSA-m273-6v24-x4m4",
        "GHSA-84r2-jw7c-4r5q",
        _CWE_URL,
        _PICKLE_DOCS,
    ),
)

define(
    "MW101",
    "pickle-unknown-global-called",
    "Pickle calls a global that is not on the allowlist",
    Severity.HIGH,
    "model",
    """
    The pickle calls (REDUCE, INST, OBJ, NEWOBJ) or restores state into (BUILD) an object
    made from a global that is neither known safe nor known dangerous. Loading the file runs
    that code with arguments chosen by whoever wrote the file.
    """,
    f"""
    Check that the named module and callable are expected for this model and come from a
    package you trust. {_SAFETENSORS}
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS,
    references=("CWE-502", _CWE_URL, _PICKLE_DOCS, _TORCH_LOAD),
)

define(
    "MW102",
    "pickle-unknown-global-imported",
    "Pickle imports a global that is not on the allowlist",
    Severity.MEDIUM,
    "model",
    """
    The pickle imports a global that is neither known safe nor known dangerous, without
    calling it directly. Importing runs the module's top-level code, and the object can
    still be called by other code in the stream or after loading.
    """,
    f"Check that the named module is expected for this model. {_SAFETENSORS}",
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS,
    references=("CWE-502", _CWE_URL, _PICKLE_DOCS),
)

define(
    "MW103",
    "pickle-unresolved-global",
    "Pickle import cannot be resolved statically",
    Severity.HIGH,
    "model",
    """
    A STACK_GLOBAL takes its module or name from values that are not constant strings
    (results of calls, out-of-range memo tricks), an EXT opcode names a global through the
    loader's copyreg extension registry, or getattr/import_module is given a computed name.
    Scanners that model the stack naively are bypassed this way; the import is reported
    because it cannot be shown safe.
    """,
    f"Do not load the file. {_SAFETENSORS}",
    cwe=(502, 693),
    owasp_ml=("ML06",),
    atlas=_ATLAS,
    references=(
        "CWE-502",
        "GHSA-9gvj-pp9x-gcfr",
        "https://github.com/mmaitre314/picklescan/issues/14",
        _PICKLE_DOCS,
    ),
)

define(
    "MW104",
    "numpy-object-array",
    "NumPy array holds pickled Python objects",
    Severity.MEDIUM,
    "model",
    """
    The .npy data (or npz member) has an object dtype, so its data is a pickle and loading it
    needs numpy.load(allow_pickle=True), which runs whatever that pickle calls. The pickle is
    analysed too; a dangerous call in it is reported separately.
    """,
    """
    Store numeric arrays with a numeric dtype. Load object arrays only from trusted sources;
    never pass allow_pickle=True for files from elsewhere.
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS,
    references=(
        "CWE-502",
        "CVE-2019-6446",
        "https://numpy.org/doc/stable/reference/generated/numpy.load.html",
    ),
)

define(
    "MW105",
    "pickle-trailing-data",
    "Data after the pickle stream",
    Severity.MEDIUM,
    "model",
    """
    Bytes follow the last pickle that are neither another pickle nor part of a known layout
    (legacy torch.save storages, joblib arrays). Loaders stop at the pickle's STOP opcode, so
    the extra bytes are usually ignored, but polyglot files hide a second format there to
    confuse tools that sniff content differently.
    """,
    """
    Find out what produced the extra bytes. Re-save the model with its library, or convert it
    to safetensors.
    """,
    cwe=(434,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=("CWE-434", _PICKLE_DOCS),
)

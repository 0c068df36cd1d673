"""Rules for model formats other than pickle: ONNX, TensorFlow, Keras, GGUF, safetensors,
Hugging Face configs (MW140-199)."""

from mlwarden.findings import Severity
from mlwarden.rules import define

_SUPPLY_CHAIN = ("ML06",)
_UNSAFE_ARTIFACT = ("AML.T0010.003", "AML.T0011.000")

# --- ONNX (MW140-149) ----------------------------------------------------------------------

define(
    "MW140",
    "onnx-external-data-outside-model-dir",
    "ONNX external data points outside the model directory",
    Severity.HIGH,
    "model",
    """
    An ONNX tensor keeps its bytes in an external file named by the `location` entry of its
    `external_data`. A location that is absolute, climbs with `..`, names a drive, a network
    share or a URL, or goes through a symbolic link out of the model directory makes the loader
    read an arbitrary file into the model (and from there into outputs an attacker may see).
    Older onnx releases followed such paths (CVE-2022-25882); the fix was bypassed through
    symbolic links (CVE-2024-27318).
    """,
    """
    Do not load the model. External data files must sit in the model's own directory, named by
    plain relative paths. Re-export the model, or rewrite the locations and check them.
    """,
    cwe=(22, 59),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003", "AML.T0025"),
    references=(
        "CVE-2022-25882",
        "CVE-2024-27318",
        "https://onnx.ai/onnx/repo-docs/ExternalData.html",
    ),
)

define(
    "MW141",
    "onnx-custom-operator-domain",
    "ONNX model uses operators from a custom domain",
    Severity.MEDIUM,
    "model",
    """
    Operators outside the standard ONNX domains (and ONNX Runtime's built-in `com.microsoft`)
    only run when the user registers a custom operator library: native code, or Python code for
    onnxruntime-extensions' Python operators. The model is asking for code that does not come
    with it.
    """,
    """
    Find out which library provides the domain and whether you trust it before registering it.
    Prefer models made of standard operators.
    """,
    cwe=(829,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        "https://onnxruntime.ai/docs/reference/operators/add-custom-op.html",
        "https://onnx.ai/onnx/repo-docs/IR.html#operator-sets",
    ),
)

# --- TensorFlow (MW150-159) ----------------------------------------------------------------

_TF_SECURITY = "https://github.com/tensorflow/tensorflow/blob/master/SECURITY.md"

define(
    "MW150",
    "tf-python-callback-op",
    "TensorFlow graph calls back into Python",
    Severity.CRITICAL,
    "model",
    """
    `PyFunc`, `PyFuncStateless` and `EagerPyFunc` run a Python function when the graph runs.
    A SavedModel is a program: such a node executes Python code in the process that serves it.
    """,
    """
    Do not run the model. Re-export it without `tf.py_function`/`tf.numpy_function`, or run it
    only in an isolated environment.
    """,
    cwe=(94,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        _TF_SECURITY,
        "https://www.tensorflow.org/api_docs/python/tf/py_function",
    ),
)

define(
    "MW151",
    "tf-file-system-op",
    "TensorFlow graph reads or writes files",
    Severity.HIGH,
    "model",
    """
    Operations such as `ReadFile`, `WriteFile`, `MatchingFiles` or `ImmutableConst` touch the
    file system of the machine that runs the graph. In a model meant for inference they can read
    secrets into outputs or drop files (persistence, overwritten code).
    """,
    """
    Check what the operation reads or writes and why the model needs it; do not serve the model
    before that is understood.
    """,
    cwe=(73, 552),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003", "AML.T0011.000", "AML.T0025"),
    references=(
        _TF_SECURITY,
        "https://www.tensorflow.org/api_docs/python/tf/io/write_file",
    ),
)

define(
    "MW152",
    "tf-checkpoint-op-outside-saver",
    "TensorFlow checkpoint operation outside the standard saver",
    Severity.MEDIUM,
    "model",
    """
    `SaveV2`, `RestoreV2`, `MergeV2Checkpoints` and their older forms read and write checkpoint
    files at paths given at run time. Every SavedModel has them in its saver subgraph (the
    `save/` scope, or the `__inference__traced_save`/`restore` functions); anywhere else they can
    write to or read from arbitrary paths.
    """,
    """
    Check where the operation's file name comes from; a model should not write checkpoints while
    it serves.
    """,
    cwe=(73,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(_TF_SECURITY,),
)

define(
    "MW153",
    "tf-exfiltration-op",
    "TensorFlow graph sends data to a file or over the network",
    Severity.HIGH,
    "model",
    """
    Debug operations with `file://` or `grpc://` debug URLs, `PrintV2` writing to a file, and
    RPC operations send tensors (inputs included) out of the model while it runs.
    """,
    """
    Do not serve the model. Remove the debug/print/RPC nodes and re-export it.
    """,
    cwe=(200,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003", "AML.T0025"),
    references=(
        _TF_SECURITY,
        "https://www.tensorflow.org/api_docs/python/tf/print",
    ),
)

define(
    "MW154",
    "tf-asset-outside-model-dir",
    "TensorFlow asset path points outside the SavedModel",
    Severity.HIGH,
    "model",
    """
    A SavedModel's `asset_file_def` names files (vocabularies, lookup tables) that the loader
    joins to the `assets/` directory and feeds to the graph. A name that is absolute or climbs
    with `..` makes the model read an arbitrary file when it is loaded.
    """,
    """
    Do not load the model. Asset names must be plain file names inside `assets/`.
    """,
    cwe=(22,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003", "AML.T0025"),
    references=(
        "https://www.tensorflow.org/guide/saved_model",
        _TF_SECURITY,
    ),
)

# --- Keras (MW160-169) ---------------------------------------------------------------------

define(
    "MW160",
    "keras-lambda-layer",
    "Keras Lambda layer carries Python code",
    Severity.CRITICAL,
    "model",
    """
    A `Lambda` layer stores its function as marshalled Python bytecode (or a reference to a
    function) that runs when the model is loaded or called. Keras before 2.13 ran it on load
    (CVE-2024-3660); legacy HDF5 files ignore `safe_mode` (CVE-2025-9905), and config tricks
    switch safe mode off (CVE-2025-9906).
    """,
    """
    Do not load the model with `safe_mode=False` or from HDF5. Replace the Lambda with a
    registered custom layer whose code you review, and re-save.
    """,
    cwe=(94, 502),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        "CVE-2024-3660",
        "CVE-2025-9905",
        "CVE-2025-9906",
        "https://keras.io/api/layers/core_layers/lambda/",
    ),
)

define(
    "MW161",
    "keras-dangerous-callable",
    "Keras config references a dangerous callable",
    Severity.CRITICAL,
    "model",
    """
    Keras rebuilds objects from `module`/`class_name` pairs in the model config and imports the
    module to do so. A config that names `os`, `subprocess`, `builtins` and the like, or Keras
    gadgets such as `keras.utils.get_file`, `keras.models.load_model` or
    `keras.config.enable_unsafe_deserialization`, runs code, downloads files or switches safe mode
    off on load, `safe_mode=True` notwithstanding in affected versions.
    """,
    """
    Do not load the model. Keep Keras at its latest release (each of these bypasses was fixed in
    turn) and still refuse models whose config names modules outside Keras.
    """,
    cwe=(94, 502),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        "CVE-2025-1550",
        "CVE-2025-8747",
        "CVE-2025-9906",
        "CVE-2024-55459",
        "https://github.com/keras-team/keras/security/advisories/GHSA-48g7-3x6r-xfhp",
    ),
)

define(
    "MW162",
    "keras-non-keras-module",
    "Keras config imports a module outside Keras",
    Severity.HIGH,
    "model",
    """
    The model config names a module that is not part of Keras (or KerasHub/KerasNLP/KerasCV).
    Loading imports that module and calls what the config names in it; this is how the
    CVE-2025-1550 safe-mode bypass works.
    """,
    """
    Make sure the module is one you installed on purpose and trust; otherwise do not load the
    model.
    """,
    cwe=(94, 502),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        "CVE-2025-1550",
        "https://keras.io/guides/serialization_and_saving/",
    ),
)

define(
    "MW163",
    "keras-code-loading-layer",
    "Keras layer loads code or another model",
    Severity.HIGH,
    "model",
    """
    Some Keras layers load more than weights: `TorchModuleWrapper` keeps a pickled PyTorch
    module (code execution on load, CVE-2025-49655) and `TFSMLayer` loads a TensorFlow
    SavedModel from a path named in the config (CVE-2026-1462).
    """,
    """
    Do not load the model unless you trust the wrapped module or the SavedModel it points to.
    """,
    cwe=(502, 829),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=("CVE-2025-49655", "CVE-2026-1462"),
)

define(
    "MW164",
    "hdf5-external-reference",
    "HDF5 file refers to data in other files",
    Severity.HIGH,
    "model",
    """
    External links, external dataset storage and virtual datasets make an HDF5 file read other
    files when it is opened or its weights are loaded. In a model file this reads arbitrary
    local files into weights (CVE-2026-1669).
    """,
    """
    Do not load the model. Weights must be stored inside the file.
    """,
    cwe=(22, 73),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003", "AML.T0025"),
    references=(
        "CVE-2026-1669",
        "https://docs.h5py.org/en/stable/high/group.html#external-links",
    ),
)

# --- Chat templates: GGUF, Hugging Face (MW170-179) ---------------------------------------

define(
    "MW170",
    "chat-template-injection",
    "Chat template reaches Python internals",
    Severity.CRITICAL,
    "model",
    """
    The Jinja2 chat template (GGUF metadata, Hugging Face tokenizer config) accesses dunder
    attributes (`__class__`, `__globals__`, `__subclasses__`...), uses the `attr` filter or the
    internals of gadget globals (`cycler`, `joiner`, `namespace`, `lipsum`), or names
    `os`/`popen`/`eval`-like objects. Rendered by an unsandboxed environment, as
    llama-cpp-python did, this runs code (CVE-2024-34359).
    """,
    """
    Do not use the model's chat template. Render templates only in a sandboxed environment, or
    replace the template with a known one.
    """,
    cwe=(1336, 94),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=(
        "CVE-2024-34359",
        "https://github.com/abetlen/llama-cpp-python/security/advisories/GHSA-56xg-wfcc-g829",
    ),
)

define(
    "MW171",
    "chat-template-unparsable",
    "Chat template cannot be parsed",
    Severity.MEDIUM,
    "model",
    """
    The chat template is not valid Jinja2, so it could not be shown safe. Renderers differ, and
    one may accept what the parser here rejects.
    """,
    """
    Replace the chat template with a known one before using the model in a chat application.
    """,
    cwe=(1336,),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=("CVE-2024-34359",),
)

define(
    "MW172",
    "chat-template-loads-templates",
    "Chat template loads other templates",
    Severity.MEDIUM,
    "model",
    """
    The chat template uses `include`, `import` or `extends`, which read other templates through
    the renderer's loader: files on disk when one is configured.
    """,
    """
    Chat templates need none of these; replace the template with a self-contained one.
    """,
    cwe=(73, 1336),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=("https://jinja.palletsprojects.com/en/stable/templates/#include",),
)

# --- safetensors (MW180-189) ---------------------------------------------------------------

define(
    "MW180",
    "safetensors-header-inconsistent",
    "safetensors header is inconsistent",
    Severity.HIGH,
    "model",
    """
    The JSON header lies about the data: unknown dtypes, negative shapes, offsets outside the
    file, overlapping or out-of-order tensors, gaps, byte lengths that do not match shape and
    dtype, duplicate names, or non-string metadata. Readers disagree on such files (parser
    differentials), and some read out of bounds; a file made by a real writer never has them.
    """,
    """
    Do not load the file. Obtain it again from a trusted source, or re-export it.
    """,
    cwe=(20, 125),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=("AML.T0010.003",),
    references=(
        "https://github.com/huggingface/safetensors#format",
        "https://huggingface.co/docs/safetensors/index",
    ),
)

# --- Hugging Face configs (MW190-199) ------------------------------------------------------

define(
    "MW190",
    "hf-remote-code-reference",
    "Hugging Face config loads custom code",
    Severity.MEDIUM,
    "model",
    """
    `auto_map` (and `custom_pipelines`) entries in a Hugging Face config name Python modules
    that `transformers` downloads and imports when the model is loaded with
    `trust_remote_code=True`. An entry of the form `other/repo--module.Class` pulls code from
    another repository, which may change without the model changing.
    """,
    """
    Read the referenced modules before passing `trust_remote_code=True`, pin a revision, or use
    a model whose architecture ships with `transformers`.
    """,
    cwe=(94, 829),
    owasp_ml=_SUPPLY_CHAIN,
    atlas=_UNSAFE_ARTIFACT,
    references=("https://huggingface.co/docs/transformers/custom_models",),
)

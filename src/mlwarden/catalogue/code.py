"""Rules for Python code (MW300-MW339): unsafe deserialisation, where models and code come
from, untrusted text reaching code execution or SQL, and ML servers left open."""

from mlwarden.findings import Severity
from mlwarden.rules import define

_CWE_502 = "https://cwe.mitre.org/data/definitions/502.html"
_PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html"
_TORCH_LOAD = "https://pytorch.org/docs/stable/generated/torch.load.html"
_HF_SECURITY = "https://huggingface.co/docs/hub/security"
_OWASP_LLM_OUTPUT = "https://genai.owasp.org/llmrisk/llm052025-improper-output-handling/"
_ATLAS_LOAD = ("AML.T0010", "AML.T0011.000")
_ATLAS_SUPPLY = ("AML.T0010",)
_ATLAS_OUTPUT = ("AML.T0051", "AML.T0050")
_ATLAS_INPUT = ("AML.T0049", "AML.T0050")
_ATLAS_EXPOSED = ("AML.T0049",)
_RAY = "https://docs.ray.io/en/latest/ray-security/index.html"

define(
    "MW300",
    "python-pickle-load",
    "Deserialisation with pickle, dill, cloudpickle, shelve, marshal or jsonpickle",
    Severity.HIGH,
    "code",
    """
    The code loads data with pickle (or cPickle/_pickle), dill, cloudpickle, shelve, marshal or
    jsonpickle. These formats rebuild arbitrary objects: a crafted file or string runs code
    with the privileges of the process as it is loaded. marshal can also crash the
    interpreter on malformed input. The call is reported wherever the data comes from; code
    that only reads files it wrote itself can suppress the finding with a reason.
    """,
    """
    Store data and model weights in formats that hold no code: JSON, NumPy arrays without
    objects, safetensors. If pickle is unavoidable, subclass pickle.Unpickler with a
    find_class that allows only the classes you expect, and verify the data's origin
    (a signature or a pinned hash) before loading.
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        _CWE_502,
        _PICKLE_DOCS,
        "https://docs.python.org/3/library/marshal.html",
        "https://docs.python.org/3/library/shelve.html",
        "https://jsonpickle.github.io/",
    ),
)

define(
    "MW301",
    "python-joblib-load",
    "joblib.load unpickles its file",
    Severity.HIGH,
    "code",
    """
    joblib.load reads joblib's pickle-based format. Loading a crafted file runs code; this is
    how scikit-learn models are usually shared, so a downloaded model is a common vector.
    """,
    """
    Load only files you produced or whose hash you pinned. For scikit-learn models consider
    skops.io with an explicit list of trusted types, or ONNX for inference.
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "CVE-2024-34997",
        "https://joblib.readthedocs.io/en/stable/persistence.html",
        "https://scikit-learn.org/stable/model_persistence.html",
    ),
)

define(
    "MW302",
    "python-pandas-read-pickle",
    "pandas.read_pickle unpickles its file",
    Severity.HIGH,
    "code",
    """
    pandas.read_pickle is pickle.load with decompression: reading a crafted file (local or
    from a URL) runs code.
    """,
    "Exchange data frames as Parquet, Feather or CSV instead of pickle.",
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "https://pandas.pydata.org/docs/reference/api/pandas.read_pickle.html",
        _PICKLE_DOCS,
    ),
)

define(
    "MW303",
    "python-numpy-load-allow-pickle",
    "numpy.load with allow_pickle=True",
    Severity.HIGH,
    "code",
    """
    numpy.load refuses object arrays by default because they are stored as pickles.
    allow_pickle=True turns that protection off: loading a crafted .npy or .npz runs code.
    """,
    """
    Keep the default allow_pickle=False and store numeric arrays only; save structured data
    in a format without code (JSON, safetensors).
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "CVE-2019-6446",
        "https://numpy.org/doc/stable/reference/generated/numpy.load.html",
    ),
)

define(
    "MW304",
    "python-torch-load-unsafe",
    "torch.load without weights_only=True",
    Severity.MEDIUM,
    "code",
    """
    torch.load unpickles the checkpoint. With weights_only=True it uses a restricted
    unpickler that only rebuilds tensors and plain containers. torch 2.6 made that the
    default, but the same code run on an older torch (or with a pickle_module, which turns
    the default off) unpickles anything: medium when the argument is absent, high when
    weights_only=False is written out or the function defaults to False
    (torch.hub.load_state_dict_from_url). torch before 2.6 also had a bypass of
    weights_only=True (CVE-2025-32434), so require torch>=2.6 as well.
    """,
    """
    Pass weights_only=True, require torch>=2.6, and prefer safetensors for weights you
    download.
    """,
    cwe=(502,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "CVE-2025-32434",
        _TORCH_LOAD,
        "https://pytorch.org/docs/stable/notes/serialization.html#weights-only",
    ),
)

define(
    "MW305",
    "python-torch-package-importer",
    "torch.package.PackageImporter loads code and pickles",
    Severity.HIGH,
    "code",
    """
    A torch.package archive holds Python source and pickled objects. PackageImporter imports
    that source and unpickles the objects: opening an untrusted package runs its code. The
    PyTorch documentation says to open only packages you trust.
    """,
    "Load torch.package archives only from trusted, verified sources; ship weights as safetensors.",
    cwe=(502, 94),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=("CWE-502", "https://pytorch.org/docs/stable/package.html"),
)

define(
    "MW306",
    "python-keras-unsafe-load",
    "Keras model loading without safe mode",
    Severity.HIGH,
    "code",
    """
    Keras Lambda layers can hold Python bytecode. load_model(safe_mode=False) or
    keras.config.enable_unsafe_deserialization() lets a model file run that code when it is
    loaded (critical). Loading the legacy HDF5 format (.h5, .hdf5) is reported too: safe mode
    does not apply there in affected Keras versions, so a crafted .h5 runs code whatever the
    caller asks (high).
    """,
    """
    Keep safe_mode at its default (True), use the .keras format, upgrade Keras, and convert
    legacy .h5 models in an isolated environment.
    """,
    cwe=(502, 94),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "CVE-2024-3660",
        "CVE-2025-1550",
        "CVE-2025-9905",
        "https://keras.io/api/models/model_saving_apis/model_saving_and_loading/",
    ),
)

define(
    "MW307",
    "python-yaml-unsafe-load",
    "YAML loaded with a loader that builds Python objects",
    Severity.HIGH,
    "code",
    """
    yaml.load without a Loader (PyYAML before 6 defaulted to an unsafe one), with
    yaml.Loader or yaml.UnsafeLoader, and yaml.unsafe_load construct arbitrary Python
    objects from tags such as !!python/object/apply: a crafted config runs code (high).
    yaml.full_load and FullLoader are narrower but have had bypasses (medium).
    """,
    "Use yaml.safe_load, or yaml.load(stream, Loader=yaml.SafeLoader).",
    cwe=(502, 20),
    owasp_ml=("ML06",),
    atlas=_ATLAS_LOAD,
    references=(
        "CWE-502",
        "CVE-2017-18342",
        "CVE-2020-1747",
        "CVE-2020-14343",
        "https://pyyaml.org/wiki/PyYAMLDocumentation",
    ),
)

define(
    "MW310",
    "python-trust-remote-code",
    "trust_remote_code=True runs code from the model repository",
    Severity.HIGH,
    "code",
    """
    With trust_remote_code=True, transformers (from_pretrained, pipeline, Auto classes) and
    datasets.load_dataset download Python files from the Hub repository and import them.
    Whoever controls the repository, or the branch you load, runs code on your machine.
    """,
    """
    Use architectures built into the library. If remote code is needed, read it, pin the
    repository to a commit sha with revision=..., or vendor the code into your project.
    """,
    cwe=(829, 94),
    owasp_ml=("ML06",),
    atlas=_ATLAS_SUPPLY,
    references=(
        "CWE-829",
        "https://huggingface.co/docs/transformers/main/en/custom_models",
        _HF_SECURITY,
    ),
)

define(
    "MW311",
    "python-torch-hub-trust-repo",
    "torch.hub trusts a GitHub repository without asking",
    Severity.HIGH,
    "code",
    """
    torch.hub.load imports hubconf.py from a GitHub repository. trust_repo=True skips the
    confirmation for repositories never seen before (high). Without trust_repo, torch
    versions before 2.0 trusted every repository with only a warning (medium).
    """,
    """
    Pass trust_repo="check" (or False), pin the repository to a tag or commit
    ("owner/repo:ref"), or vendor the model code.
    """,
    cwe=(829, 494),
    owasp_ml=("ML06",),
    atlas=_ATLAS_SUPPLY,
    references=("CWE-829", "https://pytorch.org/docs/stable/hub.html#torch.hub.load"),
)

define(
    "MW312",
    "python-hf-unpinned-revision",
    "Hugging Face download not pinned to a commit",
    Severity.MEDIUM,
    "code",
    """
    from_pretrained, pipeline(model=...), hf_hub_download, snapshot_download or
    load_dataset fetches a Hub repository ("owner/name") without revision=, or with a
    branch or tag name. Branches and tags move: a compromised or updated repository changes
    what your code loads (weights, configs, remote code) without any change on your side.
    Only a 40-hex commit sha is a pin. Repository ids that are not literals, and bare names
    without an owner (often local directories), are not judged.
    """,
    "Pass revision=<full commit sha> and update it deliberately.",
    cwe=(829, 494),
    owasp_ml=("ML06",),
    atlas=_ATLAS_SUPPLY,
    references=(
        "CWE-829",
        "https://huggingface.co/docs/huggingface_hub/guides/download#from-specific-version",
        _HF_SECURITY,
    ),
)

define(
    "MW313",
    "python-plain-http-model-url",
    "Model or data fetched over plain HTTP",
    Severity.MEDIUM,
    "code",
    """
    A URL with the http:// scheme is passed to a call that downloads or loads it, or names
    a model or data file (.pt, .bin, .pkl, .onnx, .safetensors, .csv, ...). Anyone on the
    network path can replace the content; for pickle-based files that means running code.
    Loopback addresses are left out.
    """,
    "Use https:// and check a pinned hash of what you download.",
    cwe=(319, 494),
    owasp_ml=("ML06",),
    atlas=_ATLAS_SUPPLY,
    references=("CWE-319", "CWE-494", "https://cwe.mitre.org/data/definitions/319.html"),
)

define(
    "MW314",
    "python-tls-verification-disabled",
    "TLS certificate verification disabled",
    Severity.HIGH,
    "code",
    """
    verify=False on a requests/httpx call or client, cert_reqs=CERT_NONE,
    ssl._create_unverified_context(), or verify_mode/check_hostname switched off: the
    connection accepts any certificate, so a man in the middle can serve other models,
    data or code.
    """,
    """
    Keep verification on; point verify= (or REQUESTS_CA_BUNDLE) at your internal CA bundle
    instead of turning it off.
    """,
    cwe=(295,),
    owasp_ml=("ML06",),
    atlas=_ATLAS_SUPPLY,
    references=(
        "CWE-295",
        "https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification",
        "https://docs.python.org/3/library/ssl.html#security-considerations",
    ),
)

define(
    "MW320",
    "python-model-output-code-execution",
    "Model output runs as code or a shell command",
    Severity.CRITICAL,
    "code",
    """
    Text produced by a model or LLM (generate, a pipeline call, a chat completion,
    .choices[0].message.content, llm.invoke, tokenizer.decode) reaches eval, exec, compile,
    os.system, os.popen or subprocess with shell=True in the same function. A prompt
    injection, in the user's input or in any document the model reads, then runs code.
    """,
    """
    Never execute model output. Parse it into a fixed set of actions, use ast.literal_eval
    for literals, or run generated code only in a sandbox without credentials or network.
    """,
    cwe=(94, 78),
    owasp_ml=("ML09",),
    atlas=_ATLAS_OUTPUT,
    references=(
        "CWE-94",
        "CWE-78",
        "CVE-2023-29374",
        "CVE-2023-36258",
        _OWASP_LLM_OUTPUT,
    ),
)

define(
    "MW321",
    "python-request-input-code-execution",
    "Request input runs as code or a shell command",
    Severity.CRITICAL,
    "code",
    """
    Text from a request (flask request.args/form/json, the parameters of a web route
    handler, input(), sys.argv) reaches eval, exec, compile, os.system, os.popen or
    subprocess with shell=True in the same function: whoever sends the request runs code.
    """,
    """
    Do not evaluate input. Map it to allowed values, use ast.literal_eval for literals, and
    pass argument lists to subprocess without shell=True.
    """,
    cwe=(94, 78),
    owasp_ml=("ML01",),
    atlas=_ATLAS_INPUT,
    references=("CWE-94", "CWE-78", "https://owasp.org/www-community/attacks/Code_Injection"),
)

define(
    "MW322",
    "python-model-output-sql",
    "Model output runs as SQL",
    Severity.HIGH,
    "code",
    """
    SQL passed to execute/executemany/executescript, pandas.read_sql or sqlalchemy.text is
    built from model or LLM output (text-to-SQL): a prompt injection can read, change or
    drop any data the connection reaches.
    """,
    """
    Run generated SQL on a read-only connection with least privileges, allow only SELECT on
    an allowlist of tables, and pass values as query parameters.
    """,
    cwe=(89,),
    owasp_ml=("ML09",),
    atlas=("AML.T0051",),
    references=("CWE-89", "CVE-2023-36189", _OWASP_LLM_OUTPUT),
)

define(
    "MW323",
    "python-request-input-sql",
    "Request input builds SQL text",
    Severity.HIGH,
    "code",
    """
    SQL text passed to execute/executemany/executescript, pandas.read_sql or
    sqlalchemy.text is built from request input with an f-string, concatenation, % or
    .format: SQL injection.
    """,
    "Pass values as query parameters (cursor.execute(sql, params)); never format them in.",
    cwe=(89,),
    owasp_ml=("ML01",),
    atlas=_ATLAS_INPUT,
    references=("CWE-89", "https://owasp.org/www-community/attacks/SQL_Injection"),
)

define(
    "MW330",
    "python-server-debug-mode",
    "Model server started in debug mode",
    Severity.HIGH,
    "code",
    """
    app.run(debug=True) (Flask, Dash run_server, Werkzeug run_simple(use_debugger=True))
    starts the Werkzeug interactive debugger, which runs any Python code sent to it
    once its PIN is known or guessed. Critical when the server also listens on every
    interface.
    """,
    "Never enable debug outside a developer machine; serve with a production WSGI/ASGI server.",
    cwe=(489, 94),
    owasp_ml=("ML06",),
    atlas=_ATLAS_EXPOSED,
    references=(
        "CWE-489",
        "CVE-2024-34069",
        "https://flask.palletsprojects.com/en/stable/debugging/",
        "https://werkzeug.palletsprojects.com/en/stable/debug/",
    ),
)

define(
    "MW331",
    "python-server-all-interfaces",
    "Model server listens on every network interface",
    Severity.MEDIUM,
    "code",
    """
    A development or model server (app.run, uvicorn.run, a Gradio launch without auth=) is
    bound to 0.0.0.0 or ::. Everything on the network can reach it, and these servers have
    no authentication of their own: model endpoints, uploads and admin routes are open.
    """,
    """
    Bind to 127.0.0.1 and put an authenticating reverse proxy in front; for Gradio pass
    auth=. Inside containers, publish the port only to the networks that need it.
    """,
    cwe=(668, 306),
    owasp_ml=("ML05",),
    atlas=_ATLAS_EXPOSED,
    references=("CWE-668", "CWE-306", "https://www.gradio.app/guides/sharing-your-app"),
)

define(
    "MW332",
    "python-gradio-share-link",
    "Gradio app published on a public share link",
    Severity.HIGH,
    "code",
    """
    launch(share=True) tunnels the app to a public *.gradio.live address that anyone with
    the link can use: the model, its tools and any file access it allows. High without
    auth=, medium with it.
    """,
    "Drop share=True for anything but throwaway demos; deploy behind authentication instead.",
    cwe=(668, 306),
    owasp_ml=("ML05",),
    atlas=_ATLAS_EXPOSED,
    references=("CWE-668", "https://www.gradio.app/guides/sharing-your-app"),
)

define(
    "MW333",
    "python-ray-dashboard-exposed",
    "Ray dashboard exposed on every interface",
    Severity.HIGH,
    "code",
    """
    ray.init(dashboard_host="0.0.0.0") or ray start --dashboard-host=0.0.0.0 exposes the
    Ray dashboard and its job submission API, which runs any command on the cluster and has
    no authentication (ShadowRay).
    """,
    "Keep the dashboard on 127.0.0.1 and reach it through an SSH tunnel or authenticating proxy.",
    cwe=(306, 668),
    owasp_ml=("ML06",),
    atlas=_ATLAS_EXPOSED,
    references=("CWE-306", "CVE-2023-48022", _RAY),
)

define(
    "MW334",
    "python-mlflow-server-without-auth",
    "MLflow server started on every interface without authentication",
    Severity.HIGH,
    "code",
    """
    A command line run from Python starts mlflow server (or mlflow ui) with --host 0.0.0.0
    and without --app-name basic-auth. Anyone on the network can read and replace models and
    artifacts, which the people who load them then run.
    """,
    "Add --app-name basic-auth (or an authenticating proxy) and bind to 127.0.0.1.",
    cwe=(306, 668),
    owasp_ml=("ML06",),
    atlas=_ATLAS_EXPOSED,
    references=("CWE-306", "https://mlflow.org/docs/latest/auth/index.html"),
)

define(
    "MW335",
    "python-jupyter-without-token",
    "Jupyter server on every interface with no token",
    Severity.CRITICAL,
    "code",
    """
    A command line run from Python starts Jupyter with --ip=0.0.0.0 and an empty token and
    no password: anyone who can reach the port runs code in its kernels.
    """,
    "Keep token authentication on (the default) or set a password; bind to 127.0.0.1.",
    cwe=(306, 668),
    owasp_ml=("ML06",),
    atlas=_ATLAS_EXPOSED,
    references=(
        "CWE-306",
        "https://jupyter-server.readthedocs.io/en/latest/operators/security.html",
    ),
)

define(
    "MW339",
    "python-unparsable",
    "Python source could not be parsed",
    Severity.INFO,
    "code",
    """
    The file is named or marked as Python but is not valid Python 3 syntax (Python 2 code,
    a template, a fragment). The code rules could not check it.
    """,
    "Nothing to fix if the file is not meant to run; otherwise review it by hand.",
    references=("https://docs.python.org/3/reference/grammar.html",),
)

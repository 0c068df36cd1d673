"""Rules for ML-serving configuration (MW500-529): model servers, notebooks, tracking servers
and cluster dashboards reachable without authentication, in their configuration files,
command lines, Dockerfiles, compose files and shell scripts."""

from mlwarden.findings import Severity
from mlwarden.rules import define

_EXPOSED = "AML.T0049"  # Exploit Public-Facing Application
_SUPPLY = "AML.T0010"  # ML Supply Chain Compromise
_COLLECT = "AML.T0035"  # ML Artifact Collection
_INFERENCE = "AML.T0040"  # ML Model Inference API Access

_TS_CONFIG = "https://pytorch.org/serve/configuration.html"
_TS_SECURITY = "https://github.com/pytorch/serve/blob/master/SECURITY.md"
_TS_TOKEN = "https://pytorch.org/serve/token_authorization_api.html"
_TS_MODEL_API = "https://pytorch.org/serve/model_api_control.html"
_SHELLTORCH = "https://www.oligo.security/shelltorch"
_JUPYTER_SECURITY = "https://jupyter-server.readthedocs.io/en/latest/operators/security.html"
_JUPYTER_PUBLIC = "https://jupyter-server.readthedocs.io/en/latest/operators/public-server.html"
_JUPYTER_CONFIG = "https://jupyter-server.readthedocs.io/en/latest/other/full-config.html"
_MLFLOW_AUTH = "https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth"
_MLFLOW_SECURITY = "https://mlflow.org/docs/latest/ml/tracking/server/security"
_RAY_SECURITY = "https://docs.ray.io/en/latest/ray-security/index.html"
_RAY_TOKEN = "https://docs.ray.io/en/latest/ray-security/token-auth.html"
_TRITON_DEPLOY = (
    "https://github.com/triton-inference-server/server/blob/main/docs/customization_guide/deploy.md"
)
_TRITON_MODELS = "https://github.com/triton-inference-server/server/blob/main/docs/user_guide/model_management.md"

define(
    "MW500",
    "torchserve-management-exposed",
    "TorchServe management API reachable beyond localhost",
    Severity.HIGH,
    "config",
    """
    `management_address` (or `grpc_management_address`) binds TorchServe's management API
    to every interface (`0.0.0.0`, `[::]`) or to a network address. Whoever reaches it can
    list, scale, unregister and (with the model API enabled, the default before 0.11)
    register models; a registered model archive carries Python handler code that TorchServe
    runs. This is the exposure behind ShellTorch (CVE-2023-43654): management APIs bound to
    all interfaces by the default configuration of TorchServe's Docker images, chained with
    model registration from any URL. The finding is critical when token authorization is
    disabled and the model API enabled in the same file: anyone on the network can then run
    code on the server.
    """,
    """
    Bind the management API to `127.0.0.1` (or a Unix socket) and reach it through an SSH
    tunnel or an authenticated proxy; keep token authorization on and the model API off
    unless models must be registered at run time.
    """,
    cwe=(306, 668, 1188),
    owasp_ml=("ML06", "ML10"),
    atlas=(_EXPOSED, _SUPPLY),
    references=(
        "CVE-2023-43654",
        "GHSA-mjmj-j48q-9wg2",
        "GHSA-8fxr-qfr9-p34w",
        _SHELLTORCH,
        _TS_SECURITY,
        _TS_CONFIG,
    ),
)

define(
    "MW501",
    "torchserve-model-urls-unrestricted",
    "TorchServe may fetch models from any URL",
    Severity.HIGH,
    "config",
    """
    `allowed_urls` is missing (its default, `file://.*|http(s)?://.*`, admits every URL) or
    set to a pattern that matches any HTTP(S) URL, while models can be registered through
    the management API. Anyone who can call the API then makes TorchServe download a model
    archive from a server they control (server-side request forgery) and run its handler:
    CVE-2023-43654, one half of ShellTorch. High when the management API is reachable
    beyond localhost, medium when only the model API is enabled, low for an explicit
    wide-open pattern on a local-only server.
    """,
    """
    Set `allowed_urls` to the exact locations models come from (for example
    `https://models.example.com/mar/.*`), or `file://.*` with a read-only model store.
    """,
    cwe=(918, 1188, 829),
    owasp_ml=("ML06",),
    atlas=(_SUPPLY, _EXPOSED),
    references=("CVE-2023-43654", "GHSA-8fxr-qfr9-p34w", _SHELLTORCH, _TS_CONFIG, _TS_SECURITY),
)

define(
    "MW502",
    "torchserve-token-auth-disabled",
    "TorchServe token authorization disabled",
    Severity.HIGH,
    "config",
    """
    TorchServe 0.11 and later require a bearer token on the inference and management APIs;
    `disable_token_authorization=true` (or `--disable-token-auth`, or
    `TS_DISABLE_TOKEN_AUTHORIZATION=true` with `enable_envvars_config=true`) turns that off,
    so anyone who reaches the APIs may use them. Medium when every API in the same
    configuration listens on localhost only.
    """,
    """
    Remove the setting so token authorization stays on, and hand the management key only to
    the operators who register models.
    """,
    cwe=(306,),
    owasp_ml=("ML05", "ML10"),
    atlas=(_EXPOSED, _INFERENCE),
    references=(_TS_TOKEN, _TS_SECURITY),
)

define(
    "MW503",
    "torchserve-model-api-enabled",
    "TorchServe model registration API enabled",
    Severity.MEDIUM,
    "config",
    """
    `enable_model_api=true` (or `--enable-model-api`, or `TS_ENABLE_MODEL_API=true`) lets
    callers of the management API register and delete models while the server runs.
    Registering a model runs its handler code, so this turns access to the management API
    into code execution. High when the management API is reachable beyond localhost.
    """,
    """
    Leave the model API disabled (the default since TorchServe 0.11) and load models at
    start-up with `load_models` or `--models`; if it is needed, keep token authorization on
    and restrict `allowed_urls`.
    """,
    cwe=(306, 94),
    owasp_ml=("ML06", "ML10"),
    atlas=(_SUPPLY, _EXPOSED),
    references=(_TS_MODEL_API, _TS_SECURITY),
)

define(
    "MW504",
    "torchserve-metrics-exposed",
    "TorchServe metrics API reachable beyond localhost",
    Severity.LOW,
    "config",
    """
    `metrics_address` binds the metrics API to every interface or a network address. It
    discloses model names, versions, traffic and host resource use to anyone who reaches it.
    """,
    """
    Bind the metrics API to `127.0.0.1` and let the metrics collector scrape it locally or
    through an authenticated proxy.
    """,
    cwe=(200, 668),
    owasp_ml=("ML05",),
    atlas=(_EXPOSED,),
    references=(_TS_CONFIG, _TS_SECURITY),
)

define(
    "MW505",
    "torchserve-inference-all-interfaces",
    "TorchServe inference API on all interfaces",
    Severity.INFO,
    "config",
    """
    `inference_address` binds the inference API to every interface. This is usually what a
    model server is for; it is reported so that the exposure is a decision, not a default
    copied from an example (the management API is reported separately).
    """,
    """
    Keep it if the inference API is meant to be public; otherwise bind it to `127.0.0.1`
    or the one interface the clients use, and keep token authorization on.
    """,
    cwe=(668,),
    owasp_ml=("ML05",),
    atlas=(_INFERENCE,),
    references=(_TS_CONFIG, _TS_SECURITY),
)

define(
    "MW510",
    "jupyter-no-authentication",
    "Jupyter server without a token or password",
    Severity.HIGH,
    "config",
    """
    The Jupyter server is configured with an empty token (`c.ServerApp.token = ''`,
    `--NotebookApp.token=''`, `--IdentityProvider.token=''`) and no password, so anyone who
    reaches it gets a shell on the host through a terminal or a notebook kernel. Exposed
    notebook servers are routinely found and used for cryptomining and credential theft.
    High when the server listens beyond localhost, medium otherwise (other local users and
    web pages in the browser can still reach it).
    """,
    """
    Keep the generated token, or set a hashed password
    (`c.PasswordIdentityProvider.hashed_password`), and listen on `127.0.0.1` behind an SSH
    tunnel or an authenticating proxy (JupyterHub).
    """,
    cwe=(306, 1188),
    owasp_ml=("ML05", "ML10"),
    atlas=(_EXPOSED, _COLLECT),
    references=(_JUPYTER_SECURITY, _JUPYTER_PUBLIC),
)

define(
    "MW511",
    "jupyter-all-interfaces",
    "Jupyter server listens beyond localhost",
    Severity.LOW,
    "config",
    """
    `ip` is `0.0.0.0`, `*`, an empty string or a network address, so the server accepts
    connections from other hosts. Authentication is still on (a missing token is reported
    by MW510), but the login page, the token in shared URLs and any server vulnerability
    become reachable from the network.
    """,
    """
    Listen on `127.0.0.1` and reach the server through an SSH tunnel, or put it behind an
    authenticating reverse proxy with TLS. Inside a container that publishes the port only
    on the host's loopback interface this finding can be suppressed with that reason.
    """,
    cwe=(668,),
    owasp_ml=("ML05",),
    atlas=(_EXPOSED,),
    references=(_JUPYTER_PUBLIC, _JUPYTER_CONFIG),
)

define(
    "MW512",
    "jupyter-host-check-disabled",
    "Jupyter server accepts any Host header",
    Severity.LOW,
    "config",
    """
    `allow_remote_access = True` turns off the check of the Host header that protects a
    local Jupyter server against DNS-rebinding attacks from web pages the user visits.
    """,
    """
    Remove the setting, and list the names the server is reached by in
    `local_hostnames` when a proxy needs them.
    """,
    cwe=(350, 346),
    owasp_ml=("ML05",),
    atlas=(_EXPOSED,),
    references=(_JUPYTER_CONFIG, _JUPYTER_SECURITY),
)

define(
    "MW513",
    "jupyter-runs-as-root",
    "Jupyter server allowed to run as root",
    Severity.LOW,
    "config",
    """
    `allow_root = True` or `--allow-root` runs the notebook server, its terminals and every
    kernel as root, so anyone who gets into the server (or code in a notebook) owns the
    whole machine or container.
    """,
    """
    Run the server as an unprivileged user (`USER` in the Dockerfile, `NB_USER` in the
    Jupyter Docker stacks).
    """,
    cwe=(250,),
    owasp_ml=("ML10",),
    atlas=(_EXPOSED,),
    references=(_JUPYTER_CONFIG,),
)

define(
    "MW515",
    "serving-cors-any-origin",
    "ML server accepts cross-origin requests from any site",
    Severity.MEDIUM,
    "config",
    """
    The server allows cross-origin requests from every origin: Jupyter `allow_origin = '*'`
    or an `allow_origin_pat` that matches everything, TorchServe `cors_allowed_origin=*`,
    Streamlit `--server.enableCORS false`. Any web page the user opens can then call the
    server's API with the user's browser. High for a Jupyter server without a token.
    """,
    """
    List the exact origins that need access (`allow_origin = 'https://app.example.com'`), or
    remove the setting.
    """,
    cwe=(942, 346),
    owasp_ml=("ML05",),
    atlas=(_EXPOSED,),
    references=(
        "CWE-942",
        _JUPYTER_CONFIG,
        _TS_CONFIG,
        "https://docs.streamlit.io/develop/api-reference/configuration/config.toml",
    ),
)

define(
    "MW516",
    "serving-xsrf-disabled",
    "ML server has cross-site request forgery protection turned off",
    Severity.MEDIUM,
    "config",
    """
    Jupyter `disable_check_xsrf = True` or Streamlit `--server.enableXsrfProtection false`
    turns off the check that stops other web sites from sending state-changing requests
    (running code, uploading files) with the user's cookies.
    """,
    """
    Remove the setting; clients of the API authenticate with a token header, which does not
    need the check disabled.
    """,
    cwe=(352,),
    owasp_ml=("ML05",),
    atlas=(_EXPOSED,),
    references=(
        "CWE-352",
        _JUPYTER_CONFIG,
        "https://docs.streamlit.io/develop/api-reference/configuration/config.toml",
    ),
)

define(
    "MW518",
    "mlflow-server-no-auth",
    "MLflow server on the network without authentication",
    Severity.HIGH,
    "config",
    """
    `mlflow server` or `mlflow ui` listens beyond localhost (`--host 0.0.0.0`, `-h
    0.0.0.0`) and no authentication app is enabled (`--app-name basic-auth`). Anyone who
    reaches it can read and overwrite experiments, metrics and model artifacts, and
    register or replace models in the model registry that deployments load.
    """,
    """
    Start the server with `--app-name basic-auth` (with `MLFLOW_FLASK_SERVER_SECRET_KEY`
    set and the default admin password changed), or keep it on `127.0.0.1` behind an
    authenticating reverse proxy.
    """,
    cwe=(306, 668),
    owasp_ml=("ML05", "ML10"),
    atlas=(_EXPOSED, _COLLECT),
    references=(_MLFLOW_AUTH, _MLFLOW_SECURITY),
)

define(
    "MW519",
    "mlflow-tracking-plain-http",
    "MLflow tracking URI over plain HTTP to a remote host",
    Severity.LOW,
    "config",
    """
    `MLFLOW_TRACKING_URI` points at a remote host over `http://`. Credentials
    (`MLFLOW_TRACKING_PASSWORD`, tokens), parameters and uploaded model artifacts travel
    unencrypted and can be read or replaced on the way.
    """,
    """
    Use `https://` for remote tracking servers; plain HTTP is fine only for localhost or a
    service name inside one container network.
    """,
    cwe=(319,),
    owasp_ml=("ML06",),
    atlas=(_COLLECT,),
    references=("CWE-319", "https://mlflow.org/docs/latest/ml/tracking/"),
)

define(
    "MW521",
    "ray-dashboard-exposed",
    "Ray dashboard bound to all interfaces",
    Severity.HIGH,
    "config",
    """
    `ray start --head --dashboard-host=0.0.0.0` makes the Ray dashboard and its Jobs API
    reachable from the network. Before token authentication (Ray 2.52, off by default) they
    have no authentication at all: anyone who reaches port 8265 can submit a job, which is a
    shell command run on the cluster (CVE-2023-48022, "ShadowRay", exploited in the wild).
    Low when `RAY_AUTH_MODE=token` is set in the same file.
    """,
    """
    Bind the dashboard to `127.0.0.1` (the default) and reach it through an SSH tunnel or an
    authenticating proxy; on Ray 2.52 or later also set `RAY_AUTH_MODE=token` on every node.
    """,
    cwe=(306, 668, 1188),
    owasp_ml=("ML05", "ML10"),
    atlas=(_EXPOSED,),
    references=(
        "CVE-2023-48022",
        "https://bishopfox.com/blog/ray-versions-2-6-3-2-8-0",
        _RAY_SECURITY,
        _RAY_TOKEN,
    ),
)

define(
    "MW522",
    "ml-admin-port-published",
    "Control port of an ML service published on all host interfaces",
    Severity.MEDIUM,
    "config",
    """
    A compose file or `docker run -p` publishes the control port of an ML service on every
    interface of the host: the Ray dashboard (8265) or client server (10001), the TorchServe
    management API (8081, gRPC 7071) or metrics (8082), an MLflow server (5000), a Jupyter
    server (8888). A port published without a host address (`"8265:8265"`) is reachable
    from other machines whatever the service binds to inside the container, and Docker's
    rules bypass host firewalls such as ufw. Low for metrics and for Jupyter, which has a
    token by default.
    """,
    """
    Publish on the loopback interface (`"127.0.0.1:8265:8265"`) or not at all, and let
    other containers reach the service over the compose network.
    """,
    cwe=(668, 1188),
    owasp_ml=("ML05", "ML10"),
    atlas=(_EXPOSED,),
    references=(
        "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
        "https://docs.docker.com/reference/compose-file/services/#ports",
        "CVE-2023-48022",
        _TS_SECURITY,
    ),
)

define(
    "MW524",
    "triton-model-control-unrestricted",
    "Triton model loading API open to every client",
    Severity.MEDIUM,
    "config",
    """
    `tritonserver --model-control-mode=explicit` enables the model repository API, which
    loads and unloads models on request; NVIDIA's deployment guide warns that dynamic model
    loading can lead to arbitrary code execution. Without `--http-restricted-api` /
    `--grpc-restricted-api` for `model-repository`, any client of the server (which listens
    on all interfaces by default) may call it.
    """,
    """
    Use `--model-control-mode=none` in production, or restrict the API with
    `--http-restricted-api=model-repository:<header>=<secret>` (and the gRPC equivalent),
    and keep the model repository read-only.
    """,
    cwe=(306, 94),
    owasp_ml=("ML06", "ML10"),
    atlas=(_SUPPLY, _EXPOSED),
    references=(_TRITON_DEPLOY, _TRITON_MODELS),
)

define(
    "MW525",
    "ml-app-all-interfaces",
    "ML demo app served on all interfaces",
    Severity.INFO,
    "config",
    """
    A Streamlit (`--server.address 0.0.0.0`) or Gradio (`GRADIO_SERVER_NAME=0.0.0.0`) app
    listens on every interface. These apps have no authentication unless the code adds it;
    serving them publicly is often intended, so this is informational.
    """,
    """
    If the app is not meant to be public, listen on `127.0.0.1`; otherwise add
    authentication (Gradio `auth=`, a proxy) before exposing models or data.
    """,
    cwe=(668,),
    owasp_ml=("ML05",),
    atlas=(_INFERENCE,),
    references=(
        "https://www.gradio.app/guides/environment-variables",
        "https://docs.streamlit.io/develop/api-reference/configuration/config.toml",
    ),
)

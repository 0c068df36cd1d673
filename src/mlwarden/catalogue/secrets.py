"""Rules for secrets (MW400-429) and for what only notebooks hold (MW340-349)."""

from mlwarden.findings import Severity
from mlwarden.rules import define

# Leaked credentials let others pull private models and data or push poisoned ones.
_OWASP = ("ML06",)
_ATLAS = ("AML.T0055",)
_CWE = (798,)
_SECRETS_CHEATSHEET = (
    "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"
)
_ROTATE = """
    Revoke the credential with its issuer now and issue a new one: it must be treated as known
    to anyone who could read this file or its history. Then load it at run time from the
    environment or a secret manager, and remove it from the file and from version-control
    history.
"""


def _secret(
    rule_id: str,
    name: str,
    title: str,
    description: str,
    *references: str,
    severity: Severity = Severity.HIGH,
    remediation: str = _ROTATE,
    cwe: tuple[int, ...] = _CWE,
) -> None:
    define(
        rule_id,
        name,
        title,
        severity,
        "secret",
        description,
        remediation,
        cwe=cwe,
        owasp_ml=_OWASP,
        atlas=_ATLAS,
        references=(*references, _SECRETS_CHEATSHEET),
    )


_secret(
    "MW400",
    "huggingface-token",
    "Hugging Face access token",
    """
    A Hugging Face user access token (`hf_` followed by 34 letters) or organisation token
    (`api_org_`). With it anyone can download the owner's private and gated models and
    datasets and, with a write token, push new revisions of their models: a way to plant a
    poisoned model that every user of the repository then loads.
    """,
    "https://huggingface.co/docs/hub/security-tokens",
)
_secret(
    "MW401",
    "openai-api-key",
    "OpenAI API key",
    """
    An OpenAI API key (`sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-`). Keys that carry OpenAI's
    marker (`T3BlbkFJ`) are reported with high confidence. Anyone holding the key can spend the
    owner's quota and read the files, fine-tuned models and assistants of the project.
    """,
    "https://platform.openai.com/docs/api-reference/authentication",
)
_secret(
    "MW402",
    "anthropic-api-key",
    "Anthropic API key",
    """
    An Anthropic API or admin key (`sk-ant-api03-...`, `sk-ant-admin01-...`). Anyone holding it
    can use the owner's models and quota, and an admin key manages the organisation.
    """,
    "https://docs.anthropic.com/en/api/overview",
)
_secret(
    "MW403",
    "aws-access-key-id",
    "AWS access key id",
    """
    An AWS access key id (`AKIA` for long-term keys, `ASIA` for temporary ones, followed by 16
    characters). The id alone does not authenticate, but it names a key pair whose secret is
    usually close by, and it identifies the account. Model buckets (S3), SageMaker endpoints
    and training jobs are then reachable to whoever holds the pair.
    """,
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
)
_secret(
    "MW404",
    "aws-secret-access-key",
    "AWS secret access key",
    """
    A 40-character AWS secret access key, recognised by the name it is assigned to
    (`aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY`) or an AWS name on the same line. With
    the matching key id it signs requests as the owner.
    """,
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
    severity=Severity.CRITICAL,
)
_secret(
    "MW405",
    "gcp-service-account-key",
    "Google Cloud service-account key",
    """
    A Google Cloud service-account key file: a JSON document of `"type": "service_account"`
    that carries a `"private_key"`. It authenticates as the service account without expiry,
    with every role it was granted (Vertex AI, Cloud Storage buckets of models and data).
    """,
    "https://cloud.google.com/iam/docs/service-account-creds",
    severity=Severity.CRITICAL,
)
_secret(
    "MW406",
    "google-api-key",
    "Google API key",
    """
    A Google API key (`AIza` followed by 35 characters). Unless restricted, it calls any
    enabled API of its project (Gemini, Maps, Vision) on the owner's bill.
    """,
    "https://cloud.google.com/docs/authentication/api-keys",
)
_secret(
    "MW407",
    "azure-storage-key",
    "Azure storage or service-bus key",
    """
    An Azure storage account key or shared access key in a connection string
    (`AccountKey=...`, `SharedAccessKey=...`). An account key gives full control of every
    container of the storage account, such as the blobs that hold models and datasets. The
    storage emulator's published development key is not reported.
    """,
    "https://learn.microsoft.com/en-us/azure/storage/common/storage-account-keys-manage",
)
_secret(
    "MW408",
    "azure-ai-key",
    "Azure OpenAI or AI services key",
    """
    A key of an Azure OpenAI or Azure AI services resource (32 hexadecimal digits, or the
    newer 84-character form), recognised by an Azure name beside it (`AZURE_OPENAI_API_KEY`,
    `AzureOpenAI(api_key=...)`, `AzureKeyCredential(...)`). It calls the resource's
    deployments on the owner's bill.
    """,
    "https://learn.microsoft.com/en-us/azure/ai-services/openai/reference",
)
_secret(
    "MW409",
    "wandb-api-key",
    "Weights & Biases API key",
    """
    A Weights & Biases API key (40 hexadecimal digits) given to `WANDB_API_KEY`,
    `wandb.login(key=...)` or `wandb login`. It reads and writes the owner's runs, artifacts
    (model checkpoints among them) and reports.
    """,
    "https://docs.wandb.ai/guides/track/environment-variables/",
)
_secret(
    "MW410",
    "github-token",
    "GitHub token",
    """
    A GitHub token: personal access (`ghp_`, `github_pat_`), OAuth (`gho_`), app (`ghu_`,
    `ghs_`) or refresh (`ghr_`) token. Classic tokens end with a CRC32 checksum of their random
    part, which is checked, so examples and typos do not match. A token with repository write
    access can change code, workflows and the models stored with them.
    """,
    "https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/",
)
_secret(
    "MW411",
    "slack-webhook",
    "Slack incoming webhook URL",
    """
    A Slack incoming-webhook URL (`https://hooks.slack.com/services/T.../B.../...`). The URL is
    the credential: anyone holding it can post messages into the channel, for example fake
    training or deployment alerts.
    """,
    "https://api.slack.com/messaging/webhooks",
    severity=Severity.MEDIUM,
)
_secret(
    "MW412",
    "slack-token",
    "Slack token",
    """
    A Slack bot, user, app or refresh token (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`...). It reads
    and posts in the workspace as the app or the user.
    """,
    "https://api.slack.com/authentication/token-types",
)
_secret(
    "MW413",
    "private-key",
    "Private key",
    """
    A PEM or OpenSSH private key block (`-----BEGIN ... PRIVATE KEY-----`) followed by key
    material. It may sign model artifacts, authenticate to servers over SSH, or decrypt TLS
    traffic. Blocks without key material (documentation placeholders) are not reported.
    """,
    "https://www.rfc-editor.org/rfc/rfc7468",
    cwe=(321, 798),
)
_secret(
    "MW414",
    "high-entropy-secret",
    "Random-looking value assigned to a secret name",
    """
    A value that looks random (Shannon entropy over a threshold, at least 16 characters) is
    assigned to a name such as `token`, `secret`, `password`, `api_key` or `access_key`, or
    follows `Bearer`. Placeholders (`changeme`, `<your-token>`, `${VAR}`), references to the
    environment, digests next to `sha`/`hash`/`checksum`, and ordinary identifiers are not
    reported. The confidence is low: the format of the credential is unknown.
    """,
    "https://cwe.mitre.org/data/definitions/798.html",
    severity=Severity.MEDIUM,
)

define(
    "MW340",
    "secret-in-notebook-output",
    "Secret in a stored notebook output",
    Severity.HIGH,
    "secret",
    """
    A credential appears in the saved output of a notebook cell (printed text, a displayed
    value, HTML, JSON or a traceback). Outputs are committed and shared with the notebook, are
    rendered by code hosts and notebook viewers, and are easy to overlook in review, so the
    credential is as public as the notebook. `evidence.secret_rule` names the kind of secret.
    """,
    """
    Revoke and rotate the credential. Clear the outputs before committing (for example with
    `jupyter nbconvert --clear-output` or an `nbstripout` pre-commit hook), and remove the
    notebook from version-control history.
    """,
    cwe=(532, 798),
    owasp_ml=_OWASP,
    atlas=_ATLAS,
    references=(
        "https://github.com/kynan/nbstripout",
        "https://cwe.mitre.org/data/definitions/532.html",
    ),
)
define(
    "MW341",
    "notebook-shell-download-exec",
    "Notebook shell line runs a downloaded script",
    Severity.HIGH,
    "code",
    """
    A `!` shell line or a `%%bash`/`%%sh`/`%%script` cell downloads a script and runs it in the
    same step (`curl ... | sh`, `wget -O- ... | bash`, `wget ... && bash file.sh`). Whatever
    the server (or anyone on the path, over `http://`) returns runs with the notebook user's
    rights, often on a GPU host holding tokens and data.
    """,
    """
    Download the script first, check it against a published checksum or review it, then run
    the reviewed copy; better, install what it installs from a package index with pinned
    versions and hashes.
    """,
    cwe=(494, 829),
    owasp_ml=_OWASP,
    atlas=("AML.T0011",),
    references=(
        "https://cwe.mitre.org/data/definitions/494.html",
        "https://ipython.readthedocs.io/en/stable/interactive/reference.html#system-shell-access",
    ),
)
define(
    "MW342",
    "notebook-shell-model-output",
    "Model output interpolated into a notebook shell line",
    Severity.HIGH,
    "code",
    """
    A `!` shell line interpolates a Python value whose name says it holds model or LLM output
    (`!{response}`, `!echo $completion | sh`). IPython substitutes `{expr}` and `$name` into
    the command before the shell parses it, so text the model was led to produce (by prompt
    injection, say) runs as shell commands.
    """,
    """
    Do not build shell commands from model output. If a command must be chosen by the model,
    map its answer to a fixed allowlist of commands and pass arguments as a list to
    `subprocess.run` without a shell.
    """,
    cwe=(78, 77),
    owasp_ml=("ML09",),
    atlas=("AML.T0051",),
    references=(
        "https://cwe.mitre.org/data/definitions/78.html",
        "https://ipython.readthedocs.io/en/stable/interactive/reference.html#system-shell-access",
    ),
)
define(
    "MW343",
    "notebook-env-magic-secret",
    "Secret set with %env in a notebook",
    Severity.HIGH,
    "secret",
    """
    A `%env NAME=value` or `%set_env NAME value` magic sets an environment variable whose name
    says it is a secret (`HF_TOKEN`, `OPENAI_API_KEY`, `WANDB_API_KEY`, a password) to a
    literal value, or to a value recognised as a credential. The value is stored in the
    notebook source, and `%env` also echoes it into the cell's output.
    """,
    """
    Revoke and rotate the credential. Load it at run time instead: `getpass.getpass()`, a
    secret manager, or an environment set outside the notebook (`huggingface-cli login`,
    `wandb login`).
    """,
    cwe=(798,),
    owasp_ml=_OWASP,
    atlas=_ATLAS,
    references=(
        "https://ipython.readthedocs.io/en/stable/interactive/magics.html#magic-env",
        _SECRETS_CHEATSHEET,
    ),
)

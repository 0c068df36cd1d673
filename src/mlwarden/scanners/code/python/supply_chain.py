"""Where models and code come from: remote code, unpinned downloads, plain HTTP, TLS (MW310-314).

Pinning: a Hugging Face download is pinned only by a 40-hex commit sha in ``revision=``. Branch
and tag names (``main``, ``v1.0``) can be moved by whoever controls the repository, so they are
reported like a missing revision. A revision that is not a literal (a variable, a setting) is
not judged. Repository ids are string literals of the form ``owner/name``; bare names are
left out because they are as often local directories.
"""

from __future__ import annotations

import ast
import re
from urllib.parse import urlsplit

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

_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_HTTP_LIBRARIES = frozenset({"requests", "httpx", "urllib3", "aiohttp", "huggingface_hub"})
_HTTP_CALLS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}
    | {"Client", "AsyncClient", "Session", "urlopen"}
)
#: Calls that fetch what their URL argument names.
DOWNLOAD_CALLS = frozenset(
    {"urlretrieve", "urlopen", "get", "post", "request", "stream", "Request", "download"}
    | {"download_file", "download_url", "download_url_to_file", "load_state_dict_from_url"}
    | {"get_file", "load_dataset", "from_pretrained", "hf_hub_download", "fetch", "load"}
    | {"read_csv", "read_parquet", "read_json", "read_table", "read_pickle", "read_feather"}
    | {"read_excel", "load_model", "open_url"}
)
#: Suffixes of model weights, serialised objects and data sets.
MODEL_DATA_SUFFIXES = (
    ".pt",
    ".pth",
    ".bin",
    ".pkl",
    ".pickle",
    ".joblib",
    ".h5",
    ".hdf5",
    ".keras",
    ".onnx",
    ".safetensors",
    ".gguf",
    ".ggml",
    ".ckpt",
    ".npy",
    ".npz",
    ".pb",
    ".tflite",
    ".mlmodel",
    ".model",
    ".zip",
    ".tar",
    ".tgz",
    ".gz",
    ".csv",
    ".tsv",
    ".parquet",
    ".jsonl",
    ".arrow",
    ".feather",
    ".msgpack",
)
#: Hugging Face calls and where their repository id is: (position, keyword).
_HF_DOWNLOADS = {
    "from_pretrained": (0, "pretrained_model_name_or_path"),
    "hf_hub_download": (0, "repo_id"),
    "snapshot_download": (0, "repo_id"),
    "load_dataset": (0, "path"),
    "pipeline": (1, "model"),
}
_HF_MODULES = ("huggingface_hub.", "datasets.", "transformers.")


def _called(call: ast.Call, resolved: str | None) -> str:
    return resolved or snippet(call.func)


def trust_remote_code(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW310: trust_remote_code=True in any call."""
    kw = keyword(call, "trust_remote_code")
    if kw is None or not is_true(kw.value):
        return
    called = _called(call, resolved)
    analysis.report(
        "MW310",
        kw,
        f"{called}(trust_remote_code=True) runs Python code from the model repository",
        evidence={"call": called, "trust_remote_code": True},
        subject=called,
    )


def torch_hub(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW311: torch.hub.load/list/help trusting the repository without asking."""
    if resolved not in ("torch.hub.load", "torch.hub.list", "torch.hub.help"):
        return
    source = keyword(call, "source")
    if source is not None and analysis.names.string(source.value) == "local":
        return
    kw = keyword(call, "trust_repo")
    repo = analysis.names.string(argument(call, 0, "repo_or_dir"))
    evidence: dict[str, object] = {"call": resolved, "repo": repo or _first(call)}
    if kw is not None and is_true(kw.value):
        evidence["trust_repo"] = True
        analysis.report(
            "MW311",
            kw,
            f"{resolved}(trust_repo=True) runs hubconf.py from the repository without a prompt",
            evidence=evidence,
            subject=resolved,
        )
    elif kw is None and not has_splat(call):
        analysis.report(
            "MW311",
            call,
            f"{resolved}() without trust_repo: torch before 2.0 trusts any repository silently",
            evidence=evidence,
            subject=resolved,
            severity=Severity.MEDIUM,
        )


def _first(call: ast.Call) -> str:
    return snippet(call.args[0]) if call.args else ""


def unpinned_download(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW312: a Hugging Face download with no commit sha as revision."""
    name = resolved.rsplit(".", 1)[-1] if resolved else getattr(call.func, "attr", "")
    where = _HF_DOWNLOADS.get(name)
    if where is None:
        return
    qualified = resolved is not None and "." in resolved
    if name != "from_pretrained" and qualified and not str(resolved).startswith(_HF_MODULES):
        return
    repo_node = argument(call, *where) if name != "pipeline" else keyword(call, "model")
    if isinstance(repo_node, ast.keyword):
        repo_node = repo_node.value
    repo = analysis.names.string(repo_node)
    if repo is None or _REPO_ID.fullmatch(repo) is None:
        return
    local_only = keyword(call, "local_files_only")
    if local_only is not None and is_true(local_only.value):
        return
    revision_kw = keyword(call, "revision")
    if revision_kw is None:
        if has_splat(call):
            return
        why = "no revision is given"
        revision = None
    else:
        revision = analysis.names.string(revision_kw.value)
        if revision is None or _COMMIT_SHA.fullmatch(revision):
            return
        why = f"revision {revision!r} is a branch or tag, not a commit"
    called = _called(call, resolved)
    analysis.report(
        "MW312",
        call,
        f"{called}({repo!r}) is not pinned: {why}; the repository can change under you",
        evidence={"call": called, "repo": repo, "revision": revision},
        subject=f"{called}:{repo}",
    )


def _plain_http(url: str) -> bool:
    if not url.startswith("http://"):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host not in _LOOPBACK and not host.startswith("127.")


def _has_data_suffix(url: str) -> bool:
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return path.endswith(MODEL_DATA_SUFFIXES)


def _url_text(node: ast.expr) -> tuple[str, str] | None:
    """The fixed start and end of a string literal or f-string, if it is one."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first, last = node.values[0], node.values[-1]
        head = first.value if isinstance(first, ast.Constant) else ""
        tail = last.value if isinstance(last, ast.Constant) else ""
        return str(head), str(tail)
    return None


def download_urls(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW313: a plain-HTTP URL handed to a call that downloads or loads it."""
    for node in (*call.args, *(kw.value for kw in call.keywords)):
        text = _url_text(node)
        if text is None:
            continue
        analysis.skip_strings.add(id(node))
        if isinstance(node, ast.JoinedStr):
            analysis.skip_strings.update(id(v) for v in node.values)
        head, _ = text
        if _plain_http(head) or (head == "http://" and isinstance(node, ast.JoinedStr)):
            called = _called(call, resolved)
            analysis.report(
                "MW313",
                node,
                f"{called}() fetches over plain HTTP: the content can be swapped in transit",
                evidence={"call": called, "url": head},
                subject=f"{called}:{head}",
            )


def url_literal(analysis: ModuleAnalysis, node: ast.expr) -> None:
    """MW313: any plain-HTTP literal naming a model or data file."""
    if id(node) in analysis.skip_strings:
        return
    if isinstance(node, ast.JoinedStr):
        analysis.skip_strings.update(id(v) for v in node.values)
    text = _url_text(node)
    if text is None:
        return
    head, tail = text
    if not _plain_http(head) and not (head == "http://" and isinstance(node, ast.JoinedStr)):
        return
    if not _has_data_suffix(tail) or (isinstance(node, ast.Constant) and " " in head):
        return
    analysis.report(
        "MW313",
        node,
        "a model or data file is named by a plain-HTTP URL: it can be swapped in transit",
        evidence={"url": head if isinstance(node, ast.Constant) else snippet(node)},
        subject=head,
    )


def tls_keywords(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW314: verify=False or cert_reqs=CERT_NONE on an HTTP client call."""
    verify = keyword(call, "verify")
    if verify is not None and is_false(verify.value):
        root = resolved.split(".", 1)[0] if resolved else ""
        name = resolved.rsplit(".", 1)[-1] if resolved else getattr(call.func, "attr", "")
        if root in _HTTP_LIBRARIES or name in _HTTP_CALLS:
            _tls(analysis, verify, _called(call, resolved), "verify=False")
    cert = keyword(call, "cert_reqs")
    if cert is not None and _is_cert_none(analysis, cert.value):
        _tls(analysis, cert, _called(call, resolved), "cert_reqs=CERT_NONE")


def _is_cert_none(analysis: ModuleAnalysis, node: ast.expr) -> bool:
    text = analysis.names.string(node)
    if text is not None:
        return text.upper() in ("CERT_NONE", "NONE")
    return (analysis.names.resolve(node) or "").endswith("CERT_NONE")


def unverified_context(analysis: ModuleAnalysis, call: ast.Call, resolved: str | None) -> None:
    """MW314: ssl._create_unverified_context()."""
    if resolved == "ssl._create_unverified_context":
        _tls(analysis, call, resolved, "an unverified SSL context")


def tls_assignment(analysis: ModuleAnalysis, target: ast.Attribute, value: ast.expr) -> None:
    """MW314: ``session.verify = False``, ``ctx.verify_mode = CERT_NONE``, no host check."""
    if target.attr == "verify" and is_false(value):
        _tls(analysis, target, snippet(target), "verify = False")
    elif target.attr == "verify_mode" and _is_cert_none(analysis, value):
        _tls(analysis, target, snippet(target), "verify_mode = CERT_NONE")
    elif target.attr == "check_hostname" and is_false(value):
        _tls(analysis, target, snippet(target), "check_hostname = False")


def _tls(analysis: ModuleAnalysis, node: ast.AST, where: str, what: str) -> None:
    analysis.report(
        "MW314",
        node,
        f"TLS certificate verification is off ({what}): downloads can be tampered with",
        evidence={"call": where, "setting": what},
        subject=f"{where}:{what}",
    )


#: Handlers by the last part of the called name.
CALL_RULES: dict[str, tuple[CallRule, ...]] = {
    "load": (torch_hub,),
    "list": (torch_hub,),
    "help": (torch_hub,),
    "from_pretrained": (unpinned_download,),
    "hf_hub_download": (unpinned_download,),
    "snapshot_download": (unpinned_download,),
    "load_dataset": (unpinned_download,),
    "pipeline": (unpinned_download,),
    "_create_unverified_context": (unverified_context,),
}
#: Handlers for calls with one of these keywords, whatever is called.
KEYWORD_RULES: dict[str, CallRule] = {
    "trust_remote_code": trust_remote_code,
    "verify": tls_keywords,
    "cert_reqs": tls_keywords,
}

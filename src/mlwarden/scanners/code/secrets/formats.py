"""Credentials recognisable by their own shape: a vendor prefix, a length, a charset, a checksum.

Each format says how sure a match is. ``high``: a checksum or a vendor marker inside the value
confirms it; ``medium``: the prefix and shape fit but nothing inside the value confirms it.
A value that reads as a placeholder (``AKIAIOSFODNN7EXAMPLE``, ``hf_xxxx...``) is no match.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from typing import NamedTuple

from mlwarden.scanners.code.secrets.text import is_placeholder, shannon_entropy


class SecretKind(NamedTuple):
    """A kind of credential: the rule that reports it and how people call it."""

    rule: str
    label: str


#: Every kind of secret, by the ``kind`` name used in evidence.
SECRET_KINDS: dict[str, SecretKind] = {
    "huggingface-token": SecretKind("MW400", "Hugging Face token"),
    "openai-api-key": SecretKind("MW401", "OpenAI API key"),
    "anthropic-api-key": SecretKind("MW402", "Anthropic API key"),
    "aws-access-key-id": SecretKind("MW403", "AWS access key id"),
    "aws-secret-access-key": SecretKind("MW404", "AWS secret access key"),
    "gcp-service-account-key": SecretKind("MW405", "Google Cloud service-account key"),
    "google-api-key": SecretKind("MW406", "Google API key"),
    "azure-storage-key": SecretKind("MW407", "Azure storage or service-bus key"),
    "azure-ai-key": SecretKind("MW408", "Azure OpenAI / AI services key"),
    "wandb-api-key": SecretKind("MW409", "Weights & Biases API key"),
    "github-token": SecretKind("MW410", "GitHub token"),
    "slack-webhook": SecretKind("MW411", "Slack incoming webhook"),
    "slack-token": SecretKind("MW412", "Slack token"),
    "private-key": SecretKind("MW413", "private key"),
    "high-entropy-secret": SecretKind("MW414", "high-entropy secret"),
    "bearer-token": SecretKind("MW414", "bearer token"),
}


class Candidate(NamedTuple):
    """A value found in the text: where it is (offsets), what it is, how sure the match is."""

    start: int
    end: int
    value: str
    kind: str
    confidence: str
    shown: int = 4
    name: str = ""


Confidence = Callable[[str], "str | None"]


class TokenFormat(NamedTuple):
    """A self-describing credential format; ``anchor`` is a literal every match contains."""

    kind: str
    anchor: tuple[str, ...]
    regex: re.Pattern[str]
    confidence: Confidence
    shown: int = 4


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _BASE62.index(char)
    return number


def github_checksum_ok(token: str) -> bool:
    """Whether a GitHub token's last six characters are the base62 CRC32 of its random part.

    GitHub's token format (2021): a prefix, random base62 characters, then the CRC32 of those
    random characters in base62, left-padded with zeros to six characters.
    """
    body = token.rsplit("_", 1)[-1]
    if len(body) <= 6 or not body.isalnum() or not body.isascii():
        return False
    return zlib.crc32(body[:-6].encode()) == _base62(body[-6:])


def _random(minimum: float) -> Confidence:
    """High-entropy values that are not placeholders are ``medium`` matches."""

    def check(value: str) -> str | None:
        if is_placeholder(value) or shannon_entropy(value) < minimum:
            return None
        return "medium"

    return check


def _github(value: str) -> str | None:
    if github_checksum_ok(value):
        return "high"
    # A classic token without its checksum is an example or a typo; a fine-grained token keeps
    # its checksum in a part whose coverage is not documented, so its shape alone counts.
    if value.startswith("github_pat_") and not is_placeholder(value):
        return "medium"
    return None


def _with_marker(marker: str, minimum: float = 3.5) -> Confidence:
    base = _random(minimum)

    def check(value: str) -> str | None:
        if base(value) is None:
            return None
        return "high" if marker in value else "medium"

    return check


def _aws_key_id(value: str) -> str | None:
    if is_placeholder(value) or shannon_entropy(value[4:]) < 2.5:
        return None
    return "high" if value.startswith("AKIA") else "medium"


# Word boundaries for tokens: not inside a longer run of token characters.
_B = r"(?<![A-Za-z0-9_\-])"
_E = r"(?![A-Za-z0-9_\-])"

TOKEN_FORMATS: tuple[TokenFormat, ...] = (
    TokenFormat(
        "huggingface-token",
        ("hf_", "api_org_"),
        re.compile(_B + r"(?:hf_|api_org_)[A-Za-z]{34}" + _E),
        _random(3.3),
    ),
    TokenFormat(
        "anthropic-api-key",
        ("sk-ant-",),
        re.compile(_B + r"sk-ant-(?:api|admin|oat|ort)\d{2}-[A-Za-z0-9_\-]{80,120}" + _E),
        _with_marker("AA", 3.8),
        shown=14,
    ),
    TokenFormat(
        "openai-api-key",
        ("sk-",),
        re.compile(
            _B + r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,200}|[A-Za-z0-9]{48})" + _E
        ),
        # "T3BlbkFJ" (base64 of "OpenAI") sits inside OpenAI's keys.
        _with_marker("T3BlbkFJ"),
        shown=8,
    ),
    TokenFormat(
        "aws-access-key-id",
        ("AKIA", "ASIA"),
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        _aws_key_id,
        shown=5,
    ),
    TokenFormat(
        "google-api-key",
        ("AIza",),
        re.compile(_B + r"AIza[0-9A-Za-z_\-]{35}" + _E),
        _random(3.5),
        shown=5,
    ),
    TokenFormat(
        "github-token",
        ("gh", "github_pat_"),
        re.compile(
            _B + r"(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _E
        ),
        _github,
        shown=5,
    ),
    TokenFormat(
        "slack-token",
        ("xox",),
        re.compile(_B + r"xox[abposr]-\d{6,14}-[A-Za-z0-9\-]{10,120}" + _E),
        _random(3.0),
        shown=5,
    ),
    TokenFormat(
        "slack-webhook",
        ("hooks.slack.com",),
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"T[A-Z0-9]{6,12}/[AB][A-Z0-9]{6,12}/[A-Za-z0-9]{20,40}(?![A-Za-z0-9])"
        ),
        lambda value: None if is_placeholder(value.rsplit("/", 1)[-1]) else "high",
        shown=35,
    ),
)

#: Azure connection strings carry the key after ``AccountKey=`` or ``SharedAccessKey=``.
_AZURE_KEY = re.compile(
    r"(?P<name>AccountKey|SharedAccessKey)\s*=\s*(?P<value>[A-Za-z0-9+/]{40,100}={0,2})"
)
#: The storage emulator's key is published in Azure's documentation: not a secret.
_AZURE_DEV = ("devstoreaccount1", "UseDevelopmentStorage")

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<type>(?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----"
)
# The body of a real key follows within a few lines (after optional PGP/PEM headers).
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{40,}")
_KEY_LOOKAHEAD = 400


def format_candidates(text: str, original: str) -> Iterator[Candidate]:
    """Self-describing credentials in ``text`` (encoded payloads already masked).

    ``original`` is the unmasked text, used only to read private-key bodies, which are base64
    and can be long.
    """
    for fmt in TOKEN_FORMATS:
        if not any(anchor in text for anchor in fmt.anchor):
            continue
        for match in fmt.regex.finditer(text):
            confidence = fmt.confidence(match.group())
            if confidence is not None:
                yield Candidate(
                    match.start(), match.end(), match.group(), fmt.kind, confidence, fmt.shown
                )
    yield from _azure_keys(text)
    yield from _private_keys(original)


def _azure_keys(text: str) -> Iterator[Candidate]:
    if "Key" not in text:
        return
    for match in _AZURE_KEY.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        value = match.group("value")
        if any(dev in line for dev in _AZURE_DEV) or is_placeholder(value):
            continue
        if shannon_entropy(value) < 4.0:
            continue
        yield Candidate(
            match.start("value"),
            match.end("value"),
            value,
            "azure-storage-key",
            "high",
            name=match.group("name"),
        )


def has_key_body(text: str, offset: int) -> bool:
    """Whether key material follows a ``-----BEGIN ... PRIVATE KEY-----`` header at ``offset``.

    Documentation writes the header around ``...`` or ``<your key>``; a real key has a long,
    random base64 body before its ``-----END`` line.
    """
    after = text[offset : offset + _KEY_LOOKAHEAD]
    end = after.find("-----END")
    run = _KEY_BODY.search(after if end < 0 else after[:end])
    return (
        run is not None and not is_placeholder(run.group()) and shannon_entropy(run.group()) >= 4.0
    )


def _private_keys(text: str) -> Iterator[Candidate]:
    if "PRIVATE KEY" not in text:
        return
    for match in _PRIVATE_KEY.finditer(text):
        if not has_key_body(text, match.end()):
            continue
        yield Candidate(
            match.start(),
            match.end(),
            match.group("type"),
            "private-key",
            "high",
            shown=0,
        )

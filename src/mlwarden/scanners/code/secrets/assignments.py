"""Secrets known by the name they are given: ``api_key = "..."``, ``WANDB_API_KEY=...``.

Some credentials have no shape of their own (an AWS secret key is 40 base64 characters, a
Weights & Biases key 40 hex digits, an Azure OpenAI key 32 hex digits); they are recognised by
the name they are assigned to or the service named on the same line. Any other value assigned
to a name like ``token``, ``secret`` or ``password`` is reported when it looks random enough
(Shannon entropy) and is not a placeholder, a reference to the environment, a digest or an
ordinary identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from mlwarden.scanners.code.secrets.formats import Candidate
from mlwarden.scanners.code.secrets.text import is_placeholder, shannon_entropy

#: Names whose value is a secret, compared without separators and case: ``apiKey``,
#: ``API_KEY`` and ``api-key`` are all ``apikey``.
SECRET_NAME_ENDINGS = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "authkey",
    "signingkey",
    "encryptionkey",
    "credential",
    "credentials",
    "clientsecret",
    "hftoken",
)
#: Tokenizer special tokens ("pad_token", "eos_token") are vocabulary, not credentials.
_VOCABULARY_TOKENS = ("pad", "eos", "bos", "unk", "sep", "cls", "mask", "special", "max", "num")

#: Below this many bits per character a value is a word, a path or a pattern, not a key.
ENTROPY_BITS = 3.5
#: Hex strings carry at most 4 bits per character, so they get their own threshold.
HEX_ENTROPY_BITS = 3.0
MIN_LENGTH = 16

# Longest window of a line read around a secret-like word: minified lines stay cheap.
_WINDOW_BEFORE = 200
_WINDOW_AFTER = 600
_SEGMENT_MAX = 8192

_NAME_HINT = re.compile(
    r"token|secret|passw|passphrase|pwd|api[_\-]?key|access[_\-]?key|private[_\-]?key|"
    r"auth|credential|wandb|aws|azure|bearer|signing[_\-]?key|encryption[_\-]?key",
    re.IGNORECASE,
)

_ANNOTATION = r"(?:\s*:\s*[\w.\[\], |]{1,60}?)?"
_QUOTED = re.compile(
    r"(?<![\w.$\-])(?P<name>[A-Za-z_$][\w.$\-]*)[\"'\]]*"
    + _ANNOTATION
    + r"\s*(?P<op>:=|=>|==|=|:|\(|,)\s*"
    r"[rRbBuU]?(?P<q>[\"'`])(?P<value>[^\"'`\s\\]{8,300})(?P=q)"
)
_UNQUOTED = re.compile(
    r"(?:^|(?<=[\s;,{(]))(?:export\s+|set\s+)?(?P<name>[A-Za-z_][\w.\-]*)\s*(?:=|:)[ \t]*"
    r"(?P<value>[^\s\"'`,;#(){}\[\]<>|&]{8,300})"
)
_DOCKER_ENV = re.compile(
    r"^\s*(?:ENV|ARG)\s+(?P<name>[A-Za-z_]\w*)\s+[\"']?(?P<value>[^\s\"'=]{8,300})", re.MULTILINE
)
_CLI_FLAG = re.compile(
    r"(?<![\w-])--?(?P<name>[A-Za-z][\w-]*)(?:=|\s+)[\"']?(?P<value>[^\s\"'\-][^\s\"']{7,300})"
)
_WANDB_LOGIN = re.compile(r"wandb\s+login\s+(?:--?\S+\s+)*(?P<value>[0-9a-f]{40})\b")
_BEARER = re.compile(r"\bBearer\s+(?P<value>[A-Za-z0-9\-._~+/]{20,300}=*)")

# Values with a vendor prefix were judged by their format (a GitHub token with a wrong checksum
# is a typo or an example), not by their entropy.
_VENDOR_PREFIXES = (
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "hf_",
    "api_org_",
    "sk-",
    "AKIA",
    "ASIA",
    "AIza",
    "xox",
)
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_BASE64_40 = re.compile(r"[A-Za-z0-9/+]{40}")
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][A-Za-z_]*(?:[.:/][A-Za-z_][A-Za-z_]*)*")
_DIGEST_WORDS = re.compile(r"sha\d*|hash|checksum|digest|md5|blake|integrity", re.IGNORECASE)
_DIGEST_PREFIX = re.compile(r"^(?:sha\d+|md5|blake2b?)[:\-]", re.IGNORECASE)
_URL = re.compile(r"[a-z][a-z0-9+.\-]*://\S+", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class Assignment(NamedTuple):
    """A value given a name on one line, with the value's offsets in the whole text."""

    name: str
    value: str
    start: int
    quoted: bool
    #: ``(`` or ``,`` when the value is a call argument or a pair item rather than assigned.
    operator: str = "="


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or flag name says its value is a secret."""
    flat = re.sub(r"[^a-z0-9]", "", name.lower().rsplit(".", 1)[-1])
    # A public key token (.NET assemblies) or public key is published on purpose.
    if not flat.endswith(SECRET_NAME_ENDINGS) or "public" in flat:
        return False
    return not (flat.endswith("token") and flat[:-5].endswith(_VOCABULARY_TOKENS))


def assignment_candidates(text: str, *, unquoted: bool = True) -> Iterator[Candidate]:
    """Named secrets in ``text``; ``unquoted=False`` for code, where bare values are names."""
    for start, end in _segments(text):
        yield from _window_candidates(text, start, end, unquoted=unquoted)


def _segments(text: str) -> Iterator[tuple[int, int]]:
    """Stretches of text around secret-like words, each read once.

    Windows around nearby words are merged, up to a bounded size, so that a long minified line
    full of such words costs time in proportion to its length, not to its length times the
    number of words. Consecutive segments overlap by a window, so no assignment is cut.
    """
    current: tuple[int, int] | None = None
    for hint in _NAME_HINT.finditer(text):
        # Searches for the line's ends stay within the window: on a long line they would
        # otherwise walk the whole line once per word.
        low = max(0, hint.start() - _WINDOW_BEFORE)
        high = min(len(text), hint.end() + _WINDOW_AFTER)
        newline = text.rfind("\n", low, hint.start())
        start = low if newline < 0 else newline + 1
        newline = text.find("\n", hint.end(), high)
        end = high if newline < 0 else newline
        if current is not None and start <= current[1] and end - current[0] <= _SEGMENT_MAX:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def _assignments(segment: str, offset: int, *, unquoted: bool) -> Iterator[Assignment]:
    for match in _QUOTED.finditer(segment):
        yield Assignment(
            match["name"], match["value"], offset + match.start("value"), True, match["op"]
        )
    if not unquoted:
        return
    for pattern in (_UNQUOTED, _DOCKER_ENV, _CLI_FLAG):
        for match in pattern.finditer(segment):
            yield Assignment(match["name"], match["value"], offset + match.start("value"), False)


def _window_candidates(text: str, start: int, end: int, *, unquoted: bool) -> Iterator[Candidate]:
    segment = text[start:end]
    lowered = segment.lower()
    urls = [(m.start(), m.end()) for m in _URL.finditer(segment)]
    done: set[int] = set()
    for found in _assignments(segment, start, unquoted=unquoted):
        if found.start in done:
            continue
        relative = found.start - start
        if any(s <= relative < e for s, e in urls) and not found.quoted:
            continue
        candidate = _classify(found, lowered)
        if candidate is not None:
            done.add(found.start)
            yield candidate
    for match in _WANDB_LOGIN.finditer(segment):
        value = match["value"]
        if not is_placeholder(value) and shannon_entropy(value) >= HEX_ENTROPY_BITS:
            yield Candidate(
                start + match.start("value"),
                start + match.end("value"),
                value,
                "wandb-api-key",
                "medium",
                name="wandb login",
            )
    for match in _BEARER.finditer(segment):
        value = match["value"]
        if _looks_random(value) and not is_placeholder(value):
            yield Candidate(
                start + match.start("value"),
                start + match.end("value"),
                value,
                "bearer-token",
                "low",
                shown=2,
                name="Bearer",
            )


def _classify(found: Assignment, line: str) -> Candidate | None:
    name, value = found.name, found.value
    lowered_name = name.lower()
    end = found.start + len(value)
    if is_placeholder(value) or _DIGEST_PREFIX.match(value) or value.startswith(_VENDOR_PREFIXES):
        return None
    if value.startswith(("$", "%", "@", "/", "~", "./", "http")):
        return None
    is_hex = _HEX.fullmatch(value) is not None
    # The service-specific shapes need a name that holds a key (``api_key``, ``WANDB_API_KEY``,
    # ``AzureKeyCredential(...)``, ``wandb.login(...)``): a commit hash or a deployment id on a
    # line that mentions the service is not one.
    flat = re.sub(r"[^a-z]", "", lowered_name)
    key_like = any(word in flat for word in ("key", "token", "secret", "credential", "login"))
    if key_like and "wandb" in line and is_hex and len(value) == 40:
        return Candidate(found.start, end, value, "wandb-api-key", "medium", name=name)
    if _is_aws_secret(value, lowered_name, line, is_hex=is_hex):
        return Candidate(found.start, end, value, "aws-secret-access-key", "medium", name=name)
    if key_like and "azure" in line:
        azure_shaped = (is_hex and len(value) == 32) or (value.isalnum() and len(value) == 84)
        if azure_shaped and shannon_entropy(value) >= HEX_ENTROPY_BITS:
            return Candidate(found.start, end, value, "azure-ai-key", "medium", name=name)
    # A call argument (``get_secret("db-password-name")``) names a secret more often than it
    # holds one; only the service-specific shapes above are trusted there.
    if found.operator in ("(", ",") or not is_secret_name(name) or len(value) < MIN_LENGTH:
        return None
    if is_hex and len(value) in (32, 40, 56, 64, 96, 128) and _DIGEST_WORDS.search(line):
        return None
    if not found.quoted and not _unquoted_value_ok(value):
        return None
    if _UUID.fullmatch(value) is None and not _looks_random(value):
        return None
    return Candidate(found.start, end, value, "high-entropy-secret", "low", shown=2, name=name)


def _is_aws_secret(value: str, name: str, line: str, *, is_hex: bool) -> bool:
    # 40 base64 characters under an AWS secret name, or on a line that names AWS and a secret.
    if is_hex or _BASE64_40.fullmatch(value) is None or shannon_entropy(value) < 4.0:
        return False
    if "secretaccesskey" in re.sub(r"[^a-z]", "", name):
        return True
    return "aws" in line and "secret" in line


def _looks_random(value: str) -> bool:
    is_hex = _HEX.fullmatch(value) is not None
    bits = shannon_entropy(value)
    return bits >= (HEX_ENTROPY_BITS if is_hex else ENTROPY_BITS)


def _unquoted_value_ok(value: str) -> bool:
    # Bare values in configs are often names (``password: db_password_prod``), dotted paths or
    # shell words: a credential has digits among its letters.
    if _IDENTIFIER_PATH.fullmatch(value):
        return False
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)

"""Fake credentials for tests: right format (prefix, length, charset, checksum), never real.

Fixtures hold ``@@KIND@@`` markers (``@@KIND#2@@`` for a second, different value) instead of
credential-shaped strings, so the repository itself holds none; :func:`render` fills them in
from a seeded generator, giving the same values on every run.
"""

from __future__ import annotations

import random
import re
import string
import zlib
from collections.abc import Callable

ALNUM = string.ascii_letters + string.digits
BASE64 = ALNUM + "+/"
HEX = "0123456789abcdef"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _base62(number: int, width: int = 6) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    return digits.rjust(width, "0")


def github_token(rng: random.Random, prefix: str = "ghp_") -> str:
    """A classic-format GitHub token whose checksum is right."""
    body = _pick(rng, ALNUM, 30)
    return prefix + body + _base62(zlib.crc32(body.encode()))


_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "HF": lambda r: "hf_" + _pick(r, string.ascii_letters, 34),
    "HF_ORG": lambda r: "api_org_" + _pick(r, string.ascii_letters, 34),
    "OPENAI": lambda r: "sk-proj-" + _pick(r, ALNUM, 40) + "T3BlbkFJ" + _pick(r, ALNUM, 40),
    "OPENAI_LEGACY": lambda r: "sk-" + _pick(r, ALNUM, 20) + "T3BlbkFJ" + _pick(r, ALNUM, 20),
    "ANTHROPIC": lambda r: "sk-ant-api03-" + _pick(r, ALNUM + "-_", 93) + "AA",
    "AWS_ID": lambda r: "AKIA" + _pick(r, string.ascii_uppercase + "234567", 16),
    "AWS_SECRET": lambda r: _pick(r, BASE64, 40),
    "GOOGLE": lambda r: "AIza" + _pick(r, ALNUM + "-_", 35),
    "AZURE_STORAGE": lambda r: _pick(r, BASE64, 86) + "==",
    "AZURE_AI": lambda r: _pick(r, HEX, 32),
    "WANDB": lambda r: _pick(r, HEX, 40),
    "GITHUB": github_token,
    "GITHUB_BAD": lambda r: "ghp_" + _pick(r, ALNUM, 36),
    "SLACK_WEBHOOK": lambda r: (
        "https://hooks.slack.com/services/T"
        + _pick(r, string.ascii_uppercase + string.digits, 8)
        + "/B"
        + _pick(r, string.ascii_uppercase + string.digits, 10)
        + "/"
        + _pick(r, ALNUM, 24)
    ),
    "SLACK": lambda r: (
        "xoxb-"
        + _pick(r, string.digits, 11)
        + "-"
        + _pick(r, string.digits, 13)
        + "-"
        + _pick(r, ALNUM, 24)
    ),
    "KEY_BODY": lambda r: _pick(r, BASE64, 64),
    "RANDOM": lambda r: _pick(r, ALNUM, 24),
    "UUID": lambda r: "-".join(_pick(r, HEX, n) for n in (8, 4, 4, 4, 12)),
    "IMAGE": lambda r: _pick(r, BASE64, 6000),
}

_MARKER = re.compile(r"@@(?P<kind>[A-Z_0-9]+)(?:#(?P<n>\d+))?@@")


def fake(kind: str, n: int = 1) -> str:
    """The ``n``-th fake value of a kind (``HF``, ``GITHUB``, ``AWS_ID``...), always the same."""
    rng = random.Random(f"{kind}#{n}")
    return _MAKERS[kind](rng)


def render(template: str) -> str:
    """The template with every ``@@KIND@@`` / ``@@KIND#n@@`` marker replaced by a fake value."""
    return _MARKER.sub(lambda m: fake(m["kind"], int(m["n"] or 1)), template)

"""Rules over the shell commands of a notebook: download-and-run, model output as commands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_FETCH = r"(?:curl|wget|fetch|aria2c)\b"
_SHELLS = r"(?:ba|z|da|k|c|fi)?sh"
_INTERPRETERS = rf"(?:{_SHELLS}|python[\d.]*|perl|ruby|node|php)"
_SUDO = r"(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S*\s+)*)?"
# (how the download is run, pattern); commands are not copied into findings, since they may
# carry credentials (an Authorization header, a token in a URL).
_DOWNLOAD_EXEC = (
    # curl https://x/install.sh | sh
    (
        "piped into an interpreter",
        re.compile(rf"{_FETCH}[^|\n]*\|\s*{_SUDO}{_INTERPRETERS}(?![\w.-])"),
    ),
    # bash <(curl ...), sh -c "$(curl ...)", source <(wget -O- ...)
    (
        "run through a process substitution",
        re.compile(rf"(?:{_INTERPRETERS}|source|\.)\s+(?:-\S+\s+)*[\"']?(?:<\(|\$\()\s*{_FETCH}"),
    ),
    # wget https://x/install.sh && bash install.sh ; curl -o x.sh ... ; chmod +x x.sh && ./x.sh
    (
        "saved, then run",
        re.compile(
            rf"{_FETCH}[^\n]*?(?:&&|;)\s*(?:chmod\s+\S+\s+\S+\s*(?:&&|;)\s*)?"
            rf"{_SUDO}(?:{_INTERPRETERS}\s+[\w./-]+|\./[\w./-]+)"
        ),
    ),
)

# IPython expands {expr} and $name in "!" lines before the shell sees them ($$ is a dollar).
_BRACED = re.compile(r"(?<!\{)\{(?P<expr>[^{}\n]+)\}(?!\})")
_DOLLAR = re.compile(r"(?<!\$)\$(?P<expr>[A-Za-z_]\w*)")
#: Words in a name that say the value is a model's or an LLM's output.
MODEL_OUTPUT_WORDS = frozenset(
    {
        "response",
        "responses",
        "resp",
        "completion",
        "completions",
        "answer",
        "answers",
        "reply",
        "generated",
        "generation",
        "generations",
        "llm",
        "gpt",
        "chat",
        "prediction",
        "predictions",
        "pred",
        "preds",
        "output",
        "outputs",
        "agent",
    }
)
# Names that end like these hold a place on disk or a label, not model text.
_NOT_TEXT_ENDINGS = frozenset(
    {"dir", "path", "file", "filename", "folder", "name", "dirname", "root", "url", "id", "ids"}
)


@dataclass(frozen=True, slots=True)
class ShellIssue:
    """One notebook shell rule firing on one line of a cell (1-based line and column)."""

    rule: str
    line: int
    column: int
    message: str
    evidence: dict[str, object]


def shell_issues(shell: str, interpolated: frozenset[int]) -> Iterator[ShellIssue]:
    """Download-and-run commands and model output turned into commands, line by line."""
    for number, line in enumerate(shell.splitlines(), start=1):
        if not line.strip():
            continue
        for how, pattern in _DOWNLOAD_EXEC:
            match = pattern.search(line)
            if match is not None:
                tool = re.search(_FETCH, match.group())
                fetch = tool.group() if tool else "download"
                yield ShellIssue(
                    "MW341",
                    number,
                    match.start() + 1,
                    f"shell line downloads a script with {fetch} and runs it ({how})",
                    {"fetch": fetch, "how": how},
                )
                break
        if number in interpolated:
            yield from _model_output(line, number)


def _model_output(line: str, number: int) -> Iterator[ShellIssue]:
    for pattern in (_BRACED, _DOLLAR):
        for match in pattern.finditer(line):
            expression = match["expr"].strip()
            if _is_model_output(expression):
                yield ShellIssue(
                    "MW342",
                    number,
                    match.start() + 1,
                    f"model output {expression!r} is expanded into a shell command",
                    {"expression": _clip(expression)},
                )
                return


def _is_model_output(expression: str) -> bool:
    names = re.findall(r"[A-Za-z_]\w*", expression)
    for name in names:
        parts = [p for p in name.lower().split("_") if p]
        if parts and parts[-1] in _NOT_TEXT_ENDINGS:
            continue
        if any(part in MODEL_OUTPUT_WORDS for part in parts):
            return True
    return False


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

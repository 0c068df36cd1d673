"""A Jupyter notebook read as data: cells, their sources, and the text of their outputs.

The ``.ipynb`` JSON is parsed, never executed or rendered. Both nbformat 4 (``cells``,
``source``) and nbformat 3 (``worksheets``, ``input``) are read. Only textual outputs are kept:
images and other binary payloads (``image/png`` and the like, base64 in the JSON) are never
searched, so an embedded plot cannot look like a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlwarden.scanners.interface import FormatError

#: Output MIME types whose content is text a person or a tool could read a secret from.
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
# nbformat 3 stored MIME bundles under short keys.
_V3_TEXT_KEYS = {
    "text": "text/plain",
    "html": "text/html",
    "markdown": "text/markdown",
    "latex": "text/latex",
    "json": "application/json",
}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class OutputText:
    """The text of one stored output of a cell: which output, of what type, in what MIME."""

    index: int
    output_type: str
    mime: str
    text: str


@dataclass(frozen=True, slots=True)
class NotebookCell:
    """One cell: its 0-based index among all cells, its type, source and textual outputs."""

    index: int
    cell_type: str
    source: str
    outputs: tuple[OutputText, ...] = field(default=())


def _text(value: object) -> str:
    # nbformat stores multi-line strings either whole or as a list of lines with their "\n".
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v if isinstance(v, str) else "" for v in value)
    return ""


def parse_notebook(raw: str) -> list[NotebookCell]:
    """The cells of a notebook document; ``FormatError`` when it is not one."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise FormatError(f"notebook is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FormatError("notebook JSON is not an object")
    return list(_cells(document))


def _raw_cells(document: dict[str, Any]) -> list[Any]:
    cells = document.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = document.get("worksheets")
    if isinstance(worksheets, list):
        found: list[Any] = []
        for sheet in worksheets:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                found.extend(sheet["cells"])
        return found
    raise FormatError("notebook has no 'cells' (nbformat 4) or 'worksheets' (nbformat 3)")


def _cells(document: dict[str, Any]) -> Iterator[NotebookCell]:
    for index, cell in enumerate(_raw_cells(document)):
        if not isinstance(cell, dict):
            continue
        cell_type = str(cell.get("cell_type", ""))
        source = _text(cell.get("source", cell.get("input", "")))
        outputs = cell.get("outputs")
        texts = tuple(_outputs(outputs)) if isinstance(outputs, list) else ()
        yield NotebookCell(index, cell_type, source, texts)


def _outputs(outputs: list[Any]) -> Iterator[OutputText]:
    for index, output in enumerate(outputs):
        if not isinstance(output, dict):
            continue
        kind = str(output.get("output_type", ""))
        if kind == "stream":
            yield OutputText(index, kind, "text/plain", _text(output.get("text")))
        elif kind == "error":
            lines = [str(output.get("ename", "")), str(output.get("evalue", ""))]
            lines.extend(
                _text(
                    [t + "\n" for t in output.get("traceback", []) if isinstance(t, str)]
                ).splitlines()
            )
            yield OutputText(index, kind, "text/plain", _ANSI.sub("", "\n".join(lines)))
        else:
            yield from _bundle(index, kind, output)


def _bundle(index: int, kind: str, output: dict[str, Any]) -> Iterator[OutputText]:
    data = output.get("data")
    if isinstance(data, dict):
        items = [(mime, value) for mime, value in data.items() if mime in TEXT_MIMES]
    else:
        items = [(_V3_TEXT_KEYS[k], v) for k, v in output.items() if k in _V3_TEXT_KEYS]
    for mime, value in items:
        if mime == "application/json" and not isinstance(value, str | list):
            text = json.dumps(value, indent=1)
        else:
            text = _text(value)
        yield OutputText(index, kind, mime, _ANSI.sub("", text))

"""Jupyter notebooks: the Python of code cells, their magics and shell lines, and outputs.

Findings are located at ``cell`` (0-based among all cells) and ``line`` (1-based in the cell's
source); findings in stored outputs carry ``evidence.output = true``.
"""

from __future__ import annotations

from mlwarden.scanners.code.notebooks.document import NotebookCell, OutputText, parse_notebook
from mlwarden.scanners.code.notebooks.magics import CellViews, split_cell
from mlwarden.scanners.code.notebooks.scanner import NotebookScanner

__all__ = [
    "CellViews",
    "NotebookCell",
    "NotebookScanner",
    "OutputText",
    "parse_notebook",
    "split_cell",
]

"""Renderers: a :class:`~mlwarden.Report` in, text out. Findings never render themselves."""

from __future__ import annotations

import enum
import importlib
from typing import Protocol

from mlwarden.findings import Report


class Format(enum.StrEnum):
    """The report formats of ``--format``; each has a module ``mlwarden.report.<name>_report``."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


class Renderer(Protocol):
    """What every report module's ``render`` is: a report in, text out."""

    def __call__(self, report: Report, *, color: bool = False) -> str: ...


def render(report: Report, fmt: Format | str, *, color: bool = False) -> str:
    """Render a report in one of the :class:`Format` choices."""
    fmt = Format(fmt)
    module = importlib.import_module(f"mlwarden.report.{fmt.value}_report")
    renderer: Renderer = module.render
    return renderer(report, color=color)

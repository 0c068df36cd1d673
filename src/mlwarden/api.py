"""The public scanning function: the engine plus configuration and policy."""

from __future__ import annotations

import os
from collections.abc import Sequence

from mlwarden.config import Config
from mlwarden.engine import ProgressCallback, scan_paths
from mlwarden.findings import Report
from mlwarden.policy import apply_policy


def scan(
    targets: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    config: Config | None = None,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Scan files and directories and return a :class:`~mlwarden.Report`.

    Nothing scanned is executed, imported or rendered. ``config`` carries limits, exclusions,
    suppressions and the baseline; without it, defaults apply and no config file is read.
    """
    if isinstance(targets, str | os.PathLike):
        targets = [targets]
    config = config or Config()
    report = scan_paths(
        targets,
        limits=config.limits,
        jobs=jobs,
        progress=progress,
        exclude=config.is_excluded,
    )
    return apply_policy(report, config)

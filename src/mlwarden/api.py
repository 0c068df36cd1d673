"""The public scanning function: the engine plus configuration and policy."""

from __future__ import annotations

import os
from collections.abc import Sequence

from mlwarden.config import Config
from mlwarden.engine import ProgressCallback, iter_files, scan_paths
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
    suppressions, the baseline and the vulnerability database; without it, defaults apply and
    no config file is read. A database that cannot be opened raises
    ``mlwarden.scanners.deps.db.DatabaseError``.
    """
    if isinstance(targets, str | os.PathLike):
        targets = [targets]
    config = config or Config()
    options: dict[str, object] = {}
    if config.db is not None:
        from mlwarden.scanners.deps.scanner import open_database

        # Compile (or find in the cache) once here, before worker processes need it.
        open_database(str(config.db))
        options["db"] = str(config.db)
    if config.sample is not None:
        options["sample"] = config.sample
    if config.scheduler is not None:
        from mlwarden.distributed import connect_client

        # Fail before scanning when the cluster cannot be reached (ClusterError).
        connect_client(config.scheduler).close()
        options["scheduler"] = config.scheduler
    walked = list(iter_files(targets))  # once, for the scan and for the policy's MW003
    report = scan_paths(
        targets,
        limits=config.limits,
        jobs=jobs,
        progress=progress,
        exclude=config.is_excluded,
        options=options,
        walked=walked,
    )
    if config.python is not None:
        report = _with_environment(report, config, options)
    return apply_policy(report, config, walked=walked)


def _with_environment(report: Report, config: Config, options: dict[str, object]) -> Report:
    """Add the findings for the distributions installed for ``config.python``."""
    import dataclasses

    from mlwarden.scanners.deps.scanner import scan_environment
    from mlwarden.scanners.interface import ScanContext

    context = ScanContext(limits=config.limits, options=options)
    findings = scan_environment(str(config.python), context)
    warnings = tuple(dict.fromkeys((*report.warnings, *context.warnings)))
    return dataclasses.replace(
        report,
        targets=(*report.targets, f"python:{config.python}"),
        findings=(*report.findings, *findings),
        warnings=warnings,
    )

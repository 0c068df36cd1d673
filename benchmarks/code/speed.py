"""Speed on the installed source of large real packages: whole processes, lines per second.

The trees are installed with ``pip install --no-deps --target work/code/site`` (never imported);
an installed package keeps its ``__pycache__`` bytecode beside the sources, as here. The unit is
the number of lines in ``*.py`` files, the same for every tool; mlwarden walks every file of the
tree (it decides kinds by content), bandit only the ``*.py`` files.
"""

from __future__ import annotations

import json
import pstats
import subprocess
from collections import Counter
from io import StringIO
from pathlib import Path
from typing import Any

import measure
from processes import Run, run, summary
from tools import BANDIT, MLWARDEN, REPO

PROFILE_TOP = 25


def _commands(tree: Path, out: Path) -> dict[str, list[str]]:
    scan = [str(MLWARDEN), "scan", str(tree), "--format", "json", "--fail-on", "never"]
    scan += ["--no-progress", "--output"]
    return {
        "mlwarden": [*scan, str(out / "mlwarden.json")],
        "mlwarden --jobs 1": [*scan, str(out / "mlwarden-jobs1.json"), "--jobs", "1"],
        "bandit": [
            str(BANDIT),
            "-r",
            str(tree),
            "-f",
            "json",
            "-o",
            str(out / "bandit.json"),
            "-q",
        ],
    }


def reported(out: Path) -> dict[str, Any]:
    """What the last run of each tool reported on the tree, by rule."""
    found: dict[str, Any] = {}
    ours = out / "mlwarden.json"
    if ours.is_file():
        data = json.loads(ours.read_text())
        rules = Counter(f["rule"] for f in data["findings"])
        severe: dict[str, list[str]] = {}
        for f in data["findings"]:
            if f["severity"] in ("high", "critical"):
                where = f["location"]["path"].split("/site/", 1)[-1]
                severe.setdefault(f["rule"], []).append(f"`{where}`: {f['message'][:120]}")
        found["mlwarden"] = {
            "findings": len(data["findings"]),
            "errors": len(data["errors"]),
            "files": data["summary"]["files"],
            "rules": dict(rules.most_common()),
            "high": {rule: {"count": len(v), "example": v[0]} for rule, v in severe.items()},
        }
    theirs = out / "bandit.json"
    if theirs.is_file():
        data = json.loads(theirs.read_text())
        rules = Counter(r["test_id"] for r in data["results"])
        found["bandit"] = {
            "findings": len(data["results"]),
            "errors": len(data["errors"]),
            "rules": dict(rules.most_common()),
        }
    return found


def measure_tree(name: str, tree: Path, out_dir: Path, repeat: int) -> dict[str, Any]:
    """Each tool ``repeat`` times on ``tree``, runs interleaved so that load spreads evenly."""
    size = measure.python_lines(tree)
    everything = measure.all_files(tree)
    commands = _commands(tree, out_dir / name)
    runs: dict[str, list[Run]] = {tool: [] for tool in commands}
    for attempt in range(repeat):
        for tool, argv in commands.items():
            slug = tool.replace(" ", "").replace("-", "")
            result = run(
                argv,
                stdout=out_dir / name / f"{slug}-{attempt}.stdout",
                stderr=out_dir / name / f"{slug}-{attempt}.stderr",
            )
            print(
                f"  {name} {tool} run {attempt + 1}: {result.seconds:.2f} s, "
                f"{result.peak_mb:.0f} MB, exit {result.returncode}",
                flush=True,
            )
            runs[tool].append(result)
    tools = {}
    for tool, done in runs.items():
        row = summary(done)
        row["lines_per_s"] = round(size["lines"] / row["median_s"]) if row["median_s"] else 0
        tools[tool] = row
    ratio = tools["mlwarden"]["median_s"] / tools["bandit"]["median_s"]
    return {
        "tree": str(tree.relative_to(REPO)),
        "python": size,
        "all_files": everything,
        "tools": tools,
        "mlwarden_over_bandit": round(ratio, 3),
        "reported": reported(out_dir / name),
        "met": ratio <= 1.0,
    }


def profile(tree: Path, out_dir: Path) -> list[str]:
    """Where mlwarden's time goes on ``tree`` (one process, ``--jobs 1``, cProfile)."""
    stats_file = out_dir / "mlwarden.prof"
    report = out_dir / "profiled-report.json"
    argv = ["scan", str(tree), "--format", "json", "--output", str(report)]
    argv += ["--fail-on", "never", "--no-progress", "--jobs", "1"]
    code = (
        "import cProfile, sys\n"
        "from mlwarden.cli import main\n"
        f"cProfile.run('main({argv!r})', {str(stats_file)!r})\n"
    )
    python = MLWARDEN.parent / "python"
    subprocess.run([str(python), "-c", code], check=False, capture_output=True, timeout=1800)
    if not stats_file.is_file():
        return ["profile not written"]
    text = StringIO()
    stats = pstats.Stats(str(stats_file), stream=text)
    stats.sort_stats("tottime").print_stats(PROFILE_TOP)
    lines = [line.rstrip() for line in text.getvalue().splitlines() if line.strip()]
    (out_dir / "profile.txt").write_text("\n".join(lines) + "\n")
    return lines

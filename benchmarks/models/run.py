"""Run mlwarden and its peers over the benchmark cases and keep the raw results.

    python benchmarks/models/run.py [--tools mlwarden,picklescan,...] [--cases big,corpus]
                                    [--repeat 3] [--timeout 1200]

Tools run one at a time, each as a whole process (start-up included), measured for wall
time and peak RSS of its process tree. Raw results go to work/results.json (merged with
earlier runs, so one tool can be re-run alone); report.py turns them into RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # the measurements shared by every benchmark

import payloads  # noqa: E402
import tools  # noqa: E402
from measure import MEMORY_CAP_MB, Measured, read_limited, run_measured  # noqa: E402
from processes import run  # noqa: E402
from results import machine  # noqa: E402

WORK = HERE.parent / "work"


def tool_env() -> dict[str, str]:
    """Environment for every tool: offline, no telemetry, no colour."""
    env = dict(os.environ)
    env.update(
        {
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "NO_ANALYTICS": "1",
            "HF_HUB_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "NO_COLOR": "1",
            "TERM": "dumb",
        }
    )
    return env


def versions() -> dict[str, str]:
    """Installed version of every tool."""
    found: dict[str, str] = {}
    try:
        out = subprocess.run(
            [str(tools.MLWARDEN), "--version"], capture_output=True, text=True, timeout=60
        )
        found["mlwarden"] = out.stdout.strip().split()[-1] if out.stdout.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        found["mlwarden"] = "not installed"
    script = (
        "import importlib.metadata as m\n"
        "for n in ('picklescan','modelscan','fickling','modelaudit'):\n"
        "    print(n, m.version(n))\n"
    )
    try:
        out = subprocess.run(
            [str(tools.PEERS / "python"), "-c", script], capture_output=True, text=True, timeout=60
        )
        for line in out.stdout.splitlines():
            name, version = line.split()
            found[name] = version
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return found


def _run(
    tool: tools.Tool, target: Path, files: list[Path], tag: str, timeout: float
) -> tuple[Measured, dict[str, tools.Verdict]]:
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    report = logs / f"{tool.name}-{tag}.json"
    report.unlink(missing_ok=True)
    cwd = WORK / "cwd"
    cwd.mkdir(exist_ok=True)
    measured = run_measured(
        tool.command(target, report), cwd, tool_env(), timeout, logs / f"{tool.name}-{tag}.log"
    )
    verdicts = tool.verdicts(target, files, measured.output, report, measured.returncode)
    if report.exists() and report.stat().st_size > tools.REPORT_LIMIT:
        report.unlink()  # a multi-gigabyte dump is of no use and fills the disk
    if measured.killed == "time":
        for verdict in verdicts.values():
            verdict.error(f"ended at the {timeout:.0f}s time limit")
    elif measured.killed == "memory":
        for verdict in verdicts.values():
            verdict.error(f"ended at the {MEMORY_CAP_MB} MB memory cap")
    return measured, verdicts


def _verdicts_json(verdicts: dict[str, tools.Verdict], root: Path) -> dict[str, Any]:
    return {
        str(Path(path).relative_to(root)): {"status": v.status, "reasons": v.reasons}
        for path, v in verdicts.items()
    }


def run_corpus(tool: tools.Tool, timeout: float) -> dict[str, Any]:
    """One directory invocation (or one per file for tools without directory mode)."""
    root = WORK / "corpus"
    labels = json.loads((WORK / "corpus-labels.json").read_text())
    files = [root / rel for rel in labels]
    if tool.directory_mode:
        measured, verdicts = _run(tool, root, files, "corpus", timeout)
        wall, peak, invocations = measured.wall_s, measured.peak_mb, 1
        rcs = [measured.returncode]
    else:
        verdicts, wall, peak, rcs = {}, 0.0, 0.0, []
        for i, path in enumerate(files):
            measured, one = _run(tool, path, [path], f"corpus-{i}", timeout)
            verdicts.update(one)
            wall += measured.wall_s
            peak = max(peak, measured.peak_mb)
            rcs.append(measured.returncode)
        invocations = len(files)
    return {
        "wall_s": round(wall, 3),
        "peak_mb": round(peak, 1),
        "invocations": invocations,
        "returncodes": sorted({str(rc) for rc in rcs}),
        "verdicts": _verdicts_json(verdicts, root),
    }


#: Corpus runs shorter than this are repeated for timing; longer ones are timed once.
REPEAT_BELOW_S = 60.0
#: Rounds of the corpus timing. Runs on this shared machine drift by up to a third from one
#: second to the next; 21 rounds make the medians steady to a few per cent.
TIMING_ROUNDS = 21


def time_corpus(chosen: list[tools.Tool], results: dict[str, Any], rounds: int) -> None:
    """Time the corpus again over ``rounds`` rounds, the tools taking turns in each.

    One run is at the mercy of whatever else the machine does at that moment; taking turns
    spreads that over every tool alike. These runs are timed alone (the first run also polls
    the process tree for memory, which costs the machine some time of its own), and
    ``wall_s`` becomes their median.
    """
    root = WORK / "corpus"
    fast = [
        t
        for t in chosen
        if t.directory_mode and results["corpus"][t.name]["wall_s"] < REPEAT_BELOW_S
    ]
    walls: dict[str, list[float]] = {t.name: [] for t in fast}
    for _ in range(rounds):
        for tool in fast:
            log = WORK / "logs" / f"{tool.name}-timing"
            timed = run(
                tool.command(root, log.with_suffix(".json")),
                stdout=log.with_suffix(".log"),
                env=tool_env(),
                cwd=WORK / "cwd",
                timeout=REPEAT_BELOW_S * 2,
                sample_memory=False,
            )
            walls[tool.name].append(timed.seconds)
    for name, runs in walls.items():
        results["corpus"][name]["walls"] = [round(w, 3) for w in runs]
        results["corpus"][name]["wall_s"] = round(statistics.median(runs), 3)
        print(f"    {name} corpus: median {results['corpus'][name]['wall_s']}s of {len(runs)}")


def compile_mlwarden() -> None:
    """Byte-compile mlwarden's modules, as installing a package does.

    Peers come from wheels, which pip byte-compiles when it installs them; mlwarden runs from
    the checkout, and where PYTHONDONTWRITEBYTECODE is set it would recompile its modules on
    every run, which is not how an installed mlwarden runs.
    """
    subprocess.run(
        [str(tools.REPO / ".venv" / "bin" / "python"), "-m", "compileall", "-q", "src"],
        cwd=tools.REPO,
        check=True,
    )


def run_big(tool: tools.Tool, repeat: int, timeout: float) -> dict[str, Any]:
    """Each multi-gigabyte case ``repeat`` times; median wall time, largest peak."""
    cases = json.loads((WORK / "big-labels.json").read_text())
    results: dict[str, Any] = {}
    for case, info in cases.items():
        path = Path(info["path"])
        walls, peaks, verdict_json, rc, killed = [], [], {}, None, None
        for i in range(repeat):
            measured, verdicts = _run(tool, path, [path], f"{case}-{i}", timeout)
            walls.append(measured.wall_s)
            peaks.append(measured.peak_mb)
            rc, killed = measured.returncode, measured.killed
            if i == 0:
                verdict = verdicts[str(path)]
                verdict_json = {"status": verdict.status, "reasons": verdict.reasons}
            if measured.timed_out:
                break
        results[case] = {
            "wall_s": round(statistics.median(walls), 3),
            "walls": [round(w, 3) for w in walls],
            "peak_mb": round(max(peaks), 1),
            "returncode": rc,
            "timed_out": rc is None,
            "killed": killed,
            "verdict": verdict_json,
        }
        print(f"    {case}: {results[case]['wall_s']}s {results[case]['peak_mb']} MB "
              f"{verdict_json.get('status')}")  # fmt: skip
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", default=",".join(t.name for t in tools.all_tools()))
    parser.add_argument("--cases", default="big,corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1200.0)
    args = parser.parse_args()
    wanted = set(args.tools.split(","))
    cases = set(args.cases.split(","))
    results_path = WORK / "results.json"
    results: dict[str, Any] = {"corpus": {}, "big": {}}
    if results_path.exists():
        results = json.loads(results_path.read_text())
    for stale in WORK.glob(payloads.MARKER_PREFIX + "*"):
        stale.unlink()  # left by an earlier run: this run reports only its own
    results["meta"] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
    }
    if "mlwarden" in wanted:
        compile_mlwarden()
    chosen = [tool for tool in tools.all_tools() if tool.name in wanted]
    # Results are merged with earlier runs: each tool's cases keep the date of the run that
    # measured them, which is what RESULTS.md shows beside the tools.
    measured = results.setdefault("measured", {})
    for tool in chosen:
        print(f"{tool.name}:", flush=True)
        for case in ("big", "corpus"):
            if case in cases:
                measured.setdefault(tool.name, {})[case] = results["meta"]["date"]
        if "big" in cases:
            results["big"][tool.name] = run_big(tool, args.repeat, args.timeout)
        if "corpus" in cases:
            corpus = run_corpus(tool, args.timeout)
            results["corpus"][tool.name] = corpus
            print(f"    corpus: {corpus['wall_s']}s {corpus['peak_mb']} MB", flush=True)
            for derived, (source, view) in tools.DERIVED.items():
                if source == tool.name:
                    results["corpus"][derived] = rederive(view, corpus)
        results_path.write_text(json.dumps(results, indent=1))
    if "corpus" in cases and args.repeat > 1:
        print("corpus timing, tools taking turns:", flush=True)
        time_corpus(chosen, results, max(args.repeat, TIMING_ROUNDS))
        results_path.write_text(json.dumps(results, indent=1))
    markers = sorted(p.name for p in WORK.glob(payloads.MARKER_PREFIX + "*"))
    results["payload_markers_found"] = markers
    results_path.write_text(json.dumps(results, indent=1))
    if markers:
        print(f"WARNING: payload marker files exist: {markers}")
    print(f"raw results: {results_path}")
    return 0


def rederive(view: tools.Tool, corpus: dict[str, Any]) -> dict[str, Any]:
    """Re-read the last corpus report of a tool through another verdict rule."""
    root = WORK / "corpus"
    labels = json.loads((WORK / "corpus-labels.json").read_text())
    files = [root / rel for rel in labels]
    source = view.name.split("-")[0]
    report = WORK / "logs" / f"{source}-corpus.json"
    output = read_limited(WORK / "logs" / f"{source}-corpus.log")
    verdicts = view.verdicts(root, files, output, report, None)
    return {**corpus, "verdicts": _verdicts_json(verdicts, root)}


if __name__ == "__main__":
    raise SystemExit(main())

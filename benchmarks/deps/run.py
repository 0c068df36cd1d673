"""Dependency benchmark: compile the shared OSV database, scan 500 pins, compare with peers.

Measures, one command at a time, every number a whole process (start-up included):

1. ``mlwarden db update --from VULNS --db FILE``: compiling the whole shared database, each
   run into a fresh cache directory (median of ``--compile-runs``);
2. ``mlwarden scan LOCK --db VULNS --format json`` once cold (compiles into the fresh cache
   directory on first use), then warm (median of ``--scan-runs``) on ``uv.lock`` and
   ``requirements.txt``, and once on ``poetry.lock`` (the three must agree);
3. pip-audit on ``requirements.txt`` with ``--no-deps --disable-pip``, against its default
   service (PyPI's JSON API) and ``--vulnerability-service osv``, each with a fresh HTTP
   cache: what it reports when the service cannot be reached is recorded as it is;
4. ``naive_matcher.py``: a straightforward matcher that loads every YAML record on each run.

Writes ``benchmarks/work/deps/results.json`` (and every tool's raw output beside it) and the
deps section of ``benchmarks/RESULTS.md`` (only that section; the rest is left as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.append(str(BENCH))  # the measurements shared by every benchmark (after the stdlib)

import compare  # noqa: E402
import naive_matcher  # noqa: E402
import pins  # noqa: E402
import section  # noqa: E402
from processes import Run, run, summary  # noqa: E402
from results import machine  # noqa: E402

REPO = BENCH.parent
WORK = BENCH / "work" / "deps"
VULNS = REPO.parent / "shared" / "advisory-database" / "vulns"
VENV = REPO / ".venv" / "bin"
PEERS = REPO / ".venv-peers" / "bin"
PROJECT = WORK / "project"
TIMEOUT = 600.0


def mlwarden(*args: str) -> list[str]:
    """The mlwarden command line of the repository's virtual environment."""
    return [str(VENV / "mlwarden"), *args]


def fresh(directory: Path) -> Path:
    """An empty directory (removed first if it exists)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def logged(name: str, argv: list[str], **kwargs: Any) -> Run:
    """Run and print one line about it; output goes to ``work/deps/out/NAME.{out,err}``."""
    out = WORK / "out"
    result = run(argv, stdout=out / f"{name}.out", stderr=out / f"{name}.err", **kwargs)
    print(
        f"  {name}: {result.seconds:.3f} s, {result.peak_mb:.0f} MB, exit {result.returncode}"
        + (" (timed out)" if result.timed_out else ""),
        flush=True,
    )
    return result


def measure_compile(runs: int) -> dict[str, Any]:
    """Cold compiles of the whole database, each into a fresh cache directory."""
    print("compile (db update --from)", flush=True)
    results = []
    for index in range(runs):
        cache = fresh(WORK / f"cache-compile-{index}")
        argv = mlwarden("db", "update", "--from", str(VULNS), "--db", str(cache / "advisories.db"))
        env = {"MLWARDEN_CACHE_DIR": str(cache)}
        results.append(logged(f"compile-{index}", argv, env=env, timeout=TIMEOUT))
    message = Path(results[-1].stdout).read_text().strip()
    return {**summary(results), "message": message, "runs": [r.as_json() for r in results]}


def measure_scans(runs: int) -> dict[str, Any]:
    """A cold scan (compiles into a fresh cache), then warm scans of the three files."""
    print("scan (uv.lock, requirements.txt, poetry.lock)", flush=True)
    env = {"MLWARDEN_CACHE_DIR": str(fresh(WORK / "cache-scan"))}

    def scan(name: str, target: str) -> Run:
        argv = mlwarden("scan", str(PROJECT / target), "--db", str(VULNS), "--format", "json")
        return logged(name, argv, env=env, timeout=TIMEOUT)

    cold = scan("scan-cold-uv", "uv.lock")  # also writes the bytecode cache (see main)
    found: dict[str, Any] = {"cold_uv_lock": {**summary([cold]), "run": cold.as_json()}}
    for key, target, count in (
        ("warm_uv_lock", "uv.lock", runs),
        ("warm_requirements", "requirements.txt", runs),
        ("warm_poetry_lock", "poetry.lock", 1),
    ):
        results = [scan(f"scan-{key}-{i}", target) for i in range(count)]
        found[key] = {**summary(results), "report": results[-1].stdout}
    # The same warm scan with no bytecode cache at all: every module compiled from source.
    no_pyc = {
        **env,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(fresh(WORK / "no-pycache")),
    }
    argv = mlwarden("scan", str(PROJECT / "uv.lock"), "--db", str(VULNS), "--format", "json")
    results = [
        logged(f"scan-warm_uv_lock_no_pyc-{i}", argv, env=no_pyc, timeout=TIMEOUT)
        for i in range(runs)
    ]
    found["warm_uv_lock_no_pyc"] = summary(results)
    startup = [logged(f"startup-{i}", mlwarden("--version")) for i in range(runs)]
    found["startup"] = summary(startup)
    return found


def measure_pip_audit() -> dict[str, Any]:
    """pip-audit on the same pins, against each of its services, with a fresh HTTP cache."""
    tool = PEERS / "pip-audit"
    if not tool.exists():
        return {"installed": False}
    print("pip-audit", flush=True)
    found: dict[str, Any] = {"installed": True}
    logged("pip-audit-warmup", [str(tool), "--version"])  # writes its bytecode cache
    for service in ("pypi", "osv"):
        cache = fresh(WORK / f"pip-audit-cache-{service}")
        argv = [
            str(tool),
            "-r",
            str(PROJECT / "requirements.txt"),
            "--no-deps",
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            service,
            "--cache-dir",
            str(cache),
        ]
        result = logged(f"pip-audit-{service}", argv, cwd=PROJECT, timeout=TIMEOUT)
        outcome = compare.pip_audit_results(Path(result.stdout), Path(result.stderr))
        stderr = Path(result.stderr).read_text(errors="replace").strip().splitlines()
        found[service] = {
            **summary([result]),
            **outcome,
            "argv": argv,
            "stderr_tail": stderr[-3:],
        }
    return found


def measure_naive() -> dict[str, Any]:
    """One run of the straightforward matcher (it loads all records every time)."""
    print("straightforward matcher", flush=True)
    output = WORK / "naive-result.json"
    argv = [
        str(VENV / "python"),
        str(HERE / "naive_matcher.py"),
        "--db",
        str(VULNS),
        "--pins",
        str(PROJECT / "requirements.txt"),
        "--output",
        str(output),
    ]
    result = logged("naive", argv, timeout=TIMEOUT)
    return {**summary([result]), "output": str(output)}


def versions() -> dict[str, str]:
    """Versions of everything measured."""

    def ask(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except OSError as exc:
            return f"unavailable ({exc})"
        return (done.stdout or done.stderr).strip().splitlines()[-1] if done.stdout else "?"

    python = str(VENV / "python")
    return {
        "mlwarden": ask(mlwarden("--version")).removeprefix("mlwarden "),
        "pip-audit": ask([str(PEERS / "pip-audit"), "--version"]).removeprefix("pip-audit "),
        "PyYAML": ask(
            [
                python,
                "-c",
                "import yaml; print(yaml.__version__, 'libyaml' if yaml.__with_libyaml__"
                " else 'no libyaml')",
            ]
        ),
        "packaging": ask([python, "-c", "import packaging; print(packaging.__version__)"]),
        "Python": ask([python, "-c", "import platform; print(platform.python_version())"]),
    }


def machine_line() -> str:
    """Cores, processor and memory of this machine."""
    here = machine()
    return (
        f"{here['cores']} cores ({here['cpu']}), {here['memory_gib']:.1f} GiB, "
        "shared with other work while measured"
    )


def analyse(results: dict[str, Any]) -> None:
    """Result sets: the three mlwarden reports, the matcher's, and their differences."""
    scans = results["scans"]
    reports = {
        key: compare.mlwarden_results(Path(scans[key]["report"]))
        for key in ("warm_uv_lock", "warm_requirements", "warm_poetry_lock")
    }
    main = reports["warm_requirements"]
    results["mlwarden"] = {
        "findings": main["findings"],
        "rules": main["rules"],
        "errors": main["errors"],
        "vulns": len(main["vulns"]),
        "records": len(main["records"]),
        "vulnerable_pins": len(main["packages"]),
        "formats_agree": all(r["vulns"] == main["vulns"] for r in reports.values()),
        "per_format_vulns": {k: len(r["vulns"]) for k, r in reports.items()},
    }
    naive_output = Path(results["naive"]["output"])
    if naive_output.exists():
        naive = compare.naive_results(naive_output)
        results["naive"].update(
            records=len(naive["records"]),
            vulnerable_pins=len({(p, v) for p, v, _ in naive["records"]}),
            skipped_ranges=len(naive["skipped"]),
            loader=naive["loader"],
            loaded=naive["loaded"],
        )
        results["differences"] = compare.differences(main["records"], naive)


def main(argv: list[str] | None = None) -> int:
    """Measure everything, keep the raw outputs, write the RESULTS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile-runs", type=int, default=3)
    parser.add_argument("--scan-runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true", help="rewrite the pins files")
    parser.add_argument("--report-only", action="store_true", help="rewrite the section only")
    args = parser.parse_args(argv)
    saved = WORK / "results.json"
    if args.report_only:
        section.write(json.loads(saved.read_text()), BENCH / "RESULTS.md")
        return 0
    if not VULNS.is_dir():
        print(f"no advisory database at {VULNS}", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    # Measured as users run the tools: Python keeps its bytecode cache. An environment that
    # sets PYTHONDONTWRITEBYTECODE would make every run compile every module from source;
    # that case is measured separately for mlwarden (warm_uv_lock_no_pyc).
    bytecode_off = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.regenerate or not (PROJECT / "requirements.txt").exists():
        print("generating pins", flush=True)
        chosen = pins.generate(VULNS, PROJECT)
        (WORK / "pins.json").write_text(json.dumps([p.__dict__ for p in chosen], indent=1))
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_line(),
        "versions": versions(),
        "database": str(VULNS),
        "record_files": sum(1 for _ in naive_matcher.record_files(VULNS)),
        "pins": sum(1 for line in (PROJECT / "requirements.txt").open() if "==" in line),
        "seed": pins.SEED,
        "environment_PYTHONDONTWRITEBYTECODE": bytecode_off,
    }
    results["compile"] = measure_compile(args.compile_runs)
    results["scans"] = measure_scans(args.scan_runs)
    results["pip_audit"] = measure_pip_audit()
    results["naive"] = measure_naive()
    analyse(results)
    saved.write_text(json.dumps(results, indent=1, default=sorted) + "\n")
    section.write(results, BENCH / "RESULTS.md")
    print(f"wrote {saved} and the deps section of {BENCH / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

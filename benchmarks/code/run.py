"""Code benchmark: mlwarden against bandit and semgrep on the annotated fixtures, and speed on
the installed source of transformers and scikit-learn.

    .venv/bin/python benchmarks/code/run.py [--repeat 3] [--trees transformers,sklearn]
        [--skip-speed] [--semgrep-config PATH]...

Writes ``benchmarks/work/code/results.json`` and the code section of ``benchmarks/RESULTS.md``.
Peers come from ``.venv-peers`` (``code/peers.txt``); the trees from
``benchmarks/work/code/site`` (``code/trees.txt``, ``pip install --no-deps --target``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.append(str(HERE.parent))  # the measurements shared by every benchmark

import corpus  # noqa: E402
import score  # noqa: E402
import section  # noqa: E402
import speed  # noqa: E402
import tools  # noqa: E402
from results import machine  # noqa: E402

WORK = HERE.parent / "work" / "code"
SITE = WORK / "site"
RESULTS_JSON = WORK / "results.json"
RESULTS_MD = HERE.parent / "RESULTS.md"
REPO = HERE.parents[1]
# Rule files a user put there (semgrep's registry cannot be reached offline): used when present.
LOCAL_SEMGREP_RULES = WORK / "semgrep-rules"
TREES = {"transformers": "transformers", "sklearn": "sklearn"}


def _machine() -> str:
    here = machine()
    return (
        f"{here['cores']} cores ({here['cpu']}), {here['memory_gib']:.1f} GiB, "
        f"Python {here['python']}, shared with other work while measured"
    )


def _tree_versions() -> dict[str, str]:
    found = {}
    for dist in sorted(SITE.glob("*.dist-info")):
        name, _, version = dist.name.removesuffix(".dist-info").partition("-")
        found[name] = f"{name} {version}"
    return found


def _count_rules(config: Path) -> int:
    files = [config] if config.is_file() else sorted(config.rglob("*.y*ml"))
    return sum(
        line.lstrip().startswith("- id:") for f in files for line in f.read_text().splitlines()
    )


def _header(config: Path) -> list[str]:
    """The leading comment lines of local rule files: where the rules came from."""
    files = [config] if config.is_file() else sorted(config.rglob("*.y*ml"))
    said = []
    for f in files:
        for line in f.read_text().splitlines():
            if not line.startswith("#"):
                break
            said.append(line.lstrip("# ").strip())
    return said


def _shown(config: str) -> str:
    path = Path(config).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else config


def run_corpus(semgrep_configs: list[str], registry_pack: bool) -> dict[str, Any]:
    """Every tool on a rendered copy of the fixtures, outside ``tests/`` (semgrep skips tests/)."""
    out = WORK / "corpus"
    shutil.rmtree(out, ignore_errors=True)
    copy = corpus.prepare(out / "fixtures")
    files = corpus.load(copy)
    runs = [tools.mlwarden(copy, out), tools.bandit(copy, out)]
    print(f"corpus: mlwarden {len(runs[0].hits)} findings, bandit {len(runs[1].hits)}", flush=True)
    if registry_pack:
        registry = tools.semgrep(copy, out, tools.SEMGREP_REGISTRY_CONFIG, "semgrep")
        print(f"corpus: semgrep {tools.SEMGREP_REGISTRY_CONFIG}: {registry.note}", flush=True)
        runs.append(registry)
    notes = []
    for index, config in enumerate(semgrep_configs):
        local = tools.semgrep(copy, out, config, f"semgrep-local-{index}")
        runs.append(local)
        rules = _count_rules(Path(config))
        said = " ".join(_header(Path(config)))
        notes.append(
            f"semgrep with local rules `{_shown(config)}` ({rules} rules, offline; {local.note})"
            + (f": {said}" if said else "")
        )
    scores = {"mlwarden": score.score_mlwarden(files, runs[0])}
    scores["bandit"] = score.score_peer(files, runs[1])
    usable = next((r for r in runs[2:] if r.available), None)
    labels = {"bandit": "bandit"}
    if usable is not None:
        scores["semgrep"] = score.score_peer(files, usable)
        offline = usable.tool != "semgrep"
        config = semgrep_configs[int(usable.tool.rsplit("-", 1)[-1])] if offline else ""
        labels["semgrep"] = (
            f"semgrep ({_count_rules(Path(config))} local rules)" if offline else "semgrep p/python"
        )
    kinds = Counter(f.kind for f in files)
    return {
        "files": len(files),
        "by_kind": ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())),
        "expectations": sum(len(f.expectations) for f in files),
        "runs": [r.as_json() for r in runs],
        "scores": scores,
        "labels": labels,
        "notes": notes,
    }


def run_speed(trees: list[str], repeat: int, profile: bool) -> dict[str, Any]:
    """Whole-process timings per tree; a profile of mlwarden when it is slower than bandit."""
    results: dict[str, Any] = {}
    for name in trees:
        tree = SITE / TREES.get(name, name)
        if not tree.is_dir():
            print(f"speed: {tree} missing (make -C benchmarks code-peers)", flush=True)
            continue
        results[name] = speed.measure_tree(name, tree, WORK / "speed", repeat)
    slow = next((n for n in trees if n in results and not results[n]["met"]), None)
    if profile and slow is not None:
        print(f"speed: profiling mlwarden on {slow}", flush=True)
        results["profile"] = speed.profile(SITE / TREES.get(slow, slow), WORK / "speed")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trees", default="transformers,sklearn")
    parser.add_argument("--skip-speed", action="store_true", help="keep the last speed figures")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--semgrep-config",
        action="append",
        default=[],
        help="also run semgrep with these local rule files or folders (offline)",
    )
    parser.add_argument(
        "--no-semgrep-registry", action="store_true", help="skip semgrep's registry pack"
    )
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD)
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the section from results.json"
    )
    args = parser.parse_args(argv)
    if args.render_only:
        stored = json.loads(RESULTS_JSON.read_text())
        for name, tree in stored.get("speed", {}).items():
            if name != "profile":
                tree["reported"] = speed.reported(WORK / "speed" / name)
        RESULTS_JSON.write_text(json.dumps(stored, indent=1, default=str) + "\n")
        section.write(stored, args.results_md)
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    semgrep_configs = args.semgrep_config
    if not semgrep_configs and LOCAL_SEMGREP_RULES.is_dir():
        semgrep_configs = [str(LOCAL_SEMGREP_RULES)]
    previous: dict[str, Any] = {}
    if RESULTS_JSON.is_file():
        previous = json.loads(RESULTS_JSON.read_text())
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "versions": tools.versions(),
        "trees": _tree_versions(),
        "corpus": run_corpus(semgrep_configs, not args.no_semgrep_registry),
    }
    if args.skip_speed:
        results["speed"] = previous.get("speed", {})
    else:
        trees = [t for t in args.trees.split(",") if t]
        results["speed"] = run_speed(trees, args.repeat, not args.no_profile)
    results["speed_notes"] = [
        "Whole processes, start-up included; peak MB is the largest resident set of the "
        "process tree (mlwarden scans with worker processes, one per core by default).",
        "mlwarden reads every file of the tree (bytecode, data files, shared objects) and "
        "decides kinds by content; bandit reads `*.py` only. Lines/s counts `*.py` lines for both.",
        "`mlwarden --jobs 1` is one process, like bandit.",
    ]
    RESULTS_JSON.write_text(json.dumps(results, indent=1, default=str) + "\n")
    section.write(results, args.results_md)
    print(f"wrote {RESULTS_JSON} and the code section of {args.results_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

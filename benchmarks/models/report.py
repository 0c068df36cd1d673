"""Turn work/results.json into the model-file section of benchmarks/RESULTS.md.

python benchmarks/models/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE.parent))  # what every benchmark section shares

from results import RESULTS, write_section  # noqa: E402

WORK = HERE.parent / "work"
START, END = "<!-- models:start -->", "<!-- models:end -->"

TARGET_ZIP_S, TARGET_ZIP_MB, TARGET_PICKLE_MB, TARGET_SPEEDUP = 0.5, 100.0, 100.0, 2.0
PEERS = ("picklescan", "modelscan", "fickling", "modelaudit")


def _ratio(ours: float, theirs: float) -> str:
    if theirs <= 0:
        return "n/a"
    return f"{ours / theirs:.2f}"


def _status(verdict: dict[str, Any]) -> str:
    status = str(verdict.get("status", "?"))
    reasons = verdict.get("reasons") or []
    return f"{status} ({'; '.join(reasons)[:80]})" if reasons else status


def score(corpus: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    """True/false positives, misses and errors of one tool on the labelled corpus."""
    verdicts = corpus["verdicts"]
    out = {"tp": 0, "fp": 0, "missed": 0, "errors_bad": 0, "errors_good": 0}
    for path, label in labels.items():
        status = verdicts.get(path, {}).get("status", "clean")
        if label["malicious"]:
            out["tp"] += status == "flagged"
            out["missed"] += status != "flagged"
            out["errors_bad"] += status == "error"
        else:
            out["fp"] += status == "flagged"
            out["errors_good"] += status == "error"
    return out


def big_section(results: dict[str, Any], lines: list[str]) -> dict[str, str]:
    """Tables for the multi-gigabyte cases; returns target verdicts."""
    big = results.get("big", {})
    cases = json.loads((WORK / "big-labels.json").read_text()) if big else {}
    targets: dict[str, str] = {}
    for case, info in cases.items():
        size_gib = Path(info["path"]).stat().st_size / (1 << 30)
        lines += [
            f"### {case} ({size_gib:.2f} GiB, {'malicious' if info['malicious'] else 'benign'})",
            "",
            f"{info['technique']}. Wall time is the median of up to 3 whole-process runs.",
            "",
            "| tool | wall s (median) | runs | peak MB | verdict | mlwarden time / tool time |",
            "| --- | ---: | --- | ---: | --- | ---: |",
        ]
        ours = big.get("mlwarden", {}).get(case)
        for tool, per_case in big.items():
            row = per_case.get(case)
            if row is None:
                continue
            ratio = _ratio(ours["wall_s"], row["wall_s"]) if ours else "n/a"
            timed = f" (ended: {row.get('killed') or 'time'})" if row.get("timed_out") else ""
            lines.append(
                f"| {tool} | {row['wall_s']:.3f}{timed} | {', '.join(map(str, row['walls']))} "
                f"| {row['peak_mb']:.0f} | {_status(row['verdict'])} | {ratio} |"
            )
        lines.append("")
        if ours is None:
            continue
        if case.startswith("pytorch_zip_10"):
            met = ours["wall_s"] < TARGET_ZIP_S and ours["peak_mb"] < TARGET_ZIP_MB
            clean = ours["verdict"].get("status") == "clean"
            targets["10 GiB PyTorch zip < 0.5 s and < 100 MB"] = (
                f"{'MET' if met else 'NOT MET'}: {ours['wall_s']:.3f} s, "
                f"{ours['peak_mb']:.0f} MB, verdict {ours['verdict'].get('status')}"
                + ("" if clean else " (a benign file flagged)")
            )
        if case.startswith("pickle_1gb"):
            found = ours["verdict"].get("status") == "flagged"
            met = found and ours["peak_mb"] < TARGET_PICKLE_MB
            targets["1 GiB pickle read to its end < 100 MB, payload found"] = (
                f"{'MET' if met else 'NOT MET'}: {ours['wall_s']:.3f} s, "
                f"{ours['peak_mb']:.0f} MB, payload {'found' if found else 'NOT found'}"
            )
    return targets


def corpus_section(results: dict[str, Any], lines: list[str]) -> dict[str, str]:
    """The mixed-corpus table and the gap lists; returns target verdicts."""
    corpus = results.get("corpus", {})
    labels = json.loads((WORK / "corpus-labels.json").read_text())
    n_bad = sum(1 for v in labels.values() if v["malicious"])
    lines += [
        f"## Mixed corpus: {len(labels)} files ({n_bad} malicious, {len(labels) - n_bad} benign)",
        "",
        "Each tool scans the corpus directory in one invocation, as users run it (fickling has",
        "no directory mode: one process per file, times summed). Tools whose run takes under a",
        "minute are then timed over several more rounds, taking turns, with nothing else polling",
        "the machine; the median of those is shown (runs: each of them). Verdicts and peak",
        "memory come from the first run.",
        "",
        "| tool | wall s | runs | peak MB | caught (of "
        f"{n_bad}) | missed | benign flagged | errors (mal/benign) | mlwarden time / tool time |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    ours = corpus.get("mlwarden")
    scores = {tool: score(c, labels) for tool, c in corpus.items()}
    for tool, c in corpus.items():
        s = scores[tool]
        ratio = _ratio(ours["wall_s"], c["wall_s"]) if ours else "n/a"
        note = " (same run as modelaudit)" if tool == "modelaudit-critical" else ""
        if "None" in c.get("returncodes", []):
            note += " (run ended at the time limit: no verdicts)"
        runs = ", ".join(f"{w:.3f}" for w in c.get("walls", [c["wall_s"]]))
        lines.append(
            f"| {tool}{note} | {c['wall_s']:.3f} | {runs} | {c['peak_mb']:.0f} | {s['tp']} "
            f"| {s['missed']} | {s['fp']} | {s['errors_bad']}/{s['errors_good']} | {ratio} |"
        )
    lines.append("")
    family_table(corpus, labels, lines)
    targets: dict[str, str] = {}
    if ours is None:
        return targets
    peers = [t for t in corpus if t in PEERS]
    if peers:
        fastest = min(peers, key=lambda t: corpus[t]["wall_s"])
        speedup = corpus[fastest]["wall_s"] / max(ours["wall_s"], 1e-9)
        targets["corpus: >= 2x faster than the fastest peer"] = (
            f"{'MET' if speedup >= TARGET_SPEEDUP else 'NOT MET'}: {speedup:.2f}x vs {fastest} "
            f"({ours['wall_s']:.3f} s vs {corpus[fastest]['wall_s']:.3f} s)"
        )
    gaps = gap_list(corpus, labels)
    ended = [t for t in peers if "None" in corpus[t].get("returncodes", [])]
    caveat = f" (no verdicts from {', '.join(ended)}: its run was ended)" if ended else ""
    targets["corpus: catches every malicious file any peer catches"] = (
        "MET" if not gaps else f"NOT MET: {len(gaps)} file(s) caught by a peer, missed by mlwarden"
    ) + caveat
    lines += ["## Gaps: malicious files a peer catches and mlwarden misses", ""]
    lines += ["Peer verdicts use each peer's default rule; modelaudit counts `warning` too.", ""]
    if not gaps:
        lines += ["None.", ""]
    for path, caught_by in gaps:
        ours_v = ours["verdicts"].get(path, {})
        lines.append(f"- `{path}` ({labels[path]['technique']}): mlwarden {_status(ours_v)}")
        for tool in caught_by:
            lines.append(f"  - {tool}: {_status(corpus[tool]['verdicts'][path])}")
    lines.append("")
    missed = [
        p for p, v in labels.items()
        if v["malicious"] and ours["verdicts"].get(p, {}).get("status") != "flagged"
    ]  # fmt: skip
    lines += ["## All malicious files mlwarden misses", ""]
    lines += [f"- `{p}` ({labels[p]['technique']}): {_status(ours['verdicts'].get(p, {}))}"
              for p in missed] or ["None."]  # fmt: skip
    lines.append("")
    flagged = [
        p for p, v in labels.items()
        if not v["malicious"] and ours["verdicts"].get(p, {}).get("status") != "clean"
    ]  # fmt: skip
    lines += ["## Benign files mlwarden flags high or critical (or errors on)", ""]
    lines += [f"- `{p}` ({labels[p]['technique']}): {_status(ours['verdicts'][p])}"
              for p in flagged] or ["None."]  # fmt: skip
    lines.append("")
    return targets


def family_table(corpus: dict[str, Any], labels: dict[str, Any], lines: list[str]) -> None:
    """Malicious files caught per family (the corpus folder under malicious/)."""
    families: dict[str, list[str]] = {}
    for path, label in labels.items():
        if label["malicious"]:
            families.setdefault(path.split("/")[1], []).append(path)
    tools = list(corpus)
    lines += [
        "Malicious files caught, by family:",
        "",
        "| family | files | " + " | ".join(tools) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in tools) + " |",
    ]
    for family, paths in sorted(families.items()):
        counts = [
            sum(corpus[t]["verdicts"].get(p, {}).get("status") == "flagged" for p in paths)
            for t in tools
        ]
        lines.append(f"| {family} | {len(paths)} | " + " | ".join(map(str, counts)) + " |")
    lines.append("")


def gap_list(corpus: dict[str, Any], labels: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Malicious files flagged by at least one peer but not by mlwarden."""
    ours = corpus["mlwarden"]["verdicts"]
    gaps = []
    for path, label in labels.items():
        if not label["malicious"] or ours.get(path, {}).get("status") == "flagged":
            continue
        caught_by = [
            t for t in corpus
            if t in PEERS and corpus[t]["verdicts"].get(path, {}).get("status") == "flagged"
        ]  # fmt: skip
        if caught_by:
            gaps.append((path, caught_by))
    return gaps


def _dates(results: dict[str, Any]) -> str:
    """When each tool's cases were measured: runs are merged, one tool may be re-run alone."""
    groups: dict[str, list[str]] = {}
    for tool, cases in results.get("measured", {}).items():
        if len(set(cases.values())) == 1:
            label = next(iter(cases.values()))
        else:
            label = ", ".join(f"{case} {date}" for case, date in sorted(cases.items()))
        groups.setdefault(label, []).append(tool)
    return "; ".join(f"{', '.join(tools)}: {label}" for label, tools in groups.items()) or "?"


def render(results: dict[str, Any]) -> str:
    """The whole RESULTS.md text."""
    meta = results.get("meta", {})
    m = meta.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    lines = [
        "# Model-file scanning: mlwarden against its peers",
        "",
        f"- Date: {meta.get('date', '?')} (the last run)",
        f"- Measured: {_dates(results)}",
        f"- Machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_gib')} GiB, "
        f"Python {m.get('python')}, shared with other work while measured",
        f"- Versions: {versions}",
        "- How: `make bench` (see README.md); every number is a whole process, start-up",
        "  included; peak MB is the peak RSS of the process tree. mlwarden's modules are",
        "  byte-compiled first, as installing a package leaves them (the peers come from wheels).",
        "- A ratio below 1 in the last column means mlwarden was faster.",
        "",
        "## Multi-gigabyte files",
        "",
    ]
    targets = big_section(results, lines)
    targets.update(corpus_section(results, lines))
    markers = results.get("payload_markers_found") or []
    head = ["## Targets", ""] + [f"- {name}: **{verdict}**" for name, verdict in targets.items()]
    head.append(
        f"- No payload ran during any scan: **{'yes' if not markers else 'NO: ' + str(markers)}**"
    )
    head.append("")
    index = lines.index("## Multi-gigabyte files")
    return "\n".join(lines[:index] + head + lines[index:]) + "\n"


def main() -> int:
    results = json.loads((WORK / "results.json").read_text())
    write_section(f"{START}\n{render(results).rstrip()}\n{END}\n", START, END, RESULTS)
    print(f"wrote the models section of {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

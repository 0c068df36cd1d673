"""The code section of ``benchmarks/RESULTS.md``, between its own markers.

Only the text between ``<!-- code:start -->`` and ``<!-- code:end -->`` is replaced (the file is
read again right before writing); without the markers the section is appended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus import FAMILIES
from results import write_section
from score import totals

REPO = Path(__file__).resolve().parents[2]
START = "<!-- code:start -->"
END = "<!-- code:end -->"
LISTED = 40
PEERS = ("bandit", "semgrep")


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    return f"{row['tp']} / {row['fp']} / {row['fn']}"


def _rules(row: dict[str, Any] | None) -> str:
    if not row or not row["rules"]:
        return "-"
    return ", ".join(f"`{rule.split()[0]}`" for rule in row["rules"])


def _met(flag: bool) -> str:
    return "MET" if flag else "NOT MET"


def _corpus_table(corpus: dict[str, Any]) -> list[str]:
    scores = corpus["scores"]
    shown = [p for p in PEERS if p in scores]
    head = "| family | expected | mlwarden TP / FP / FN |"
    rule = "| --- | ---: | ---: |"
    labels = corpus.get("labels", {})
    for peer in shown:
        head += f" {labels.get(peer, peer)} TP / FP / FN |"
        rule += " ---: |"
    for peer in shown:
        head += f" {peer} rules on expected lines |"
        rule += " --- |"
    lines = [head, rule]
    for family in FAMILIES:
        ours = scores["mlwarden"]["families"].get(family)
        if ours is None and all(family not in scores[p]["families"] for p in shown):
            continue
        expected = (ours or scores[shown[0]]["families"].get(family) or {"expected": 0})["expected"]
        row = f"| {family} | {expected} | {_cell(ours)} |"
        row += "".join(f" {_cell(scores[p]['families'].get(family))} |" for p in shown)
        row += "".join(f" {_rules(scores[p]['families'].get(family))} |" for p in shown)
        lines.append(row)
    ours_total = totals(scores["mlwarden"]["families"])
    row = f"| **all** | {ours_total['expected']} | {_cell(ours_total)} |"
    for peer in shown:
        row += f" {_cell(totals(scores[peer]['families']))} |"
    lines.append(row + " - |" * len(shown))
    return lines


def _mlwarden_differences(score: dict[str, Any]) -> list[str]:
    missed, extra = score["missed"], score["false_positives"]
    lines = [f"### mlwarden: {len(missed)} missed, {len(extra)} false positives", ""]
    if not missed and not extra:
        return [*lines, "Every annotation was found, nothing else was reported."]
    for item in missed[:LISTED]:
        where = f"cell {item['cell']} " if item["cell"] is not None else ""
        hidden = " (expected as inline-suppressed)" if item.get("suppressed") else ""
        lines.append(
            f"- missed `{item['rule']}` at `{item['path']}` {where}line {item['line']}{hidden}"
        )
    for item in extra[:LISTED]:
        where = f"cell {item['cell']} " if item["cell"] is not None else ""
        hidden = " (suppressed)" if item.get("suppressed") else ""
        lines.append(
            f"- unexpected `{item['rule']}`{hidden} at `{item['path']}` {where}line "
            f"{item['line']}: {item['message'][:160]}"
        )
    more = max(0, len(missed) - LISTED) + max(0, len(extra) - LISTED)
    if more:
        lines.append(f"- ... {more} more in `work/code/results.json`")
    return lines


def _peer_notes(corpus: dict[str, Any]) -> list[str]:
    lines = ["### Peers", ""]
    for run in corpus["runs"]:
        if run["tool"] == "mlwarden":
            continue
        state = "ran" if run["available"] else "**no results**"
        read = f", read {run['files_read']} of {corpus['files']} files" if run["files_read"] else ""
        note = f"; {run['note']}" if run["note"] else ""
        tool = run["tool"].replace("semgrep-local-", "semgrep, local rules #")
        if run["tool"] == "semgrep":
            tool = "semgrep p/python"
        lines.append(
            f"- {tool}: {state} (exit {run['returncode']}, "
            f"{run['seconds']:.1f} s{read}){note}. Command: "
            f"`{run['command'].replace(str(REPO) + '/', '')}`"
        )
    for peer in PEERS:
        score = corpus["scores"].get(peer)
        if not score:
            continue
        fps: dict[str, int] = {}
        for row in score["families"].values():
            for rule, n in row["fp_rules"].items():
                fps[rule] = fps.get(rule, 0) + n
        listed = ", ".join(f"`{rule}` {n}" for rule, n in sorted(fps.items(), key=lambda x: -x[1]))
        lines.append(
            f"- {peer} false positives by its rule: {listed or 'none'} "
            f"({score['false_positives_on_ok_lines']} on lines annotated `# ok`); "
            f"misses by file kind: {score['missed_by_kind'] or 'none'}"
        )
    return lines


def _speed(speed: dict[str, Any]) -> list[str]:
    lines = [
        "| tree | Python files / lines | all files | tool | wall s (median) | runs | peak MB | "
        "lines/s | mlwarden time / tool time |",
        "| --- | --- | --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, tree in speed.items():
        if name == "profile":
            continue
        ml = tree["tools"]["mlwarden"]["median_s"]
        for tool, row in tree["tools"].items():
            runs = ", ".join(f"{s:.2f}" for s in row["runs_s"])
            lines.append(
                f"| {name} | {tree['python']['files']} / {tree['python']['lines']:,} | "
                f"{tree['all_files']['files']} ({tree['all_files']['bytes'] / 2**20:.0f} MB) | "
                f"{tool} | {row['median_s']:.2f} | {runs} | {row['peak_mb']:.0f} | "
                f"{row['lines_per_s']:,} | {ml / row['median_s']:.2f} |"
            )
    for name, tree in speed.items():
        if name == "profile":
            continue
        said = []
        for tool, seen in tree.get("reported", {}).items():
            top = ", ".join(f"{rule} {n}" for rule, n in list(seen["rules"].items())[:8])
            said.append(
                f"{tool} {seen['findings']} findings ({top or 'none'}), {seen['errors']} errors"
            )
        if said:
            lines.append(f"\n- What each reported on {name}: " + "; ".join(said))
        high = tree.get("reported", {}).get("mlwarden", {}).get("high", {})
        lines.extend(
            f"- mlwarden high or critical on {name}: {rule} x{seen['count']}, "
            f"e.g. {seen['example']}"
            for rule, seen in high.items()
        )
    return lines


def render(results: dict[str, Any]) -> str:
    """The section's Markdown, markers included."""
    v = results["versions"]
    corpus = results["corpus"]
    speed = results.get("speed", {})
    ours = totals(corpus["scores"]["mlwarden"]["families"])
    exact = ours["fn"] == 0 and ours["fp"] == 0 and not corpus["scores"]["mlwarden"]["missed"]
    lines = [
        START,
        "# Code, notebooks, secrets and serving configs: mlwarden against bandit and semgrep",
        "",
        f"- Date: {results['date']}",
        f"- Machine: {results['machine']}",
        f"- Versions: mlwarden {v['mlwarden']}, bandit {v['bandit']}, semgrep {v['semgrep']}; "
        f"trees: {', '.join(results.get('trees', {}).values()) or '-'}",
        "- How: `make -C benchmarks code` (`code/run.py`); raw reports in `benchmarks/work/code/`.",
        f"- Corpus: every file under `tests/code/fixtures/` ({corpus['files']} files, "
        f"{corpus['by_kind']}), annotated line by line (`# expect: RULE`, `# ok`; "
        "`tests/code/annotations.py`).",
        "- mlwarden is compared exactly (rule and line, and cell in notebooks); a peer scores a "
        "true positive when it reports anything (its own rule ids) whose line range covers an "
        "expected line, and a false positive for a report on a line annotated `# ok` or not "
        "annotated. Lines expected as inline-suppressed are left out for the peers.",
        "",
        "## Targets",
        "",
        f"- Annotated corpus: every expected finding, no false positives: **{_met(exact)}: "
        f"{ours['tp']} of {ours['expected']} found, {ours['fp']} false positives**",
    ]
    tf = speed.get("transformers")
    if tf:
        ml, bd = tf["tools"]["mlwarden"], tf["tools"]["bandit"]
        lines.append(
            f"- Installed transformers at least as fast as bandit, whole process: "
            f"**{_met(tf['met'])}: {ml['median_s']:.1f} s vs {bd['median_s']:.1f} s "
            f"({ml['lines_per_s']:,} vs {bd['lines_per_s']:,} lines/s, ratio "
            f"{tf['mlwarden_over_bandit']:.2f})**"
        )
    else:
        lines.append("- Installed transformers at least as fast as bandit: **not measured**")
    lines += ["", "## Annotated corpus (TP / FP / FN)", "", *_corpus_table(corpus), ""]
    lines += _mlwarden_differences(corpus["scores"]["mlwarden"])
    ours_run = next(r for r in corpus["runs"] if r["tool"] == "mlwarden")
    if ours_run["note"]:
        lines += ["", f"- mlwarden on the corpus: {ours_run['note']}"]
    lines += ["", *_peer_notes(corpus)]
    lines += ["", *[f"- {note}" for note in corpus.get("notes", [])]]
    if speed:
        lines += ["", "## Speed on installed packages", "", *_speed(speed), ""]
        lines += [f"- {note}" for note in results.get("speed_notes", [])]
        if speed.get("profile"):
            lines += ["", "Where mlwarden's time goes (cProfile, `--jobs 1`, top by own time):", ""]
            lines += ["```", *speed["profile"], "```"]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], path: Path) -> None:
    """Replace this section of ``path`` (or append it), leaving the rest of the file alone."""
    write_section(render(results), START, END, path)

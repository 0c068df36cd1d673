"""The privacy section of ``benchmarks/RESULTS.md``, between its own markers.

Only the text between ``<!-- privacy:start -->`` and ``<!-- privacy:end -->`` is replaced
(the file is read again right before writing); without the markers the section is appended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from results import write_section
from score import APPROXIMATE, SUPPORTS

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
START = "<!-- privacy:start -->"
END = "<!-- privacy:end -->"
PRESIDIO = ("presidio-patterns", "presidio-spacy")
LABELS = {
    "mlwarden": "mlwarden",
    "presidio-patterns": "Presidio (patterns)",
    "presidio-patterns@0.5": "Presidio (patterns, score >= 0.5)",
    "presidio-spacy": "Presidio (+ spaCy sm)",
    "presidio-spacy@0.5": "Presidio (+ spaCy sm, score >= 0.5)",
    "scrubadub": "scrubadub",
}
SPEED_TARGET = 50
MEMORY_TARGET_MB = 500


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _met(flag: bool) -> str:
    return "MET" if flag else "NOT MET"


def _supported(tool: str, entity: str) -> bool:
    return entity in SUPPORTS.get(tool.split("@")[0], frozenset())


def _f1_losses(
    results: dict[str, Any], peers: tuple[str, ...] = PRESIDIO
) -> list[tuple[str, str, float, float, bool]]:
    """(peer, entity, mlwarden F1, peer F1, approximate) where mlwarden's F1 is lower."""
    scores = results["scores"]
    ours = scores.get("mlwarden@peer-rows", {}).get("entities", {})
    losses = []
    for peer in peers:
        theirs = scores.get(peer, {}).get("entities", {})
        for entity, row in theirs.items():
            if not _supported(peer, entity) or not row["support"]:
                continue
            mine = ours.get(entity, {}).get("f1", 0.0)
            if mine < row["f1"]:
                approximate = (peer.split("@")[0], entity) in APPROXIMATE
                losses.append((peer, entity, mine, row["f1"], approximate))
    return losses


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each target of the issue: met or not, with the numbers behind it."""
    losses = _f1_losses(results)
    exact_losses = [x for x in losses if not x[4]]
    cli = results["cli"]
    tools = results["tools"]
    speed = {}
    for peer in PRESIDIO:
        if peer in tools:
            ratio = cli["rows_per_s"] / tools[peer]["rows_per_s"]
            speed[peer] = {"ratio": round(ratio, 1), "met": ratio >= SPEED_TARGET}
    big = results.get("big") or {}
    run = big.get("run", {})
    memory_met = bool(run) and not run.get("timed_out") and run.get("returncode") == 0 and (
        run["peak_mb"] < MEMORY_TARGET_MB)  # fmt: skip
    return {
        "f1": {"met": not exact_losses and bool(set(PRESIDIO) & set(tools)), "losses": losses},
        "speed": speed,
        "memory": {"met": memory_met, "peak_mb": run.get("peak_mb"), "seconds": run.get("seconds")},
    }


def _target_lines(results: dict[str, Any]) -> list[str]:
    goal = targets(results)
    cli = results["cli"]
    tools = results["tools"]
    lines = ["## Targets", ""]
    losses = goal["f1"]["losses"]
    exact = [x for x in losses if not x[4]]
    text = (f"- F1 at least Presidio's on every entity both support (same {results['peer_rows']:,}"
            f" rows, Presidio's default threshold): **{_met(goal['f1']['met'])}**")  # fmt: skip
    if exact:
        text += ": below on " + ", ".join(
            f"{e} vs {LABELS[p]} ({m:.3f} < {t:.3f})" for p, e, m, t, _ in exact
        )
    lines.append(text)
    filtered = [x for x in _f1_losses(results, tuple(f"{p}@0.5" for p in PRESIDIO)) if not x[4]]
    if filtered:
        lines.append(
            "  - with Presidio's results under 0.5 dropped, mlwarden is below on "
            + ", ".join(f"{e} vs {LABELS[p]} ({m:.3f} < {t:.3f})" for p, e, m, t, _ in filtered)
        )
    scrub = [x for x in _f1_losses(results, ("scrubadub",)) if not x[4]]
    if scrub:
        lines.append(
            "  - not a target, for the record: below scrubadub on "
            + ", ".join(f"{e} ({m:.3f} < {t:.3f})" for _, e, m, t, _ in scrub)
        )
    approximate = [x for x in losses if x[4]]
    if approximate:
        lines.append(
            "  - entities Presidio only approximates (DATE_TIME for dates of birth, LOCATION"
            " for addresses), not counted: below on "
            + ", ".join(f"{e} vs {LABELS[p]} ({m:.3f} < {t:.3f})" for p, e, m, t, _ in approximate)
        )
    for peer, verdict in goal["speed"].items():
        lines.append(
            f"- Rows per second at least {SPEED_TARGET}x {LABELS[peer]}'s: "
            f"**{_met(verdict['met'])}: {verdict['ratio']}x** (mlwarden's whole `scan` process "
            f"{cli['rows_per_s']:,.0f} rows/s vs {tools[peer]['rows_per_s']:,.1f} rows/s "
            "in Presidio's per-cell loop, start-up excluded)"
        )
    big = results.get("big") or {}
    run = big.get("run", {})
    if run:
        state = "timed out" if run.get("timed_out") else f"exit {run.get('returncode')}"
        lines.append(
            f"- {big['bytes'] / 2**30:.2f} GiB CSV scanned with under {MEMORY_TARGET_MB} MB peak:"
            f" **{_met(goal['memory']['met'])}: {run['peak_mb']:.0f} MB** peak RSS, "
            f"{run['seconds']:.0f} s ({big['mb_per_s']} MB/s, {big['rows_per_s']:,.0f} rows/s, "
            f"{big['rows']:,} rows, {state})"
        )
    return [*lines, ""]


def _cell(row: dict[str, Any] | None, tool: str, entity: str) -> str:
    if tool != "mlwarden" and not _supported(tool, entity):
        return "-"
    if row is None:
        return "0.000"
    mark = "*" if (tool.split("@")[0], entity) in APPROXIMATE else ""
    return f"{row['f1']:.3f}{mark} ({_f(row['precision'])}/{_f(row['recall'])})"


def _f1_table(results: dict[str, Any]) -> list[str]:
    scores = results["scores"]
    columns = [("mlwarden@peer-rows", "mlwarden")]
    columns += [(t, t) for t in ("presidio-patterns", "presidio-patterns@0.5", "presidio-spacy",
                                 "presidio-spacy@0.5", "scrubadub") if t in scores]  # fmt: skip
    ours = scores["mlwarden@peer-rows"]["entities"]
    head = "| entity | labels | " + " | ".join(LABELS[c[1]] for c in columns) + " |"
    lines = [
        f"### F1 (precision/recall) per entity, first {results['peer_rows']:,} rows, every tool",
        "",
        head,
        "| --- | ---: |" + " ---: |" * len(columns),
    ]
    for entity in sorted(ours, key=lambda e: -ours[e]["support"]):
        if not ours[entity]["support"]:
            continue
        row = f"| {entity} | {ours[entity]['support']} |"
        for key, tool in columns:
            row += f" {_cell(scores[key]['entities'].get(entity), tool, entity)} |"
        lines.append(row)
    lines += [
        "",
        "`-`: the tool has no recogniser for the entity. `*`: approximate mapping (Presidio's"
        " DATE_TIME is any date or time, its LOCATION any place name; ours are a date of birth"
        " and a postal address), shown but not counted for the target.",
        "",
    ]
    extras = []
    for key in ("mlwarden@peer-rows", "presidio-patterns", "presidio-spacy", "scrubadub"):
        if key in scores:
            other = scores[key]["other"]
            spurious = {e: r["fp"] for e, r in scores[key]["entities"].items() if not r["support"]}
            if other or spurious:
                shown = ", ".join(f"{k} {v}" for k, v in list({**spurious, **other}.items())[:8])
                extras.append(f"- {LABELS.get(key.split('@')[0])}: {shown}")
    if extras:
        note = (
            "Detections of entities the table has no label for (not scored above; every one"
            " is on a value that is not that entity):"
        )
        lines += [note, "", *extras, ""]
    return lines


def _mlwarden_table(results: dict[str, Any]) -> list[str]:
    full = results["scores"]["mlwarden"]
    lines = [
        f"### mlwarden on all {full['rows']:,} rows (`find_entities(cell, context=column)`)",
        "",
        "| entity | labels | TP | FP | FN | precision | recall | F1 | exact bounds | FP columns |"
        " FN columns |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for entity, row in sorted(full["entities"].items(), key=lambda x: -x[1]["support"]):
        fp_cols = ", ".join(f"{c} {n}" for c, n in list(row["fp_columns"].items())[:3]) or "-"
        fn_cols = ", ".join(f"{c} {n}" for c, n in list(row["fn_columns"].items())[:3]) or "-"
        lines.append(
            f"| {entity} | {row['support']} | {row['tp']} | {row['fp']} | {row['fn']} | "
            f"{_f(row['precision'])} | {_f(row['recall'])} | {row['f1']:.3f} | "
            f"{row['strict_tp']} | {fp_cols} | {fn_cols} |"
        )
    return [*lines, ""]


def _speed_table(results: dict[str, Any]) -> list[str]:
    cli, tools = results["cli"], results["tools"]
    loads = [r["load_before"] for r in cli["runs"]]
    lines = [
        "### Speed and memory",
        "",
        "| tool | what is timed | rows | seconds | rows/s | peak MB |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        f"| mlwarden `scan --format json` | whole process, median of {len(cli['runs'])} "
        f"(1-min load {min(loads):.1f}-{max(loads):.1f}) | {results['table']['rows']:,} | "
        f"{cli['median_s']:.2f} | {cli['rows_per_s']:,.0f} | {cli['peak_mb']:.0f} |",
    ]
    for tool, stats in tools.items():
        before, after = stats.get("load", [None, None])
        load = f", load {before:.1f}-{after:.1f}" if before is not None else ""
        what = "per-cell loop" + (", set-up excluded" if tool != "mlwarden" else "")
        label = "mlwarden `find_entities`" if tool == "mlwarden" else LABELS[tool]
        lines.append(
            f"| {label} | {what}{load} (set-up {stats['setup_s']:.1f} s) | {stats['rows']:,} | "
            f"{stats['loop_s']:.1f} | {stats['rows_per_s']:,.1f} | {stats['peak_mb']:.0f} |"
        )
    peers = [t for t in tools if t != "mlwarden"]
    if peers:
        full = results["table"]["rows"]
        lines += ["", "Peers ran on the first "
                  f"{results['peer_rows']:,} rows; at their measured rate the full {full:,} rows"
                  " would take " + ", ".join(
                      f"{LABELS[t]} {full / tools[t]['rows_per_s'] / 60:.0f} min" for t in peers)
                  + " (extrapolated, not run)."]  # fmt: skip
    return [*lines, ""]


def _columns_table(results: dict[str, Any]) -> list[str]:
    findings = results["cli"]["columns"]
    by_column: dict[str, list[str]] = {}
    for f in findings:
        if "entity" in f:
            share = f" {f['share']:.0%}" if isinstance(f.get("share"), float) else ""
            by_column.setdefault(f["column"] or "?", []).append(
                f"{f['rule']} {f['entity']} x{f['count']}{share} ({f['detection']})"
            )
    rows = results["table"]["rows"]
    labelled = results.get("labelled_columns", {})
    lines = [f"### What `mlwarden scan` reports per column ({rows:,}-row table)", "",
             "| column | labelled cells per entity | findings (rule, entity, count, share, how) |",
             "| --- | --- | --- |"]  # fmt: skip
    for column in results["table"]["columns"]:
        truth = labelled.get(column, {})
        shown = ", ".join(f"{e} {n}" for e, n in sorted(truth.items(), key=lambda x: -x[1]))
        found = "; ".join(by_column.get(column, [])) or "nothing"
        lines.append(f"| {column} | {shown or 'none (negatives)'} | {found} |")
    return [*lines, ""]


def _example_line(kind: str, item: dict[str, Any]) -> str:
    where = f' in "{item["context"]}"' if item["column"] == "notes" else ""
    return f"  - {kind} in `{item['column']}`: `{item['value']}`{where}"


def _examples(results: dict[str, Any]) -> list[str]:
    full = results["scores"]["mlwarden"]["entities"]
    losses = {e for _, e, _, _, _ in _f1_losses(results)}
    lines = ["### mlwarden's misses and false positives (examples, all rows)", ""]
    for entity, row in sorted(full.items(), key=lambda x: (x[0] not in losses, x[0])):
        if not row["misses"] and not row["false_positives"]:
            continue
        flag = " (F1 below Presidio's)" if entity in losses else ""
        lines.append(f"- **{entity}**{flag}: {row['fn']} missed, {row['fp']} false positives")
        lines.extend(_example_line("missed", item) for item in row["misses"][:4])
        lines.extend(_example_line("false positive", item) for item in row["false_positives"][:4])
    return [*lines, ""]


def render(results: dict[str, Any]) -> str:
    """The whole section, markers included."""
    table = results["table"]
    versions = results["versions"]
    entities = ", ".join(f"{e} {n}" for e, n in sorted(table["entities"].items()))
    lines = [
        START,
        "# Personal data in tables: mlwarden against Presidio and scrubadub",
        "",
        f"- Date: {results['date']}",
        f"- Machine: {results['machine']}; shared with other work while measured (1-minute"
        " load averages are given with each timing)",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "- How: `make -C benchmarks privacy` (`benchmarks/privacy/README.md`); raw outputs in"
        " `benchmarks/work/privacy/` (`results.json`, each tool's `detections.jsonl`).",
        f"- Table: {table['rows']:,} rows x {len(table['columns'])} columns"
        f" ({table['bytes'] / 1e6:.1f} MB CSV), seed {table['seed']}, locales "
        + ", ".join(table["locales"])
        + "; tidy columns, hard-negative columns (order ids, SKUs, invoice numbers, UUIDs,"
        " hashes, prices, IPv4-shaped version strings, timestamps) and a free-text `notes`"
        " column (own templates and presidio-evaluator's). Labelled spans: " + entities + ".",
        "- Peers run cell by cell through their Python APIs on one core; Presidio gets the"
        " column name as context words. Matching: same cell, same entity, any overlap, one to"
        " one (`benchmarks/privacy/score.py`).",
        "",
        *_target_lines(results),
        *_f1_table(results),
        *_mlwarden_table(results),
        *_speed_table(results),
        *_columns_table(results),
        *_examples(results),
        END,
    ]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any]) -> None:
    """Replace (or append) the privacy section of RESULTS.md."""
    write_section(render(results), START, END, RESULTS)

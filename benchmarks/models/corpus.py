"""Build the model-file benchmark corpus under benchmarks/work/ (never committed).

    python benchmarks/models/corpus.py [--work DIR] [--no-big] [--big-sizes 1,10] [--verify]

Writes:
  work/corpus/...           mixed benign and malicious model files
  work/corpus-labels.json   path (relative to work/corpus) -> {malicious, technique}
  work/big/...              the multi-gigabyte cases
  work/big-labels.json      case -> {path, malicious, technique}

No payload is ever executed: see payloads.py and opcodes.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import big_files  # noqa: E402
import corpus_benign  # noqa: E402
import corpus_formats  # noqa: E402
import corpus_malicious  # noqa: E402

DEFAULT_WORK = HERE.parent / "work"
BLOB_AFTER_MB = 300


def build_corpus(work: Path) -> dict[str, dict[str, object]]:
    """(Re)build work/corpus from scratch and return its labels."""
    root = work / "corpus"
    if root.exists():
        shutil.rmtree(root)
    benign_dir, malicious_dir = root / "benign", root / "malicious"
    benign: dict[str, str] = {}
    for builder in corpus_benign.BUILDERS:
        started = time.perf_counter()
        builder(benign_dir, benign)
        print(f"  {builder.__module__}.{builder.__name__}: {time.perf_counter() - started:.1f}s")
    malicious: dict[str, str] = {}
    for builder in (
        corpus_malicious.pickle_files,
        corpus_malicious.torch_files,
        corpus_malicious.joblib_numpy_files,
        corpus_formats.keras_files,
        corpus_formats.gguf_files,
        corpus_formats.onnx_files,
        corpus_formats.safetensors_files,
    ):
        started = time.perf_counter()
        builder(malicious_dir, work, malicious)
        print(f"  {builder.__module__}.{builder.__name__}: {time.perf_counter() - started:.1f}s")
    corpus_malicious.payload_after_blob(malicious_dir, work, malicious, BLOB_AFTER_MB << 20)
    labels: dict[str, dict[str, object]] = {}
    for prefix, table, is_bad in (("benign", benign, False), ("malicious", malicious, True)):
        for rel, technique in sorted(table.items()):
            labels[f"{prefix}/{rel}"] = {"malicious": is_bad, "technique": technique}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    unlabelled = on_disk - set(labels)
    missing = set(labels) - on_disk
    if unlabelled or missing:
        raise SystemExit(f"labels out of sync: unlabelled={unlabelled} missing={missing}")
    return labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--no-big", action="store_true", help="skip the multi-gigabyte files")
    parser.add_argument("--no-corpus", action="store_true", help="skip the mixed corpus")
    parser.add_argument("--big-sizes", default="1,10", help="PyTorch zip sizes in GiB")
    parser.add_argument("--verify", action="store_true", help="torch.load the 1 GiB checkpoint")
    args = parser.parse_args()
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not args.no_corpus:
        print("building corpus ...")
        labels = build_corpus(work)
        (work / "corpus-labels.json").write_text(json.dumps(labels, indent=1))
        bad = sum(1 for v in labels.values() if v["malicious"])
        print(f"corpus: {len(labels)} files, {bad} malicious, {len(labels) - bad} benign")
    if not args.no_big:
        sizes = tuple(int(s) for s in args.big_sizes.split(",") if s)
        print(f"building big files {sizes} GiB ...")
        started = time.perf_counter()
        cases = big_files.build(work, sizes)
        (work / "big-labels.json").write_text(json.dumps(cases, indent=1))
        print(f"big files ready in {time.perf_counter() - started:.1f}s")
        if args.verify and "pytorch_zip_1gb" in cases:
            print("verify:", big_files.verify_loadable(Path(str(cases["pytorch_zip_1gb"]["path"]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Classify reviews with the trained pipeline.

python predict.py "Great battery, fast delivery"
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib

MODEL = Path(__file__).resolve().parent / "models" / "safe" / "sentiment.joblib"


def main() -> None:
    # joblib.load unpickles: only ever point it at a model that `mlwarden scan` reported clean.
    pipeline = joblib.load(MODEL)
    for text in sys.argv[1:]:
        label = "positive" if pipeline.predict([text])[0] == 1 else "negative"
        print(f"{label}\t{text}")


if __name__ == "__main__":
    main()

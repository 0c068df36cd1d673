"""Train the review sentiment classifier and export it.

The scikit-learn pipeline (TF-IDF features, logistic regression) is the model served to
users; its linear head is also exported as a PyTorch state dict and as safetensors for the
team that runs inference on GPUs.

    python train.py [--data data/reviews.csv] [--out models/safe]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

HERE = Path(__file__).resolve().parent


def load_reviews(path: Path) -> tuple[list[str], list[int]]:
    """Review texts and labels (1 positive, 0 negative) from a CSV with ``text,label``."""
    texts: list[str] = []
    labels: list[int] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(1 if row["label"] == "positive" else 0)
    return texts, labels


def train_pipeline(texts: list[str], labels: list[int]) -> Pipeline:
    """Fit the TF-IDF and logistic-regression pipeline."""
    pipeline = Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=1)),
            ("classifier", LogisticRegression(max_iter=500)),
        ]
    )
    pipeline.fit(texts, labels)
    return pipeline


def linear_head_state_dict(pipeline: Pipeline) -> dict[str, Any]:
    """The logistic-regression weights as the state dict of a ``torch.nn.Linear``."""
    import torch

    classifier = pipeline.named_steps["classifier"]
    head = torch.nn.Linear(classifier.coef_.shape[1], 1)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(classifier.coef_, dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(classifier.intercept_, dtype=torch.float32))
    return {name: tensor.contiguous() for name, tensor in head.state_dict().items()}


def export(pipeline: Pipeline, out: Path) -> list[Path]:
    """Write the pipeline (joblib) and its head (torch state dict, safetensors) to ``out``."""
    import joblib
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = linear_head_state_dict(pipeline)
    paths = [
        out / "sentiment.joblib",
        out / "sentiment_head.pt",
        out / "sentiment_head.safetensors",
    ]
    joblib.dump(pipeline, paths[0])
    torch.save(state, paths[1])
    save_file(state, str(paths[2]), metadata={"format": "pt", "task": "sentiment"})
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data" / "reviews.csv")
    parser.add_argument("--out", type=Path, default=HERE / "models" / "safe")
    args = parser.parse_args()
    texts, labels = load_reviews(args.data)
    pipeline = train_pipeline(texts, labels)
    accuracy = pipeline.score(texts, labels)
    for path in export(pipeline, args.out):
        print(f"wrote {path}")
    print(f"training accuracy: {accuracy:.2f}")


if __name__ == "__main__":
    main()

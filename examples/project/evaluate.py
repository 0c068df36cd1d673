"""Evaluate the exported linear head on the labelled reviews, loading nothing but tensors.

    python evaluate.py [--head models/safe/sentiment_head.safetensors]

The safe counterparts of what ``serve.py`` does: tensors only, a pinned encoder, explanations
parsed as JSON, a local-only report server.
"""

from __future__ import annotations

import argparse
import json
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification, AutoTokenizer

HERE = Path(__file__).resolve().parent
ENCODER = "acme-reviews/review-encoder"
ENCODER_REVISION = "9b2e4f6a8c0d1e3f5a7b9c2d4e6f8a0b1c3d5e7f"


def load_head(path: Path) -> dict[str, torch.Tensor]:
    """The head's tensors; a ``.pt`` file is read with ``weights_only=True`` (no code runs)."""
    if path.suffix == ".safetensors":
        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def load_encoder() -> tuple[object, object]:
    """The review encoder and its tokenizer, pinned to one commit of the Hub repository."""
    tokenizer = AutoTokenizer.from_pretrained(ENCODER, revision=ENCODER_REVISION)
    encoder = AutoModelForSequenceClassification.from_pretrained(ENCODER, revision=ENCODER_REVISION)
    return tokenizer, encoder


def parse_aspects(answer: str) -> dict[str, str]:
    """Aspects written by the explainer model, read as data, never run."""
    parsed = json.loads(answer)
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", type=Path, default=HERE / "models" / "safe" / "sentiment_head.pt")
    parser.add_argument("--params", type=Path, default=HERE / "params.yaml")
    parser.add_argument("--serve-report", action="store_true")
    args = parser.parse_args()
    params = yaml.safe_load(args.params.read_text()) if args.params.exists() else {}
    head = load_head(args.head)
    print(f"head: {tuple(head['weight'].shape)}, threshold {params.get('threshold', 0.5)}")
    if args.serve_report:
        HTTPServer(("127.0.0.1", 8001), SimpleHTTPRequestHandler).serve_forever()


if __name__ == "__main__":
    main()

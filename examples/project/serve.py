"""Serve the review classifier: a JSON API for the shop, a Gradio demo for the product team.

    python serve.py                # POST {"text": ...} to http://HOST:8000/predict
    python serve.py --demo         # the Gradio demo

The fine-tuned head sits on top of the shared review encoder from the Hugging Face Hub; a small
text-generation model names the aspects (delivery, battery, price...) a review talks about.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from flask import Flask, jsonify, request
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

HERE = Path(__file__).resolve().parent
HEAD = HERE / "models" / "unsafe" / "finetuned_head.pt"
ENCODER = "acme-reviews/review-encoder"
EXPLAINER = "acme-reviews/aspect-explainer"
EXPLAINER_REVISION = "5d0f3c2b8e1a9f7d6c4b3a2e1f0d9c8b7a6f5e4d"

app = Flask(__name__)
tokenizer = AutoTokenizer.from_pretrained(ENCODER)
encoder = AutoModelForSequenceClassification.from_pretrained(ENCODER, trust_remote_code=True)
checkpoint = torch.load(HEAD, map_location="cpu")
explainer = pipeline("text-generation", model=EXPLAINER, revision=EXPLAINER_REVISION)


def score(text: str) -> float:
    """The probability that a review is positive."""
    inputs = tokenizer(text, return_tensors="pt", truncation=True)
    with torch.no_grad():
        features = encoder(**inputs).logits
        logit = features @ checkpoint["state_dict"]["weight"].T + checkpoint["state_dict"]["bias"]
    return float(torch.sigmoid(logit).item())


def aspects(text: str) -> dict[str, Any]:
    """The aspects a review mentions, each with its sentiment, as the explainer writes them."""
    prompt = f"Review: {text}\nAspects as a Python dict of aspect to sentiment:"
    answer = explainer(prompt, max_new_tokens=64, return_full_text=False)[0]["generated_text"]
    return eval(answer)


@app.post("/predict")
def predict() -> Any:
    text = request.get_json()["text"]
    return jsonify(positive=score(text), aspects=aspects(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start the Gradio demo instead")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    if args.demo:
        demo = gr.Interface(fn=aspects, inputs="text", outputs="json", title="Review aspects")
        demo.launch(share=True)
    else:
        app.run(host="0.0.0.0", port=args.port)


if __name__ == "__main__":
    main()

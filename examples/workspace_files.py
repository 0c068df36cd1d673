"""The example project's generated working files: an exploration notebook and a customer table.

Both are made at build time rather than committed, because both hold things that must never
sit in a repository: the notebook carries a pasted Hugging Face token (and the output that
echoed it), the table carries names, e-mail addresses, phone numbers, IBANs and card numbers.
The token is random, made here on every build; the people are made by Faker from a fixed
seed, so the same table comes back every time and none of it belongs to anyone.
"""

from __future__ import annotations

import csv
import json
import secrets
import string
from pathlib import Path
from typing import Any

#: Customers, and the countries whose names, phones and IBANs they get, in turn.
CUSTOMER_ROWS = 500
LOCALES = ("en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT")
FAKER_SEED = 20240611

#: Support notes: most hold nothing personal, some repeat a contact detail in passing.
QUIET_NOTES = (
    "Delivery late, resolved with a voucher.",
    "Happy with the battery life, left a five-star review.",
    "Asked about the warranty on the charger.",
    "Returned the headphones: wrong colour.",
    "",
)
PERSONAL_NOTES = (
    "Asked to be called back on {phone} after 6pm.",
    "Refund sent to {iban} after the return.",
    "Prefers e-mail at {email}, no phone calls.",
    "Card {card} declined twice, customer paid by bank transfer.",
)


#: Letters of the fake token: no vowels and no ``x``, so that no run of it ever spells a
#: word ("test", "fake", "xxxx"...) that would make it read as a placeholder, not a token.
_TOKEN_LETTERS = "".join(c for c in string.ascii_letters if c.lower() not in "aeioux")


def fake_hf_token() -> str:
    """A Hugging Face token as the Hub issues them (``hf_`` and 34 letters), random every time.

    It has the right shape for detection and was never issued by anyone.
    """
    return "hf_" + "".join(secrets.choice(_TOKEN_LETTERS) for _ in range(34))


def _code(
    source: str, outputs: list[dict[str, Any]] | None = None, count: int = 1
) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": {},
        "outputs": outputs or [],
        "source": source.splitlines(keepends=True),
    }


def _result(text: str, count: int) -> dict[str, Any]:
    return {
        "output_type": "execute_result",
        "execution_count": count,
        "metadata": {},
        "data": {"text/plain": text.splitlines(keepends=True)},
    }


def notebook_cells(token: str) -> list[dict[str, Any]]:
    """The notebook's cells, as a data scientist left them after a first look at the data.

    Cell 1 has a magic and a ``!pip`` line (nothing wrong with either); cell 2 pipes a
    downloaded script into bash; cell 3 pastes ``token`` and echoes it into a stored output;
    cell 4 loads a checkpoint with ``torch.load`` and no ``weights_only``; cell 5 does it safely.
    """
    head = "../models/safe/sentiment_head.pt"
    return [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Exploring the review data\n", "Class balance, lengths, the head."],
        },
        _code(
            "%matplotlib inline\n"
            "!pip install -q pandas==2.2.2 matplotlib==3.9.0\n"
            "import os\n"
            "\n"
            "import pandas as pd\n"
            "import torch\n"
            "\n"
            'reviews = pd.read_csv("../data/reviews.csv")\n'
            'reviews["label"].value_counts()',
            [_result("label\nnegative    10\npositive    10\nName: count, dtype: int64", 1)],
            1,
        ),
        _code("!curl -fsSL https://get.review-tools.example/install.sh | bash", count=2),
        _code(
            "from huggingface_hub import login\n"
            "\n"
            f'os.environ["HF_TOKEN"] = "{token}"\n'
            'login(token=os.environ["HF_TOKEN"])\n'
            'os.environ["HF_TOKEN"]',
            [_result(f"'{token}'", 3)],
            3,
        ),
        _code(
            "%%time\n"
            f'head = torch.load("{head}")\n'
            "{name: tuple(t.shape) for name, t in head.items()}",
            [
                {"output_type": "stream", "name": "stdout", "text": ["Wall time: 3.1 ms\n"]},
                _result("{'weight': (1, 97), 'bias': (1,)}", 4),
            ],
            4,
        ),
        _code(
            f'state = torch.load("{head}", weights_only=True)\n'
            'reviews["text"].str.len().describe()',
            count=5,
        ),
    ]


def build_notebook(path: Path, token: str | None = None) -> str:
    """Write ``notebooks/explore.ipynb`` to ``path``; return the token it holds."""
    token = token or fake_hf_token()
    document = {
        "cells": notebook_cells(token),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.9"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return token


def customer_rows(count: int = CUSTOMER_ROWS, seed: int = FAKER_SEED) -> list[dict[str, str]]:
    """``count`` made-up customers of several countries, the same for the same seed."""
    from faker import Faker

    fake = Faker(list(LOCALES))
    Faker.seed(seed)
    rows = []
    for number in range(count):
        local = fake[LOCALES[number % len(LOCALES)]]
        contact = {
            "email": local.email(safe=True),
            "phone": local.phone_number(),
            "iban": local.iban(),
            "card": local.credit_card_number(),
        }
        if number % 3 == 0:
            note = local.random_element(PERSONAL_NOTES).format(**contact)
        else:
            note = local.random_element(QUIET_NOTES)
        rows.append(
            {
                "customer_id": f"C{100000 + number}",
                "name": local.name(),
                "email": contact["email"],
                "phone": contact["phone"],
                "country": local.current_country_code(),
                "iban": contact["iban"],
                "card_number": contact["card"],
                "orders": str(local.random_int(1, 40)),
                "notes": note,
            }
        )
    return rows


def build_customers(path: Path, count: int = CUSTOMER_ROWS) -> list[dict[str, str]]:
    """Write the customer table as CSV to ``path``; return its rows."""
    rows = customer_rows(count)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows

"""Searching a whole free-text column at once gives the same answers as cell by cell."""

from __future__ import annotations

from mlwarden.scanners.data.recognisers import find_entities, find_entities_in_cells


def test_cells_match_one_by_one_search() -> None:
    cells = [
        "Hi, this is John Smith; call +44 20 7946 0958.",
        None,
        "passport",  # a context word must not reach into the next cell
        "X1234567 is a part number",
        "Hi, this is John Smith; call +44 20 7946 0958.",
        "Card 4111 1111 1111 1111 was charged 12.99 EUR.",
    ]
    batched = find_entities_in_cells(cells)
    assert batched == [find_entities(c) if c else [] for c in cells]
    assert [m.entity for m in batched[0]] == ["PERSON", "PHONE"]
    assert batched[3] == []

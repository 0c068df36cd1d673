"""IBANs, national identifiers and passports: checksums decide, context where it must."""

from __future__ import annotations

import pytest

from mlwarden.scanners.data.recognisers import classify_column, find_entities


def entities_in(text: str, context: str = "") -> list[tuple[str, str]]:
    return [(m.entity, text[m.start : m.end]) for m in find_entities(text, context=context)]


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "FR14 2004 1010 0505 0001 3M02 606",
        "ES91 2100 0418 4502 0005 1332",
        "NL91ABNA0417164300",
        "IT60X0542811101000000123456",
        "PL61109010140000071219812874",
        "BR1800360305000010009795493C1",
    ],
)
def test_iban_fires(iban: str) -> None:
    assert entities_in(f"Pay to {iban} please") == [("IBAN", iban)]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # checksum off by one
        "GB82 WEST 1234 5698 7654 3",  # too short for GB
        "XX12 3456 7890 1234 5678",  # no such country
        "NL91ABNA041716430",  # NL is 18 characters
    ],
)
def test_iban_near_misses(text: str) -> None:
    assert [e for e, _ in entities_in(text) if e == "IBAN"] == []


def test_iban_stops_before_a_following_code() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00 REF1 done"
    assert entities_in(text) == [("IBAN", "DE89 3704 0044 0532 0130 00")]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("SSN 456-65-4395 on file", "US_SSN", "456-65-4395"),
        ("ssn: 456654395", "US_SSN", "456654395"),
        ("NI number AB 12 34 56 C", "UK_NINO", "AB 12 34 56 C"),
        ("NINO JG103759A", "UK_NINO", "JG103759A"),
        ("numéro 2 59 06 48 095 434 91", "FR_NIR", "2 59 06 48 095 434 91"),
        ("DNI 12345678Z", "ES_NIF", "12345678Z"),
        ("NIE X1234567L", "ES_NIE", "X1234567L"),
        ("CF RSSMRA85T10A562S", "IT_FISCAL_CODE", "RSSMRA85T10A562S"),
        ("BSN 111222333", "NL_BSN", "111222333"),
        ("Steuer-ID 86095742719", "DE_TAX_ID", "86095742719"),
        ("Aadhaar 2341 2341 2346", "IN_AADHAAR", "2341 2341 2346"),
        ("CPF 111.444.777-35", "BR_CPF", "111.444.777-35"),
        ("PESEL 44051401359", "PL_PESEL", "44051401359"),
        ("passport no. X1234567 expires", "PASSPORT", "X1234567"),
    ],
)
def test_national_ids_fire(text: str, entity: str, value: str) -> None:
    assert (entity, value) in entities_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "SSN 666-12-3456",  # area 666 is never issued
        "SSN 000-12-3456",
        "SSN 912-34-5678",  # 9xx areas are not SSNs
        "SSN 123-00-4567",  # group 00
        "NINO QQ123456C",  # Q is not a valid first letter
        "NINO GB123456A",  # GB prefix is not allocated
        "NINO AB123456E",  # suffix must be A-D
        "DNI 12345678A",  # wrong check letter
        "CF RSSMRA85T10A562X",  # wrong check character
        "CPF 111.444.777-36",
        "order 111222333 shipped",  # BSN-valid digits without context
        "invoice 44051401359",  # PESEL-valid digits without context
        "part X1234567 in stock",  # passport shape without the word
    ],
)
def test_national_id_near_misses(text: str) -> None:
    found = entities_in(text)
    assert [e for e, _ in found if e not in ("PHONE",)] == []


def test_bare_numbers_need_a_column_name() -> None:
    bsn = ["111222333", "123456782", "", "999999990"]
    assert classify_column("bsn", bsn).entity == "NL_BSN"
    assert classify_column("value", bsn).entity is None
    passports = ["X1234567", "C01X00T47", "P8123456"]
    assert classify_column("passport_number", passports).entity == "PASSPORT"
    assert classify_column("sku", passports).entity is None


def test_german_tax_ids_with_generic_identity_context() -> None:
    # Regression: only "steuer"/"tax_id" wording counted, so a national_id column and
    # "Identity checked: ..." notes were missed.
    from mlwarden.scanners.data.recognisers import classify_column, find_entities

    assert [m.entity for m in find_entities("Identity checked: 59632107405")] == ["DE_TAX_ID"]
    verdict = classify_column("national_id", ["42357186398", "59632107405", None])
    assert verdict.entity == "DE_TAX_ID"
    assert find_entities("order 42357186398 shipped") == []
    fails_checksum = find_entities("Identity checked: 12345678901")
    assert "DE_TAX_ID" not in [m.entity for m in fails_checksum]

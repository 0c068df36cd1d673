"""Birth dates, addresses, coordinates, person names and secrets, both directions."""

from __future__ import annotations

import pytest

from mlwarden.scanners.data.recognisers import classify_column, find_entities


def entities_in(text: str, context: str = "") -> list[tuple[str, str]]:
    return [(m.entity, text[m.start : m.end]) for m in find_entities(text, context=context)]


def of(entity: str, found: list[tuple[str, str]]) -> list[str]:
    return [value for e, value in found if e == entity]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("born 1985-03-12 in Lyon", "1985-03-12"),
        ("DOB: 12/03/1985", "12/03/1985"),
        ("geboren am 12.03.1985", "12.03.1985"),
        ("date of birth March 12, 1985", "March 12, 1985"),
        ("née le 3 mars 1962", "3 mars 1962"),
    ],
)
def test_birth_dates_fire_in_context(text: str, date: str) -> None:
    assert of("DATE_OF_BIRTH", entities_in(text)) == [date]


@pytest.mark.parametrize(
    "text",
    [
        "shipped 1985-03-12",  # no birth word
        "born 2024-13-45",  # not a date
        "born 1850-01-01",  # too old to be alive
        "DOB 2999-01-01",  # in the future
        "born 1985-03-12T10:15:00",  # a timestamp
        "born 1985-03-12 10:15",
    ],
)
def test_birth_date_near_misses(text: str) -> None:
    assert of("DATE_OF_BIRTH", entities_in(text)) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("lives at 221B Baker Street, London", "221B Baker Street"),
        ("ship to 4833 Weaver Plaza Apt. 290 today", "4833 Weaver Plaza Apt. 290"),
        ("wohnt in der Hauptstraße 5 in Berlin", "Hauptstraße 5"),
        ("Adresse: Kurt-Zahn-Gasse 8/7", "Kurt-Zahn-Gasse 8/7"),
        ("au 12, rue de la Paix à Paris", "12, rue de la Paix"),
        ("en Calle Mayor 3, Madrid", "Calle Mayor 3"),
        ("in Via Roma, 10 a Milano", "Via Roma, 10"),
        ("na Rua das Flores, 123", "Rua das Flores, 123"),
        ("ul. Długa 90 w Gdańsku", "ul. Długa 90"),
        ("op Kerkstraat 12 in Delft", "Kerkstraat 12"),
    ],
)
def test_addresses_fire(text: str, address: str) -> None:
    assert of("ADDRESS", entities_in(text)) == [address]


@pytest.mark.parametrize(
    "text",
    [
        "I bought 3 Apple Watches",
        "Version 2 Release Notes",
        "via email 12 times",
        "the weg 12",
        "rue de la Paix",  # no house number
        "Order 12345 shipped",
    ],
)
def test_address_near_misses(text: str) -> None:
    assert of("ADDRESS", entities_in(text)) == []


def test_postcodes_count_only_under_a_postcode_column() -> None:
    codes = ["75001", "10115", "SW1A 1AA", "1012 AB", "00-950"]
    assert classify_column("postcode", codes).entity == "ADDRESS"
    assert classify_column("quantity", ["75001", "10115", "12345"]).entity is None


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("meet at 48.8566, 2.3522 tonight", "48.8566, 2.3522"),
        ("gps -33.8688,151.2093", "-33.8688,151.2093"),
        ("pos 40.7128 N, 74.0060 W", "40.7128 N, 74.0060 W"),
    ],
)
def test_coordinates_fire(text: str, pair: str) -> None:
    assert of("GEO_COORDINATES", entities_in(text)) == [pair]


@pytest.mark.parametrize(
    "text",
    ["prices 12.99, 13.49", "range 95.1234, 200.5678", "values 1.000, 2.000", "v 3.14159, 3.14159"],
)
def test_coordinate_near_misses(text: str) -> None:
    assert of("GEO_COORDINATES", entities_in(text)) == []


def test_latitude_columns_by_name() -> None:
    values = ["48.8566", "52.5200", "40.4168"]
    assert classify_column("pickup_lat", values).entity == "GEO_COORDINATES"
    assert classify_column("price", values).entity is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Thanks John Smith for the update", "John Smith"),
        ("Ich heiße Jürgen Müller", "Jürgen Müller"),
        ("Maria García López called", "Maria García López"),
        ("Contact Jean-Pierre Dupont today", "Jean-Pierre Dupont"),
        ("Dear Mrs Nowak, thank you", "Nowak"),
        ("Name: Xavier Qwertz", "Xavier Qwertz"),
        ("Anna Maria Rossi signed", "Anna Maria Rossi"),
    ],
)
def test_person_names_fire(text: str, name: str) -> None:
    assert of("PERSON", entities_in(text)) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "New York is big",
        "Price Increase Notice",
        "Grant Application form",
        "Hello World",
        "Monday Morning Meeting",
        "The Quick Brown Fox",
        "Machine Learning Model",
        "john smith in lower case",
        "Smith",
    ],
)
def test_person_near_misses(text: str) -> None:
    assert of("PERSON", entities_in(text)) == []


def test_name_columns() -> None:
    full = ["John Smith", "Smith, Jane", "GARCÍA Maria", "Jürgen Müller", "Acme Ltd"]
    assert classify_column("customer", full).entity == "PERSON"
    assert classify_column("col3", full).entity == "PERSON"
    assert classify_column("first_name", ["John", "Maria", "Jürgen", "Wei"]).entity == "PERSON"
    assert classify_column("product", ["Apple Watch", "Green Tea", "Blue Jeans"]).entity is None


def test_secrets_come_from_the_secret_detectors() -> None:
    text = "creds AKIAZ7QW4RT2LMN8XPVB in the log"
    assert of("SECRET", entities_in(text)) == ["AKIAZ7QW4RT2LMN8XPVB"]
    assert of("SECRET", entities_in("the quick brown fox")) == []


def test_a_street_named_after_a_person_is_an_address() -> None:
    found = entities_in("ship to Vereda Kevin da Conceição, 78 please")
    assert found == [("ADDRESS", "Vereda Kevin da Conceição, 78")]

"""The recognisers in use, built once on first use (dictionaries and validators load lazily)."""

from __future__ import annotations

import functools

from mlwarden.scanners.data.recognisers.base import Recogniser


@functools.cache
def all_recognisers() -> tuple[Recogniser, ...]:
    """Every built-in recogniser, most specific first (ties in overlap go to the earlier)."""
    from mlwarden.scanners.data.recognisers.banking import IbanRecogniser
    from mlwarden.scanners.data.recognisers.cards import CardRecogniser
    from mlwarden.scanners.data.recognisers.contact import EmailRecogniser, PhoneRecogniser
    from mlwarden.scanners.data.recognisers.credentials import SecretRecogniser
    from mlwarden.scanners.data.recognisers.dates import BirthDateRecogniser
    from mlwarden.scanners.data.recognisers.location import AddressRecogniser, GeoRecogniser
    from mlwarden.scanners.data.recognisers.names import PersonRecogniser
    from mlwarden.scanners.data.recognisers.national_ids import national_id_recognisers
    from mlwarden.scanners.data.recognisers.ner import requested_backend
    from mlwarden.scanners.data.recognisers.network import (
        IpAddressRecogniser,
        MacAddressRecogniser,
        UrlCredentialsRecogniser,
    )
    from mlwarden.scanners.data.recognisers.wallets import WalletRecogniser

    found: list[Recogniser] = [
        CardRecogniser(),
        IbanRecogniser(),
        EmailRecogniser(),
        UrlCredentialsRecogniser(),
        *national_id_recognisers(),
        WalletRecogniser(),
        MacAddressRecogniser(),
        IpAddressRecogniser(),
        GeoRecogniser(),
        BirthDateRecogniser(),
        PhoneRecogniser(),
        AddressRecogniser(),
        PersonRecogniser(),
        SecretRecogniser(),
    ]
    ner = requested_backend()
    if ner is not None:
        found.append(ner)
    return tuple(found)


def recognisers_for(entities: frozenset[str] | None) -> tuple[Recogniser, ...]:
    """The recognisers that can report any of ``entities`` (all of them for None)."""
    if entities is None:
        return all_recognisers()
    return tuple(r for r in all_recognisers() if entities.intersection(r.entities))

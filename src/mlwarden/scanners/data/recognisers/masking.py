"""Format-preserving masks: the same length and separators, the identifying part hidden.

Used for the examples in findings (a report never shows what it found) and by ``redact
--method mask``. Letters and digits become ``*``; separators, ``@`` and punctuation stay, so a
masked column keeps its shape. Each entity keeps only what is needed to recognise the kind of
value (a card's last four digits, an e-mail's domain, a phone's country code).
"""

from __future__ import annotations

import re

from mlwarden.scanners.data.recognisers import base

MASK = "*"


def _hide(value: str, keep: set[int] | None = None) -> str:
    # Every letter or digit not in ``keep`` (indices) becomes the mask character.
    keep = keep or set()
    return "".join(ch if (i in keep or not ch.isalnum()) else MASK for i, ch in enumerate(value))


def _alnum_positions(value: str) -> list[int]:
    return [i for i, ch in enumerate(value) if ch.isalnum()]


def _keep_last(value: str, count: int) -> str:
    positions = _alnum_positions(value)
    # Never keep more than a third of a short value.
    count = min(count, len(positions) // 3)
    return _hide(value, set(positions[len(positions) - count :]) if count else set())


def _keep_first_last(value: str, first: int, last: int) -> str:
    positions = _alnum_positions(value)
    if len(positions) <= (first + last) * 2:
        return _keep_last(value, 0)
    kept = set(positions[:first]) | set(positions[len(positions) - last :])
    return _hide(value, kept)


def _mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at:
        return _hide(value)
    # A one- or two-letter local part would be shown whole: hide it all.
    shown = local[:1] if len(local) > 2 else ""
    return shown + _hide(local[len(shown) :]) + "@" + domain


def _mask_phone(value: str) -> str:
    stripped = value.lstrip()
    lead = len(value) - len(stripped)
    keep: set[int] = set()
    if stripped.startswith("+"):
        import phonenumbers

        try:
            code = str(phonenumbers.parse(stripped, None).country_code)
        except phonenumbers.NumberParseException:
            code = ""
        i = lead + 1
        for ch in code:
            # The country code is the first digits after '+', in order.
            while i < len(value) and value[i] != ch:
                i += 1
            keep.add(i)
            i += 1
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    keep |= set(positions[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else MASK for i, ch in enumerate(value))


def _mask_words(value: str) -> str:
    # Names and addresses: the first letter of each word.
    return re.sub(r"\w+", lambda m: m.group()[0] + MASK * (len(m.group()) - 1), value)


def _mask_ip(value: str) -> str:
    if "." in value and ":" not in value:
        head, _, rest = value.partition(".")
        return head + "." + _hide(rest)
    return _keep_first_last(value, 4, 0)


def _mask_url_credentials(value: str) -> str:
    m = re.match(r"([A-Za-z][\w+.-]*://)([^:/@\s]*):([^@/\s]*)@(.*)", value, re.S)
    if m is None:
        return _hide(value)
    scheme, user, password, rest = m.groups()
    return f"{scheme}{user[:1]}{_hide(user[1:])}:{MASK * len(password)}@{rest}"


def _mask_geo(value: str) -> str:
    # Whole degrees stay (about 100 km); the decimals that pinpoint a place go.
    return re.sub(r"\.(\d+)", lambda m: "." + MASK * len(m.group(1)), value)


def _mask_mac(value: str) -> str:
    # The first three octets name the vendor (OUI), not the device.
    positions = _alnum_positions(value)
    return _hide(value, set(positions[:6]))


def mask_value(entity: str, value: str) -> str:
    """``value`` masked for ``entity``, keeping its length and separators.

    >>> mask_value("CREDIT_CARD", "4111 1111 1111 1111")
    '**** **** **** 1111'
    >>> mask_value("EMAIL", "jane.doe@example.com")
    'j*******@example.com'
    """
    if entity == base.EMAIL:
        return _mask_email(value)
    if entity == base.PHONE:
        return _mask_phone(value)
    if entity in (base.CREDIT_CARD, base.US_SSN):
        return _keep_last(value, 4)
    if entity == base.IBAN:
        return _keep_first_last(value, 2, 4)
    if entity in (base.PERSON, base.ADDRESS):
        return _mask_words(value)
    if entity == base.IP_ADDRESS:
        return _mask_ip(value)
    if entity == base.MAC_ADDRESS:
        return _mask_mac(value)
    if entity == base.URL_CREDENTIALS:
        return _mask_url_credentials(value)
    if entity == base.GEO_COORDINATES:
        return _mask_geo(value)
    if entity in (base.CRYPTO_WALLET, base.SECRET):
        return _keep_first_last(value, 4, 0)
    if entity in base.NATIONAL_IDS or entity == base.PASSPORT:
        return _keep_last(value, 2)
    return _hide(value)

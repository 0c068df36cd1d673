"""Network identifiers: IP addresses, MAC addresses and URLs that carry credentials."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from mlwarden.scanners.data.recognisers.base import (
    IP_ADDRESS,
    MAC_ADDRESS,
    URL_CREDENTIALS,
    EntityMatch,
    window_after,
    window_before,
)
from mlwarden.scanners.data.recognisers.gates import matches_in_regions, token_regions

# The look-behind follows the first digit so that the search skips to digits.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w]|\.\w)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:.])")
#: Words just before a dotted number that make it a version, an OID or a build, not an address.
_VERSION_BEFORE = re.compile(
    r"(?:\b(?:v|ver|version|versions|release|rel|build|firmware|fw|sdk|api|kernel|python|node"
    r"|java|update|patch|oid|revision|rev|driver|bios|os)\b\W{0,3}|[vV]|==|>=|<=|~=|@)$",
    re.I,
)


def _ipv4_in_context(text: str, start: int, end: int) -> float | None:
    value = text[start:end]
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        return None
    if _VERSION_BEFORE.search(window_before(text, start, 20)):
        return None
    # "1.2.3.4-beta" and "1.2.3.4+cu118" are versions; "1.3.6.1.4" would not have matched.
    if re.match(r"[-+](?:\w|$)", window_after(text, end, 3)):
        return None
    if address.is_unspecified or int(address) == 0xFFFFFFFF:
        return None
    octets = value.split(".")
    # Small octets only ("1.2.3.4") read as a version more often than as an address.
    return 0.6 if all(len(o) == 1 for o in octets) else 0.85


def _is_ipv6(value: str) -> bool:
    if value.count(":") < 2 or sum(1 for g in value.split(":") if g) < 3:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


class IpAddressRecogniser:
    """IPv4 and IPv6 addresses, not version strings, dotted dates or OIDs."""

    entities: tuple[str, ...] = (IP_ADDRESS,)
    column_hint: re.Pattern[str] | None = re.compile(
        r"\bip\b|ip_?addr|ip$|^ip|host_?addr|client", re.I
    )
    cell_shape: re.Pattern[str] = re.compile(
        r"\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*"
    )
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every IP address in ``text``."""
        if "." in text:
            for m in _IPV4.finditer(text):
                score = _ipv4_in_context(text, m.start(), m.end())
                if score is not None:
                    yield EntityMatch(IP_ADDRESS, m.start(), m.end(), score, True)
        if "::" in text or text.count(":") >= 5:
            for m in _IPV6.finditer(text):
                if _is_ipv6(m.group()):
                    yield EntityMatch(IP_ADDRESS, m.start(), m.end(), 0.85, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """IP_ADDRESS when the whole ``value`` is an address."""
        if ":" in value:
            return IP_ADDRESS if _is_ipv6(value) else None
        if _IPV4.fullmatch(value) is None:
            return None
        return IP_ADDRESS if _ipv4_in_context(value, 0, len(value)) is not None else None


_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:.-])"
)


def _is_mac(value: str) -> bool:
    hex_digits = re.sub(r"[:.-]", "", value).lower()
    # All zeros and broadcast identify no device.
    return len(set(hex_digits)) > 1 and hex_digits != "f" * 12


class MacAddressRecogniser:
    """MAC addresses: six colon- or dash-separated octets, or Cisco's dotted triples."""

    entities: tuple[str, ...] = (MAC_ADDRESS,)
    column_hint: re.Pattern[str] | None = re.compile(r"\bmac\b|mac_?addr|hw_?addr|bssid", re.I)
    cell_shape: re.Pattern[str] = re.compile(r"[0-9A-Fa-f]{2,4}[:.-][0-9A-Fa-f:.-]{10,15}")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every MAC address in ``text``."""
        for m in _MAC.finditer(text):
            if _is_mac(m.group()):
                yield EntityMatch(MAC_ADDRESS, m.start(), m.end(), 0.85, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """MAC_ADDRESS when the whole ``value`` is one."""
        return MAC_ADDRESS if _MAC.fullmatch(value) and _is_mac(value) else None


_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://([^\s:/@'\"<>]+):([^\s@/'\"<>]+)@[A-Za-z0-9.-]+"
    r"(?::\d+)?(?:/[^\s'\"<>]*)?"
)
_PLACEHOLDER = re.compile(r"^(?:\*+|x+|\.+|<.*>|\$\{.*\}|\{\{.*\}\}|%.*%|\$\w+)$", re.I)


class UrlCredentialsRecogniser:
    """URLs that embed a user name and password (``scheme://user:pass@host``)."""

    entities: tuple[str, ...] = (URL_CREDENTIALS,)
    column_hint: re.Pattern[str] | None = re.compile(r"url|uri|dsn|conn|endpoint", re.I)
    cell_shape: re.Pattern[str] = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+:\S*@\S+")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every URL with credentials in ``text``."""
        if "://" not in text:
            return
        # Such a URL holds no white space: only the stretches around each "://" are searched.
        for m in matches_in_regions(_URL_CREDENTIALS, text, token_regions(text, "://"), 0):
            if not _PLACEHOLDER.match(m.group(2)):
                # Above an e-mail's score: "pass@host" inside the URL is not an address.
                yield EntityMatch(URL_CREDENTIALS, m.start(), m.end(), 0.97, True)

    def validate(self, value: str, context: str = "") -> str | None:
        """URL_CREDENTIALS when the whole ``value`` is such a URL."""
        m = _URL_CREDENTIALS.fullmatch(value)
        return URL_CREDENTIALS if m and not _PLACEHOLDER.match(m.group(2)) else None

"""Reading OSV records: version readings, fields kept, malformed records, alias grouping."""

from __future__ import annotations

from typing import Any

import pytest

from mlwarden.scanners.deps.grouping import AliasGroups, shown_id
from mlwarden.scanners.deps.osv import (
    Advisory,
    AdvisoryFormatError,
    EventKind,
    leading_version,
    load_document,
    parse_advisory,
    public_key,
)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("2.6.0", "2.6.0"),
        ("2.6.0-NA", "2.6.0"),
        ("2.6.0-cu124", "2.6.0"),  # never the release candidate 2.6.0rc0 ("-c")
        ("2.6.0rc1-foo", "2.6.0rc1"),
        ("4.6.0.stable11", "4.6.0"),
        ("2024-09-25", "2024"),  # not PEP 440's implicit post-release 2024.post9
        ("7.2.0-12.1", "7.2.0"),
        ("0.2.0-alpha\\.33", "0.2.0"),
        ("v1.2-x", "1.2"),
        ("1.0-1", "1.0.post1"),  # valid PEP 440 as written: kept
    ],
)
def test_leading_version(text: str, reading: str) -> None:
    version = leading_version(text)
    assert version is not None and str(version) == reading


@pytest.mark.parametrize(
    "text", ["abc", "next-release", "3cbb917b4714766030b28eba9fb41bb97ce9ee02"]
)
def test_no_leading_version(text: str) -> None:
    assert leading_version(text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2.1.0+cu118", "2.1"),
        ("2.1", "2.1"),
        ("2.1.0", "2.1"),
        ("1.01", "1.1"),
        ("0", "0"),
        ("2.0.0rc1", "2rc1"),
        ("not-a-version", "not-a-version"),
    ],
)
def test_public_key(text: str, key: str) -> None:
    assert public_key(text) == key


def osv(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "PYSEC-2099-1", "modified": "2025-01-01T00:00:00Z"}
    return base | fields


def pypi(name: str, *events: dict[str, str], **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": name}}
    if events:
        entry["ranges"] = [{"type": "ECOSYSTEM", "events": list(events)}]
    return entry | extra


def test_fields_kept_and_ignored() -> None:
    advisory = parse_advisory(
        osv(
            aliases=["CVE-2099-1", "PYSEC-2099-1", "CVE-2099-1"],
            details="First line\n\nmore text",
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            references=[{"type": "WEB", "url": "https://example.invalid/a"}, {"type": "WEB"}],
            database_specific={"severity": "LOW"},
            affected=[
                pypi(
                    "Some_Package",
                    {"introduced": "0"},
                    {"fixed": "1.0"},
                    ecosystem_specific={"affects": "x"},
                    versions=["0.9", "0.9.0"],
                ),
                {"package": {"ecosystem": "npm", "name": "other"}},
            ],
        )
    )
    assert advisory.aliases == ("CVE-2099-1",)  # own id and repeats dropped
    assert advisory.summary == "First line more text"  # no summary: the details, on one line
    assert advisory.references == ("https://example.invalid/a",)
    (entry,) = advisory.affected
    assert entry.name == "some-package"
    assert entry.versions == ("0.9",)
    assert [(e.kind, e.version) for e in entry.ranges[0].events] == [
        (EventKind.INTRODUCED, "0"),
        (EventKind.FIXED, "1.0"),
    ]
    assert Advisory.from_json(advisory.to_json()) == advisory


def test_semver_ranges_are_read_as_pep440_and_git_ranges_dropped() -> None:
    advisory = parse_advisory(
        osv(
            affected=[
                {
                    "package": {"ecosystem": "PyPI", "name": "p"},
                    "ranges": [
                        {"type": "SEMVER", "events": [{"introduced": "1.0.0"}]},
                        {"type": "GIT", "repo": "r", "events": [{"introduced": "abc"}]},
                    ],
                }
            ]
        )
    )
    assert [r.type for r in advisory.affected[0].ranges] == ["SEMVER"]
    assert advisory.warnings == ()


def test_unreadable_event_drops_the_entry_ranges_with_a_warning() -> None:
    advisory = parse_advisory(osv(affected=[pypi("p", {"introduced": "0"}, {"fixed": "soon"})]))
    assert advisory.affected[0].ranges == ()
    assert advisory.warnings == (
        "PYSEC-2099-1: fixed event 'soon' of p has no valid PEP 440 version; "
        "that entry matches by its versions list alone",
        "PYSEC-2099-1: p has no versions list either; it never matches",
    )


def test_withdrawn_timestamp_kept() -> None:
    advisory = parse_advisory(osv(withdrawn="2025-02-01T00:00:00Z"))
    assert advisory.withdrawn == "2025-02-01T00:00:00Z"
    assert advisory.affected == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a mapping"),
        ({"summary": "no id"}, "needs an id"),
        (osv(affected={"not": "a list"}), "affected is not a list"),
        (osv(affected=["text"]), "not a mapping"),
        (osv(affected=[{"package": {"ecosystem": "PyPI"}}]), "no package name"),
        (osv(aliases="CVE-1"), "aliases is not a list"),
    ],
)
def test_malformed_records(data: Any, message: str) -> None:
    with pytest.raises(AdvisoryFormatError, match=message):
        parse_advisory(data)


def test_yaml_values_stay_strings() -> None:
    document = load_document(
        b"id: X\naffected:\n- ranges:\n  - events:\n    - introduced: 0\n    - fixed: 1.10\n",
        yaml_syntax=True,
    )
    assert document["affected"][0]["ranges"][0]["events"] == [
        {"introduced": "0"},
        {"fixed": "1.10"},
    ]
    assert load_document(b"", yaml_syntax=True) is None


def test_yaml_loader_constructs_no_objects() -> None:
    # A tag that a full loader would turn into a call is only text here.
    document = load_document(b"id: !!python/object/apply:os.system ['true']\n", yaml_syntax=True)
    assert document == {"id": ["true"]}


def test_shown_id_preference() -> None:
    assert shown_id(["CVE-2025-1", "PYSEC-2025-2", "GHSA-zzzz-zzzz-zzzz"]) == "GHSA-zzzz-zzzz-zzzz"
    assert shown_id(["CVE-2025-1", "PYSEC-2025-2"]) == "PYSEC-2025-2"
    assert shown_id(["OSV-1", "CVE-2025-9", "CVE-2025-1"]) == "CVE-2025-1"
    assert shown_id(["OSV-2", "OSV-1"]) == "OSV-1"


def test_alias_groups_union_transitively() -> None:
    groups = AliasGroups()
    groups.add(["A", "B"])
    groups.add(["C", "B"])
    groups.add(["D"])
    groups.add(["E", "F"])
    groups.add(["F", "C"])
    components = sorted(groups.components().values())
    assert components == [["A", "B", "C", "E", "F"], ["D"]]
    assert groups.root("A") == groups.root("E")

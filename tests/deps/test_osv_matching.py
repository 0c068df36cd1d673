"""Matching semantics over small hand-written OSV records (tests/deps/fixtures_osv)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlwarden.findings import Severity
from mlwarden.scanners.deps.cvss import DEFAULT_SEVERITY
from mlwarden.scanners.deps.db import AdvisoryDatabase

FIXTURES = Path(__file__).parent / "fixtures_osv"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdvisoryDatabase]:
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLWARDEN_CACHE_DIR", str(cache))
        database = AdvisoryDatabase.open(FIXTURES)
    yield database
    database.close()


def ids(db: AdvisoryDatabase, package: str, version: str) -> list[str]:
    return [v.id for v in db.vulnerabilities(package, version)]


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("0.9", False),
        ("1.0", True),  # introduced is inclusive
        ("1.1.5", True),
        ("1.2", False),  # fixed is exclusive
        ("1.9", False),
        ("2.0", True),  # second range of the same events list (events given out of order)
        ("2.2.99", True),
        ("2.3", False),
        ("2.3.0", False),
        ("10.0", False),
    ],
)
def test_introduced_and_fixed_events(db: AdvisoryDatabase, version: str, affected: bool) -> None:
    assert ids(db, "range-pkg", version) == (["TEST-RANGES"] if affected else [])


def test_package_names_are_canonicalised(db: AdvisoryDatabase) -> None:
    # The record says "Range_Pkg"; lockfiles may say "range.pkg".
    assert ids(db, "Range.Pkg", "1.0") == ["TEST-RANGES"]


@pytest.mark.parametrize(
    ("version", "affected"), [("0.1", True), ("1.5", True), ("1.5.0", True), ("1.5.1", False)]
)
def test_last_affected_is_inclusive(db: AdvisoryDatabase, version: str, affected: bool) -> None:
    assert ids(db, "last-pkg", version) == (["TEST-LAST"] if affected else [])


@pytest.mark.parametrize(
    ("version", "affected"), [("0.9", False), ("1.0", True), ("2.9.9", True), ("3.0", False)]
)
def test_limit_bounds_the_range(db: AdvisoryDatabase, version: str, affected: bool) -> None:
    assert ids(db, "limit-pkg", version) == (["TEST-LIMIT"] if affected else [])


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.4.3", False), ("0.4.4", True), ("0.4.4.0", True), ("0.4.5", True), ("0.4.6", False)],
)
def test_versions_list_without_ranges(db: AdvisoryDatabase, version: str, affected: bool) -> None:
    # "0.4.5.0" in the record and "0.4.5" queried are the same PEP 440 version.
    assert ids(db, "listed-pkg", version) == (["TEST-VERSIONS"] if affected else [])


def test_git_ranges_are_left_to_the_versions_list(db: AdvisoryDatabase) -> None:
    assert ids(db, "git-pkg", "1.1") == ["TEST-GIT"]
    assert ids(db, "git-pkg", "1.2") == []  # the commit range cannot be ordered with versions


@pytest.mark.parametrize(
    ("version", "affected"),
    [("1.9", False), ("2.0.0", True), ("2.5.1", True), ("2.6.0", False), ("2.6.0+cu124", False)],
)
def test_invalid_events_read_as_leading_version(
    db: AdvisoryDatabase, version: str, affected: bool
) -> None:
    # introduced "2.0.0-NA" is 2.0.0 and fixed "2.6.0-cu124" is 2.6.0.
    assert ids(db, "torchlike", version) == (["TEST-INVALID"] if affected else [])
    assert any("'2.6.0-cu124'" in note and "read as 2.6.0" in note for note in db.notes)


def test_unreadable_event_leaves_the_versions_list(db: AdvisoryDatabase) -> None:
    assert ids(db, "odd-pkg", "1.1") == ["TEST-UNREADABLE"]
    # Without the range, 1.5 is not affected even though introduced "0" would cover it.
    assert ids(db, "odd-pkg", "1.5") == []
    assert any("TEST-UNREADABLE" in note and "versions list alone" in note for note in db.notes)


@pytest.mark.parametrize("version", ["1.1.0+cu118", "1.1+local.7", "1.1.0"])
def test_local_labels_match_the_public_version(db: AdvisoryDatabase, version: str) -> None:
    assert ids(db, "range-pkg", version) == ["TEST-RANGES"]
    assert ids(db, "git-pkg", version.replace("1.1", "1.0", 1)) == ["TEST-GIT"]


def test_withdrawn_records_never_match(db: AdvisoryDatabase) -> None:
    # TEST-WITHDRAWN would affect every range-pkg version.
    assert ids(db, "range-pkg", "5.0") == []
    assert "TEST-WITHDRAWN" not in db.record_ids()
    assert db.info().withdrawn == 1
    found = db.vulnerabilities("range-pkg", "1.0")
    assert all("CVE-0000-0001" not in v.ids for v in found)


def test_alias_groups_are_transitive(db: AdvisoryDatabase) -> None:
    # A ~ B through CVE-2099-0001, B ~ C through OSV-2099-7: one vulnerability.
    (vuln,) = [v for v in db.vulnerabilities("alias-pkg", "1.6") if v.id != "TEST-UNFIXED"]
    assert vuln.id == "GHSA-aaaa-aaaa-aaaa"  # GHSA is preferred as the shown id
    assert set(vuln.aliases) == {"CVE-2099-0001", "PYSEC-2099-1", "OSV-2099-7", "OSV-2099-8"}
    assert vuln.records == ("GHSA-aaaa-aaaa-aaaa", "OSV-2099-8", "PYSEC-2099-1")
    assert vuln.summary == "Record A of one vulnerability"


def test_records_that_disagree_on_the_fix_give_the_later_fix(db: AdvisoryDatabase) -> None:
    # A says fixed in 2.0, B says 2.1: 2.0.5 is still affected (by B's account).
    found = db.vulnerabilities("alias-pkg", "2.0.5")
    assert [v.id for v in found] == ["GHSA-aaaa-aaaa-aaaa"]
    assert found[0].records == ("PYSEC-2099-1",)
    assert found[0].fixed_in == ("2.1",)
    before = db.vulnerabilities("alias-pkg", "1.8")
    grouped = next(v for v in before if v.id == "GHSA-aaaa-aaaa-aaaa")
    assert grouped.fixed_in == ("1.9", "2.0", "2.1")
    assert db.fix("alias-pkg", "1.8", [grouped]) == "2.1"
    assert db.fix("alias-pkg", "2.0.5", found) == "2.1"


def test_severity_from_any_record_of_the_group(db: AdvisoryDatabase) -> None:
    # Only record A has a vector; the group is critical even where only B matches.
    (vuln,) = db.vulnerabilities("alias-pkg", "2.0.5")
    assert vuln.severity is Severity.CRITICAL
    assert vuln.score == 9.8
    assert vuln.cvss == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def test_no_vector_gets_the_documented_default(db: AdvisoryDatabase) -> None:
    (vuln,) = db.vulnerabilities("range-pkg", "1.0")
    assert vuln.severity is DEFAULT_SEVERITY is Severity.MEDIUM
    assert vuln.cvss is None and vuln.score is None
    assert "no CVSS vector" in vuln.severity_basis


def test_affected_entry_severity_and_other_ecosystems(db: AdvisoryDatabase) -> None:
    (vuln,) = db.vulnerabilities("v4-pkg", "0.5")
    assert vuln.severity is Severity.CRITICAL  # CVSS v4 base score 9.3
    assert vuln.score == 9.3
    assert "left-pad" not in db.packages()  # npm-only record: skipped
    skipped = dict((Path(name).name, reason) for name, reason in db.skipped_files())
    assert "names no PyPI package" in skipped["other_ecosystem.json"]


def test_yaml_versions_stay_strings(db: AdvisoryDatabase) -> None:
    # "fixed: 1.10" is version 1.10, not the float 1.1.
    assert ids(db, "yaml-pkg", "1.9") == ["TEST-YAML"]
    assert ids(db, "yaml-pkg", "1.10") == []


def test_fix_is_smallest_version_clear_of_all(db: AdvisoryDatabase) -> None:
    found = db.vulnerabilities("fix-pkg", "2.5")
    assert [v.id for v in found] == ["TEST-FIX-EARLY", "TEST-FIX-LATE"]
    # 3.0rc1 fixes one but is still affected by the other; 3.1 is clear of both.
    assert db.fix("fix-pkg", "2.5", found) == "3.1"
    late = [v for v in found if v.id == "TEST-FIX-LATE"]
    assert db.fix("fix-pkg", "4.0", db.vulnerabilities("fix-pkg", "4.0")) == "4.2"
    assert db.fix("fix-pkg", "2.5", late) == "3.1"


def test_fix_prefers_final_releases(db: AdvisoryDatabase) -> None:
    early = [v for v in db.vulnerabilities("fix-pkg", "2.9") if v.id == "TEST-FIX-EARLY"]
    # 3.0rc1 is the first version clear of TEST-FIX-EARLY, but 3.1 is a final release.
    assert db.fix("fix-pkg", "2.9", early) == "3.1"
    assert db.fix("fix-pkg", "4.1", db.vulnerabilities("fix-pkg", "4.1")) == "4.2"


def test_no_fix_when_only_last_affected(db: AdvisoryDatabase) -> None:
    found = db.vulnerabilities("alias-pkg", "0.5")
    unfixed = [v for v in found if v.id == "TEST-UNFIXED"]
    assert unfixed and unfixed[0].fixed_in == ()
    # Versions above 1.0 exist in other records (1.5, 1.9, 2.0, 2.1): 1.5 clears it.
    assert db.fix("alias-pkg", "0.5", unfixed) == "1.5"
    # Together with the grouped vulnerability, 2.1 is the first version clear of both.
    assert db.fix("alias-pkg", "0.5", found) == "2.1"
    assert db.fix("last-pkg", "1.0", db.vulnerabilities("last-pkg", "1.0")) is None


def test_admitted_versions_of_a_range(db: AdvisoryDatabase) -> None:
    admitted = db.admitted("range-pkg", ">=1.1,<3")
    assert [version for version, _ in admitted] == ["1.1", "2.0"]
    assert all(v.id == "TEST-RANGES" for _, vulns in admitted for v in vulns)
    assert db.admitted("range-pkg", ">=2.3") == []
    assert db.admitted("unknown-pkg", ">=0") == []
    with pytest.raises(ValueError, match="PEP 440"):
        db.admitted("range-pkg", "=>nonsense")


def test_unknown_package_and_unparsable_version(db: AdvisoryDatabase) -> None:
    assert db.vulnerabilities("no-such-package", "1.0") == []
    assert ids(db, "range-pkg", "not a version") == []
    assert db.fix("range-pkg", "1.0", []) is None

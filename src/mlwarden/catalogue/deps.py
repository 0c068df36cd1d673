"""Rules for dependencies: known vulnerabilities and what could not be verified (MW2xx)."""

from mlwarden.findings import Severity
from mlwarden.rules import define

define(
    "MW200",
    "vulnerable-dependency",
    "Dependency with a known vulnerability",
    Severity.HIGH,
    "dependency",
    """
    A pinned or locked dependency is at a version that a published advisory (OSV, from the
    PyPA advisory database, GitHub or the curated ML set) says is affected. Records of one
    vulnerability under several ids (PYSEC, GHSA, CVE) are merged into one finding. The
    severity comes from the advisory's CVSS vector when it has one; without a vector it is
    high, since an advisory was published. Environment markers never hide a pin: a
    requirements file is checked for every environment it may be installed in.
    """,
    """
    Upgrade to the version in `fixed_in`, or to the `fix` version, the smallest release that
    fixes every known vulnerability of this package at once. When no fix exists, remove the
    package or isolate the code that uses it, and suppress the finding with a reason and an
    expiry date.
    """,
    cwe=(1395,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010.001",),
    references=("https://osv.dev", "https://github.com/pypa/advisory-database"),
)

define(
    "MW201",
    "range-admits-vulnerable-versions",
    "Version range admits vulnerable releases",
    Severity.MEDIUM,
    "dependency",
    """
    A dependency is declared with a range (`>=`, `~=`, `^`, a wildcard) rather than a pin, and
    the range admits releases with known vulnerabilities. What gets installed depends on the
    day and the index, so a vulnerable release can be installed without any change to the
    project. The finding lists the vulnerable releases the range admits.
    """,
    """
    Raise the lower bound above the vulnerable releases (to the `fix` version), or pin the
    dependency in a lock file that is checked too.
    """,
    cwe=(1395,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010.001",),
)

define(
    "MW202",
    "unverifiable-dependency",
    "Dependency that cannot be checked against advisories",
    Severity.LOW,
    "dependency",
    """
    The dependency comes from a URL, a version-control reference or a local path rather than
    a package index release, so no advisory can be matched to it, and its content can change
    under the same reference (a branch, an unhashed archive).
    """,
    """
    Depend on a released version from the package index, or pin the reference to a commit
    hash or an archive with a `--hash`, and review its source.
    """,
    cwe=(829, 494),
    owasp_ml=("ML06",),
    atlas=("AML.T0010.001",),
)

define(
    "MW203",
    "dependency-source-problem",
    "Part of a dependency file could not be read",
    Severity.LOW,
    "dependency",
    """
    A line or entry of a dependency file does not follow its format, an included file (`-r`,
    `-c`) is missing or leads back to itself, or a bound was reached. The packages it would
    have named were not checked.
    """,
    """
    Fix the line or the include so that every dependency can be checked.
    """,
    cwe=(20,),
)

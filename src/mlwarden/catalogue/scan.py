"""Rules about the scan itself: limits reached, input that could not be read, policy."""

from mlwarden.findings import Severity
from mlwarden.rules import define

define(
    "MW001",
    "scan-limit-reached",
    "Scan limit reached",
    Severity.HIGH,
    "scan",
    """
    A bound on bytes, archive depth or members, pickle opcodes or time was reached, so the rest
    of the artifact was not inspected. mlwarden fails closed: what it could not read is not
    reported as clean. Zip bombs and pickles with billions of opcodes end here.
    """,
    """
    Check where the file came from. If it is trusted and simply large, raise the limit in
    mlwarden.toml ([limits]) and scan again.
    """,
    cwe=(400, 409),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
)

define(
    "MW002",
    "incomplete-artifact",
    "Artifact could not be read completely",
    Severity.HIGH,
    "scan",
    """
    The file is truncated, malformed, or uses a structure the scanner cannot follow. Loaders are
    often more lenient than scanners, so a file that confuses a scanner may still load and run
    its payload. It cannot be shown safe.
    """,
    """
    Do not load the file. Obtain it again from a trusted source, or convert it to safetensors
    in an isolated environment.
    """,
    cwe=(20,),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
)

define(
    "MW003",
    "untrusted-config-in-scanned-tree",
    "Untrusted configuration in scanned tree",
    Severity.MEDIUM,
    "scan",
    """
    The scanned tree holds an mlwarden configuration (mlwarden.toml, or a pyproject.toml with a
    [tool.mlwarden] table) that is not the configuration in use. mlwarden never applies a
    configuration found in what it scans: a repository under review could otherwise suppress
    its own findings, raise limits until nothing is read, or exclude its payload. The file is
    reported so that nobody applies it by running mlwarden from inside that tree.
    """,
    """
    Read the file before trusting it. Scan untrusted repositories from outside them, with
    your own configuration (--config FILE). If the file is yours, run mlwarden with it as the
    configuration in use, or suppress this finding for its path in your own configuration.
    """,
    cwe=(15, 693),
    owasp_ml=("ML06",),
    atlas=("AML.T0010",),
    references=(
        "https://cwe.mitre.org/data/definitions/15.html",
        "https://owasp.org/www-project-machine-learning-security-top-10/docs/ML06_2023-AI_Supply_Chain_Attacks",
    ),
)

define(
    "MW004",
    "expired-suppression",
    "Suppression has expired",
    Severity.LOW,
    "config",
    """
    A [[suppress]] entry in the configuration in use is past its expires date. It no longer
    hides anything: the findings it covered are reported again. The finding is raised so that
    an expiry is seen in every report format (SARIF, HTML, JSON), not only as a warning on the
    terminal, and so that stale accepted risks get reviewed.
    """,
    """
    Review the accepted risk. Fix the findings it covered, or renew the suppression with a new
    expires date and an up-to-date reason, or delete the entry.
    """,
    references=("https://mlwarden.dev/configuration#suppressions",),
)

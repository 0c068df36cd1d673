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

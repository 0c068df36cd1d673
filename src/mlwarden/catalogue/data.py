"""Rules for personal data in datasets (declared on import)."""

from mlwarden.findings import Severity as Severity
from mlwarden.rules import define as define

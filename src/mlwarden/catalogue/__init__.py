"""The rule catalogue, one module per family. Importing this package declares every rule.

Id ranges: MW0xx scan and policy; MW1xx model files (MW100-119 pickle and pickle-based
formats, MW120-139 archives and containers, MW140-199 other model formats); MW2xx
dependencies; MW3xx code and notebooks; MW4xx secrets; MW5xx ML-serving configuration;
MW6xx personal data.
"""

from mlwarden.catalogue import (
    code,
    data,
    deps,
    models_archives,
    models_formats,
    models_pickle,
    scan,
    secrets,
    serving,
)

__all__ = [
    "code",
    "data",
    "deps",
    "models_archives",
    "models_formats",
    "models_pickle",
    "scan",
    "secrets",
    "serving",
]

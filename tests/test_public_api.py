import mlwarden


def test_all_is_exactly_the_public_api() -> None:
    assert sorted(mlwarden.__all__) == sorted(
        [
            "Finding",
            "Limits",
            "Location",
            "Report",
            "Rule",
            "SafeLoadError",
            "ScanError",
            "Severity",
            "UnsafeGlobalError",
            "__version__",
            "all_rules",
            "convert_to_safetensors",
            "get_rule",
            "safe_load",
            "scan",
        ]
    )
    for name in mlwarden.__all__:
        assert hasattr(mlwarden, name), name

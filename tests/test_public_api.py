import mlwarden


def test_all_is_exactly_the_public_api() -> None:
    assert sorted(mlwarden.__all__) == sorted(
        [
            "Finding",
            "Limits",
            "Location",
            "Report",
            "Rule",
            "ScanError",
            "Severity",
            "__version__",
            "all_rules",
            "get_rule",
            "scan",
        ]
    )
    for name in mlwarden.__all__:
        assert hasattr(mlwarden, name), name

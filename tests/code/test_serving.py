"""ML-serving configuration rules (MW500-529): annotated fixtures in both directions, the
severity each context deserves, and the readers underneath (properties, shell, ports)."""

from __future__ import annotations

from pathlib import Path

import pytest
from annotations import check_fixture, findings_of

from mlwarden.engine import scan_bytes
from mlwarden.findings import Finding, Severity
from mlwarden.rules import get_rule
from mlwarden.scanners.code.lines import LineIndex
from mlwarden.scanners.code.serving import check_text
from mlwarden.scanners.code.serving.model import Exposure, url_exposure
from mlwarden.scanners.code.serving.ports import parse_port_spec
from mlwarden.scanners.code.serving.shell import parse_script
from mlwarden.scanners.code.serving.torchserve import parse_properties
from mlwarden.sniff import Kind

FIXTURES = Path(__file__).parent / "fixtures" / "serving"
FIXTURE_FILES = sorted(p for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".expect")


def _serving(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule.startswith("MW5")]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_fixture_findings_match_annotations(path: Path) -> None:
    check_fixture(path)


def test_every_serving_rule_has_a_fixture() -> None:
    fired = {f.rule for path in FIXTURE_FILES for f in findings_of(path)}
    declared = {f"MW{n}" for n in range(500, 530)}
    declared = {rule for rule in declared if _declared(rule)}
    assert declared <= fired, f"rules without a firing fixture: {sorted(declared - fired)}"


def _declared(rule: str) -> bool:
    try:
        get_rule(rule)
    except KeyError:
        return False
    return True


def _severity(path: str, rule: str, line: int) -> Severity:
    found = [f for f in findings_of(FIXTURES / path) if f.rule == rule]
    matches = [f for f in found if f.location.line == line]
    assert len(matches) == 1, (rule, line, [(f.rule, f.location.line) for f in found])
    return matches[0].severity


@pytest.mark.parametrize(
    ("path", "rule", "line", "severity"),
    [
        # Management API on all interfaces with token auth off and the model API on.
        ("config.properties", "MW500", 5, Severity.CRITICAL),
        ("config.properties", "MW501", 5, Severity.HIGH),
        ("network.properties", "MW500", 5, Severity.HIGH),
        ("network.properties", "MW501", 8, Severity.HIGH),
        # Local management API: registration is still possible, from any URL.
        ("model-api.properties", "MW501", 4, Severity.MEDIUM),
        ("model-api.properties", "MW502", 6, Severity.MEDIUM),
        ("model-api.properties", "MW503", 4, Severity.MEDIUM),
        ("config.properties", "MW503", 13, Severity.HIGH),
        ("jupyter_server_config.py", "MW510", 7, Severity.HIGH),
        ("jupyter_server_config.py", "MW515", 9, Severity.HIGH),
        ("jupyter_lab_config.py", "MW510", 5, Severity.MEDIUM),
        ("jupyter_server_config.json", "MW510", 9, Severity.HIGH),
        ("ray.Dockerfile", "MW521", 3, Severity.HIGH),
        ("ray.Dockerfile", "MW521", 17, Severity.LOW),
        ("docker-compose.yml", "MW522", 10, Severity.MEDIUM),
        ("docker-compose.yml", "MW522", 43, Severity.LOW),
        ("serving.Dockerfile", "MW525", 33, Severity.INFO),
    ],
)
def test_severity_follows_the_context(path: str, rule: str, line: int, severity: Severity) -> None:
    assert _severity(path, rule, line) is severity


def test_findings_point_at_the_flag_and_carry_evidence() -> None:
    findings = _serving(findings_of(FIXTURES / "serve.sh"))
    mlflow = next(f for f in findings if f.rule == "MW518" and f.location.line == 6)
    assert mlflow.location.column == 15  # the --host option
    assert mlflow.evidence["host"] == "0.0.0.0"  # $HOST resolved from the script
    assert mlflow.evidence["format"] == "shell"
    assert "mlflow server" in str(mlflow.evidence["command"])
    ray = next(f for f in findings if f.rule == "MW521")
    assert (ray.location.line, ray.location.column) == (9, 3)
    properties = _serving(findings_of(FIXTURES / "config.properties"))
    management = next(f for f in properties if f.rule == "MW500")
    assert management.evidence == {
        "format": "torchserve-properties",
        "server": "torchserve",
        "setting": "management_address",
        "value": "http://0.0.0.0:8081",
        "exposure": "all-interfaces",
    }


def test_inline_suppression_is_kept_with_its_reason() -> None:
    findings = _serving(findings_of(FIXTURES / "ray.Dockerfile"))
    hidden = [f for f in findings if "inline_suppression" in f.evidence]
    assert [(f.rule, f.location.line) for f in hidden] == [("MW521", 12)]
    assert "VPC" in hidden[0].evidence["inline_suppression"]["reason"]


def test_config_files_are_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config = tmp_path / "jupyter_server_config.py"
    config.write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "c = get_config()\n"
        "c.ServerApp.token = ''  # the file is parsed, not executed\n",
        encoding="utf-8",
    )
    findings = _serving(findings_of(config))
    assert [f.rule for f in findings] == ["MW510"]
    assert not marker.exists()


def test_jupyter_rules_only_for_jupyter_config_names() -> None:
    text = "c.ServerApp.token = ''\nc.ServerApp.ip = '0.0.0.0'\n"
    assert check_text(text, Kind.PYTHON, "jupyter_server_config.py")
    assert check_text(text, Kind.PYTHON, "jupyter_notebook_config.py")
    assert not check_text(text, Kind.PYTHON, "app.py")
    assert not check_text(text, Kind.PYTHON, "config.py")


def test_a_password_makes_an_empty_token_safe() -> None:
    text = (
        "c.ServerApp.token = ''\n"
        "c.PasswordIdentityProvider.hashed_password = 'argon2:placeholder'\n"
        "c.ServerApp.ip = '127.0.0.1'\n"
    )
    assert check_text(text, Kind.PYTHON, "jupyter_server_config.py") == []


def test_torchserve_rules_need_a_torchserve_config() -> None:
    text = "management_address=http://0.0.0.0:8081\n"
    assert [i.rule for i in check_text(text, Kind.PROPERTIES, "c.properties")] == [
        "MW500",
        "MW501",
    ]
    other = "server.address=0.0.0.0\nspring.application.name=x\n"
    assert check_text(other, Kind.PROPERTIES, "application.properties") == []


def test_scan_bytes_reaches_the_serving_scanner() -> None:
    findings = _serving(
        scan_bytes(b'CMD ["mlflow", "server", "-h", "0.0.0.0"]\n', name="Dockerfile")
    )
    assert [(f.rule, f.location.line) for f in findings] == [("MW518", 1)]


def test_malformed_inputs_give_no_findings_and_no_errors() -> None:
    assert check_text("services: [unclosed\n  - ", Kind.COMPOSE, "docker-compose.yml") == []
    assert check_text("{not json", Kind.JSON, "jupyter_server_config.json") == []
    assert check_text("c.ServerApp.token = (\n", Kind.PYTHON, "jupyter_server_config.py") == []
    assert check_text('CMD ["jupyter", "lab"', Kind.DOCKERFILE, "Dockerfile") == []
    assert check_text("echo 'unterminated\n", Kind.SHELL, "x.sh") == []


def test_compose_aliases_are_followed_without_blowing_up() -> None:
    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    layers += [f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}, *a{n - 1}]" for n in range(1, 25)]
    text = "\n".join(layers) + "\nservices:\n  s:\n    image: *a24\n    ports: *a24\n"
    assert check_text(text, Kind.COMPOSE, "docker-compose.yml") == []


# --- readers --------------------------------------------------------------------------------


def test_properties_reader_follows_the_java_format() -> None:
    text = (
        "# comment\n"
        "! also a comment\n"
        "a=1\n"
        "b : two\n"
        "c three\n"
        "d=first \\\n"
        "   second\n"
        "e\\:f=g\n"
        "h=\\u0041\\tB\n"
        "i=trailing\\\\\n"
        "j=k\n"
    )
    entries = [(e.key, e.value, e.line) for e in parse_properties(text)]
    assert entries == [
        ("a", "1", 3),
        ("b", "two", 4),
        ("c", "three", 5),
        ("d", "first second", 6),
        ("e:f", "g", 8),
        ("h", "A\tB", 9),
        ("i", "trailing\\", 10),
        ("j", "k", 11),
    ]


def test_shell_words_keep_their_positions() -> None:
    text = "A=1 jupyter lab --ip='0.0.0.0' \\\n  --token \"\" | tee log; echo $(date) # c\n"
    commands = parse_script(text, LineIndex(text).at)
    first, second = commands[0], commands[1]
    assert first.assignments == {"A": "1"}
    assert [w.text for w in first.words] == ["jupyter", "lab", "--ip=0.0.0.0", "--token", ""]
    assert [(w.line, w.column) for w in first.words][2:] == [(1, 17), (2, 3), (2, 11)]
    assert [w.text for w in second.words] == ["tee", "log"]
    assert [w.text for w in commands[2].words] == ["echo", "$(date)"]


def test_shell_reader_skips_heredoc_bodies() -> None:
    text = "cat <<-EOF > x\n\tmlflow server --host 0.0.0.0\n\tEOF\nls\n"
    commands = parse_script(text, LineIndex(text).at)
    assert [[w.text for w in c.words] for c in commands] == [["cat"], ["ls"]]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8265:8265", (None, 8265)),
        ("127.0.0.1:8265:8265", ("127.0.0.1", 8265)),
        ("8265", (None, 8265)),
        ("18265:8265/tcp", (None, 8265)),
        ("[::1]:8888:8888", ("::1", 8888)),
        ("127.0.0.1::8888", ("127.0.0.1", 8888)),
    ],
)
def test_port_specs(spec: str, expected: tuple[str | None, int]) -> None:
    parsed = parse_port_spec(spec)
    assert parsed is not None
    assert (parsed[0], parsed[1][0]) == expected


def test_port_ranges_and_garbage() -> None:
    parsed = parse_port_spec("8000-8300:8000-8300")
    assert parsed is not None and 8265 in parsed[1]
    assert parse_port_spec("not-a-port") is None
    assert parse_port_spec("1:2:3:4") is None


@pytest.mark.parametrize(
    ("value", "exposure"),
    [
        ("http://0.0.0.0:8081", Exposure.ALL),
        ("https://[::]:8443", Exposure.ALL),
        ("http://127.0.0.1:8081", Exposure.LOCAL),
        ("http://localhost:8081", Exposure.LOCAL),
        ("http://[::1]:8081", Exposure.LOCAL),
        ("unix:/tmp/management.sock", Exposure.LOCAL),
        ("http://10.1.2.3:8081", Exposure.NETWORK),
        ("http://ts.example.com:8081", Exposure.NETWORK),
        ("http://${TS_HOST}:8081", Exposure.UNKNOWN),
    ],
)
def test_url_exposure(value: str, exposure: Exposure) -> None:
    assert url_exposure(value) is exposure


def test_dockerfile_arguments_name_the_base_image() -> None:
    # The Jupyter Docker stacks listen on all interfaces; their image is often named by ARGs.
    text = (
        "ARG REGISTRY=quay.io\n"
        "ARG BASE=$REGISTRY/jupyter/docker-stacks-foundation\n"
        "FROM ${BASE}\n"
        'CMD ["jupyter", "lab", "--ServerApp.token="]\n'
    )
    issues = check_text(text, Kind.DOCKERFILE, "Dockerfile")
    assert [(i.rule, i.line, i.severity) for i in issues] == [("MW510", 4, Severity.HIGH)]
    local = text.replace("$REGISTRY/jupyter/docker-stacks-foundation", "python:3.12-slim")
    issues = check_text(local, Kind.DOCKERFILE, "Dockerfile")
    assert [(i.rule, i.severity) for i in issues] == [("MW510", Severity.MEDIUM)]

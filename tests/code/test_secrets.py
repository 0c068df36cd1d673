"""Secrets: every vendor format fires, near misses stay silent, evidence is redacted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from annotations import check_fixture
from fake_credentials import fake, render

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.scanners.code.secrets import find_secrets
from mlwarden.scanners.code.secrets.formats import github_checksum_ok
from mlwarden.scanners.code.secrets.text import redact, shannon_entropy
from mlwarden.scanners.interface import Limits

FIXTURES = Path(__file__).parent / "fixtures" / "secrets"


def rendered(tmp_path: Path, name: str) -> Path:
    """A fixture with its @@KIND@@ markers filled in, under its own name (sniffing uses it)."""
    target = tmp_path / name
    target.write_text(render((FIXTURES / name).read_text(encoding="utf-8")), encoding="utf-8")
    side = FIXTURES / f"{name}.expect"
    if side.is_file():
        (tmp_path / side.name).write_text(side.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    "name", ["credentials.py", "settings.env", "params.yaml", "Dockerfile", "service_account.json"]
)
def test_annotated_fixture(tmp_path: Path, name: str) -> None:
    check_fixture(rendered(tmp_path, name))


def test_fixtures_in_the_repository_hold_no_credentials() -> None:
    # The committed templates carry markers only; nothing in them may fire.
    for path in FIXTURES.iterdir():
        if path.suffix != ".expect":
            assert find_secrets(path.read_text(encoding="utf-8")) == [], path.name


def test_findings_never_carry_the_value(tmp_path: Path) -> None:
    path = rendered(tmp_path, "credentials.py")
    result = scan_file(str(path), path)
    dumped = json.dumps([f.to_dict() for f in result.findings], ensure_ascii=False)
    for kind in ("HF", "OPENAI", "ANTHROPIC", "AWS_SECRET", "GITHUB", "RANDOM", "WANDB"):
        value = fake(kind)
        assert value not in dumped
        assert value[:12] not in dumped or value.startswith(("sk-ant-", "sk-proj-"))
    hf = next(f for f in result.findings if f.rule == "MW400")
    assert hf.evidence["redacted"] == fake("HF")[:4] + "…(37 chars)"
    assert hf.evidence["kind"] == "huggingface-token"
    assert hf.location.line == 10 and hf.location.column == 13


def test_match_fields_and_stable_keys() -> None:
    text = f'token = "{fake("HF")}"\n'
    (match,) = find_secrets(text, syntax="python")
    assert (match.rule, match.kind, match.line, match.column) == (
        "MW400",
        "huggingface-token",
        1,
        10,
    )
    assert match.label == "Hugging Face token"
    assert fake("HF") not in match.key
    assert find_secrets("\n\n" + text)[0].key == match.key  # the key ignores where it is
    assert find_secrets(f'token = "{fake("HF", 2)}"')[0].key != match.key


def test_github_checksum() -> None:
    assert github_checksum_ok(fake("GITHUB"))
    assert not github_checksum_ok(fake("GITHUB_BAD"))
    # Fine-grained tokens match on shape; classic ones need their checksum.
    pat = "github_pat_" + fake("RANDOM")[:22] + "_" + (fake("RANDOM", 2) * 3)[:59]
    (match,) = find_secrets(f"GH={pat}")
    assert (match.rule, match.confidence) == ("MW410", "medium")
    assert find_secrets(f"GH={fake('GITHUB_BAD')}") == []


def test_confidence_levels() -> None:
    openai_plain = "sk-" + (fake("RANDOM") * 2)[:48]
    assert find_secrets(f"k = '{openai_plain}'")[0].confidence == "medium"
    assert find_secrets(f"k = '{fake('OPENAI')}'")[0].confidence == "high"
    assert find_secrets(f"password = '{fake('RANDOM')}'")[0].confidence == "low"


@pytest.mark.parametrize(
    "line",
    [
        "api_key = os.environ['OPENAI_API_KEY']",
        'password = "hunter2hunter2hunter2"',  # a word, not random
        'secret = "xxxxxxxxxxxxxxxxxxxxxxxx"',
        'token = "{{ secrets.HF_TOKEN }}"',
        "token: !ENV ${HF_TOKEN}",
        'sha256_token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
        'run = "123e4567-e89b-12d3-a456-426614174000"',
        "    --hash=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "secret_name = 'projects/demo/secrets/hf-token/versions/latest'",
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
        "KBHBeksoGMGw==;AccountName=devstoreaccount1",  # the storage emulator's published key
        "-----BEGIN OPENSSH PRIVATE KEY-----\n<paste your key here>\n-----END OPENSSH PRIVATE KEY",
    ],
)
def test_near_misses(line: str) -> None:
    assert find_secrets(line) == []


@pytest.mark.parametrize(
    ("line", "rules"),
    [
        ('wandb.config.update({"revision": "@@WANDB@@"})', []),  # a hash, not a key
        ('wandb.login("@@WANDB@@")', ["MW409"]),
        ('cred = AzureKeyCredential("@@AZURE_AI@@")', ["MW408"]),
        ('azure_deployment_id = "@@AZURE_AI@@"', []),
        ('aws_region_hash = "@@AWS_SECRET@@"', []),
    ],
)
def test_service_keys_need_a_key_name(line: str, rules: list[str]) -> None:
    assert [m.rule for m in find_secrets(render(line), syntax="python")] == rules


def test_python_syntax_reads_only_quoted_values() -> None:
    bare = f"password = {fake('RANDOM')}"
    assert [m.rule for m in find_secrets(bare)] == ["MW414"]
    assert find_secrets(bare, syntax="python") == []


def test_uuid_named_as_a_secret_fires() -> None:
    (match,) = find_secrets(f'client_secret = "{fake("UUID")}"')
    assert match.rule == "MW414"


def test_base64_images_never_fire() -> None:
    # An image payload long enough to hold token-shaped runs by chance, and a planted one.
    blob = fake("IMAGE")[:3000] + fake("GOOGLE") + "+" + fake("AWS_ID") + fake("IMAGE", 2)
    for text in (
        f'<img src="data:image/png;base64,{blob}">',
        json.dumps({"image/png": blob}),
        blob,
    ):
        assert find_secrets(text) == []


def test_service_account_is_one_finding() -> None:
    key = f"-----BEGIN PRIVATE KEY-----\n{fake('KEY_BODY')}\n-----END PRIVATE KEY-----\n"
    document = {"type": "service_account", "private_key": key}
    (match,) = find_secrets(json.dumps(document, indent=2))
    assert (match.rule, match.line) == ("MW405", 3)


def test_private_key_in_a_pem_file() -> None:
    pem = "\n".join(
        [
            "-----BEGIN EC PRIVATE KEY-----",
            fake("KEY_BODY"),
            fake("KEY_BODY", 2),
            "-----END EC PRIVATE KEY-----",
        ]
    )
    (match,) = find_secrets(pem)
    assert (match.rule, match.redacted) == ("MW413", "-----BEGIN EC PRIVATE KEY-----")


def test_slack_and_wandb_cli_forms() -> None:
    assert [m.rule for m in find_secrets(f"wandb login {fake('WANDB')}")] == ["MW409"]
    assert [m.rule for m in find_secrets(f"curl -X POST {fake('SLACK_WEBHOOK')}")] == ["MW411"]


def test_long_minified_line_is_bounded() -> None:
    # A 2 MB line full of secret-like words: windows around each keep the work linear.
    line = ("var token=a.b;var password=c.d;" * 70_000) + f'var apiKey="{fake("HF")}";'
    started = time.monotonic()
    matches = find_secrets(line)
    assert time.monotonic() - started < 10
    assert [m.rule for m in matches] == ["MW400"]


def test_scanner_reads_up_to_the_limit_and_warns() -> None:
    text = ("# padding line\n" * 100) + f'HF_TOKEN = "{fake("HF")}"\n'
    findings = scan_bytes(text.encode(), "settings.env", limits=Limits(max_metadata_bytes=200))
    assert findings == []  # the token is past the limit; nothing fails closed for text
    findings = scan_bytes(text.encode(), "settings.env")
    assert [f.rule for f in findings] == ["MW400"]


def test_scanner_warns_about_a_cut_file(tmp_path: Path) -> None:
    path = tmp_path / "big.env"
    path.write_text(("X=1\n" * 100) + f"HF_TOKEN={fake('HF')}\n")
    result = scan_file(str(path), path, limits=Limits(max_metadata_bytes=100))
    assert result.findings == [] and any("first 100 bytes" in w for w in result.warnings)


def test_helpers() -> None:
    assert redact("hf_abcdefghijkl") == "hf_a…(15 chars)"
    assert redact("abc") == "a…(3 chars)"  # short values show less
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0


def test_no_detector_matches_a_text_shorter_than_the_shortest_secret() -> None:
    # find_secrets skips texts shorter than SHORTEST_SECRET; that is exact only while no
    # pattern can match fewer characters.
    import re._parser as parser

    from mlwarden.scanners.code.secrets import assignments, detect, formats

    patterns = [f.regex for f in formats.TOKEN_FORMATS]
    patterns += [formats._AZURE_KEY, formats._PRIVATE_KEY, detect._SA_PRIVATE_KEY]
    for pattern in patterns:
        shortest = parser.parse(pattern.pattern, pattern.flags).getwidth()[0]
        assert shortest >= detect.SHORTEST_SECRET, pattern.pattern
    assert assignments.MIN_LENGTH >= detect.SHORTEST_SECRET
    assert find_secrets("x" * (detect.SHORTEST_SECRET - 1)) == []
    token = fake("HF")
    assert [m.rule for m in find_secrets(token)] == ["MW400"]

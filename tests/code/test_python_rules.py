"""Python rules: every annotated fixture fires exactly where it says, in both directions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from annotations import check_fixture, expectations

from mlwarden.api import scan
from mlwarden.engine import scan_file
from mlwarden.findings import Severity
from mlwarden.rules import all_rules, get_rule
from mlwarden.scanners.code.python import CodeIssue, check_source
from mlwarden.scanners.interface import Limits

FIXTURES = Path(__file__).parent / "fixtures" / "python"
PYTHON_FIXTURES = sorted(FIXTURES.glob("*.py"))


@pytest.mark.parametrize("fixture", PYTHON_FIXTURES, ids=lambda p: p.name)
def test_fixture_findings_match_annotations(fixture: Path) -> None:
    check_fixture(fixture)


def test_every_python_rule_has_an_annotated_fixture() -> None:
    annotated = set()
    for fixture in PYTHON_FIXTURES:
        annotated |= {rule for rule, _ in expectations(fixture.read_text(encoding="utf-8"))}
    declared = {r.id for r in all_rules() if "MW300" <= r.id <= "MW338"}
    assert declared <= annotated, f"rules without a fixture: {sorted(declared - annotated)}"


def rules_at(text: str) -> set[tuple[str, int]]:
    return {(i.rule, i.line) for i in check_source(text)}


def test_alias_forms_resolve_to_the_loader() -> None:
    text = """\
import torch as t
from pickle import load as l
import torch.serialization
from torch import load
loader = l
t.load("a")
l(f)
torch.serialization.load("b")
load("c")
loader(f)
getattr(t, "load")("d")
"""
    assert rules_at(text) == {
        ("MW304", 6),
        ("MW300", 7),
        ("MW304", 8),
        ("MW304", 9),
        ("MW300", 10),
        ("MW304", 11),
    }


def test_unbound_names_in_a_notebook_cell_still_resolve() -> None:
    # The import ran in an earlier cell: the conventional names are trusted.
    assert rules_at("obj = pickle.loads(b)\narr = np.load(p, allow_pickle=True)\n") == {
        ("MW300", 1),
        ("MW303", 2),
    }


def test_local_rebinding_hides_the_module() -> None:
    text = "from ruamel.yaml import YAML\nyaml = YAML()\nyaml.load(s)\n"
    assert rules_at(text) == set()


def test_severities_follow_the_evidence() -> None:
    issues = check_source(
        "import torch\ntorch.load(p)\ntorch.load(p, weights_only=False)\n"
        "import keras\nkeras.models.load_model(p, safe_mode=False)\n"
    )
    by_line = {i.line: i for i in issues}
    assert by_line[2].severity is Severity.MEDIUM
    assert by_line[3].severity is Severity.HIGH
    assert by_line[5].severity is Severity.CRITICAL
    assert by_line[2].evidence["call"] == "torch.load"
    assert by_line[2].evidence["argument"] == "p"


def test_issues_are_code_issues_with_stable_keys() -> None:
    text = "import pickle\n\ndef f(a, b):\n    pickle.loads(a)\n    pickle.loads(b)\n"
    issues = check_source(text)
    assert all(isinstance(i, CodeIssue) for i in issues)
    assert [i.key for i in issues] == ["f:pickle.loads", "f:pickle.loads#2"]
    shifted = check_source("\n\n# a comment above\n" + text)
    assert [i.key for i in shifted] == [i.key for i in issues]
    assert [i.line for i in shifted] == [i.line + 3 for i in issues]


def test_taint_evidence_names_the_source() -> None:
    text = """\
def handler(client, q):
    out = client.chat.completions.create(model="m", messages=q)
    code = out.choices[0].message.content
    exec(code)
"""
    (issue,) = check_source(text)
    assert issue.rule == "MW320" and issue.line == 4
    assert issue.evidence["source_kind"] == "model-output"
    assert issue.evidence["source_line"] == 2
    assert issue.evidence["sink"] == "exec"


def test_syntax_errors_give_one_info_issue_and_never_raise(tmp_path: Path) -> None:
    (issue,) = check_source("import pickle\nprint 'python 2'\n")
    assert issue.rule == "MW339" and issue.line == 2
    assert get_rule("MW339").severity is Severity.INFO
    assert check_source("import pickle\nprint 'x'\n", report_syntax_errors=False) == []
    assert check_source("import pickle\nx = '\0'\n") is not None  # null bytes
    target = tmp_path / "legacy.py"
    target.write_text("import pickle\nprint 'python 2'\n", encoding="utf-8")
    result = scan_file(str(target), target)
    assert [(f.rule, f.location.line) for f in result.findings] == [("MW339", 2)]
    assert not result.errors


def test_files_that_mention_no_trigger_are_not_parsed() -> None:
    # Not valid Python, but nothing any rule needs is named: no parse, no issue.
    assert check_source("def broken(:\n    return 1\n") == []


def test_inline_suppressions_are_reported_in_json(tmp_path: Path) -> None:
    target = tmp_path / "job.py"
    target.write_text(
        "import pickle\n"
        "data = pickle.loads(blob)  # mlwarden: ignore[MW300] -- blobs come from our cache\n"
        "more = pickle.loads(blob)\n",
        encoding="utf-8",
    )
    report = scan([str(target)])
    data = report.to_dict()
    assert [(f["rule"], f["location"]["line"]) for f in data["findings"]] == [("MW300", 3)]
    (hidden,) = data["suppressed"]
    assert hidden["rule"] == "MW300" and hidden["source"] == "inline"
    assert hidden["location"]["line"] == 2
    assert hidden["reason"] == "blobs come from our cache"


def test_scanning_never_runs_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "executed.marker"
    target = tmp_path / "payload.py"
    target.write_text(
        "import pathlib, pickle\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "pickle.loads(b'')\n"
        "if __name__ == '__main__':\n"
        f"    open({str(marker)!r}, 'w').write('ran')\n",
        encoding="utf-8",
    )
    result = scan_file(str(target), target)
    assert [(f.rule, f.location.line) for f in result.findings] == [("MW300", 3)]
    assert not marker.exists()


def test_sources_over_the_size_limit_fail_as_a_limit(tmp_path: Path) -> None:
    target = tmp_path / "big.py"
    target.write_text("import pickle\n" + "x = 1\n" * 200, encoding="utf-8")
    result = scan_file(str(target), target, Limits(max_metadata_bytes=100))
    assert [f.rule for f in result.findings] == ["MW001"]


def test_time_limit_is_checked_during_the_walk() -> None:
    calls = []

    def check() -> None:
        calls.append(time.monotonic())

    text = "import pickle\n" + "".join(f"x{i} = pickle.dumps([{i}, {i}])\n" for i in range(3000))
    check_source(text, check_time=check)
    assert calls


def test_findings_render_in_json_with_evidence(tmp_path: Path) -> None:
    target = tmp_path / "train.py"
    target.write_text(
        "from transformers import AutoModel\n"
        'm = AutoModel.from_pretrained("acme/m", revision="main")\n',
        encoding="utf-8",
    )
    data = json.loads(json.dumps(scan([str(target)]).to_dict()))
    (finding,) = data["findings"]
    assert finding["rule"] == "MW312" and finding["category"] == "code"
    assert finding["evidence"]["repo"] == "acme/m"
    assert finding["evidence"]["revision"] == "main"
    assert finding["location"] == {
        "path": str(target),
        "member": None,
        "line": 2,
        "column": 5,
        "cell": None,
    }

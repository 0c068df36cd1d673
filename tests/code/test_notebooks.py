"""Notebooks: findings at (cell, line) in sources, secrets in outputs, images never fire."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from annotations import check_fixture
from fake_credentials import fake, render

from mlwarden.engine import scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.code.notebooks import parse_notebook, split_cell
from mlwarden.scanners.code.notebooks.scanner import python_checker
from mlwarden.scanners.interface import Limits


def code(source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    lines = source.splitlines(keepends=True)
    return {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "source": lines,
        "outputs": outputs or [],
    }


def markdown(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def write(tmp_path: Path, *cells: dict[str, Any], name: str = "analysis.ipynb") -> Path:
    document = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}
    path = tmp_path / name
    path.write_text(render(json.dumps(document, indent=1)), encoding="utf-8")
    return path


def findings(path: Path, limits: Limits | None = None) -> list[Finding]:
    result = scan_file(str(path), path, limits)
    assert not result.errors
    return result.findings


def where(found: list[Finding]) -> set[tuple[str, int | None, int | None]]:
    return {(f.rule, f.location.cell, f.location.line) for f in found}


def image(planted: str = "") -> dict[str, Any]:
    # A plot as notebooks store it: base64 PNG bytes, here with token-shaped runs planted.
    payload = fake("IMAGE")[:2000] + planted + "+" + fake("IMAGE", 2)[:2000]
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": payload, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
    }


def test_annotated_notebook(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        markdown("# Fine-tuning\nThe token comes from the environment.\n"),
        code(
            "%pip install torch==2.5.1\n"
            "import os\n"
            "!curl -sSL https://example.org/install.sh | bash  # expect: MW341\n"
            "!echo {response} | sh  # expect: MW342\n"
            "!ls {output_dir}  # ok\n"
            "!wget -q https://example.org/data.tar.gz  # ok\n",
            [image("AIza" + fake("GOOGLE")[4:]), image(fake("AWS_ID"))],
        ),
        code(
            "%%bash\n"
            "wget https://example.org/setup.sh && bash setup.sh  # expect: MW341\n"
            "echo done  # ok\n"
        ),
        code(
            "%env HF_TOKEN=@@HF@@  # expect: MW343\n"
            "%set_env DB_PASSWORD @@RANDOM@@  # expect: MW343\n"
            "%env HF_HOME=/data/hf  # ok\n"
            "%env WANDB_API_KEY=$WANDB_KEY  # ok\n"
        ),
        code(
            'os.environ["HF_TOKEN"] = "@@HF#2@@"  # expect: MW400\n'
            'token = "@@HF#3@@"  # mlwarden: ignore[MW400] -- revoked fixture # suppressed: MW400\n'
            "!huggingface-cli login --token @@HF#4@@  # expect: MW400\n"
            'revision = "3f1c2a8e9b7d6c5a4f3e2d1c0b9a8f7e6d5c4b3a"  # ok\n'
        ),
        markdown("Paste nothing like this: @@GITHUB@@\n"),
    )
    found = findings(path)
    # The markdown cell has no annotations (a comment would render); check it apart.
    assert ("MW410", 5, 1) in where(found)
    check_fixture(path, [f for f in found if f.location.cell != 5])


def test_secrets_in_outputs_are_reported_at_the_cell(tmp_path: Path) -> None:
    traceback = [
        "\x1b[0;31mHTTPError\x1b[0m: 401 for url with token=\x1b[1m" + fake("GITHUB") + "\x1b[0m"
    ]
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["login with @@HF@@\n"]},
        {
            "output_type": "execute_result",
            "execution_count": 3,
            "metadata": {},
            "data": {"text/plain": ["'@@AWS_ID@@'"]},
        },
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {
                "text/html": ['<a href="@@SLACK_WEBHOOK@@">hook</a>'],
                "application/json": {"settings": {"api_secret": "@@RANDOM@@"}},
            },
        },
        {"output_type": "error", "ename": "HTTPError", "evalue": "401", "traceback": traceback},
        image("AIza" + fake("GOOGLE")[4:]),
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/html": [f'<img src="data:image/png;base64,{fake("IMAGE")}">']},
        },
    ]
    path = write(tmp_path, markdown("# Run"), code("print(login())\n", outputs))
    found = findings(path)
    got = {
        (
            f.rule,
            f.location.cell,
            f.location.line,
            f.evidence["secret_rule"],
            f.evidence["output_index"],
            f.evidence["mime"],
        )
        for f in found
    }
    assert got == {
        ("MW340", 1, None, "MW400", 0, "text/plain"),
        ("MW340", 1, None, "MW403", 1, "text/plain"),
        ("MW340", 1, None, "MW411", 2, "text/html"),
        ("MW340", 1, None, "MW414", 2, "application/json"),
        ("MW340", 1, None, "MW410", 3, "text/plain"),
    }
    assert all(f.evidence["output"] is True and f.severity is Severity.HIGH for f in found)
    assert fake("HF") not in json.dumps([f.to_dict() for f in found], ensure_ascii=False)


def test_ignore_comment_naming_the_rule_covers_the_cell_outputs(tmp_path: Path) -> None:
    outputs = [{"output_type": "stream", "name": "stdout", "text": "@@HF@@\n"}]
    path = write(
        tmp_path,
        code("# mlwarden: ignore[MW340] -- token revoked on 2026-01-05\nprint(t)\n", outputs),
        code("print(t)  # mlwarden: ignore -- a bare ignore does not reach outputs\n", outputs),
    )
    found = {f.location.cell: f for f in findings(path)}
    assert found[0].evidence["inline_suppression"]["reason"] == "token revoked on 2026-01-05"
    assert "inline_suppression" not in found[1].evidence


def test_split_cell_keeps_line_numbers() -> None:
    source = (
        "import torch\n"
        "%matplotlib inline\n"
        "for name in names:\n"
        "    !echo {name}\n"
        "    files = !ls data\n"
        "    %time train(name)\n"
        "torch.load?\n"
        "x = 1  # a comment\n"
    )
    views = split_cell(source)
    python = views.python.splitlines()
    assert len(python) == len(views.shell.split("\n")) == len(views.other.split("\n")) == 8
    assert python == [
        "import torch",
        "pass",
        "for name in names:",
        "    pass",
        "    pass",
        "    pass",
        "pass",
        "x = 1  # a comment",
    ]
    ast.parse(views.python)
    assert views.shell.splitlines()[3] == "     echo {name}"  # same columns as the cell
    assert views.interpolated == {4, 5}


@pytest.mark.parametrize(
    ("magic", "body_view"),
    [("%%bash", "shell"), ("%%script bash", "shell"), ("%%time", "python"), ("%%html", "other")],
)
def test_cell_magics(magic: str, body_view: str) -> None:
    views = split_cell(f"{magic}\nsome body line\n")
    assert getattr(views, body_view).splitlines()[1] == "some body line"


def test_python_rules_are_located_in_cells(tmp_path: Path) -> None:
    if python_checker() is None:
        pytest.skip("the Python rules are not available")
    path = write(
        tmp_path,
        markdown("# Load"),
        code("import torch\n"),
        code("%load_ext autoreload\n!nvidia-smi\nmodel = torch.load(path)\n"),
        code("%%time\nimport torch\nstate = torch.load(path, weights_only=True)\n"),
    )
    assert where(findings(path)) == {("MW304", 2, 3)}


def test_inline_suppression_of_a_python_rule_in_a_cell(tmp_path: Path) -> None:
    if python_checker() is None:
        pytest.skip("the Python rules are not available")
    path = write(
        tmp_path,
        code("import torch\nm = torch.load(p)  # mlwarden: ignore[MW304] -- our own checkpoint\n"),
    )
    (finding,) = findings(path)
    assert (finding.rule, finding.location.cell, finding.location.line) == ("MW304", 0, 2)
    assert finding.evidence["inline_suppression"]["reason"] == "our own checkpoint"


def test_malformed_notebook_is_a_low_finding(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "x = ', encoding="utf-8")
    (finding,) = findings(path)
    assert (finding.rule, finding.severity) == ("MW002", Severity.LOW)


def test_nbformat_3(tmp_path: Path) -> None:
    document = {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "markdown", "source": "# Old"},
                    {
                        "cell_type": "code",
                        "input": "x = 1\n!curl https://example.org/i.sh | sh\n",
                        "outputs": [{"output_type": "pyout", "text": "@@HF@@"}],
                    },
                ]
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(render(json.dumps(document)), encoding="utf-8")
    assert where(findings(path)) == {("MW341", 1, 2), ("MW340", 1, None)}


def test_notebook_over_the_limit_is_searched_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, code("x = 1\n" * 50), code('token = "@@HF@@"\n'))
    result = scan_file(str(path), path, Limits(max_metadata_bytes=path.stat().st_size - 10))
    assert [f.rule for f in result.findings] == ["MW400"]
    assert result.findings[0].location.cell is None
    assert any("notebook cells" in w for w in result.warnings)


def test_parse_notebook_keeps_cell_indexes_and_skips_images() -> None:
    raw = json.dumps(
        {
            "cells": [
                markdown("a"),
                code("b", [image(), {"output_type": "stream", "text": ["x\n", "y\n"]}]),
            ],
            "nbformat": 4,
        }
    )
    cells = parse_notebook(raw)
    assert [(c.index, c.cell_type) for c in cells] == [(0, "markdown"), (1, "code")]
    assert [(o.index, o.mime) for o in cells[1].outputs] == [(0, "text/plain"), (1, "text/plain")]
    assert cells[1].outputs[1].text == "x\ny\n"


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parent / "fixtures" / "notebooks").glob("*.ipynb")),
    ids=lambda p: p.name,
)
def test_committed_notebook_fixtures(path: Path) -> None:
    if python_checker() is None:
        pytest.skip("the Python rules are not available")
    check_fixture(path)

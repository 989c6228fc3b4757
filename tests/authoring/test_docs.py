"""docs/authoring.md shows real output: the parts that depend only on its files are re-run here."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import click.testing
import pytest

from cramprules.authoring.fmt import format_text
from cramprules.authoring.lint import CODES

ROOT = Path(__file__).parents[2]
DOCS = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
FILES = Path(__file__).parent / "data" / "docs"
Run = Callable[..., click.testing.Result]


def _block(command: str) -> list[str]:
    """The output shown under ``$ command`` in a console block of the page."""
    lines = DOCS.splitlines()
    start = lines.index(f"$ {command}") + 1
    out = []
    for line in lines[start:]:
        if line.startswith(("$ ", "```")):
            break
        out.append(line)
    return out


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Work in a fresh directory holding the page's sports_clinic.cramp, at a given stage."""
    monkeypatch.chdir(tmp_path)

    def stage(name: str) -> None:
        shutil.copy(FILES / name, tmp_path / "sports_clinic.cramp")

    return stage


def test_the_draft_is_shown_as_it_is() -> None:
    assert (FILES / "sports_clinic_draft.cramp").read_text() in DOCS.replace("```cramp\n", "")


def test_check_finds_the_typo(run_cli: Run, here: Callable[[str], None]) -> None:
    here("sports_clinic_draft.cramp")
    result = run_cli("check", "sports_clinic.cramp")
    assert result.exit_code == 3
    assert result.output.splitlines() == _block("cramprules check sports_clinic.cramp")


def test_strict_check_finds_the_warnings(run_cli: Run, here: Callable[[str], None]) -> None:
    here("sports_clinic_typo_fixed.cramp")
    result = run_cli("check", "--strict", "sports_clinic.cramp")
    assert result.exit_code == 1
    findings = result.output.split("invariants of")[0].splitlines()
    assert findings == _block("cramprules check --strict sports_clinic.cramp")[: len(findings)]
    assert "sports_clinic.cramp: fails (3 warnings)" in result.output


def test_fmt_diff_and_the_formatted_file(run_cli: Run, here: Callable[[str], None]) -> None:
    here("sports_clinic_fixed.cramp")
    result = run_cli("fmt", "--diff", "sports_clinic.cramp")
    assert result.exit_code == 1
    assert result.output.splitlines() == _block("cramprules fmt --diff sports_clinic.cramp")
    formatted = format_text((FILES / "sports_clinic_fixed.cramp").read_text())
    final = (FILES / "sports_clinic.cramp").read_text()
    assert final.startswith(formatted)
    assert format_text(final) == final


def test_the_examples_cover_every_rule(run_cli: Run, here: Callable[[str], None]) -> None:
    here("sports_clinic.cramp")
    result = run_cli("test", "--min-coverage", "100", "sports_clinic.cramp")
    assert result.exit_code == 0
    assert result.output.splitlines() == _block("cramprules test --min-coverage 100 sports_clinic.cramp")
    assert run_cli("check", "--strict", "sports_clinic.cramp").exit_code == 0


def test_every_finding_code_is_in_the_table() -> None:
    table = set(re.findall(r"^\| `([a-z-]+)`", DOCS, re.MULTILINE))
    listed = table | set(re.findall(r"`(inferred-[a-z]+)`", DOCS))
    assert set(CODES) <= listed


def test_coverage_shows_the_rule_no_example_fires(run_cli: Run, here: Callable[[str], None]) -> None:
    here("sports_clinic_fixed.cramp")
    assert run_cli("fmt", "sports_clinic.cramp").exit_code == 0
    result = run_cli("test", "-v", "sports_clinic.cramp")
    assert result.exit_code == 0
    assert result.output.splitlines() == _block("cramprules test -v sports_clinic.cramp")

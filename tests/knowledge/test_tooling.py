"""The authoring tools accept the bundled ruleset as it is."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

import cramprules
from cramprules.cli import App, cli


def run(*args: str) -> Result:
    app = App(engine=cramprules.Engine(autoload=False))
    return CliRunner().invoke(cli, list(args), obj=app)


def test_check_strict_reports_nothing_and_proves_every_invariant() -> None:
    result = run("check", "--strict", "--format", "json", "leg_cramps")
    assert result.exit_code == 0, result.output
    (ruleset,) = json.loads(result.output)["rulesets"]
    assert ruleset["findings"] == []
    assert {i["status"] for i in ruleset["invariants"]} == {"holds"}
    assert len(ruleset["invariants"]) == 12


def test_the_examples_pass_with_full_rule_coverage() -> None:
    result = run("test", "--min-coverage", "100", "--format", "json", "leg_cramps")
    assert result.exit_code == 0, result.output
    (ruleset,) = json.loads(result.output)["rulesets"]
    assert (ruleset["passed"], ruleset["failed"]) == (51, 0)
    coverage = ruleset["coverage"]
    assert [coverage[k]["percent"] for k in ("rules", "unless", "conditions")] == [100.0, 100.0, 100.0]


def test_the_bundled_files_are_formatted() -> None:
    from cramprules._resources import data_dir

    files = [str(p) for p in sorted(data_dir("rulesets").rglob("*.cramp"))]
    result = run("fmt", "--check", *files)
    assert result.exit_code == 0, result.output

"""Examples beside the rules: what each ``expect`` means, failures, coverage, and ``cramprules test``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click.testing
import pytest

import cramprules
from cramprules.authoring.examples import run_examples
from cramprules.authoring.targets import find_rulesets

DATA = Path(__file__).parent / "data"
CLINIC = DATA / "clinic.cramp"
FAILING = DATA / "failing.cramp"
Load = Callable[..., cramprules.Ruleset]
Run = Callable[..., click.testing.Result]

RULES = """
source berg "Dr. Eric Berg"
fact pain: number 0..10
rule red_flags: if pain >= 8 then refer doctor urgent because "x" cite berg
rule gp: if pain between 5 and 7 then refer gp because "y" cite berg
rule citrate: if constipation and long_term then prefer citrate over glycinate unless bedtime cite berg
rule night: if night_cramps then suspect low_magnesium and recommend stretching cite berg
rule sleepy: if bedtime then avoid citrate cite berg overrides citrate
"""


def _verdicts(load: Load, example: str) -> list[bool]:
    rs = load(RULES + example)
    results, _ = run_examples(rs)
    return [r.passed for r in results]


@pytest.mark.parametrize(
    ("given", "expect", "passes"),
    [
        ("pain = 9", "expect refer doctor urgent", True),
        ("pain = 9", "expect refer doctor", True),
        ("pain = 6", "expect refer gp", True),
        ("pain = 6", "expect refer gp urgent", False),
        ("pain = 6", "expect not refer doctor", True),
        ("constipation, long_term", "expect prefer citrate", True),
        ("constipation, long_term", "expect conditional prefer citrate", True),
        ("constipation, long_term", "expect prefer citrate over glycinate", True),
        ("constipation, long_term, not bedtime", "expect conditional prefer citrate", False),
        ("constipation, long_term, not bedtime", "expect not conditional prefer citrate", True),
        ("constipation, long_term, bedtime", "expect not prefer citrate", True),
        ("constipation, long_term, bedtime", "expect avoid citrate", True),
        ("constipation, long_term, bedtime is unknown", "expect prefer citrate", True),
        ("night_cramps", "expect suspect low_magnesium", True),
        ("not night_cramps", "expect suspect low_magnesium", False),
        ("night_cramps", "expect recommend stretching", True),
        ("constipation, long_term", "expect question bedtime", True),
        ("constipation, long_term, not bedtime", "expect question bedtime", False),
        ("constipation, long_term, not bedtime", "expect not question bedtime", True),
    ],
)
def test_each_expectation_reads_the_report(load: Load, given: str, expect: str, passes: bool) -> None:
    assert _verdicts(load, f'example "e":\n    given {given}\n    {expect}\n') == [passes]


def test_every_expectation_of_an_example_must_hold(load: Load) -> None:
    text = 'example "e": given pain = 9; expect refer doctor urgent; expect recommend stretching\n'
    assert _verdicts(load, text) == [False]


def test_a_fact_the_ruleset_rejects_fails_the_example_with_the_reason(load: Load) -> None:
    rs = load(RULES + 'example "e": given pain = 12; expect refer doctor urgent\n')
    (result,), _ = run_examples(rs)
    assert not result.passed
    assert result.error is not None
    assert "pain" in result.error
    assert "error:" in result.describe()


def test_a_failure_shows_expected_actual_and_the_trace(load: Load) -> None:
    rs = load(
        RULES
        + 'example "at bedtime":\n    given constipation, long_term, bedtime\n    expect prefer citrate\n'
    )
    (result,), _ = run_examples(rs)
    assert result.describe() == (
        'example "at bedtime" (<string>:9)\n'
        "  given constipation = yes, long_term = yes, bedtime = yes\n"
        "  expect prefer citrate (line 11)\n"
        "    expected: 'prefer citrate' (fired or conditional)\n"
        "    actual:   avoid citrate (fired)\n"
        "    - rule 'citrate' (<string>:6): defeated: unless bedtime is yes\n"
        "    - rule 'sleepy' (<string>:8): fired: if bedtime is yes"
    )


# ---------------------------------------------------------------- coverage


def test_coverage_of_the_sample_ruleset(engine: cramprules.Engine) -> None:
    rs = engine.load_ruleset(CLINIC)
    results, coverage = run_examples(rs)
    assert all(r.passed for r in results)
    assert (coverage.rules_fired, len(coverage.rules)) == (6, 7)
    assert round(coverage.rule_percent, 1) == 85.7
    assert [r.rule for r in coverage.rules if not r.fired] == ["heat_for_pain"]
    assert (coverage.unless_defeated, coverage.unless_total) == (1, 2)
    assert [r.rule for r in coverage.rules if r.has_unless and not r.defeated] == ["stretch_at_night"]
    covered = [c.text for c in coverage.conditions if c.covered]
    assert covered == ["pain >= 8"]
    assert len(coverage.conditions) == 11


def test_a_condition_is_covered_once_seen_true_and_false(load: Load) -> None:
    rs = load('if a and b then recommend x\nexample "1": given a, b; expect recommend x\n')
    _, before = run_examples(rs)
    assert [c.covered for c in before.conditions] == [False, False]
    rs = load(
        "if a and b then recommend x\n"
        'example "1": given a, b; expect recommend x\n'
        'example "2": given not a, b; expect not recommend x\n'
    )
    _, after = run_examples(rs)
    assert [(c.text, c.covered) for c in after.conditions] == [("a", True), ("b", False)]


# ---------------------------------------------------------------- the command


def test_passing_examples_exit_0_with_coverage(run_cli: Run) -> None:
    result = run_cli("test", str(CLINIC))
    assert result.exit_code == 0, result.output
    assert f"{CLINIC}: 5 examples, 5 passed, 0 failed" in result.output
    assert (
        "coverage of clinic: rules 6/7 (85.7%), unless 1/2 (50.0%), conditions 1/11 (9.1%)" in result.output
    )
    assert f"    {CLINIC}:65  heat_for_pain" in result.output
    assert result.output.rstrip().endswith("5 passed, 0 failed")


def test_failing_examples_exit_1_and_say_why(run_cli: Run) -> None:
    result = run_cli("test", str(FAILING))
    assert result.exit_code == 1
    assert 'FAILED example "citrate at bedtime (wrong on purpose)"' in result.output
    assert "    expected: no 'prefer glycinate' (fired or conditional)" in result.output
    assert "    actual:   prefer glycinate over citrate (fired)" in result.output
    assert result.output.rstrip().endswith("1 passed, 2 failed")


def test_min_coverage_fails_below_it(run_cli: Run) -> None:
    assert run_cli("test", str(CLINIC), "--min-coverage", "85").exit_code == 0
    below = run_cli("test", str(CLINIC), "--min-coverage", "90")
    assert below.exit_code == 1
    assert "rule coverage 85.7% is below --min-coverage 90%" in below.output


def test_json_output(run_cli: Run) -> None:
    result = run_cli("test", "--format", "json", str(FAILING))
    document = json.loads(result.output)
    assert document["exit_code"] == 1
    (run,) = document["rulesets"]
    assert (run["passed"], run["failed"]) == (1, 2)
    failed = [e for e in run["examples"] if not e["passed"]]
    assert failed[0]["failures"][0]["expectation"] == "expect prefer citrate"
    assert failed[0]["failures"][0]["trace"][0]["outcome"] == "defeated"
    assert run["coverage"]["rules"] == {
        "covered": 2,
        "total": 3,
        "percent": 66.7,
        "missed": [{"rule": "citrate_for_constipation", "origin": str(FAILING), "line": 18}],
    }


def test_a_ruleset_that_does_not_load_exits_3(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "broken.cramp"
    path.write_text("if a and then recommend x\n")
    result = run_cli("test", str(path))
    assert result.exit_code == 3
    assert "does not load" in result.output


def test_the_bundled_ruleset_is_tested_by_default(run_cli: Run) -> None:
    document = json.loads(run_cli("test", "--format", "json").output)
    assert document["rulesets"][0]["ruleset"] == "leg_cramps"


# ---------------------------------------------------------------- files and test files


def test_a_directory_yields_rulesets_but_not_the_files_they_include(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "main.cramp").write_text('include "parts/rules.cramp"\n')
    (tmp_path / "parts" / "rules.cramp").write_text("if a then recommend x\n")
    (tmp_path / "other.cramp").write_text("if b then recommend y\n")
    assert find_rulesets([tmp_path]) == [tmp_path / "main.cramp", tmp_path / "other.cramp"]


def test_examples_in_included_files_run_with_their_ruleset(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "main.cramp").write_text('include "parts/rules.cramp"\n')
    (tmp_path / "parts" / "rules.cramp").write_text(
        'if a then recommend x\nexample "a gives x": given a; expect recommend x\n'
    )
    result = run_cli("test", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "main.cramp: 1 examples, 1 passed, 0 failed" in result.output


class Base:
    @cramprules.hookimpl
    def cramprules_rulesets(self) -> dict[str, str]:
        return {
            "base": 'ruleset base "Base"\nif a then recommend x\nif b then recommend y\n'
            'example "base example": given a; expect recommend x\n'
        }


def test_a_test_file_extends_the_ruleset_it_tests(tmp_path: Path) -> None:
    from cramprules.cli import App, cli

    engine = cramprules.Engine(plugins=[Base()], autoload=False)
    tests = tmp_path / "base_tests.cramp"
    tests.write_text('extends base\nexample "b gives y": given b; expect recommend y\n')
    result = click.testing.CliRunner().invoke(cli, ["test", "-v", str(tests)], obj=App(engine=engine))
    assert result.exit_code == 0, result.output
    assert "1 examples, 1 passed" in result.output  # the base's own example is not run
    assert 'passed "b gives y"' in result.output
    assert "rules 1/2 (50.0%)" in result.output  # coverage of the base's rules

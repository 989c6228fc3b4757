"""``cramprules check``: exit codes, the three formats, and SARIF that validates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click.testing
import jsonschema
import pytest

DATA = Path(__file__).parent / "data"

Run = Callable[..., click.testing.Result]

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

CLEAN = """\
ruleset tidy "Tidy"
source berg "Dr. Eric Berg"
fact constipation: bool "Are you constipated?"
option citrate "Magnesium citrate"
rule citrate_for_constipation:
    if constipation
    then prefer citrate
    because "Citrate eases constipation."
    cite berg
invariant "constipation gets citrate": if constipation then prefer citrate
"""

WARNED = "if constipation and long_term then prefer citrate unless bedtime\n"

BROKEN = "fact constipation: bool\nif constipaton then prefer citrate\n"

FAILING = CLEAN.replace(
    'invariant "constipation gets citrate": if constipation then prefer citrate',
    'invariant "never citrate": not prefer citrate',
)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], str]:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def test_a_clean_ruleset_exits_0_and_says_what_it_proved(run_cli: Run, write: Callable[..., str]) -> None:
    result = run_cli("check", write("tidy.cramp", CLEAN))
    assert result.exit_code == 0, result.output
    assert 'proved   "constipation gets citrate"' in result.output
    assert result.output.rstrip().endswith("tidy.cramp: ok; 1 of 1 invariants proved")


def test_warnings_exit_0_unless_strict(run_cli: Run, write: Callable[..., str]) -> None:
    path = write("headline.cramp", WARNED)
    relaxed = run_cli("check", path)
    assert relaxed.exit_code == 0
    assert "warning: rule 'rule@1' says 'prefer citrate' but cites no source" in relaxed.output
    assert "inferred" not in relaxed.output
    assert "is not declared" not in relaxed.output
    strict = run_cli("check", "--strict", path)
    assert strict.exit_code == 1
    assert "warning: 'constipation' is not declared; it is taken to be a yes/no fact" in strict.output


def test_a_failing_invariant_exits_1_with_its_counterexample(run_cli: Run, write: Callable[..., str]) -> None:
    result = run_cli("check", write("failing.cramp", FAILING))
    assert result.exit_code == 1
    assert 'error: invariant "never citrate" does not hold' in result.output
    assert "counterexample: constipation = yes (all other facts unknown)" in result.output
    assert "- rule 'citrate_for_constipation' (" in result.output
    assert ":5): fired: if constipation is yes" in result.output


def test_a_ruleset_that_does_not_load_exits_3(run_cli: Run, write: Callable[..., str]) -> None:
    path = write("broken.cramp", BROKEN)
    result = run_cli("check", path)
    assert result.exit_code == 3
    assert f"{path}:2:4: error: 'constipaton' is not declared" in result.output
    assert "did you mean 'constipation'?" in result.output
    assert "broken.cramp: does not load (1 error)" in result.output


def test_several_rulesets_are_checked_together(run_cli: Run, write: Callable[..., str]) -> None:
    result = run_cli("check", write("tidy.cramp", CLEAN), write("broken.cramp", BROKEN))
    assert result.exit_code == 3
    assert "tidy.cramp: ok" in result.output
    assert "broken.cramp: does not load" in result.output


def test_json_is_machine_readable(run_cli: Run, write: Callable[..., str]) -> None:
    result = run_cli("check", "--format", "json", write("failing.cramp", FAILING))
    document = json.loads(result.output)
    assert document["exit_code"] == result.exit_code == 1
    (ruleset,) = document["rulesets"]
    assert ruleset["loaded"] is True
    (verdict,) = ruleset["invariants"]
    assert verdict["status"] == "fails"
    assert verdict["counterexample"]["facts"] == {"constipation": True}
    codes = [f["code"] for f in ruleset["findings"]]
    assert codes == ["invariant-failed"]
    assert document["summary"] == {"errors": 1, "warnings": 0, "notes": 0}


def test_the_review_age_is_configurable(run_cli: Run, write: Callable[..., str]) -> None:
    path = write("old.cramp", CLEAN.replace("    cite berg\n", "    cite berg\n    reviewed 2025-01-01\n"))
    assert "stale-review" not in run_cli("check", "-f", "json", "--today", "2026-01-01", path).output
    aged = run_cli("check", "-f", "json", "--today", "2026-01-01", "--max-review-age", "100", path)
    assert "stale-review" in aged.output


def test_without_a_ruleset_the_bundled_one_is_checked(run_cli: Run) -> None:
    result = run_cli("check", "--format", "json")
    document = json.loads(result.output)
    assert document["rulesets"][0]["ruleset"] == "leg_cramps"
    assert document["rulesets"][0]["loaded"] is True


def test_the_report_can_go_to_a_file(run_cli: Run, write: Callable[..., str], tmp_path: Path) -> None:
    out = tmp_path / "check.sarif"
    result = run_cli("check", "-f", "sarif", "-o", str(out), write("headline.cramp", WARNED))
    assert result.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"


# ---------------------------------------------------------------- SARIF


def _sarif(run_cli: Run, *paths: str, strict: bool = False) -> dict[str, object]:
    args = ["check", "--format", "sarif", *(["--strict"] if strict else []), *paths]
    return json.loads(run_cli(*args).output)  # type: ignore[no-any-return]


def test_sarif_validates_against_the_official_schema(run_cli: Run, write: Callable[..., str]) -> None:
    log = _sarif(
        run_cli,
        write("headline.cramp", WARNED),
        write("broken.cramp", BROKEN),
        write("failing.cramp", FAILING),
        strict=True,
    )
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    results = log["runs"][0]["results"]  # type: ignore[index]
    assert {r["level"] for r in results} == {"error", "warning"}


def test_sarif_results_point_at_their_rule_and_place(run_cli: Run, write: Callable[..., str]) -> None:
    path = write("broken.cramp", BROKEN)
    log = _sarif(run_cli, path)
    run = log["runs"][0]  # type: ignore[index]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cramprules"
    (result,) = run["results"]
    assert result["ruleId"] == "typo-name"
    assert driver["rules"][result["ruleIndex"]]["id"] == "typo-name"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == Path(path).as_uri()
    assert location["region"] == {"startLine": 2, "startColumn": 4, "endColumn": 15}
    assert "did you mean 'constipation'?" in result["message"]["text"]


def test_sarif_maps_notes_and_describes_each_rule_once(run_cli: Run, write: Callable[..., str]) -> None:
    log = _sarif(run_cli, write("a.cramp", WARNED), write("b.cramp", WARNED))
    run = log["runs"][0]  # type: ignore[index]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids))
    assert all(rule["shortDescription"]["text"] for rule in run["tool"]["driver"]["rules"])
    assert len(run["results"]) == 2 * len([r for r in run["results"] if "a.cramp" in str(r)])


def test_an_invalid_log_fails_the_schema() -> None:
    # The validation above means something: the schema rejects a wrong level.
    bad = {
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(bad)

"""Explanations for applications: ``cramprules.explain`` without the command line."""

from __future__ import annotations

import doctest

import attrs
import pytest

import cramprules
from cramprules import explain as explain_module
from cramprules.explain import UnknownName, explain, why_not
from cramprules.states import State

RULES = """
option citrate "Magnesium citrate"
option glycinate "Magnesium glycinate"

rule glycinate_long_term:
    if long_term
    then prefer glycinate over citrate

rule citrate_for_constipation:
    if constipation and long_term
    then prefer citrate over glycinate
    unless bedtime

rule red_flag:
    if pain >= 8
    then refer doctor urgent
"""


@pytest.fixture(scope="module")
def ruleset() -> cramprules.Ruleset:
    return cramprules.parse_ruleset(RULES, origin="mini.cramp")


def test_the_module_examples_run() -> None:
    failures, tried = doctest.testmod(explain_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


def test_an_explanation_is_made_of_frozen_values(ruleset):
    how = explain(ruleset.evaluate(constipation=True, long_term=True))
    [outcome] = how.outcomes
    assert outcome.outcome == "prefer citrate over glycinate"
    assert outcome.rule.unless is not None
    assert outcome.rule.unless.value == "unknown"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        outcome.status = "fired"  # type: ignore[misc]


def test_the_winner_of_a_conflict_names_what_it_beat(ruleset):
    how = explain(ruleset.evaluate(constipation=True, long_term=True))
    assert [(b.rule, b.claim) for b in how.outcomes[0].beat] == [
        ("glycinate_long_term", "prefer glycinate over citrate")
    ]
    [conflict] = how.conflicts
    assert (conflict.winner, conflict.winner_target) == ("citrate_for_constipation", "citrate")


def test_pending_rules_say_what_would_make_them_stand(ruleset):
    how = explain(ruleset.evaluate(long_term=True))
    pending = {p.rule.name: p for p in how.pending}
    flips = pending["red_flag"].what_would_change["refer doctor urgent"]
    assert [str(f) for f in flips] == [
        "pain: unknown -> 8  =>  refer doctor urgent",
        "pain: unknown -> 9  =>  refer doctor urgent",
    ]


def test_why_not_names_the_first_condition_that_failed(ruleset):
    answer = why_not(ruleset.evaluate(constipation=False, long_term=True), "citrate_for_constipation")
    [rule] = answer.rules
    assert rule.verdict == "a condition failed"
    assert rule.first_blocker is not None
    assert rule.first_blocker.summary == "constipation is no"


def test_why_not_an_unknown_name_suggests_the_nearest(ruleset):
    with pytest.raises(UnknownName, match="did you mean 'citrate'"):
        why_not(ruleset.evaluate(), "citrat")


def test_to_dict_is_what_the_command_line_prints(ruleset, tmp_path):
    from click.testing import CliRunner

    from cramprules.cli import cli

    path = tmp_path / "mini.cramp"
    path.write_text(RULES, encoding="utf-8")
    result = CliRunner().invoke(cli, ["explain", str(path), "constipation", "long_term", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    report = cramprules.load_ruleset(path).evaluate(constipation=True, long_term=True)
    assert json.loads(result.output) == explain(report).to_dict()


def test_states_carry_their_trace_word():
    assert [s.outcome for s in State] == [
        "fired",
        "fired",
        "pending",
        "not_matched",
        "defeated",
        "overridden",
    ]
    assert State.CONDITIONAL < State.NOT_MATCHED

"""The `example` blocks written beside the rules pass, and cover every rule.

`cramprules test` will run them; until it lands, this test runs each example
through the public API, with strict meanings:

* ``expect ACTION``: the report gives the outcome, unconditionally;
* ``expect conditional ACTION``: it gives it, conditionally;
* ``expect not ACTION``: it does not give it at all (``not conditional``: not
  conditionally);
* ``expect [not] question FACT``: FACT is (not) among the questions.

Coverage: every rule fires in some example, and every rule with an
``unless`` is both defeated and left conditional by some example.
"""

from __future__ import annotations

from typing import Any

import pytest

import cramprules
from cramprules import nodes


def _examples() -> list[nodes.Example]:
    return list(cramprules.Engine(autoload=False).default_ruleset().program.examples)


def _facts(example: nodes.Example) -> dict[str, Any]:
    return {given.fact: given.value for given in example.given}


def _statuses(report: cramprules.Report, action: nodes.Action) -> set[str]:
    if action.kind == "refer":
        return {r.status for r in report.referrals if r.to == action.target and r.urgent == action.urgent}
    if action.kind == "suspect":
        return {c.status for c in report.causes if c.name == action.target}
    return {r.status for r in report.recommendations if r.action == action.kind and r.option == action.target}


def failures(report: cramprules.Report, example: nodes.Example) -> list[str]:
    questions = {q.fact for q in report.questions}
    failed = []
    for expectation in example.expectations:
        if expectation.question is not None:
            ok = (expectation.question in questions) != expectation.negated
            what = f"question {expectation.question}"
        else:
            assert expectation.action is not None
            statuses = _statuses(report, expectation.action)
            wanted = "conditional" if expectation.conditional else "fired"
            if expectation.negated:
                ok = wanted not in statuses if expectation.conditional else not statuses
            else:
                ok = wanted in statuses
            what = f"{'conditional ' if expectation.conditional else ''}{expectation.action}"
        if not ok:
            failed.append(f"expect {'not ' if expectation.negated else ''}{what}")
    return failed


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e.label)
def test_each_example_in_the_ruleset_passes(rs: cramprules.Ruleset, example: nodes.Example) -> None:
    report = rs.evaluate(_facts(example))
    assert failures(report, example) == []


def test_a_wrong_expectation_is_caught(rs: cramprules.Ruleset) -> None:
    """The runner above is not vacuous: it fails an example that is wrong."""
    wrong = nodes.Example(
        "wrong on purpose",
        (nodes.Given("constipation", True), nodes.Given("long_term", True)),
        (
            nodes.Expectation(False, nodes.Action("prefer", "citrate")),  # it is conditional
            nodes.Expectation(True, question="bedtime"),  # it is asked
            nodes.Expectation(False, nodes.Action("refer", "doctor", urgent=True)),
        ),
    )
    assert failures(rs.evaluate(_facts(wrong)), wrong) == [
        "expect prefer citrate",
        "expect not question bedtime",
        "expect refer doctor urgent",
    ]


def test_there_are_examples_for_every_file_of_the_ruleset(rs: cramprules.Ruleset) -> None:
    origins = {e.span.origin.rsplit("/", 1)[-1] for e in rs.program.examples if e.span is not None}
    files = {o.rsplit("/", 1)[-1] for o, _ in rs.program.texts if "/leg_cramps/" in o.replace("\\", "/")}
    assert files
    assert files <= origins


def test_the_examples_fire_every_rule(rs: cramprules.Ruleset) -> None:
    fired: set[str] = set()
    for example in rs.program.examples:
        report = rs.evaluate(_facts(example))
        fired |= {t.rule for t in report.trace if t.outcome in ("fired", "overridden") and not t.conditional}
    assert {r.name for r in rs.rules} - fired == set()


def test_the_examples_defeat_every_unless_and_leave_it_open_once(rs: cramprules.Ruleset) -> None:
    with_unless = {r.name for r in rs.rules if r.unless is not None}
    assert with_unless == {"citrate_for_constipation"}
    defeated: set[str] = set()
    conditional: set[str] = set()
    for example in rs.program.examples:
        for entry in rs.evaluate(_facts(example)).trace:
            if entry.outcome == "defeated":
                defeated.add(entry.rule)
            if entry.conditional:
                conditional.add(entry.rule)
    assert with_unless <= defeated
    assert with_unless <= conditional

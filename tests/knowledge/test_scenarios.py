"""The clinical scenarios of ``scenarios.py``, each checked against the report.

Per scenario: its tier, the outcomes it must and must not give (fired,
conditional with the facts its caveat names), its questions, its referral
order and its wording.  For every scenario: no contradiction, every avoid
shown with its reason, no plain referral worded as urgent, referrals before
any other advice, no explanation printed twice, and "fired means sure"
(a fired outcome survives any answers to the open questions).
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import cramprules

_spec = importlib.util.spec_from_file_location(
    "leg_cramps_scenarios", Path(__file__).with_name("scenarios.py")
)
assert _spec is not None
assert _spec.loader is not None
scenarios = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("leg_cramps_scenarios", scenarios)
_spec.loader.exec_module(scenarios)

SCENARIOS = scenarios.SCENARIOS
Scenario = scenarios.Scenario
FACT_WORDS: Mapping[str, tuple[str, ...]] = scenarios.FACT_WORDS
REFERRAL_FACTS: frozenset[str] = scenarios.REFERRAL_FACTS
POSITIVE = ("recommend", "prefer")


def _ids(scenario: Any) -> str:
    return str(scenario.name)


# ---------------------------------------------------------------- reading a report


def outcomes(report: cramprules.Report) -> dict[str, Any]:
    """Every outcome of the report, keyed as the DSL spells it."""
    out: dict[str, Any] = {}
    for referral in report.referrals:
        key = f"refer {referral.to}" + (" urgent" if referral.urgent else "")
        out.setdefault(key, referral)
    for cause in report.causes:
        out.setdefault(f"suspect {cause.name}", cause)
    for rec in report.recommendations:
        out.setdefault(f"{rec.action} {rec.option}", rec)
    return out


def names_fact(caveat: str, fact: str, prompt: str) -> bool:
    """Whether a caveat names a fact: by name, in words, or by its question.

    Quoted parts (a rule's name, an action) do not count: a caveat must name
    the fact itself, not a rule that happens to be named after it."""
    text = re.sub(r"'[^']*'", "", caveat).lower()
    words = (fact, fact.replace("_", " "), *FACT_WORDS.get(fact, ()), prompt)
    return any(w.lower() in text for w in words)


def section(text: str, title: str) -> list[str]:
    """The lines of a text report's section, without its heading."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line == title and i + 1 < len(lines) and set(lines[i + 1]) == {"-"}:
            end = lines.index("", i)
            return lines[i + 2 : end]
    return []


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def completions(
    rs: cramprules.Ruleset, facts: Mapping[str, Any], count: int, seed: int
) -> Iterator[dict[str, Any]]:
    """Random answers to every open question (the given facts kept)."""
    rng = random.Random(seed)
    open_facts = [name for name in rs.facts if name not in facts]
    for _ in range(count):
        filled = dict(facts)
        for name in open_facts:
            filled[name] = rng.choice((0, 5, 8, 10)) if name == "pain" else rng.choice((True, False))
        yield filled


@pytest.fixture(scope="module")
def render(bundled_engine: cramprules.Engine) -> Any:
    def text(report: cramprules.Report, fmt: str = "text") -> str:
        return bundled_engine.render(report, fmt)

    return text


# ---------------------------------------------------------------- the suite itself


def test_a_caveat_that_only_names_a_rule_does_not_name_its_fact() -> None:
    prompt = "Do you have kidney disease?"
    assert names_fact("unless you have kidney disease", "kidney_disease", prompt)
    assert names_fact("depends on your answer to: Do you have kidney disease?", "kidney_disease", prompt)
    assert not names_fact(
        "unless 'avoid citrate' of rule 'kidney_disease_no_citrate' applies", "kidney_disease", prompt
    )


def test_there_are_at_least_thirty_scenarios_with_distinct_names() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


def test_the_scenarios_cover_every_tier_and_every_expected_case() -> None:
    assert {s.tier for s in SCENARIOS} == {"emergency", "urgent", "doctor", "none"}
    assert len([s for s in SCENARIOS if s.name.startswith("kb-")]) == 12
    partial = [s for s in SCENARIOS if s.conditional]
    assert len(partial) >= 6


def test_the_scenarios_cover_every_caution_and_every_avoid(rs: cramprules.Ruleset) -> None:
    said: set[str] = set()
    for s in SCENARIOS:
        said |= set(s.fired) | set(s.must) | set(s.conditional)
    avoids = {f"avoid {a.target}" for r in rs.rules for a in r.actions if a.kind == "avoid"}
    referrals = {
        f"refer {a.target}" + (" urgent" if a.urgent else "")
        for r in rs.rules
        for a in r.actions
        if a.kind == "refer"
    }
    assert avoids <= said
    assert referrals <= said


def test_the_scenario_facts_are_the_rulesets(rs: cramprules.Ruleset) -> None:
    for s in SCENARIOS:
        assert set(s.facts) <= set(rs.facts), s.name
        for fact in (*s.asked_first, *s.asked, *s.not_asked, *(f for v in s.conditional.values() for f in v)):
            assert fact in rs.facts, (s.name, fact)


# ---------------------------------------------------------------- per scenario: what it says


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_the_report_reaches_the_scenarios_tier(rs: cramprules.Ruleset, scenario: Any) -> None:
    referrals = rs.evaluate(scenario.facts).referrals
    tiers = [("emergency" if r.to == "emergency" else "urgent") if r.urgent else "doctor" for r in referrals]
    expected = scenario.tier
    if expected == "none":
        assert tiers == []
    else:
        assert tiers, "no referral"
        assert tiers[0] == expected
        assert "emergency" not in tiers or expected == "emergency"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_the_report_says_what_it_must_and_nothing_it_must_not(rs: cramprules.Ruleset, scenario: Any) -> None:
    report = rs.evaluate(scenario.facts)
    found = outcomes(report)
    for key in (*scenario.must, *scenario.fired, *scenario.conditional):
        assert key in found, f"missing: {key}"
    for key in scenario.must_not:
        assert key not in found, f"should not say: {key}"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.fired], ids=_ids)
def test_settled_advice_is_fired(rs: cramprules.Ruleset, scenario: Any) -> None:
    found = outcomes(rs.evaluate(scenario.facts))
    for key in scenario.fired:
        assert found[key].status == "fired", f"{key}: {found[key].status} ({found[key].caveat})"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.conditional], ids=_ids)
def test_open_advice_is_conditional_and_names_what_could_still_defeat_it(
    rs: cramprules.Ruleset, scenario: Any
) -> None:
    found = outcomes(rs.evaluate(scenario.facts))
    for key, facts in scenario.conditional.items():
        outcome = found[key]
        assert outcome.status == "conditional", key
        assert outcome.caveat, key
        for fact in facts:
            assert names_fact(outcome.caveat, fact, rs.facts[fact].question or ""), (
                f"{key}: caveat {outcome.caveat!r} does not name {fact}"
            )


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if s.asked_first or s.asked or s.not_asked], ids=_ids
)
def test_the_questions(rs: cramprules.Ruleset, scenario: Any) -> None:
    questions = [q.fact for q in rs.evaluate(scenario.facts).questions]
    for fact in scenario.asked:
        assert fact in questions, f"{fact} is not asked"
    for fact in scenario.not_asked:
        assert fact not in questions, f"{fact} is asked"
    if scenario.asked_first:
        first = set(scenario.asked_first)
        assert first <= set(questions), f"not asked: {first - set(questions)}"
        others = [q for q in questions if q not in first and q not in REFERRAL_FACTS]
        if others:
            cut = questions.index(others[0])
            assert first <= set(questions[:cut]), (
                f"{sorted(first - set(questions[:cut]))} come after {others[0]}: {questions}"
            )


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.referral_order], ids=_ids)
def test_the_referral_order(rs: cramprules.Ruleset, scenario: Any) -> None:
    referrals = rs.evaluate(scenario.facts).referrals
    spelled = [f"refer {r.to}" + (" urgent" if r.urgent else "") for r in referrals]
    assert spelled == list(scenario.referral_order)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.causes_first], ids=_ids)
def test_the_causes_listed_first(rs: cramprules.Ruleset, scenario: Any) -> None:
    causes = [c.name for c in rs.evaluate(scenario.facts).causes]
    assert set(causes[: len(scenario.causes_first)]) == set(scenario.causes_first)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.text_has or s.text_lacks], ids=_ids)
def test_the_wording(rs: cramprules.Ruleset, render: Any, scenario: Any) -> None:
    text = squash(render(rs.evaluate(scenario.facts)))
    for wanted in scenario.text_has:
        assert wanted in text
    for unwanted in scenario.text_lacks:
        assert unwanted not in text


# ---------------------------------------------------------------- for every scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_nothing_is_recommended_and_avoided_at_once(
    rs: cramprules.Ruleset, render: Any, scenario: Any
) -> None:
    report = rs.evaluate(scenario.facts)
    positive = {r.option for r in report.recommendations if r.action in POSITIVE}
    avoided = {r.option for r in report.recommendations if r.action == "avoid"}
    assert not positive & avoided
    text = render(report)
    labels = {rs.options[o].label for o in avoided}
    for title in ("What to take", "Relief now", "Prevent the next cramp", "Tests to ask for"):
        for line in section(text, title):
            assert line.strip("* ").split(",")[0] not in labels, (title, line)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_every_avoid_is_shown_with_its_reason_beside_it(
    rs: cramprules.Ruleset, render: Any, scenario: Any
) -> None:
    report = rs.evaluate(scenario.facts)
    avoids = [r for r in report.recommendations if r.action == "avoid"]
    lines = section(render(report), "Avoid")
    assert bool(lines) == bool(avoids)
    blocks: dict[str, str] = {}
    current = None
    for line in lines:
        if line.startswith("  * "):
            current = line[4:]
            blocks[current] = ""
        elif current is not None:
            blocks[current] += " " + line
    for avoid in avoids:
        assert avoid.because
        assert squash(avoid.because) in squash(blocks[avoid.label]), avoid.label


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_a_plain_referral_is_never_worded_as_urgent(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine, scenario: Any
) -> None:
    report = rs.evaluate(scenario.facts)
    if any(r.urgent for r in report.referrals):
        return
    for fmt in ("text", "markdown", "html"):
        shown = bundled_engine.render(report, fmt)
        if fmt == "html":  # what a reader sees: not the style sheet, not the tags
            shown = re.sub(r"<style.*?</style>|<[^>]+>", " ", shown, flags=re.DOTALL)
        assert "urgent" not in shown.lower(), fmt


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.tier != "none"], ids=_ids)
def test_referrals_come_before_any_other_advice_in_the_text(
    rs: cramprules.Ruleset, render: Any, scenario: Any
) -> None:
    report = rs.evaluate(scenario.facts)
    text = squash(render(report))
    positions = [text.find(squash(r.because or "")) for r in report.referrals]
    assert -1 not in positions
    assert positions == sorted(positions), "referrals out of order"
    others = [squash(c.because or "") for c in report.causes] + [
        squash(r.because or "") for r in report.recommendations
    ]
    for other in others:
        if other:
            assert positions[-1] < text.find(other), f"advice before a referral: {other[:50]}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_no_explanation_is_printed_twice(rs: cramprules.Ruleset, render: Any, scenario: Any) -> None:
    report = rs.evaluate(scenario.facts)
    text = squash(render(report))
    notes = [c.because for c in report.causes] + [r.because for r in report.recommendations]
    notes += [r.because for r in report.referrals]
    for note in {n for n in notes if n}:
        assert text.count(squash(note)) == 1, note[:60]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_ids)
def test_fired_means_sure_no_answer_to_the_open_questions_removes_a_fired_outcome(
    rs: cramprules.Ruleset, scenario: Any
) -> None:
    report = rs.evaluate(scenario.facts)
    fired = {k for k, v in outcomes(report).items() if v.status == "fired"}
    for filled in completions(rs, scenario.facts, 48, seed=len(scenario.name)):
        lost = fired - set(outcomes(rs.evaluate(filled)))
        assert not lost, f"{sorted(lost)} fired, but gone once {filled} are answered"

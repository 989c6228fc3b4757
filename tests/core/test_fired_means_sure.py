"""Fired means sure: an outcome shown as fired holds whatever the open questions turn out to be.

Checked with hypothesis over generated rulesets (conditions, unless, causes
chained into other rules, conflicting advice, priorities, overrides) and
partial inputs: every fired outcome is still there under every completion of
the unknown facts; the compiled deciders and decisions agree with the
tree-walking interpreter and the reference resolution.  Kleene logic may leave
an outcome conditional that is in fact sure (``unless x or not x``); the other
direction never happens.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cramprules
from cramprules.claims import resolve
from cramprules.evaluator import Env, rule_states

ENGINE = cramprules.Engine(autoload=False)
FACTS = ("a", "b", "c", "d", "e")
OPTIONS = ("x", "y")


def _condition(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    atom = st.sampled_from(names).flatmap(lambda n: st.sampled_from([n, f"not {n}"]))
    return st.recursive(
        atom,
        lambda inner: st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        max_leaves=3,
    )


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    lines = [f"fact {name}: bool" for name in FACTS]
    lines += [f"option {name}" for name in OPTIONS]
    lines += ["cause k1", "cause k2"]
    rules: list[str] = []
    # Causes are concluded in layers, so there is never a cycle.
    layers = [("k1", FACTS), ("k2", (*FACTS, "k1"))]
    for cause, names in layers:
        for _ in range(draw(st.integers(0, 2))):
            rules.append(f"if {draw(_condition(names))} then suspect {cause}")
    names = (*FACTS, "k1", "k2")
    first_advice = len(rules)
    urgent = [False] * first_advice
    for _ in range(draw(st.integers(1, 6))):
        action = draw(
            st.sampled_from(
                [
                    "recommend x",
                    "recommend y",
                    "prefer x over y",
                    "prefer y over x",
                    "avoid x",
                    "avoid y",
                    "refer doctor",
                    "refer doctor urgent",
                ]
            )
        )
        rule = f"if {draw(_condition(names))} then {action}"
        urgent.append(action.endswith("urgent"))
        if not urgent[-1] and draw(st.booleans()):  # nothing may defeat an urgent referral
            rule += f" unless {draw(_condition(names))}"
        if draw(st.booleans()):
            rule += f" priority {draw(st.integers(1, 2))}"
        rules.append(rule)
    named = [f"rule r{i}:\n    {rule}" for i, rule in enumerate(rules)]
    if len(named) - first_advice > 1 and draw(st.booleans()):
        # Between advice rules only: overriding a rule that suspects a cause
        # the overrider tests would be a cycle.
        i, j = draw(st.permutations(range(first_advice, len(named))))[:2]
        if not urgent[j]:
            named[i] += f"\n    overrides r{j}"
    return "\n".join(lines + named) + "\n"


partial_facts = st.fixed_dictionaries({}, optional={name: st.booleans() for name in FACTS})


def _outcomes(report: cramprules.Report) -> dict[tuple[object, ...], str]:
    """Every outcome a person sees, keyed by what it says, with its status."""
    out: dict[tuple[object, ...], str] = {}
    for rec in report.recommendations:
        out[("advice", rec.action, rec.option, rec.over)] = rec.status
    for ref in report.referrals:
        out[("referral", ref.to, ref.urgent, ref.rule)] = ref.status
    for cause in report.causes:
        out[("cause", cause.name)] = cause.status
    return out


def _completions(facts: dict[str, bool]) -> list[dict[str, bool]]:
    unknown = [name for name in FACTS if name not in facts]
    return [
        {**facts, **dict(zip(unknown, values))}
        for values in itertools.product([True, False], repeat=len(unknown))
    ]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=rulesets(), facts=partial_facts)
def test_every_fired_outcome_holds_under_every_completion(text: str, facts: dict[str, bool]) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    fired = [key for key, status in _outcomes(ruleset.evaluate(facts)).items() if status == "fired"]
    for completion in _completions(facts):
        after = _outcomes(ruleset.evaluate(completion))
        for key in fired:
            assert key in after, f"{key} was fired for {facts} but is gone for {completion}"


@SETTINGS
@given(text=rulesets(), facts=partial_facts)
def test_a_conditional_outcome_names_facts_that_are_unknown(text: str, facts: dict[str, bool]) -> None:
    """``depends_on`` names the unknown facts of the open tests, and each is asked,
    unless no answer to it alone can change anything (``a and (a or b)``: ``b``)."""
    ruleset = ENGINE.parse_ruleset(text)
    report = ruleset.evaluate(facts)
    asked = {q.fact for q in report.questions}
    for outcome in (*report.recommendations, *report.referrals, *report.causes):
        if outcome.status == "fired":
            assert outcome.depends_on == ()
            continue
        assert outcome.caveat
        assert set(outcome.depends_on) <= set(FACTS) - set(facts)
        for fact in set(outcome.depends_on) - asked:
            for value in (True, False):
                assert _outcomes(ruleset.evaluate({**facts, fact: value})) == _outcomes(report), fact


@SETTINGS
@given(text=rulesets(), facts=partial_facts)
def test_the_compiled_deciders_agree_with_the_interpreter(text: str, facts: dict[str, bool]) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    report = ruleset.evaluate(facts)
    env = Env({name: facts.get(name) for name in ruleset.facts}, {}, {})
    assert report.states == rule_states(ruleset.program, env)


@SETTINGS
@given(text=rulesets(), facts=partial_facts)
def test_the_generated_decisions_agree_with_the_reference_resolution(
    text: str, facts: dict[str, bool]
) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    report = ruleset.evaluate(facts)
    resolution = resolve(ruleset.claims, report.states)
    expected = {}
    for index in resolution.shown:
        action = ruleset.claims[index].action
        status = "fired" if index in resolution.sure else "conditional"
        if action.kind == "refer":
            key: tuple[object, ...] = ("referral", index)
        else:
            key = ("advice", action.kind, action.target)
        # Advice is given once per option: a sure claim wins over a conditional one.
        if expected.get(key) != "fired":
            expected[key] = status
    shown = {}
    claims_by_referral = iter(i for i in resolution.shown if ruleset.claims[i].action.kind == "refer")
    for ref in report.referrals:
        shown[("referral", next(claims_by_referral))] = ref.status
    for rec in report.recommendations:
        shown[("advice", rec.action, rec.option)] = rec.status
    assert shown == expected


def test_an_avoid_still_open_makes_the_preference_conditional() -> None:
    ruleset = ENGINE.parse_ruleset(
        'fact stomach: bool "Does your stomach react easily?"\n'
        "rule citrate: if constipation then prefer citrate\n"
        "rule stomach: if stomach then avoid citrate\n"
    )
    [advice] = ruleset.evaluate(constipation=True).recommendations
    assert advice.status == "conditional"
    assert advice.depends_on == ("stomach",)
    assert advice.caveat == "unless stomach (which would bring 'avoid citrate' of rule 'stomach')"
    [sure] = ruleset.evaluate(constipation=True, stomach=False).recommendations
    assert (sure.status, sure.caveat, sure.depends_on) == ("fired", None, ())


def test_advice_resting_on_a_conditional_cause_is_conditional_on_what_could_defeat_it() -> None:
    ruleset = ENGINE.parse_ruleset(
        "rule low: if night_cramps then suspect low_magnesium unless kidney_disease\n"
        "rule take: if low_magnesium then recommend magnesium\n"
    )
    report = ruleset.evaluate(night_cramps=True)
    [advice] = report.recommendations
    assert advice.status == "conditional"
    assert advice.depends_on == ("kidney_disease",)
    assert report.questions[0].fact == "kidney_disease"
    [sure] = ruleset.evaluate(night_cramps=True, kidney_disease=False).recommendations
    assert sure.status == "fired"


def test_the_facts_a_caveat_names_are_asked_first_then_red_flags() -> None:
    ruleset = ENGINE.parse_ruleset(
        "rule red: if pain >= 8 then refer doctor urgent\n"
        "rule other: if walking then recommend rest\n"
        "rule citrate: if constipation then prefer citrate unless bedtime\n"
        "rule stomach: if stomach then avoid citrate\n"
    )
    questions = [q.fact for q in ruleset.evaluate(constipation=True).questions]
    assert set(questions[:2]) == {"bedtime", "stomach"}
    assert questions[2:] == ["pain", "walking"]

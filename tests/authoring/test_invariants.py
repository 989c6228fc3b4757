"""Invariants are proved over every input, or broken by the smallest one."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

import cramprules
from cramprules import nodes
from cramprules.authoring.invariants import verify, verify_all
from cramprules.authoring.space import Space, representatives
from cramprules.evaluator import Env, cause_values, interpret

Load = Callable[..., cramprules.Ruleset]

RULES = """
fact pain: number 0..10
rule red_flags:
    if persistent or prolonged or pain >= 8
    then refer doctor urgent
rule glycinate: if long_term then prefer glycinate over citrate
rule citrate: if constipation and long_term then prefer citrate over glycinate unless bedtime
rule low_magnesium: if night then suspect magnesium_deficiency
rule glycinate_for_deficiency: if magnesium_deficiency then recommend glycinate
"""


def _one(load: Load, invariant: str) -> object:
    rs = load(RULES + invariant)
    (result,) = verify_all(rs)
    return result


def test_an_invariant_that_holds_is_proved_over_every_combination(load: Load) -> None:
    result = _one(load, 'invariant "red flags refer": if pain >= 8 then refer doctor urgent')
    assert result.status == "holds"
    assert result.method == "exhaustive"
    assert set(result.facts) == {"persistent", "prolonged", "pain"}
    # pain: 0, 8, 10 or unknown; persistent and prolonged: yes, no or unknown
    assert result.combinations == 4 * 3 * 3


def test_the_invariants_own_thresholds_cut_the_numbers(load: Load) -> None:
    # The rules only cut pain at 8; the invariant's 5 must be tried too.
    result = _one(load, 'invariant "refer from 5": if pain >= 5 then refer doctor urgent')
    assert result.status == "fails"
    assert result.counterexample.facts == {"pain": 5}


def test_a_counterexample_is_minimal_and_real(load: Load) -> None:
    rs = load(RULES + 'invariant "citrate when constipated": if constipation then prefer citrate')
    (result,) = verify_all(rs)
    example = result.counterexample
    assert example.facts == {"constipation": True}  # long_term made unknown, still broken
    report = rs.evaluate(example.facts)
    assert not any(r.option == "citrate" for r in report.recommendations)
    assert "prefer citrate: no" in example.outcome
    assert [t.rule for t in example.trace] == ["citrate"]  # the only rule that can prefer citrate
    assert example.trace[0].outcome == "pending"


def test_mutually_exclusive_preferences_are_proved(load: Load) -> None:
    result = _one(load, 'invariant "one form": not (prefer glycinate and prefer citrate)')
    assert result.status == "holds"


def test_a_conditional_outcome_counts_as_shown(load: Load) -> None:
    # bedtime unknown: citrate is preferred conditionally, and that is a preference.
    result = _one(
        load, 'invariant "i": if constipation and long_term and bedtime is unknown then prefer citrate'
    )
    assert result.status == "holds"


def test_suspect_claims_read_the_causes(load: Load) -> None:
    assert _one(load, 'invariant "i": if night then suspect magnesium_deficiency').status == "holds"
    broken = _one(load, 'invariant "j": suspect magnesium_deficiency')
    assert broken.status == "fails"
    assert broken.counterexample.facts == {}


def test_a_conditionally_suspected_cause_counts_as_suspected(load: Load) -> None:
    rs = load(
        "rule low: if night then suspect low_magnesium unless dairy\n"
        'invariant "i": if night and dairy is unknown then suspect low_magnesium'
    )
    assert verify_all(rs)[0].status == "holds"


def test_a_referral_claim_without_urgent_accepts_an_urgent_one(load: Load) -> None:
    assert _one(load, 'invariant "i": if persistent then refer doctor').status == "holds"


def test_chained_causes_bring_their_facts_into_the_cone(load: Load) -> None:
    result = _one(load, 'invariant "i": not (recommend glycinate and prefer citrate)')
    assert "night" in result.facts  # through magnesium_deficiency
    assert result.status == "fails"
    assert result.counterexample.facts == {"night": True, "constipation": True, "long_term": True}


def test_too_many_combinations_leave_it_unverified(load: Load) -> None:
    rs = load(RULES + 'invariant "one form": not (prefer glycinate and prefer citrate)')
    result = verify(rs, rs.program.invariants[0], limit=10)
    assert result.status == "unverified"
    assert result.combinations == 27
    assert "27 combinations" in (result.reason or "")


# Many rules refer to a doctor: a referral claim is proved over the rules that can meet the condition.
REFERRALS = "\n".join(f"rule r{i}: if sign{i} then refer doctor" for i in range(14)) + "\n"


def test_a_referral_invariant_is_proved_over_the_rules_that_can_meet_its_condition(load: Load) -> None:
    rs = load(REFERRALS + 'invariant "i": if sign3 or sign7 then refer doctor')
    (result,) = verify_all(rs)
    assert result.status == "holds"
    assert set(result.facts) == {"sign3", "sign7"}  # not the 14 signs: 3**14 is over the limit
    assert result.combinations == 9


def test_a_referral_invariant_that_fails_on_the_narrow_cone_still_fails_on_the_whole(load: Load) -> None:
    rs = load(
        "\n".join(f"rule r{i}: if sign{i} then refer doctor" for i in range(6))
        + "\nrule calm: if other then recommend rest\n"
        + 'invariant "i": if sign3 or other then refer doctor'
    )
    (result,) = verify_all(rs)
    assert result.status == "fails"
    assert result.counterexample is not None
    assert result.counterexample.facts == {"other": True}


def test_a_referral_invariant_proved_only_by_another_rule_falls_back_to_the_whole_cone(load: Load) -> None:
    # sign1 is only referred through the cause `flag`, whose rule shares no fact
    # with the condition but refers all the same: the narrow search fails, the
    # whole one proves it.
    rs = load(
        "rule a: if sign1 then refer doctor\n"
        "rule b: if sign1 or sign2 then suspect flag\n"
        "rule c: if flag then refer doctor\n"
        'invariant "i": if sign2 then refer doctor'
    )
    (result,) = verify_all(rs)
    assert result.status == "holds"


def test_a_negated_referral_claim_is_never_narrowed(load: Load) -> None:
    rs = load(REFERRALS + 'invariant "i": if sign3 then not refer doctor')
    (result,) = verify_all(rs)
    assert result.status == "unverified"


class Functions:
    @cramprules.hookimpl
    def cramprules_functions(self) -> dict[str, object]:
        return {"bmi_over": lambda weight, limit: None if weight is None else weight > limit}


def test_plugin_functions_make_a_passing_search_no_proof() -> None:
    engine = cramprules.Engine(plugins=[Functions()], autoload=False)
    rs = engine.parse_ruleset(
        "fact weight: number 0..300\n"
        "if bmi_over(weight, 100) then refer dietitian\n"
        'invariant "i": if weight >= 200 then refer dietitian'
    )
    (result,) = verify_all(rs)
    assert result.status == "unverified"
    assert "bmi_over(weight, 100)" in (result.reason or "")


def test_representatives_reach_every_region_of_a_number() -> None:
    engine = cramprules.Engine(autoload=False)
    rs = engine.parse_ruleset("fact pain: number 0..10\nif pain > 3 and pain <= 7 then recommend x")
    assert representatives(rs.program)["pain"] == (0, 3, 5, 7, 10)


def test_representatives_without_a_range_step_past_the_cuts() -> None:
    engine = cramprules.Engine(autoload=False)
    rs = engine.parse_ruleset("if dose > 2.5 then recommend x")
    assert representatives(rs.program)["dose"] == (1.5, 2.5, 3.5)


def test_a_space_refuses_before_trying_too_much() -> None:
    engine = cramprules.Engine(autoload=False)
    rs = engine.parse_ruleset("if a and b then recommend x")
    space = Space.of(rs.program, ["a", "b"], representatives(rs.program))
    assert space.size == 9
    assert len(list(space.points(9))) == 9
    with pytest.raises(Exception, match="9 combinations"):
        next(space.points(8))


# ---------------------------------------------------------------- against the reports themselves


def _random_ruleset(rng: random.Random) -> str:
    def condition(depth: int = 0) -> str:
        roll = rng.random()
        if depth > 2 or roll < 0.4:
            kind = rng.random()
            if kind < 0.5:
                return rng.choice(["a", "b", "c", "k1", "k2"])
            if kind < 0.7:
                return f"pain {rng.choice(['<', '<=', '>', '>=', '=', '!='])} {rng.randint(0, 10)}"
            if kind < 0.85:
                return f"t is {rng.choice(['n', 'w', 'x'])}"
            return f"{rng.choice(['a', 'b'])} is {rng.choice(['known', 'unknown'])}"
        if roll < 0.55:
            return f"not ({condition(depth + 1)})"
        return f"({condition(depth + 1)}) {rng.choice(['and', 'or'])} ({condition(depth + 1)})"

    def action() -> str:
        roll = rng.random()
        if roll < 0.3:
            return "prefer " + rng.choice(["o1 over o2", "o2 over o1", "o1"])
        if roll < 0.5:
            return f"recommend {rng.choice(['o1', 'o2'])}"
        if roll < 0.65:
            return f"avoid {rng.choice(['o1', 'o2'])}"
        if roll < 0.85:
            return f"suspect {rng.choice(['k1', 'k2'])}"
        return "refer doctor" + (" urgent" if rng.random() < 0.3 else "")

    lines = [
        "fact pain: number 0..10",
        "fact t: one of n, w, x",
        *(f"fact {f}: bool" for f in "abc"),
        'option o1 "1"\noption o2 "2"\ncause k1 "K1"\ncause k2 "K2"',
    ]
    for i in range(rng.randint(1, 5)):
        actions = " and ".join(action() for _ in range(rng.randint(1, 2)))
        unless = f" unless {condition(1)}" if rng.random() < 0.3 else ""
        priority = f" priority {rng.randint(1, 3)}" if rng.random() < 0.2 else ""
        overrides = f" overrides r{rng.randint(0, i - 1)}" if i and rng.random() < 0.2 else ""
        lines.append(f"rule r{i}{priority}: if {condition()} then {actions}{unless}{overrides}")
    lines.append(f'invariant "i": if {condition(1)} then {action()}')
    return "\n".join(lines)


def _report_breaks(rs: cramprules.Ruleset, invariant: nodes.Invariant, facts: dict[str, object]) -> bool:
    """The invariant judged on the report a person would see, not on the analysis' shortcuts."""
    report = rs.evaluate(facts)

    def holds(claim: nodes.Claim) -> bool:
        if isinstance(claim, nodes.ClaimNot):
            return not holds(claim.operand)
        if isinstance(claim, (nodes.ClaimAll, nodes.ClaimAny)):
            parts = [holds(c) for c in claim.operands]
            return all(parts) if isinstance(claim, nodes.ClaimAll) else any(parts)
        if claim.kind == "refer":
            return any(r.to == claim.target and (r.urgent or not claim.urgent) for r in report.referrals)
        if claim.kind == "suspect":
            return any(c.name == claim.target for c in report.causes)
        return any(r.action == claim.kind and r.option == claim.target for r in report.recommendations)

    program = rs.program
    env = Env(dict(zip(program.facts, report.values)), cause_values(program, report.states))
    if invariant.condition is not None and interpret(invariant.condition, env) is not True:
        return False
    return not holds(invariant.claim)


def test_verdicts_agree_with_the_reports_on_random_rulesets(engine: cramprules.Engine) -> None:
    rng = random.Random(20261125)
    samples = random.Random(7)
    verdicts = {"holds": 0, "fails": 0}
    while sum(verdicts.values()) < 60:
        try:
            rs = engine.parse_ruleset(_random_ruleset(rng))
        except cramprules.RulesetError:
            continue  # cycles, contradictions: the checker's business
        invariant = rs.program.invariants[0]
        result = verify(rs, invariant)
        verdicts[result.status] += 1
        if result.status == "fails":
            assert _report_breaks(rs, invariant, dict(result.counterexample.facts))
            continue
        for _ in range(60):
            facts: dict[str, object] = {
                name: value
                for name, choices in (
                    ("a", (True, False)),
                    ("b", (True, False)),
                    ("c", (True, False)),
                    ("pain", (0, 3, 4.5, 8, 10)),
                    ("t", ("n", "w", "x")),
                )
                if (value := samples.choice((*choices, None))) is not None
            }
            assert not _report_breaks(rs, invariant, facts), facts
    assert min(verdicts.values()) >= 10  # both kinds of verdict were exercised

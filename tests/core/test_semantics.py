"""Semantics: three-valued logic, chaining, conflicts, the safety tier, provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

import cramprules
from cramprules import CramprulesError, RulesetError
from cramprules.report import Report

HEADLINE = "if constipation and long_term then prefer citrate unless bedtime"


def shown(report: Report) -> list[tuple[str, str, str]]:
    return [(r.action, r.option, r.status) for r in report.recommendations]


def outcomes(report: Report) -> dict[str, str]:
    return {t.rule: t.outcome for t in report.trace}


# ---------------------------------------------------------------- three-valued logic


def test_headline_bedtime_false_prefers_citrate(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(constipation=True, long_term=True, bedtime=False)
    assert shown(report) == [("prefer", "citrate", "fired")]
    assert report.questions == ()


def test_headline_bedtime_true_defeats_the_rule(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(constipation=True, long_term=True, bedtime=True)
    assert shown(report) == []
    assert outcomes(report) == {"rule@1": "defeated"}
    assert report.trace[0].reason == "defeated: unless bedtime is yes"


def test_headline_bedtime_unknown_is_conditional_and_asks_bedtime(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(constipation=True, long_term=True)
    (recommendation,) = report.recommendations
    assert (recommendation.status, recommendation.caveat) == ("conditional", "unless bedtime")
    assert [q.fact for q in report.questions] == ["bedtime"]
    assert report.questions[0].affects == ("rule@1",)
    assert report.trace[0].conditional


def test_unknown_and_false_is_false_so_nothing_is_asked(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(constipation=False)
    assert outcomes(report) == {"rule@1": "not_matched"}
    assert report.questions == ()


def test_an_unknown_condition_leaves_the_rule_pending_and_asks_what_decides_it(
    engine: cramprules.Engine,
) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(constipation=True)
    assert outcomes(report) == {"rule@1": "pending"}
    assert shown(report) == []
    # long_term can fire the rule; bedtime can only defeat it
    assert [q.fact for q in report.questions] == ["long_term", "bedtime"]


def test_unknown_or_true_is_true(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("if a or b then recommend rest")
    assert shown(rs.evaluate(b=True)) == [("recommend", "rest", "fired")]
    assert outcomes(rs.evaluate(b=False)) == {"rule@1": "pending"}


def test_none_means_unknown(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(HEADLINE)
    assert rs.evaluate(constipation=True, long_term=True, bedtime=None).recommendations[0].status == (
        "conditional"
    )


def test_a_true_unless_defeats_even_an_undecided_rule(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset(HEADLINE).evaluate(bedtime=True)
    assert outcomes(report) == {"rule@1": "defeated"}
    assert report.questions == ()


@pytest.mark.parametrize(
    ("facts", "fires"),
    [
        ({"pain": 9}, True),
        ({"pain": 8}, True),
        ({"pain": 7.9}, False),
        ({"pain": 4, "timing": "night"}, True),
        ({"pain": 4, "timing": "walking"}, False),
        ({"pain": 4, "timing": "day"}, True),
        ({"pain": 2, "timing": "day"}, False),
    ],
)
def test_numbers_and_named_values(engine: cramprules.Engine, facts: dict[str, object], fires: bool) -> None:
    rs = engine.parse_ruleset(
        "fact timing: one of night, day, walking\n"
        "if pain >= 8 or (timing in [night, day] and pain between 3 and 5 and timing is not walking)\n"
        "then recommend rest"
    )
    assert bool(rs.evaluate(facts).recommendations) is fires


def test_is_known_and_is_unknown(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "fact pain: number 0..10\nrule k: if pain is known then recommend a\nrule u: if pain is unknown then recommend b"
    )
    assert [r.option for r in rs.evaluate(pain=3).recommendations] == ["a"]
    assert [r.option for r in rs.evaluate().recommendations] == ["b"]


def test_comparing_two_number_facts(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("fact intake: number\nfact need: number\nif intake < need then recommend more")
    assert shown(rs.evaluate(intake=1, need=2)) == [("recommend", "more", "fired")]
    assert outcomes(rs.evaluate(intake=1)) == {"rule@3": "pending"}


# ---------------------------------------------------------------- chaining


def test_a_suspected_cause_feeds_the_rules_that_test_it(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        # the consumer is written first: evaluation follows dependencies, not text order
        "rule treat: if magnesium_deficiency and long_term then prefer glycinate\n"
        "rule night: if night_cramps then suspect magnesium_deficiency\n"
        "rule workout: if exercise_cramps then suspect magnesium_deficiency\n"
    )
    report = rs.evaluate(exercise_cramps=True, long_term=True, night_cramps=False)
    assert shown(report) == [("prefer", "glycinate", "fired")]
    (cause,) = report.causes
    assert (cause.name, cause.rule, cause.evidence) == (
        "magnesium_deficiency",
        "workout",
        ("exercise_cramps is yes",),
    )
    assert outcomes(rs.evaluate(exercise_cramps=False, night_cramps=False, long_term=True)) == {
        "treat": "not_matched",
        "night": "not_matched",
        "workout": "not_matched",
    }


def test_an_undecided_cause_leaves_its_users_pending_and_asks_its_facts(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule treat: if magnesium_deficiency then prefer glycinate\n"
        "rule night: if night_cramps then suspect magnesium_deficiency\n"
    )
    report = rs.evaluate()
    assert outcomes(report) == {"treat": "pending", "night": "pending"}
    assert report.questions[0].fact == "night_cramps"
    assert set(report.questions[0].affects) == {"treat", "night"}


def test_a_cycle_through_causes_is_an_error_when_loading(engine: cramprules.Engine) -> None:
    with pytest.raises(RulesetError) as info:
        engine.parse_ruleset(
            "rule a: if x then suspect y\nrule b: if y then suspect x2\nrule c: if x2 then suspect x3\nrule d: if x3 then suspect y"
        )
    assert info.value.diagnostics[0].code == "rule-cycle"
    assert "b -> d -> c -> b" in info.value.message
    assert "'b' tests y, which 'd' suspects" in str(info.value)


# ---------------------------------------------------------------- conflicts


def test_avoid_beats_prefer_and_the_trace_says_why(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule want: if constipation then prefer citrate\nrule gut: if sensitive_stomach then avoid citrate"
    )
    report = rs.evaluate(constipation=True, sensitive_stomach=True)
    assert shown(report) == [("avoid", "citrate", "fired")]
    assert outcomes(report) == {"want": "overridden", "gut": "fired"}
    assert report.explain_rule("want").reason.endswith(
        "'prefer citrate' lost to 'avoid citrate' of rule 'gut': 'avoid citrate' wins over "
        "'prefer citrate' (avoid beats prefer)"
    )


def test_a_higher_priority_positive_rule_beats_avoid(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule want priority 5: if constipation then prefer citrate\nrule gut: if sensitive_stomach then avoid citrate"
    )
    report = rs.evaluate(constipation=True, sensitive_stomach=True)
    assert shown(report) == [("prefer", "citrate", "fired")]
    assert "'want' has higher priority (5 > 0)" in report.explain_rule("gut").reason


def test_overrides_silences_the_named_rule(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule want: if constipation then prefer citrate overrides gut\nrule gut: if sensitive_stomach then avoid citrate"
    )
    report = rs.evaluate(constipation=True, sensitive_stomach=True)
    assert shown(report) == [("prefer", "citrate", "fired")]
    assert outcomes(report)["gut"] == "overridden"
    assert report.explain_rule("gut").reason == "overridden by rule 'want'"


def test_an_undecided_overrider_makes_the_overridden_rule_conditional(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule want: if constipation then prefer citrate overrides gut\nrule gut: if sensitive_stomach then avoid citrate"
    )
    (recommendation,) = rs.evaluate(sensitive_stomach=True).recommendations
    assert (recommendation.action, recommendation.status, recommendation.caveat) == (
        "avoid",
        "conditional",
        "unless constipation (which would bring rule 'want', which overrides it)",
    )


@pytest.mark.parametrize(
    ("rules", "winner", "why"),
    [
        (
            "rule g priority 1: if a then prefer glycinate over citrate\nrule c: if a and b then prefer citrate over glycinate",
            "glycinate",
            "'g' has higher priority (1 > 0)",
        ),
        (
            "rule g: if a then prefer glycinate over citrate\nrule c: if a and b then prefer citrate over glycinate",
            "citrate",
            "'c' is more specific (2 tests against 1)",
        ),
        (
            "rule g: if a then prefer glycinate over citrate\nrule c: if b then prefer citrate",
            "glycinate",
            "'g' comes first (same priority and specificity)",
        ),
    ],
)
def test_competing_preferences(engine: cramprules.Engine, rules: str, winner: str, why: str) -> None:
    report = engine.parse_ruleset(rules).evaluate(a=True, b=True)
    assert [r.option for r in report.recommendations] == [winner]
    loser = next(t for t in report.trace if t.outcome == "overridden")
    assert why in loser.reason


def test_preferences_without_over_do_not_compete(engine: cramprules.Engine) -> None:
    report = engine.parse_ruleset("if a then prefer x\nif a then prefer y").evaluate(a=True)
    assert [r.option for r in report.recommendations] == ["x", "y"]


def test_results_are_deterministic_byte_for_byte(engine: cramprules.Engine) -> None:
    text = "rule g: if a then prefer glycinate over citrate\nrule c: if b then prefer citrate over glycinate\nif c then recommend rest"
    first = engine.parse_ruleset(text).evaluate(a=True, b=True).to_json()
    again = cramprules.Engine(autoload=False).parse_ruleset(text).evaluate({"b": True, "a": True}).to_json()
    assert first == again


# ---------------------------------------------------------------- the safety tier


def test_an_urgent_referral_comes_first_whatever_else_fires(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "rule mild priority 50: if pain >= 3 then refer physio\n"
        'rule danger: if pain >= 8 then refer doctor urgent because "Very painful cramps need a check."\n'
        "rule silence priority 1000: if pain >= 8 then avoid rest overrides mild\n"
    )
    report = rs.evaluate(pain=9)
    assert [(r.to, r.urgent) for r in report.referrals] == [("doctor", True)]
    assert report.urgent


def test_an_urgent_referral_cannot_be_silenced(engine: cramprules.Engine) -> None:
    with pytest.raises(RulesetError, match="nothing may override"):
        engine.parse_ruleset(
            "rule danger: if pain >= 8 then refer doctor urgent\nrule quiet: if calm then recommend rest overrides danger"
        )
    with pytest.raises(RulesetError, match="cannot have an 'unless'"):
        engine.parse_ruleset("rule danger: if pain >= 8 then refer doctor urgent unless calm")


# ---------------------------------------------------------------- provenance


def test_testing_rules_are_left_out_unless_asked_for(engine: cramprules.Engine) -> None:
    text = "rule new: if a then recommend trial status testing\nrule old: if a then recommend old_way status retired\nif a then recommend rest"
    assert [r.option for r in engine.parse_ruleset(text).evaluate(a=True).recommendations] == ["rest"]
    with_testing = engine.parse_ruleset(text, include_testing=True)
    assert [r.option for r in with_testing.evaluate(a=True).recommendations] == ["trial", "rest"]
    assert [r.name for r in with_testing.program.excluded] == ["old"]


def test_metadata_is_carried_into_the_report(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        'source berg "Dr. Eric Berg" url "https://example.org/berg"\n'
        'rule c: if a then prefer citrate because "For you." detail "For the clinician." cite berg evidence C reviewed 2026-01-01'
    )
    (recommendation,) = rs.evaluate(a=True).recommendations
    assert recommendation.because == "For you."
    assert recommendation.detail == "For the clinician."
    assert recommendation.evidence == "C"
    assert [(s.name, s.label, s.url) for s in recommendation.sources] == [
        ("berg", "Dr. Eric Berg", "https://example.org/berg")
    ]
    assert rs.rules[0].reviewed is not None


# ---------------------------------------------------------------- inference


def test_undeclared_names_are_inferred_from_use(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("if tired and pain > 3 and timing in [night, day] then prefer rest")
    assert {name: spec.kind for name, spec in rs.facts.items()} == {
        "tired": "bool",
        "pain": "number",
        "timing": "enum",
    }
    assert rs.facts["timing"].values == ("night", "day")
    assert all(spec.inferred for spec in rs.facts.values())
    assert list(rs.options) == ["rest"]
    assert {d.code for d in rs.diagnostics} == {"inferred-fact", "inferred-option"}


# ---------------------------------------------------------------- includes and extends


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_include_splices_files_in_place(engine: cramprules.Engine, tmp_path: Path) -> None:
    main = write(
        tmp_path / "clinic.cramp",
        'ruleset clinic\ninclude "causes/heat.cramp"\nif hot then suspect heat_stress',
    )
    write(
        tmp_path / "causes" / "heat.cramp",
        'cause heat_stress "Heat stress"\nif heat_stress then recommend shade',
    )
    report = engine.load_ruleset(main).evaluate(hot=True)
    assert [r.option for r in report.recommendations] == ["shade"]
    assert report.causes[0].label == "Heat stress"


@pytest.mark.parametrize(
    ("include", "code"),
    [
        ('"../outside.cramp"', "include-outside"),
        ('"/etc/passwd"', "include-path"),
        ('"notes.txt"', "include-path"),
        ('"missing.cramp"', "include-missing"),
        ('"clinic.cramp"', "include-cycle"),
    ],
)
def test_includes_stay_inside_the_ruleset_directory(
    engine: cramprules.Engine, tmp_path: Path, include: str, code: str
) -> None:
    write(tmp_path / "outside.cramp", "if a then recommend b")
    main = write(tmp_path / "rules" / "clinic.cramp", f"include {include}\n")
    with pytest.raises(RulesetError) as info:
        engine.load_ruleset(main)
    assert info.value.diagnostics[0].code == code


def test_an_include_loop_between_two_files_is_an_error(engine: cramprules.Engine, tmp_path: Path) -> None:
    main = write(tmp_path / "a.cramp", 'include "b.cramp"')
    write(tmp_path / "b.cramp", 'include "a.cramp"')
    with pytest.raises(RulesetError, match=r"a\.cramp -> b\.cramp -> a\.cramp"):
        engine.load_ruleset(main)


def test_extends_builds_on_the_bundled_ruleset(engine: cramprules.Engine) -> None:
    clinic = engine.parse_ruleset(
        'ruleset clinic "Our clinic"\nextends leg_cramps\n'
        "rule clinic_heat: if prolonged then recommend heat_pack"
    )
    assert clinic.name == "clinic"
    base = engine.default_ruleset()
    assert {r.name for r in base.rules} < {r.name for r in clinic.rules}
    report = clinic.evaluate(prolonged=True)
    assert report.referrals[0].urgent
    assert "heat_pack" in [r.option for r in report.recommendations]


# ---------------------------------------------------------------- named rulesets


def test_an_unknown_ruleset_name_suggests_the_nearest(engine: cramprules.Engine) -> None:
    with pytest.raises(CramprulesError, match="did you mean 'leg_cramps'"):
        engine.load_ruleset("leg_cramp")


def test_loading_a_missing_file_is_a_clear_error(engine: cramprules.Engine, tmp_path: Path) -> None:
    with pytest.raises(CramprulesError, match="no such ruleset file"):
        engine.load_ruleset(tmp_path / "nope.cramp")


# ---------------------------------------------------------------- duplicates and dead ends


def test_advice_given_outright_by_one_rule_is_not_made_conditional_by_another(
    engine: cramprules.Engine,
) -> None:
    rs = engine.parse_ruleset("rule a: if x then recommend rest unless y\nrule b: if z then recommend rest")
    (recommendation,) = rs.evaluate(x=True, z=True).recommendations
    assert (recommendation.rule, recommendation.status) == ("b", "fired")
    (conditional,) = rs.evaluate(x=True, z=False).recommendations
    assert (conditional.rule, conditional.status) == ("a", "conditional")


def test_each_rules_referral_keeps_its_own_reason(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        'rule flow: if a then refer doctor urgent because "Blood flow."\n'
        'rule nerve: if b then refer doctor urgent because "Nerve."'
    )
    assert [r.because for r in rs.evaluate(a=True, b=True).referrals] == ["Blood flow.", "Nerve."]


def test_facts_that_only_decide_advice_already_overruled_are_not_asked(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("rule a priority 50: if k then avoid c\nrule b: if x then prefer c unless y")
    assert rs.evaluate(k=True, x=True).questions == ()
    assert [q.fact for q in rs.evaluate(k=False, x=True).questions] == ["y"]


def test_facts_that_would_only_repeat_advice_already_given_are_not_asked(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("rule kidney priority 50: if k then avoid c\nrule stomach: if s then avoid c")
    assert rs.evaluate(k=True).questions == ()
    assert [q.fact for q in rs.evaluate(k=False).questions] == ["s"]

"""cramprules-labs, loaded through its installed entry point."""

from __future__ import annotations

import re

import pytest

import cramprules
from cramprules.plugins import AUTOLOAD_ENV


@pytest.fixture(scope="module")
def engine_with_labs() -> cramprules.Engine:
    # Explicit autoload: tox sets CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD for the suite.
    engine = cramprules.Engine(autoload=True, disable=["fhir"])
    assert "labs" in [i.name for i in engine.plugins()], "pip install -e plugins/cramprules-labs"
    return engine


@pytest.fixture(scope="module")
def leg_cramps(engine_with_labs) -> cramprules.Ruleset:
    return engine_with_labs.default_ruleset()


def causes(report: cramprules.Report) -> set[str]:
    return {c.name for c in report.causes}


def test_it_loads_through_the_entry_point_only(fakes, monkeypatch) -> None:
    fakes.installed("cramprules-labs")
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    assert "serum_magnesium" in cramprules.Engine().default_ruleset().facts
    assert "serum_magnesium" not in cramprules.Engine(autoload=False).default_ruleset().facts


def test_lab_facts_have_units_and_questions(leg_cramps) -> None:
    units = {
        name: leg_cramps.facts[name].unit for name in ("serum_magnesium", "serum_potassium", "serum_calcium")
    }
    assert units == {"serum_magnesium": "mg/dL", "serum_potassium": "mmol/L", "serum_calcium": "mg/dL"}
    for name in ("low_magnesium_lab", "low_potassium_lab", "very_low_potassium_lab", "low_calcium_lab"):
        assert leg_cramps.facts[name].derived, name


def test_every_reference_range_cites_a_source_with_a_url(leg_cramps) -> None:
    from cramprules_labs import RANGES

    for reference in RANGES:
        source = leg_cramps.source(reference.source)
        assert source.url, reference
        assert source.url.startswith("https://"), reference
        # The fragment's wording and the plugin's table agree on the limit.
        assert f"{reference.low:g} {reference.unit}" in leg_cramps.facts[reference.derived].prompt


def test_the_fragment_thresholds_match_the_table(leg_cramps) -> None:
    from cramprules_labs import FRAGMENT, RANGES

    text = FRAGMENT.read_text()
    limits = {fact: float(limit) for fact, limit in re.findall(r"below\((\w+), ([\d.]+)\)", text)}
    lows = {r.fact: r.low for r in RANGES if r.derived.startswith("low_")}
    assert limits == lows


@pytest.mark.parametrize(
    ("facts", "derived"),
    [
        ({"serum_magnesium": 1.6}, {"low_magnesium_lab": True}),
        ({"serum_magnesium": 1.7}, {"low_magnesium_lab": False}),
        ({"serum_potassium": 3.4}, {"low_potassium_lab": True, "very_low_potassium_lab": False}),
        ({"serum_potassium": 2.4}, {"low_potassium_lab": True, "very_low_potassium_lab": True}),
        ({"serum_potassium": 3.5}, {"low_potassium_lab": False, "very_low_potassium_lab": False}),
        ({"serum_calcium": "8.4"}, {"low_calcium_lab": True}),  # text, as a CSV cell
        ({"serum_calcium": 8.5}, {"low_calcium_lab": False}),
        ({}, {}),
        ({"serum_magnesium": None}, {}),
    ],
)
def test_derived_facts_below_the_adult_range(leg_cramps, facts, derived) -> None:
    report = leg_cramps.evaluate(facts)
    got = {k: v for k, v in report.facts.items() if k.endswith("_lab")}
    assert got == derived


def test_low_magnesium_confirms_the_bundled_cause(leg_cramps) -> None:
    report = leg_cramps.evaluate({"serum_magnesium": 1.4})
    assert {"lab_confirmed_hypomagnesemia", "magnesium_deficiency"} <= causes(report)
    cited = {s.url for c in report.causes for s in c.sources}
    assert "https://medlineplus.gov/ency/article/003487.htm" in cited
    assert causes(leg_cramps.evaluate({"serum_magnesium": 2.0})) & {"lab_confirmed_hypomagnesemia"} == set()


@pytest.mark.parametrize("facts", [{"serum_potassium": 3.1}, {"serum_calcium": 8.0}])
def test_low_potassium_or_calcium_means_mineral_loss_and_a_doctor(leg_cramps, facts) -> None:
    report = leg_cramps.evaluate(facts)
    assert "mineral_loss" in causes(report)
    assert any(r.to == "doctor" and r.rule == "labs_low_potassium_or_calcium" for r in report.referrals)
    assert not any(r.urgent for r in report.referrals)


def test_very_low_potassium_is_urgent_and_first(engine_with_labs, leg_cramps) -> None:
    report = leg_cramps.evaluate({"serum_potassium": 2.2})
    assert report.referrals[0].urgent
    assert report.referrals[0].rule == "labs_severe_hypokalemia"
    assert engine_with_labs.render(report, "text").splitlines()[2] == "SEE A DOCTOR URGENTLY"


def test_the_function_is_unknown_when_the_result_is(engine_with_labs) -> None:
    below = engine_with_labs.functions()["below"][0]
    assert below(1.0, 2) is True
    assert below(3, 2) is False
    assert below(None, 2) is None
    assert below("1.5", "2") is True
    assert below(True, 2) is None  # a yes/no is not a number


def test_lab_results_are_asked_last(leg_cramps) -> None:
    questions = [q.fact for q in leg_cramps.evaluate({"night_cramps": True}).questions]
    labs = [q for q in questions if q.startswith("serum_")]
    assert labs == ["serum_magnesium", "serum_potassium", "serum_calcium"]
    assert questions[-3:] == labs
    assert not [q for q in questions if q.endswith("_lab")]  # derived facts are never asked


def test_other_rulesets_get_no_derived_facts(engine_with_labs) -> None:
    ruleset = engine_with_labs.parse_ruleset("if a then recommend rest")
    assert ruleset.evaluate({"a": True}).recommendations


def test_a_bad_lab_value_is_the_engine_s_fact_error(leg_cramps) -> None:
    with pytest.raises(cramprules.FactError, match="serum_calcium"):
        leg_cramps.evaluate({"serum_calcium": "high"})


def test_the_fragment_examples_pass(leg_cramps) -> None:
    from cramprules.authoring.examples import run_example

    examples = [e for e in leg_cramps.program.examples if e.span and "labs" in (e.span.origin or "")]
    assert len(examples) == 5
    results = [run_example(leg_cramps, example) for example in examples]
    assert [(r.label, r.failures, r.error) for r in results if not r.passed] == []


def test_the_bundled_invariants_stay_proved(leg_cramps) -> None:
    """The advice rules test derived yes/no facts, never the opaque function."""
    from cramprules.authoring.invariants import verify_all

    results = verify_all(leg_cramps)
    assert results
    assert [(r.label, r.status, r.reason) for r in results if r.status != "holds"] == []


# ------------------------------------------------------------------ units and the cited ranges


@pytest.mark.parametrize(
    ("given", "low"),
    [
        # MedlinePlus: 1.7 to 2.2 mg/dL; the limit is compared in mg/dL, the cited unit.
        ("1.7 mg/dL", False),
        ("1.69 mg/dL", True),
        ("0.70 mmol/L", False),  # = 1.701 mg/dL: at the limit, as cited
        ("0.69 mmol/L", True),  # = 1.677 mg/dL
        ("1.4 mEq/L", False),  # = 0.70 mmol/L
        ("1.38 mEq/L", True),
        ({"value": 17, "unit": "mg/L"}, False),
    ],
)
def test_magnesium_is_low_exactly_below_the_cited_limit_in_any_unit(leg_cramps, given, low) -> None:
    report = leg_cramps.evaluate({"serum_magnesium": given})
    assert report.facts["low_magnesium_lab"] is low
    assert ("lab_confirmed_hypomagnesemia" in causes(report)) is low


@pytest.mark.parametrize(
    ("fact", "given", "derived", "expected"),
    [
        ("serum_potassium", "3.5 meq/L", "low_potassium_lab", False),  # StatPearls: 3.5 mmol/L
        ("serum_potassium", "3.49 mEq/L", "low_potassium_lab", True),
        ("serum_potassium", "2.49 mmol/L", "very_low_potassium_lab", True),
        ("serum_calcium", "2.13 mmol/L", "low_calcium_lab", False),  # = 8.54 mg/dL
        ("serum_calcium", "2.12 mmol/L", "low_calcium_lab", True),  # = 8.50 - a hair below 8.5 mg/dL
        ("serum_calcium", "4.2 meq/L", "low_calcium_lab", True),  # = 2.1 mmol/L = 8.42 mg/dL
    ],
)
def test_potassium_and_calcium_limits_in_other_units(leg_cramps, fact, given, derived, expected) -> None:
    assert leg_cramps.evaluate({fact: given}).facts[derived] is expected


def test_each_limit_is_the_one_its_source_and_rules_cite(leg_cramps) -> None:
    from cramprules_labs import RANGES

    for reference in RANGES:
        assert leg_cramps.facts[reference.fact].unit == reference.unit, "compared in the cited unit"
        label = leg_cramps.source(reference.source).label
        assert f"{reference.low:g}" in label, reference
        assert reference.unit in label, reference
    # The magnesium source states its range in mg/dL only: MedlinePlus's own
    # "(0.85 to 1.10 mmol/L)" is another range (1.7 mg/dL is 0.70 mmol/L).
    assert "mmol" not in leg_cramps.source("medlineplus_magnesium").label


@pytest.mark.parametrize(
    ("fact", "bare", "meant"),
    [
        ("serum_magnesium", "0.7", "0.7 mmol/L"),
        ("serum_calcium", "2.2", "2.2 mmol/L"),
        ("serum_calcium", "4.5", "4.5 mEq/L"),
        ("serum_potassium", "15", "15 mg/dL"),
    ],
)
def test_a_bare_number_implausible_in_the_declared_unit_suggests_the_unit_meant(
    leg_cramps, fact, bare, meant
) -> None:
    with pytest.raises(cramprules.FactError) as caught:
        leg_cramps.evaluate({fact: bare})
    assert f"{fact} = {bare} is implausible in {leg_cramps.facts[fact].unit}" in str(caught.value)
    assert f"did you mean {meant} (= " in str(caught.value)
    assert caught.value.suggestion == meant.split(" ", 1)[1]
    # Given with its unit, the same number is read as meant, and is not questioned.
    leg_cramps.evaluate({fact: meant})
    leg_cramps.evaluate({fact: f"{bare} {leg_cramps.facts[fact].unit}"})


def test_a_unit_of_another_kind_is_an_error_naming_both(leg_cramps) -> None:
    with pytest.raises(cramprules.FactError, match=r"serum_magnesium = 3 kg: cannot convert 'kg' to mg/dL"):
        leg_cramps.evaluate({"serum_magnesium": "3 kg"})
    with pytest.raises(cramprules.FactError, match=r"cannot convert 'furlongs' to mmol/L"):
        leg_cramps.evaluate({"serum_potassium": {"value": 3, "unit": "furlongs"}})


@pytest.mark.parametrize(
    ("comparator", "bound", "expected"),
    [("<", 1.0, {"low_magnesium_lab": True}), ("<", 1.7, {"low_magnesium_lab": True}),
     ("<=", 1.7, {}), ("<", 2.0, {}), (">", 1.0, {}), (">", 1.7, {"low_magnesium_lab": False}),
     (">=", 2.0, {"low_magnesium_lab": False})],
)  # fmt: skip
def test_a_bound_decides_only_what_it_can(comparator, bound, expected) -> None:
    from cramprules_labs import bound_facts

    assert bound_facts("serum_magnesium", comparator, bound) == expected


def test_two_potassium_limits_from_one_bound() -> None:
    from cramprules_labs import bound_facts

    assert bound_facts("serum_potassium", "<", 2.0) == {
        "low_potassium_lab": True,
        "very_low_potassium_lab": True,
    }
    assert bound_facts("serum_potassium", ">", 3.0) == {"very_low_potassium_lab": False}


def test_units_from_the_command_line_json_and_csv(monkeypatch, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from cramprules.cli import cli

    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", "--fact", "serum_magnesium=0.7 mmol/L", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["facts"]["serum_magnesium"] == pytest.approx(1.70135)
    document = json.dumps({"serum_magnesium": {"value": 0.69, "unit": "mmol/L"}})
    result = runner.invoke(cli, ["eval", "--facts", "-", "--format", "json"], input=document)
    assert json.loads(result.output)["facts"]["low_magnesium_lab"] is True
    table = tmp_path / "labs.csv"
    table.write_text("serum_potassium\n3.1 mEq/L\n15\n")
    result = runner.invoke(cli, ["eval", "--facts", str(table)])
    assert result.exit_code == 2
    assert result.output.startswith("error: record 1: serum_potassium = 15 is implausible in mmol/L")
    assert 'serum_potassium="15 mg/dL"' in result.output

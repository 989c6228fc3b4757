"""The report: its parts, its JSON form (schema, golden file), questions and what-ifs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

import cramprules
from cramprules.report import SCHEMA_VERSION, report_schema

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CRAMPRULES_UPDATE_GOLDEN") == "1"
"""Set CRAMPRULES_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change."""

RULESET = """\
ruleset demo "A small demonstration" version "2.1"
source berg "Dr. Eric Berg" url "https://example.org/berg"
source rupa "Rupa Health"
fact constipation: bool "Are you constipated?"
fact long_term: bool "Long term?"
fact bedtime: bool "At bedtime?"
fact pain: number 0..10 "How painful (0-10)?"
fact night_cramps: bool "At night?"
group supplements "What to take"
option glycinate "Magnesium glycinate" in supplements
option citrate "Magnesium citrate" in supplements
option stretching "Stretching"
cause magnesium_deficiency "Low magnesium" cite rupa

rule red_flags priority 100:
    if pain >= 8
    then refer doctor urgent
    because "Very painful cramps need a medical check."
    cite berg

rule night:
    if night_cramps
    then suspect magnesium_deficiency and recommend stretching
    because "Night cramps point to low magnesium."

rule glycinate_long_term:
    if long_term or magnesium_deficiency
    then prefer glycinate over citrate
    because "Glycinate is gentle on the stomach."
    cite berg
    evidence C

rule citrate_for_constipation:
    if constipation and long_term
    then prefer citrate over glycinate
    unless bedtime
    because "Citrate draws water into the bowel."
    detail "Osmotic laxative effect."
    cite berg
"""


@pytest.fixture(scope="module")
def demo() -> cramprules.Ruleset:
    return cramprules.Engine(autoload=False).parse_ruleset(RULESET, "demo.cramp")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; rerun with CRAMPRULES_UPDATE_GOLDEN=1"


def test_to_dict_matches_the_golden_file(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=True, long_term=True, night_cramps=True, pain=9)
    text = json.dumps(report.to_dict(), indent=2, sort_keys=False).replace(
        cramprules.__version__, "<version>"
    )
    check_golden("demo_report.json", text + "\n")


def test_to_dict_of_an_empty_input_matches_the_golden_file(demo: cramprules.Ruleset) -> None:
    text = json.dumps(demo.evaluate({}).to_dict(), indent=2).replace(cramprules.__version__, "<version>")
    check_golden("demo_empty.json", text + "\n")


@pytest.mark.parametrize(
    "facts",
    [
        {},
        {"pain": 9},
        {"constipation": True, "long_term": True},
        {"constipation": True, "long_term": True, "bedtime": True, "night_cramps": True, "pain": 0},
    ],
)
def test_reports_follow_the_published_schema(demo: cramprules.Ruleset, facts: dict[str, object]) -> None:
    document = demo.evaluate(facts).to_dict()
    jsonschema.validate(document, report_schema())
    assert document["schema_version"] == SCHEMA_VERSION


def test_the_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_the_report_names_what_it_was_made_from_for_audits(demo: cramprules.Ruleset) -> None:
    ruleset = demo.evaluate({}).to_dict()["ruleset"]
    assert ruleset == {
        "name": "demo",
        "title": "A small demonstration",
        "version": "2.1",
        "sha256": demo.sha256,
    }
    changed = cramprules.Engine(autoload=False).parse_ruleset(RULESET + "\nif x then recommend y")
    assert changed.sha256 != demo.sha256


def test_json_is_byte_identical_for_the_same_input(demo: cramprules.Ruleset) -> None:
    facts = {"constipation": True, "long_term": True, "night_cramps": True}
    first = demo.evaluate(facts).to_json()
    again = (
        cramprules.Engine(autoload=False)
        .parse_ruleset(RULESET, "demo.cramp")
        .evaluate(dict(reversed(facts.items())))
    )
    assert first == again.to_json()


def test_the_urgent_referral_comes_first_in_every_builtin_format(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=True, long_term=True, pain=9)
    text = cramprules.Engine(autoload=False).render(report, "text")
    assert text.index("SEE A DOCTOR URGENTLY") < text.index("What to take")
    as_json = json.loads(cramprules.Engine(autoload=False).render(report, "json"))
    assert as_json["referrals"][0]["urgent"] is True


def test_causes_carry_their_evidence_and_sources(demo: cramprules.Ruleset) -> None:
    (cause,) = demo.evaluate(night_cramps=True).causes
    assert (cause.name, cause.label, cause.rule, cause.evidence) == (
        "magnesium_deficiency",
        "Low magnesium",
        "night",
        ("night_cramps is yes",),
    )
    assert [s.name for s in cause.sources] == ["rupa"]


def test_a_conditional_recommendation_names_its_caveat(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=True, long_term=True)
    first = report.recommendations[0]
    assert (first.option, first.status, first.caveat) == ("citrate", "conditional", "unless bedtime")
    assert first.detail == "Osmotic laxative effect."


def test_questions_only_ask_what_can_still_change_the_outcome(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=False, long_term=True, night_cramps=False)
    # bedtime cannot matter: the citrate rule is already not matched
    assert [q.fact for q in report.questions] == ["pain"]
    (question,) = report.questions
    assert (question.type, question.low, question.high, question.affects) == ("number", 0, 10, ("red_flags",))


def test_questions_that_could_raise_an_urgent_referral_come_first(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate({})
    assert report.questions[0].fact == "pain"
    assert {q.fact for q in report.questions} == {
        "pain",
        "night_cramps",
        "long_term",
        "constipation",
        "bedtime",
    }


def test_a_decided_report_asks_nothing(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=False, long_term=False, bedtime=False, pain=2, night_cramps=False)
    assert report.questions == ()
    assert report.recommendations == ()


def test_what_would_change_finds_the_smallest_flip(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=True, long_term=True)
    changes = report.what_would_change("citrate")
    assert [str(w) for w in changes] == [
        "bedtime: unknown -> yes: prefer citrate over glycinate (conditional) -> nothing about citrate",
        "bedtime: unknown -> no: prefer citrate over glycinate (conditional) -> prefer citrate over glycinate",
        "constipation: yes -> no: prefer citrate over glycinate (conditional) -> nothing about citrate",
        "long_term: yes -> no: prefer citrate over glycinate (conditional) -> nothing about citrate",
    ]


def test_what_would_change_can_need_two_facts(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=False, long_term=False, bedtime=False, night_cramps=False, pain=0)
    changes = report.what_would_change("citrate")
    assert [sorted(str(c) for c in w.changes) for w in changes] == [
        ["constipation: no -> yes", "long_term: no -> yes"]
    ]


def test_what_would_change_rejects_unknown_names(demo: cramprules.Ruleset) -> None:
    with pytest.raises(KeyError, match="not an option, cause or referral target"):
        demo.evaluate({}).what_would_change("cytrate")


def test_the_trace_covers_every_rule_with_its_source_line(demo: cramprules.Ruleset) -> None:
    report = demo.evaluate(constipation=True, long_term=True, bedtime=True, pain=3)
    assert [(t.rule, t.outcome, t.line) for t in report.trace] == [
        ("red_flags", "not_matched", 15),
        ("night", "pending", 21),
        ("glycinate_long_term", "fired", 26),
        ("citrate_for_constipation", "defeated", 33),
    ]
    assert report.explain_rule("red_flags").reason == "not matched: pain >= 8 (pain is 3)"


def test_reports_are_values(demo: cramprules.Ruleset) -> None:
    assert demo.evaluate(pain=3) == demo.evaluate({"pain": 3.0})
    assert demo.evaluate(pain=3) != demo.evaluate(pain=4)
    assert "recommendations" in repr(demo.evaluate({}))

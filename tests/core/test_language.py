"""The language: every construct parses to the node it means."""

from __future__ import annotations

import datetime

import pytest

from cramprules import nodes
from cramprules.parser import parse

N = nodes.Name


def rule_of(text: str) -> nodes.Rule:
    (statement,) = parse(text).statements
    assert isinstance(statement, nodes.Rule)
    return statement


def condition_of(condition: str) -> nodes.Condition:
    return rule_of(f"if {condition} then recommend rest").condition


def test_the_headline_sentence_is_a_complete_ruleset() -> None:
    rule = rule_of("if constipation and long_term then prefer citrate unless bedtime")
    assert rule == nodes.Rule(
        name=None,
        condition=nodes.All((N("constipation"), N("long_term"))),
        actions=(nodes.Action("prefer", "citrate"),),
        unless=N("bedtime"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", N("a")),
        ("not a", nodes.Not(N("a"))),
        ("a and b and c", nodes.All((N("a"), N("b"), N("c")))),
        ("a or b", nodes.Any((N("a"), N("b")))),
        ("a or b and c", nodes.Any((N("a"), nodes.All((N("b"), N("c")))))),
        ("(a or b) and c", nodes.All((nodes.Any((N("a"), N("b"))), N("c")))),
        ("not a and b", nodes.All((nodes.Not(N("a")), N("b")))),
        ("not (a and b)", nodes.Not(nodes.All((N("a"), N("b"))))),
        ("pain >= 8", nodes.Compare(N("pain"), ">=", nodes.Number(8))),
        ("pain < 2.5", nodes.Compare(N("pain"), "<", nodes.Number(2.5))),
        ("pain = 10", nodes.Compare(N("pain"), "=", nodes.Number(10))),
        ("pain == 10", nodes.Compare(N("pain"), "=", nodes.Number(10))),
        ("pain != 0", nodes.Compare(N("pain"), "!=", nodes.Number(0))),
        ("pain > -1", nodes.Compare(N("pain"), ">", nodes.Number(-1))),
        ("pain between 3 and 6", nodes.Between(N("pain"), nodes.Number(3), nodes.Number(6))),
        ("timing is night", nodes.InValues(N("timing"), ("night",))),
        ("timing is not night", nodes.InValues(N("timing"), ("night",), negated=True)),
        ("timing in [night, workout]", nodes.InValues(N("timing"), ("night", "workout"))),
        ("timing not in [walking]", nodes.InValues(N("timing"), ("walking",), negated=True)),
        ("pain is known", nodes.IsKnown(N("pain"), known=True)),
        ("pain is unknown", nodes.IsKnown(N("pain"), known=False)),
        ('low(x, 1.5, "mg")', nodes.Call("low", (N("x"), nodes.Number(1.5), nodes.Text("mg")))),
        ("score(x) > 3", nodes.Compare(nodes.Call("score", (N("x"),)), ">", nodes.Number(3))),
        ("ready()", nodes.Call("ready", ())),
    ],
)
def test_conditions(text: str, expected: nodes.Condition) -> None:
    assert condition_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recommend heat", nodes.Action("recommend", "heat")),
        ("prefer citrate", nodes.Action("prefer", "citrate")),
        ("prefer citrate over glycinate", nodes.Action("prefer", "citrate", over=("glycinate",))),
        ("prefer a over b, c", nodes.Action("prefer", "a", over=("b", "c"))),
        ("avoid citrate", nodes.Action("avoid", "citrate")),
        ("suspect dehydration", nodes.Action("suspect", "dehydration")),
        ("refer doctor", nodes.Action("refer", "doctor")),
        ("refer doctor urgent", nodes.Action("refer", "doctor", urgent=True)),
    ],
)
def test_actions(text: str, expected: nodes.Action) -> None:
    assert rule_of(f"if a then {text}").actions == (expected,)


def test_several_actions_are_joined_by_and() -> None:
    rule = rule_of("if a then recommend stretching and recommend massage and refer doctor urgent")
    assert [str(a) for a in rule.actions] == [
        "recommend stretching",
        "recommend massage",
        "refer doctor urgent",
    ]


def test_a_named_rule_takes_every_clause_in_any_order() -> None:
    rule = rule_of(
        """
        rule citrate_for_constipation priority 5:
            if constipation and long_term
            then prefer citrate
            cite berg, rupa
            because "Citrate draws water " "into the bowel."
            unless bedtime
            detail "Osmotic laxative effect."
            overrides other_rule
            evidence B
            reviewed 2026-11-01
            status testing
            author "Dr. Who"
        """
    )
    assert rule == nodes.Rule(
        name="citrate_for_constipation",
        condition=nodes.All((N("constipation"), N("long_term"))),
        actions=(nodes.Action("prefer", "citrate"),),
        unless=N("bedtime"),
        because="Citrate draws water into the bowel.",
        detail="Osmotic laxative effect.",
        sources=("berg", "rupa"),
        overrides=("other_rule",),
        priority=5,
        evidence="B",
        reviewed=datetime.date(2026, 11, 1),
        status="testing",
        author="Dr. Who",
    )


def test_priority_may_also_be_a_clause_and_evidence_a_text() -> None:
    rule = rule_of('rule r: if a then recommend b priority -3 evidence "expert opinion"')
    assert (rule.priority, rule.evidence) == (-3, "expert opinion")


def test_declarations() -> None:
    document = parse(
        """
        ruleset leg_cramps "Leg cramps" version "1.0" author "A" reviewed 2026-01-02 status testing
        source berg "Dr. Eric Berg" url "https://example.org"
        fact constipation: bool "Are you constipated?"
        fact pain: number 0..10 "How bad?"
        fact weight: number unit "kg"
        fact timing: one of night, workout, walking "When?"
        fact low_mg: bool "Low magnesium" derived
        group relief "Relief now"
        option heat "Heat" in relief
        option glycinate
        cause magnesium_deficiency "Low magnesium" cite berg
        include "more.cramp"
        extends base
        """
    )
    assert document.statements == (
        nodes.RulesetHeader(
            "leg_cramps",
            "Leg cramps",
            version="1.0",
            author="A",
            reviewed=datetime.date(2026, 1, 2),
            status="testing",
        ),
        nodes.SourceDecl("berg", "Dr. Eric Berg", "https://example.org"),
        nodes.FactDecl("constipation", nodes.BoolType(), question="Are you constipated?"),
        nodes.FactDecl("pain", nodes.NumberType(0, 10), question="How bad?"),
        nodes.FactDecl("weight", nodes.NumberType(), unit="kg"),
        nodes.FactDecl("timing", nodes.EnumType(("night", "workout", "walking")), question="When?"),
        nodes.FactDecl("low_mg", nodes.BoolType(), question="Low magnesium", derived=True),
        nodes.GroupDecl("relief", "Relief now"),
        nodes.OptionDecl("heat", "Heat", "relief"),
        nodes.OptionDecl("glycinate"),
        nodes.CauseDecl("magnesium_deficiency", "Low magnesium", ("berg",)),
        nodes.IncludeDecl("more.cramp"),
        nodes.ExtendsDecl("base"),
    )


def test_invariants_speak_of_outcomes() -> None:
    (invariant,) = parse(
        'invariant "one form": if pain >= 8 then refer doctor urgent and not (prefer a and prefer b)'
    ).statements
    assert invariant == nodes.Invariant(
        "one form",
        nodes.Compare(N("pain"), ">=", nodes.Number(8)),
        nodes.ClaimAll(
            (
                nodes.Action("refer", "doctor", urgent=True),
                nodes.ClaimNot(nodes.ClaimAll((nodes.Action("prefer", "a"), nodes.Action("prefer", "b")))),
            )
        ),
    )


def test_an_invariant_without_a_condition_always_applies() -> None:
    (invariant,) = parse('invariant "x": prefer a or not avoid b').statements
    assert isinstance(invariant, nodes.Invariant)
    assert invariant.condition is None
    assert invariant.claim == nodes.ClaimAny(
        (nodes.Action("prefer", "a"), nodes.ClaimNot(nodes.Action("avoid", "b")))
    )


def test_examples_give_facts_and_expect_outcomes() -> None:
    (example,) = parse(
        """
        example "constipated, at bedtime":
            given constipation, not bedtime, pain = 7, timing is night, mood = "ok", x is unknown
            expect prefer glycinate
            expect not conditional prefer citrate
            expect refer doctor urgent
            expect question sensitive_stomach
            expect not question bedtime
        """
    ).statements
    assert example == nodes.Example(
        "constipated, at bedtime",
        (
            nodes.Given("constipation", True),
            nodes.Given("bedtime", False),
            nodes.Given("pain", 7),
            nodes.Given("timing", "night"),
            nodes.Given("mood", "ok"),
            nodes.Given("x", None),
        ),
        (
            nodes.Expectation(False, nodes.Action("prefer", "glycinate")),
            nodes.Expectation(True, nodes.Action("prefer", "citrate"), conditional=True),
            nodes.Expectation(False, nodes.Action("refer", "doctor", urgent=True)),
            nodes.Expectation(False, question="sensitive_stomach"),
            nodes.Expectation(True, question="bedtime"),
        ),
    )


def test_examples_may_be_written_on_one_line_with_semicolons() -> None:
    (example,) = parse('example "e": given a; expect prefer b; expect not prefer c').statements
    assert isinstance(example, nodes.Example)
    assert len(example.expectations) == 2


def test_comments_are_kept_with_their_positions_but_not_inside_texts() -> None:
    document = parse('# first\nif a then recommend b # trailing\nsource s "not # a comment"\n')
    assert [(c.text, c.line, c.column) for c in document.comments] == [
        ("# first", 1, 1),
        ("# trailing", 2, 23),
    ]


def test_spans_point_at_the_source_but_do_not_take_part_in_equality() -> None:
    rule = rule_of("\n\nrule r:\n  if a then recommend b")
    assert rule.span is not None
    assert (rule.span.line, rule.span.column) == (3, 6)
    assert rule == nodes.Rule("r", N("a"), (nodes.Action("recommend", "b"),))


def test_layout_is_free() -> None:
    one_line = rule_of('rule r: if a and b then prefer c unless d because "x"')
    spread = rule_of('rule r:\n\n  if a\n and\n b\n then\n prefer c\n unless d\n because\n "x"')
    assert one_line == spread


@pytest.mark.parametrize("name", ["status", "author", "version", "unit", "url", "known", "urgent"])
def test_soft_keywords_can_be_names(name: str) -> None:
    assert condition_of(name) == N(name)


def test_strings_take_escapes() -> None:
    rule = rule_of('if a then recommend b because "say \\"hi\\"\\nnow \\\\"')
    assert rule.because == 'say "hi"\nnow \\'

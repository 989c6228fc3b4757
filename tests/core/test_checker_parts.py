"""The checker's parts, each on its own: the diagnostics sink, the unknown-ruleset
error, the pure dependency order, and conditions checked with or without inference."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cramprules
from cramprules import nodes
from cramprules.checker import DiagnosticSink, SourceText, check
from cramprules.checker._conditions import ConditionChecker
from cramprules.checker._declarations import declare
from cramprules.checker._order import find_cycle, rule_order, topological_order
from cramprules.checker._vocabulary import Vocabulary
from cramprules.exceptions import CramprulesError, RulesetError, UnknownRuleset
from cramprules.model import RuleSpec
from cramprules.parser import parse

# ---------------------------------------------------------------- the diagnostics sink


def span(origin: str, line: int, column: int, end_column: int | None = None) -> nodes.Span:
    return nodes.Span(origin, line, column, line, end_column or column + 1)


def test_the_sink_shows_the_line_a_finding_points_at() -> None:
    sink = DiagnosticSink(main="main.cramp")
    sink.read("main.cramp", "fact pain: number\nrule r: if pian > 3 then prefer rest\n")
    sink.error(
        "typo-name", "'pian' is not declared", span("main.cramp", 2, 12, 16), hint="did you mean 'pain'?"
    )
    (diagnostic,) = sink.diagnostics
    assert diagnostic.render() == (
        "main.cramp:2:12: error: 'pian' is not declared\n"
        " 2 | rule r: if pian > 3 then prefer rest\n"
        "   |            ^^^^\n"
        " hint: did you mean 'pain'?"
    )


def test_a_finding_without_a_span_belongs_to_the_main_file() -> None:
    sink = DiagnosticSink.of_texts([("main.cramp", "a\n"), ("part.cramp", "b\n")])
    sink.note("analysis-skipped", "too many", None)
    assert [(d.origin, d.line, d.severity) for d in sink.diagnostics] == [("main.cramp", None, "info")]


def test_the_sink_keeps_severities_apart_and_counts_only_errors_as_errors() -> None:
    sink = DiagnosticSink(main="m")
    sink.error("e", "an error", None)
    sink.warning("w", "a warning", None)
    sink.note("n", "a note", None)
    sink.keep(cramprules.Diagnostic("k", "error", "made elsewhere"))
    assert [(d.code, d.severity) for d in sink.diagnostics] == [
        ("e", "error"),
        ("w", "warning"),
        ("n", "info"),
        ("k", "error"),
    ]
    assert [d.code for d in sink.errors] == ["e", "k"]


def test_source_order_is_by_file_as_read_then_line_column_and_code() -> None:
    sink = DiagnosticSink.of_texts([("main.cramp", "x\n" * 9), ("base.cramp", "y\n" * 9)])
    sink.error("b", "later file", span("base.cramp", 1, 1))
    sink.error("z", "same place, later code", span("main.cramp", 3, 5))
    sink.error("a", "same place, earlier code", span("main.cramp", 3, 5))
    sink.error("c", "earlier line", span("main.cramp", 2, 9))
    sink.error("y", "same line, earlier column", span("main.cramp", 3, 2))
    sink.error("d", "no place", None)
    sink.error("e", "a file never read", span("elsewhere.cramp", 1, 1))
    assert [d.code for d in sink.in_source_order()] == ["d", "c", "y", "a", "z", "b", "e"]
    assert [d.code for d in sink.diagnostics] == ["b", "z", "a", "c", "y", "d", "e"]  # as found


# ---------------------------------------------------------------- unknown rulesets


@pytest.mark.parametrize(
    ("known", "message"),
    [
        (
            ("leg_cramps", "night_cramps"),
            "there is no ruleset called 'leg_cramp'; did you mean 'leg_cramps'?",
        ),
        (("zeta", "alpha"), "there is no ruleset called 'leg_cramp'; known rulesets: zeta, alpha"),
        ((), "there is no ruleset called 'leg_cramp'; no plugin offers any ruleset"),
    ],
)
def test_an_unknown_ruleset_says_its_name_and_what_is_known(known: tuple[str, ...], message: str) -> None:
    error = UnknownRuleset("leg_cramp", known)
    assert isinstance(error, CramprulesError)
    assert (error.name, error.known) == ("leg_cramp", known)
    assert str(error) == message


def test_the_engine_raises_unknown_ruleset_with_the_names_it_knows(engine: cramprules.Engine) -> None:
    with pytest.raises(UnknownRuleset) as info:
        engine.ruleset("leg_cramp")
    assert info.value.name == "leg_cramp"
    assert "leg_cramps" in info.value.known
    assert str(info.value) == "there is no ruleset called 'leg_cramp'; did you mean 'leg_cramps'?"


def test_extending_an_unknown_ruleset_suggests_a_known_one() -> None:
    def resolve(name: str) -> list[SourceText]:
        raise UnknownRuleset(name, ["night_cramps", "leg_cramps"])

    with pytest.raises(RulesetError) as info:
        check(SourceText("extends leg_cramp\nrule r: if a then prefer b\n", "x.cramp"), resolve_base=resolve)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.message, diagnostic.hint) == (
        "unknown-ruleset",
        "there is no ruleset named 'leg_cramp' to extend",
        "did you mean 'leg_cramps'?",
    )


def test_a_base_comes_first_and_its_own_ruleset_line_gives_way() -> None:
    base = SourceText(
        'ruleset base "Base"\nfact pain: number\nrule b: if pain > 5 then prefer rest\n', "b.cramp"
    )

    program = check(
        SourceText("ruleset mine\nextends base\nrule m: if pain > 8 then prefer sleep\n", "m.cramp"),
        resolve_base=lambda name: [base],
    )
    assert program.name == "mine"
    assert [r.name for r in program.rules] == ["b", "m"]
    assert [origin for origin, _ in program.texts] == ["m.cramp", "b.cramp"]


def test_includes_are_spliced_where_they_stand(tmp_path: Path) -> None:
    (tmp_path / "causes.cramp").write_text("rule middle: if b then prefer y\n", encoding="utf-8")
    main = tmp_path / "main.cramp"
    text = 'rule first: if a then prefer x\ninclude "causes.cramp"\nrule last: if c then prefer z\n'
    program = check(SourceText(text, "main.cramp", path=main, root=tmp_path))
    assert [r.name for r in program.rules] == ["first", "middle", "last"]


# ---------------------------------------------------------------- the dependency order


def rule(name: str, condition: str, *, suspects: str = "", overrides: tuple[str, ...] = ()) -> RuleSpec:
    actions = (nodes.Action("suspect", suspects),) if suspects else (nodes.Action("prefer", "rest"),)
    return RuleSpec(name, False, nodes.Name(condition), actions, overrides=overrides)


def test_causes_are_concluded_before_the_rules_that_test_them() -> None:
    rules = [
        rule("uses", "dehydrated"),
        rule("concludes", "thirsty", suspects="dehydrated"),
        rule("alone", "tired"),
    ]
    order = rule_order(rules)
    assert order.cycle is None
    assert order.indices == (1, 0, 2)  # 'alone' is ready at once, but 'uses' is earlier in the source


def test_an_overridden_rule_runs_after_the_rules_that_override_it() -> None:
    rules = [rule("general", "cramps"), rule("special", "night", overrides=("general",))]
    assert rule_order(rules).indices == (1, 0)


def test_a_cycle_is_returned_with_the_reason_for_each_step() -> None:
    rules = [
        rule("free", "tired"),
        rule("a", "y", suspects="x"),
        rule("b", "x", suspects="y"),
    ]
    order = rule_order(rules)
    assert order.indices == (0, 1, 2)  # source order stands in
    assert order.cycle is not None
    assert order.cycle.rules == (1, 2, 1)
    assert order.cycle.reasons == ("'a' tests y, which 'b' suspects", "'b' tests x, which 'a' suspects")


def test_a_cycle_through_overrides_is_found_too() -> None:
    rules = [rule("a", "x", suspects="c"), rule("b", "c", overrides=("a",))]
    order = rule_order(rules)
    assert order.cycle is not None
    assert order.cycle.rules == (0, 1, 0)
    assert order.cycle.reasons == ("'b' overrides 'a'", "'b' tests c, which 'a' suspects")


@st.composite
def graphs(draw: st.DrawFn) -> list[set[int]]:
    n = draw(st.integers(min_value=1, max_value=8))
    return [draw(st.sets(st.integers(min_value=0, max_value=n - 1), max_size=3)) for _ in range(n)]


@given(graphs())
def test_every_graph_gets_an_order_or_a_real_cycle(depends: list[set[int]]) -> None:
    order = topological_order(depends)
    placed = {node: k for k, node in enumerate(order)}
    for node in order:
        assert all(dep in placed and placed[dep] < placed[node] for dep in depends[node])
    left = set(range(len(depends))) - set(order)
    if left:
        cycle = find_cycle(depends, left)
        assert cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1
        assert all(cycle[k + 1] in depends[cycle[k]] for k in range(len(cycle) - 1))


@given(graphs())
def test_the_order_is_the_lowest_ready_node_first(depends: list[set[int]]) -> None:
    acyclic = [{d for d in deps if d < node} for node, deps in enumerate(depends)]
    order = topological_order(acyclic)
    assert sorted(order) == list(range(len(acyclic)))
    done: set[int] = set()
    for node in order:
        ready = [n for n in range(len(acyclic)) if n not in done and acyclic[n] <= done]
        assert node == min(ready)
        done.add(node)


# ---------------------------------------------------------------- inference, on or off


def conditions_of(text: str, *, infer: bool) -> tuple[ConditionChecker, DiagnosticSink]:
    sink = DiagnosticSink(main="x.cramp")
    sink.read("x.cramp", text)
    vocabulary = Vocabulary(declare(parse(text, "x.cramp").statements, sink), ())
    return ConditionChecker(vocabulary, sink, infer=infer), sink


def test_rules_infer_an_undeclared_fact_from_its_use() -> None:
    checker, sink = conditions_of("fact pain: number\n", infer=True)
    checker.condition(nodes.Compare(nodes.Name("swelling"), ">", nodes.Number(2)))
    assert checker.names.value_kind("swelling") == "number"
    assert [(d.code, d.severity) for d in sink.diagnostics] == [("inferred-fact", "info")]


def test_invariants_may_not_introduce_a_fact() -> None:
    checker, sink = conditions_of("fact pain: number\n", infer=False)
    checker.condition(nodes.Compare(nodes.Name("swelling"), ">", nodes.Number(2)))
    assert checker.names.value_kind("swelling") is None
    assert [(d.code, d.message) for d in sink.diagnostics] == [
        ("unknown-name", "'swelling' is not a fact or cause of this ruleset")
    ]


def test_what_a_condition_checker_may_infer_cannot_be_switched() -> None:
    checker, _ = conditions_of("", infer=False)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        checker.infer = True  # type: ignore[misc]


def test_names_in_lists_every_name_a_condition_tests() -> None:
    condition = nodes.All(
        (
            nodes.Name("a"),
            nodes.Not(nodes.Compare(nodes.Name("b"), ">", nodes.Number(1))),
            nodes.InValues(nodes.Name("c"), ("low",)),
            nodes.Call("bmi", (nodes.Name("d"),)),
        )
    )
    assert nodes.names_in(condition, None, nodes.Name("e")) == {"a", "b", "c", "d", "e"}

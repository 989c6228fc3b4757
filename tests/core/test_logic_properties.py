"""Properties of the three-valued logic, checked with hypothesis.

The generated Python code is tested against two references: Kleene's truth
tables, written out by hand, and the tree-walking interpreter.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cramprules
from cramprules import nodes
from cramprules.evaluator import Env, interpret
from cramprules.states import State
from cramprules.unparse import unparse

T, F, U = True, False, None

# Kleene's strong three-valued logic, written out by hand.
AND = {
    (T, T): T, (T, F): F, (T, U): U,
    (F, T): F, (F, F): F, (F, U): F,
    (U, T): U, (U, F): F, (U, U): U,
}  # fmt: skip
OR = {
    (T, T): T, (T, F): T, (T, U): T,
    (F, T): T, (F, F): F, (F, U): U,
    (U, T): T, (U, F): U, (U, U): U,
}  # fmt: skip
NOT = {T: F, F: T, U: U}

ENGINE = cramprules.Engine(autoload=False)


def state_for(value: bool | None) -> int:
    return {T: State.FIRED, F: State.NOT_MATCHED, U: State.PENDING}[value]


def facts_of(**values: bool | None) -> dict[str, bool]:
    return {k: v for k, v in values.items() if v is not None}


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, U], repeat=2)))
def test_and_or_follow_kleenes_truth_tables(a: bool | None, b: bool | None) -> None:
    rs = ENGINE.parse_ruleset(
        "rule both: if a and b then recommend x\nrule either: if a or b then recommend y"
    )
    states = rs.evaluate(facts_of(a=a, b=b)).states
    assert states == (state_for(AND[(a, b)]), state_for(OR[(a, b)]))


@pytest.mark.parametrize("a", [T, F, U])
def test_not_follows_kleenes_truth_table(a: bool | None) -> None:
    rs = ENGINE.parse_ruleset("if not a then recommend x")
    assert rs.evaluate(facts_of(a=a)).states == (state_for(NOT[a]),)


@pytest.mark.parametrize(("c", "u"), list(itertools.product([T, F, U], repeat=2)))
def test_unless_settles_the_rule(c: bool | None, u: bool | None) -> None:
    rs = ENGINE.parse_ruleset("if c then recommend x unless u")
    expected = {
        (T, F): State.FIRED,
        (T, U): State.CONDITIONAL,
        (T, T): State.DEFEATED,
        (U, F): State.PENDING,
        (U, U): State.PENDING,
        (U, T): State.DEFEATED,
        (F, F): State.NOT_MATCHED,
        (F, U): State.NOT_MATCHED,
        (F, T): State.NOT_MATCHED,
    }[(c, u)]
    assert rs.evaluate(facts_of(c=c, u=u)).states == (expected,)


# ---------------------------------------------------------------- random conditions

BOOLS = ("a", "b", "c")
DECLARATIONS = "fact a: bool\nfact b: bool\nfact c: bool\nfact n: number 0..10\nfact e: one of x, y, z\n"

atoms = st.one_of(
    st.sampled_from([nodes.Name(n) for n in BOOLS]),
    st.builds(
        nodes.Compare,
        st.just(nodes.Name("n")),
        st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
        st.integers(0, 10).map(nodes.Number),
    ),
    st.builds(
        lambda low, width: nodes.Between(nodes.Name("n"), nodes.Number(low), nodes.Number(low + width)),
        st.integers(0, 10),
        st.integers(0, 4),
    ),
    st.builds(
        nodes.InValues,
        st.just(nodes.Name("e")),
        st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2, unique=True).map(tuple),
        st.booleans(),
    ),
    st.builds(nodes.IsKnown, st.sampled_from([nodes.Name(n) for n in ("a", "n", "e")]), st.booleans()),
)
conditions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        inner.map(nodes.Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.All(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.Any(tuple(xs))),
    ),
    max_leaves=8,
)
fact_sets = st.fixed_dictionaries(
    {},
    optional={
        "a": st.booleans(),
        "b": st.booleans(),
        "c": st.booleans(),
        "n": st.integers(0, 10) | st.floats(0, 10, allow_nan=False),
        "e": st.sampled_from(["x", "y", "z"]),
    },
)


def kleene_state(condition: bool | None, unless: bool | None) -> int:
    if condition is False:
        return State.NOT_MATCHED
    if unless is True:
        return State.DEFEATED
    if condition is None:
        return State.PENDING
    return State.CONDITIONAL if unless is None else State.FIRED


@settings(max_examples=300, deadline=None)
@given(condition=conditions, unless=conditions, facts=fact_sets)
def test_generated_code_agrees_with_the_interpreter(
    condition: nodes.Condition, unless: nodes.Condition, facts: dict[str, object]
) -> None:
    text = DECLARATIONS + f"if {unparse(condition)} then recommend x unless {unparse(unless)}"
    rs = ENGINE.parse_ruleset(text)
    env = Env({name: facts.get(name) for name in rs.facts}, {})
    expected = kleene_state(interpret(condition, env), interpret(unless, env))
    assert rs.evaluate(facts).states == (expected,)


@settings(max_examples=200, deadline=None)
@given(condition=conditions, facts=fact_sets)
def test_the_two_valued_and_three_valued_deciders_agree_on_complete_input(
    condition: nodes.Condition, facts: dict[str, object]
) -> None:
    complete = {"a": True, "b": False, "c": True, "n": 5, "e": "y", **facts}
    rs = ENGINE.parse_ruleset(DECLARATIONS + f"if {unparse(condition)} then recommend x")
    values, fast_states = rs.compiled.run(complete)
    assert rs.compiled.decide(values) == fast_states


@settings(max_examples=200, deadline=None)
@given(condition=conditions)
def test_rendering_a_condition_parses_back_to_the_same_tree(condition: nodes.Condition) -> None:
    from cramprules.parser import parse

    (rule,) = parse(f"if {unparse(condition)} then recommend x").statements
    assert isinstance(rule, nodes.Rule)
    assert rule.condition == condition

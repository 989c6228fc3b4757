"""``unparse``: the one printer of the language, exact enough to parse back to the same tree."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cramprules
from cramprules import nodes, parser
from cramprules.authoring.fmt import format_document, format_text
from cramprules.parser import parse, reserved_words
from cramprules.unparse import invariant_body, number, unparse

N = nodes.Name
T = TypeVar("T")


def statement_of(text: str) -> nodes.Statement:
    (statement,) = parse(text).statements
    return statement


def condition_of(text: str) -> nodes.Condition:
    rule = statement_of(f"if {text} then recommend x")
    assert isinstance(rule, nodes.Rule)
    return rule.condition


# ---------------------------------------------------------------- one spelling


@pytest.mark.parametrize(
    ("node", "text"),
    [
        pytest.param(nodes.Number(8), "8", id="an integer has no point"),
        pytest.param(nodes.Number(8.0), "8.0", id="a float written 8.0 keeps its point"),
        pytest.param(nodes.Number(-2.5), "-2.5", id="a negative number"),
        pytest.param(nodes.Number(0.00001), "0.00001", id="a small number has no exponent"),
        pytest.param(nodes.Number(1e16), "10000000000000000.0", id="a large number has no exponent"),
        pytest.param(nodes.Text('say "hi"\tto\\me\n'), r'"say \"hi\"\tto\\me\n"', id="a text is escaped"),
        pytest.param(
            nodes.Call("bmi", (N("weight"), nodes.Number(1.8), nodes.Text("m"))),
            'bmi(weight, 1.8, "m")',
            id="a call",
        ),
    ],
)
def test_operands_are_written_one_way(node: nodes.Operand, text: str) -> None:
    assert unparse(node) == text


@pytest.mark.parametrize(
    ("source", "text"),
    [
        pytest.param(
            "a  or b and not(c or d)", "a or (b and not (c or d))", id="nested and/or in parentheses"
        ),
        pytest.param("(a and b) and c", "(a and b) and c", id="the author's grouping is kept"),
        pytest.param("pain between 3 and 6 and a", "(pain between 3 and 6) and a", id="a nested between"),
        pytest.param("not pain between 3 and 6", "not (pain between 3 and 6)", id="a negated between"),
        pytest.param("pain between 3 and 6", "pain between 3 and 6", id="a between alone"),
        pytest.param("pain == 8", "pain = 8", id="one equals sign"),
        pytest.param("t is not night", "t is not night", id="one value"),
        pytest.param("t not in [a,b]", "t not in [a, b]", id="several values"),
        pytest.param(
            "t in [known]", "t in [known]", id="a value that reads as 'is known' keeps its brackets"
        ),
        pytest.param("t is unknown", "t is unknown", id="is unknown"),
    ],
)
def test_conditions_are_written_one_way(source: str, text: str) -> None:
    assert unparse(condition_of(source)) == text
    assert condition_of(text) == condition_of(source)


def test_actions_print_the_same_through_str_and_unparse() -> None:
    action = nodes.Action("prefer", "citrate", over=("glycinate", "oxide"))
    assert unparse(action) == str(action) == "prefer citrate over glycinate, oxide"
    assert str(nodes.Action("refer", "doctor", urgent=True)) == "refer doctor urgent"
    assert str(nodes.NumberType(0, 7.5)) == "number 0..7.5"


def test_an_invariant_body_reads_as_written() -> None:
    invariant = statement_of(
        'invariant "i": if pain >= 8 then refer doctor urgent and not (avoid a or avoid b)'
    )
    assert isinstance(invariant, nodes.Invariant)
    assert invariant_body(invariant) == "if pain >= 8 then refer doctor urgent and not (avoid a or avoid b)"


def test_a_statement_comes_out_in_the_canonical_layout() -> None:
    rule = statement_of('rule r: if a then recommend x cite s because "why" unless b')
    text = unparse(rule)
    assert text == 'rule r:\n    if a\n    then recommend x\n    unless b\n    because "why"\n    cite s'
    assert format_text(text) == text + "\n"


# ---------------------------------------------------------------- round trips, over generated trees

# Names include words that are keywords only in some places: unparse must
# never write one where the parser would read the keyword.
NAMES = st.sampled_from(
    ["a", "pain", "x_1", "status", "known", "unknown", "urgent", "over", "unit", "of", "derived", "given"]
)
WORDS = st.sampled_from(["night", "known", "unknown", "urgent", "w2"])
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


def _operands(*, texts: bool) -> st.SearchStrategy[nodes.Operand]:
    simple: list[st.SearchStrategy[nodes.Operand]] = [NAMES.map(N), NUMBERS.map(nodes.Number)]
    if texts:
        simple.append(TEXT.map(nodes.Text))
    return st.one_of(*simple)


CALLS = st.builds(
    nodes.Call,
    st.sampled_from(["bmi", "f"]),
    st.lists(_operands(texts=True), max_size=3).map(tuple),
)
OPERANDS = st.one_of(_operands(texts=False), CALLS)
TESTS = st.one_of(
    NAMES.map(N),
    CALLS,
    st.builds(nodes.Compare, OPERANDS, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), OPERANDS),
    st.builds(nodes.Between, OPERANDS, OPERANDS, OPERANDS),
    st.builds(nodes.IsKnown, NAMES.map(N), st.booleans()),
    st.builds(
        nodes.InValues, NAMES.map(N), st.lists(WORDS, min_size=1, max_size=3).map(tuple), st.booleans()
    ),
)


def _nested(
    leaves: st.SearchStrategy[T], negation: Any, both: Any, either: Any, size: int
) -> st.SearchStrategy[T]:
    """``not``, ``and`` and ``or`` of ``leaves``, nested: conditions or claims."""
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(negation, inner),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: both(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: either(tuple(xs))),
        ),
        max_leaves=size,
    )


CONDITIONS: st.SearchStrategy[nodes.Condition] = _nested(TESTS, nodes.Not, nodes.All, nodes.Any, 8)
ACTIONS = st.one_of(
    st.builds(nodes.Action, st.sampled_from(["recommend", "avoid", "suspect"]), NAMES),
    st.builds(lambda t, o: nodes.Action("prefer", t, tuple(o)), NAMES, st.lists(NAMES, max_size=2)),
    st.builds(lambda t, u: nodes.Action("refer", t, urgent=u), NAMES, st.booleans()),
)
CLAIMS: st.SearchStrategy[nodes.Claim] = _nested(ACTIONS, nodes.ClaimNot, nodes.ClaimAll, nodes.ClaimAny, 5)
DATES = st.dates(datetime.date(1990, 1, 1), datetime.date(2040, 12, 31))
MAYBE_TEXT = st.none() | TEXT
RULES = st.builds(
    nodes.Rule,
    name=st.none() | NAMES.map(lambda n: f"rule_{n}"),
    condition=CONDITIONS,
    actions=st.lists(ACTIONS, min_size=1, max_size=3).map(tuple),
    unless=st.none() | CONDITIONS,
    because=MAYBE_TEXT,
    detail=MAYBE_TEXT,
    sources=st.lists(NAMES, max_size=3).map(tuple),
    overrides=st.lists(NAMES, max_size=2).map(tuple),
    priority=st.integers(0, 10**6),
    evidence=st.none() | NAMES | TEXT,
    reviewed=st.none() | DATES,
    status=st.none() | NAMES,
    author=MAYBE_TEXT,
)
STATEMENTS = st.one_of(
    RULES,
    st.builds(nodes.RulesetHeader, NAMES, MAYBE_TEXT, MAYBE_TEXT, MAYBE_TEXT, st.none() | DATES,
              st.none() | NAMES, st.none() | NAMES | TEXT),
    st.builds(nodes.SourceDecl, NAMES, TEXT, MAYBE_TEXT),
    st.builds(nodes.FactDecl, NAMES,
              st.one_of(st.just(nodes.BoolType()), st.just(nodes.NumberType()),
                        st.builds(nodes.NumberType, NUMBERS, NUMBERS),
                        st.lists(WORDS, min_size=1, max_size=3).map(lambda vs: nodes.EnumType(tuple(vs)))),
              MAYBE_TEXT, MAYBE_TEXT, st.booleans()),
    st.builds(nodes.OptionDecl, NAMES, MAYBE_TEXT, st.none() | NAMES),
    st.builds(nodes.GroupDecl, NAMES, TEXT),
    st.builds(lambda n, label, s: nodes.CauseDecl(n, label, tuple(s)), NAMES, MAYBE_TEXT,
              st.lists(NAMES, max_size=2)),
    st.builds(nodes.IncludeDecl, TEXT),
    st.builds(nodes.ExtendsDecl, NAMES),
    st.builds(nodes.Invariant, TEXT, st.none() | CONDITIONS, CLAIMS),
    st.builds(
        lambda label, g, e: nodes.Example(label, tuple(g), tuple(e)),
        TEXT,
        st.lists(st.builds(nodes.Given, NAMES, st.one_of(st.booleans(), st.none(), NUMBERS, WORDS, TEXT)),
                 max_size=4),
        st.lists(st.one_of(st.builds(lambda n, c, a: nodes.Expectation(n, a, c), st.booleans(), st.booleans(),
                                     ACTIONS),
                           st.builds(lambda n, q: nodes.Expectation(n, question=q), st.booleans(), NAMES)),
                 min_size=1, max_size=3),
    ),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(CONDITIONS)
def test_a_condition_parses_back_to_itself(condition: nodes.Condition) -> None:
    assert condition_of(unparse(condition)) == condition


@settings(max_examples=200, deadline=None)
@given(CLAIMS)
def test_a_claim_parses_back_to_itself(claim: nodes.Claim) -> None:
    assert statement_of(f'invariant "i": {unparse(claim)}') == nodes.Invariant("i", None, claim)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RULES)
def test_a_rule_parses_back_to_itself(rule: nodes.Rule) -> None:
    assert statement_of(unparse(rule)) == rule


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STATEMENTS, st.sampled_from([40, 110]))
def test_every_statement_parses_back_to_itself_at_any_width(statement: nodes.Statement, width: int) -> None:
    assert statement_of(unparse(statement, width=width)) == statement


@given(NUMBERS)
def test_a_number_is_never_written_with_an_exponent(value: float) -> None:
    text = number(value)
    assert "e" not in text.lower()
    assert condition_of(f"n = {text}") == nodes.Compare(N("n"), "=", nodes.Number(value))


# ---------------------------------------------------------------- the layout each statement keeps


def test_a_statement_keeps_where_it_and_its_clauses_start() -> None:
    rule = statement_of('rule r:\n  if a\n  then recommend x\n  because "one "\n    "two"\n  cite s\n')
    assert isinstance(rule, nodes.Rule)
    assert rule.layout is not None
    assert (rule.layout.start.line, rule.layout.start.column) == (1, 1)
    assert rule.span is not None
    assert rule.span.column == 6  # errors still point at the name
    because = rule.layout.clause("because")
    assert because is not None
    assert (because.line, because.column) == (4, 3)
    assert rule.layout.written("because") == ("one ", "two")
    assert rule.layout.clause("unless") is None


def test_layout_takes_no_part_in_equality() -> None:
    assert (
        statement_of("fact   a : bool")
        == statement_of("fact a: bool")
        == nodes.FactDecl("a", nodes.BoolType())
    )


def test_an_example_keeps_where_each_given_starts() -> None:
    example = statement_of('example "e":\n  given a, not\n  b,\n  c = 1\n  expect avoid x')
    assert isinstance(example, nodes.Example)
    assert example.layout is not None
    assert [s.line for s in example.layout.items] == [2, 2, 4]


def test_fmt_prints_from_the_tree_and_never_parses_again(monkeypatch: pytest.MonkeyPatch) -> None:
    document = parse("# first\nif a   then recommend x  # why\n\n\nfact b:bool\n")

    def no_parsing() -> None:
        raise AssertionError("fmt parsed the text again")

    monkeypatch.setattr(parser, "_parser", no_parsing)
    assert format_document(document) == "# first\nif a then recommend x  # why\n\nfact b: bool\n"


def test_fmt_prints_a_document_built_by_hand() -> None:
    document = nodes.Document(
        "<built>",
        (
            nodes.FactDecl("a", nodes.BoolType()),
            nodes.Rule("r", N("a"), (nodes.Action("recommend", "x"),), because="why"),
        ),
    )
    assert (
        format_document(document)
        == 'fact a: bool\n\nrule r:\n    if a\n    then recommend x\n    because "why"\n'
    )


def test_only_the_parser_imports_lark() -> None:
    package = Path(cramprules.__file__).parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == "lark" or name.startswith("lark.") for name in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"parser.py", "transformer.py"}


def test_reserved_words_are_never_written_as_names() -> None:
    assert "then" in reserved_words()
    given_item = nodes.Given("t", "then")
    assert unparse(given_item) == 't = "then"'

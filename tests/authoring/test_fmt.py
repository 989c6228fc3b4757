"""``cramprules fmt``: the canonical layout, comments kept, idempotent, and the same syntax tree."""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import click.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cramprules import nodes
from cramprules._resources import data_dir
from cramprules.authoring.fmt import format_text, number, texts
from cramprules.exceptions import RulesetSyntaxError
from cramprules.parser import parse

DATA = Path(__file__).parent / "data"
Run = Callable[..., click.testing.Result]


def _same_tree(a: str, b: str) -> bool:
    """Same statements (spans aside) and the same comments (wherever they went)."""
    x, y = parse(a), parse(b)
    return x.statements == y.statements and sorted(c.text for c in x.comments) == sorted(
        c.text for c in y.comments
    )


# ---------------------------------------------------------------- the layout


LAYOUTS = [
    pytest.param(
        "if constipation and long_term then prefer citrate unless bedtime",
        "if constipation and long_term then prefer citrate unless bedtime\n",
        id="the headline stays on one line",
    ),
    pytest.param(
        'rule c: if a then prefer citrate cite berg because "x" unless b priority 3',
        'rule c priority 3:\n    if a\n    then prefer citrate\n    unless b\n    because "x"\n    cite berg\n',
        id="a named rule: header, then clauses in order",
    ),
    pytest.param(
        "if a then recommend x cite berg",
        "if a\n    then recommend x\n    cite berg\n",
        id="an anonymous rule with more clauses breaks after its condition",
    ),
    pytest.param(
        "if a or b and not (c or d) then recommend x",
        "if a or (b and not (c or d)) then recommend x\n",
        id="nested and/or are parenthesised",
    ),
    pytest.param(
        "fact   pain :number 0 .. 10   \"Pain?\"\nfact t: one of n,w\noption x 'X'".replace("'", '"'),
        'fact pain: number 0..10 "Pain?"\nfact t: one of n, w\n\noption x "X"\n',
        id="declarations: one per line, kinds apart",
    ),
    pytest.param(
        'source s "S" url "https://example.org"',
        'source s "S"\n    url "https://example.org"\n',
        id="a source's url goes on the next line",
    ),
    pytest.param(
        'ruleset r "R" version "1" status production reviewed 2025-01-02',
        'ruleset r "R"\nversion "1"\nreviewed 2025-01-02\nstatus production\n',
        id="the ruleset header, one clause a line",
    ),
    pytest.param(
        'invariant "i": if a then not (prefer x and prefer y)',
        'invariant "i":\n    if a then not (prefer x and prefer y)\n',
        id="an invariant",
    ),
    pytest.param(
        'example "e": given a, not b, pain = 2.5, t is n, u is unknown; expect not conditional prefer x; '
        "expect question c",
        'example "e":\n    given a, not b, pain = 2.5, t is n, u is unknown\n    expect not conditional prefer x\n'
        "    expect question c\n",
        id="an example",
    ),
    pytest.param(
        "if a then recommend x\nif b then recommend y\n\n\n\nif c then recommend z",
        "if a then recommend x\nif b then recommend y\n\nif c then recommend z\n",
        id="the author's blank lines are kept, at most one",
    ),
    pytest.param(
        "rule a: if x then recommend y\nrule b: if z then recommend w",
        "rule a:\n    if x\n    then recommend y\n\nrule b:\n    if z\n    then recommend w\n",
        id="multi-line rules are set apart",
    ),
]


@pytest.mark.parametrize(("source", "expected"), LAYOUTS)
def test_the_canonical_layout(source: str, expected: str) -> None:
    assert format_text(source) == expected
    assert _same_tree(source, expected)


def test_a_long_text_is_split_at_spaces_under_its_first_quote() -> None:
    words = " ".join(["word"] * 25)
    out = format_text(f'rule r: if a then recommend x because "{words}"')
    because = [line for line in out.splitlines() if '"' in line]
    assert len(because) == 2
    assert because[0].startswith('    because "word')
    assert because[1].startswith(" " * 12 + '"word')
    assert all(len(line) <= 110 for line in because)
    assert parse(out).statements[0].because == words  # type: ignore[union-attr]


def test_the_authors_split_of_a_text_is_kept_when_it_fits() -> None:
    source = 'rule r:\n    if a\n    then recommend x\n    because "One sentence. "\n            "Another."\n'
    assert format_text(source) == source


def test_a_long_condition_breaks_before_each_top_level_or() -> None:
    condition = " or ".join(f"fact_number_{n}" for n in range(12))
    out = format_text(f"rule r: if {condition} then recommend x")
    assert "    if fact_number_0\n        or fact_number_1\n" in out
    assert _same_tree(out, f"rule r: if {condition} then recommend x")


def test_numbers_keep_their_value_and_never_use_an_exponent() -> None:
    assert number(0.00001) == "0.00001"
    assert number(1e16) == "10000000000000000.0"
    assert number(3) == "3"
    assert format_text("if dose > 0.00001 then recommend x") == "if dose > 0.00001 then recommend x\n"


def test_texts_round_trip_escapes() -> None:
    text = 'say "hi" \\ then\nnext'
    pieces = texts(text, 0)
    assert parse(f"rule r: if a then recommend x because {' '.join(pieces)}").statements[0].because == text  # type: ignore[union-attr]


# ---------------------------------------------------------------- comments


COMMENTED = """\
# The header comment.

ruleset r "R"  # what r is

# Sources
source s "S"

rule one:  # the first rule
    # why it tests a
    if a
    then recommend x  # the advice
    # the citation
    cite s

# a comment at the end
"""


def test_comments_stay_where_they_were() -> None:
    assert format_text(COMMENTED) == COMMENTED


def test_a_comment_goes_with_the_clause_it_precedes() -> None:
    source = 'rule r: if a then recommend x\n    # about the citation\n    cite s\n    because "b"\n'
    assert format_text(source) == (
        'rule r:\n    if a\n    then recommend x\n    because "b"\n    # about the citation\n    cite s\n'
    )


# ---------------------------------------------------------------- idempotence on real files


def _real_files() -> list[Path]:
    rulesets = data_dir("rulesets")
    return sorted(p for p in [*DATA.glob("*.cramp"), *Path(str(rulesets)).rglob("*.cramp")])


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_real_files_format_to_the_same_tree_and_stay_formatted(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    once = format_text(source, str(path))
    assert _same_tree(source, once)
    assert format_text(once, str(path)) == once


# ---------------------------------------------------------------- properties on generated rulesets

NAMES = st.sampled_from(["a", "b", "pain", "timing", "x_1", "status", "known_fact"])
WORDS = st.sampled_from(["night", "walking", "w2"])
NUMBERS = st.one_of(st.integers(-20, 20), st.sampled_from([0.5, 2.25, 7.75, 10.0]))
TEXT = st.text(alphabet=st.sampled_from([*list('abc XYZ.,:"\\#\n\t'), "é"]), max_size=160)


def _conditions() -> st.SearchStrategy[nodes.Condition]:
    atoms = st.one_of(
        NAMES.map(nodes.Name),
        st.builds(lambda n, op, v: nodes.Compare(nodes.Name(n), op, nodes.Number(v)), NAMES,
                  st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), NUMBERS),
        st.builds(lambda n, a, b: nodes.Between(nodes.Name(n), nodes.Number(a), nodes.Number(b)), NAMES, NUMBERS,
                  NUMBERS),
        st.builds(lambda n, k: nodes.IsKnown(nodes.Name(n), k), NAMES, st.booleans()),
        st.builds(lambda n, vs, neg: nodes.InValues(nodes.Name(n), tuple(vs), neg), NAMES,
                  st.lists(WORDS, min_size=1, max_size=3), st.booleans()),
        st.builds(lambda f, args: nodes.Call(f, tuple(args)), st.sampled_from(["bmi", "f"]),
                  st.lists(st.one_of(NAMES.map(nodes.Name), NUMBERS.map(nodes.Number),
                                     TEXT.map(nodes.Text)), max_size=2)),
    )  # fmt: skip
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            inner.map(nodes.Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.All(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.Any(tuple(xs))),
        ),
        max_leaves=6,
    )


ACTIONS = st.one_of(
    st.builds(lambda t: nodes.Action("recommend", t), NAMES),
    st.builds(lambda t, o: nodes.Action("prefer", t, tuple(o)), NAMES, st.lists(NAMES, max_size=2)),
    st.builds(lambda t: nodes.Action("avoid", t), NAMES),
    st.builds(lambda t: nodes.Action("suspect", t), NAMES),
    st.builds(lambda t, u: nodes.Action("refer", t, urgent=u), NAMES, st.booleans()),
)
OPTIONAL_TEXT = st.none() | TEXT


@st.composite
def rules(draw: st.DrawFn) -> nodes.Rule:
    return nodes.Rule(
        name=draw(st.none() | NAMES.map(lambda n: f"rule_{n}")),
        condition=draw(_conditions()),
        actions=tuple(draw(st.lists(ACTIONS, min_size=1, max_size=3))),
        unless=draw(st.none() | _conditions()),
        because=draw(OPTIONAL_TEXT),
        detail=draw(OPTIONAL_TEXT),
        sources=tuple(draw(st.lists(NAMES, max_size=2))),
        overrides=tuple(draw(st.lists(NAMES, max_size=2))),
        priority=draw(st.integers(0, 200)),
        evidence=draw(st.none() | st.sampled_from(["A", "B+", "grade 2", "status"])),
        reviewed=draw(st.none() | st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31))),
        status=draw(st.none() | st.sampled_from(["production", "testing", "draft"])),
        author=draw(OPTIONAL_TEXT),
    )


def _claims() -> st.SearchStrategy[nodes.Claim]:
    return st.recursive(
        ACTIONS,
        lambda inner: st.one_of(
            inner.map(nodes.ClaimNot),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.ClaimAll(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: nodes.ClaimAny(tuple(xs))),
        ),
        max_leaves=4,
    )


GIVEN = st.builds(
    nodes.Given,
    NAMES,
    st.one_of(st.booleans(), st.none(), NUMBERS, WORDS, TEXT),
)
EXPECTATIONS = st.one_of(
    st.builds(lambda n, c, a: nodes.Expectation(n, a, c), st.booleans(), st.booleans(), ACTIONS),
    st.builds(lambda n, q: nodes.Expectation(n, question=q), st.booleans(), NAMES),
)
FACT_TYPES = st.one_of(
    st.just(nodes.BoolType()),
    st.just(nodes.NumberType()),
    st.builds(nodes.NumberType, NUMBERS, NUMBERS),
    st.lists(WORDS, min_size=1, max_size=3).map(lambda vs: nodes.EnumType(tuple(vs))),
)
STATEMENTS = st.one_of(
    rules(),
    rules(),
    st.builds(nodes.RulesetHeader, NAMES, OPTIONAL_TEXT, OPTIONAL_TEXT, OPTIONAL_TEXT,
              st.none() | st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 1, 1)),
              st.none() | st.just("production"), st.none() | st.just("B")),
    st.builds(nodes.SourceDecl, NAMES, TEXT, OPTIONAL_TEXT),
    st.builds(nodes.FactDecl, NAMES, FACT_TYPES, OPTIONAL_TEXT, OPTIONAL_TEXT, st.booleans()),
    st.builds(nodes.OptionDecl, NAMES, OPTIONAL_TEXT, st.none() | NAMES),
    st.builds(nodes.GroupDecl, NAMES, TEXT),
    st.builds(lambda n, label, s: nodes.CauseDecl(n, label, tuple(s)), NAMES, OPTIONAL_TEXT,
              st.lists(NAMES, max_size=2)),
    st.builds(nodes.IncludeDecl, st.sampled_from(["parts/a.cramp", "b.cramp"])),
    st.builds(nodes.ExtendsDecl, NAMES),
    st.builds(nodes.Invariant, TEXT, st.none() | _conditions(), _claims()),
    st.builds(lambda label, g, e: nodes.Example(label, tuple(g), tuple(e)), TEXT, st.lists(GIVEN, max_size=4),
              st.lists(EXPECTATIONS, min_size=1, max_size=3)),
)  # fmt: skip


# A deliberately untidy printer, independent of the formatter: every token
# separated by random whitespace, clauses in random order, texts split at
# random, comments dropped between tokens.


def _q(text: str) -> str:
    return (
        '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    )


def _cond(node: nodes.Condition | nodes.Operand) -> list[str]:
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Number):
        return [str(node.value)]
    if isinstance(node, nodes.Text):
        return [_q(node.value)]
    if isinstance(node, nodes.Call):
        out = [node.function, "("]
        for k, arg in enumerate(node.arguments):
            out += ([","] if k else []) + _cond(arg)
        return [*out, ")"]
    if isinstance(node, nodes.Not):
        return ["not", "(", *_cond(node.operand), ")"]
    if isinstance(node, (nodes.All, nodes.Any)):
        word = "and" if isinstance(node, nodes.All) else "or"
        out = []
        for k, operand in enumerate(node.operands):
            out += ([word] if k else []) + ["(", *_cond(operand), ")"]
        return out
    if isinstance(node, nodes.Compare):
        return [*_cond(node.left), node.op, *_cond(node.right)]
    if isinstance(node, nodes.Between):
        return [*_cond(node.subject), "between", *_cond(node.low), "and", *_cond(node.high)]
    if isinstance(node, nodes.IsKnown):
        return [node.name.name, "is", "known" if node.known else "unknown"]
    out = [node.name.name]
    if node.negated:
        out.append("not")
    return [*out, "in", "[", ", ".join(node.values), "]"]


def _act(action: nodes.Action) -> list[str]:
    out = [action.kind, action.target]
    if action.over:
        out += ["over", ", ".join(action.over)]
    return out + (["urgent"] if action.urgent else [])


def _claim(claim: nodes.Claim) -> list[str]:
    if isinstance(claim, nodes.Action):
        return _act(claim)
    if isinstance(claim, nodes.ClaimNot):
        return ["not", "(", *_claim(claim.operand), ")"]
    word = "and" if isinstance(claim, nodes.ClaimAll) else "or"
    out: list[str] = []
    for k, operand in enumerate(claim.operands):
        out += ([word] if k else []) + ["(", *_claim(operand), ")"]
    return out


def _split(text: str, rng: random.Random) -> list[str]:
    cuts = sorted(rng.sample(range(len(text) + 1), k=min(2, len(text) + 1)))
    parts = [text[: cuts[0]], text[cuts[0] : cuts[-1]], text[cuts[-1] :]]
    return [_q(p) for p in parts if p] or ['""']


def _tokens(statement: nodes.Statement, rng: random.Random) -> list[str]:
    if isinstance(statement, nodes.Rule):
        clauses: list[list[str]] = []
        if statement.unless is not None:
            clauses.append(["unless", *_cond(statement.unless)])
        for key in ("because", "detail"):
            value = getattr(statement, key)
            if value is not None:
                clauses.append([key, *_split(value, rng)])
        if statement.sources:
            clauses.append(["cite", ", ".join(statement.sources)])
        if statement.overrides:
            clauses.append(["overrides", ", ".join(statement.overrides)])
        if statement.evidence is not None:
            clauses.append(["evidence", _q(statement.evidence)])
        if statement.reviewed is not None:
            clauses.append(["reviewed", str(statement.reviewed)])
        if statement.status is not None:
            clauses.append(["status", statement.status])
        if statement.author is not None:
            clauses.append(["author", _q(statement.author)])
        head: list[str] = []
        if statement.priority:
            if statement.name is not None and rng.random() < 0.5:
                head = ["priority", str(statement.priority)]
            else:
                clauses.append(["priority", str(statement.priority)])
        rng.shuffle(clauses)
        body = ["if", *_cond(statement.condition), "then"]
        for k, action in enumerate(statement.actions):
            body += (["and"] if k else []) + _act(action)
        out = [*(["rule", statement.name, *head, ":"] if statement.name is not None else []), *body]
        return out + [t for clause in clauses for t in clause]
    if isinstance(statement, nodes.RulesetHeader):
        out = ["ruleset", statement.name] + ([_q(statement.title)] if statement.title is not None else [])
        for key in ("version", "author"):
            if getattr(statement, key) is not None:
                out += [key, _q(getattr(statement, key))]
        if statement.reviewed is not None:
            out += ["reviewed", str(statement.reviewed)]
        if statement.status is not None:
            out += ["status", statement.status]
        if statement.evidence is not None:
            out += ["evidence", statement.evidence]
        return out
    if isinstance(statement, nodes.SourceDecl):
        return ["source", statement.name, _q(statement.label)] + (
            ["url", _q(statement.url)] if statement.url is not None else []
        )
    if isinstance(statement, nodes.FactDecl):
        kind = statement.type
        if isinstance(kind, nodes.BoolType):
            type_tokens = ["bool"]
        elif isinstance(kind, nodes.EnumType):
            type_tokens = ["one", "of", ", ".join(kind.values)]
        elif kind.low is None or kind.high is None:
            type_tokens = ["number"]
        else:
            type_tokens = ["number", f"{kind.low}..{kind.high}"]
        out = ["fact", statement.name, ":", *type_tokens]
        if statement.unit is not None:
            out += ["unit", _q(statement.unit)]
        if statement.question is not None:
            out.append(_q(statement.question))
        return out + (["derived"] if statement.derived else [])
    if isinstance(statement, nodes.OptionDecl):
        out = ["option", statement.name] + ([_q(statement.label)] if statement.label is not None else [])
        return out + (["in", statement.group] if statement.group is not None else [])
    if isinstance(statement, nodes.GroupDecl):
        return ["group", statement.name, _q(statement.label)]
    if isinstance(statement, nodes.CauseDecl):
        out = ["cause", statement.name] + ([_q(statement.label)] if statement.label is not None else [])
        return out + (["cite", ", ".join(statement.sources)] if statement.sources else [])
    if isinstance(statement, nodes.IncludeDecl):
        return ["include", _q(statement.path)]
    if isinstance(statement, nodes.ExtendsDecl):
        return ["extends", statement.name]
    if isinstance(statement, nodes.Invariant):
        out = ["invariant", _q(statement.label), ":"]
        if statement.condition is not None:
            out += ["if", *_cond(statement.condition), "then"]
        return out + _claim(statement.claim)
    assert isinstance(statement, nodes.Example)
    out = ["example", _q(statement.label), ":"]
    if statement.given:
        out.append("given")
        for k, item in enumerate(statement.given):
            value = item.value
            if value is True:
                words = [item.fact]
            elif value is False:
                words = ["not", item.fact]
            elif value is None:
                words = [item.fact, "is", "unknown"]
            elif isinstance(value, str):
                words = [item.fact, "=", _q(value)]
            else:
                words = [item.fact, "=", str(value)]
            out += ([","] if k else []) + words
        if rng.random() < 0.5:
            out.append(";")
    for expectation in statement.expectations:
        out += ["expect", *(["not"] if expectation.negated else [])]
        if expectation.question is not None:
            out += ["question", expectation.question]
        else:
            assert expectation.action is not None
            out += [*(["conditional"] if expectation.conditional else []), *_act(expectation.action)]
    return out


def _untidy(statements: Sequence[nodes.Statement], seed: int) -> str:
    rng = random.Random(seed)
    pieces: list[str] = []
    comment = 0
    for statement in statements:
        for token in _tokens(statement, rng):
            roll = rng.random()
            if roll < 0.08:
                comment += 1
                pieces.append(f"  # note {comment}\n")
            elif roll < 0.25:
                pieces.append("\n" + " " * rng.randrange(0, 9))
            elif roll < 0.3:
                pieces.append("\n\n")
            else:
                pieces.append(" " * rng.randrange(1, 3))
            pieces.append(token)
        pieces.append("\n")
    return "".join(pieces)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STATEMENTS, min_size=1, max_size=5), st.integers(0, 2**16))
def test_formatting_keeps_the_tree_and_is_idempotent(statements: list[nodes.Statement], seed: int) -> None:
    source = _untidy(statements, seed)
    original = parse(source)
    assert original.statements == tuple(statements)  # the untidy printer itself is right
    once = format_text(source)
    formatted = parse(once)
    assert formatted.statements == original.statements
    assert sorted(c.text for c in formatted.comments) == sorted(c.text for c in original.comments)
    assert format_text(once) == once


# ---------------------------------------------------------------- the command


UGLY = "if  a and b   then recommend x\n"
PRETTY = "if a and b then recommend x\n"


def test_fmt_rewrites_files_in_place(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "r.cramp"
    path.write_text(UGLY)
    result = run_cli("fmt", str(path))
    assert result.exit_code == 0
    assert path.read_text() == PRETTY
    assert f"reformatted {path}" in result.output
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_fmt_check_changes_nothing_and_exits_1(run_cli: Run, tmp_path: Path) -> None:
    ugly, pretty = tmp_path / "ugly.cramp", tmp_path / "pretty.cramp"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    result = run_cli("fmt", "--check", str(ugly), str(pretty))
    assert result.exit_code == 1
    assert ugly.read_text() == UGLY
    assert f"would reformat {ugly}" in result.output
    assert "1 file would be reformatted, 1 left unchanged." in result.output
    assert run_cli("fmt", "--check", str(pretty)).exit_code == 0


def test_fmt_diff_prints_a_unified_diff(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "r.cramp"
    path.write_text(UGLY)
    result = run_cli("fmt", "--diff", str(path))
    assert result.exit_code == 1
    assert f"--- {path} (original)\n+++ {path} (formatted)\n" in result.output
    assert "-if  a and b   then recommend x\n+if a and b then recommend x\n" in result.output
    assert path.read_text() == UGLY


def test_fmt_leaves_a_file_that_does_not_parse_alone(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "r.cramp"
    path.write_text("if a and then recommend x\n")
    result = run_cli("fmt", str(path))
    assert result.exit_code == 3
    assert "expected a condition" in result.output
    assert path.read_text() == "if a and then recommend x\n"


def test_fmt_reads_stdin(run_cli: Run) -> None:
    result = run_cli("fmt", "-", input=UGLY)
    assert result.exit_code == 0
    assert result.stdout == PRETTY


def test_fmt_walks_directories(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.cramp").write_text(UGLY)
    assert run_cli("fmt", str(tmp_path)).exit_code == 0
    assert (tmp_path / "sub" / "r.cramp").read_text() == PRETTY


def test_format_text_raises_on_a_syntax_error() -> None:
    with pytest.raises(RulesetSyntaxError):
        format_text("if a and then recommend x")

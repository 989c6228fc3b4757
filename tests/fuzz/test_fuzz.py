"""Whatever the input, cramprules answers with a result or one clear error, never a crash.

Hypothesis writes the inputs: ruleset texts made of the language's own
words mixed with anything else, fact files in every loader's format,
values of every Python type for every kind of fact, and command lines
made of the real options with odd values.
"""

from __future__ import annotations

import collections
import decimal
import json

import click.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cramprules
from cramprules import CramprulesError, FactError, Limits, RulesetError
from cramprules.cli import App, cli
from cramprules.parser import parse

pytestmark = pytest.mark.fuzz

FUZZ = settings.get_profile("cramprules-fuzz")
ENGINE = cramprules.Engine(autoload=False, limits=Limits(max_source_chars=20_000))
RULESET = ENGINE.default_ruleset()

WORDS = [
    "ruleset", "source", "fact", "option", "cause", "include", "extends", "rule", "if", "then",
    "and", "or", "not", "unless", "because", "cite", "recommend", "prefer", "over", "avoid",
    "suspect", "refer", "doctor", "urgent", "priority", "is", "known", "unknown", "in", "between",
    "bool", "number", "one", "of", "example", "given", "expect", "invariant", "status", "unit",
    "a", "b", "pain", "x", "f1", "0", "7", "-2.5", "10", "0..10", '"text"', '"', ":", ",", "(", ")",
    "[", "]", "<", "<=", ">=", "=", "!=", ";", "#", "..", "\n", " ", "\t", "\ufeff", "\x00", "\u00e9",
    "\u0669", "\u200b", "_", "1_0", "é", "𝕏",
]  # fmt: skip

VOCABULARY = st.sampled_from(WORDS) | st.text(max_size=3)


def _one_line(message: str) -> None:
    first = message.split("\n")[0]
    assert len(first) <= 1_000, len(first)


# ---------------------------------------------------------------- the parser and the checker


@FUZZ
@given(st.lists(VOCABULARY, max_size=60).map(" ".join))
def test_the_parser_answers_a_document_or_a_syntax_error(tried: collections.Counter[str], text: str) -> None:
    tried["parser"] += 1
    try:
        parse(text, "<fuzz>")
    except RulesetError as exc:
        _one_line(str(exc))


@FUZZ
@given(st.lists(VOCABULARY, max_size=40).map(" ".join))
def test_a_whole_ruleset_compiles_or_is_refused_in_words(tried: collections.Counter[str], text: str) -> None:
    tried["ruleset"] += 1
    try:
        ENGINE.parse_ruleset("fact a: bool\nfact pain: number 0..10\noption x\n" + text)
    except CramprulesError as exc:
        _one_line(str(exc))


# ---------------------------------------------------------------- the fact loaders

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
FACT_NAMES = st.sampled_from(sorted(RULESET.facts)) | st.text(max_size=12)
RECORDS = st.dictionaries(FACT_NAMES, JSON_VALUES, max_size=6)


def _evaluate_each(records: list[dict[str, object]]) -> None:
    for record in records:
        try:
            RULESET.evaluate(record)
        except FactError as exc:
            _one_line(str(exc))


@FUZZ
@given(st.sampled_from(["json", "jsonl", "yaml", "csv", "tsv", "toml"]), st.text(max_size=200))
def test_any_text_in_any_format_loads_or_is_refused(
    tried: collections.Counter[str], suffix: str, text: str
) -> None:
    tried["loaders (text)"] += 1
    try:
        records = ENGINE.load_facts(text, suffix)
    except FactError as exc:
        _one_line(str(exc))
        return
    assert all(isinstance(record, dict) for record in records)
    _evaluate_each(records)


@FUZZ
@given(st.lists(RECORDS, max_size=3) | RECORDS | JSON_VALUES, st.sampled_from(["json", "yaml", "jsonl"]))
def test_structured_facts_load_and_evaluate_or_are_refused(
    tried: collections.Counter[str], data: object, suffix: str
) -> None:
    tried["loaders (records)"] += 1
    if suffix == "jsonl" and isinstance(data, list):
        text = "\n".join(json.dumps(item) for item in data)
    else:
        text = json.dumps(data)  # JSON is YAML too
    try:
        records = ENGINE.load_facts(text, suffix)
    except FactError as exc:
        _one_line(str(exc))
        return
    _evaluate_each(records)


ANY_VALUE = (
    JSON_VALUES
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["1_0", "\uff11\uff10", "\u0669", "0x10", "1e400", "-0", " 7 ", "7 mg/dL", "nan"])
    | st.fractions()
    | st.complex_numbers()
    | st.binary(max_size=4)
)


@FUZZ
@given(st.sampled_from(sorted(RULESET.facts)), ANY_VALUE)
def test_any_value_for_any_fact_is_read_or_refused(
    tried: collections.Counter[str], name: str, value: object
) -> None:
    tried["fact values"] += 1
    try:
        report = RULESET.evaluate({name: value})
    except FactError as exc:
        _one_line(str(exc))
        return
    if isinstance(value, decimal.Decimal) and value.is_finite() and report.facts.get(name) is not None:
        assert not isinstance(report.facts[name], decimal.Decimal)


# ---------------------------------------------------------------- the command line

OPTIONS = ["--fact", "--facts", "--facts-format", "--format", "-f", "--output", "--audience", "--why-not"]
VALUES = st.sampled_from(
    ["pain=9", "pain=1_0", "pain", "night_cramps", "=", "pain=", "x=y", "-", "json", "yaml", "nope",
     "patient", "clinician", "/nonexistent/x", "leg_cramps", "a.cramp", "\u00e9", "", "pain=٩"]
) | st.text(max_size=6)  # fmt: skip


@FUZZ
@given(
    st.sampled_from(["eval", "explain", "graph", "check"]),
    st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=4),
    st.lists(VALUES, max_size=2),
)
def test_any_command_line_gives_a_result_or_one_line(
    tried: collections.Counter[str], command: str, options: list[tuple[str, str]], words: list[str]
) -> None:
    tried["command lines"] += 1
    args = [command, *words]
    for option, value in options:
        if option == "--output":
            continue  # the fuzzer writes no files
        args += [option, value]
    result = click.testing.CliRunner().invoke(
        cli, args, obj=App(engine=ENGINE, autoload=False), input="", catch_exceptions=False
    )
    assert result.exit_code in (0, 1, 2, 3), (args, result.exit_code, result.stderr)
    if result.exit_code == 2:
        lines = result.stderr.strip("\n").split("\n")
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("error: "), (args, lines[0])

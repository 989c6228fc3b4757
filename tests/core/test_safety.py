"""A ruleset is data: it cannot run code, read other files, or hang the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cramprules
from cramprules import RulesetError, RulesetSyntaxError
from cramprules.parser import MAX_SOURCE_CHARS
from cramprules.transformer import MAX_NESTING


@pytest.mark.parametrize(
    "name",
    [
        "__import__",
        "__builtins__",
        "exec",
        "eval",
        "open",
        "import",
        "lambda",
        "class",
        "self",
        "facts",
        "values",
    ],
)
def test_python_words_are_just_names(engine: cramprules.Engine, name: str) -> None:
    rs = engine.parse_ruleset(
        f'fact {name}: bool "?"\nif {name} then recommend {name}_option because "{name}"'
    )
    assert [r.option for r in rs.evaluate({name: True}).recommendations] == [f"{name}_option"]
    assert rs.evaluate({name: False}).recommendations == ()


def test_generated_code_holds_only_generated_identifiers_and_repr_literals(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset(
        "fact evil_name: bool\nfact t: one of x, y\nif evil_name and t is x then recommend payload"
    )
    source = rs.compiled.source
    # ruleset names appear only inside quoted dictionary keys, never as code
    for match in re.finditer(r"evil_name", source):
        assert source[match.start() - 1] == "'"
        assert source[match.end()] == "'"
    identifiers = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", re.sub(r"'[^']*'", "''", source)))
    allowed = re.compile(
        r"(v|s|k|t|C)\d+|def|decide|run|checked_run|values|facts|return|if|else|elif|not|and|or|is|"
        r"None|True|False|in|try|except|pass|g|get|complete|c|u|len|bool|int|float|str|KeyError|"
        r"TypeError|NeedsKleene|DECLARED|issuperset|unknown_facts|_NOT|__class__|The|common|case|"
        r"first|every|fact|given|each|of|its|exact|type"
    )
    assert {i for i in identifiers if not allowed.fullmatch(i)} == set()


def test_texts_cannot_escape_their_quotes(engine: cramprules.Engine) -> None:
    text = r'''fact t: one of x, y
if t is x then recommend a because "'); import os; os.system('echo hacked'); ('"'''
    rs = engine.parse_ruleset(text)
    (recommendation,) = rs.evaluate(t="x").recommendations
    assert recommendation.because == "'); import os; os.system('echo hacked'); ('"


def test_a_ruleset_reads_no_file_but_its_includes(engine: cramprules.Engine, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("if leaked then recommend password123")
    main = tmp_path / "rules" / "main.cramp"
    main.parent.mkdir()
    main.write_text('include "../secret.txt"')
    with pytest.raises(RulesetError) as info:
        engine.load_ruleset(main)
    assert "password123" not in str(info.value)


def test_a_huge_file_is_refused_with_a_clear_error(engine: cramprules.Engine) -> None:
    text = "#" * (MAX_SOURCE_CHARS + 1)
    with pytest.raises(RulesetSyntaxError, match="the limit is 4,000,000"):
        engine.parse_ruleset(text)


@pytest.mark.parametrize(
    "condition",
    [
        "not " * (MAX_NESTING + 5) + "a",
        "(a and " * (MAX_NESTING + 5) + "b" + ")" * (MAX_NESTING + 5),
    ],
)
def test_deep_nesting_is_refused_without_a_recursion_error(engine: cramprules.Engine, condition: str) -> None:
    with pytest.raises(RulesetSyntaxError, match="nests more than 40 levels deep"):
        engine.parse_ruleset(f"if {condition} then recommend rest")


def test_nesting_up_to_the_limit_works(engine: cramprules.Engine) -> None:
    depth = MAX_NESTING // 2 - 1
    condition = "(a and (" * depth + "b or c" + "))" * depth
    rs = engine.parse_ruleset(f"if {condition} then recommend rest")
    assert rs.evaluate(a=True, b=True).recommendations


def test_redundant_parentheses_cost_nothing(engine: cramprules.Engine) -> None:
    rs = engine.parse_ruleset("if " + "(" * 500 + "a" + ")" * 500 + " then recommend rest")
    assert rs.evaluate(a=True).recommendations


def test_wide_rulesets_compile(engine: cramprules.Engine) -> None:
    many_facts = " and ".join(f"f{i}" for i in range(2_000))
    many_rules = "\n".join(f"rule r{i}: if f{i} or g{i} then recommend o{i % 50}" for i in range(2_000))
    rs = engine.parse_ruleset(f"if {many_facts} then recommend all\n{many_rules}")
    report = rs.evaluate({"f1": True, "g7": True})
    assert {r.option for r in report.recommendations} == {"o1", "o7"}


def test_include_depth_is_bounded(engine: cramprules.Engine, tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"f{i}.cramp").write_text(f'include "f{i + 1}.cramp"\n')
    (tmp_path / "f20.cramp").write_text("if a then recommend b\n")
    with pytest.raises(RulesetError, match="includes nest more than 16 deep"):
        engine.load_ruleset(tmp_path / "f0.cramp")

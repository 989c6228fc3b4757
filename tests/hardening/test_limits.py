"""``Limits``: every bound in one frozen value, configurable on ``Engine``."""

from __future__ import annotations

import attrs
import pytest

import cramprules
from cramprules import FactError, Limits, RulesetError


def test_the_defaults_are_documented_values() -> None:
    assert Limits() == Limits(
        max_source_chars=4_000_000,
        max_rules=20_000,
        max_condition_terms=5_000,
        max_include_depth=16,
        max_fact_bytes=16 * 1024 * 1024,
        max_records=1_000,
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Limits().max_rules = 1  # type: ignore[misc]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_a_limit_is_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError, match=r"Limits\.max_rules must be a positive integer"):
        Limits(max_rules=bad)  # type: ignore[arg-type]


def test_an_engine_takes_its_limits() -> None:
    text = "fact a: bool\n" + "if a then recommend x\n" * 3
    strict = cramprules.Engine(autoload=False, limits=Limits(max_rules=2))
    with pytest.raises(RulesetError, match="this file has 3 rules; the limit is 2"):
        strict.parse_ruleset(text)
    assert cramprules.Engine(autoload=False, limits=Limits(max_rules=3)).parse_ruleset(text)
    with pytest.raises(TypeError, match=r"limits must be a cramprules\.Limits"):
        cramprules.Engine(limits={"max_rules": 3})  # type: ignore[arg-type]


def test_the_rule_limit_counts_every_file_of_a_ruleset(tmp_path) -> None:
    (tmp_path / "part.cramp").write_text("if a then recommend y\nif a then recommend z\n")
    main = tmp_path / "main.cramp"
    main.write_text('include "part.cramp"\nfact a: bool\nif a then recommend x\n')
    engine = cramprules.Engine(autoload=False, limits=Limits(max_rules=2))
    with pytest.raises(RulesetError, match="this ruleset has 3 rules with its includes"):
        engine.load_ruleset(main)


def test_the_condition_limit_counts_terms() -> None:
    engine = cramprules.Engine(autoload=False, limits=Limits(max_condition_terms=5))
    assert engine.parse_ruleset("fact a: bool\nfact b: bool\nif a and b then recommend x\n")
    with pytest.raises(RulesetError, match="this condition has 7 terms; the limit is 5"):
        engine.parse_ruleset("fact a: bool\nfact b: bool\nif a and b and not a and not b then recommend x\n")


def test_fact_text_is_bounded_in_the_api_too() -> None:
    engine = cramprules.Engine(autoload=False, limits=Limits(max_fact_bytes=10))
    with pytest.raises(FactError, match="larger than the limit of 10 bytes"):
        engine.load_facts('{"pain": 1, "x": 2}', "json")


def test_rules_in_strings_and_comments_are_not_counted() -> None:
    from cramprules.parser import count_rules

    assert count_rules('# if a then b\nif a then recommend x because "then then"\n') == 1


@pytest.mark.parametrize("error", [RecursionError, MemoryError])
def test_a_ruleset_too_complex_to_compile_is_an_error_not_a_crash(monkeypatch, error: type) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("cramprules.engine.build_ruleset", exhausted)
    engine = cramprules.Engine(autoload=False)
    with pytest.raises(
        cramprules.CramprulesError, match=r"^<string>: this ruleset is too complex to compile"
    ):
        engine.parse_ruleset("fact a: bool\nif a then recommend x\n")

"""The Python API: the promised names, input validation, isolation and threads."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

import cramprules
from cramprules import FactError

PROMISED = [
    "CramprulesError",
    "Engine",
    "FactError",
    "PluginError",
    "Report",
    "Ruleset",
    "RulesetError",
    "RulesetSyntaxError",
    "__version__",
    "default_ruleset",
    "hookimpl",
    "load_ruleset",
    "parse_ruleset",
    "render",
]


def test_the_promised_names_are_public_and_exported() -> None:
    for name in PROMISED:
        assert hasattr(cramprules, name), name
        assert name in cramprules.__all__, name
    assert sorted(cramprules.__all__) == cramprules.__all__ or set(cramprules.__all__) >= set(PROMISED)


def test_error_classes_form_one_hierarchy() -> None:
    assert issubclass(cramprules.RulesetSyntaxError, cramprules.RulesetError)
    for error in (cramprules.RulesetError, cramprules.FactError, cramprules.PluginError):
        assert issubclass(error, cramprules.CramprulesError)
    assert issubclass(cramprules.FactError, ValueError)


def test_importing_cramprules_loads_no_parser_and_no_plugins() -> None:
    import subprocess
    import sys

    watched = ("lark", "cramprules.parser", "cramprules.engine", "cramprules.formats", "importlib.metadata")
    code = f"import sys, cramprules; print(sorted(m for m in {watched!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_module_functions_use_one_default_engine() -> None:
    assert cramprules.default_engine() is cramprules.default_engine()
    rs = cramprules.parse_ruleset("if a then recommend b")
    assert cramprules.render(rs.evaluate(a=True), "json").startswith("{")


def test_value_objects_are_frozen() -> None:
    report = cramprules.Engine(autoload=False).parse_ruleset("if a then recommend b").evaluate(a=True)
    (recommendation,) = report.recommendations
    with pytest.raises(AttributeError):
        recommendation.option = "c"  # type: ignore[misc]
    for field in ("action", "option", "label", "rule", "because", "detail", "sources", "status", "caveat"):
        assert hasattr(recommendation, field)


# ---------------------------------------------------------------- facts


@pytest.fixture(scope="module")
def typed() -> cramprules.Ruleset:
    return cramprules.Engine(autoload=False).parse_ruleset(
        'fact constipation: bool "?"\nfact pain: number 0..10 "?"\nfact timing: one of night, workout "?"\n'
        "if constipation and pain > 3 and timing is night then recommend rest\n"
        "if tired then suspect fatigue"
    )


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"constipaton": True}, "unknown fact 'constipaton'; did you mean 'constipation'?"),
        ({"zzz": True}, "unknown fact 'zzz'; this ruleset knows: constipation, pain, timing, tired"),
        ({"fatigue": True}, "'fatigue' is a cause that rules conclude, not an input fact"),
        (
            {"constipation": "maybe"},
            "constipation = 'maybe' is not valid: constipation takes yes or no (true/false)",
        ),
        ({"constipation": 2}, "constipation = 2 is not valid: constipation takes yes or no (true/false)"),
        ({"pain": 11}, "pain = 11 is out of range: it must be between 0 and 10"),
        ({"pain": -0.5}, "pain = -0.5 is out of range: it must be between 0 and 10"),
        ({"pain": "lots"}, "pain = 'lots' is not valid: pain takes a number from 0 to 10"),
        ({"pain": True}, "pain = True is not valid: pain takes a number from 0 to 10"),
        ({"pain": float("nan")}, "pain = nan is not valid: pain takes a number from 0 to 10"),
        (
            {"timing": "nihgt"},
            "timing = 'nihgt' is not allowed: it must be one of night, workout; did you mean 'night'?",
        ),
        ({"timing": 3}, "timing = 3 is not valid: timing takes one of night, workout"),
    ],
)
def test_bad_facts_raise_a_fact_error_that_says_what_fits(
    typed: cramprules.Ruleset, facts: dict[str, object], message: str
) -> None:
    with pytest.raises(FactError) as info:
        typed.evaluate(facts)
    assert str(info.value) == message
    assert info.value.fact == next(iter(facts))


@pytest.mark.parametrize(
    ("given", "value"),
    [
        ({"constipation": "yes"}, True),
        ({"constipation": "No"}, False),
        ({"constipation": "true"}, True),
        ({"constipation": "0"}, False),
        ({"constipation": "unknown"}, None),
        ({"pain": "7"}, 7),
        ({"pain": "7.5"}, 7.5),
        ({"timing": "Night"}, "night"),
        ({"timing": "don't know"}, None),
    ],
)
def test_text_from_a_command_line_is_read_by_the_declared_type(
    typed: cramprules.Ruleset, given: dict[str, object], value: object
) -> None:
    report = typed.evaluate(given)
    assert report.facts.get(next(iter(given))) == value


def test_facts_may_be_keywords_or_any_mapping(typed: cramprules.Ruleset) -> None:
    class Facts(Mapping[str, object]):
        def __init__(self, data: dict[str, object]) -> None:
            self.data = data

        def __getitem__(self, key: str) -> object:
            return self.data[key]

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    expected = typed.evaluate({"constipation": True, "pain": 5, "timing": "night"})
    assert typed.evaluate(constipation=True, pain=5, timing="night") == expected
    assert typed.evaluate(Facts({"constipation": True, "pain": 5, "timing": "night"})) == expected
    assert typed.evaluate({"constipation": True}, pain=5, timing="night") == expected


def test_facts_must_be_a_mapping(typed: cramprules.Ruleset) -> None:
    with pytest.raises(FactError, match="facts must be a mapping"):
        typed.evaluate([("pain", 3)])  # type: ignore[arg-type]


def test_the_input_mapping_is_copied_not_kept(typed: cramprules.Ruleset) -> None:
    facts: dict[str, object] = {"constipation": True, "pain": 5, "timing": "night"}
    report = typed.evaluate(facts)
    facts["pain"] = 1
    assert report.facts["pain"] == 5


def test_evaluate_many_matches_evaluate(typed: cramprules.Ruleset) -> None:
    records = [{"pain": p, "constipation": p % 2 == 0, "timing": "night"} for p in range(11)]
    assert typed.evaluate_many(records) == [typed.evaluate(r) for r in records]
    assert typed.evaluate_many(iter(records))[3] == typed.evaluate(records[3])


def test_evaluate_many_names_the_bad_record(typed: cramprules.Ruleset) -> None:
    with pytest.raises(FactError) as info:
        typed.evaluate_many([{"pain": 1}, {"pain": 2}, {"pain": 12}])
    assert str(info.value).startswith("record 2: pain = 12 is out of range")
    assert info.value.record == 2
    with pytest.raises(FactError, match="record 1: facts must be a mapping"):
        typed.evaluate_many([{}, 7])  # type: ignore[list-item]


# ---------------------------------------------------------------- engines and threads


def test_engines_are_isolated_from_each_other() -> None:
    class Extra:
        @cramprules.hookimpl
        def cramprules_functions(self) -> dict[str, object]:
            return {"always": lambda: True}

    with_plugin = cramprules.Engine(plugins=[Extra()], autoload=False)
    plain = cramprules.Engine(autoload=False)
    assert with_plugin.parse_ruleset("if always() then recommend rest").evaluate().recommendations
    with pytest.raises(cramprules.RulesetError, match="no function named 'always'"):
        plain.parse_ruleset("if always() then recommend rest")


def test_the_default_ruleset_is_built_once_per_engine(engine: cramprules.Engine) -> None:
    assert engine.default_ruleset() is engine.default_ruleset()
    assert cramprules.Engine(autoload=False).default_ruleset() is not engine.default_ruleset()


def test_a_ruleset_is_safe_to_share_between_threads(typed: cramprules.Ruleset) -> None:
    records = [
        {"pain": p % 11, "constipation": p % 3 == 0, "timing": ("night", "workout")[p % 2]}
        for p in range(400)
    ]
    expected = [typed.evaluate(r).to_json() for r in records]
    results: dict[int, list[str]] = {}

    def work(worker: int) -> None:
        results[worker] = [typed.evaluate(r).to_json() for r in records]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results.values())
    assert len(results) == 6


def test_a_ruleset_cannot_be_changed(typed: cramprules.Ruleset) -> None:
    with pytest.raises(AttributeError):
        typed.program = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        typed.facts["x"] = None  # type: ignore[index]


def test_evaluate_each_goes_past_bad_records_and_evaluates_each_once() -> None:
    seen: list[cramprules.Report] = []

    class Audit:
        @cramprules.hookimpl
        def cramprules_report(self, report: cramprules.Report) -> None:
            seen.append(report)

    engine = cramprules.Engine(plugins=[Audit()], autoload=False)
    ruleset = engine.parse_ruleset("fact pain: number 0..10\nif pain >= 8 then refer doctor\n")
    records = [{"pain": 9}, {"pain": 11}, {"painn": 1}, {"pain": 2}, "not facts", {}]
    results = ruleset.evaluate_each(records)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Report", "FactError", "FactError", "Report", "FactError", "Report"]
    assert results[0].referrals[0].to == "doctor"
    assert str(results[1]).startswith("pain = 11 is out of range")
    assert "did you mean 'pain'" in str(results[2])
    assert "must be a mapping" in str(results[4])
    assert [r.facts for r in seen] == [{"pain": 9}, {"pain": 2}, {}], "each good record evaluated once"
    assert results[3].to_dict() == ruleset.evaluate({"pain": 2}).to_dict()

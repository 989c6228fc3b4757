"""Each of the seven hooks, through fake plugins registered in-process."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import cramprules
from cramprules import hookspecs


def make(*plugins: object) -> cramprules.Engine:
    return cramprules.Engine(plugins=plugins, autoload=False)


def test_an_engine_is_isolated(fakes) -> None:
    with_fake = make(fakes.Formats(shout=lambda report: "!"))
    without = make()
    assert "shout" in with_fake.formats()
    assert "shout" not in without.formats()
    assert with_fake.plugin_manager is not without.plugin_manager


def test_the_default_engine_is_made_on_first_use_and_kept() -> None:
    assert cramprules.default_engine() is cramprules.default_engine()


def test_builtins_are_plugins_registered_through_the_hooks(engine) -> None:
    names = {info.name for info in engine.plugins()}
    assert {"bundled", "text", "json", "markdown", "html"} <= names
    assert {"json-facts", "yaml-facts", "csv-facts", "toml-facts"} <= names
    assert set(engine.formats()) >= {"text", "json", "markdown", "html"}
    assert set(engine.loaders()) >= {"json", "yaml", "yml", "csv", "tsv", "toml"}


def test_rulesets_hook_offers_text_and_paths(fakes, tmp_path: Path) -> None:
    (tmp_path / "part.cramp").write_text("rule r2: if b then recommend rest\n")
    (tmp_path / "main.cramp").write_text('ruleset from_path\ninclude "part.cramp"\n')
    engine = make(
        fakes.Rulesets(
            from_text="ruleset from_text\nif a then recommend rest\n", from_path=tmp_path / "main.cramp"
        )
    )
    assert {"from_text", "from_path", "leg_cramps"} <= set(engine.ruleset_names())
    report = engine.load_ruleset("from_text").evaluate({"a": True})
    assert [r.option for r in report.recommendations] == ["rest"]
    # A path's includes resolve inside its own directory.
    report = engine.load_ruleset("from_path").evaluate({"b": True})
    assert [r.option for r in report.recommendations] == ["rest"]


def test_extend_adds_facts_causes_and_rules_at_load_time(fakes) -> None:
    fragment = """
    fact swimmer: bool "Do you swim a lot?"
    cause cold_water "Cold water"
    rule swimming: if swimmer then suspect cold_water and recommend rest
        because "Cold water makes muscles cramp."
    """
    engine = make(fakes.Rulesets(clinic=fakes.CLINIC), fakes.Extend("clinic", fragment))
    ruleset = engine.ruleset("clinic")
    assert "swimmer" in ruleset.facts
    report = ruleset.evaluate({"swimmer": True})
    assert [c.name for c in report.causes] == ["cold_water"]
    # Only the named ruleset is extended.
    other = make(
        fakes.Rulesets(clinic=fakes.CLINIC, other="ruleset other\nif a then recommend rest\n"),
        fakes.Extend("clinic", fragment),
    ).ruleset("other")
    assert "swimmer" not in other.facts


def test_extend_reaches_a_ruleset_that_extends_the_named_one(fakes) -> None:
    engine = make(
        fakes.Rulesets(clinic=fakes.CLINIC),
        fakes.Extend("clinic", "fact swimmer: bool\nrule s: if swimmer then recommend rest"),
    )
    child = engine.parse_ruleset("ruleset child\nextends clinic\nrule c: if pain >= 3 then recommend rest\n")
    assert "swimmer" in child.facts


def test_extend_accepts_a_path_fragment(fakes, tmp_path: Path) -> None:
    fragment = tmp_path / "extra.cramp"
    fragment.write_text("fact swimmer: bool\nrule s: if swimmer then recommend rest\n")
    engine = make(fakes.Rulesets(clinic=fakes.CLINIC), fakes.Extend("clinic", fragment))
    report = engine.ruleset("clinic").evaluate({"swimmer": True})
    assert "rest" in [r.option for r in report.recommendations]


def test_functions_are_callable_in_conditions(fakes, engine) -> None:
    calls = []

    def over(value: object, limit: object) -> bool | None:
        calls.append((value, limit))
        return None if value is None else value > limit  # type: ignore[operator]

    plugged = make(fakes.Functions(over=over))
    ruleset = plugged.parse_ruleset("fact pain: number 0..10\nif over(pain, 6) then refer doctor urgent")
    assert ruleset.evaluate({"pain": 7}).referrals[0].urgent
    assert not ruleset.evaluate({"pain": 2}).referrals
    assert (7, 6) in calls
    # Unknown input: the function says unknown, the rule is pending and pain is asked.
    assert [q.fact for q in ruleset.evaluate({}).questions] == ["pain"]


def test_derive_facts_runs_before_evaluation_and_never_replaces_input(fakes) -> None:
    seen = []

    def derive(facts, ruleset):
        seen.append((dict(facts), ruleset.name))
        return {"severe": facts.get("pain", 0) >= 8}

    engine = make(fakes.Derive(derive))
    ruleset = engine.parse_ruleset(
        "ruleset derived_demo\nfact pain: number 0..10\nfact severe: bool derived\n"
        "if severe then refer doctor urgent"
    )
    assert ruleset.evaluate({"pain": 9}).referrals
    assert not ruleset.evaluate({"pain": 2}).referrals
    assert not ruleset.evaluate({"pain": 9, "severe": False}).referrals  # given wins
    assert seen[0] == ({"pain": 9}, "derived_demo")
    # evaluate_many derives too.
    assert [bool(r.referrals) for r in ruleset.evaluate_many([{"pain": 9}, {"pain": 1}])] == [True, False]


def test_derive_facts_may_return_none(fakes) -> None:
    engine = make(fakes.Derive(lambda facts, ruleset: None))
    assert engine.parse_ruleset("if a then recommend rest").evaluate({"a": True}).recommendations


def test_formats_hook_adds_a_format_with_options(fakes, clinic) -> None:
    def upper(report, *, audience="patient"):
        return f"{audience}:{len(report.recommendations)}"

    engine = make(fakes.Formats(upper=upper))
    report = engine.parse_ruleset(fakes.CLINIC).evaluate({"constipation": True, "bedtime": False})
    assert engine.render(report, "upper") == "patient:2"
    assert engine.render(report, "upper", audience="clinician") == "clinician:2"
    # Options a format does not take are not passed to it.
    engine2 = make(fakes.Formats(plain=lambda report: "plain"))
    assert engine2.render(report, "plain", audience="clinician") == "plain"


def test_loaders_hook_adds_a_suffix(fakes, tmp_path: Path) -> None:
    def ini(text: str) -> list[dict[str, object]]:
        return [dict(line.split("=", 1) for line in text.split())]

    engine = make(fakes.Loaders(ini=ini))
    path = tmp_path / "facts.ini"
    path.write_text("pain=7 constipation=yes\n")
    assert engine.load_facts_file(path) == [{"pain": "7", "constipation": "yes"}]
    assert engine.load_facts("pain=1", "INI") == [{"pain": "1"}]


def test_the_longest_registered_suffix_chooses_the_loader(fakes, tmp_path: Path) -> None:
    engine = make(fakes.Loaders(**{"special.json": lambda text: [{"special": True}]}))
    special = tmp_path / "patient.special.json"
    plain = tmp_path / "patient.v2.json"
    special.write_text("{}")
    plain.write_text('{"pain": 3}')
    assert engine.loader_for(special) == "special.json"
    assert engine.load_facts_file(special) == [{"special": True}]
    assert engine.loader_for(plain) == "json"
    assert engine.load_facts_file(plain) == [{"pain": 3}]


def test_report_hook_sees_every_report(fakes) -> None:
    audit = fakes.Audit()
    engine = make(audit)
    ruleset = engine.parse_ruleset("if a then recommend rest")
    one = ruleset.evaluate({"a": True})
    many = ruleset.evaluate_many([{"a": False}, {"a": True}])
    assert audit.seen == [one, *many]


def test_hook_implementations_may_take_fewer_arguments(fakes) -> None:
    class NoArgs:
        @cramprules.hookimpl
        def cramprules_derive_facts(self):
            return {"b": True}

        @cramprules.hookimpl
        def cramprules_extend(self):
            return None

    engine = make(NoArgs())
    ruleset = engine.parse_ruleset("fact b: bool derived\nif b then recommend rest")
    assert ruleset.evaluate({}).recommendations


def test_a_module_is_a_plugin_too(engine) -> None:
    import cramprules.formats.markdown as markdown_module

    plugged = make(markdown_module)
    # Registered once: the built-in of the same module is the same object.
    assert [info.name for info in plugged.plugins()].count("markdown") == 1


def test_every_hook_has_a_fake_plugin_test() -> None:
    hooks = {name for name in dir(hookspecs) if name.startswith("cramprules_")}
    tested = {
        "cramprules_rulesets",
        "cramprules_extend",
        "cramprules_functions",
        "cramprules_derive_facts",
        "cramprules_formats",
        "cramprules_loaders",
        "cramprules_report",
        "cramprules_substances",  # tests/plugins/test_units.py
        "cramprules_convert_units",  # tests/plugins/test_units.py
    }
    assert hooks == tested


def test_engines_build_their_manager_once_under_threads(fakes) -> None:
    engine = make(fakes.Formats(x=lambda report: "x"))
    managers = []
    threads = [threading.Thread(target=lambda: managers.append(engine.plugin_manager)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(m) for m in managers}) == 1


def test_json_output_is_unchanged_by_plugins_that_do_not_touch_it(fakes, clinic) -> None:
    report = clinic.evaluate({"pain": 9, "constipation": True})
    plugged = make(fakes.Formats(x=lambda r: "x"), fakes.Audit())
    assert json.loads(plugged.render(report, "json")) == report.to_dict()


@pytest.mark.parametrize("name", ["text", "json", "markdown", "html"])
def test_module_level_render_uses_the_default_engine(name, clinic) -> None:
    report = clinic.evaluate({"pain": 9})
    assert cramprules.render(report, name)

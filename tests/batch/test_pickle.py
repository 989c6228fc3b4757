"""A ruleset pickles as its source texts and plugin names, and comes back the same.

Workers (processes, Dask) receive rulesets this way: the texts travel, so a
worker needs no access to the files, and plugins are loaded there by name.
"""

from __future__ import annotations

import pickle

import cramprules_labs
import pytest

from cramprules import Engine
from cramprules.exceptions import PluginError
from cramprules.recipe import PluginSpec
from cramprules.ruleset import build_ruleset

FACTS = [
    {"pain": 9},
    {"constipation": True, "long_term": True},
    {"night_cramps": True, "diuretics": True},
    {},
]


def same_reports(a, b, facts=FACTS):
    return [a.evaluate(f).to_json() for f in facts] == [b.evaluate(f).to_json() for f in facts]


def round_trip(ruleset):
    return pickle.loads(pickle.dumps(ruleset))


def test_the_bundled_ruleset_with_its_includes():
    ruleset = Engine(autoload=False).default_ruleset()
    again = round_trip(ruleset)
    assert again is not ruleset
    assert again.sha256 == ruleset.sha256
    assert again.program.texts == ruleset.program.texts
    assert same_reports(ruleset, again)


def test_a_ruleset_built_in_memory():
    ruleset = Engine(autoload=False).parse_ruleset("if a and not b then recommend rest", origin="<mine>")
    again = round_trip(ruleset)
    assert same_reports(ruleset, again, [{"a": True}, {"a": True, "b": False}, {"b": True}])
    assert again.program.texts == (("<mine>", "if a and not b then recommend rest"),)


def test_included_files_travel_with_it(tmp_path):
    """The files may be gone (another machine): the pickle holds their texts."""
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "rest.cramp").write_text("rule rest:\n    if tired\n    then recommend rest\n")
    main = tmp_path / "clinic.cramp"
    main.write_text('ruleset clinic\ninclude "parts/rest.cramp"\nif sore then recommend heat\n')
    ruleset = Engine(autoload=False).load_ruleset(main)
    data = pickle.dumps(ruleset)
    (tmp_path / "parts" / "rest.cramp").unlink()
    main.unlink()
    again = pickle.loads(data)
    assert same_reports(ruleset, again, [{"tired": True}, {"sore": True}, {}])
    assert [e.origin for e in again.evaluate({"tired": True}).trace] == [
        e.origin for e in ruleset.evaluate({"tired": True}).trace
    ]


def test_a_ruleset_that_extends_the_bundled_one():
    engine = Engine(autoload=False)
    ruleset = engine.parse_ruleset("ruleset clinic\nextends leg_cramps\nif sore then recommend heat\n")
    again = round_trip(ruleset)
    assert same_reports(ruleset, again, [*FACTS, {"sore": True, "pain": 2}])


def test_testing_rules_stay_in_or_out():
    text = "rule trial:\n    if a\n    then recommend rest\n    status testing\n"
    engine = Engine(autoload=False)
    for include_testing in (False, True):
        ruleset = engine.parse_ruleset(text, include_testing=include_testing)
        again = round_trip(ruleset)
        assert len(again.rules) == len(ruleset.rules) == int(include_testing)


LAB_FACTS = [
    {"serum_magnesium": "0.6 mmol/L", "night_cramps": True},
    {"serum_potassium": 3.1, "diuretics": True},
    {"serum_calcium": 9.5},
]


def test_a_plugin_module_is_loaded_on_the_other_side_by_name():
    ruleset = Engine(plugins=[cramprules_labs], autoload=False).default_ruleset()
    assert ruleset.recipe.plugins.modules == ("cramprules_labs",)
    again = round_trip(ruleset)
    assert "serum_magnesium" in again.facts
    assert same_reports(ruleset, again, LAB_FACTS)
    assert again.evaluate(LAB_FACTS[0]).to_dict()["causes"], "the plugin's derived facts ran"


class Shout:
    """A plugin object (not a module): pickled as it is, so its class must be importable."""

    from cramprules import hookimpl

    @hookimpl
    def cramprules_functions(self):
        return {"always": _always}


def _always(*args):
    return True


def test_a_plugin_object_travels_pickled_as_it_is():
    plugin = Shout()
    ruleset = Engine(plugins=[plugin], autoload=False).parse_ruleset("if always() then recommend rest")
    assert ruleset.recipe.plugins.objects == (plugin,)
    again = round_trip(ruleset)
    assert again.evaluate({}).recommendations[0].option == "rest"
    assert type(again.recipe.plugins.objects[0]) is Shout


def test_a_ruleset_not_built_by_an_engine_says_why_it_cannot_pickle():
    ruleset = Engine(autoload=False).parse_ruleset("if a then recommend rest")
    bare = build_ruleset(ruleset.program, engine_version="0")
    with pytest.raises(TypeError, match="not built by an Engine"):
        pickle.dumps(bare)


def test_a_worker_without_the_plugins_says_which_are_missing():
    spec = PluginSpec(autoload=True, disabled=(), loaded=("no_such_plugin_here",))
    with pytest.raises(PluginError, match=r"'no_such_plugin_here'.*install the same plugins"):
        spec.disabled_here()


def test_a_missing_plugin_module_is_named():
    spec = PluginSpec(autoload=False, disabled=(), modules=("no_such_module_xyz",))
    with pytest.raises(PluginError, match=r"no_such_module_xyz.*install it on every worker"):
        spec.plugins()


def test_installed_plugins_the_ruleset_was_not_built_with_are_left_out():
    spec = PluginSpec(autoload=True, disabled=("x",), loaded=())
    disabled = spec.disabled_here()
    assert disabled[0] == "x"
    import importlib.metadata

    installed = {ep.name for ep in importlib.metadata.entry_points(group="cramprules")}
    assert set(disabled[1:]) == installed - {"x"}

"""docs/plugins.md documents every hook, and its examples are real plugins (datasette style)."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

import cramprules
from cramprules import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("cramprules_"))


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_arguments(docs: str, hook: str) -> None:
    arguments = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"`{hook}({arguments})`" in docs
    assert f"### `{hook}({arguments})`" in docs, "each hook has its own section"


def test_the_docs_name_no_hook_that_does_not_exist(docs: str) -> None:
    named = set(re.findall(r"\bcramprules_[a-z_]+(?=\()", docs))
    assert named <= set(HOOKS)


def test_every_python_example_compiles(docs: str) -> None:
    blocks = python_blocks(docs)
    assert len(blocks) >= 10
    for block in blocks:
        compile(block, str(DOCS), "exec")


def as_module(source: str) -> types.ModuleType:
    module = types.ModuleType("docs_example")
    module.__file__ = str(DOCS)
    exec(compile(source, str(DOCS), "exec"), module.__dict__)  # noqa: S102 - our own docs' examples
    return module


def plugin_examples(docs: str) -> list[types.ModuleType]:
    return [
        as_module(block) for block in python_blocks(docs) if "@hookimpl" in block and "def test_" not in block
    ]


def test_every_plugin_example_registers_against_the_hookspecs(docs: str) -> None:
    """A wrong hook name or argument in the docs fails registration here."""
    examples = plugin_examples(docs)
    assert len(examples) >= 8
    for module in examples:
        engine = cramprules.Engine(plugins=[module], autoload=False)
        [info] = [i for i in engine.plugins() if i.name == "docs_example"]
        assert info.hooks


def test_the_worked_example_works(docs: str) -> None:
    [source] = [b for b in python_blocks(docs) if "LOW = " in b]
    module = as_module(source)
    module.FRAGMENT = (
        Path(__file__).resolve().parents[2] / "plugins/cramprules-labs/cramprules_labs/labs.cramp"
    )

    class Others:  # the real plugin's derived facts that this short version does not set
        @cramprules.hookimpl
        def cramprules_derive_facts(self):
            return {"low_potassium_lab": False, "very_low_potassium_lab": False, "low_calcium_lab": False}

    engine = cramprules.Engine(plugins=[module, Others()], autoload=False)
    report = engine.default_ruleset().evaluate({"serum_magnesium": 1.4})
    assert {"lab_confirmed_hypomagnesemia", "magnesium_deficiency"} <= {c.name for c in report.causes}


def test_the_hook_examples_do_what_they_say(docs: str) -> None:
    wanted = ("render_sms", "load_ini", "def bmi", "SWIMMING", "cramprules.audit")
    blocks = [b for b in python_blocks(docs) if any(word in b for word in wanted)]
    assert len(blocks) == len(wanted)
    engine = cramprules.Engine(plugins=[as_module(b) for b in blocks], autoload=False)
    assert "sms" in engine.formats()
    assert engine.load_facts("[visit]\npain = 7\n", "ini") == [{"pain": "7"}]
    assert "bmi" in engine.functions()
    ruleset = engine.default_ruleset()
    assert "swimmer" in ruleset.facts
    report = ruleset.evaluate({"swimmer": True, "night_cramps": True, "prolonged": True})
    assert "cold_water" in {c.name for c in report.causes}
    assert engine.render(report, "sms").startswith("See a doctor urgently")


def test_the_testing_examples_pass(docs: str) -> None:
    for block in python_blocks(docs):
        if "def test_shout" in block:
            module = as_module(block)
            module.test_shout()
            return
    pytest.fail("the Shout example is gone")

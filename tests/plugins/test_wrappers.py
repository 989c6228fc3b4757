"""Hooks are called through pluggy: wrappers, ordering and hook-call monitoring work as in pytest.

A plugin may wrap any hook with ``@hookimpl(wrapper=True)`` (or the old
``hookwrapper=True``) and see or change what the other plugins gave; errors
still name the plugin that gave the bad thing, whichever way it got there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator

import pluggy
import pytest

import cramprules
from cramprules import PluginError, RulesetSyntaxError, hookimpl, hookspecs
from cramprules.units import Substance

HOOKS = {name for name in dir(hookspecs) if name.startswith("cramprules_")}


def make(*plugins: object) -> cramprules.Engine:
    return cramprules.Engine(plugins=plugins, autoload=False)


def plugin(name: str, **hooks: Callable[..., object]) -> object:
    """A plugin object called ``name`` with the given hook implementations."""
    instance = type(name.capitalize(), (), hooks)()
    instance.__name__ = name  # type: ignore[attr-defined]
    return instance


def adding(style: str, hook: str, extra: object, name: str = "wrapping") -> object:
    """A plugin that wraps ``hook`` and adds ``extra`` to the results, in the given style."""
    if style == "wrapper":

        def new_style(self: object) -> Generator[None, list[object], list[object]]:
            results = yield
            return [*results, extra]

        return plugin(name, **{hook: hookimpl(wrapper=True)(new_style)})

    def old_style(self: object) -> Generator[None, pluggy.Result[list[object]], None]:
        outcome = yield
        outcome.force_result([*outcome.get_result(), extra])

    return plugin(name, **{hook: hookimpl(hookwrapper=True)(old_style)})


# Each hook that returns something: what a wrapper adds, and how the engine shows it took effect.
ADDITIONS: dict[str, tuple[object, Callable[[cramprules.Engine], object]]] = {
    "cramprules_rulesets": (
        {"wrapped": "ruleset wrapped\nif a then recommend rest"},
        lambda e: [r.option for r in e.ruleset("wrapped").evaluate({"a": True}).recommendations],
    ),
    "cramprules_extend": (
        ["fact swum: bool\nrule s: if swum then recommend rest"],
        lambda e: [r.option for r in e.ruleset("clinic").evaluate({"swum": True}).recommendations],
    ),
    "cramprules_functions": (
        {"twice": lambda x: None if x is None else x * 2},
        lambda e: [
            r.option
            for r in e.parse_ruleset("fact pain: number 0..10\nif twice(pain) > 10 then recommend rest")
            .evaluate({"pain": 6})
            .recommendations
        ],
    ),
    "cramprules_derive_facts": (
        {"severe": True},
        lambda e: [
            r.option
            for r in e.parse_ruleset("fact severe: bool derived\nif severe then recommend rest")
            .evaluate({})
            .recommendations
        ],
    ),
    "cramprules_formats": (
        {"wrapped": lambda report: "rest"},
        lambda e: [e.render(e.ruleset("clinic").evaluate({}), "wrapped")],
    ),
    "cramprules_loaders": (
        {"ini": lambda text: [{"rest": text}]},
        lambda e: [record["rest"] for record in e.load_facts("rest", "ini")],
    ),
    "cramprules_substances": (
        {"sodium": Substance("sodium", 22.99)},
        lambda e: ["rest" if "sodium" in e.substances() else "nothing"],
    ),
}


def test_every_hook_is_covered() -> None:
    assert {*ADDITIONS, "cramprules_report", "cramprules_convert_units"} == HOOKS


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_a_wrapper_can_change_the_first_answer_of_a_firstresult_hook(style: str) -> None:
    class Converter:
        @hookimpl
        def cramprules_convert_units(self, value: float, unit: str, to_unit: str, substance: object) -> float:
            return value * 10

    if style == "wrapper":

        def around(self: object, **kwargs: object) -> Generator[None, float, float]:
            result = yield
            return result + 1

    else:

        def around(self: object, **kwargs: object) -> Generator[None, pluggy.Result[float], None]:
            outcome = yield
            outcome.force_result(outcome.get_result() + 1)

    wrapping = plugin("wrapping", cramprules_convert_units=hookimpl(**{style: True})(around))
    engine = make(Converter(), wrapping)
    assert engine.convert_units(2.0, "mg/dL", "mmol/L") == 21.0


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
@pytest.mark.parametrize("hook", sorted(ADDITIONS))
def test_a_wrapper_can_add_to_what_a_hook_gives(fakes, style: str, hook: str) -> None:
    extra, shown = ADDITIONS[hook]
    engine = make(fakes.Rulesets(clinic=fakes.CLINIC), adding(style, hook, extra))
    assert shown(engine) == ["rest"]


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_a_wrapper_runs_around_the_report_hook(fakes, style: str) -> None:
    events: list[str] = []

    class Audit:
        @hookimpl
        def cramprules_report(self, report: cramprules.Report) -> None:
            events.append("audit")

    if style == "wrapper":

        def around(self: object, report: cramprules.Report) -> Generator[None, object, object]:
            events.append(f"before {len(report.recommendations)}")
            result = yield
            events.append("after")
            return result

    else:

        def around(self: object, report: cramprules.Report) -> Generator[None, object, None]:
            events.append(f"before {len(report.recommendations)}")
            yield
            events.append("after")

    wrapping = plugin("wrapping", cramprules_report=hookimpl(**{style: True})(around))
    ruleset = make(Audit(), wrapping).parse_ruleset("if a then recommend rest")
    ruleset.evaluate({"a": True})
    ruleset.evaluate_many([{"a": False}])
    assert events == ["before 1", "audit", "after", "before 0", "audit", "after"]


def test_a_wrapper_sees_what_the_other_plugins_gave(fakes) -> None:
    seen: list[set[str]] = []

    def spy(self: object) -> Generator[None, list[dict[str, object]], list[dict[str, object]]]:
        results = yield
        seen.append({name for result in results for name in result})
        return results

    engine = make(
        fakes.Formats(shout=lambda report: "!"), plugin("spy", cramprules_formats=hookimpl(wrapper=True)(spy))
    )
    assert "shout" in engine.formats()
    assert seen == [{"text", "json", "markdown", "html", "shout"}]


# ------------------------------------------------------------------ errors still name the plugin


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_what_a_wrapper_adds_is_its_own(style: str) -> None:
    engine = make(adding(style, "cramprules_formats", {"text": lambda report: ""}))
    with pytest.raises(
        PluginError, match="plugins 'text' and 'wrapping' both provide the format 'text'"
    ) as info:
        engine.formats()
    assert info.value.plugin == "wrapping"


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_a_bad_result_a_wrapper_adds_names_the_wrapper(style: str) -> None:
    engine = make(adding(style, "cramprules_formats", {"x": 3}))
    with pytest.raises(
        PluginError, match="plugin 'wrapping' gave format 'x' from cramprules_formats, but int"
    ):
        engine.formats()


def test_a_fragment_a_wrapper_adds_has_the_wrapper_as_its_origin(fakes) -> None:
    engine = make(
        fakes.Rulesets(clinic=fakes.CLINIC), adding("wrapper", "cramprules_extend", ["rule r: if and"])
    )
    with pytest.raises(RulesetSyntaxError) as info:
        engine.ruleset("clinic")
    assert info.value.origin == "<plugin wrapping>"


def test_results_are_named_by_who_gave_them_not_by_position(fakes) -> None:
    """One plugin returns None, another a bad mapping, and a wrapper reverses the results."""

    def reverse(self: object) -> Generator[None, list[object], list[object]]:
        results = yield
        return results[::-1]

    engine = make(
        fakes.named(fakes.Formats(bad=3), "bad"),
        plugin("quiet", cramprules_formats=hookimpl(lambda self: None)),
        plugin("reverser", cramprules_formats=hookimpl(wrapper=True)(reverse)),
    )
    with pytest.raises(PluginError, match="plugin 'bad' gave format 'bad'") as info:
        engine.formats()
    assert info.value.plugin == "bad"


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_wrapper_that_raises_is_named(style: str, when: str) -> None:
    def failing(self: object) -> Generator[None, object, object]:
        if when == "before":
            raise RuntimeError("kaput")
        yield
        raise RuntimeError("kaput")

    engine = make(plugin("wrapping", cramprules_formats=hookimpl(**{style: True})(failing)))
    # pluggy warns when an old-style wrapper raises after its yield, then raises.
    warned = (
        pytest.warns(pluggy.PluggyTeardownRaisedWarning)
        if (style, when) == ("hookwrapper", "after")
        else contextlib.nullcontext()
    )
    with (
        warned,
        pytest.raises(
            PluginError, match="plugin 'wrapping' failed in cramprules_formats: RuntimeError: kaput"
        ),
    ):
        engine.formats()


def test_a_wrapper_sees_the_plugins_own_exception_and_the_plugin_is_named(fakes) -> None:
    caught: list[BaseException] = []

    def guard(self: object) -> Generator[None, object, object]:
        try:
            return (yield)
        except Exception as exc:
            caught.append(exc)
            raise

    def boom(self: object) -> object:
        raise ValueError("kaput")

    engine = make(
        plugin("raiser", cramprules_loaders=hookimpl(boom)),
        plugin("guard", cramprules_loaders=hookimpl(wrapper=True)(guard)),
    )
    with pytest.raises(
        PluginError, match="plugin 'raiser' failed in cramprules_loaders: ValueError: kaput"
    ) as info:
        engine.loaders()
    assert info.value.plugin == "raiser"
    assert [type(exc) for exc in caught] == [ValueError]


def test_a_wrapper_may_turn_a_failure_into_a_result() -> None:
    def rescue(self: object) -> Generator[None, object, object]:
        try:
            return (yield)
        except ValueError:
            return [{"rescued": lambda text: []}]

    def boom(self: object) -> object:
        raise ValueError("kaput")

    engine = make(
        plugin("raiser", cramprules_loaders=hookimpl(boom)),
        plugin("rescuer", cramprules_loaders=hookimpl(wrapper=True)(rescue)),
    )
    assert "rescued" in engine.loaders()


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_a_wrapper_that_does_not_yield_is_named(style: str) -> None:
    def lazy(self: object) -> Generator[None, object, object]:
        return [{}]
        yield  # a generator that returns before it yields

    engine = make(plugin("lazy", cramprules_formats=hookimpl(**{style: True})(lazy)))
    with pytest.raises(
        PluginError, match=r"plugin 'lazy' failed in cramprules_formats: RuntimeError: .*did not yield"
    ):
        engine.formats()


def test_a_wrapper_that_returns_no_list_is_named() -> None:
    def broken(self: object) -> Generator[None, object, object]:
        yield
        return {"x": len}

    engine = make(plugin("broken", cramprules_functions=hookimpl(wrapper=True)(broken)))
    with pytest.raises(PluginError, match="plugin 'broken' returned dict from cramprules_functions") as info:
        engine.functions()
    assert info.value.plugin == "broken"


# ------------------------------------------------------------------ monitoring


def test_hook_call_monitoring_sees_every_call() -> None:
    """Every hook implementation runs inside a monitored call of its own hook."""
    open_calls: list[str] = []
    monitored: list[str] = []
    ran: list[tuple[str, str | None]] = []

    def hook(name: str, result: object) -> Callable[..., object]:
        def implementation(self: object) -> object:
            ran.append((name, open_calls[-1] if open_calls else None))
            return result

        return hookimpl(implementation)

    everything = plugin(
        "everything",
        cramprules_rulesets=hook("cramprules_rulesets", {"every": "ruleset every\nif a then recommend rest"}),
        cramprules_extend=hook("cramprules_extend", None),
        cramprules_functions=hook("cramprules_functions", {}),
        cramprules_derive_facts=hook("cramprules_derive_facts", None),
        cramprules_formats=hook("cramprules_formats", {"every": lambda report: "every"}),
        cramprules_loaders=hook("cramprules_loaders", {"every": lambda text: [{"a": True}]}),
        cramprules_report=hook("cramprules_report", None),
        cramprules_substances=hook("cramprules_substances", {}),
    )
    everything.cramprules_convert_units = hookimpl(  # type: ignore[attr-defined]
        lambda value, unit, to_unit, substance: (
            ran.append(("cramprules_convert_units", open_calls[-1])) or 1.0
        )
    )
    engine = make(everything)

    def before(hook_name: str, impls: object, kwargs: object) -> None:
        open_calls.append(hook_name)
        monitored.append(hook_name)

    def after(outcome: object, hook_name: str, impls: object, kwargs: object) -> None:
        assert open_calls.pop() == hook_name

    undo = engine.plugin_manager.add_hookcall_monitoring(before, after)
    try:
        ruleset = engine.ruleset("every")
        [facts] = engine.load_facts("", "every")
        report = ruleset.evaluate(facts)
        ruleset.evaluate_many([facts, facts])
        assert engine.render(report, "every") == "every"
        assert engine.convert_units(1.0, "mg/dL", "mmol/L") == 1.0
    finally:
        undo()
    assert {name for name, _ in ran} == HOOKS
    assert all(name == inside for name, inside in ran), ran
    assert monitored.count("cramprules_report") == 3
    assert monitored.count("cramprules_derive_facts") == 3
    assert set(monitored) == HOOKS

"""A plugin that raises, returns the wrong thing or clashes: a clear error that names it."""

from __future__ import annotations

import pytest

import cramprules
from cramprules import PluginError, RulesetError, RulesetSyntaxError, hookimpl


def make(*plugins: object, **options: object) -> cramprules.Engine:
    return cramprules.Engine(plugins=plugins, autoload=False, **options)  # type: ignore[arg-type]


def boom(*args: object, **kwargs: object) -> object:
    raise RuntimeError("kaput")


# ------------------------------------------------------------------ raising


@pytest.mark.parametrize(
    ("hook", "use"),
    [
        ("cramprules_rulesets", lambda e: e.ruleset_names()),
        ("cramprules_extend", lambda e: e.default_ruleset()),
        ("cramprules_functions", lambda e: e.functions()),
        ("cramprules_formats", lambda e: e.formats()),
        ("cramprules_loaders", lambda e: e.loaders()),
        ("cramprules_derive_facts", lambda e: e.parse_ruleset("if a then recommend rest").evaluate({})),
        ("cramprules_report", lambda e: e.parse_ruleset("if a then recommend rest").evaluate({})),
    ],
)
def test_a_hook_that_raises_is_named(fakes, hook: str, use) -> None:
    plugin = fakes.named(type("Raising", (), {hook: hookimpl(lambda self, *a, **k: boom())})(), "raiser")
    with pytest.raises(PluginError, match=rf"plugin 'raiser' failed in {hook}: RuntimeError: kaput") as info:
        use(make(plugin))
    assert info.value.plugin == "raiser"


def test_a_format_that_raises_is_named(fakes, clinic) -> None:
    engine = make(fakes.named(fakes.Formats(bad=boom), "badfmt"))
    with pytest.raises(PluginError, match="format 'bad' of plugin 'badfmt' failed: RuntimeError: kaput"):
        engine.render(clinic.evaluate({}), "bad")


def test_a_function_that_raises_is_named(fakes) -> None:
    engine = make(fakes.named(fakes.Functions(bad=boom), "badfn"))
    ruleset = engine.parse_ruleset("if bad(1) then recommend rest")
    with pytest.raises(PluginError, match="function 'bad' from plugin 'badfn' failed") as info:
        ruleset.evaluate({})
    assert info.value.plugin == "badfn"


def test_a_loader_that_raises_is_named(fakes) -> None:
    engine = make(fakes.named(fakes.Loaders(ini=boom), "badload"))
    with pytest.raises(PluginError, match="loader 'ini' of plugin 'badload' failed: RuntimeError: kaput"):
        engine.load_facts("x", "ini")


# ------------------------------------------------------------------ wrong types


@pytest.mark.parametrize(
    ("hook", "value", "use", "message"),
    [
        ("cramprules_formats", ["text"], lambda e: e.formats(), "returned list from cramprules_formats"),
        ("cramprules_formats", {"x": 3}, lambda e: e.formats(), "gave format 'x' .* int is not callable"),
        ("cramprules_functions", {"not valid": len}, lambda e: e.functions(), "not a valid identifier"),
        ("cramprules_functions", {"if": len}, lambda e: e.functions(), "not a valid identifier"),
        ("cramprules_loaders", {".JSON": len}, lambda e: e.loaders(), "file suffix in lower case"),
        (
            "cramprules_rulesets",
            {"r": 42},
            lambda e: e.ruleset_names(),
            "it is a int, not DSL text or a Path",
        ),
        ("cramprules_extend", "if a then recommend b", lambda e: e.default_ruleset(), "must return a list"),
        ("cramprules_extend", [42], lambda e: e.default_ruleset(), "fragments are DSL texts or Paths"),
        (
            "cramprules_derive_facts",
            ["a"],
            lambda e: e.parse_ruleset("if a then recommend rest").evaluate({}),
            "must return a mapping of facts",
        ),
    ],
)
def test_a_wrong_return_type_is_named(fakes, hook, value, use, message) -> None:
    plugin = fakes.named(type("Wrong", (), {hook: hookimpl(lambda self, *a, **k: value)})(), "wrong")
    with pytest.raises(PluginError, match=message) as info:
        use(make(plugin))
    assert info.value.plugin == "wrong"
    assert "'wrong'" in str(info.value)


def test_a_format_returning_bytes_is_named(fakes, clinic) -> None:
    engine = make(fakes.named(fakes.Formats(raw=lambda report: b"x"), "rawfmt"))
    with pytest.raises(PluginError, match="format 'raw' of plugin 'rawfmt' returned bytes, not text"):
        engine.render(clinic.evaluate({}), "raw")


def test_a_function_returning_the_wrong_type_is_named(fakes) -> None:
    engine = make(fakes.named(fakes.Functions(odd=lambda *a: "yes"), "oddfn"))
    with pytest.raises(PluginError, match="function 'odd' from plugin 'oddfn' returned str"):
        engine.parse_ruleset("if odd(1) then recommend rest").evaluate({})


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"pain": 3}, "returned dict, not a list of fact mappings"),
        ("pain", "returned str, not a list of fact mappings"),
        (42, "returned int, not a list of fact mappings"),
        ([{"pain": 3}, "x"], "gave record 1 as a str, not a mapping of facts"),
    ],
)
def test_a_loader_returning_the_wrong_type_is_named(fakes, result, message) -> None:
    engine = make(fakes.named(fakes.Loaders(odd=lambda text: result), "oddload"))
    with pytest.raises(PluginError, match=f"loader 'odd' of plugin 'oddload' {message}"):
        engine.load_facts("", "odd")


def test_derived_facts_must_be_declared(fakes) -> None:
    engine = make(fakes.named(fakes.Derive(lambda facts, ruleset: {"ghost": True}), "deriver"))
    ruleset = engine.parse_ruleset("ruleset demo\nif a then recommend rest")
    with pytest.raises(
        PluginError, match="plugin 'deriver' derived 'ghost', which ruleset 'demo' does not declare"
    ):
        ruleset.evaluate({"a": True})


def test_a_derived_value_of_the_wrong_type_names_the_plugin(fakes) -> None:
    engine = make(fakes.named(fakes.Derive(lambda facts, ruleset: {"severe": "maybe"}), "deriver"))
    ruleset = engine.parse_ruleset("fact severe: bool derived\nif severe then recommend rest")
    with pytest.raises(PluginError, match="plugin 'deriver' derived a bad value for 'severe'"):
        ruleset.evaluate({})


# ------------------------------------------------------------------ collisions


@pytest.mark.parametrize(
    ("make_plugin", "what", "use"),
    [
        (lambda f: f.Formats(shared=lambda report: ""), "format", lambda e: e.formats()),
        (lambda f: f.Functions(shared=len), "function", lambda e: e.functions()),
        (lambda f: f.Loaders(shared=lambda text: []), "loader", lambda e: e.loaders()),
        (lambda f: f.Rulesets(shared="if a then recommend rest"), "ruleset", lambda e: e.ruleset_names()),
    ],
)
def test_two_plugins_with_the_same_name_are_both_named(fakes, make_plugin, what, use) -> None:
    engine = make(fakes.named(make_plugin(fakes), "first"), fakes.named(make_plugin(fakes), "second"))
    with pytest.raises(
        PluginError, match=f"plugins '(first|second)' and '(first|second)' both provide the {what} 'shared'"
    ) as info:
        use(engine)
    assert "-p no:first" in str(info.value)
    assert "-p no:second" in str(info.value)


def test_a_plugin_clashing_with_a_builtin_format_is_named(fakes) -> None:
    engine = make(fakes.named(fakes.Formats(json=lambda report: "{}"), "myjson"))
    with pytest.raises(PluginError, match=r"'json' and 'myjson'|'myjson' and 'json'"):
        engine.formats()
    # Disabling the built-in resolves it.
    assert (
        "json"
        in make(fakes.named(fakes.Formats(json=lambda report: "{}"), "myjson"), disable=["json"]).formats()
    )


# ------------------------------------------------------------------ fragments and functions at load time


def test_a_fragment_with_a_syntax_error_names_the_plugin_and_line(fakes) -> None:
    engine = make(
        fakes.named(
            fakes.Extend("leg_cramps", "fact x: bool\nrule r:\n    if x and then recommend rest\n"), "labs2"
        )
    )
    with pytest.raises(RulesetSyntaxError) as info:
        engine.default_ruleset()
    error = info.value
    assert error.origin == "<plugin labs2>"
    assert error.line == 3
    assert str(error).startswith("<plugin labs2>:3:")
    assert "^" in str(error)


def test_a_fragment_with_a_semantic_error_names_the_plugin(fakes) -> None:
    engine = make(
        fakes.named(
            fakes.Extend("leg_cramps", "rule r: if pain >= 8 then recommend rest cite nowhere"), "cites"
        )
    )
    with pytest.raises(RulesetError) as info:
        engine.default_ruleset()
    assert info.value.origin == "<plugin cites>"
    assert "nowhere" in str(info.value)


def test_several_fragments_are_numbered(fakes) -> None:
    engine = make(fakes.named(fakes.Extend("leg_cramps", "fact ok: bool", "rule r: if and"), "multi"))
    with pytest.raises(RulesetSyntaxError) as info:
        engine.default_ruleset()
    assert info.value.origin == "<plugin multi #2>"


def test_an_unreadable_path_fragment_is_named(fakes, tmp_path) -> None:
    engine = make(fakes.named(fakes.Extend("leg_cramps", tmp_path / "missing.cramp"), "lost"))
    with pytest.raises(PluginError, match=r"plugin 'lost' extends 'leg_cramps' with .*missing\.cramp"):
        engine.default_ruleset()


def test_an_unknown_function_is_an_error_at_load_time(fakes) -> None:
    engine = make(fakes.Functions(below=lambda a, b: a < b))
    with pytest.raises(RulesetError) as info:
        engine.parse_ruleset("fact k: number\nrule r: if belo(k, 3) then recommend rest", "f.cramp")
    assert info.value.line == 2
    assert "there is no function named 'belo'" in str(info.value)
    assert "did you mean 'below'" in str(info.value)


def test_a_function_no_plugin_gives_is_an_error_at_load_time(engine) -> None:
    with pytest.raises(RulesetError, match="is the plugin that provides it installed"):
        engine.parse_ruleset("if below(k, 3) then recommend rest")


# ------------------------------------------------------------------ registration


def test_a_misspelt_hook_is_refused_naming_the_plugin(fakes) -> None:
    class Misspelt:
        @hookimpl
        def cramprules_format(self):
            return {}

    with pytest.raises(
        PluginError, match="plugin 'Misspelt' implements a hook that cramprules does not have"
    ) as info:
        make(Misspelt()).formats()
    assert "cramprules_formats" in str(info.value)


def test_a_hook_with_unknown_arguments_is_refused_naming_the_plugin() -> None:
    class BadArgs:
        @hookimpl
        def cramprules_extend(self, ruleset_name):
            return None

    with pytest.raises(PluginError, match="plugin 'BadArgs' cannot be registered"):
        make(BadArgs()).formats()


def test_errors_are_cramprules_errors(fakes) -> None:
    with pytest.raises(cramprules.CramprulesError):
        make(fakes.Formats(x=3)).formats()

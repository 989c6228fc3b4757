"""A disabled plugin contributes nothing: -p no:NAME, Engine(disable=...), and autoload off."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cramprules
from cramprules.cli import App, cli
from cramprules.plugins import AUTOLOAD_ENV


def test_a_disabled_builtin_format_is_gone(clinic) -> None:
    engine = cramprules.Engine(autoload=False, disable=["markdown"])
    assert "markdown" not in engine.formats()
    assert "markdown" not in [info.name for info in engine.plugins()]
    with pytest.raises(cramprules.CramprulesError, match="unknown output format 'markdown'"):
        engine.render(clinic.evaluate({}), "markdown")


def test_a_disabled_fake_plugin_contributes_to_no_hook(fakes) -> None:
    audit = fakes.Audit()
    plugin = fakes.named(audit, "audit")
    everything = type(
        "Everything",
        (),
        {
            "cramprules_formats": cramprules.hookimpl(lambda self: {"fake": lambda report: "fake"}),
            "cramprules_loaders": cramprules.hookimpl(lambda self: {"fake": lambda text: [{}]}),
            "cramprules_functions": cramprules.hookimpl(lambda self: {"fake": lambda: True}),
            "cramprules_rulesets": cramprules.hookimpl(lambda self: {"fake": "if a then recommend rest"}),
            "cramprules_extend": cramprules.hookimpl(lambda self, ruleset: ["fact faked: bool"]),
            "cramprules_derive_facts": cramprules.hookimpl(lambda self, facts, ruleset: {"faked": True}),
        },
    )()
    everything = fakes.named(everything, "everything")
    engine = cramprules.Engine(plugins=[plugin, everything], autoload=False, disable=["audit", "everything"])
    assert "fake" not in engine.formats()
    assert "fake" not in engine.loaders()
    assert "fake" not in engine.functions()
    assert "fake" not in engine.ruleset_names()
    ruleset = engine.default_ruleset()
    assert "faked" not in ruleset.facts
    ruleset.evaluate({})
    assert audit.seen == []
    # ... and the same plugins, enabled, do contribute (so the test can fail).
    enabled = cramprules.Engine(plugins=[plugin, everything], autoload=False)
    assert "fake" in enabled.formats()
    assert "faked" in enabled.default_ruleset().facts
    enabled.default_ruleset().evaluate({})
    assert audit.seen


def test_disabled_plugins_are_listed_only_when_asked(engine) -> None:
    disabled = cramprules.Engine(autoload=False, disable=["html"])
    assert "html" not in [i.name for i in disabled.plugins()]
    [html] = [i for i in disabled.plugins(include_disabled=True) if i.name == "html"]
    assert html.disabled
    assert html.hooks == ()
    assert html.distribution == "cramprules"


@pytest.fixture
def clinic_file(fakes, tmp_path):
    path = tmp_path / "clinic.cramp"
    path.write_text(fakes.CLINIC)
    return path


def test_cli_p_no_markdown_disables_the_format(clinic_file) -> None:
    runner = CliRunner()
    ok = runner.invoke(
        cli,
        ["--disable-plugin-autoload", "eval", str(clinic_file), "--fact", "pain=9", "--format", "markdown"],
    )
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("# Clinic")
    result = runner.invoke(
        cli,
        [
            "--disable-plugin-autoload",
            "-p",
            "no:markdown",
            "eval",
            str(clinic_file),
            "--fact",
            "pain=9",
            "--format",
            "markdown",
        ],
    )
    assert result.exit_code == 2
    assert "unknown format 'markdown'" in result.output


def test_cli_p_no_name_hides_it_from_plugins(clinic_file) -> None:
    result = CliRunner().invoke(
        cli, ["--disable-plugin-autoload", "-p", "no:markdown", "plugins", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    names = [p["name"] for p in json.loads(result.output)]
    assert "markdown" not in names
    assert "html" in names


def test_cli_p_needs_no_prefix() -> None:
    result = CliRunner().invoke(cli, ["-p", "markdown", "plugins"])
    assert result.exit_code == 2
    assert "expected 'no:NAME'" in result.output


def test_the_environment_variable_turns_autoload_off(monkeypatch) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert not [i for i in cramprules.Engine().plugins() if not i.builtin]
    monkeypatch.setenv(AUTOLOAD_ENV, "0")
    assert cramprules.Engine()._autoload  # "0" means autoload stays on
    monkeypatch.delenv(AUTOLOAD_ENV)
    assert cramprules.Engine()._autoload


def test_an_explicit_autoload_beats_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert cramprules.Engine(autoload=True)._autoload
    monkeypatch.delenv(AUTOLOAD_ENV)
    assert not cramprules.Engine(autoload=False)._autoload


def test_the_app_passes_p_no_to_its_engine() -> None:
    app = App(plugin_args=["no:html", "no:csv-facts"], autoload=False)
    names = {info.name for info in app.engine.plugins()}
    assert not names & {"html", "csv-facts"}
    assert "markdown" in names

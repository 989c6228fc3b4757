"""Discovery through the ``cramprules`` entry-point group.

Two kinds of installed plugin: the first-party ones (cramprules-labs and
cramprules-fhir, installed by tox and into the dev venv), and throw-away
distributions written into a temporary directory on ``sys.path``, which
``importlib.metadata`` finds exactly as it finds installed ones.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import cramprules
from cramprules import PluginError
from cramprules.cli import cli
from cramprules.plugins import AUTOLOAD_ENV


@pytest.fixture
def autoload(monkeypatch) -> None:
    """Tox turns autoload off for the suite; these tests turn it back on."""
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)


def fake_distribution(root: Path, entry_points: dict[str, str], modules: dict[str, str]) -> str:
    """Write an installed-looking distribution (a .dist-info) and its modules under ``root``."""
    name = f"fake-plugin-{uuid.uuid4().hex[:8]}"
    info = root / f"{name.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    lines = ["[cramprules]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)
    return name


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on sys.path for fake distributions; their modules are forgotten after."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for module in set(sys.modules) - before:
        if (getattr(sys.modules[module], "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[module]


# ------------------------------------------------------------------ first-party plugins


def test_the_first_party_plugins_load_from_their_entry_points(fakes, autoload) -> None:
    labs_version = fakes.installed("cramprules-labs")
    fhir_version = fakes.installed("cramprules-fhir")
    infos = {info.name: info for info in cramprules.Engine(autoload=True).plugins()}
    labs, fhir = infos["labs"], infos["fhir"]
    assert (labs.distribution, labs.version, labs.builtin) == ("cramprules-labs", labs_version, False)
    assert labs.hooks == (
        "cramprules_derive_facts",
        "cramprules_extend",
        "cramprules_functions",
        "cramprules_substances",
    )
    assert (fhir.distribution, fhir.version) == ("cramprules-fhir", fhir_version)
    assert fhir.hooks == ("cramprules_formats", "cramprules_loaders")
    assert labs.module == "cramprules_labs"


def test_installed_plugins_come_after_the_builtins(fakes, autoload) -> None:
    fakes.installed("cramprules-labs")
    infos = cramprules.Engine(autoload=True).plugins()
    builtins = [i.builtin for i in infos]
    assert builtins == sorted(builtins, reverse=True)


def test_autoload_off_loads_no_installed_plugin(fakes, monkeypatch) -> None:
    fakes.installed("cramprules-labs")
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    engine = cramprules.Engine()
    assert {i.name for i in engine.plugins()} & {"labs", "fhir"} == set()
    assert "serum_magnesium" not in engine.default_ruleset().facts
    assert "cds-hooks" not in engine.formats()


def test_disabling_one_installed_plugin_keeps_the_others(fakes, autoload) -> None:
    fakes.installed("cramprules-labs")
    engine = cramprules.Engine(autoload=True, disable=["labs"])
    names = {i.name for i in engine.plugins()}
    assert "labs" not in names
    assert "fhir" in names
    assert "serum_magnesium" not in engine.default_ruleset().facts
    assert "below" not in engine.functions()


def test_cli_plugins_lists_installed_plugins(fakes, autoload) -> None:
    version = fakes.installed("cramprules-labs")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "DISTRIBUTION", "VERSION", "HOOKS"]
    labs = next(row for row in rows if row.startswith("labs "))
    assert labs.split()[:3] == ["labs", "cramprules-labs", version]
    assert "derive_facts, extend, functions, substances" in labs
    text = next(row for row in rows if row.startswith("text "))
    assert text.split()[1] == "cramprules"


def test_cli_plugins_json_and_all(fakes, autoload) -> None:
    fakes.installed("cramprules-fhir")
    result = CliRunner().invoke(cli, ["-p", "no:fhir", "plugins", "--all", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)}
    assert listed["fhir"]["disabled"] is True
    assert listed["fhir"]["distribution"] == "cramprules-fhir"
    assert listed["fhir"]["hooks"] == []
    assert listed["labs"]["hooks"] == [
        "cramprules_derive_facts",
        "cramprules_extend",
        "cramprules_functions",
        "cramprules_substances",
    ]
    assert listed["json"]["builtin"] is True


def test_cli_disable_plugin_autoload_flag(fakes, autoload) -> None:
    fakes.installed("cramprules-labs")
    result = CliRunner().invoke(cli, ["--disable-plugin-autoload", "plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert all(p["builtin"] for p in json.loads(result.output))


# ------------------------------------------------------------------ fake distributions


def test_a_fake_distribution_is_discovered(site, autoload, clinic) -> None:
    module = f"shout_{uuid.uuid4().hex[:8]}"
    dist = fake_distribution(
        site,
        {"shout": module},
        {
            module: "import cramprules\n\n@cramprules.hookimpl\ndef cramprules_formats():\n"
            "    return {'shout': lambda report: 'HELLO'}\n"
        },
    )
    engine = cramprules.Engine(autoload=True)
    [info] = [i for i in engine.plugins() if i.name == "shout"]
    assert (info.distribution, info.version, info.hooks) == (dist, "1.2.3", ("cramprules_formats",))
    assert engine.render(clinic.evaluate({}), "shout") == "HELLO"
    assert "shout" not in cramprules.Engine(autoload=False).formats()


def test_a_plugin_that_fails_to_import_is_named(site, autoload) -> None:
    module = f"broken_{uuid.uuid4().hex[:8]}"
    dist = fake_distribution(site, {"broken": module}, {module: "raise ImportError('no numpy here')\n"})
    with pytest.raises(
        PluginError,
        match=rf'Error loading plugin "broken" \({module}, from {dist} 1.2.3\): '
        r"ImportError: no numpy here",
    ) as info:
        cramprules.Engine(autoload=True).plugins()
    assert info.value.plugin == "broken"


def test_a_blocked_plugin_is_never_imported(site, autoload) -> None:
    module = f"broken_{uuid.uuid4().hex[:8]}"
    fake_distribution(site, {"broken": module}, {module: "raise ImportError('must not be imported')\n"})
    engine = cramprules.Engine(autoload=True, disable=["broken"])
    assert "broken" not in [i.name for i in engine.plugins()]
    assert module not in sys.modules


def test_an_entry_point_named_like_a_builtin_is_refused(site, autoload) -> None:
    module = f"json_{uuid.uuid4().hex[:8]}"
    dist = fake_distribution(site, {"json": module}, {module: ""})
    with pytest.raises(
        PluginError,
        match=rf"two plugins are called 'json': the one from {dist} 1.2.3 and the one "
        r"from cramprules \(a built-in plugin\)",
    ):
        cramprules.Engine(autoload=True).plugins()


def test_two_distributions_with_the_same_entry_point_name_are_refused(site, autoload) -> None:
    one, two = (f"twin_{uuid.uuid4().hex[:8]}" for _ in range(2))
    first = fake_distribution(site, {"twin": one}, {one: ""})
    second = fake_distribution(site, {"twin": two}, {two: ""})
    with pytest.raises(PluginError, match="two plugins are called 'twin'") as info:
        cramprules.Engine(autoload=True).plugins()
    assert first in str(info.value)
    assert second in str(info.value)


def test_an_installed_plugin_with_a_misspelt_hook_is_named(site, autoload) -> None:
    module = f"typo_{uuid.uuid4().hex[:8]}"
    fake_distribution(
        site,
        {"typo": module},
        {module: "import cramprules\n\n@cramprules.hookimpl\ndef cramprules_format():\n    return {}\n"},
    )
    with pytest.raises(PluginError, match="plugin 'typo' implements a hook that cramprules does not have"):
        cramprules.Engine(autoload=True).plugins()


def test_the_cli_reports_a_broken_plugin_with_exit_code_4(site, autoload, capsys) -> None:
    from cramprules.cli import main

    module = f"broken_{uuid.uuid4().hex[:8]}"
    fake_distribution(site, {"broken": module}, {module: "raise RuntimeError('bad plugin')\n"})
    assert main(["plugins"]) == 4
    err = capsys.readouterr().err
    assert 'plugin error: Error loading plugin "broken"' in err
    assert "Traceback" not in err
    assert main(["-p", "no:broken", "plugins"]) == 0

"""Fixtures for the plugin tests: fake plugins (llm style) and a small, stable ruleset.

The bundled ruleset changes as its knowledge grows; tests of the plugin
machinery use ``CLINIC`` instead, so they fail only when the machinery does.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest

import cramprules
from cramprules import hookimpl

DATA = Path(__file__).parent / "data"

CLINIC = """\
ruleset clinic "Clinic: cramps"
version "2.0"

source nih "NIH" url "https://www.nih.gov/"

group supplements "What to take"
option glycinate "Magnesium glycinate" in supplements
option citrate "Magnesium citrate" in supplements
option rest "Rest"
cause magnesium_deficiency "Low magnesium" cite nih

fact pain: number 0..10 "How painful (0-10)?"
fact constipation: bool "Are you constipated?"
fact night_cramps: bool "Do cramps come at night?"
fact bedtime: bool "At bedtime?"

rule red_flags priority 100:
    if pain >= 8
    then refer doctor urgent
    because "Very painful cramps need a medical check."
    cite nih

rule low_magnesium:
    if night_cramps
    then suspect magnesium_deficiency
    because "Night cramps point to low magnesium."

rule citrate:
    if constipation
    then prefer citrate over glycinate
    unless bedtime
    because "Citrate eases constipation."
    cite nih

rule no_rest:
    if constipation
    then avoid rest
    because "Move, don't rest."
"""


def installed(distribution: str) -> str:
    """The version of an installed first-party plugin; the tests need it installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:  # pragma: no cover - a broken test environment
        pytest.fail(
            f"{distribution} is not installed: pip install -e plugins/{distribution} "
            "(tox installs it for every test environment)"
        )


@pytest.fixture
def clinic(engine: cramprules.Engine) -> cramprules.Ruleset:
    return engine.parse_ruleset(CLINIC, "clinic.cramp")


class Rulesets:
    """Offers named rulesets, like the built-in ``bundled`` plugin."""

    def __init__(self, **rulesets: str | Path) -> None:
        self.rulesets = rulesets

    @hookimpl
    def cramprules_rulesets(self) -> dict[str, str | Path]:
        return dict(self.rulesets)


class Extend:
    """Extends one ruleset with DSL fragments."""

    def __init__(self, ruleset: str, *fragments: str | Path) -> None:
        self.ruleset = ruleset
        self.fragments = list(fragments)

    @hookimpl
    def cramprules_extend(self, ruleset: str) -> list[str | Path] | None:
        return self.fragments if ruleset == self.ruleset else None


class Functions:
    def __init__(self, **functions: Callable[..., object]) -> None:
        self.functions = functions

    @hookimpl
    def cramprules_functions(self) -> dict[str, Callable[..., object]]:
        return dict(self.functions)


class Formats:
    def __init__(self, **formats: Callable[..., str]) -> None:
        self.formats = formats

    @hookimpl
    def cramprules_formats(self) -> dict[str, Callable[..., str]]:
        return dict(self.formats)


class Loaders:
    def __init__(self, **loaders: Callable[[str], object]) -> None:
        self.loaders = loaders

    @hookimpl
    def cramprules_loaders(self) -> dict[str, Callable[[str], object]]:
        return dict(self.loaders)


class Derive:
    def __init__(self, function: Callable[..., object]) -> None:
        self.function = function

    @hookimpl
    def cramprules_derive_facts(self, facts: object, ruleset: object) -> object:
        return self.function(facts, ruleset)


class Audit:
    """Records every report it sees."""

    def __init__(self) -> None:
        self.seen: list[cramprules.Report] = []

    @hookimpl
    def cramprules_report(self, report: cramprules.Report) -> None:
        self.seen.append(report)


def named(plugin: object, name: str) -> object:
    """Give a fake plugin a name, as a module's ``__name__`` would."""
    plugin.__name__ = name  # type: ignore[attr-defined]
    return plugin


@pytest.fixture
def fakes() -> SimpleNamespace:
    """The fake plugin classes and helpers (test modules cannot import conftest)."""
    return SimpleNamespace(
        Rulesets=Rulesets,
        Extend=Extend,
        Functions=Functions,
        Formats=Formats,
        Loaders=Loaders,
        Derive=Derive,
        Audit=Audit,
        named=named,
        installed=installed,
        CLINIC=CLINIC,
        DATA=DATA,
    )

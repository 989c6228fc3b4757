"""Fixtures for the authoring tools: check, fmt, test, the pytest plugin, the lexer.

``data/`` holds rulesets made for these tests, some failing on purpose, so
the cramprules pytest plugin must not collect them as the suite's own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click.testing
import pytest

import cramprules
from cramprules.cli import App, cli

collect_ignore_glob = ["data/*"]

DATA = Path(__file__).parent / "data"


@pytest.fixture
def load(engine: cramprules.Engine) -> Callable[..., cramprules.Ruleset]:
    """Check and compile DSL text with an isolated engine."""

    def load(text: str, **options: object) -> cramprules.Ruleset:
        return engine.parse_ruleset(text, **options)  # type: ignore[arg-type]

    return load


@pytest.fixture
def run_cli(engine: cramprules.Engine) -> Callable[..., click.testing.Result]:
    """Run the command line in-process, with the isolated engine."""

    def run(*args: str, input: str | None = None) -> click.testing.Result:
        return click.testing.CliRunner().invoke(cli, list(args), obj=App(engine=engine), input=input)

    return run

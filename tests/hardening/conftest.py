"""Fixtures for the hardening tests: the command line in-process, with limits of our choosing."""

from __future__ import annotations

from collections.abc import Callable

import click.testing
import pytest

import cramprules
from cramprules.cli import App, cli

Run = Callable[..., click.testing.Result]


@pytest.fixture
def run_with() -> Callable[..., Run]:
    """``run_with(limits)(*args)``: ``cramprules ARGS`` on an isolated engine with those limits."""

    def make(limits: cramprules.Limits | None = None) -> Run:
        engine = cramprules.Engine(autoload=False, limits=limits or cramprules.Limits())

        def invoke(*args: str, input: str | None = None) -> click.testing.Result:
            app = App(engine=engine, autoload=False)
            runner = click.testing.CliRunner()
            return runner.invoke(cli, list(args), obj=app, input=input, catch_exceptions=False)

        return invoke

    return make


@pytest.fixture
def run(run_with: Callable[..., Run]) -> Run:
    return run_with()

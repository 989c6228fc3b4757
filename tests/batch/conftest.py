"""Fixtures for the batch library tests: the command in-process, as tests/cli runs it."""

from __future__ import annotations

import click.testing
import pytest

import cramprules
from cramprules.cli import App, cli


@pytest.fixture
def run():
    app = App(engine=cramprules.Engine(autoload=False), autoload=False)

    def invoke(*args: str, input: str | None = None) -> click.testing.Result:
        return click.testing.CliRunner().invoke(cli, list(args), obj=app, input=input, catch_exceptions=False)

    return invoke

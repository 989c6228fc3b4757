"""Fixtures for the command-line tests.

Every test gets a fresh ``App`` around an isolated engine (no installed
plugins), passed to ``CliRunner.invoke`` as ``obj``.  ``tests/cli/data`` holds
a small ruleset of our own (``mini.cramp``): golden files are made against
it, so they do not move when the bundled leg-cramps ruleset is edited.

Golden files live in ``tests/cli/golden``.  When an output changes on
purpose, regenerate them and review the diff::

    CRAMPRULES_UPDATE_GOLDEN=1 pytest tests/cli
    git diff tests/cli/golden
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click.testing
import pytest

import cramprules
from cramprules.cli import App, cli

HERE = Path(__file__).parent
DATA = HERE / "data"
GOLDEN = HERE / "golden"
MINI = DATA / "mini.cramp"

Run = Callable[..., click.testing.Result]


@pytest.fixture
def app() -> App:
    return App(engine=cramprules.Engine(autoload=False), autoload=False)


@pytest.fixture
def run(app: App) -> Run:
    """Invoke ``cramprules ARGS`` in-process; stdout and stderr stay apart."""

    def invoke(
        *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> click.testing.Result:
        runner = click.testing.CliRunner()
        return runner.invoke(cli, list(args), obj=app, input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def in_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tests/cli/data`` so that paths in outputs read ``mini.cramp``."""
    monkeypatch.chdir(DATA)
    return DATA


@pytest.fixture
def mini() -> Path:
    """The small test ruleset (absolute path)."""
    return MINI


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare with ``golden/NAME``; CRAMPRULES_UPDATE_GOLDEN=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("CRAMPRULES_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run with CRAMPRULES_UPDATE_GOLDEN=1 to create it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden file (CRAMPRULES_UPDATE_GOLDEN=1 to accept)"

    return check

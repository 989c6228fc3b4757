"""Shared fixtures: an isolated engine per test, no installed plugins."""

from __future__ import annotations

import pytest

import cramprules


@pytest.fixture
def engine() -> cramprules.Engine:
    """A fresh engine with only the built-in plugins."""
    return cramprules.Engine(autoload=False)


def pytest_configure(config: pytest.Config) -> None:
    """The compiled-ruleset cache of the test run lives in a temporary directory.

    Set before any test module makes an engine, so the suite never writes to
    the user's cache, and every ruleset built twice goes through the cache.
    """
    import os
    import tempfile

    if "CRAMPRULES_CACHE_DIR" not in os.environ:
        os.environ["CRAMPRULES_CACHE_DIR"] = tempfile.mkdtemp(prefix="cramprules-cache-")

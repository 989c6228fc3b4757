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
        folder = tempfile.mkdtemp(prefix="cramprules-cache-")
        os.environ["CRAMPRULES_CACHE_DIR"] = folder
        config.stash[_CACHE_DIR] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    """The test run's cache directory goes when the run ends."""
    import shutil

    folder = config.stash.get(_CACHE_DIR, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_CACHE_DIR = pytest.StashKey[str]()

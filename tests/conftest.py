"""Shared fixtures: an isolated engine per test, no installed plugins."""

from __future__ import annotations

import pytest

import cramprules


@pytest.fixture
def engine() -> cramprules.Engine:
    """A fresh engine with only the built-in plugins."""
    return cramprules.Engine(autoload=False)

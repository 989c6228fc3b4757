"""The fuzz tests: hypothesis over the parser, the fact loaders and the command line.

In the ordinary suite each runs a few dozen inputs, as property tests;
``tox -e fuzz`` sets ``CRAMPRULES_FUZZ_EXAMPLES`` to run many thousands, and
the summary at the end says how many inputs were tried in all.
"""

from __future__ import annotations

import collections
import os

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CRAMPRULES_FUZZ_EXAMPLES", "40"))

settings.register_profile(
    "cramprules-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

TRIED: collections.Counter[str] = collections.Counter()
"""Inputs tried per target, for the summary (a counter, not a result: nothing depends on it)."""


@pytest.fixture(scope="session")
def tried() -> collections.Counter[str]:
    return TRIED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        parts = ", ".join(f"{name} {count:,}" for name, count in sorted(TRIED.items()))
        terminalreporter.write_line(f"fuzz: {sum(TRIED.values()):,} inputs tried ({parts})")

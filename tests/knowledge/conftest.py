"""Shared fixtures for the tests of the bundled ``leg_cramps`` ruleset.

The ruleset is loaded through an engine without installed plugins, so a
plugin that extends ``leg_cramps`` cannot change what these tests see: they
specify the bundled knowledge itself.  ``outcome(facts)`` evaluates facts and
wraps the report in :class:`Outcome`, which answers the questions the tests
ask in one word ("is citrate preferred?", "is it conditional?").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pytest

import cramprules


@attrs.frozen
class Outcome:
    """A report, seen the way the knowledge describes it."""

    report: cramprules.Report

    def _recs(self, action: str) -> dict[str, cramprules.Recommendation]:
        return {r.option: r for r in self.report.recommendations if r.action == action}

    @property
    def preferred(self) -> dict[str, cramprules.Recommendation]:
        """Options the report prefers, fired or conditional."""
        return self._recs("prefer")

    @property
    def recommended(self) -> dict[str, cramprules.Recommendation]:
        return self._recs("recommend")

    @property
    def avoided(self) -> dict[str, cramprules.Recommendation]:
        return self._recs("avoid")

    @property
    def causes(self) -> list[str]:
        """Suspected causes, in the report's order."""
        return [c.name for c in self.report.causes]

    @property
    def questions(self) -> list[str]:
        """The facts asked about, most decisive first."""
        return [q.fact for q in self.report.questions]

    @property
    def urgent(self) -> bool:
        return any(r.urgent and r.to == "doctor" and r.status == "fired" for r in self.report.referrals)

    @property
    def referred_to_doctor(self) -> bool:
        """A non-urgent referral to a doctor."""
        return any(not r.urgent and r.to == "doctor" for r in self.report.referrals)

    def status(self, action: str, option: str) -> str | None:
        """``"fired"``, ``"conditional"`` or ``None`` when the report says nothing."""
        found = self._recs(action).get(option)
        return found.status if found else None


Evaluate = Callable[..., Outcome]


@pytest.fixture(scope="session")
def bundled_engine() -> cramprules.Engine:
    """One engine for the session: built-in plugins only."""
    return cramprules.Engine(autoload=False)


@pytest.fixture(scope="session")
def rs(bundled_engine: cramprules.Engine) -> cramprules.Ruleset:
    """The bundled ruleset, exactly as shipped."""
    return bundled_engine.default_ruleset()


@pytest.fixture(scope="session")
def outcome(rs: cramprules.Ruleset) -> Evaluate:
    """``outcome(facts)`` or ``outcome(name=value, ...)``: evaluate and wrap."""

    def evaluate(facts: Mapping[str, Any] | None = None, /, **more: Any) -> Outcome:
        return Outcome(rs.evaluate({**(facts or {}), **more}))

    return evaluate

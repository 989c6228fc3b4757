"""The frozen values a report hands out: recommendations, causes, referrals,
questions, trace entries and the sources they cite.

They live apart from :class:`~cramprules.Report` because the compiler builds
the shared *template* of every claim ahead of time (a claim whose rule simply
fires is the same object in every report).  Their field names are part of
the public contract.
"""

from __future__ import annotations

from typing import Any as AnyType
from typing import Literal

import attrs

from cramprules.states import Outcome

__all__ = [
    "Cause",
    "FactChange",
    "Question",
    "Recommendation",
    "Referral",
    "Source",
    "Status",
    "TraceEntry",
    "WhatIf",
    "describe_value",
]

Status = Literal["fired", "conditional"]


def describe_value(value: object, unit: str | None = None) -> str:
    """A fact's value in words: yes, no, unknown, a number with its unit, a name."""
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if unit and isinstance(value, (int, float)):
        return f"{value} {unit}"
    return str(value)


@attrs.frozen
class Source:
    """A cited source: its short name, what it is, and where to find it."""

    name: str
    label: str
    url: str | None = None


@attrs.frozen
class Recommendation:
    """Advice about one option: recommend, prefer or avoid it, and why."""

    action: Literal["recommend", "prefer", "avoid"]
    option: str
    label: str
    rule: str
    because: str | None
    detail: str | None
    sources: tuple[Source, ...]
    status: Status
    caveat: str | None = None
    over: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    """For conditional advice: the unknown facts whose answers could still remove it."""
    evidence: str | None = None
    group: str | None = None
    line: int | None = None


@attrs.frozen
class Cause:
    """A suspected cause, with the facts that point to it."""

    name: str
    label: str
    rule: str
    evidence: tuple[str, ...]
    sources: tuple[Source, ...]
    status: Status = "fired"
    caveat: str | None = None
    depends_on: tuple[str, ...] = ()
    because: str | None = None
    facts: tuple[tuple[str, AnyType], ...] = ()
    """The input facts behind ``evidence``, as ``(name, value)`` pairs."""


@attrs.frozen
class Referral:
    """Who to see, and whether it is urgent.  Urgent referrals come first."""

    to: str
    urgent: bool
    because: str | None
    rule: str
    sources: tuple[Source, ...]
    detail: str | None = None
    status: Status = "fired"
    caveat: str | None = None
    depends_on: tuple[str, ...] = ()


@attrs.frozen
class Question:
    """An unknown fact whose answer would change the outcome."""

    fact: str
    prompt: str
    type: str
    affects: tuple[str, ...]
    values: tuple[str, ...] = ()
    low: float | int | None = None
    high: float | int | None = None
    unit: str | None = None


@attrs.frozen
class TraceEntry:
    """What happened to one rule, and why, with its place in the source."""

    rule: str
    outcome: Outcome
    reason: str
    line: int | None
    origin: str | None = None
    conditional: bool = False

    def to_dict(self) -> dict[str, AnyType]:
        """The JSON form every report, check and test output uses."""
        return {
            "rule": self.rule,
            "outcome": self.outcome,
            "conditional": self.conditional,
            "reason": self.reason,
            "origin": self.origin,
            "line": self.line,
        }


@attrs.frozen
class FactChange:
    fact: str
    before: AnyType
    after: AnyType

    def __str__(self) -> str:
        return f"{self.fact}: {describe_value(self.before)} -> {describe_value(self.after)}"


@attrs.frozen
class WhatIf:
    """A smallest set of fact changes that flips the outcome for a name."""

    changes: tuple[FactChange, ...]
    before: str
    after: str

    def __str__(self) -> str:
        return f"{', '.join(map(str, self.changes))}: {self.before} -> {self.after}"

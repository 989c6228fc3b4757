"""What ``cramprules check`` looks for and what it found: the options, the
result, and the finding codes (stable ids, severities and meanings).

The codes are a promise: SARIF output, tools filtering findings and the
documentation all key on these ids.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import attrs

from cramprules.authoring.invariants import InvariantResult
from cramprules.authoring.space import DEFAULT_MAX_COMBINATIONS
from cramprules.exceptions import Diagnostic, Severity

__all__ = ["CODES", "CheckOptions", "CheckResult", "Code"]


@attrs.frozen
class Code:
    """A finding code: its stable id, its severity and what it means."""

    id: str
    severity: Severity
    summary: str


CODES: Mapping[str, Code] = {
    c.id: c
    for c in (
        Code("never-true", "warning", "A rule's condition (or an invariant's) can never be true."),
        Code("unless-never-true", "warning", "A rule's 'unless' can never be true: the exception is dead."),
        Code(
            "never-fires",
            "warning",
            "A rule can never fire: its 'unless' always holds with its condition, it is always "
            "overridden, or the causes it needs never come together.",
        ),
        Code(
            "shadowed-rule",
            "warning",
            "A rule fires, but every outcome it gives always loses to another rule.",
        ),
        Code("redundant-rule", "warning", "A rule repeats another: same conditions, same outcomes."),
        Code(
            "unresolved-conflict",
            "warning",
            "'prefer/recommend X' and 'avoid X' can fire together with no 'overrides' or priority "
            "between them, so the default 'avoid wins' decides.",
        ),
        Code(
            "plugin-conflict",
            "warning",
            "Fragments from two different plugins contradict each other about one option.",
        ),
        Code("unused-fact", "warning", "A declared fact that no rule tests."),
        Code("unused-option", "warning", "A declared option that no rule recommends, prefers or avoids."),
        Code("unused-cause", "warning", "A declared cause that no rule suspects."),
        Code("unused-source", "warning", "A declared source that nothing cites."),
        Code("referral-without-because", "warning", "A referral that does not say why."),
        Code("missing-citation", "warning", "A rule that advises or refers without citing a source."),
        Code("stale-review", "warning", "A 'reviewed' date older than the allowed age."),
        Code(
            "testing-in-production",
            "warning",
            "A rule with status 'testing' in a ruleset whose status is 'production'.",
        ),
        Code(
            "urgent-hidden",
            "error",
            "An urgent referral depends on a cause whose rule can be defeated or overridden, "
            "so the safety tier can be hidden.",
        ),
        Code("invariant-failed", "error", "An invariant does not hold; a counterexample is given."),
        Code(
            "invariant-unverified",
            "warning",
            "An invariant could not be proved: too many combinations, or opaque tests.",
        ),
        Code("analysis-skipped", "info", "An analysis was skipped: too many combinations to try."),
        Code("inferred-fact", "info", "An undeclared fact inferred from use (a warning with --strict)."),
        Code("inferred-option", "info", "An undeclared option inferred from use (a warning with --strict)."),
        Code("inferred-cause", "info", "An undeclared cause inferred from use (a warning with --strict)."),
    )
}
"""Every code ``check`` itself reports; the parser's and checker's errors come on top."""


@attrs.frozen
class CheckOptions:
    """What ``check`` looks for, and how hard."""

    strict: bool = False
    """Inferred names become warnings, and warnings fail the check."""
    max_review_age: int = 730
    """Days after which a ``reviewed`` date is stale."""
    today: datetime.date = attrs.field(factory=datetime.date.today)
    limit: int = DEFAULT_MAX_COMBINATIONS
    """The most combinations one analysis may try."""
    invariants: bool = True


@attrs.frozen
class CheckResult:
    """Everything ``check`` found in one ruleset."""

    target: str
    findings: tuple[Diagnostic, ...]
    loaded: bool
    """False when the ruleset has parse or checker errors: nothing else was analysed."""
    ruleset: str | None = None
    invariants: tuple[InvariantResult, ...] = ()
    hidden: int = 0
    """Findings in the base ruleset (``extends``) left out: check it on its own."""

    def count(self, severity: Severity) -> int:
        return sum(d.severity == severity for d in self.findings)

    def failed(self, strict: bool) -> bool:
        """Whether these findings fail the check: errors, or warnings too under --strict."""
        return any(d.severity == "error" or (strict and d.severity == "warning") for d in self.findings)

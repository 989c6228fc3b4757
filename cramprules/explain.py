"""How each outcome was reached, why a rule gave none, and what would change it.

MYCIN's "how" and "why not", tied to the ruleset's source lines, as plain
frozen values an application can use without the command line::

    >>> import cramprules
    >>> from cramprules.explain import explain, why_not
    >>> rs = cramprules.parse_ruleset(
    ...     "if constipation and long_term then prefer citrate unless bedtime")
    >>> report = rs.evaluate({"constipation": True, "long_term": True})
    >>> how = explain(report)
    >>> [(o.outcome, o.status) for o in how.outcomes]
    [('prefer citrate', 'conditional')]
    >>> [str(flip) for flip in how.outcomes[0].what_would_change][:2]
    ['bedtime: unknown -> yes  =>  nothing about citrate', 'bedtime: unknown -> no  =>  prefer citrate']
    >>> why_not(report, "citrate").rules[0].verdict
    'it applied (conditionally)'

Every value has ``to_dict()``, the JSON that ``cramprules explain --format
json`` prints; ``cramprules explain`` renders the same values as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any as AnyType

import attrs

from cramprules import whatif
from cramprules.claims import resolve
from cramprules.evaluator import Value
from cramprules.exceptions import shorten
from cramprules.names import closest
from cramprules.nodes import Action
from cramprules.outcomes import describe_value
from cramprules.states import State
from cramprules.unparse import unparse

if TYPE_CHECKING:
    from cramprules import nodes
    from cramprules.model import RuleSpec
    from cramprules.report import Report

__all__ = [
    "MAX_CHANGES",
    "Beat",
    "Change",
    "ConditionExplanation",
    "ConflictExplanation",
    "Explanation",
    "Flip",
    "NoOutcome",
    "OutcomeExplanation",
    "PendingRule",
    "RuleExplanation",
    "RuleWhyNot",
    "Test",
    "UnknownName",
    "WhyNot",
    "explain",
    "why_not",
]

MAX_CHANGES = 3
"""The largest set of fact changes a what-if search looks for."""


class UnknownName(LookupError):
    """A name that is not a rule, option, cause or referral of the ruleset."""

    def __init__(self, message: str, *, excluded: bool = False) -> None:
        super().__init__(message)
        self.excluded = excluded
        """Whether the name is a rule left out of evaluation (testing or retired)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _word(value: Value) -> str:
    if value is None:
        return "unknown"
    return "true" if value else "false"


def _data(value: object) -> AnyType:
    """The JSON form of an explanation value: fields in order, tuples as lists.

    A field's ``key`` metadata renames it (``condition`` is ``if``); ``flat``
    merges its fields into the parent; ``omit_none`` leaves it out when unset.
    """
    if isinstance(value, _Value):
        data: dict[str, AnyType] = {}
        for field in attrs.fields(type(value)):  # type: ignore[arg-type]
            item = getattr(value, field.name)
            if field.metadata.get("omit_none") and item is None:
                continue
            if field.metadata.get("flat"):
                data.update(_data(item))
            else:
                data[field.metadata.get("key", field.name)] = _data(item)
        return data
    if isinstance(value, Mapping):
        return {key: _data(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_data(item) for item in value]
    return value


class _Value:
    """What every explanation value shares: its JSON form."""

    def to_dict(self) -> dict[str, AnyType]:
        """The JSON that ``cramprules explain --format json`` prints."""
        data: dict[str, AnyType] = _data(self)
        return data


@attrs.frozen
class Test(_Value):
    """One test of a condition, its value and the facts it looked at."""

    test: str
    value: str
    """``true``, ``false`` or ``unknown``."""
    facts: Mapping[str, str]
    summary: str


@attrs.frozen
class ConditionExplanation(_Value):
    """A condition as written, where it is, its value and the tests that decided it."""

    text: str
    where: str | None
    value: str
    decided_by: tuple[Test, ...]
    settled: str | None = attrs.field(default=None, metadata={"omit_none": True})
    """For an ``unless``: what its value means for the rule."""


@attrs.frozen
class RuleExplanation(_Value):
    """A rule as an explanation shows it: where, its if and unless, and why."""

    name: str
    where: str | None
    priority: int
    then: tuple[str, ...]
    condition: ConditionExplanation = attrs.field(metadata={"key": "if"})
    unless: ConditionExplanation | None
    note_kind: str
    """``because`` (for the patient) or ``detail`` (for the clinician)."""
    note: str | None
    sources: tuple[str, ...]


@attrs.frozen
class Change(_Value):
    """One fact and the value it would take, in words."""

    fact: str
    before: str = attrs.field(metadata={"key": "from"})
    after: str = attrs.field(metadata={"key": "to"})

    def __str__(self) -> str:
        return f"{self.fact}: {self.before} -> {self.after}"


@attrs.frozen
class Flip(_Value):
    """A smallest set of fact changes, and what the outcome becomes."""

    changes: tuple[Change, ...]
    before: str
    after: str

    def __str__(self) -> str:
        return f"{', '.join(map(str, self.changes))}  =>  {self.after}"


@attrs.frozen
class Beat(_Value):
    """A claim of another rule that this outcome won over."""

    rule: str
    claim: str
    why: str


@attrs.frozen
class OutcomeExplanation(_Value):
    """How one outcome of the report was reached."""

    outcome: str
    kind: str
    target: str
    label: str | None
    urgent: bool
    status: str
    caveat: str | None
    rule: RuleExplanation
    beat: tuple[Beat, ...]
    what_would_change: tuple[Flip, ...] | None
    """For a conditional outcome: what would flip it; otherwise ``None``."""


@attrs.frozen
class PendingRule(_Value):
    """A rule that neither fired nor failed, and what would make each of its claims stand."""

    outcome: str
    rule: RuleExplanation
    what_would_change: Mapping[str, tuple[Flip, ...]]


@attrs.frozen
class NoOutcome(_Value):
    """A rule that lost a conflict, was defeated, overridden, or did not match."""

    rule: str
    where: str
    outcome: str
    reason: str


@attrs.frozen
class ConflictExplanation(_Value):
    """A claim that lost, where its rule is, the winner and why."""

    rule: str
    where: str
    claim: str
    winner: str
    winner_claim: str
    winner_target: str
    why: str


@attrs.frozen
class Explanation(_Value):
    """The whole "how": every outcome, the pending rules, the conflicts and the rest."""

    ruleset: Mapping[str, str | None]
    audience: str
    facts: Mapping[str, str]
    outcomes: tuple[OutcomeExplanation, ...]
    pending: tuple[PendingRule, ...]
    conflicts: tuple[ConflictExplanation, ...]
    did_not_apply: tuple[NoOutcome, ...]


@attrs.frozen
class RuleWhyNot(_Value):
    """Why one rule gave no outcome (or lost), and what would make it stand."""

    rule: RuleExplanation = attrs.field(metadata={"flat": True})
    outcome: str
    reason: str
    first_blocker: Test | None
    lost: tuple[ConflictExplanation, ...]
    verdict: str
    what_would_change: Mapping[str, tuple[Flip, ...]]


@attrs.frozen
class WhyNot(_Value):
    """Why a rule, or the rules about an option, cause or referral, gave no outcome."""

    name: str
    kind: str
    """``rule`` or ``outcome``."""
    rules: tuple[RuleWhyNot, ...]
    what_would_change: tuple[Flip, ...] | None


# ---------------------------------------------------------------- building


class _Builder:
    """Builds the values of one report's explanation, sharing what they reuse."""

    def __init__(self, report: Report, audience: str) -> None:
        self.report = report
        self.ruleset = report.ruleset
        self.program = report.ruleset.program
        self.audience = audience
        self.trace = {entry.rule: entry for entry in report.trace}
        self._flips: dict[str, tuple[Flip, ...]] = {}

    def condition(self, node: nodes.Condition) -> ConditionExplanation:
        value, atoms = self.report.decided_by(node)
        span = node.span
        return ConditionExplanation(
            text=unparse(node),
            where=f"{span.origin}:{span.line}" if span is not None else None,
            value=_word(value),
            decided_by=tuple(
                Test(
                    test=atom.text,
                    value=_word(atom.value),
                    facts={name: describe_value(v) for name, v in atom.facts},
                    summary=str(atom),
                )
                for atom in atoms
            ),
        )

    def rule(self, rule: RuleSpec) -> RuleExplanation:
        note_kind, note = "because", rule.because
        if rule.detail and (self.audience == "clinician" or not rule.because):
            note_kind, note = "detail", rule.detail
        unless = None
        if rule.unless is not None:
            unless = self.condition(rule.unless)
            settled = {
                "false": "the exception does not apply",
                "true": "the exception holds and defeats the rule",
                "unknown": "the outcome is conditional: it stands unless this turns out true",
            }
            if self.trace[rule.name].outcome != "fired":
                settled["unknown"] = (
                    "not known either: should the rule apply, its outcome would be conditional"
                )
            unless = attrs.evolve(unless, settled=settled[unless.value])
        return RuleExplanation(
            name=rule.name,
            where=f"{rule.origin}:{rule.line}" if rule.line is not None else rule.origin,
            priority=rule.priority,
            then=tuple(str(action) for action in rule.actions),
            condition=self.condition(rule.condition),
            unless=unless,
            note_kind=note_kind,
            note=note,
            sources=tuple(self._source(name) for name in rule.sources),
        )

    def _source(self, name: str) -> str:
        source = self.ruleset.source(name)
        return f"{source.label} <{source.url}>" if source.url else source.label

    def what_would_change(self, target: str) -> tuple[Flip, ...]:
        """The smallest sets of fact changes that flip the outcome for ``target``."""
        if target not in self._flips:
            self._flips[target] = tuple(
                Flip(
                    tuple(
                        Change(c.fact, describe_value(c.before), describe_value(c.after))
                        for c in what.changes
                    ),
                    what.before,
                    what.after,
                )
                for what in self.report.what_would_change(target, max_changes=MAX_CHANGES)
            )
        return self._flips[target]

    def would_make_stand(self, rule: RuleSpec, action: nodes.Action) -> tuple[Flip, ...]:
        """The smallest sets of fact changes after which this rule's ``action`` stands.

        Unlike :meth:`what_would_change`, which flips the outcome for a target
        by any rule, this asks for *this* rule: a red flag that another rule
        already raises does not count.
        """
        ruleset = self.ruleset
        index = self.program.rules.index(rule)
        claims = {c.index for c in ruleset.claims if c.rule == index and c.action == action}

        def stands(states: tuple[int, ...]) -> str | None:
            if states[index] > State.CONDITIONAL:
                return None
            if claims and not claims & set(resolve(ruleset.claims, states).shown):
                return None
            return str(action) + (" (conditional)" if states[index] == State.CONDITIONAL else "")

        values = dict(zip(self.program.facts, self.report.values))
        return tuple(
            Flip(
                tuple(Change(fact, describe_value(values[fact]), describe_value(v)) for fact, v in change),
                "pending",
                after,
            )
            for change, after in whatif.search(ruleset, self.report.values, stands, max_changes=MAX_CHANGES)
        )

    def conflicts(self) -> tuple[ConflictExplanation, ...]:
        out = []
        for conflict in self.report.conflicts:
            rule = self.program.rule(conflict.rule)
            out.append(
                ConflictExplanation(
                    rule=conflict.rule,
                    where=f"{rule.origin}:{rule.line}",
                    claim=conflict.claim,
                    winner=conflict.winner,
                    winner_claim=conflict.winner_claim,
                    winner_target=conflict.winner_target,
                    why=conflict.why,
                )
            )
        return tuple(out)

    def outcomes(self, conflicts: tuple[ConflictExplanation, ...]) -> tuple[OutcomeExplanation, ...]:
        """Each outcome of the report, in the report's order (urgent referrals first)."""
        report = self.report
        items: list[tuple[str, str, str, AnyType]] = []
        for referral in report.referrals:
            text = unparse(Action("refer", referral.to, urgent=referral.urgent))
            items.append(("refer", referral.to, text, referral))
        for cause in report.causes:
            items.append(("suspect", cause.name, unparse(Action("suspect", cause.name)), cause))
        for rec in report.recommendations:
            text = unparse(Action(rec.action, rec.option, over=rec.over))
            items.append((rec.action, rec.option, text, rec))
        out = []
        for kind, target, text, item in items:
            rule = self.program.rule(item.rule)
            out.append(
                OutcomeExplanation(
                    outcome=text,
                    kind=kind,
                    target=target,
                    label=getattr(item, "label", None),
                    urgent=bool(getattr(item, "urgent", False)),
                    status=item.status,
                    caveat=item.caveat,
                    rule=self.rule(rule),
                    beat=tuple(
                        Beat(c.rule, c.claim, c.why)
                        for c in conflicts
                        if c.winner == rule.name and c.winner_target == target
                    ),
                    what_would_change=self.what_would_change(target)
                    if item.status == "conditional"
                    else None,
                )
            )
        return tuple(out)

    def pending(self) -> tuple[PendingRule, ...]:
        return tuple(
            PendingRule(
                outcome=", ".join(str(action) for action in rule.actions),
                rule=self.rule(rule),
                what_would_change={str(a): self.would_make_stand(rule, a) for a in rule.actions},
            )
            for rule in self.program.rules
            if self.trace[rule.name].outcome == "pending"
        )

    def did_not_apply(self, conflicts: tuple[ConflictExplanation, ...]) -> tuple[NoOutcome, ...]:
        lost_rules = {c.rule for c in conflicts}
        out = []
        for rule in self.program.rules:
            entry = self.trace[rule.name]
            if entry.outcome in ("fired", "pending") and rule.name not in lost_rules:
                continue
            out.append(
                NoOutcome(
                    rule=rule.name,
                    where=f"{rule.origin}:{rule.line}",
                    outcome="lost a conflict" if entry.outcome == "fired" else entry.outcome,
                    reason=entry.reason,
                )
            )
        return tuple(out)

    def explanation(self) -> Explanation:
        conflicts = self.conflicts()
        return Explanation(
            ruleset={"name": self.ruleset.name, "title": self.ruleset.title, "version": self.ruleset.version},
            audience=self.audience,
            facts={name: describe_value(value) for name, value in self.report.facts.items()},
            outcomes=self.outcomes(conflicts),
            pending=self.pending(),
            conflicts=conflicts,
            did_not_apply=self.did_not_apply(conflicts),
        )

    def why_not(self, name: str) -> WhyNot:
        program = self.program
        if any(r.name == name for r in program.rules):
            rules = [program.rule(name)]
            target = None
        elif name in program.options or name in program.causes or name in self.ruleset.referral_targets:
            rules = [r for r in program.rules if any(a.target == name for a in r.actions)]
            target = name
        else:
            if any(r.name == name for r in program.excluded):
                raise UnknownName(
                    f"rule '{name}' is left out of evaluation (its status is testing or retired); "
                    "use --include-testing for a testing rule",
                    excluded=True,
                )
            known = [
                *(r.name for r in program.rules),
                *program.options,
                *program.causes,
                *sorted(self.ruleset.referral_targets),
            ]
            guess = closest(name, known)
            hint = f"did you mean '{guess}'?" if guess else "it is not a rule, option, cause or referral"
            raise UnknownName(f"ruleset '{self.ruleset.name}' has no '{shorten(name)}'; {hint}")
        conflicts = self.conflicts()
        return WhyNot(
            name=name,
            kind="rule" if target is None else "outcome",
            rules=tuple(self._why_not_rule(rule, conflicts) for rule in rules),
            what_would_change=self.what_would_change(target) if target is not None else None,
        )

    def _why_not_rule(self, rule: RuleSpec, conflicts: tuple[ConflictExplanation, ...]) -> RuleWhyNot:
        entry = self.trace[rule.name]
        explained = self.rule(rule)
        condition = explained.condition
        blocking = [t for t in condition.decided_by if t.value != "true"]
        lost = tuple(c for c in conflicts if c.rule == rule.name)
        verdicts = {
            "not_matched": "a condition failed",
            "pending": "a condition is unknown",
            "defeated": "its condition held, but its exception (unless) held too",
            "overridden": "it applied, but another rule overrode it or won the conflict",
        }
        if entry.outcome == "fired":
            verdict = (
                "it applied, but lost a conflict"
                if lost
                else "it applied" + (" (conditionally)" if entry.conditional else "")
            )
        else:
            verdict = verdicts[entry.outcome]
        stand: Mapping[str, tuple[Flip, ...]] = {}
        if entry.outcome != "fired" or lost:
            stand = {str(a): self.would_make_stand(rule, a) for a in rule.actions}
        return RuleWhyNot(
            rule=explained,
            outcome=entry.outcome,
            reason=entry.reason,
            verdict=verdict,
            first_blocker=blocking[0] if condition.value != "true" and blocking else None,
            lost=lost,
            what_would_change=stand,
        )


def explain(report: Report, *, audience: str = "patient") -> Explanation:
    """How every outcome of ``report`` was reached, and what would change it.

    ``audience`` chooses the note shown with each rule: its ``because`` for
    the patient, its ``detail`` for the clinician.
    """
    return _Builder(report, audience).explanation()


def why_not(report: Report, name: str, *, audience: str = "patient") -> WhyNot:
    """Why the rule ``name``, or the rules about the option, cause or referral
    ``name``, gave no outcome: the first condition that failed or stayed
    unknown, the conflicts lost, and what would make each claim stand.

    Raises :class:`UnknownName` (with a suggestion) for a name the ruleset
    does not have, or a rule it leaves out.
    """
    return _Builder(report, audience).why_not(name)

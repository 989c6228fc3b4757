"""The report of one evaluation, built lazily from the compact outcome.

``Ruleset.evaluate`` returns a :class:`Report` holding only the fact values
and one state per rule.  Recommendations, causes, referrals, questions and
the trace are computed the first time they are read, so code that needs only
the decision never pays for the explanation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, overload
from typing import Any as AnyType

import attrs

from cramprules import nodes, whatif
from cramprules.caveats import caveat_of
from cramprules.claims import Resolution, resolve
from cramprules.evaluator import Atom, Env, Value, environment, explain
from cramprules.outcomes import (
    Cause,
    FactChange,
    Question,
    Recommendation,
    Referral,
    Source,
    TraceEntry,
    WhatIf,
)
from cramprules.states import OUTCOMES, State

if TYPE_CHECKING:
    from typing_extensions import Self

    from cramprules.ruleset import Ruleset

__all__ = [
    "SCHEMA_VERSION",
    "Cause",
    "Conflict",
    "FactChange",
    "Question",
    "Recommendation",
    "Referral",
    "Report",
    "Source",
    "TraceEntry",
    "WhatIf",
    "report_schema",
]

SCHEMA_VERSION = "2.0"
"""Version of the ``to_dict()`` layout; see ``cramprules/schema/report.schema.json``."""


@attrs.frozen
class Conflict:
    """A claim that lost to another: the loser, the winner and why."""

    rule: str
    claim: str
    target: str
    winner: str
    winner_claim: str
    winner_target: str
    why: str


_make = tuple.__new__
T = TypeVar("T")


class lazy(Generic[T]):
    """A cached property without the lock of Python 3.11's cached_property.

    Computing a report part twice in a race is harmless (the result is the
    same), so no lock is needed, and reading a report stays cheap."""

    def __init__(self, function: Callable[[AnyType], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


class Report(tuple):  # type: ignore[type-arg]
    """The outcome of evaluating one set of facts.  Immutable; safe to share.

    Internally a small tuple ``(ruleset, values, states)``: the fact values
    and one state per rule.  Everything else is computed when first read.
    """

    # No __slots__: the instance dict holds the lazily computed parts.

    def __new__(cls, ruleset: Ruleset, values: tuple[AnyType, ...], states: tuple[int, ...]) -> Self:
        return _make(cls, (ruleset, values, states))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Report is immutable; cannot set {name!r}")

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset that made this report."""
        return self[0]  # type: ignore[no-any-return]

    @property
    def values(self) -> tuple[AnyType, ...]:
        """Every fact's value in declaration order; ``None`` where unknown."""
        return self[1]  # type: ignore[no-any-return]

    @property
    def states(self) -> tuple[int, ...]:
        """Every rule's :class:`~cramprules.states.State`, as an int, in source order."""
        return self[2]  # type: ignore[no-any-return]

    # ------------------------------------------------------------ basics

    @lazy
    def facts(self) -> dict[str, AnyType]:
        """The known input facts, after coercion (unknown ones are left out)."""
        return {
            name: value for name, value in zip(self.ruleset.program.facts, self.values) if value is not None
        }

    @lazy
    def _env(self) -> Env:
        ruleset = self.ruleset
        return environment(
            ruleset.program, self.values, self.states, ruleset.interpreter_functions, ruleset.atom_texts
        )

    @lazy
    def _resolution(self) -> Resolution:
        return resolve(self.ruleset.claims, self.states)

    def decided_by(self, condition: nodes.Condition) -> tuple[Value, tuple[Atom, ...]]:
        """A condition's value with these facts, and the tests that decided it.

        For ``a and b`` that is false, the false tests; true, all of them;
        unknown, the unknown ones.  This is what traces and explanations show.
        """
        value, atoms = explain(condition, self._env)
        return value, tuple(atoms)

    @lazy
    def conflicts(self) -> tuple[Conflict, ...]:
        """Every claim that lost to another, in claim order, with the reason."""
        claims = self.ruleset.claims
        rules = self.ruleset.program.rules
        out = []
        for loser, (winner, why) in sorted(self._resolution.lost.items()):
            lost, won = claims[loser], claims[winner]
            out.append(
                Conflict(
                    rule=rules[lost.rule].name,
                    claim=str(lost.action),
                    target=lost.action.target,
                    winner=rules[won.rule].name,
                    winner_claim=str(won.action),
                    winner_target=won.action.target,
                    why=why,
                )
            )
        return tuple(out)

    def _sources(self, names: tuple[str, ...]) -> tuple[Source, ...]:
        return tuple(self.ruleset.source(n) for n in names)

    def _conditional(self, index: int) -> AnyType:
        """A claim that could still be removed: its template, with the caveat."""
        ruleset, _, states = self
        rule = ruleset.claims[index].rule
        caveat = caveat_of(ruleset, rule, states, self._env, self._resolution.threats.get(index, ()))
        return attrs.evolve(
            ruleset.templates[index], status="conditional", caveat=caveat.text, depends_on=caveat.depends_on
        )

    # ------------------------------------------------------------ decisions

    @lazy
    def recommendations(self) -> tuple[Recommendation, ...]:
        """Standing advice, ranked: priority, then prefer / recommend / avoid."""
        return self[0].decisions.recommendations(self[2], self._conditional)  # type: ignore[no-any-return]

    @lazy
    def referrals(self) -> tuple[Referral, ...]:
        """Referrals, urgent first, then by priority and source order."""
        return self[0].decisions.referrals(self[2], self._conditional)  # type: ignore[no-any-return]

    @lazy
    def causes(self) -> tuple[Cause, ...]:
        """Suspected causes, each with the facts that point to it."""
        program = self.ruleset.program
        found: dict[str, tuple[AnyType, Cause]] = {}
        for i, rule in enumerate(program.rules):
            state = self.states[i]
            if state > State.CONDITIONAL:
                continue
            for action in rule.actions:
                if action.kind != "suspect":
                    continue
                rank = (state != State.FIRED, -rule.priority, i)
                if action.target in found and found[action.target][0] <= rank:
                    continue
                _, atoms = explain(rule.condition, self._env)
                spec = program.causes[action.target]
                caveat = caveat_of(self.ruleset, i, self.states, self._env)
                found[action.target] = (
                    rank,
                    Cause(
                        name=action.target,
                        label=spec.label,
                        rule=rule.name,
                        evidence=tuple(dict.fromkeys(str(a) for a in atoms if a.value is True)),
                        facts=tuple(
                            dict.fromkeys(
                                pair
                                for a in atoms
                                if a.value is True
                                for pair in a.facts
                                if pair[0] in program.facts
                            )
                        ),
                        sources=self._sources(tuple(dict.fromkeys((*rule.sources, *spec.sources)))),
                        status="conditional" if state == State.CONDITIONAL else "fired",
                        caveat=caveat.text,
                        depends_on=caveat.depends_on,
                        because=rule.because,
                    ),
                )
        ranked = sorted(found.values(), key=lambda pair: pair[0])
        return tuple(c for _, c in ranked)

    @property
    def urgent(self) -> bool:
        """Whether the report carries an urgent referral."""
        return any(r.urgent for r in self.referrals)

    # ------------------------------------------------------------ questions

    @lazy
    def questions(self) -> tuple[Question, ...]:
        """Unknown facts whose answer would decide a rule that is still open.

        Most decisive first: facts that could still remove advice already
        shown (the facts its caveat names, so that what is shown becomes
        sure), then those that could raise an urgent referral, then those
        deciding higher-priority rules, then those deciding more rules.
        """
        ruleset = self.ruleset
        program = ruleset.program
        decide = ruleset.compiled.decide
        live = self._live_rules()
        caveats: set[str] = set()
        for outcomes in (self.referrals, self.causes, self.recommendations):
            for outcome in outcomes:
                caveats.update(outcome.depends_on)
        ranked: list[tuple[AnyType, Question]] = []
        current = self.states
        for position, (name, spec) in enumerate(program.facts.items()):
            if self.values[position] is not None or spec.derived or name not in ruleset.used_facts:
                continue
            affected: set[int] = set()
            for candidate in ruleset.candidates[name]:
                values = (*self.values[:position], candidate, *self.values[position + 1 :])
                states = decide(values)
                if states == current:
                    continue  # the common case: this answer changes nothing
                # A change counts if it decides an open rule or opens a closed one;
                # defeated -> not matched changes nothing anyone sees.
                affected.update(
                    i
                    for i, (a, b) in enumerate(zip(current, states))
                    if a != b and (a < State.NOT_MATCHED or b < State.NOT_MATCHED) and i in live
                )
            if not affected:
                continue
            rules = [program.rules[i] for i in sorted(affected)]
            rank = (
                name not in caveats,
                not any(r.urgent for r in rules),
                -max(r.priority for r in rules),
                -len(rules),
                position,
            )
            ranked.append(
                (
                    rank,
                    Question(
                        fact=name,
                        prompt=spec.prompt,
                        type=spec.kind,
                        affects=tuple(r.name for r in rules),
                        values=spec.values,
                        low=spec.low,
                        high=spec.high,
                        unit=spec.unit,
                    ),
                )
            )
        ranked.sort(key=lambda pair: pair[0])
        return tuple(q for _, q in ranked)

    def _live_rules(self) -> set[int]:
        """Rules whose outcome could still show: a rule whose every claim is
        already beaten, or already given, by advice that fired outright cannot
        change the report, so the facts that decide it are not worth asking."""
        ruleset = self.ruleset
        claims = ruleset.claims
        fired = {index for index in self._resolution.shown if self.states[claims[index].rule] == State.FIRED}
        # Advice already given outright: the same advice from another rule adds nothing.
        given = {
            (claims[i].action.kind, claims[i].action.target)
            for i in fired
            if claims[i].action.kind != "refer"
        }
        live: set[int] = set()
        for i, rule in enumerate(ruleset.program.rules):
            if any(a.kind == "suspect" for a in rule.actions):
                live.add(i)
        for claim in claims:
            beaten = any(winner in fired for winner, _ in claim.beaten_by)
            repeated = claim.index not in fired and (claim.action.kind, claim.action.target) in given
            if not beaten and not repeated:
                live.add(claim.rule)
        return live

    # ------------------------------------------------------------ trace

    @lazy
    def trace(self) -> tuple[TraceEntry, ...]:
        """Every rule, in source order: what happened to it and why."""
        program = self.ruleset.program
        claims = self.ruleset.claims
        lost_by_rule: dict[int, list[str]] = {}
        for loser, (winner, why) in self._resolution.lost.items():
            claim = claims[loser]
            win = claims[winner]
            lost_by_rule.setdefault(claim.rule, []).append(
                f"'{claim.action}' lost to '{win.action}' of rule '{program.rules[win.rule].name}': {why}"
            )
        claim_count: dict[int, int] = {}
        for claim in claims:
            claim_count[claim.rule] = claim_count.get(claim.rule, 0) + 1
        threatened: dict[int, list[int]] = {}
        for index, claim_threats in self._resolution.threats.items():
            threatened.setdefault(claims[index].rule, []).extend(claim_threats)
        entries = []
        for i, rule in enumerate(program.rules):
            state = self.states[i]
            outcome = OUTCOMES[state]
            reason = self._reason(i, state)
            threats = threatened.get(i)
            if threats and state == State.FIRED:
                caveat = caveat_of(self.ruleset, i, self.states, self._env, tuple(dict.fromkeys(threats)))
                reason += f"; conditional: {caveat.text}"
            losses = lost_by_rule.get(i)
            if losses:
                if len(losses) == claim_count.get(i, 0) and not any(
                    a.kind == "suspect" for a in rule.actions
                ):
                    outcome = "overridden"
                reason += "; " + "; ".join(losses)
            entries.append(
                TraceEntry(
                    rule=rule.name,
                    outcome=outcome,
                    reason=reason,
                    line=rule.line,
                    origin=rule.origin,
                    conditional=state == State.CONDITIONAL or bool(threats),
                )
            )
        return tuple(entries)

    def _reason(self, index: int, state: int) -> str:
        program = self.ruleset.program
        rule = program.rules[index]
        env = self._env
        _, atoms = explain(rule.condition, env)
        tested = ", ".join(str(a) for a in atoms)
        if state == State.FIRED:
            return f"if {tested}"
        if state == State.PENDING:
            unknown = ", ".join(str(a) for a in atoms if a.value is None)
            return f"undecided: {unknown or tested}"
        if state == State.NOT_MATCHED:
            return f"not matched: {', '.join(str(a) for a in atoms if a.value is False) or tested}"
        if state == State.DEFEATED:
            assert rule.unless is not None
            _, unless_atoms = explain(rule.unless, env)
            return f"defeated: unless {', '.join(str(a) for a in unless_atoms)}"
        if state == State.OVERRIDDEN:
            by = [o.name for o in program.rules if rule.name in o.overrides]
            return f"overridden by rule {', '.join(repr(b) for b in by)}"
        caveat = caveat_of(self.ruleset, index, self.states, env)
        return f"if {tested}; conditional: {caveat.text}"

    def explain_rule(self, name: str) -> TraceEntry:
        """The trace entry of one rule, by name."""
        for entry in self.trace:
            if entry.rule == name:
                return entry
        raise KeyError(name)

    # ------------------------------------------------------------ what would change

    def what_would_change(
        self, name: str, *, max_changes: int = 3, budget: int = 20_000
    ) -> tuple[WhatIf, ...]:
        """The smallest sets of fact changes that would flip the outcome for ``name``.

        ``name`` is an option, a cause or a referral target.  Returns every
        alternative of the smallest size found (up to ``max_changes`` facts),
        or an empty tuple when no change within the budget flips it.
        """
        ruleset = self.ruleset
        program = ruleset.program
        if (
            name not in program.options
            and name not in program.causes
            and name not in ruleset.referral_targets
        ):
            raise KeyError(f"'{name}' is not an option, cause or referral target of ruleset '{program.name}'")
        before = whatif.outcome_of(ruleset, name, self.states)

        def flip(states: tuple[int, ...]) -> str | None:
            after = whatif.outcome_of(ruleset, name, states)
            return after if after != before else None

        values = dict(zip(program.facts, self.values))
        found = whatif.search(ruleset, self.values, flip, max_changes=max_changes, budget=budget)
        return tuple(
            WhatIf(tuple(FactChange(f, values[f], v) for f, v in change), before, after)
            for change, after in found
        )

    # ------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, AnyType]:
        """A JSON-ready dict, laid out by the versioned report schema."""
        ruleset = self.ruleset
        used_sources: dict[str, Source] = {}

        def sources(items: tuple[Source, ...]) -> list[str]:
            for source in items:
                used_sources.setdefault(source.name, source)
            return [s.name for s in items]

        document: dict[str, AnyType] = {
            "schema_version": SCHEMA_VERSION,
            "engine": {"name": "cramprules", "version": ruleset.engine_version},
            "ruleset": {
                "name": ruleset.name,
                "title": ruleset.title,
                "version": ruleset.version,
                "sha256": ruleset.sha256,
            },
            "facts": {k: v for k, v in self.facts.items()},
            "referrals": [
                {
                    "to": r.to,
                    "urgent": r.urgent,
                    "because": r.because,
                    "detail": r.detail,
                    "rule": r.rule,
                    "sources": sources(r.sources),
                    "status": r.status,
                    "caveat": r.caveat,
                    "depends_on": list(r.depends_on),
                }
                for r in self.referrals
            ],
            "causes": [
                {
                    "name": c.name,
                    "label": c.label,
                    "rule": c.rule,
                    "evidence": list(c.evidence),
                    "because": c.because,
                    "sources": sources(c.sources),
                    "status": c.status,
                    "caveat": c.caveat,
                    "depends_on": list(c.depends_on),
                }
                for c in self.causes
            ],
            "recommendations": [
                {
                    "action": r.action,
                    "option": r.option,
                    "label": r.label,
                    "rule": r.rule,
                    "because": r.because,
                    "detail": r.detail,
                    "sources": sources(r.sources),
                    "status": r.status,
                    "caveat": r.caveat,
                    "depends_on": list(r.depends_on),
                    "over": list(r.over),
                    "evidence": r.evidence,
                    "group": r.group,
                }
                for r in self.recommendations
            ],
            "questions": [
                {
                    "fact": q.fact,
                    "prompt": q.prompt,
                    "type": q.type,
                    "affects": list(q.affects),
                    **({"values": list(q.values)} if q.values else {}),
                    **({"low": q.low, "high": q.high} if q.low is not None and q.high is not None else {}),
                    **({"unit": q.unit} if q.unit else {}),
                }
                for q in self.questions
            ],
            "trace": [t.to_dict() for t in self.trace],
        }
        document["sources"] = [
            {"name": s.name, "label": s.label, "url": s.url}
            for s in sorted(used_sources.values(), key=lambda s: s.name)
        ]
        # Every part is now computed and kept; the working state behind them
        # (every fact and cause by name, the whole resolution) is the
        # ruleset's size, not the report's, so a held report lets it go.
        self.__dict__.pop("_env", None)
        self.__dict__.pop("_resolution", None)
        return document

    def to_json(self, *, indent: int | None = 2) -> str:
        """``to_dict()`` as JSON text: byte-identical for the same ruleset and facts."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False) + "\n"

    def digest(self) -> str:
        """A short hash of the decision, for audit logs."""
        return hashlib.sha256(self.to_json(indent=None).encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return (
            f"<Report {self.ruleset.name}: {len(self.referrals)} referrals, "
            f"{len(self.causes)} causes, {len(self.recommendations)} recommendations>"
        )


def report_schema() -> dict[str, AnyType]:
    """The JSON Schema that ``Report.to_dict()`` follows (``SCHEMA_VERSION``)."""
    from importlib import resources

    text = resources.files("cramprules").joinpath("schema/report.schema.json").read_text("utf-8")
    schema: dict[str, AnyType] = json.loads(text)
    return schema

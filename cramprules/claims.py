"""Claims: each action of each rule that can appear in a report, and how
conflicts between them are resolved.

The compiler turns the resolution into generated code
(:func:`cramprules.compiler.compile_decisions`); :func:`resolve` here is the
plain version that explanations, analyses and tests use.  Both read the same
:class:`ClaimSpec` list, ordered so that a claim can only be beaten by an
earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from cramprules import nodes
from cramprules.model import Program, RuleSpec
from cramprules.outcomes import Recommendation, Referral, Source
from cramprules.states import State

__all__ = [
    "ClaimSpec",
    "Resolution",
    "build_claims",
    "report_orders",
    "resolve",
    "source_of",
    "templates",
]

ACTION_RANK = {"refer": 0, "prefer": 1, "recommend": 2, "avoid": 3, "suspect": 4}
"""How a report orders advice of the same priority."""


@attrs.frozen
class ClaimSpec:
    """One action of one rule that can appear in a report."""

    index: int
    rule: int
    position: int
    action: nodes.Action
    beaten_by: tuple[tuple[int, str], ...] = ()
    """``(claim index, why)`` for every claim that wins over this one."""


def _claim_key(claim: ClaimSpec, rules: Sequence[RuleSpec]) -> tuple[object, ...]:
    rule = rules[claim.rule]
    kind = claim.action.kind
    return (
        not (kind == "refer" and claim.action.urgent),
        -rule.priority,
        0 if kind == "avoid" else 1,
        -rule.specificity,
        claim.rule,
        claim.position,
    )


def build_claims(program: Program) -> tuple[ClaimSpec, ...]:
    """Every claim, ordered so that a claim can only be beaten by earlier ones."""
    claims = [
        ClaimSpec(0, i, k, action)
        for i, rule in enumerate(program.rules)
        for k, action in enumerate(rule.actions)
        if action.kind != "suspect"
    ]
    claims.sort(key=lambda c: _claim_key(c, program.rules))
    claims = [attrs.evolve(c, index=i) for i, c in enumerate(claims)]
    # Only claims on the same option, or preferences naming each other, can
    # conflict: index them so that large rulesets stay linear.
    by_target: dict[str, list[ClaimSpec]] = {}
    preferred_over: dict[str, list[ClaimSpec]] = {}
    for claim in claims:
        if claim.action.kind == "refer":
            continue  # a referral never beats, nor is beaten by, anything
        by_target.setdefault(claim.action.target, []).append(claim)
        for other in claim.action.over:
            preferred_over.setdefault(other, []).append(claim)
    out = []
    for b in claims:
        if b.action.kind == "refer":
            out.append(b)
            continue
        rivals = {c.index: c for c in by_target.get(b.action.target, ())}
        rivals.update((c.index, c) for c in preferred_over.get(b.action.target, ()))
        for other in b.action.over:
            rivals.update((c.index, c) for c in by_target.get(other, ()))
        beaten: list[tuple[int, str]] = []
        for index in sorted(i for i in rivals if i < b.index):
            why = _beats(rivals[index], b, program.rules)
            if why:
                beaten.append((index, why))
        out.append(attrs.evolve(b, beaten_by=tuple(beaten)))
    return tuple(out)


def _beats(a: ClaimSpec, b: ClaimSpec, rules: Sequence[RuleSpec]) -> str | None:
    """Why claim ``a`` (earlier in the order) wins over ``b``, or None."""
    x, y = a.action, b.action
    ra, rb = rules[a.rule], rules[b.rule]
    if "refer" in (x.kind, y.kind) or a.rule == b.rule:
        return None
    if x.target == y.target:
        if x.kind == "avoid" and y.kind != "avoid":
            if ra.priority > rb.priority:
                return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
            return f"'avoid {x.target}' wins over '{y.kind} {y.target}' (avoid beats {y.kind})"
        if y.kind == "avoid" and x.kind != "avoid" and ra.priority > rb.priority:
            return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
        return None
    if x.kind == "prefer" and y.kind == "prefer" and (y.target in x.over or x.target in y.over):
        if ra.priority != rb.priority:
            return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
        if ra.specificity != rb.specificity:
            return f"'{ra.name}' is more specific ({ra.specificity} tests against {rb.specificity})"
        return f"'{ra.name}' comes first (same priority and specificity)"
    return None


@attrs.frozen
class Resolution:
    """Which claims stand and which lost, and to whom; which stand for sure."""

    shown: tuple[int, ...]
    """Claim indices that stand, in claim order."""
    lost: Mapping[int, tuple[int, str]]
    """Claim index -> (winning claim index, why)."""
    sure: frozenset[int] = frozenset()
    """Standing claims that no answer to an open question can remove."""
    threats: Mapping[int, tuple[int, ...]] = attrs.field(factory=dict)
    """Standing claim -> the claims that could still beat it (live, not surely beaten)."""


def resolve(claims: Sequence[ClaimSpec], states: Sequence[int]) -> Resolution:
    """Which claims stand, given every rule's state: the reference resolution.

    A standing claim is *sure* when its rule fired outright and every claim
    that could beat it is dead: its rule can no longer apply (not matched,
    defeated, overridden), or it is beaten by a claim that is itself sure.
    Anything else that could still beat it is a *threat*, and makes it
    conditional.  This is the rule the generated decisions follow.
    """
    shown: list[int] = []
    standing: set[int] = set()
    sure: set[int] = set()
    dead: set[int] = set()
    lost: dict[int, tuple[int, str]] = {}
    threats: dict[int, tuple[int, ...]] = {}
    for claim in claims:
        state = states[claim.rule]
        if state > State.PENDING or any(w in sure for w, _ in claim.beaten_by):
            dead.add(claim.index)
        if state > State.CONDITIONAL:
            continue
        winner = next(((w, why) for w, why in claim.beaten_by if w in standing), None)
        if winner is not None:
            lost[claim.index] = winner
            continue
        standing.add(claim.index)
        shown.append(claim.index)
        live = tuple(w for w, _ in claim.beaten_by if w not in dead)
        if live:
            threats[claim.index] = live
        elif state == State.FIRED:
            sure.add(claim.index)
    return Resolution(tuple(shown), lost, frozenset(sure), threats)


def report_orders(program: Program, claims: Sequence[ClaimSpec]) -> tuple[list[int], list[int]]:
    """Claim indices as reports list them: recommendations, then referrals."""
    rules = program.rules
    recommendations = sorted(
        (c for c in claims if c.action.kind in ("recommend", "prefer", "avoid")),
        key=lambda c: (-rules[c.rule].priority, ACTION_RANK[c.action.kind], c.rule, c.position),
    )
    referrals = sorted(
        (c for c in claims if c.action.kind == "refer"),
        key=lambda c: (not c.action.urgent, -rules[c.rule].priority, c.rule, c.position),
    )
    return [c.index for c in recommendations], [c.index for c in referrals]


def templates(program: Program, claims: Sequence[ClaimSpec]) -> dict[int, Recommendation | Referral]:
    """The finished value of every claim when its rule simply fires.

    Values are immutable, so every report shares these objects; only a
    conditional claim needs a new one, with its caveat."""

    def sources(names: tuple[str, ...]) -> tuple[Source, ...]:
        return tuple(source_of(program, name) for name in names)

    out: dict[int, Recommendation | Referral] = {}
    for claim in claims:
        rule = program.rules[claim.rule]
        action = claim.action
        if action.kind == "refer":
            out[claim.index] = Referral(
                to=action.target,
                urgent=action.urgent,
                because=rule.because,
                rule=rule.name,
                sources=sources(rule.sources),
                detail=rule.detail,
            )
        elif action.kind in ("recommend", "prefer", "avoid"):
            option = program.options[action.target]
            out[claim.index] = Recommendation(
                action=action.kind,
                option=action.target,
                label=option.label,
                rule=rule.name,
                because=rule.because,
                detail=rule.detail,
                sources=sources(rule.sources),
                status="fired",
                over=action.over,
                evidence=rule.evidence,
                group=option.group,
                line=rule.line,
            )
    return out


def source_of(program: Program, name: str) -> Source:
    """The public value of a declared source."""
    spec = program.sources[name]
    return Source(spec.name, spec.label, spec.url)

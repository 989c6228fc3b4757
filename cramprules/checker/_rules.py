"""Rules: their names, conditions, actions and what they override.

Every ``suspect`` is read first, so a cause is known as a cause wherever the
rule that suspects it stands; then each rule is checked in source order and
becomes a :class:`~cramprules.model.RuleSpec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cramprules import nodes
from cramprules.checker._conditions import ConditionChecker
from cramprules.checker._declarations import check_sources, check_status
from cramprules.checker._sink import DiagnosticSink
from cramprules.checker._vocabulary import Vocabulary, misspelt
from cramprules.model import RuleSpec
from cramprules.names import closest

__all__ = ["check_overrides", "is_active", "read_rules", "specificity"]


def specificity(condition: nodes.Condition) -> int:
    """How many tests must hold for a condition to be true: the tie-breaker
    between competing rules.  ``a and b`` makes two; ``a or b`` only one."""
    if isinstance(condition, nodes.All):
        return sum(specificity(c) for c in condition.operands)
    if isinstance(condition, nodes.Any):
        return min(specificity(c) for c in condition.operands)
    return 1


def is_active(rule: RuleSpec, *, include_testing: bool) -> bool:
    """Whether a rule takes part in evaluation: not retired, and not testing unless asked for."""
    if rule.status == "retired":
        return False
    return rule.status != "testing" or include_testing


def read_rules(
    statements: Sequence[nodes.Statement], names: Vocabulary, sink: DiagnosticSink, *, main: str
) -> list[RuleSpec]:
    """The rules among ``statements``, checked; ``main`` is the main file's origin.

    Undeclared facts, options and causes the rules use are added to ``names``.
    """
    rules = [s for s in statements if isinstance(s, nodes.Rule)]
    # Causes first: a name is a cause if a rule suspects it, wherever it is.
    for rule in rules:
        for action in rule.actions:
            if action.kind == "suspect":
                _conclude(action, names, sink)
    conditions = ConditionChecker(names, sink, infer=True)
    out: list[RuleSpec] = []
    seen: dict[str, nodes.Span | None] = {}
    for rule in rules:
        spec = _rule(rule, conditions, main)
        if spec.name in seen:
            first = seen[spec.name]
            sink.error(
                "duplicate-rule",
                f"there is already a rule named '{spec.name}'" + (f" at {first}" if first else ""),
                rule.span,
                hint="give each rule its own name",
            )
            continue
        seen[spec.name] = rule.span
        out.append(spec)
    return out


def _name(rule: nodes.Rule, main: str) -> str:
    """A rule's name; an unnamed rule is named after where it stands."""
    if rule.name is not None:
        return rule.name
    span = rule.span
    origin = span.origin if span else main
    line = span.line if span else 0
    if origin == main:
        return f"rule@{line}"
    return f"rule@{Path(origin).stem}:{line}"


def _rule(rule: nodes.Rule, conditions: ConditionChecker, main: str) -> RuleSpec:
    span = rule.span
    names, sink = conditions.names, conditions.sink
    status = rule.status or "production"
    check_status(status, span, sink)
    condition = conditions.condition(rule.condition)
    unless = conditions.condition(rule.unless) if rule.unless is not None else None
    actions = rule.actions
    for action in actions:
        _action(action, names, sink)
    check_sources(rule.sources, span, names.declared.sources, sink)
    targets: dict[str, str] = {}
    for action in actions:
        if action.kind in ("recommend", "prefer", "avoid"):
            previous = targets.get(action.target)
            if previous is not None and (previous == "avoid") != (action.kind == "avoid"):
                sink.error(
                    "self-contradiction",
                    f"this rule both says '{previous} {action.target}' and '{action.kind} {action.target}'",
                    action.span or span,
                    hint="split it into two rules with different conditions",
                )
            targets[action.target] = action.kind
    if unless is not None and any(a.kind == "refer" and a.urgent for a in actions):
        sink.error(
            "urgent-unless",
            "an urgent referral cannot have an 'unless': nothing may defeat it",
            rule.unless.span if rule.unless is not None else span,
            hint="move the urgent referral into a rule of its own without 'unless'",
        )
    return RuleSpec(
        name=_name(rule, main),
        anonymous=rule.name is None,
        condition=condition,
        actions=actions,
        unless=unless,
        because=rule.because,
        detail=rule.detail,
        sources=rule.sources,
        overrides=rule.overrides,
        priority=rule.priority,
        evidence=rule.evidence,
        reviewed=rule.reviewed,
        status=status,
        author=rule.author,
        specificity=specificity(condition),
        span=span,
    )


def _action(action: nodes.Action, names: Vocabulary, sink: DiagnosticSink) -> None:
    """Check the options an action names (its causes were concluded before)."""
    if action.kind not in ("recommend", "prefer", "avoid"):
        return
    _option(action.target, action.span, names, sink)
    for other in action.over:
        _option(other, action.span, names, sink)
        if other == action.target:
            sink.error(
                "prefer-over-itself",
                f"'prefer {other} over {other}' compares an option with itself",
                action.span,
            )


def _conclude(action: nodes.Action, names: Vocabulary, sink: DiagnosticSink) -> None:
    """Take note of a ``suspect`` action: its target is a cause."""
    name = action.target
    if name in names.causes or name in names.inferred_causes:
        names.concluded.add(name)
        return
    if name in names.facts:
        sink.error(
            "not-a-cause",
            f"'{name}' is declared as a fact, so rules cannot suspect it",
            action.span,
            hint=f'declare a cause with its own name: cause {name}_cause "..."',
        )
        return
    guess = names.typo(name, names.causes)
    if guess:
        misspelt(sink, name, guess, "cause", action.span, new="cause", declaration=f'cause {name} "..."')
        return
    names.concluded.add(name)
    names.inferred_causes.setdefault(name, action.span)
    sink.note(
        "inferred-cause",
        f"'{name}' is not declared; it is taken to be a cause",
        action.span,
        hint=f'declare it to give it a label and sources: cause {name} "..." cite ...',
    )


def _option(name: str, span: nodes.Span | None, names: Vocabulary, sink: DiagnosticSink) -> None:
    """Take note of an option a rule names; an undeclared one is inferred."""
    if name in names.options or name in names.inferred_options:
        return
    if name in names.facts or name in names.causes or name in names.concluded:
        kind = "fact" if name in names.facts else "cause"
        sink.error(
            "not-an-option",
            f"'{name}' is a {kind}, not an option",
            span,
            hint=f'recommend, prefer and avoid name options; declare one: option {name}_option "..."',
        )
        return
    guess = names.typo(name, names.options)
    if guess:
        misspelt(sink, name, guess, "option", span, new="option", declaration=f'option {name} "..."')
        return
    names.inferred_options[name] = span
    sink.note(
        "inferred-option",
        f"'{name}' is not declared; it is taken to be an option",
        span,
        hint=f'declare it to give it a label: option {name} "..."',
    )


def check_overrides(rules: Sequence[RuleSpec], sink: DiagnosticSink) -> None:
    """Every rule a rule overrides must exist, be another rule, and not refer urgently."""
    by_name = {r.name: r for r in rules}
    for rule in rules:
        for target in rule.overrides:
            if target == rule.name:
                sink.error("override-self", f"rule '{rule.name}' overrides itself", rule.span)
                continue
            other = by_name.get(target)
            if other is None:
                guess = closest(target, by_name)
                sink.error(
                    "unknown-rule",
                    f"'{target}' is not a rule of this ruleset",
                    rule.span,
                    hint=f"did you mean '{guess}'?" if guess else "name a rule declared with 'rule NAME:'",
                )
            elif other.urgent:
                sink.error(
                    "override-urgent",
                    f"rule '{target}' gives an urgent referral, which nothing may override",
                    rule.span,
                    hint=f"remove '{target}' from this rule's overrides",
                )

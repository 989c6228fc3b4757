"""What an author asserts about the rules: invariants and examples.

They are read after the rules and speak only of the names the rules know:
an invariant or example cannot introduce a fact, an option or a cause.
Then the names themselves are looked over once more (:func:`check_names`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs

from cramprules import nodes
from cramprules.checker._conditions import ConditionChecker
from cramprules.checker._sink import DiagnosticSink
from cramprules.checker._vocabulary import Vocabulary
from cramprules.names import NameIndex, closest

__all__ = ["check_names", "read_examples", "read_invariants"]


def read_invariants(
    statements: Sequence[nodes.Statement], names: Vocabulary, sink: DiagnosticSink
) -> tuple[nodes.Invariant, ...]:
    """The invariants among ``statements``, checked against the names the rules use."""
    conditions = ConditionChecker(names, sink, infer=False)
    out = []
    for statement in statements:
        if isinstance(statement, nodes.Invariant):
            condition = conditions.condition(statement.condition) if statement.condition is not None else None
            _claim(statement.claim, names, sink)
            out.append(attrs.evolve(statement, condition=condition))
    return tuple(out)


def _claim(claim: nodes.Claim, names: Vocabulary, sink: DiagnosticSink) -> None:
    if isinstance(claim, nodes.Action):
        _known_target(claim, names, sink)
    elif isinstance(claim, nodes.ClaimNot):
        _claim(claim.operand, names, sink)
    else:
        for operand in claim.operands:
            _claim(operand, names, sink)


def _known_target(action: nodes.Action, names: Vocabulary, sink: DiagnosticSink) -> None:
    """An action in an invariant or example must name a cause or option the rules know."""
    if action.kind == "refer":
        return
    known: tuple[Collection[str], Collection[str]]
    if action.kind == "suspect":
        code, what, known = "unknown-cause", "a cause", (names.causes, names.concluded)
    else:
        code, what, known = "unknown-option", "an option", (names.options, names.inferred_options)
    if any(action.target in group for group in known):
        return
    guess = closest(action.target, [name for group in known for name in group])
    sink.error(
        code,
        f"'{action.target}' is not {what} of this ruleset",
        action.span,
        hint=f"did you mean '{guess}'?" if guess else None,
    )


def _known_fact(
    name: str, message: str, span: nodes.Span | None, names: Vocabulary, sink: DiagnosticSink
) -> None:
    """An example can give and ask for only the facts the rules know; ``message`` says otherwise."""
    if name in names.facts or name in names.inferred:
        return
    guess = closest(name, [*names.facts, *names.inferred])
    sink.error("unknown-fact", message, span, hint=f"did you mean '{guess}'?" if guess else None)


def read_examples(
    statements: Sequence[nodes.Statement], names: Vocabulary, sink: DiagnosticSink
) -> tuple[nodes.Example, ...]:
    """The examples among ``statements``, checked: unique titles, known facts and targets."""
    out = []
    labels: set[str] = set()
    for statement in statements:
        if not isinstance(statement, nodes.Example):
            continue
        if statement.label in labels:
            sink.error(
                "duplicate-example",
                f'there is already an example called "{statement.label}"',
                statement.span,
                hint="give each example its own title",
            )
        labels.add(statement.label)
        for given in statement.given:
            message = f"the example gives '{given.fact}', which is not a fact of this ruleset"
            _known_fact(given.fact, message, given.span, names, sink)
        for expectation in statement.expectations:
            if expectation.action is not None:
                _known_target(expectation.action, names, sink)
            elif expectation.question is not None:
                message = f"'{expectation.question}' is not a fact, so it cannot be a question"
                _known_fact(expectation.question, message, expectation.span, names, sink)
        out.append(statement)
    return tuple(out)


def check_names(names: Vocabulary, sink: DiagnosticSink) -> None:
    """Undeclared facts that look like typos of each other, and causes no rule suspects."""
    seen = NameIndex()
    for other in sorted(names.inferred):
        name = seen.typo_of(other)
        seen.add(other)
        if name is not None:
            sink.warning(
                "similar-names",
                f"the undeclared facts '{name}' and '{other}' differ by one or two letters",
                names.inferred[other].span,
                hint="if one is a typo, fix it; if both are meant, declare them",
            )
    for name, cause in names.causes.items():
        if name not in names.concluded:
            sink.note(
                "cause-never-suspected",
                f"no rule suspects the cause '{name}'",
                cause.span,
                hint=f"add a rule with 'suspect {name}', or remove the declaration",
            )

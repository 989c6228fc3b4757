"""Why an outcome is only conditional: the caveat a report shows beside it.

A claim that fired outright is sure; one that could still be removed (its
``unless`` open, a cause it relies on only conditionally suspected, a rule
that could override or outrank it still undecided) carries a caveat: the
reason in words, and the unknown facts whose answers could remove it
(``depends_on``), which the questions then rank first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from cramprules.evaluator import Env, explain, interpret
from cramprules.model import Program
from cramprules.nodes import names_in
from cramprules.states import State
from cramprules.unparse import unparse

if TYPE_CHECKING:
    from cramprules.ruleset import Ruleset

__all__ = ["Caveat", "caveat_of"]


@attrs.frozen
class Caveat:
    """Why an outcome is only conditional: the text, and the open facts behind it."""

    text: str | None
    depends_on: tuple[str, ...]


def caveat_of(
    ruleset: Ruleset,
    rule_index: int,
    states: tuple[int, ...],
    env: Env,
    threats: tuple[int, ...] = (),
) -> Caveat:
    """What could still remove an outcome of rule ``rule_index``, in words.

    ``threats`` are claims of other rules that could still beat it.  The
    facts named are the unknown ones that could decide one of those things:
    the rule's ``unless``, a conditionally suspected cause its condition
    relies on, the rules that override or outrank it.
    """
    program = ruleset.program
    rule = program.rules[rule_index]
    parts: list[str] = []
    deciding: list[int] = []

    def words(rules: list[int]) -> str:
        facts = _open_facts(program, rules, states, env)
        return " or ".join(name.replace("_", " ") for name in facts)

    if states[rule_index] == State.CONDITIONAL:
        deciding.append(rule_index)
        if rule.unless is not None and interpret(rule.unless, env) is None:
            parts.append(f"unless {unparse(rule.unless)}")
        if interpret(rule.condition, env) is None:
            causes = sorted(n for n in names_in(rule.condition) if n in program.causes)
            said = words([rule_index]) or " or ".join(causes)
            parts.append(
                f"if {' or '.join(causes)} {'holds' if len(causes) == 1 else 'hold'} (it depends on {said})"
            )
        for other_index, other in enumerate(program.rules):
            if rule.name in other.overrides and states[other_index] in (State.CONDITIONAL, State.PENDING):
                said = words([other_index])
                parts.append(
                    f"unless {said} (which would bring rule '{other.name}', which overrides it)"
                    if said
                    else f"unless rule '{other.name}' applies"
                )
                deciding.append(other_index)
    claims = ruleset.claims
    for threat in threats:
        other_index = claims[threat].rule
        said = words([other_index])
        by = f"'{claims[threat].action}' of rule '{program.rules[other_index].name}'"
        parts.append(f"unless {said} (which would bring {by})" if said else f"unless {by} applies")
        deciding.append(other_index)
    return Caveat("; ".join(parts) if parts else None, _open_facts(program, deciding, states, env))


def _open_facts(program: Program, rules: list[int], states: tuple[int, ...], env: Env) -> tuple[str, ...]:
    """The unknown facts that decide the open tests of ``rules``, following
    undecided causes back to the rules that suspect them."""
    names: set[str] = set()
    seen: set[int] = set()
    while rules:
        index = rules.pop()
        if index in seen or states[index] > State.PENDING:
            continue
        seen.add(index)
        rule = program.rules[index]
        for condition in (rule.condition, rule.unless):
            if condition is None:
                continue
            _, atoms = explain(condition, env)
            for atom in atoms:
                if atom.value is None:
                    names.update(name for name, value in atom.facts if value is None)
        causes = {n for n in names if n in program.causes}
        if causes:
            rules.extend(
                j
                for j, other in enumerate(program.rules)
                if any(a.kind == "suspect" and a.target in causes for a in other.actions)
            )
    return tuple(n for n, spec in program.facts.items() if n in names and not spec.derived)

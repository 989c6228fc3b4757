"""The interpreter: Kleene three-valued evaluation by walking the syntax tree.

The compiled deciders (:mod:`cramprules.compiler`) are what evaluation runs;
this interpreter is the reference they are tested against, and what
explanations use to say *which tests* decided a condition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.model import Program, rule_links
from cramprules.outcomes import describe_value
from cramprules.states import State
from cramprules.unparse import unparse

__all__ = [
    "Atom",
    "Env",
    "cause_values",
    "environment",
    "explain",
    "interpret",
    "rule_states",
]

Value = AnyType  # bool | int | float | str | None


# ---------------------------------------------------------------- interpreter


@attrs.frozen
class Env:
    """What names mean while interpreting: fact values, cause values, functions."""

    facts: Mapping[str, Value]
    causes: Mapping[str, Value]
    functions: Mapping[str, Callable[..., object]] = attrs.field(factory=dict)
    texts: dict[int, tuple[object, str]] | None = attrs.field(default=None, eq=False, repr=False)
    """A ruleset's printed tests, by node: printing a test is most of an
    explanation's cost, and the same tests are explained in every report."""

    def lookup(self, name: str) -> Value:
        if name in self.facts:
            return self.facts[name]
        return self.causes.get(name)


def _k_and(values: Iterable[Value]) -> Value:
    result: Value = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _k_or(values: Iterable[Value]) -> Value:
    result: Value = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def interpret(node: nodes.Condition | nodes.Operand, env: Env) -> Value:
    """Kleene three-valued evaluation by walking the tree: True, False or None."""
    if isinstance(node, nodes.Name):
        return env.lookup(node.name)
    if isinstance(node, (nodes.Number, nodes.Text)):
        return node.value
    if isinstance(node, nodes.Not):
        value = interpret(node.operand, env)
        return None if value is None else not value
    if isinstance(node, nodes.All):
        return _k_and(interpret(c, env) for c in node.operands)
    if isinstance(node, nodes.Any):
        return _k_or(interpret(c, env) for c in node.operands)
    if isinstance(node, nodes.Compare):
        left, right = interpret(node.left, env), interpret(node.right, env)
        if left is None or right is None:
            return None
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
            "=": left == right,
            "!=": left != right,
        }[node.op]
    if isinstance(node, nodes.Between):
        subject, low, high = (interpret(n, env) for n in (node.subject, node.low, node.high))
        if subject is None or low is None or high is None:
            return None
        return bool(low <= subject <= high)
    if isinstance(node, nodes.IsKnown):
        return (env.lookup(node.name.name) is not None) == node.known
    if isinstance(node, nodes.InValues):
        value = env.lookup(node.name.name)
        if value is None:
            return None
        return (value in node.values) != node.negated
    if isinstance(node, nodes.Call):
        args = [interpret(a, env) for a in node.arguments]
        return env.functions[node.function](*args)
    raise TypeError(f"cannot interpret {node!r}")  # pragma: no cover


def cause_values(program: Program, states: Sequence[int]) -> dict[str, Value]:
    """The three-valued value of every cause, given the rules' states."""
    values: dict[str, Value] = {name: False for name in program.causes}
    for rule, state in zip(program.rules, states):
        for action in rule.actions:
            if action.kind != "suspect":
                continue
            current = values[action.target]
            if state == State.FIRED:
                values[action.target] = True
            elif state < State.NOT_MATCHED and current is not True:
                values[action.target] = None
    return values


def environment(
    program: Program,
    values: Sequence[Value],
    states: Sequence[int],
    functions: Mapping[str, Callable[..., object]],
    texts: dict[int, tuple[object, str]] | None = None,
) -> Env:
    """What names mean after an evaluation: the facts' values and the causes' values."""
    return Env(dict(zip(program.facts, values)), cause_values(program, states), functions, texts)


# ---------------------------------------------------------------- explanations


@attrs.frozen
class Atom:
    """One test of a condition, with its value and the facts it looked at."""

    text: str
    value: Value
    facts: tuple[tuple[str, Value], ...]

    def __str__(self) -> str:
        shown = ", ".join(f"{name} is {describe_value(v)}" for name, v in self.facts)
        if len(self.facts) == 1 and self.text in (self.facts[0][0], f"not {self.facts[0][0]}"):
            return shown
        return f"{self.text} ({shown})" if shown else self.text


def _names(node: nodes.Condition | nodes.Operand) -> list[str]:
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, (nodes.IsKnown, nodes.InValues)):
        return [node.name.name]
    if isinstance(node, nodes.Compare):
        return _names(node.left) + _names(node.right)
    if isinstance(node, nodes.Between):
        return _names(node.subject) + _names(node.low) + _names(node.high)
    if isinstance(node, nodes.Call):
        return [n for a in node.arguments for n in _names(a)]
    if isinstance(node, nodes.Not):
        return _names(node.operand)
    if isinstance(node, (nodes.All, nodes.Any)):
        return [n for c in node.operands for n in _names(c)]
    return []


def explain(node: nodes.Condition, env: Env) -> tuple[Value, list[Atom]]:
    """The value of a condition and the tests that decided it.

    For ``a and b`` that is false, the false tests; true, all of them; unknown,
    the unknown ones.  ``or`` mirrors it.  This is what a trace shows.
    """
    # One pass from the leaves up: each operand is interpreted once.
    if isinstance(node, nodes.Not):
        inner, atoms = explain(node.operand, env)
        flipped = [Atom(f"not {a.text}", None if a.value is None else not a.value, a.facts) for a in atoms]
        return (None if inner is None else not inner), flipped
    if isinstance(node, (nodes.All, nodes.Any)):
        results = [explain(operand, env) for operand in node.operands]
        values = [v for v, _ in results]
        value = _k_and(values) if isinstance(node, nodes.All) else _k_or(values)
        decisive: list[Atom] = []
        for sub_value, sub_atoms in results:
            if sub_value is value:
                decisive.extend(sub_atoms)
        return value, decisive
    value = interpret(node, env)
    facts = tuple(dict.fromkeys((n, env.lookup(n)) for n in _names(node)))
    return value, [Atom(_text(node, env.texts), value, facts)]


def _text(node: nodes.Condition, texts: dict[int, tuple[object, str]] | None) -> str:
    """``unparse(node)``, remembered in ``texts`` (which keeps the node, so its id stays its own)."""
    if texts is None:
        return unparse(node)
    found = texts.get(id(node))
    if found is not None and found[0] is node:
        return found[1]
    text = unparse(node)
    if len(texts) < 100_000:
        texts[id(node)] = (node, text)
    return text


def rule_states(program: Program, env: Env) -> tuple[State, ...]:
    """Every rule's state by walking the trees: the reference for the compiled deciders.

    ``env.facts`` holds the facts (``None`` when unknown); the causes are
    worked out here, rule by rule in dependency order.  A condition that
    holds only if a conditionally suspected cause holds is conditional on
    it; an ``unless`` still unknown makes the rule conditional; a rule that
    an applying rule overrides is overridden, and one that a rule may still
    override is conditional.
    """
    states: list[State] = [State.NOT_MATCHED] * len(program.rules)
    concluders, overriders = rule_links(program)

    def causes(hopeful: bool) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for name in program.causes:
            found = [states[j] for j in concluders.get(name, ())]
            if any(s == State.FIRED or (hopeful and s == State.CONDITIONAL) for s in found):
                out[name] = True
            elif any(s < State.NOT_MATCHED for s in found):
                out[name] = None
            else:
                out[name] = False
        return out

    for index in program.order:
        rule = program.rules[index]
        here = Env(env.facts, causes(hopeful=False), env.functions)
        condition = interpret(rule.condition, here)
        via = False
        if (
            condition is None
            and interpret(rule.condition, Env(env.facts, causes(True), env.functions)) is True
        ):
            condition, via = True, True
        unless = interpret(rule.unless, here) if rule.unless is not None and condition is not False else False
        if condition is False:
            state = State.NOT_MATCHED
        elif unless is True:
            state = State.DEFEATED
        elif condition is None:
            state = State.PENDING
        elif unless is None or via:
            state = State.CONDITIONAL
        else:
            state = State.FIRED
        others = [states[j] for j in overriders.get(rule.name, ())]
        if state <= State.CONDITIONAL:
            if any(s == State.FIRED for s in others):
                state = State.OVERRIDDEN
            elif any(s < State.NOT_MATCHED for s in others):
                state = State.CONDITIONAL
        states[index] = state
    return tuple(states)

"""Compiles a checked :class:`~cramprules.model.Program` into Python functions.

Each ruleset becomes generated Python source, compiled once: evaluation never
walks the syntax tree.  There are two deciders.  The *fast* one is plain
two-valued Python (``and``, ``or``, ``not``), used when every fact is known;
the *Kleene* one implements three-valued logic for partial input.  Both
return the same compact outcome: one small integer per rule.

Safety: the source is built only from validated identifiers (``v3``, ``s7``,
``k2``) and literals emitted with ``repr``; no name or text from a ruleset is
ever pasted into it.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.exceptions import PluginError
from cramprules.facts import coercer, unknown_fact_error
from cramprules.model import Program

__all__ = [
    "CONDITIONAL",
    "DEFEATED",
    "FIRED",
    "NOT_MATCHED",
    "OUTCOMES",
    "OVERRIDDEN",
    "PENDING",
    "Compiled",
    "Decisions",
    "Functions",
    "compile_decisions",
    "compile_program",
]

FIRED, CONDITIONAL, PENDING, NOT_MATCHED, DEFEATED, OVERRIDDEN = range(6)
OUTCOMES = ("fired", "fired", "pending", "not_matched", "defeated", "overridden")
"""Trace outcome of each state; a conditional rule fired with a caveat."""

Functions = Mapping[str, tuple[Callable[..., object], str]]
"""Function name -> (callable, name of the plugin that provides it)."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class NeedsKleene(Exception):
    """A function answered 'unknown' inside the two-valued decider."""


@attrs.frozen
class Compiled:
    """The runnable form of a ruleset.

    ``run(facts)`` validates a fact mapping and returns ``(values, states)``:
    the coerced value of every fact (``None`` when unknown) and the state of
    every rule.  ``decide(values)`` runs the three-valued decider alone, for
    what-if searches over values already checked.
    """

    fact_names: tuple[str, ...]
    run: Callable[[Mapping[str, object]], tuple[tuple[AnyType, ...], tuple[int, ...]]]
    decide: Callable[[tuple[AnyType, ...]], tuple[int, ...]]
    source: str = attrs.field(repr=False)


def _ident(name: str) -> str:
    if not _IDENT.match(name) or keyword.iskeyword(name):  # pragma: no cover - defensive
        raise ValueError(f"refusing to generate code for identifier {name!r}")
    return name


class _Emitter:
    def __init__(self, program: Program, functions: Functions) -> None:
        self.program = program
        self.functions = functions
        self.fact_index = {name: i for i, name in enumerate(program.facts)}
        self.rule_index = {rule.name: i for i, rule in enumerate(program.rules)}
        self.cause_index = {name: i for i, name in enumerate(program.causes)}
        self.constants: dict[str, object] = {}
        self.temp = 0

    # ------------------------------------------------------------ names

    def const(self, value: object) -> str:
        """A module-level constant holding ``value``, by a generated name."""
        name = _ident(f"C{len(self.constants)}")
        self.constants[name] = value
        return name

    def fact(self, name: str) -> str:
        return _ident(f"v{self.fact_index[name]}")

    def cause(self, name: str) -> str:
        return _ident(f"k{self.cause_index[name]}")

    def state(self, index: int) -> str:
        return _ident(f"s{index}")

    def fresh(self) -> str:
        self.temp += 1
        return _ident(f"t{self.temp}")

    def value(self, name: str) -> str:
        if name in self.fact_index:
            return self.fact(name)
        return self.cause(name)

    @staticmethod
    def literal(value: float | str) -> str:
        if isinstance(value, float) and not math.isfinite(value):  # pragma: no cover
            raise ValueError("non-finite literal")
        return repr(value)

    # ------------------------------------------------------------ two-valued

    def fast(self, node: nodes.Condition | nodes.Operand, result: str = "bool") -> str:
        if isinstance(node, nodes.Name):
            return self.value(node.name)
        if isinstance(node, nodes.Number):
            return self.literal(node.value)
        if isinstance(node, nodes.Text):
            return repr(node.value)
        if isinstance(node, nodes.Not):
            return f"(not {self.fast(node.operand)})"
        if isinstance(node, nodes.All):
            return "(" + " and ".join(self.fast(c) for c in node.operands) + ")"
        if isinstance(node, nodes.Any):
            return "(" + " or ".join(self.fast(c) for c in node.operands) + ")"
        if isinstance(node, nodes.Compare):
            op = "==" if node.op == "=" else node.op
            return f"({self.fast(node.left, 'number')} {op} {self.fast(node.right, 'number')})"
        if isinstance(node, nodes.Between):
            low, subject, high = (self.fast(n, "number") for n in (node.low, node.subject, node.high))
            return f"({low} <= {subject} <= {high})"
        if isinstance(node, nodes.IsKnown):
            return "True" if node.known else "False"
        if isinstance(node, nodes.InValues):
            values = self.const(frozenset(node.values))
            op = "not in" if node.negated else "in"
            return f"({self.fact(node.name.name)} {op} {values})"
        if isinstance(node, nodes.Call):
            fn = self.const(self._checked(node.function, result, strict=True))
            args = ", ".join(self.fast(a, "any") for a in node.arguments)
            return f"{fn}({args})"
        raise TypeError(f"cannot compile {node!r}")  # pragma: no cover

    # ------------------------------------------------------------ three-valued

    def kleene(self, node: nodes.Condition | nodes.Operand, result: str = "bool") -> str:
        """An expression whose value is True, False or None (unknown)."""
        if isinstance(node, (nodes.Name, nodes.Number, nodes.Text)):
            return self.fast(node)
        if isinstance(node, nodes.Not):
            return f"_NOT[{self.kleene(node.operand)}]"
        if isinstance(node, (nodes.All, nodes.Any)):
            decisive, other = ("False", "True") if isinstance(node, nodes.All) else ("True", "False")
            temps = [self.fresh() for _ in node.operands]
            first = " or ".join(
                f"({t} := {self.kleene(c)}) is {decisive}" for t, c in zip(temps, node.operands)
            )
            unknown = " or ".join(f"{t} is None" for t in temps)
            return f"({decisive} if ({first}) else (None if ({unknown}) else {other}))"
        if isinstance(node, nodes.Compare):
            op = "==" if node.op == "=" else node.op
            (left, right), guards = self._operands(node.left, node.right)
            return f"(None if ({guards}) else {left} {op} {right})"
        if isinstance(node, nodes.Between):
            (subject, low, high), guards = self._operands(node.subject, node.low, node.high)
            return f"(None if ({guards}) else {low} <= {subject} <= {high})"
        if isinstance(node, nodes.IsKnown):
            op = "is not" if node.known else "is"
            return f"({self.fact(node.name.name)} {op} None)"
        if isinstance(node, nodes.InValues):
            values = self.const(frozenset(node.values))
            op = "not in" if node.negated else "in"
            value = self.fact(node.name.name)
            return f"(None if {value} is None else {value} {op} {values})"
        if isinstance(node, nodes.Call):
            fn = self.const(self._checked(node.function, result, strict=False))
            args = ", ".join(self.kleene(a, "any") for a in node.arguments)
            return f"{fn}({args})"
        raise TypeError(f"cannot compile {node!r}")  # pragma: no cover

    def _operands(self, *operands: nodes.Operand) -> tuple[list[str], str]:
        """Operand expressions, and the test that one of them is unknown.

        Literals are never unknown; a fact is read directly; anything else is
        evaluated once into a temporary."""
        names: list[str] = []
        guards: list[str] = []
        for operand in operands:
            if isinstance(operand, (nodes.Number, nodes.Text)):
                names.append(self.fast(operand))
            elif isinstance(operand, nodes.Name):
                names.append(self.value(operand.name))
                guards.append(f"{names[-1]} is None")
            else:
                temp = self.fresh()
                names.append(temp)
                guards.append(f"({temp} := {self.kleene(operand, 'number')}) is None")
        return names, " or ".join(guards) or "False"

    def _checked(self, name: str, result: str, *, strict: bool) -> Callable[..., object]:
        function, plugin = self.functions[name]
        return checked_function(name, function, plugin, result=result, strict=strict)

    # ------------------------------------------------------------ the deciders

    def rules_fast(self) -> list[str]:
        lines: list[str] = []
        done: set[str] = set()
        for i in self.program.order:
            rule = self.program.rules[i]
            lines.extend(self._causes_needed(rule, done, fast=True))
            s = self.state(i)
            condition = self.fast(rule.condition)
            if rule.unless is not None:
                unless = self.fast(rule.unless)
                lines.append(f"{s} = ({DEFEATED} if {unless} else {FIRED}) if {condition} else {NOT_MATCHED}")
            else:
                lines.append(f"{s} = {FIRED} if {condition} else {NOT_MATCHED}")
            overriders = self._overriders(rule.name)
            if overriders:
                fired = " or ".join(f"{self.state(j)} == {FIRED}" for j in overriders)
                lines.append(f"if {s} == {FIRED} and ({fired}): {s} = {OVERRIDDEN}")
        return lines

    def rules_kleene(self) -> list[str]:
        lines: list[str] = []
        done: set[str] = set()
        for i in self.program.order:
            rule = self.program.rules[i]
            lines.extend(self._causes_needed(rule, done, fast=False))
            s = self.state(i)
            lines.append(f"c = {self.kleene(rule.condition)}")
            if rule.unless is not None:
                lines.append(f"u = {self.kleene(rule.unless)} if c is not False else False")
            else:
                lines.append("u = False")
            lines.append(
                f"{s} = {NOT_MATCHED} if c is False else ({DEFEATED} if u is True else "
                f"({PENDING} if c is None else ({CONDITIONAL} if u is None else {FIRED})))"
            )
            overriders = self._overriders(rule.name)
            if overriders:
                fired = " or ".join(f"{self.state(j)} == {FIRED}" for j in overriders)
                maybe = " or ".join(f"{self.state(j)} < {NOT_MATCHED}" for j in overriders)
                lines.append(f"if {s} <= {CONDITIONAL}:")
                lines.append(f"    if {fired}: {s} = {OVERRIDDEN}")
                lines.append(f"    elif {maybe}: {s} = {CONDITIONAL}")
        return lines

    def _overriders(self, name: str) -> list[int]:
        return [j for j, other in enumerate(self.program.rules) if name in other.overrides]

    def _causes_needed(self, rule: AnyType, done: set[str], *, fast: bool) -> list[str]:
        lines = []
        for name in sorted(nodes.names_in(rule.condition, rule.unless)):
            if name not in self.cause_index or name in done:
                continue
            done.add(name)
            concluders = [
                j
                for j, other in enumerate(self.program.rules)
                if any(a.kind == "suspect" and a.target == name for a in other.actions)
            ]
            k = self.cause(name)
            if not concluders:
                lines.append(f"{k} = False")
            elif fast:
                lines.append(f"{k} = " + " or ".join(f"{self.state(j)} == {FIRED}" for j in concluders))
            else:
                fired = " or ".join(f"{self.state(j)} == {FIRED}" for j in concluders)
                maybe = " or ".join(f"{self.state(j)} < {NOT_MATCHED}" for j in concluders)
                lines.append(f"{k} = True if ({fired}) else (None if ({maybe}) else False)")
        return lines

    # ------------------------------------------------------------ validation

    def exact_types(self) -> str:
        """A test that some fact is not exactly of its declared type, or out of range.

        When it is false, every value is already valid and no coercion is needed."""
        tests: list[str] = []
        for name, spec in self.program.facts.items():
            v = self.fact(name)
            if spec.kind == "bool":
                tests.append(f"{v}.__class__ is not bool")
            elif spec.kind == "number":
                bounds = []
                if spec.low is not None:
                    bounds.append(f"{self.literal(spec.low)} <= {v}")
                if spec.high is not None:
                    bounds.append(f"{v} <= {self.literal(spec.high)}")
                check = f"({v}.__class__ is not int and {v}.__class__ is not float)"
                if bounds:
                    check += f" or not ({' and '.join(bounds)})"
                else:
                    check += f" or {v} != {v}"
                tests.append(check)
            else:
                tests.append(f"{v}.__class__ is not str or {v} not in {self.const(frozenset(spec.values))}")
        return " or ".join(f"({t})" for t in tests) or "False"

    def validation(self) -> list[str]:
        lines = ["g = facts.get", "complete = True"]
        for name, spec in self.program.facts.items():
            v = self.fact(name)
            coerce = self.const(_raising_coercer(spec))
            key = repr(name)
            lines.append(f"{v} = g({key})")
            if spec.kind == "bool":
                lines.append(f"if {v}.__class__ is not bool:")
            elif spec.kind == "number":
                lines.append(f"if {v}.__class__ is not int and ({v}.__class__ is not float or {v} != {v}):")
            else:
                allowed = self.const(frozenset(spec.values))
                lines.append(f"if {v}.__class__ is not str or {v} not in {allowed}:")
            lines.append(f"    if {v} is not None: {v} = {coerce}({v})")
            lines.append(f"    if {v} is None: complete = False")
            if spec.kind == "number" and (spec.low is not None or spec.high is not None):
                low = self.literal(spec.low) if spec.low is not None else None
                high = self.literal(spec.high) if spec.high is not None else None
                bounds = []
                if low is not None:
                    bounds.append(f"{v} < {low}")
                if high is not None:
                    bounds.append(f"{v} > {high}")
                lines.append(f"elif {' or '.join(bounds)}: {coerce}({v})")
        return lines


_RESULT_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "number": (int, float),
    "any": (bool, int, float, str),
}
_RESULT_WORDS = {"bool": "a bool", "number": "a number", "any": "a bool, a number or a text"}


def checked_function(
    name: str,
    function: Callable[..., object],
    plugin: str,
    *,
    result: str = "bool",
    strict: bool = False,
) -> Callable[..., object]:
    """Wrap a plugin function so that a failure or a bad result names the plugin.

    ``result`` is what the call's place in the condition needs: ``bool`` as a
    test, ``number`` in a comparison.  ``strict`` (the two-valued decider)
    turns an 'unknown' answer into :class:`NeedsKleene`, which sends the
    record to the three-valued decider.
    """
    wanted = _RESULT_TYPES[result]
    refuse_bool = result == "number"

    def call(*args: object) -> object:
        try:
            answer = function(*args)
        except Exception as exc:
            raise PluginError(
                f"function '{name}' from plugin '{plugin}' failed: {type(exc).__name__}: {exc}",
                plugin=plugin,
            ) from exc
        if answer is None:
            if strict:
                raise NeedsKleene
            return None
        if isinstance(answer, wanted) and not (refuse_bool and isinstance(answer, bool)):
            return answer
        raise PluginError(
            f"function '{name}' from plugin '{plugin}' returned {type(answer).__name__} {answer!r} "
            f"where {_RESULT_WORDS[result]} (or None for unknown) is needed",
            plugin=plugin,
        )

    call.__name__ = f"cramprules_function_{name}"
    return call


def _raising_coercer(spec: AnyType) -> Callable[[object], object]:
    return coercer(spec)


def compile_program(program: Program, functions: Functions | None = None) -> Compiled:
    """Generate, compile and return the deciders of ``program``."""
    emitter = _Emitter(program, functions or {})
    validation = emitter.validation()
    fast = emitter.rules_fast()
    kleene = emitter.rules_kleene()
    guard = emitter.exact_types()
    n = len(program.rules)
    states = ", ".join(emitter.state(i) for i in range(n)) + ("," if n == 1 else "")
    values = ", ".join(emitter.fact(name) for name in program.facts) + (
        "," if len(program.facts) == 1 else ""
    )
    unpack = f"    ({values}) = values" if program.facts else ""
    reads = [f"{emitter.fact(name)} = facts[{name!r}]" for name in program.facts]

    def indent(lines: list[str], depth: int = 1) -> str:
        pad = "    " * depth
        return "\n".join(pad + line for line in lines) if lines else pad + "pass"

    source = "\n".join(
        [
            "def decide(values):",
            unpack,
            indent(kleene),
            f"    return ({states})",
            "",
            "def run(facts):",
            "    # The common case first: every fact given, each of its exact type.",
            "    try:",
            indent(reads, 2),
            "    except (KeyError, TypeError):",
            "        return checked_run(facts)",
            f"    if len(facts) != {len(program.facts)} or {guard}:",
            "        return checked_run(facts)",
            f"    values = ({values})",
            "    try:",
            indent(fast, 2),
            f"        return values, ({states})",
            "    except NeedsKleene:",
            "        return values, decide(values)",
            "",
            "def checked_run(facts):",
            "    if not DECLARED.issuperset(facts): unknown_facts(facts)",
            indent(validation),
            f"    values = ({values})",
            "    if complete:",
            "        try:",
            indent(fast, 3),
            f"            return values, ({states})",
            "        except NeedsKleene:",
            "            pass",
            "    return values, decide(values)",
            "",
        ]
    )
    declared = frozenset(program.facts)

    def unknown_facts(facts: Mapping[str, object]) -> None:
        raise unknown_fact_error([k for k in facts if k not in declared], program.facts, program.causes)

    namespace: dict[str, object] = {
        "__builtins__": {
            "bool": bool,
            "int": int,
            "float": float,
            "str": str,
            "len": len,
            "KeyError": KeyError,
            "TypeError": TypeError,
        },
        "_NOT": {True: False, False: True, None: None},
        "DECLARED": declared,
        "NeedsKleene": NeedsKleene,
        "unknown_facts": unknown_facts,
        **emitter.constants,
    }
    code = compile(source, f"<cramprules {program.name}>", "exec")
    exec(code, namespace)  # noqa: S102 - generated from validated identifiers and repr literals
    return Compiled(
        fact_names=tuple(program.facts),
        run=namespace["run"],  # type: ignore[arg-type]
        decide=namespace["decide"],  # type: ignore[arg-type]
        source=source,
    )


@attrs.frozen
class Decisions:
    """Which claims stand, as generated code: the fast path to the decision.

    ``recommendations(states, build)`` and ``referrals(states, build)`` return
    the standing claims in report order, each option and action once: the
    shared template of a claim whose rule fired, else ``build(index)``.
    """

    recommendations: Callable[[tuple[int, ...], Callable[[int], object]], tuple[object, ...]]
    referrals: Callable[[tuple[int, ...], Callable[[int], object]], tuple[object, ...]]
    source: str = attrs.field(repr=False)


def compile_decisions(
    claims: Sequence[AnyType],
    recommendation_order: Sequence[int],
    referral_order: Sequence[int],
    rule_count: int,
    templates: Mapping[int, object],
) -> Decisions:
    """Generate the conflict resolution of :func:`cramprules.evaluator.resolve`.

    ``claims`` are :class:`~cramprules.evaluator.ClaimSpec` in resolution
    order; the orders list claim indices as reports show them; ``templates``
    are the finished values of claims whose rule fired.
    """
    beaters = {w for c in claims for w, _ in c.beaten_by}
    beaten = {c.index for c in claims if c.beaten_by}
    needed = beaters | beaten
    lines: list[str] = []

    def active(index: int) -> str:
        return f"s{claims[index].rule} < {NOT_MATCHED - 1}"

    def standing(index: int) -> str:
        return f"w{index}" if index in needed else f"({active(index)})"

    for claim in claims:
        if claim.index not in needed:
            continue
        if claim.beaten_by:
            winners = " or ".join(f"w{w}" for w, _ in claim.beaten_by)
            lines.append(f"w{claim.index} = {active(claim.index)} and not ({winners})")
        else:
            lines.append(f"w{claim.index} = {active(claim.index)}")

    def chooser(name: str, order: Sequence[int]) -> list[str]:
        body = [f"def {name}(states, build):", f"    ({unpack}) = states", *("    " + line for line in lines)]
        body.append("    out = []")

        def key(index: int) -> tuple[object, ...]:
            # Advice is given once per option; every rule's referral is kept,
            # each with its own reason.
            action = claims[index].action
            if action.kind == "refer":
                return (index,)
            return (action.kind, action.target)

        groups: dict[tuple[object, ...], list[int]] = {}
        for index in order:
            groups.setdefault(key(index), []).append(index)
        for group in groups.values():
            if len(group) == 1:
                (member,) = group
                value = f"T{member} if s{claims[member].rule} == {FIRED} else build({member})"
                body.append(f"    if {standing(member)}: out.append({value})")
                continue
            # Several rules give the same advice: a plain one beats a conditional one.
            keyword = "if"
            for member in group:
                fired = f"s{claims[member].rule} == {FIRED}"
                body.append(f"    {keyword} {standing(member)} and {fired}: out.append(T{member})")
                keyword = "elif"
            for member in group:
                body.append(f"    elif {standing(member)}: out.append(build({member}))")
        body.append("    return tuple(out)")
        return body

    unpack = ", ".join(f"s{i}" for i in range(rule_count)) + ("," if rule_count == 1 else "")
    if rule_count == 0:
        source = "def recommendations(states, build):\n    return ()\n\ndef referrals(states, build):\n    return ()\n"
    else:
        source = "\n".join(
            [*chooser("recommendations", recommendation_order), "", *chooser("referrals", referral_order), ""]
        )
    namespace: dict[str, object] = {"__builtins__": {"tuple": tuple}}
    namespace.update({_ident(f"T{index}"): value for index, value in templates.items()})
    exec(compile(source, "<cramprules decisions>", "exec"), namespace)  # noqa: S102 - generated
    return Decisions(
        recommendations=namespace["recommendations"],  # type: ignore[arg-type]
        referrals=namespace["referrals"],  # type: ignore[arg-type]
        source=source,
    )

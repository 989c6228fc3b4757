"""The deciders: generated Python that says which rules fired.

There are two.  The *fast* one is plain two-valued Python (``and``, ``or``,
``not``), used when every fact is known; the *Kleene* one implements
three-valued logic for partial input.  Both return the same compact outcome:
one small integer per rule (:class:`~cramprules.states.State`).

Safety: the source is built only from validated identifiers (``v3``, ``s7``,
``k2``) and literals emitted with ``repr``; no name or text from a ruleset is
ever pasted into it.
"""

from __future__ import annotations

import keyword
import math
import operator
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.compiler._functions import Functions, NeedsKleene, checked_function
from cramprules.facts import coercer, unknown_fact_error
from cramprules.model import Program, RuleSpec, rule_links
from cramprules.states import State

__all__ = [
    "CHUNK",
    "Deciders",
    "Generated",
    "Recipe",
    "compile_deciders",
    "compile_parts",
    "generate_deciders",
    "ident",
    "lazy_parts",
    "load_deciders",
    "make_constants",
]

CHUNK = 96
"""Rules per generated function.  CPython compiles one huge function in time
worse than linear in its size; chunks keep ``compile()`` linear, and rulesets
no larger than one chunk keep every state in a local (the fastest path)."""

Recipe = tuple[AnyType, ...]
"""How to make a constant of generated code again: ``("values", names)``,
``("coerce", fact)``, ``("function", name, result, strict)``, ``("bools", count)``
or ``("order",)``."""


# The states as plain integers, as the generated source spells them.
FIRED, CONDITIONAL, PENDING, NOT_MATCHED, DEFEATED, OVERRIDDEN = (int(state) for state in State)


@attrs.frozen
class Deciders:
    """The generated functions that say which rules fired.

    ``run(facts)`` validates a fact mapping and returns ``(values, states)``:
    the coerced value of every fact (``None`` when unknown) and the state of
    every rule.  ``decide(values)`` runs the three-valued decider alone, for
    what-if searches over values already checked.
    """

    run: Callable[[Mapping[str, object]], tuple[tuple[AnyType, ...], tuple[int, ...]]]
    decide: Callable[[tuple[AnyType, ...]], tuple[int, ...]]
    source: str = attrs.field(repr=False)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def ident(name: str) -> str:
    """``name``, checked to be a plain identifier before it goes into generated code."""
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
        self.recipes: list[Recipe] = []
        self.local: frozenset[int] | None = None
        """Rules whose state is a local of the function being generated; the
        others are read from ``S``, the states of earlier chunks (None: all local)."""
        self.position: dict[int, int] = {rule: k for k, rule in enumerate(program.order)}
        self.temp = 0
        self.cause_prefix = "k"
        """``k``: a cause is true when a rule suspecting it fired; ``kc``: also
        when one fired conditionally (the hopeful reading, see rules_kleene)."""
        self.concluders, self.overriders = rule_links(program)

    # ------------------------------------------------------------ names

    def const(self, value: object, recipe: Recipe) -> str:
        """A module-level constant holding ``value``, by a generated name.

        ``recipe`` says how to make the value again from the program alone, so
        that a cached compilation can be restored without generating code."""
        name = ident(f"C{len(self.constants)}")
        self.constants[name] = value
        self.recipes.append(recipe)
        return name

    def values_const(self, values: Iterable[str]) -> str:
        items = tuple(sorted(values))
        return self.const(frozenset(items), ("values", items))

    def coerce_const(self, name: str) -> str:
        return self.const(coercer(self.program.facts[name]), ("coerce", name))

    def function_const(self, name: str, result: str, *, strict: bool) -> str:
        return self.const(self._checked(name, result, strict=strict), ("function", name, result, strict))

    def fact(self, name: str) -> str:
        return ident(f"v{self.fact_index[name]}")

    def cause(self, name: str) -> str:
        return ident(f"{self.cause_prefix}{self.cause_index[name]}")

    def state(self, index: int) -> str:
        if self.local is None or index in self.local:
            return ident(f"s{index}")
        return f"S[{self.position[index]}]"

    def fresh(self) -> str:
        self.temp += 1
        return ident(f"t{self.temp}")

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
            values = self.values_const(node.values)
            op = "not in" if node.negated else "in"
            return f"({self.fact(node.name.name)} {op} {values})"
        if isinstance(node, nodes.Call):
            fn = self.function_const(node.function, result, strict=True)
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
            values = self.values_const(node.values)
            op = "not in" if node.negated else "in"
            value = self.fact(node.name.name)
            return f"(None if {value} is None else {value} {op} {values})"
        if isinstance(node, nodes.Call):
            fn = self.function_const(node.function, result, strict=False)
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

    def rules_fast(self, order: Sequence[int]) -> list[str]:
        lines: list[str] = []
        done: set[str] = set()
        for i in order:
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

    def rules_kleene(self, order: Sequence[int]) -> list[str]:
        lines: list[str] = []
        done: set[str] = set()
        for i in order:
            rule = self.program.rules[i]
            lines.extend(self._causes_needed(rule, done, fast=False))
            s = self.state(i)
            lines.append(f"c = {self.kleene(rule.condition)}")
            via = "False"
            if any(name in self.cause_index for name in nodes.names_in(rule.condition)):
                # A condition that holds if a conditionally suspected cause
                # holds is conditional on what could defeat that cause.
                self.cause_prefix = "kc"
                try:
                    hopeful = self.kleene(rule.condition)
                finally:
                    self.cause_prefix = "k"
                lines.append(f"via = c is None and {hopeful} is True")
                lines.append("if via: c = True")
                via = "via"
            if rule.unless is not None:
                lines.append(f"u = {self.kleene(rule.unless)} if c is not False else False")
            else:
                lines.append("u = False")
            lines.append(
                f"{s} = {NOT_MATCHED} if c is False else ({DEFEATED} if u is True else "
                f"({PENDING} if c is None else ({CONDITIONAL} if u is None or {via} else {FIRED})))"
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
        return self.overriders.get(name, [])

    def _causes_needed(self, rule: RuleSpec, done: set[str], *, fast: bool) -> list[str]:
        lines = []
        for name in sorted(nodes.names_in(rule.condition, rule.unless)):
            if name not in self.cause_index or name in done:
                continue
            done.add(name)
            concluders = sorted(set(self.concluders.get(name, ())))
            k = self.cause(name)
            if not concluders:
                lines.append(f"{k} = False")
                if not fast:
                    lines.append(f"{ident(f'kc{self.cause_index[name]}')} = False")
            elif fast:
                lines.append(f"{k} = " + " or ".join(f"{self.state(j)} == {FIRED}" for j in concluders))
            else:
                fired = " or ".join(f"{self.state(j)} == {FIRED}" for j in concluders)
                maybe = " or ".join(f"{self.state(j)} < {NOT_MATCHED}" for j in concluders)
                lines.append(f"{k} = True if ({fired}) else (None if ({maybe}) else False)")
                applies = " or ".join(f"{self.state(j)} <= {CONDITIONAL}" for j in concluders)
                hopeful = ident(f"kc{self.cause_index[name]}")
                lines.append(f"{hopeful} = True if ({applies}) else (None if ({maybe}) else False)")
        return lines

    # ------------------------------------------------------------ validation

    def exact_types(self) -> str:
        """A test that some fact is not exactly of its declared type, or out of range.

        When it is false, every value is already valid and no coercion is needed."""
        tests: list[str] = []
        bools = [self.fact(name) for name, spec in self.program.facts.items() if spec.kind == "bool"]
        if len(bools) > 1:
            # One comparison of a tuple of classes: cheaper than a test per fact.
            classes = ", ".join(f"{v}.__class__" for v in bools)
            tests.append(f"({classes}) != {self.const((bool,) * len(bools), ('bools', len(bools)))}")
        elif bools:
            tests.append(f"{bools[0]}.__class__ is not bool")
        for name, spec in self.program.facts.items():
            v = self.fact(name)
            if spec.kind == "bool":
                continue
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
                tests.append(f"{v}.__class__ is not str or {v} not in {self.values_const(spec.values)}")
        return " or ".join(f"({t})" for t in tests) or "False"

    def validation(self) -> list[str]:
        lines = ["g = facts.get", "complete = True"]
        for name, spec in self.program.facts.items():
            v = self.fact(name)
            coerce = self.coerce_const(name)
            key = repr(name)
            lines.append(f"{v} = g({key})")
            if spec.kind == "bool":
                lines.append(f"if {v}.__class__ is not bool:")
            elif spec.kind == "number":
                lines.append(f"if {v}.__class__ is not int and ({v}.__class__ is not float or {v} != {v}):")
            else:
                allowed = self.values_const(spec.values)
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


@attrs.frozen
class Generated:
    """The generated source of the deciders, and how to make its constants."""

    source: str
    parts: tuple[str, ...] = attrs.field(repr=False)
    """The source in top-level functions, each compiled on its own: compiling
    one huge module holds its whole syntax tree in memory at once."""
    recipes: tuple[Recipe, ...]
    constants: Mapping[str, object] = attrs.field(repr=False)


def _indent(lines: list[str], depth: int = 1) -> str:
    pad = "    " * depth
    return "\n".join(pad + line for line in lines) if lines else pad + "pass"


def generate_deciders(
    program: Program, functions: Functions | None = None, *, chunk: int = CHUNK
) -> Generated:
    """The source of the deciders of ``program``, and its constants (``chunk``: rules per function)."""
    emitter = _Emitter(program, functions or {})
    validation = emitter.validation()
    guard = emitter.exact_types()
    n = len(program.rules)
    order = program.order
    values = ", ".join(emitter.fact(name) for name in program.facts) + (
        "," if len(program.facts) == 1 else ""
    )
    unpack = f"    ({values}) = values" if program.facts else ""
    reads = [f"{emitter.fact(name)} = facts[{name!r}]" for name in program.facts]
    if n <= chunk:
        fast = emitter.rules_fast(order)
        kleene = emitter.rules_kleene(order)
        states = ", ".join(emitter.state(i) for i in range(n)) + ("," if n == 1 else "")
        decide_body = [unpack, _indent(kleene), f"    return ({states})"]
        fast_run = [*fast, f"return values, ({states})"]
        chunks: list[str] = []
    else:
        # One function per chunk of rules in dependency order, each returning
        # its states; a later chunk reads earlier states from the list ``S``.
        chunks = []
        calls_fast: list[str] = ["S = []"]
        calls_kleene: list[str] = ["S = []"]
        for k in range(0, n, chunk):
            part = order[k : k + chunk]
            emitter.local = frozenset(part)
            mine = ", ".join(emitter.state(i) for i in part) + ("," if len(part) == 1 else "")
            head = f"    ({values}) = values" if program.facts else ""
            chunks.append(
                "\n".join(
                    [
                        f"def fast_{k}(values, S):",
                        head,
                        _indent(emitter.rules_fast(part)),
                        f"    return ({mine})",
                    ]
                )
            )
            chunks.append(
                "\n".join(
                    [
                        f"def kleene_{k}(values, S):",
                        head,
                        _indent(emitter.rules_kleene(part)),
                        f"    return ({mine})",
                    ]
                )
            )
            calls_fast.append(f"S += fast_{k}(values, S)")
            calls_kleene.append(f"S += kleene_{k}(values, S)")
        emitter.local = None
        finish = "tuple(S)"
        if list(order) != list(range(n)):
            finish = f"{emitter.const(None, ('order',))}(S)"
        decide_body = [_indent(calls_kleene), f"    return {finish}"]
        fast_run = [*calls_fast, f"return values, {finish}"]

    main = "\n".join(
        [
            "def decide(values):",
            *decide_body,
            "",
            "def run(facts):",
            "    # The common case first: every fact given, each of its exact type.",
            "    try:",
            _indent(reads, 2),
            "    except (KeyError, TypeError):",
            "        return checked_run(facts)",
            f"    if len(facts) != {len(program.facts)} or {guard}:",
            "        return checked_run(facts)",
            f"    values = ({values})",
            "    try:",
            _indent(fast_run, 2),
            "    except NeedsKleene:",
            "        return values, decide(values)",
            "",
            "def checked_run(facts):",
            "    if not DECLARED.issuperset(facts): unknown_facts(facts)",
            _indent(validation),
            f"    values = ({values})",
            "    if complete:",
            "        try:",
            _indent(fast_run, 3),
            "        except NeedsKleene:",
            "            pass",
            "    return values, decide(values)",
            "",
        ]
    )
    constants = make_constants(tuple(emitter.recipes), program, functions or {})
    parts = (*chunks, main)
    return Generated("\n\n".join(parts), parts, tuple(emitter.recipes), constants)


def make_constants(recipes: Sequence[Recipe], program: Program, functions: Functions) -> dict[str, object]:
    """The constants of generated code, made from their recipes."""
    out: dict[str, object] = {}
    for k, recipe in enumerate(recipes):
        kind = recipe[0]
        value: object
        if kind == "values":
            value = frozenset(recipe[1])
        elif kind == "coerce":
            value = coercer(program.facts[recipe[1]])
        elif kind == "function":
            _, name, result, strict = recipe
            function, plugin = functions[name]
            value = checked_function(name, function, plugin, result=result, strict=strict)
        elif kind == "bools":
            value = (bool,) * recipe[1]
        elif kind == "order":
            position = {rule: p for p, rule in enumerate(program.order)}
            value = operator.itemgetter(*(position[i] for i in range(len(program.rules))))
        else:  # pragma: no cover - recipes come from this module
            raise ValueError(f"unknown constant recipe {kind!r}")
        out[ident(f"C{k}")] = value
    return out


def load_deciders(
    program: Program,
    code: Sequence[types.CodeType | None],
    constants: Mapping[str, object],
    source: str,
    parts: Sequence[str] = (),
) -> Deciders:
    """Run compiled decider code in a namespace of its own and hand out its functions."""
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
            "tuple": tuple,
            "KeyError": KeyError,
            "TypeError": TypeError,
        },
        "_NOT": {True: False, False: True, None: None},
        "DECLARED": declared,
        "NeedsKleene": NeedsKleene,
        "unknown_facts": unknown_facts,
        **constants,
    }
    filename = f"<cramprules {program.name}>"
    for index, part in enumerate(code):
        if part is None:
            # Compiled on first call: the three-valued chunks of a large ruleset
            # are only needed for records with unknown facts.
            name = _function_name(parts[index])
            namespace[name] = _compile_on_call(parts[index], filename, name, namespace)
        else:
            exec(part, namespace)  # noqa: S102 - generated from validated identifiers and repr literals
    return Deciders(
        run=namespace["run"],  # type: ignore[arg-type]
        decide=namespace["decide"],  # type: ignore[arg-type]
        source=source,
    )


def compile_deciders(program: Program, functions: Functions | None = None, *, chunk: int = CHUNK) -> Deciders:
    """Generate, compile and return the deciders of ``program``."""
    generated = generate_deciders(program, functions, chunk=chunk)
    code = compile_parts(generated.parts, f"<cramprules {program.name}>")
    return load_deciders(program, code, generated.constants, generated.source)


def _function_name(part: str) -> str:
    return ident(part[len("def ") : part.index("(")])


def _compile_on_call(
    part: str, filename: str, name: str, namespace: dict[str, object]
) -> Callable[..., object]:
    def first_call(*args: object) -> object:
        exec(compile(part, filename, "exec"), namespace)  # noqa: S102 - generated, as above
        function: Callable[..., object] = namespace[name]  # type: ignore[assignment]
        return function(*args)

    return first_call


def lazy_parts(parts: Sequence[str]) -> frozenset[int]:
    """The parts that may be compiled on first call: the three-valued chunks."""
    return frozenset(i for i, part in enumerate(parts) if part.startswith("def kleene_"))


def compile_parts(parts: Sequence[str], filename: str) -> tuple[types.CodeType, ...]:
    """Each part compiled on its own, so that memory stays bounded by the largest part."""
    return tuple(compile(part, filename, "exec") for part in parts)

"""Resolves the names in a condition and checks that each is used as what it is.

A name used as a yes/no test, compared with a number or tested for a value
has that type; an undeclared one is inferred from its first use, unless it
is one or two edits from a known name (then it is a typo).  Rules may
introduce names this way; invariants may not, since they speak about the
rules: :class:`ConditionChecker` is made with ``infer`` saying which.
"""

from __future__ import annotations

import attrs

from cramprules import nodes
from cramprules.checker._sink import DiagnosticSink
from cramprules.checker._vocabulary import InferredFact, Kind, Vocabulary, misspelt
from cramprules.model import FactKind
from cramprules.names import closest

__all__ = ["ConditionChecker"]

_USES: dict[Kind, str] = {
    "bool": "a yes/no fact",
    "number": "a number",
    "enum": "a fact with named values",
    "cause": "a cause",
}
_INFERRED_AS: dict[FactKind, str] = {
    "bool": "a yes/no fact",
    "number": "a number fact",
    "enum": "a fact with named values",
}
_DECLARE_AS: dict[FactKind, str] = {"bool": "bool", "number": "number", "enum": "one of ..."}


@attrs.frozen(eq=False)
class ConditionChecker:
    """Checks conditions against a vocabulary, inferring undeclared facts if ``infer``.

    Frozen: what it may infer is fixed when it is made, never switched.
    """

    names: Vocabulary
    sink: DiagnosticSink
    infer: bool = attrs.field(kw_only=True)

    def condition(self, node: nodes.Condition) -> nodes.Condition:
        """``node`` checked, with ``x = value`` on an enum made an ``in`` test."""
        if isinstance(node, nodes.Name):
            self._bool_name(node)
            return node
        if isinstance(node, nodes.Not):
            return attrs.evolve(node, operand=self.condition(node.operand))
        if isinstance(node, (nodes.All, nodes.Any)):
            return attrs.evolve(node, operands=tuple(self.condition(c) for c in node.operands))
        if isinstance(node, nodes.Call):
            return self._call(node)
        if isinstance(node, nodes.Compare):
            return self._compare(node)
        if isinstance(node, nodes.Between):
            subject = self._number_operand(node.subject)
            low = self._number_operand(node.low)
            high = self._number_operand(node.high)
            if isinstance(low, nodes.Number) and isinstance(high, nodes.Number) and low.value > high.value:
                self.sink.error(
                    "empty-between",
                    f"'between {low.value} and {high.value}' can never hold: the bounds are reversed",
                    node.span,
                    hint=f"write 'between {high.value} and {low.value}'",
                )
            return attrs.evolve(node, subject=subject, low=low, high=high)
        if isinstance(node, nodes.IsKnown):
            self._any_fact(node.name)
            return node
        if isinstance(node, nodes.InValues):
            self._enum_values(node.name, node.values, node.span)
            return node
        raise TypeError(f"unexpected condition {node!r}")  # pragma: no cover

    # ------------------------------------------------------------ undeclared names

    def _unknown_name(self, node: nodes.Name, wanted: str) -> bool:
        """Guard an undeclared name; True when it may be inferred."""
        name = node.name
        names = self.names
        guess = names.typo_of_value_name(name)
        if guess:
            kind = "fact" if guess in names.facts else "cause"
            misspelt(
                self.sink, name, guess, kind, node.span, new="fact", declaration=f"fact {name}: {wanted}"
            )
            return False
        if name in names.options or name in names.inferred_options:
            self.sink.error(
                "not-a-fact",
                f"'{name}' is an option, and conditions test facts and causes",
                node.span,
                hint=f"to test a fact of that name, declare it: fact {name}_given: {wanted}",
            )
            return False
        if not self.infer:
            guess = closest(name, [*names.facts, *names.inferred, *names.causes, *names.concluded])
            self.sink.error(
                "unknown-name",
                f"'{name}' is not a fact or cause of this ruleset",
                node.span,
                hint=f"did you mean '{guess}'?"
                if guess
                else "invariants may only use the facts and causes that rules use",
            )
            return False
        return True

    def _infer(self, node: nodes.Name, kind: FactKind) -> None:
        self.names.inferred[node.name] = InferredFact(kind, node.span)
        self.sink.note(
            "inferred-fact",
            f"'{node.name}' is not declared; it is taken to be {_INFERRED_AS[kind]}",
            node.span,
            hint=f"declare it to give it a question: fact {node.name}: {_DECLARE_AS[kind]}",
        )

    def _kind_clash(self, node: nodes.Name, have: Kind, want: Kind) -> None:
        hints = {
            "number": f"compare it with a number, for example '{node.name} >= 5'",
            "enum": f"test its value, for example '{node.name} is some_value'",
            "bool": f"use it on its own, for example 'if {node.name} then ...'",
            "cause": f"use it on its own: 'if {node.name} then ...'",
        }
        self.sink.error(
            "type-mismatch",
            f"'{node.name}' is {_USES[have]}, but it is used here as {_USES[want]}",
            node.span,
            hint=hints.get(have),
        )

    # ------------------------------------------------------------ names by use

    def _bool_name(self, node: nodes.Name) -> None:
        kind = self.names.value_kind(node.name)
        if kind in ("bool", "cause"):
            return
        if kind is None:
            if self._unknown_name(node, "bool"):
                self._infer(node, "bool")
            return
        self._kind_clash(node, kind, "bool")

    def _any_fact(self, node: nodes.Name) -> None:
        kind = self.names.value_kind(node.name)
        if kind == "cause":
            self.sink.error(
                "not-a-fact",
                f"'{node.name}' is a cause; 'is known' tests input facts",
                node.span,
                hint=f"test the cause itself: 'if {node.name} then ...'",
            )
        elif kind is None and self._unknown_name(node, "bool"):
            self._infer(node, "bool")

    def _number_name(self, node: nodes.Name) -> None:
        kind = self.names.value_kind(node.name)
        if kind == "number":
            return
        if kind is None:
            if self._unknown_name(node, "number"):
                self._infer(node, "number")
            return
        self._kind_clash(node, kind, "number")

    def _number_operand(self, node: nodes.Operand) -> nodes.Operand:
        if isinstance(node, nodes.Name):
            self._number_name(node)
        elif isinstance(node, nodes.Call):
            return self._call(node)
        elif isinstance(node, nodes.Text):
            self.sink.error("type-mismatch", "a text cannot be compared as a number", node.span)
        return node

    def _compare(self, node: nodes.Compare) -> nodes.Condition:
        left, right = node.left, node.right
        if isinstance(left, nodes.Number) and not isinstance(right, nodes.Number):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(node.op, node.op)
            left, right = right, left
            node = nodes.Compare(left, flipped, right, span=node.span)
        if isinstance(left, nodes.Number) and isinstance(right, nodes.Number):
            self.sink.error(
                "constant-comparison",
                f"'{left.value} {node.op} {right.value}' compares two numbers and never changes",
                node.span,
                hint="compare a fact with a number, for example 'pain >= 8'",
            )
            return node
        if isinstance(left, nodes.Name) and isinstance(right, nodes.Name):
            left_kind = self.names.value_kind(left.name)
            right_kind = self.names.value_kind(right.name)
            if left_kind == "enum" or (left_kind is None and right_kind is None):
                if node.op not in ("=", "!="):
                    self.sink.error(
                        "enum-order",
                        f"'{node.op}' compares numbers, but '{right.name}' is a value name",
                        node.span,
                        hint=f"write '{left.name} is {right.name}' or '{left.name} in [...]'",
                    )
                    return node
                in_values = nodes.InValues(left, (right.name,), negated=node.op == "!=", span=node.span)
                self._enum_values(left, (right.name,), node.span)
                return in_values
            self._number_name(left)
            self._number_name(right)
            return node
        return attrs.evolve(node, left=self._number_operand(left), right=self._number_operand(right))

    def _enum_values(self, name: nodes.Name, values: tuple[str, ...], span: nodes.Span | None) -> None:
        names = self.names
        kind = names.value_kind(name.name)
        if kind is None:
            if not self._unknown_name(name, "one of " + ", ".join(values)):
                return
            self._infer(name, "enum")
            kind = "enum"
        if kind != "enum":
            self._kind_clash(name, kind, "enum")
            return
        if name.name in names.facts:
            allowed = names.facts[name.name].values
            for value in values:
                if value not in allowed:
                    guess = closest(value, allowed)
                    self.sink.error(
                        "unknown-value",
                        f"'{value}' is not one of the values of '{name.name}' ({', '.join(allowed)})",
                        span,
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else f"add it to the declaration of '{name.name}'",
                    )
        else:
            inferred = names.inferred[name.name]
            for value in values:
                if value not in inferred.values:
                    guess = names.typo(value, inferred.values)
                    if guess:
                        self.sink.error(
                            "typo-name",
                            f"'{value}' is close to '{guess}', another value of '{name.name}'",
                            span,
                            hint=f"did you mean '{guess}'? Declare the fact to list its values: "
                            f"fact {name.name}: one of ...",
                        )
                        continue
                    inferred.values.append(value)

    def _call(self, node: nodes.Call) -> nodes.Call:
        names = self.names
        if node.function not in names.functions:
            guess = closest(node.function, names.functions)
            if guess:
                hint = f"did you mean '{guess}'?"
            elif names.functions:
                hint = "functions available: " + ", ".join(sorted(names.functions))
            else:
                hint = "functions come from plugins; is the plugin that provides it installed?"
            self.sink.error(
                "unknown-function", f"there is no function named '{node.function}'", node.span, hint
            )
        else:
            names.used_functions.add(node.function)
        for argument in node.arguments:
            if isinstance(argument, nodes.Name):
                if names.value_kind(argument.name) is None:
                    guess = names.typo(argument.name, [*names.facts, *names.causes])
                    self.sink.error(
                        "unknown-name",
                        f"'{argument.name}' is passed to '{node.function}' but is not a declared fact",
                        argument.span,
                        hint=f"did you mean '{guess}'?"
                        if guess
                        else f"declare it, for example: fact {argument.name}: number",
                    )
            elif isinstance(argument, nodes.Call):
                self._call(argument)
        return node

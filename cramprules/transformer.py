"""Turns Lark's parse tree into the typed AST of :mod:`cramprules.nodes`.

Non-recursive (Lark's ``Transformer_NonRecursive``), so a deeply nested
condition is measured and refused with a clear error instead of blowing
Python's stack.
"""

from __future__ import annotations

import datetime
from typing import Any as AnyType

from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from cramprules import nodes
from cramprules.exceptions import Diagnostic

MAX_NESTING = 40
"""How deeply conditions may nest; far beyond any readable rule."""


class TooDeep(Exception):
    """Raised inside the transformer; the parser turns it into a diagnostic."""

    def __init__(self, line: int, column: int) -> None:
        self.line, self.column = line, column


def unquote(token: Token | str) -> str:
    """The text of a string literal, with its escapes resolved."""
    body = str(token)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
    return "".join(out)


def number(token: Token | str) -> int | float:
    text = str(token)
    return float(text) if "." in text else int(text)


@v_args(meta=True)
class ToAst(Transformer_NonRecursive):  # type: ignore[type-arg]
    """One method per grammar rule, each returning a node."""

    def __init__(self, origin: str) -> None:
        super().__init__()
        self.origin = origin
        self.problems: list[Diagnostic] = []
        self._depth: dict[int, int] = {}

    # ------------------------------------------------------------ helpers

    def _span(self, meta: Meta) -> nodes.Span | None:
        if getattr(meta, "empty", True):
            return None
        return nodes.Span(self.origin, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> nodes.Span:
        return nodes.Span(
            self.origin,
            token.line or 0,
            token.column or 0,
            token.end_line or token.line or 0,
            token.end_column or token.column or 0,
        )

    def _nest(self, node: AnyType, children: list[AnyType], meta: Meta) -> AnyType:
        depth = 1 + max((self._depth.get(id(c), 0) for c in children), default=0)
        if depth > MAX_NESTING:
            raise TooDeep(meta.line, meta.column)
        self._depth[id(node)] = depth
        return node

    # ------------------------------------------------------------ declarations

    def start(self, meta: Meta, children: list[nodes.Statement]) -> list[nodes.Statement]:
        return children

    def ruleset_decl(self, meta: Meta, children: list[AnyType]) -> nodes.RulesetHeader:
        name, title, *clauses = children
        fields: dict[str, AnyType] = {}
        for key, value, *_ in clauses:
            fields[key] = value
        return nodes.RulesetHeader(
            name=str(name),
            title=unquote(title) if title is not None else None,
            span=self._span(meta),
            **fields,
        )

    def version_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("version", unquote(children[0]), self._span(meta))

    def source_decl(self, meta: Meta, children: list[AnyType]) -> nodes.SourceDecl:
        name, label, url = children
        return nodes.SourceDecl(
            str(name),
            unquote(label),
            unquote(url) if url is not None else None,
            span=self._span(meta),
        )

    def fact_decl(self, meta: Meta, children: list[AnyType]) -> nodes.FactDecl:
        name, fact_type, unit, question, derived = children
        return nodes.FactDecl(
            str(name),
            fact_type,
            question=unquote(question) if question is not None else None,
            unit=unquote(unit) if unit is not None else None,
            derived=derived is not None,
            span=self._token_span(name),
        )

    def bool_type(self, meta: Meta, children: list[AnyType]) -> nodes.BoolType:
        return nodes.BoolType()

    def number_type(self, meta: Meta, children: list[AnyType]) -> nodes.NumberType:
        low, high = children
        return nodes.NumberType(
            number(low) if low is not None else None,
            number(high) if high is not None else None,
        )

    def enum_type(self, meta: Meta, children: list[Token]) -> nodes.EnumType:
        return nodes.EnumType(tuple(str(c) for c in children))

    def option_decl(self, meta: Meta, children: list[AnyType]) -> nodes.OptionDecl:
        name, label, group = children
        return nodes.OptionDecl(
            str(name),
            unquote(label) if label is not None else None,
            str(group) if group is not None else None,
            span=self._token_span(name),
        )

    def group_decl(self, meta: Meta, children: list[Token]) -> nodes.GroupDecl:
        name, label = children
        return nodes.GroupDecl(str(name), unquote(label), span=self._token_span(name))

    def cause_decl(self, meta: Meta, children: list[AnyType]) -> nodes.CauseDecl:
        name, label, cite = children
        return nodes.CauseDecl(
            str(name),
            unquote(label) if label is not None else None,
            sources=cite[1] if cite is not None else (),
            span=self._token_span(name),
        )

    def include_decl(self, meta: Meta, children: list[Token]) -> nodes.IncludeDecl:
        return nodes.IncludeDecl(unquote(children[0]), span=self._span(meta))

    def extends_decl(self, meta: Meta, children: list[Token]) -> nodes.ExtendsDecl:
        return nodes.ExtendsDecl(str(children[0]), span=self._span(meta))

    # ------------------------------------------------------------ rules

    def rule_decl(self, meta: Meta, children: list[AnyType]) -> nodes.Rule:
        name, priority, body = children
        clauses = list(body["clauses"])
        if priority is not None:
            clauses.insert(0, priority)
        return self._rule(str(name), body, clauses, self._token_span(name))

    def anonymous_rule(self, meta: Meta, children: list[AnyType]) -> nodes.Rule:
        body = children[0]
        return self._rule(None, body, body["clauses"], self._span(meta))

    def rule_body(self, meta: Meta, children: list[AnyType]) -> dict[str, AnyType]:
        condition, actions, *clauses = children
        return {"condition": condition, "actions": actions, "clauses": clauses}

    def _rule(
        self,
        name: str | None,
        body: dict[str, AnyType],
        clauses: list[tuple[str, AnyType, nodes.Span | None]],
        span: nodes.Span | None,
    ) -> nodes.Rule:
        fields: dict[str, AnyType] = {}
        for key, value, where in clauses:
            if key in fields:
                self.problems.append(
                    Diagnostic(
                        "duplicate-clause",
                        "error",
                        f"this rule has a second '{key}' clause",
                        self.origin,
                        where.line if where else None,
                        where.column if where else None,
                        hint=f"a rule takes one '{key}'; join the two into one"
                        + (" with 'or'" if key == "unless" else ""),
                    )
                )
                continue
            fields[key] = value
        return nodes.Rule(name, body["condition"], tuple(body["actions"]), span=span, **fields)

    def unless_clause(self, meta: Meta, children: list[AnyType]) -> tuple[str, AnyType, AnyType]:
        return ("unless", children[0], self._span(meta))

    def because_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("because", "".join(unquote(c) for c in children), self._span(meta))

    def detail_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("detail", "".join(unquote(c) for c in children), self._span(meta))

    def cite_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("sources", tuple(str(c) for c in children), self._span(meta))

    def overrides_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("overrides", tuple(str(c) for c in children), self._span(meta))

    def priority_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        value = number(children[0])
        if not isinstance(value, int):
            self.problems.append(
                Diagnostic(
                    "bad-priority",
                    "error",
                    f"a priority is a whole number, not {children[0]}",
                    self.origin,
                    children[0].line,
                    children[0].column,
                    hint="write for example 'priority 10'",
                )
            )
            value = 0
        return ("priority", value, self._span(meta))

    def evidence_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        token = children[0]
        value = unquote(token) if token.type == "STRING" else str(token)
        return ("evidence", value, self._span(meta))

    def reviewed_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        token = children[0]
        try:
            value: datetime.date | None = datetime.date.fromisoformat(str(token))
        except ValueError:
            self.problems.append(
                Diagnostic(
                    "bad-date",
                    "error",
                    f"{token} is not a real date",
                    self.origin,
                    token.line,
                    token.column,
                    end_column=token.end_column,
                    hint="write the date as YYYY-MM-DD, for example 2025-01-31",
                )
            )
            value = None
        return ("reviewed", value, self._span(meta))

    def status_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("status", str(children[0]), self._span(meta))

    def author_clause(self, meta: Meta, children: list[Token]) -> tuple[str, AnyType, AnyType]:
        return ("author", unquote(children[0]), self._span(meta))

    def actions(self, meta: Meta, children: list[nodes.Action]) -> list[nodes.Action]:
        return children

    def recommend(self, meta: Meta, children: list[Token]) -> nodes.Action:
        return nodes.Action("recommend", str(children[0]), span=self._span(meta))

    def prefer(self, meta: Meta, children: list[AnyType]) -> nodes.Action:
        target, *over = children
        over_names = tuple(str(o) for o in over if o is not None)
        return nodes.Action("prefer", str(target), over=over_names, span=self._span(meta))

    def avoid(self, meta: Meta, children: list[Token]) -> nodes.Action:
        return nodes.Action("avoid", str(children[0]), span=self._span(meta))

    def suspect(self, meta: Meta, children: list[Token]) -> nodes.Action:
        return nodes.Action("suspect", str(children[0]), span=self._span(meta))

    def refer(self, meta: Meta, children: list[AnyType]) -> nodes.Action:
        target, urgent = children
        return nodes.Action("refer", str(target), urgent=urgent is not None, span=self._span(meta))

    # ------------------------------------------------------------ conditions

    def any_of(self, meta: Meta, children: list[AnyType]) -> nodes.Any:
        return self._nest(nodes.Any(tuple(children), span=self._span(meta)), children, meta)  # type: ignore[no-any-return]

    def all_of(self, meta: Meta, children: list[AnyType]) -> nodes.All:
        return self._nest(nodes.All(tuple(children), span=self._span(meta)), children, meta)  # type: ignore[no-any-return]

    def not_(self, meta: Meta, children: list[AnyType]) -> nodes.Not:
        operand = children[-1]
        return self._nest(nodes.Not(operand, span=self._span(meta)), [operand], meta)  # type: ignore[no-any-return]

    def name_ref(self, meta: Meta, children: list[Token]) -> nodes.Name:
        return nodes.Name(str(children[0]), span=self._token_span(children[0]))

    def number(self, meta: Meta, children: list[Token]) -> nodes.Number:
        return nodes.Number(number(children[0]), span=self._token_span(children[0]))

    def text(self, meta: Meta, children: list[Token]) -> nodes.Text:
        return nodes.Text(unquote(children[0]), span=self._token_span(children[0]))

    def call(self, meta: Meta, children: list[AnyType]) -> nodes.Call:
        name, *arguments = children
        arguments = [a for a in arguments if a is not None]
        node = nodes.Call(str(name), tuple(arguments), span=self._span(meta))
        return self._nest(node, arguments, meta)  # type: ignore[no-any-return]

    def compare(self, meta: Meta, children: list[AnyType]) -> nodes.Compare:
        left, op, right = children
        symbol = "=" if str(op) == "==" else str(op)
        return self._nest(  # type: ignore[no-any-return]
            nodes.Compare(left, symbol, right, span=self._span(meta)), [left, right], meta
        )

    def between(self, meta: Meta, children: list[AnyType]) -> nodes.Between:
        node = nodes.Between(*children, span=self._span(meta))
        return self._nest(node, children, meta)  # type: ignore[no-any-return]

    def is_known(self, meta: Meta, children: list[Token]) -> nodes.IsKnown:
        name, word = children
        return nodes.IsKnown(
            nodes.Name(str(name), span=self._token_span(name)),
            known=word.type == "KNOWN",
            span=self._span(meta),
        )

    def is_value(self, meta: Meta, children: list[AnyType]) -> nodes.InValues:
        name, negated, value = children
        return nodes.InValues(
            nodes.Name(str(name), span=self._token_span(name)),
            (str(value),),
            negated=negated is not None,
            span=self._span(meta),
        )

    def in_values(self, meta: Meta, children: list[AnyType]) -> nodes.InValues:
        name, negated, *values = children
        return nodes.InValues(
            nodes.Name(str(name), span=self._token_span(name)),
            tuple(str(v) for v in values),
            negated=negated is not None,
            span=self._span(meta),
        )

    # ------------------------------------------------------------ invariants

    def invariant_decl(self, meta: Meta, children: list[AnyType]) -> nodes.Invariant:
        label, condition, claim = children
        return nodes.Invariant(unquote(label), condition, claim, span=self._span(meta))

    def claim_or(self, meta: Meta, children: list[AnyType]) -> AnyType:
        if len(children) == 1:
            return children[0]
        return nodes.ClaimAny(tuple(children), span=self._span(meta))

    def claim_and(self, meta: Meta, children: list[AnyType]) -> AnyType:
        if len(children) == 1:
            return children[0]
        return nodes.ClaimAll(tuple(children), span=self._span(meta))

    def claim_negation(self, meta: Meta, children: list[AnyType]) -> nodes.ClaimNot:
        return nodes.ClaimNot(children[-1], span=self._span(meta))

    # ------------------------------------------------------------ examples

    def example_decl(self, meta: Meta, children: list[AnyType]) -> nodes.Example:
        label, given, *expectations = children
        return nodes.Example(
            unquote(label),
            tuple(given or ()),
            tuple(e for e in expectations if e is not None),
            span=self._span(meta),
        )

    def given_clause(self, meta: Meta, children: list[nodes.Given]) -> list[nodes.Given]:
        return children

    def given_true(self, meta: Meta, children: list[Token]) -> nodes.Given:
        return nodes.Given(str(children[0]), True, span=self._token_span(children[0]))

    def given_false(self, meta: Meta, children: list[Token]) -> nodes.Given:
        name = children[-1]
        return nodes.Given(str(name), False, span=self._token_span(name))

    def given_unknown(self, meta: Meta, children: list[Token]) -> nodes.Given:
        return nodes.Given(str(children[0]), None, span=self._token_span(children[0]))

    def given_value(self, meta: Meta, children: list[AnyType]) -> nodes.Given:
        name = children[0]
        if len(children) == 3 and str(children[1]) not in ("=", "=="):
            self.problems.append(
                Diagnostic(
                    "bad-given",
                    "error",
                    f"an example gives a fact one value with '=', not '{children[1]}'",
                    self.origin,
                    children[1].line,
                    children[1].column,
                    hint=f"write for example 'given {name} = 5'",
                )
            )
        value_node = children[-1]
        value: bool | int | float | str | None
        if isinstance(value_node, (nodes.Number, nodes.Text)):
            value = value_node.value
        elif isinstance(value_node, nodes.Name):
            word = value_node.name
            value = {"true": True, "false": False, "yes": True, "no": False}.get(word, word)
        else:  # a bare token from `NAME "is" NAME`
            value = str(value_node)
        return nodes.Given(str(name), value, span=self._token_span(name))

    def expect_outcome(self, meta: Meta, children: list[AnyType]) -> nodes.Expectation:
        negated, conditional, action = children
        return nodes.Expectation(
            negated=negated is not None,
            action=action,
            conditional=conditional is not None,
            span=self._span(meta),
        )

    def expect_question(self, meta: Meta, children: list[AnyType]) -> nodes.Expectation:
        negated, name = children
        return nodes.Expectation(negated=negated is not None, question=str(name), span=self._span(meta))

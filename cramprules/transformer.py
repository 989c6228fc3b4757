"""Turns Lark's parse tree into the typed AST of :mod:`cramprules.nodes`.

Non-recursive (Lark's ``Transformer_NonRecursive``), so a deeply nested
condition is measured and refused with a clear error instead of blowing
Python's stack.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any as AnyType
from typing import NamedTuple

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


class _Clause(NamedTuple):
    """One clause of a rule or ruleset header: the field it sets, and how it was written."""

    key: str
    value: AnyType
    span: nodes.Span | None
    pieces: tuple[str, ...] = ()


class _Given(NamedTuple):
    """An example's ``given`` clause: its items, where it starts and where each item starts."""

    items: tuple[nodes.Given, ...]
    span: nodes.Span | None
    starts: tuple[nodes.Span, ...]


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

    def _layout(
        self,
        meta: Meta,
        clauses: Sequence[_Clause] = (),
        items: tuple[nodes.Span, ...] = (),
    ) -> nodes.Layout | None:
        start = self._span(meta)
        if start is None:
            return None
        return nodes.Layout(
            start,
            tuple((c.key, c.span) for c in clauses if c.span is not None),
            tuple((c.key, c.pieces) for c in clauses if c.pieces),
            items,
        )

    def _item(
        self, meta: Meta, name: Token, value: bool | float | str | None
    ) -> tuple[nodes.Given, nodes.Span]:
        """An example's given item, and where it starts (for ``not x``, at the ``not``)."""
        span = self._token_span(name)
        return nodes.Given(str(name), value, span=span), self._span(meta) or span

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
        for clause in clauses:
            fields[clause.key] = clause.value
        return nodes.RulesetHeader(
            name=str(name),
            title=unquote(title) if title is not None else None,
            span=self._span(meta),
            layout=self._layout(meta, clauses),
            **fields,
        )

    def version_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        return _Clause("version", unquote(children[0]), self._span(meta))

    def source_decl(self, meta: Meta, children: list[AnyType]) -> nodes.SourceDecl:
        name, label, url = children
        return nodes.SourceDecl(
            str(name),
            unquote(label),
            unquote(url) if url is not None else None,
            span=self._span(meta),
            layout=self._layout(meta),
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
            layout=self._layout(meta),
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
            layout=self._layout(meta),
        )

    def group_decl(self, meta: Meta, children: list[Token]) -> nodes.GroupDecl:
        name, label = children
        return nodes.GroupDecl(
            str(name), unquote(label), span=self._token_span(name), layout=self._layout(meta)
        )

    def cause_decl(self, meta: Meta, children: list[AnyType]) -> nodes.CauseDecl:
        name, label, cite = children
        return nodes.CauseDecl(
            str(name),
            unquote(label) if label is not None else None,
            sources=cite.value if cite is not None else (),
            span=self._token_span(name),
            layout=self._layout(meta),
        )

    def include_decl(self, meta: Meta, children: list[Token]) -> nodes.IncludeDecl:
        return nodes.IncludeDecl(unquote(children[0]), span=self._span(meta), layout=self._layout(meta))

    def extends_decl(self, meta: Meta, children: list[Token]) -> nodes.ExtendsDecl:
        return nodes.ExtendsDecl(str(children[0]), span=self._span(meta), layout=self._layout(meta))

    # ------------------------------------------------------------ rules

    def rule_decl(self, meta: Meta, children: list[AnyType]) -> nodes.Rule:
        name, priority, body = children
        clauses = list(body["clauses"])
        if priority is not None:
            clauses.insert(0, priority)
        return self._rule(str(name), body, clauses, self._token_span(name), self._layout(meta, clauses))

    def anonymous_rule(self, meta: Meta, children: list[AnyType]) -> nodes.Rule:
        body = children[0]
        clauses = body["clauses"]
        return self._rule(None, body, clauses, self._span(meta), self._layout(meta, clauses))

    def rule_body(self, meta: Meta, children: list[AnyType]) -> dict[str, AnyType]:
        condition, actions, *clauses = children
        return {"condition": condition, "actions": actions, "clauses": clauses}

    def _rule(
        self,
        name: str | None,
        body: dict[str, AnyType],
        clauses: list[_Clause],
        span: nodes.Span | None,
        layout: nodes.Layout | None,
    ) -> nodes.Rule:
        fields: dict[str, AnyType] = {}
        for key, value, where, _ in clauses:
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
        return nodes.Rule(name, body["condition"], tuple(body["actions"]), span=span, layout=layout, **fields)

    def unless_clause(self, meta: Meta, children: list[AnyType]) -> _Clause:
        return _Clause("unless", children[0], self._span(meta))

    def because_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        pieces = tuple(unquote(c) for c in children)
        return _Clause("because", "".join(pieces), self._span(meta), pieces)

    def detail_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        pieces = tuple(unquote(c) for c in children)
        return _Clause("detail", "".join(pieces), self._span(meta), pieces)

    def cite_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        return _Clause("sources", tuple(str(c) for c in children), self._span(meta))

    def overrides_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        return _Clause("overrides", tuple(str(c) for c in children), self._span(meta))

    def priority_clause(self, meta: Meta, children: list[Token]) -> _Clause:
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
        return _Clause("priority", value, self._span(meta))

    def evidence_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        token = children[0]
        value = unquote(token) if token.type == "STRING" else str(token)
        return _Clause("evidence", value, self._span(meta))

    def reviewed_clause(self, meta: Meta, children: list[Token]) -> _Clause:
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
        return _Clause("reviewed", value, self._span(meta))

    def status_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        return _Clause("status", str(children[0]), self._span(meta))

    def author_clause(self, meta: Meta, children: list[Token]) -> _Clause:
        return _Clause("author", unquote(children[0]), self._span(meta))

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
        return nodes.Invariant(
            unquote(label), condition, claim, span=self._span(meta), layout=self._layout(meta)
        )

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
        clauses = [_Clause("given", None, given.span)] if given is not None else []
        return nodes.Example(
            unquote(label),
            given.items if given is not None else (),
            tuple(e for e in expectations if e is not None),
            span=self._span(meta),
            layout=self._layout(meta, clauses, given.starts if given is not None else ()),
        )

    def given_clause(self, meta: Meta, children: list[tuple[nodes.Given, nodes.Span]]) -> _Given:
        return _Given(
            tuple(item for item, _ in children), self._span(meta), tuple(start for _, start in children)
        )

    def given_true(self, meta: Meta, children: list[Token]) -> tuple[nodes.Given, nodes.Span]:
        return self._item(meta, children[0], True)

    def given_false(self, meta: Meta, children: list[Token]) -> tuple[nodes.Given, nodes.Span]:
        return self._item(meta, children[-1], False)

    def given_unknown(self, meta: Meta, children: list[Token]) -> tuple[nodes.Given, nodes.Span]:
        return self._item(meta, children[0], None)

    def given_value(self, meta: Meta, children: list[AnyType]) -> tuple[nodes.Given, nodes.Span]:
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
        return self._item(meta, name, value)

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

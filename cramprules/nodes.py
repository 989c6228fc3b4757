"""The syntax tree of a ``.cramp`` file, as frozen attrs values.

The parser builds these; the checker resolves names over them;
:mod:`cramprules.unparse` prints them back.  Every node keeps its
:class:`Span` so that any later error can point at the source, and every
statement its :class:`Layout` (where its clauses start, how its texts were
split) so that ``fmt`` can keep the author's comments and line breaks; but
neither takes part in equality: a parsed tree compares equal to one built by
hand.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Literal

import attrs

__all__ = [
    "Action",
    "ActionKind",
    "All",
    "Any",
    "Between",
    "BoolType",
    "Call",
    "CauseDecl",
    "Claim",
    "ClaimAll",
    "ClaimAny",
    "ClaimNot",
    "Comment",
    "Compare",
    "Condition",
    "Document",
    "EnumType",
    "Example",
    "Expectation",
    "ExtendsDecl",
    "FactDecl",
    "FactType",
    "Given",
    "GroupDecl",
    "InValues",
    "IncludeDecl",
    "Invariant",
    "IsKnown",
    "Layout",
    "Name",
    "Not",
    "Number",
    "NumberType",
    "Operand",
    "OptionDecl",
    "Rule",
    "RulesetHeader",
    "SourceDecl",
    "Span",
    "Statement",
    "Text",
    "names_in",
    "walk",
]


@attrs.frozen
class Span:
    """Where a node starts and ends in its file (1-based lines and columns)."""

    origin: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.origin}:{self.line}:{self.column}"


@attrs.frozen
class Layout:
    """How a statement was written, beyond what it says: for ``fmt`` to keep the author's layout."""

    start: Span
    """The statement from its first keyword (its ``span`` may point at its name instead)."""
    clauses: tuple[tuple[str, Span], ...] = ()
    """Where each clause starts, by the field it sets: ``unless``, ``sources``, ``version``, ``given``..."""
    pieces: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The adjacent texts that a ``because`` or ``detail`` was written as."""
    items: tuple[Span, ...] = ()
    """Where each item of an example's ``given`` starts."""

    def clause(self, field: str) -> Span | None:
        """Where the clause setting ``field`` starts (the last one, if it was given twice)."""
        found = [span for key, span in self.clauses if key == field]
        return found[-1] if found else None

    def written(self, field: str) -> tuple[str, ...]:
        """The texts that a text field was written as, or nothing."""
        return next((texts for key, texts in self.pieces if key == field), ())


# ---------------------------------------------------------------- conditions


@attrs.frozen
class Name:
    """A bare name: a fact, or a cause concluded by another rule."""

    name: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Number:
    value: float | int
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Text:
    value: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Call:
    """A call of a function that a plugin provides."""

    function: str
    arguments: tuple[Operand, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


Operand = Name | Number | Text | Call


@attrs.frozen
class Not:
    operand: Condition
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class All:
    """``a and b and ...``: true when every operand is."""

    operands: tuple[Condition, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Any:
    """``a or b or ...``: true when some operand is."""

    operands: tuple[Condition, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Compare:
    """``left OP right`` with OP one of ``< <= > >= = !=``."""

    left: Operand
    op: str
    right: Operand
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Between:
    """``subject between low and high``, both bounds included."""

    subject: Operand
    low: Operand
    high: Operand
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class IsKnown:
    """``fact is known`` (``known=True``) or ``fact is unknown``."""

    name: Name
    known: bool
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class InValues:
    """``fact is v``, ``fact is not v``, ``fact in [v, w]``, ``fact not in [...]``."""

    name: Name
    values: tuple[str, ...]
    negated: bool = False
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


Condition = Name | Call | Not | All | Any | Compare | Between | IsKnown | InValues


def walk(*conditions: Condition | Operand | None) -> Iterator[Condition | Operand]:
    """Every node of the given conditions, each once, without recursion."""
    stack: list[Condition | Operand] = [c for c in conditions if c is not None]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, (All, Any)):
            stack.extend(node.operands)
        elif isinstance(node, Compare):
            stack.extend((node.left, node.right))
        elif isinstance(node, Between):
            stack.extend((node.subject, node.low, node.high))
        elif isinstance(node, (IsKnown, InValues)):
            stack.append(node.name)
        elif isinstance(node, Call):
            stack.extend(node.arguments)


def names_in(*conditions: Condition | None) -> set[str]:
    """Every bare name the given conditions test (facts and causes alike)."""
    return {node.name for node in walk(*conditions) if isinstance(node, Name)}


# ---------------------------------------------------------------- actions

ActionKind = Literal["recommend", "prefer", "avoid", "suspect", "refer"]


@attrs.frozen
class Action:
    """What a rule concludes: ``prefer citrate over glycinate``, ``refer doctor urgent``."""

    kind: ActionKind
    target: str
    over: tuple[str, ...] = ()
    urgent: bool = False
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    def __str__(self) -> str:
        return _unparse(self)


# ---------------------------------------------------------------- declarations


@attrs.frozen
class RulesetHeader:
    name: str
    title: str | None = None
    version: str | None = None
    author: str | None = None
    reviewed: datetime.date | None = None
    status: str | None = None
    evidence: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class SourceDecl:
    name: str
    label: str
    url: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class BoolType:
    def __str__(self) -> str:
        return _unparse(self)


@attrs.frozen
class NumberType:
    low: float | int | None = None
    high: float | int | None = None

    def __str__(self) -> str:
        return _unparse(self)


@attrs.frozen
class EnumType:
    values: tuple[str, ...]

    def __str__(self) -> str:
        return _unparse(self)


FactType = BoolType | NumberType | EnumType


@attrs.frozen
class FactDecl:
    name: str
    type: FactType
    question: str | None = None
    unit: str | None = None
    derived: bool = False
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class OptionDecl:
    name: str
    label: str | None = None
    group: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class GroupDecl:
    """A heading that options can be shown under: ``group relief "Relief now"``."""

    name: str
    label: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class CauseDecl:
    name: str
    label: str | None = None
    sources: tuple[str, ...] = ()
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class IncludeDecl:
    path: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class ExtendsDecl:
    name: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Rule:
    """One rule.  ``name`` is ``None`` for an anonymous rule."""

    name: str | None
    condition: Condition
    actions: tuple[Action, ...]
    unless: Condition | None = None
    because: str | None = None
    detail: str | None = None
    sources: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    priority: int = 0
    evidence: str | None = None
    reviewed: datetime.date | None = None
    status: str | None = None
    author: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- invariants


@attrs.frozen
class ClaimNot:
    operand: Claim
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class ClaimAll:
    operands: tuple[Claim, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class ClaimAny:
    operands: tuple[Claim, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


Claim = Action | ClaimNot | ClaimAll | ClaimAny


@attrs.frozen
class Invariant:
    """A property every input must satisfy: ``if condition then claim``."""

    label: str
    condition: Condition | None
    claim: Claim
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- examples


@attrs.frozen
class Given:
    """One input of an example; ``value`` ``None`` means unknown."""

    fact: str
    value: bool | int | float | str | None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Expectation:
    """``expect [not] [conditional] ACTION`` or ``expect [not] question FACT``."""

    negated: bool
    action: Action | None = None
    conditional: bool = False
    question: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Example:
    label: str
    given: tuple[Given, ...]
    expectations: tuple[Expectation, ...]
    span: Span | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    layout: Layout | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)


Statement = (
    RulesetHeader
    | SourceDecl
    | FactDecl
    | OptionDecl
    | GroupDecl
    | CauseDecl
    | IncludeDecl
    | ExtendsDecl
    | Rule
    | Invariant
    | Example
)


def _unparse(node: Action | FactType) -> str:
    """The node as the language writes it, by the one printer (which imports this module)."""
    from cramprules.unparse import unparse

    return unparse(node)


@attrs.frozen
class Comment:
    """A ``#`` comment, kept so that the formatter can put it back."""

    text: str
    line: int
    column: int


@attrs.frozen
class Document:
    """One parsed file: its statements in order, and its comments."""

    origin: str
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = ()
    text: str = attrs.field(default="", eq=False, repr=False)

"""The syntax tree written back as ``.cramp`` text: the one printer of the language.

Everything that shows a piece of a ruleset prints it here: ``fmt``, traces
and explanations, the checker's and linter's messages, invariant
counterexamples.  So a condition reads the same everywhere, and what is shown
can be pasted back into a ruleset: the text parses to the same tree
(``parse(unparse(x)) == x``).  One spelling of everything:

* numbers as they were written, whole (``8``) or not (``7.5``, ``8.0``), and
  never with an exponent (``0.00001``, not ``1e-05``);
* texts in double quotes, with ``\\``, ``"``, newlines and tabs escaped;
* every ``and``/``or`` inside another ``and``/``or`` or a ``not`` in
  parentheses, and a ``between`` there too, so precedence never has to be
  remembered.

Statements come out in the canonical layout of ``cramprules fmt`` (see
:mod:`cramprules.authoring.fmt`): :func:`parts` gives their lines in parts,
each saying where in the source it came from, so that the formatter can put
the author's comments back beside them.
"""

from __future__ import annotations

import decimal
import itertools
import re
from collections.abc import Callable, Sequence

import attrs

from cramprules import nodes

__all__ = [
    "INDENT",
    "LINE_WIDTH",
    "Node",
    "Part",
    "action",
    "claim",
    "condition",
    "expectation",
    "fact_type",
    "given",
    "invariant_body",
    "is_name",
    "number",
    "parts",
    "quote",
    "texts",
    "unparse",
]

LINE_WIDTH = 110
"""The project's line length (ruff's too)."""
INDENT = "    "
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Node = (  # everything unparse prints
    nodes.Condition
    | nodes.Operand
    | nodes.Claim
    | nodes.FactType
    | nodes.Given
    | nodes.Expectation
    | nodes.Statement
)


def unparse(node: Node, *, width: int = LINE_WIDTH) -> str:
    """Any node as the language writes it; a statement in the canonical layout, on lines of ``width``."""
    if isinstance(node, (nodes.Action, nodes.ClaimNot, nodes.ClaimAll, nodes.ClaimAny)):
        return claim(node)
    if isinstance(node, (nodes.BoolType, nodes.NumberType, nodes.EnumType)):
        return fact_type(node)
    if isinstance(node, nodes.Given):
        return given(node)
    if isinstance(node, nodes.Expectation):
        return expectation(node)
    if isinstance(node, _STATEMENTS):
        return "\n".join(line for part in parts(node, width) for line in part.lines)
    return condition(node)


# ---------------------------------------------------------------- atoms


def quote(text: str) -> str:
    """A text as a string literal of the language."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def number(value: float) -> str:
    """A number as the language writes it: no exponent, a point only for a float."""
    if isinstance(value, bool):  # pragma: no cover - the AST never holds one
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return str(value)
    text = format(decimal.Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def is_name(word: str) -> bool:
    """Whether ``word`` can be written bare, as a name (it is no reserved word)."""
    # The reserved words come from the grammar, so the parser loads only when one is needed.
    from cramprules.parser import reserved_words

    return bool(_IDENT.match(word)) and word not in reserved_words()


def _word_or_text(value: str) -> str:
    return value if is_name(value) else quote(value)


# ---------------------------------------------------------------- conditions and claims


def condition(node: nodes.Condition | nodes.Operand, *, nested: bool = False) -> str:
    """A condition (or operand) on one line; ``nested`` inside ``and``, ``or`` or ``not``."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Number):
        return number(node.value)
    if isinstance(node, nodes.Text):
        return quote(node.value)
    if isinstance(node, nodes.Call):
        return f"{node.function}({', '.join(condition(a) for a in node.arguments)})"
    if isinstance(node, nodes.Not):
        return f"not {condition(node.operand, nested=True)}"
    if isinstance(node, (nodes.All, nodes.Any)):
        joiner = " and " if isinstance(node, nodes.All) else " or "
        text = joiner.join(condition(c, nested=True) for c in node.operands)
        return f"({text})" if nested else text
    if isinstance(node, nodes.Compare):
        return f"{condition(node.left)} {node.op} {condition(node.right)}"
    if isinstance(node, nodes.Between):
        text = f"{condition(node.subject)} between {condition(node.low)} and {condition(node.high)}"
        return f"({text})" if nested else text
    if isinstance(node, nodes.IsKnown):
        return f"{node.name.name} is {'known' if node.known else 'unknown'}"
    if isinstance(node, nodes.InValues):
        # `t is known` would test whether t is known, so that value keeps its brackets.
        if len(node.values) == 1 and (node.negated or node.values[0] not in ("known", "unknown")):
            return f"{node.name.name} is {'not ' if node.negated else ''}{node.values[0]}"
        return f"{node.name.name} {'not ' if node.negated else ''}in [{', '.join(node.values)}]"
    raise TypeError(f"cannot unparse {node!r}")  # pragma: no cover


def action(node: nodes.Action) -> str:
    """``prefer citrate over glycinate``, ``refer doctor urgent``."""
    text = f"{node.kind} {node.target}"
    if node.over:
        text += " over " + ", ".join(node.over)
    if node.urgent:
        text += " urgent"
    return text


def claim(node: nodes.Claim, *, nested: bool = False) -> str:
    """An invariant's claim (or a single action) on one line."""
    if isinstance(node, nodes.Action):
        return action(node)
    if isinstance(node, nodes.ClaimNot):
        return f"not {claim(node.operand, nested=True)}"
    joiner = " and " if isinstance(node, nodes.ClaimAll) else " or "
    text = joiner.join(claim(c, nested=True) for c in node.operands)
    return f"({text})" if nested else text


def invariant_body(node: nodes.Invariant) -> str:
    """``if CONDITION then CLAIM`` (or the claim alone), on one line."""
    said = claim(node.claim)
    if node.condition is None:
        return said
    return f"if {condition(node.condition)} then {said}"


def fact_type(node: nodes.FactType) -> str:
    """``bool``, ``number 0..10``, ``one of night, workout``."""
    if isinstance(node, nodes.BoolType):
        return "bool"
    if isinstance(node, nodes.EnumType):
        return "one of " + ", ".join(node.values)
    if node.low is None or node.high is None:
        return "number"
    return f"number {number(node.low)}..{number(node.high)}"


def given(item: nodes.Given) -> str:
    """One input of an example: ``a``, ``not b``, ``pain = 2.5``, ``t is n``, ``u is unknown``."""
    value = item.value
    if value is True:
        return item.fact
    if value is False:
        return f"not {item.fact}"
    if value is None:
        return f"{item.fact} is unknown"
    if isinstance(value, str):
        if is_name(value) and value not in ("true", "false", "yes", "no", "unknown", "known"):
            return f"{item.fact} is {value}"
        return f"{item.fact} = {quote(value)}"
    return f"{item.fact} = {number(value)}"


def expectation(item: nodes.Expectation) -> str:
    """``expect [not] [conditional] ACTION`` or ``expect [not] question FACT``."""
    words = ["expect"]
    if item.negated:
        words.append("not")
    if item.question is not None:
        words.append(f"question {item.question}")
    else:
        if item.conditional:
            words.append("conditional")
        assert item.action is not None
        words.append(action(item.action))
    return " ".join(words)


# ---------------------------------------------------------------- lines that fit


def texts(text: str, column: int, width: int = LINE_WIDTH, pieces: Sequence[str] = ()) -> list[str]:
    """``text`` as adjacent string literals, each fitting from ``column`` within ``width``.

    The author's ``pieces`` are kept when every one of them fits; otherwise
    the text is wrapped again, splitting only after a space, so the parser's
    join gives the text back.
    """
    if pieces and "".join(pieces) == text and all(column + len(quote(p)) <= width for p in pieces):
        return [quote(p) for p in pieces]
    room = max(width - column - 2, 20)
    words = re.findall(r"\S*\s*|\s+", text)
    wrapped: list[str] = []
    current = ""
    for word in words:
        if not word:
            continue
        if current and len(quote(current + word)) - 2 > room and current.endswith((" ", "\t")):
            wrapped.append(current)
            current = word
        else:
            current += word
    wrapped.append(current)
    return [quote(p) for p in wrapped]


def _broken(keyword: str, node: nodes.Condition, indent: str, width: int) -> tuple[str, ...]:
    """``keyword CONDITION``, broken before each top-level and/or when too long."""
    line = f"{indent}{keyword} {condition(node)}"
    if len(line) <= width or not isinstance(node, (nodes.All, nodes.Any)):
        return (line,)
    joiner = "and" if isinstance(node, nodes.All) else "or"
    first, *rest = [condition(c, nested=True) for c in node.operands]
    return (f"{indent}{keyword} {first}", *(f"{indent}{INDENT}{joiner} {p}" for p in rest))


def _joined(keyword: str, items: Sequence[str], indent: str, width: int) -> tuple[str, ...]:
    """``keyword a and b and c``, broken before each ``and`` when too long."""
    line = f"{indent}{keyword} {' and '.join(items)}"
    if len(line) <= width:
        return (line,)
    return (f"{indent}{keyword} {items[0]}", *(f"{indent}{INDENT}and {i}" for i in items[1:]))


def _listed(
    keyword: str, items: Sequence[str], indent: str, width: int, breaks: Sequence[int] = ()
) -> tuple[str, ...]:
    """``keyword a, b, c``, wrapped after commas, continuations under the first item.

    ``breaks`` are the positions of the items that started a line in the
    source: the author's lines are kept when every one of them fits.
    """
    lead = f"{indent}{keyword} "
    if breaks:
        bounds = [0, *breaks, len(items)]
        kept = []
        for k, (a, b) in enumerate(itertools.pairwise(bounds)):
            text = ", ".join(items[a:b]) + ("," if b < len(items) else "")
            kept.append((lead if k == 0 else " " * len(lead)) + text)
        if all(len(line) <= width for line in kept):
            return tuple(kept)
    lines: list[str] = []
    current = lead
    for k, item in enumerate(items):
        piece = item + ("," if k < len(items) - 1 else "")
        if current != lead and len(current) + 1 + len(piece) > width:
            lines.append(current.rstrip())
            current = " " * len(lead) + piece
        else:
            current += ("" if current.endswith(" ") else " ") + piece
    lines.append(current)
    return tuple(lines)


def _text_clause(keyword: str, text: str, indent: str, width: int, written: Sequence[str]) -> tuple[str, ...]:
    lead = f"{indent}{keyword} "
    first, *rest = texts(text, len(lead), width, written)
    return (lead + first, *(" " * len(lead) + p for p in rest))


# ---------------------------------------------------------------- statements


@attrs.frozen
class Part:
    """Some lines of a statement, and where in the source what they print started."""

    lines: tuple[str, ...]
    at: nodes.Span | None
    """``None`` for a statement built by hand."""
    indent: str = ""
    """The indent of the part's clause, for a comment put on a line of its own before it."""


_STATEMENTS = (
    nodes.RulesetHeader,
    nodes.SourceDecl,
    nodes.FactDecl,
    nodes.OptionDecl,
    nodes.GroupDecl,
    nodes.CauseDecl,
    nodes.IncludeDecl,
    nodes.ExtendsDecl,
    nodes.Rule,
    nodes.Invariant,
    nodes.Example,
)


def parts(statement: nodes.Statement, width: int = LINE_WIDTH) -> tuple[Part, ...]:
    """A statement in the canonical layout, in parts: a header line first, then its clauses."""
    layout = statement.layout
    start = layout.start if layout is not None else None

    def at(field: str) -> nodes.Span | None:
        found = layout.clause(field) if layout is not None else None
        return found or start

    if isinstance(statement, nodes.RulesetHeader):
        return _header(statement, start, at)
    if isinstance(statement, nodes.Rule):
        return _rule(statement, start, at, width)
    if isinstance(statement, nodes.Invariant):
        return _invariant(statement, start, width)
    if isinstance(statement, nodes.Example):
        return _example(statement, start, at, width)
    return (Part(_declaration(statement), start),)


def _declaration(statement: nodes.Statement) -> tuple[str, ...]:
    if isinstance(statement, nodes.SourceDecl):
        line = f"source {statement.name} {quote(statement.label)}"
        if statement.url is not None:
            return (line, f"{INDENT}url {quote(statement.url)}")
        return (line,)
    if isinstance(statement, nodes.FactDecl):
        words = [f"fact {statement.name}: {fact_type(statement.type)}"]
        if statement.unit is not None:
            words.append(f"unit {quote(statement.unit)}")
        if statement.question is not None:
            words.append(quote(statement.question))
        if statement.derived:
            words.append("derived")
        return (" ".join(words),)
    if isinstance(statement, nodes.OptionDecl):
        words = [f"option {statement.name}"]
        if statement.label is not None:
            words.append(quote(statement.label))
        if statement.group is not None:
            words.append(f"in {statement.group}")
        return (" ".join(words),)
    if isinstance(statement, nodes.GroupDecl):
        return (f"group {statement.name} {quote(statement.label)}",)
    if isinstance(statement, nodes.CauseDecl):
        words = [f"cause {statement.name}"]
        if statement.label is not None:
            words.append(quote(statement.label))
        if statement.sources:
            words.append("cite " + ", ".join(statement.sources))
        return (" ".join(words),)
    if isinstance(statement, nodes.IncludeDecl):
        return (f"include {quote(statement.path)}",)
    if isinstance(statement, nodes.ExtendsDecl):
        return (f"extends {statement.name}",)
    raise TypeError(f"cannot unparse {statement!r}")  # pragma: no cover


_At = Callable[[str], "nodes.Span | None"]
"""Where the clause setting a field starts, or else the statement."""


def _header(statement: nodes.RulesetHeader, start: nodes.Span | None, at: _At) -> tuple[Part, ...]:
    first = f"ruleset {statement.name}"
    if statement.title is not None:
        first += f" {quote(statement.title)}"
    out = [Part((first,), start)]
    if statement.version is not None:
        out.append(Part((f"version {quote(statement.version)}",), at("version")))
    if statement.author is not None:
        out.append(Part((f"author {quote(statement.author)}",), at("author")))
    if statement.reviewed is not None:
        out.append(Part((f"reviewed {statement.reviewed}",), at("reviewed")))
    if statement.status is not None:
        out.append(Part((f"status {statement.status}",), at("status")))
    if statement.evidence is not None:
        out.append(Part((f"evidence {_word_or_text(statement.evidence)}",), at("evidence")))
    return tuple(out)


def _rule(rule: nodes.Rule, start: nodes.Span | None, at: _At, width: int) -> tuple[Part, ...]:
    if rule.name is None:
        line = _one_line(rule, width)
        if line is not None:
            return (Part((line,), start),)
        # An anonymous rule starts at its 'if', at the left margin.
        out = [Part(_broken("if", rule.condition, "", width), start)]
    else:
        head = f"rule {rule.name}"
        if rule.priority:
            head += f" priority {rule.priority}"
        out = [
            Part((head + ":",), start),
            Part(_broken("if", rule.condition, INDENT, width), rule.condition.span, INDENT),
        ]
    actions = [action(a) for a in rule.actions]
    out.append(Part(_joined("then", actions, INDENT, width), rule.actions[0].span, INDENT))

    def written(field: str) -> tuple[str, ...]:
        return rule.layout.written(field) if rule.layout is not None else ()

    clauses: list[tuple[str, tuple[str, ...]]] = []
    if rule.unless is not None:
        clauses.append(("unless", _broken("unless", rule.unless, INDENT, width)))
    if rule.because is not None:
        clauses.append(("because", _text_clause("because", rule.because, INDENT, width, written("because"))))
    if rule.detail is not None:
        clauses.append(("detail", _text_clause("detail", rule.detail, INDENT, width, written("detail"))))
    if rule.sources:
        clauses.append(("sources", _listed("cite", rule.sources, INDENT, width)))
    if rule.overrides:
        clauses.append(("overrides", _listed("overrides", rule.overrides, INDENT, width)))
    if rule.priority and rule.name is None:
        clauses.append(("priority", (f"{INDENT}priority {rule.priority}",)))
    if rule.evidence is not None:
        clauses.append(("evidence", (f"{INDENT}evidence {_word_or_text(rule.evidence)}",)))
    if rule.reviewed is not None:
        clauses.append(("reviewed", (f"{INDENT}reviewed {rule.reviewed}",)))
    if rule.status is not None:
        clauses.append(("status", (f"{INDENT}status {rule.status}",)))
    if rule.author is not None:
        clauses.append(("author", (f"{INDENT}author {quote(rule.author)}",)))
    out.extend(Part(lines, at(field), INDENT) for field, lines in clauses)
    return tuple(out)


def _one_line(rule: nodes.Rule, width: int) -> str | None:
    """An anonymous rule of only if/then/unless on one line, when it fits."""
    extra = (rule.because, rule.detail, rule.evidence, rule.reviewed, rule.status, rule.author)
    if rule.sources or rule.overrides or rule.priority or any(v is not None for v in extra):
        return None
    line = f"if {condition(rule.condition)} then {' and '.join(action(a) for a in rule.actions)}"
    if rule.unless is not None:
        line += f" unless {condition(rule.unless)}"
    return line if len(line) <= width else None


def _invariant(invariant: nodes.Invariant, start: nodes.Span | None, width: int) -> tuple[Part, ...]:
    head = Part((f"invariant {quote(invariant.label)}:",), start)
    if invariant.condition is None:
        return head, Part((f"{INDENT}{claim(invariant.claim)}",), invariant.claim.span, INDENT)
    line = f"{INDENT}{invariant_body(invariant)}"
    if len(line) <= width:
        return head, Part((line,), invariant.condition.span, INDENT)
    return (
        head,
        Part(_broken("if", invariant.condition, INDENT, width), invariant.condition.span, INDENT),
        Part((f"{INDENT}then {claim(invariant.claim)}",), invariant.claim.span, INDENT),
    )


def _example(example: nodes.Example, start: nodes.Span | None, at: _At, width: int) -> tuple[Part, ...]:
    out = [Part((f"example {quote(example.label)}:",), start)]
    if example.given:
        lines = [s.line for s in example.layout.items] if example.layout is not None else []
        breaks = [k for k in range(1, len(lines)) if lines[k] != lines[k - 1]]
        listed = _listed("given", [given(g) for g in example.given], INDENT, width, breaks)
        out.append(Part(listed, at("given"), INDENT))
    out.extend(Part((f"{INDENT}{expectation(e)}",), e.span, INDENT) for e in example.expectations)
    return tuple(out)

"""``cramprules fmt``: one canonical layout for ``.cramp`` files.

The layout, in short (``docs/authoring.md`` shows it whole):

* one statement per line; a named rule, an invariant and an example put a
  header line (``rule NAME [priority N]:``) first and their clauses on lines
  of their own, indented four spaces, in a fixed order: ``if``, ``then``,
  ``unless``, ``because``, ``detail``, ``cite``, ``overrides``, ``evidence``,
  ``reviewed``, ``status``, ``author``;
* an anonymous rule stays on one line when it fits in 100 columns;
* a text longer than the line is split into adjacent texts at spaces, each
  continuation aligned under the first quote (the parser joins them back);
* nested ``and``/``or`` are parenthesised, so precedence never has to be
  remembered; a condition too long for its line breaks before each
  top-level ``and``/``or``;
* a blank line separates statements of different kinds and surrounds
  multi-line statements; a blank line the author put between statements is
  kept (never more than one); blank lines inside statements go;
* comments stay: one on a line of its own goes with the element after it,
  one at the end of a line with the element it ends.

Formatting only needs the file to parse: it works on rulesets that the
checker would still reject.  The result parses to the same syntax tree
(``parse(fmt(x)) == parse(x)``), and formatting it again changes nothing.
"""

from __future__ import annotations

import decimal
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any as AnyType

import attrs
from lark import Token, Tree

from cramprules import nodes
from cramprules.parser import _parser, comments, parse, reserved_words
from cramprules.transformer import unquote

__all__ = ["LINE_WIDTH", "format_document", "format_text"]

LINE_WIDTH = 110
"""The project's line length (ruff's too)."""
INDENT = "    "
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
Anchor = tuple[int, int]


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


def _is_name(word: str) -> bool:
    return bool(_IDENT.match(word)) and word not in reserved_words()


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


# ---------------------------------------------------------------- conditions and claims


def condition(node: nodes.Condition | nodes.Operand, *, nested: bool = False) -> str:
    """A condition written back, parenthesising every nested ``and``/``or``."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Number):
        return number(node.value)
    if isinstance(node, nodes.Text):
        return quote(node.value)
    if isinstance(node, nodes.Call):
        return f"{node.function}({', '.join(condition(a) for a in node.arguments)})"
    if isinstance(node, nodes.Not):
        inner = condition(node.operand, nested=True)
        return f"not {inner}"
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
        if len(node.values) == 1:
            return f"{node.name.name} is {'not ' if node.negated else ''}{node.values[0]}"
        return f"{node.name.name} {'not ' if node.negated else ''}in [{', '.join(node.values)}]"
    raise TypeError(f"cannot format {node!r}")  # pragma: no cover


def action(node: nodes.Action) -> str:
    return str(node)


def claim(node: nodes.Claim, *, nested: bool = False) -> str:
    if isinstance(node, nodes.Action):
        return action(node)
    if isinstance(node, nodes.ClaimNot):
        return f"not {claim(node.operand, nested=True)}"
    joiner = " and " if isinstance(node, nodes.ClaimAll) else " or "
    text = joiner.join(claim(c, nested=True) for c in node.operands)
    return f"({text})" if nested else text


def _broken(keyword: str, node: nodes.Condition, indent: str, width: int) -> list[str]:
    """``keyword CONDITION``, broken before each top-level and/or when too long."""
    line = f"{indent}{keyword} {condition(node)}"
    if len(line) <= width or not isinstance(node, (nodes.All, nodes.Any)):
        return [line]
    joiner = "and" if isinstance(node, nodes.All) else "or"
    parts = [condition(c, nested=True) for c in node.operands]
    out = [f"{indent}{keyword} {parts[0]}"]
    out.extend(f"{indent}{INDENT}{joiner} {p}" for p in parts[1:])
    return out


def _joined(keyword: str, items: Sequence[str], indent: str, width: int) -> list[str]:
    """``keyword a and b and c``, broken before each ``and`` when too long."""
    line = f"{indent}{keyword} {' and '.join(items)}"
    if len(line) <= width:
        return [line]
    return [f"{indent}{keyword} {items[0]}", *(f"{indent}{INDENT}and {i}" for i in items[1:])]


def _listed(
    keyword: str, items: Sequence[str], indent: str, width: int, breaks: Sequence[int] = ()
) -> list[str]:
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
            return kept
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
    return lines


def _text_clause(keyword: str, text: str, indent: str, width: int, tree: AnyType = None) -> list[str]:
    lead = f"{indent}{keyword} "
    written = [unquote(str(t)) for t in tree.children] if isinstance(tree, Tree) else []
    pieces = texts(text, len(lead), width, written)
    return [lead + pieces[0], *(" " * len(lead) + p for p in pieces[1:])]


def _word_or_text(value: str) -> str:
    return value if _is_name(value) else quote(value)


def _given(item: nodes.Given) -> str:
    value = item.value
    if value is True:
        return item.fact
    if value is False:
        return f"not {item.fact}"
    if value is None:
        return f"{item.fact} is unknown"
    if isinstance(value, str):
        if _is_name(value) and value not in ("true", "false", "yes", "no", "unknown", "known"):
            return f"{item.fact} is {value}"
        return f"{item.fact} = {quote(value)}"
    return f"{item.fact} = {number(value)}"


def _expectation(item: nodes.Expectation) -> str:
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


# ---------------------------------------------------------------- chunks


@attrs.frozen
class _Chunk:
    """Output lines of one element, and where the element starts in the source."""

    anchor: Anchor
    lines: tuple[str, ...]
    indent: str = ""


@attrs.frozen
class _Block:
    """One statement's chunks, in output order."""

    kind: str
    anchor: Anchor
    chunks: tuple[_Chunk, ...]

    @property
    def multiline(self) -> bool:
        return sum(len(c.lines) for c in self.chunks) > 1


def _meta(tree: AnyType) -> Anchor:
    meta = getattr(tree, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return (meta.line, meta.column)
    if isinstance(tree, Token) and tree.line is not None:
        return (tree.line, tree.column or 0)
    return (0, 0)


def _clause_trees(trees: Iterable[AnyType]) -> dict[str, Tree[AnyType]]:
    names = {
        "unless_clause": "unless",
        "because_clause": "because",
        "detail_clause": "detail",
        "cite_clause": "cite",
        "overrides_clause": "overrides",
        "priority_clause": "priority",
        "evidence_clause": "evidence",
        "reviewed_clause": "reviewed",
        "status_clause": "status",
        "author_clause": "author",
        "version_clause": "version",
    }
    out: dict[str, Tree[AnyType]] = {}
    for tree in trees:
        if isinstance(tree, Tree) and tree.data in names:
            out[names[tree.data]] = tree
    return out


def _clause_anchors(trees: Iterable[AnyType]) -> dict[str, Anchor]:
    return {name: _meta(tree) for name, tree in _clause_trees(trees).items()}


class _Printer:
    def __init__(self, width: int) -> None:
        self.width = width

    def block(self, statement: nodes.Statement, tree: AnyType) -> _Block:
        anchor = _meta(tree)
        kind = type(statement).__name__
        if isinstance(statement, nodes.RulesetHeader):
            return _Block(kind, anchor, self.header(statement, tree, anchor))
        if isinstance(statement, nodes.Rule):
            return _Block(kind, anchor, self.rule(statement, tree, anchor))
        if isinstance(statement, nodes.Invariant):
            return _Block(kind, anchor, self.invariant(statement, tree, anchor))
        if isinstance(statement, nodes.Example):
            return _Block(kind, anchor, self.example(statement, tree, anchor))
        return _Block(kind, anchor, (_Chunk(anchor, tuple(self.declaration(statement))),))

    # ------------------------------------------------------------ declarations

    def declaration(self, statement: nodes.Statement) -> list[str]:
        if isinstance(statement, nodes.SourceDecl):
            lines = [f"source {statement.name} {quote(statement.label)}"]
            if statement.url is not None:
                lines.append(f"{INDENT}url {quote(statement.url)}")
            return lines
        if isinstance(statement, nodes.FactDecl):
            words = [f"fact {statement.name}: {_fact_type(statement.type)}"]
            if statement.unit is not None:
                words.append(f"unit {quote(statement.unit)}")
            if statement.question is not None:
                words.append(quote(statement.question))
            if statement.derived:
                words.append("derived")
            return [" ".join(words)]
        if isinstance(statement, nodes.OptionDecl):
            words = [f"option {statement.name}"]
            if statement.label is not None:
                words.append(quote(statement.label))
            if statement.group is not None:
                words.append(f"in {statement.group}")
            return [" ".join(words)]
        if isinstance(statement, nodes.GroupDecl):
            return [f"group {statement.name} {quote(statement.label)}"]
        if isinstance(statement, nodes.CauseDecl):
            words = [f"cause {statement.name}"]
            if statement.label is not None:
                words.append(quote(statement.label))
            if statement.sources:
                words.append("cite " + ", ".join(statement.sources))
            return [" ".join(words)]
        if isinstance(statement, nodes.IncludeDecl):
            return [f"include {quote(statement.path)}"]
        if isinstance(statement, nodes.ExtendsDecl):
            return [f"extends {statement.name}"]
        raise TypeError(f"cannot format {statement!r}")  # pragma: no cover

    def header(self, statement: nodes.RulesetHeader, tree: AnyType, anchor: Anchor) -> tuple[_Chunk, ...]:
        first = f"ruleset {statement.name}"
        if statement.title is not None:
            first += f" {quote(statement.title)}"
        chunks = [_Chunk(anchor, (first,))]
        anchors = _clause_anchors(tree.children)
        if statement.version is not None:
            chunks.append(_Chunk(anchors.get("version", anchor), (f"version {quote(statement.version)}",)))
        if statement.author is not None:
            chunks.append(_Chunk(anchors.get("author", anchor), (f"author {quote(statement.author)}",)))
        if statement.reviewed is not None:
            chunks.append(_Chunk(anchors.get("reviewed", anchor), (f"reviewed {statement.reviewed}",)))
        if statement.status is not None:
            chunks.append(_Chunk(anchors.get("status", anchor), (f"status {statement.status}",)))
        if statement.evidence is not None:
            chunks.append(
                _Chunk(anchors.get("evidence", anchor), (f"evidence {_word_or_text(statement.evidence)}",))
            )
        return tuple(chunks)

    # ------------------------------------------------------------ rules

    def rule(self, rule: nodes.Rule, tree: AnyType, anchor: Anchor) -> tuple[_Chunk, ...]:
        width = self.width
        if rule.name is not None:
            _, priority_tree, body = tree.children
            clause_trees = _clause_trees([priority_tree, *body.children[2:]])
        else:
            body = tree.children[0]
            clause_trees = _clause_trees(body.children[2:])
        anchors = {name: _meta(t) for name, t in clause_trees.items()}
        condition_anchor = _meta(body.children[0])
        actions_anchor = _meta(body.children[1])
        actions = [action(a) for a in rule.actions]
        if rule.name is None:
            line = self.one_line(rule)
            if line is not None:
                return (_Chunk(anchor, (line,)),)
        chunks: list[_Chunk] = []
        indent = INDENT
        if rule.name is not None:
            head = f"rule {rule.name}"
            if rule.priority:
                head += f" priority {rule.priority}"
            chunks.append(_Chunk(anchor, (head + ":",)))
            chunks.append(
                _Chunk(condition_anchor, tuple(_broken("if", rule.condition, indent, width)), indent)
            )
        else:
            # An anonymous rule starts at its 'if', at the left margin.
            chunks.append(_Chunk(anchor, tuple(_broken("if", rule.condition, "", width))))
        chunks.append(_Chunk(actions_anchor, tuple(_joined("then", actions, indent, width)), indent))
        here = anchors.get
        if rule.unless is not None:
            chunks.append(
                _Chunk(here("unless", anchor), tuple(_broken("unless", rule.unless, indent, width)), indent)
            )
        if rule.because is not None:
            chunks.append(
                _Chunk(
                    here("because", anchor),
                    tuple(_text_clause("because", rule.because, indent, width, clause_trees.get("because"))),
                    indent,
                )
            )
        if rule.detail is not None:
            chunks.append(
                _Chunk(
                    here("detail", anchor),
                    tuple(_text_clause("detail", rule.detail, indent, width, clause_trees.get("detail"))),
                    indent,
                )
            )
        if rule.sources:
            chunks.append(
                _Chunk(here("cite", anchor), tuple(_listed("cite", rule.sources, indent, width)), indent)
            )
        if rule.overrides:
            chunks.append(
                _Chunk(
                    here("overrides", anchor),
                    tuple(_listed("overrides", rule.overrides, indent, width)),
                    indent,
                )
            )
        if rule.priority and rule.name is None:
            chunks.append(_Chunk(here("priority", anchor), (f"{indent}priority {rule.priority}",), indent))
        if rule.evidence is not None:
            chunks.append(
                _Chunk(
                    here("evidence", anchor), (f"{indent}evidence {_word_or_text(rule.evidence)}",), indent
                )
            )
        if rule.reviewed is not None:
            chunks.append(_Chunk(here("reviewed", anchor), (f"{indent}reviewed {rule.reviewed}",), indent))
        if rule.status is not None:
            chunks.append(_Chunk(here("status", anchor), (f"{indent}status {rule.status}",), indent))
        if rule.author is not None:
            chunks.append(_Chunk(here("author", anchor), (f"{indent}author {quote(rule.author)}",), indent))
        return tuple(chunks)

    def one_line(self, rule: nodes.Rule) -> str | None:
        """An anonymous rule of only if/then/unless on one line, when it fits."""
        extra = (rule.because, rule.detail, rule.evidence, rule.reviewed, rule.status, rule.author)
        if rule.sources or rule.overrides or rule.priority or any(v is not None for v in extra):
            return None
        line = f"if {condition(rule.condition)} then {' and '.join(action(a) for a in rule.actions)}"
        if rule.unless is not None:
            line += f" unless {condition(rule.unless)}"
        return line if len(line) <= self.width else None

    # ------------------------------------------------------------ invariants and examples

    def invariant(self, invariant: nodes.Invariant, tree: AnyType, anchor: Anchor) -> tuple[_Chunk, ...]:
        width = self.width
        head = _Chunk(anchor, (f"invariant {quote(invariant.label)}:",))
        body_tree = tree.children[1] if invariant.condition is not None else tree.children[2]
        body_anchor = _meta(body_tree)
        said = claim(invariant.claim)
        if invariant.condition is None:
            return head, _Chunk(body_anchor, (f"{INDENT}{said}",), INDENT)
        line = f"{INDENT}if {condition(invariant.condition)} then {said}"
        if len(line) <= width:
            return head, _Chunk(body_anchor, (line,), INDENT)
        claim_anchor = _meta(tree.children[2])
        return (
            head,
            _Chunk(body_anchor, tuple(_broken("if", invariant.condition, INDENT, width)), INDENT),
            _Chunk(claim_anchor, (f"{INDENT}then {said}",), INDENT),
        )

    def example(self, example: nodes.Example, tree: AnyType, anchor: Anchor) -> tuple[_Chunk, ...]:
        chunks = [_Chunk(anchor, (f"example {quote(example.label)}:",))]
        _, given_tree, *expect_trees = tree.children
        if example.given:
            items = [_given(g) for g in example.given]
            lines = [_meta(t)[0] for t in given_tree.children]
            breaks = [k for k in range(1, len(lines)) if lines[k] != lines[k - 1]]
            listed = _listed("given", items, INDENT, self.width, breaks)
            chunks.append(_Chunk(_meta(given_tree), tuple(listed), INDENT))
        trees = [t for t in expect_trees if t is not None]
        for k, expectation in enumerate(example.expectations):
            where = _meta(trees[k]) if k < len(trees) else anchor
            chunks.append(_Chunk(where, (f"{INDENT}{_expectation(expectation)}",), INDENT))
        return tuple(chunks)


def _fact_type(fact_type: nodes.FactType) -> str:
    if isinstance(fact_type, nodes.BoolType):
        return "bool"
    if isinstance(fact_type, nodes.EnumType):
        return "one of " + ", ".join(fact_type.values)
    if fact_type.low is None or fact_type.high is None:
        return "number"
    return f"number {number(fact_type.low)}..{number(fact_type.high)}"


# ---------------------------------------------------------------- comments and blank lines


@attrs.frozen
class _Placed:
    """A comment, where it goes, and whether a blank line preceded it."""

    comment: nodes.Comment
    trailing: bool
    blank_before: bool


def _place_comments(
    text: str, blocks: Sequence[_Block], found: Sequence[nodes.Comment]
) -> tuple[dict[tuple[int, int], list[_Placed]], dict[tuple[int, int], list[_Placed]], list[_Placed]]:
    """Leading and trailing comments by (block, chunk) index, and those after everything."""
    lines = text.split("\n")
    anchors = [(c.anchor, b, k) for b, block in enumerate(blocks) for k, c in enumerate(block.chunks)]
    leading: dict[tuple[int, int], list[_Placed]] = {}
    trailing: dict[tuple[int, int], list[_Placed]] = {}
    tail: list[_Placed] = []
    for comment in found:
        before = lines[comment.line - 1][: comment.column - 1] if comment.line <= len(lines) else ""
        is_trailing = bool(before.strip())
        blank = comment.line >= 2 and not lines[comment.line - 2].strip()
        placed = _Placed(comment, is_trailing, blank)
        position = (comment.line, comment.column)
        if is_trailing:
            earlier = [a for a in anchors if a[0] < position]
            if earlier:
                best = max(a[0] for a in earlier)
                _, b, k = [a for a in earlier if a[0] == best][-1]
                trailing.setdefault((b, k), []).append(placed)
                continue
        later = [a for a in anchors if a[0] > position]
        if later:
            best = min(a[0] for a in later)
            _, b, k = next(a for a in later if a[0] == best)
            leading.setdefault((b, k), []).append(placed)
        else:
            tail.append(placed)
    return leading, trailing, tail


def _blank_before(text_lines: Sequence[str], line: int) -> bool:
    """Whether the source has a blank line just above ``line`` (1-based)."""
    return line >= 2 and not text_lines[line - 2].strip()


def format_document(document: nodes.Document, width: int = LINE_WIDTH) -> str:
    """The canonical text of a parsed document (its ``text`` must be the source)."""
    text = document.text
    tree = _parser().parse(text)
    trees = list(tree.children)
    printer = _Printer(width)
    blocks = [printer.block(s, t) for s, t in zip(document.statements, trees)]
    found = list(document.comments) or comments(text)
    leading, trailing, tail = _place_comments(text, blocks, found)
    source_lines = text.split("\n")
    out: list[str] = []

    def blank() -> None:
        if out and out[-1] != "":
            out.append("")

    previous: _Block | None = None
    for b, block in enumerate(blocks):
        first_leading = leading.get((b, 0), [])
        if previous is not None:
            forced = previous.kind != block.kind or (
                block.kind in ("Rule", "Example") and (previous.multiline or block.multiline)
            )
            start_line = first_leading[0].comment.line if first_leading else block.anchor[0]
            if forced or _blank_before(source_lines, start_line):
                blank()
        for k, chunk in enumerate(block.chunks):
            for n, placed in enumerate(leading.get((b, k), [])):
                if k == 0 and n > 0 and placed.blank_before:
                    blank()
                out.append(f"{chunk.indent}{placed.comment.text}")
            if k == 0 and leading.get((b, 0)) and _blank_before(source_lines, block.anchor[0]):
                blank()
            lines = list(chunk.lines)
            notes = trailing.get((b, k), [])
            if notes:
                # One comment can end the element; any others (from the ends of lines
                # the element no longer has) go on lines of their own just before it.
                out.extend(f"{chunk.indent}{p.comment.text}" for p in notes[:-1])
                lines[-1] += "  " + notes[-1].comment.text
            out.extend(lines)
        previous = block
    for placed in tail:
        if out and placed.blank_before:
            blank()
        out.append(placed.comment.text)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(line.rstrip() for line in out) + "\n" if out else ""


def format_text(text: str, origin: str = "<string>", *, width: int = LINE_WIDTH) -> str:
    """Format ``.cramp`` text.  Raises RulesetSyntaxError when it does not parse."""
    return format_document(parse(text, origin), width)

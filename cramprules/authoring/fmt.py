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

The statements are printed by :mod:`cramprules.unparse`, the one printer of
the language; this module puts the author's comments and blank lines back
between and beside their parts, using where each part stood in the source.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from cramprules import nodes
from cramprules.parser import parse
from cramprules.unparse import LINE_WIDTH, Part, number, parts, texts

__all__ = ["LINE_WIDTH", "format_document", "format_text", "number", "texts"]

Anchor = tuple[int, int]


def _anchor(span: nodes.Span | None) -> Anchor:
    return (span.line, span.column) if span is not None else (0, 0)


@attrs.frozen
class _Block:
    """One statement's parts, in output order, and where the statement starts in the source."""

    kind: str
    anchor: Anchor
    chunks: tuple[Part, ...]

    @classmethod
    def of(cls, statement: nodes.Statement, width: int) -> _Block:
        start = statement.layout.start if statement.layout is not None else None
        return cls(type(statement).__name__, _anchor(start), parts(statement, width))

    @property
    def multiline(self) -> bool:
        return sum(len(c.lines) for c in self.chunks) > 1


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
    anchors = [(_anchor(c.at), b, k) for b, block in enumerate(blocks) for k, c in enumerate(block.chunks)]
    leading: dict[tuple[int, int], list[_Placed]] = {}
    trailing: dict[tuple[int, int], list[_Placed]] = {}
    tail: list[_Placed] = []
    for comment in found:
        before = lines[comment.line - 1][: comment.column - 1] if comment.line <= len(lines) else ""
        is_trailing = bool(before.strip())
        blank = _blank_before(lines, comment.line)
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
    return 2 <= line <= len(text_lines) + 1 and not text_lines[line - 2].strip()


def format_document(document: nodes.Document, width: int = LINE_WIDTH) -> str:
    """The canonical text of a document; its comments and blank lines are kept where its ``text`` has them."""
    text = document.text
    blocks = [_Block.of(statement, width) for statement in document.statements]
    leading, trailing, tail = _place_comments(text, blocks, document.comments)
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

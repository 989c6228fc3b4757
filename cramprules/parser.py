"""Parses ``.cramp`` text into a :class:`~cramprules.nodes.Document`.

Lark never shows through: its errors are translated here, once, into
:class:`~cramprules.exceptions.RulesetSyntaxError` whose message says what
was expected in words ("a condition", "'then'"), not token names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

from lark import Lark, Token, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from cramprules import _resources, nodes
from cramprules.exceptions import Diagnostic, RulesetSyntaxError, shorten, show_char
from cramprules.limits import DEFAULT_LIMITS, Limits
from cramprules.transformer import MAX_NESTING, ToAst, TooDeep

__all__ = ["MAX_SOURCE_CHARS", "count_rules", "lex", "parse"]

MAX_SOURCE_CHARS = DEFAULT_LIMITS.max_source_chars
"""The largest ruleset file accepted by default, in characters (see :class:`Limits`)."""

BOM = "\ufeff"


@functools.cache
def _parser() -> Lark:
    grammar_dir = _resources.data_dir("grammar")
    text = (grammar_dir / "cramprules.lark").read_text(encoding="utf-8")
    return Lark(
        text,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,
    )


def parse(text: str, origin: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> nodes.Document:
    """Parse one file.  Raises RulesetSyntaxError with every problem found.

    The limits are checked before the text is parsed (its size, its number
    of rules) and right after (the size of each condition), so that no file
    costs more than a bounded, linear amount of work.  A byte-order mark at
    the start is dropped.
    """
    text = text.removeprefix(BOM)
    if len(text) > limits.max_source_chars:
        raise RulesetSyntaxError(
            Diagnostic(
                "too-large",
                "error",
                f"this ruleset has {len(text):,} characters; the limit is {limits.max_source_chars:,}",
                origin,
                hint="split it into several files joined with 'include', or raise Limits.max_source_chars",
            )
        )
    rules = count_rules(text)
    if rules > limits.max_rules:
        raise RulesetSyntaxError(
            Diagnostic(
                "too-many-rules",
                "error",
                f"this file has {rules:,} rules; the limit is {limits.max_rules:,}",
                origin,
                hint="split the ruleset, or raise Limits.max_rules",
            )
        )
    lines = text.splitlines()
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RulesetSyntaxError(_translate(exc, text, lines, origin)) from None
    builder = ToAst(origin)
    try:
        statements = builder.transform(tree)
    except VisitError as exc:
        if not isinstance(exc.orig_exc, TooDeep):
            raise
        deep = exc.orig_exc
        raise RulesetSyntaxError(
            Diagnostic(
                "too-deep",
                "error",
                f"this condition nests more than {MAX_NESTING} levels deep",
                origin,
                deep.line,
                deep.column,
                hint="split it into smaller rules, or name a part of it as a cause",
                source_line=_line(lines, deep.line),
            )
        ) from None
    if builder.problems:
        raise RulesetSyntaxError([attach_line(d, lines) for d in builder.problems])
    _check_sizes(statements, origin, lines, limits)
    return nodes.Document(origin, tuple(statements), tuple(comments(text)), text=text)


# A string or a comment (skipped), or the keyword every rule has once.
_STRING_COMMENT_OR_THEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\b(then)\b')


def count_rules(text: str) -> int:
    """How many rules ``text`` holds, counted in linear time before parsing.

    Every rule (and every ``if ... then`` invariant) has exactly one
    ``then``, a reserved word, so counting it outside strings and comments
    bounds the rules without building a tree.
    """
    return sum(1 for match in _STRING_COMMENT_OR_THEN.finditer(text) if match.group(1))


def _check_sizes(statements: list[nodes.Statement], origin: str, lines: list[str], limits: Limits) -> None:
    """Refuse a condition with more terms than the limit, before any later step walks it."""
    problems = []
    for statement in statements:
        conditions: tuple[nodes.Condition | None, ...] = ()
        if isinstance(statement, nodes.Rule):
            conditions = (statement.condition, statement.unless)
        elif isinstance(statement, nodes.Invariant):
            conditions = (statement.condition,)
        for condition in conditions:
            if condition is None:
                continue
            size = sum(1 for _ in nodes.walk(condition))
            if size > limits.max_condition_terms:
                span = getattr(condition, "span", None) or statement.span
                problems.append(
                    Diagnostic(
                        "too-large",
                        "error",
                        f"this condition has {size:,} terms; the limit is {limits.max_condition_terms:,}",
                        origin,
                        span.line if span else None,
                        span.column if span else None,
                        hint="name parts of it as causes and use those, or raise Limits.max_condition_terms",
                        source_line=_line(lines, span.line if span else None),
                    )
                )
    if problems:
        raise RulesetSyntaxError(problems)


# A string (skipped) or a comment: a '#' outside a string, to the end of the line.
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|(#[^\n]*)')


def lex(text: str) -> Iterator[Token]:
    """The grammar's tokens of ``text`` (comments left out), up to the first character it cannot read.

    For editors that colour text and find names: the same lexer as the parser,
    so colours never disagree with it.
    """
    try:
        yield from _parser().lex(text[:MAX_SOURCE_CHARS])
    except UnexpectedInput:
        return


def comments(text: str) -> list[nodes.Comment]:
    """Every comment of a file, for the formatter to put back in place."""
    found = []
    for match in _STRING_OR_COMMENT.finditer(text):
        if match.group(1) is None:
            continue
        start = match.start(1)
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        found.append(nodes.Comment(match.group(1), line, column))
    return found


def attach_line(diagnostic: Diagnostic, lines: list[str]) -> Diagnostic:
    """The same diagnostic, with the text of its line for the caret display."""
    if diagnostic.line is None or diagnostic.source_line is not None:
        return diagnostic
    import attrs

    return attrs.evolve(diagnostic, source_line=_line(lines, diagnostic.line))


def _line(lines: list[str], number: int | None) -> str | None:
    if number is None or not 1 <= number <= len(lines):
        return None
    return lines[number - 1]


# ---------------------------------------------------------------- error words

_STATEMENT_KEYWORDS = (
    "ruleset", "source", "fact", "option", "cause", "include", "extends",
    "rule", "if", "invariant", "example",
)  # fmt: skip
_ACTION_KEYWORDS = ("recommend", "prefer", "avoid", "suspect", "refer")
_CLAUSE_KEYWORDS = (
    "unless", "because", "detail", "cite", "overrides", "priority",
    "evidence", "reviewed", "status", "author",
)  # fmt: skip

_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text ("...")',
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "COMPARATOR": "a comparison (<, <=, >, >=, =, !=)",
    "$END": "the end of the file",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    pattern = _literal(name)
    return f"'{pattern}'" if pattern is not None else name.lower()


@functools.cache
def _literals() -> dict[str, str]:
    out: dict[str, str] = {}
    for terminal in _parser().terminals:
        if terminal.pattern.type == "str":
            out[terminal.name] = terminal.pattern.value
    return out


def _literal(name: str) -> str | None:
    return _literals().get(name)


def _describe_expected(expected: Iterable[str]) -> str:
    """Token names in words, grouped: "a condition", "an action", "'then'"."""
    names = set(expected)
    literal = {n: w for n in names if (w := _literal(n)) is not None}
    words = set(literal.values())
    phrases: list[str] = []

    def take(group: Iterable[str]) -> None:
        for w in group:
            words.discard(w)

    condition_start = "NAME" in names and "not" in words and "(" in words
    if condition_start:
        phrases.append("a condition (a fact, 'not' or '(')")
        take({"not", "("})
        names -= {"NAME", "NUMBER"}
    if {"and", "or"} <= words:
        # After a complete condition: the ways to go on matter, not the
        # comparison operators that could also follow a bare name.
        joins = ["'and'", "'or'"]
        if "then" in words:
            joins.append("'then'")
        phrases.extend(joins)
        take({"and", "or", "then", "(", "not", "is", "in", "between"})
        names.discard("COMPARATOR")
    if {"recommend", "prefer", "avoid"} <= words:
        phrases.append("an action (recommend, prefer, avoid, suspect or refer)")
        take(_ACTION_KEYWORDS)
    if {"unless", "because", "cite"} <= words:
        phrases.append("a clause (unless, because, cite, priority, ...)")
        take(_CLAUSE_KEYWORDS)
    if {"if", "rule", "fact"} <= words:
        phrases.append("a new statement (rule, if, fact, option, ...)")
        take(_STATEMENT_KEYWORDS)
        take(("version", "author", "reviewed", "status", "evidence", "group"))
        names.discard("$END")
    for name in sorted(n for n in names if n not in literal):
        phrases.append(_describe_terminal(name))
    phrases.extend(f"'{w}'" for w in sorted(words))
    if not phrases:
        return "something else"
    if len(phrases) > 6:
        phrases = phrases[:6]
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


@functools.cache
def reserved_words() -> frozenset[str]:
    """The keywords that can never be names (the grammar's NAME says which)."""
    pattern = _parser().get_terminal("NAME").pattern.value
    match = re.search(r"\(\?:([a-z|]+)\)", pattern)
    return frozenset(match.group(1).split("|")) if match else frozenset()


def _describe_token(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "NAME":
        return f"the name '{shorten(str(token))}'"
    if token.type == "STRING":
        return f"the text {shorten(str(token))}"
    if token.type == "NUMBER":
        return f"the number {shorten(str(token))}"
    return f"'{shorten(str(token))}'"


def _previous_word(text: str, pos: int) -> str | None:
    """The token just before ``pos``, for messages such as "after 'and'"."""
    before = text[max(0, pos - 200) : pos].rstrip()  # a window: the search stays linear
    match = re.search(r'([A-Za-z_][A-Za-z0-9_]*|"[^"\n]*"|[^\sA-Za-z0-9_"]+)$', before)
    return match.group(1) if match else None


_SYMBOL_HINTS = {
    "&": "write 'and' to join conditions",
    "|": "write 'or' to join conditions",
    "!": "write 'not' to negate a condition, and '!=' for 'not equal'",
    "'": 'texts are written in double quotes: "like this"',
    "{": "rules use ':' and keywords, not braces",
    "}": "rules use ':' and keywords, not braces",
    ";": "';' only separates the parts of an example",
}


def _translate(exc: UnexpectedInput, text: str, lines: list[str], origin: str) -> Diagnostic:
    line = getattr(exc, "line", None) or None
    column = getattr(exc, "column", None) or None
    hint: str | None = None
    end_column: int | None = None
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream or 0
        char = text[position] if position < len(text) else ""
        if char == '"':
            message = "this text has no closing quote"
            hint = 'end the text with " on the same line'
        elif not char.isascii() and (char.isalnum() or char == "_"):
            message = f"{show_char(char)} cannot be part of a name: names use ASCII letters, digits and _"
            hint = "write the name without accents or other scripts; the text in quotes may use any"
        else:
            message = f"{show_char(char)} cannot appear here"
            hint = _SYMBOL_HINTS.get(char)
            allowed = exc.allowed or set()
            if hint is None and allowed:
                hint = f"expected {_describe_expected(allowed)}"
    elif isinstance(exc, UnexpectedToken):
        token = exc.token
        try:
            expected = set(exc.interactive_parser.accepts())  # type: ignore[no-untyped-call]
        except Exception:  # noqa: BLE001 - fall back to lark's wider guess
            expected = set(exc.expected or ())
        if token.type == "$END":
            line, column = _end_position(text)
        else:
            end_column = token.end_column
        previous = _previous_word(text, token.start_pos if token.start_pos is not None else len(text))
        message = f"expected {_describe_expected(expected)}"
        if previous:
            message += f" after '{shorten(previous, 40)}'"
        message += f", but found {_describe_token(token)}"
        hint = _hint_for(token, expected, previous)
    elif isinstance(exc, UnexpectedEOF):
        line, column = _end_position(text)
        message = f"the file ends too early; expected {_describe_expected(exc.expected)}"
    else:  # pragma: no cover - lark has no other kinds today
        message = str(exc).splitlines()[0]
    return Diagnostic(
        "syntax",
        "error",
        message,
        origin,
        line,
        column,
        end_column=end_column,
        hint=hint,
        source_line=_line(lines, line),
    )


def _end_position(text: str) -> tuple[int, int]:
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    column = len(stripped) - (stripped.rfind("\n") + 1) + 1
    return line, column


def _hint_for(token: Token, expected: set[str], previous: str | None) -> str | None:
    words = {w for w in (_literal(n) for n in expected) if w is not None}
    value = shorten(str(token), 40)
    previous = shorten(previous, 40) if previous is not None else None
    if token.type == "NAME" and value.lower() in (
        *_STATEMENT_KEYWORDS,
        *_ACTION_KEYWORDS,
        *_CLAUSE_KEYWORDS,
        "then",
        "and",
        "or",
        "not",
    ):
        if value != value.lower():
            return f"keywords are written in lower case: '{value.lower()}'"
    if previous in ("and", "or", "not", "if", "unless", "(") and token.type != "NAME":
        return f"a condition is missing between '{previous}' and '{value}'"
    if "NAME" in expected and token.type != "NAME" and value in reserved_words():
        return f"'{value}' is a keyword and cannot be used as a name; choose another, such as '{value}_'"
    if "then" in words and token.type == "NAME":
        return "join conditions with 'and' or 'or', and start the actions with 'then'"
    if ":" in words and previous is not None and token.type != "$END":
        return "a named rule reads 'rule NAME:' followed by 'if ... then ...'"
    if "then" in words and value in _ACTION_KEYWORDS:
        return f"put 'then' before '{value}'"
    if words & set(_ACTION_KEYWORDS) and token.type == "NAME":
        return f"say what to do with '{value}': recommend, prefer, avoid, suspect or refer"
    if value in ("&&", "and") and "NAME" in expected:
        return None
    if token.type == "$END":
        return "the last statement is not finished"
    return None

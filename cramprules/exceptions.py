"""The errors cramprules raises on purpose, and the diagnostics they carry.

Every problem in a ruleset is a :class:`Diagnostic`: a code, a severity, a
message in plain words, where it is (file, line, column) and how to fix it.
A :class:`RulesetError` carries all the errors found in one go, so an author
fixes them in one pass rather than one per run.
"""

from __future__ import annotations

import reprlib
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Literal, Protocol

import attrs

from cramprules.names import closest

__all__ = [
    "CramprulesError",
    "Diagnostic",
    "FactError",
    "PluginError",
    "RulesetError",
    "RulesetSyntaxError",
    "Severity",
    "UnknownRuleset",
    "shorten",
    "show_char",
    "show_value",
]

MAX_SHOWN = 120
"""The most characters of one value, name or source line that a message shows."""

MAX_MESSAGE = 600
"""The longest message line shown, whatever it quotes: a last safety net."""

ELLIPSIS = "\u2026"


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, and every invisible character named.

    A message quotes what the user gave; a 50 MB value or a line full of
    control characters must not become a 50 MB, unreadable error line.
    """
    head = text[: limit + 1]
    if not head.isprintable():
        head = "".join(ch if ch.isprintable() else f"<{_code_point(ch)}>" for ch in head)
    if len(head) <= limit and len(text) <= limit:
        return head
    return head[: limit - 1] + ELLIPSIS


def _code_point(ch: str) -> str:
    name = _CHARACTER_NAMES.get(ch) or unicodedata.name(ch, "").lower()
    return f"U+{ord(ch):04X} {name}".rstrip()


_CHARACTER_NAMES = {
    "\ufeff": "byte-order mark",
    "\x00": "NUL",
    "\t": "tab",
    "\n": "line feed",
    "\r": "carriage return",
    "\u200b": "zero width space",
    "\xa0": "no-break space",
}


def show_char(ch: str) -> str:
    """One character as a message shows it: quoted if visible, by its code point if not."""
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'" if ch.isascii() else f"'{ch}' ({_code_point(ch)})"
    return _code_point(ch)


_REPR = reprlib.Repr()
_REPR.maxstring = MAX_SHOWN
_REPR.maxother = MAX_SHOWN
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = _REPR.maxset = 6


def show_value(value: object) -> str:
    """A value given as input, shown briefly: text quoted, containers cut short (never huge)."""
    if isinstance(value, str):
        return repr(shorten(value))
    if isinstance(value, (bool, int, float)) or value is None:
        return shorten(str(value))
    return shorten(_REPR.repr(value))


Severity = Literal["error", "warning", "info"]


class _Span(Protocol):
    """Where something is in a file (see :class:`cramprules.nodes.Span`)."""

    @property
    def origin(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_column(self) -> int: ...


@attrs.frozen
class Diagnostic:
    """One finding about a ruleset, with enough context to show and fix it."""

    code: str
    severity: Severity
    message: str
    origin: str | None = None
    line: int | None = None
    column: int | None = None
    end_column: int | None = None
    hint: str | None = None
    source_line: str | None = attrs.field(default=None, repr=False)

    @classmethod
    def at(
        cls,
        code: str,
        severity: Severity,
        message: str,
        span: _Span | None,
        lines: Mapping[str, Sequence[str]],
        *,
        origin: str | None = None,
        hint: str | None = None,
    ) -> Diagnostic:
        """A diagnostic pointing at ``span``, with the text of its line from
        ``lines`` (origin -> lines of that file) for the caret display."""
        origin = span.origin if span else origin
        line = span.line if span else None
        source_line = None
        if line is not None and origin is not None and origin in lines and 1 <= line <= len(lines[origin]):
            source_line = lines[origin][line - 1]
        end_column = None
        if span and span.end_line == span.line and span.end_column > span.column:
            end_column = span.end_column
        return cls(
            code,
            severity,
            message,
            origin,
            line,
            span.column if span else None,
            end_column=end_column,
            hint=hint,
            source_line=source_line,
        )

    @property
    def location(self) -> str:
        """``file:line:column``, as far as it is known."""
        parts = [self.origin or "<unknown>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """The message as a person reads it: location, the line, a caret, a hint."""
        lines = [f"{shorten(self.location, 300)}: {self.severity}: {shorten(self.message, MAX_MESSAGE)}"]
        if self.source_line is not None and self.line is not None:
            gutter = str(self.line)
            text, column = _window(self.source_line.rstrip("\n").expandtabs(4), self.column)
            lines.append(f" {gutter} | {text}")
            if column is not None:
                width = 1
                if self.end_column is not None and self.column is not None and self.end_column > self.column:
                    width = min(self.end_column - self.column, len(text) - column + 1)
                pad = " " * (column - 1)
                lines.append(f" {' ' * len(gutter)} | {pad}{'^' * max(width, 1)}")
        if self.hint:
            lines.append(f" hint: {shorten(self.hint, MAX_MESSAGE)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "origin": self.origin,
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "hint": self.hint,
        }


def _window(text: str, column: int | None, width: int = MAX_SHOWN) -> tuple[str, int | None]:
    """A long source line cut to ``width`` characters around ``column``, and the column in the cut.

    Invisible characters are replaced by a visible mark of the same width,
    so that the caret still points at the right place.
    """
    text = "".join(ch if ch.isprintable() else "\u00b7" for ch in text)
    if len(text) <= width:
        return text, column
    at = (column or 1) - 1
    start = max(0, min(at - width // 2, len(text) - width))
    end = start + width
    shown = text[start:end]
    if start > 0:
        shown = ELLIPSIS + shown[1:]
    if end < len(text):
        shown = shown[:-1] + ELLIPSIS
    return shown, (at - start + 1) if column is not None else None


class CramprulesError(Exception):
    """Base class of every error that cramprules raises on purpose."""


class RulesetError(CramprulesError):
    """A ruleset cannot be used: the first error is in ``origin``, ``line``, ``column``.

    ``diagnostics`` holds every error found, in source order.
    """

    diagnostics: tuple[Diagnostic, ...]
    origin: str | None
    line: int | None
    column: int | None

    def __init__(self, diagnostics: Sequence[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = (diagnostics,)
        if not diagnostics:
            raise ValueError("a RulesetError needs at least one diagnostic")
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0]
        self.origin, self.line, self.column = first.origin, first.line, first.column
        super().__init__(self.__str__())

    @property
    def message(self) -> str:
        """The first error's message, without its location."""
        return self.diagnostics[0].message

    def __str__(self) -> str:
        text = "\n\n".join(d.render() for d in self.diagnostics)
        errors = sum(d.severity == "error" for d in self.diagnostics)
        if errors > 1:
            text += f"\n\n{errors} errors"
        return text


class RulesetSyntaxError(RulesetError):
    """The text is not valid ``.cramp`` syntax."""


class FactError(CramprulesError, ValueError):
    """An input fact is unknown to the ruleset, of the wrong type, or out of range."""

    def __init__(
        self,
        message: str,
        *,
        fact: str,
        suggestion: str | None = None,
        record: int | None = None,
    ) -> None:
        self.fact = fact
        self.suggestion = suggestion
        self.record = record
        """Position of the bad record in a batch (``evaluate_many``), if any."""
        super().__init__(message)


class PluginError(CramprulesError):
    """A plugin failed, returned something it should not, or clashed with another."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(message)


class UnknownRuleset(CramprulesError):
    """No plugin offers a ruleset of this name.

    ``known`` holds the names that are offered, so whoever catches it (the
    engine's caller, or the checker for an ``extends``) can suggest one.
    """

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(known)
        guess = closest(name, self.known)
        if guess:
            hint = f"; did you mean '{guess}'?"
        elif self.known:
            hint = f"; known rulesets: {', '.join(self.known)}"
        else:
            hint = "; no plugin offers any ruleset"
        super().__init__(f"there is no ruleset called '{name}'{hint}")

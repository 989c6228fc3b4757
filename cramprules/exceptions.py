"""The errors cramprules raises on purpose, and the diagnostics they carry.

Every problem in a ruleset is a :class:`Diagnostic`: a code, a severity, a
message in plain words, where it is (file, line, column) and how to fix it.
A :class:`RulesetError` carries all the errors found in one go, so an author
fixes them in one pass rather than one per run.
"""

from __future__ import annotations

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
]

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
        lines = [f"{self.location}: {self.severity}: {self.message}"]
        if self.source_line is not None and self.line is not None:
            gutter = str(self.line)
            text = self.source_line.rstrip("\n").expandtabs(4)
            lines.append(f" {gutter} | {text}")
            if self.column is not None:
                width = 1
                if self.end_column is not None and self.end_column > self.column:
                    width = self.end_column - self.column
                pad = " " * (self.column - 1)
                lines.append(f" {' ' * len(gutter)} | {pad}{'^' * width}")
        if self.hint:
            lines.append(f" hint: {self.hint}")
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

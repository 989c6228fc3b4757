"""Where the checker and ``check``'s analyses put what they find.

One sink turns a span into a :class:`~cramprules.exceptions.Diagnostic` with
its source line, so a finding looks the same whoever makes it.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from cramprules.exceptions import Diagnostic, Severity
from cramprules.nodes import Span

__all__ = ["DiagnosticSink"]


@attrs.define
class DiagnosticSink:
    """Collects diagnostics about one ruleset, in the order they are found.

    ``main`` is the origin given to a diagnostic that has no span.  Every
    file :meth:`read` is remembered, so a diagnostic shows its line and the
    findings can be put in source order (files in the order they were read).
    """

    main: str | None = None
    _lines: dict[str, list[str]] = attrs.field(factory=dict, init=False)
    _order: dict[str, int] = attrs.field(factory=dict, init=False)
    """Each file's place in reading order (its last reading, if read twice)."""
    _reads: int = attrs.field(default=0, init=False)
    _found: list[Diagnostic] = attrs.field(factory=list, init=False)

    @classmethod
    def of_texts(cls, texts: Iterable[tuple[str, str]]) -> DiagnosticSink:
        """A sink for the ``(origin, text)`` files of a checked ruleset; the first is the main one."""
        sink = cls()
        for origin, text in texts:
            sink.read(origin, text)
        return sink

    def read(self, origin: str, text: str) -> None:
        """Remember a file's lines, for the caret display and the source order."""
        if self.main is None:
            self.main = origin
        self._lines[origin] = text.splitlines()
        self._order[origin] = self._reads
        self._reads += 1

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        span: Span | None,
        hint: str | None = None,
    ) -> None:
        self._found.append(
            Diagnostic.at(code, severity, message, span, self._lines, origin=self.main, hint=hint)
        )

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.add(code, "error", message, span, hint)

    def warning(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.add(code, "warning", message, span, hint)

    def note(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.add(code, "info", message, span, hint)

    def keep(self, diagnostic: Diagnostic) -> None:
        """Add a diagnostic made elsewhere (by the checker, for ``check`` to pass on)."""
        self._found.append(diagnostic)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Everything found, in the order it was found."""
        return tuple(self._found)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self._found if d.severity == "error")

    def in_source_order(self) -> list[Diagnostic]:
        """Everything found, by file (in reading order), line, column and code."""
        order = self._order

        def key(diagnostic: Diagnostic) -> tuple[int, int, int, str]:
            return (
                order.get(diagnostic.origin or "", len(order)),
                diagnostic.line or 0,
                diagnostic.column or 0,
                diagnostic.code,
            )

        return sorted(self._found, key=key)

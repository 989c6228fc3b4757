"""The names a ruleset declares: its header, facts, options, causes, sources and groups.

Declarations are read before any rule, so that every use can be checked
against them; a name declared twice in one namespace is an error.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from cramprules import nodes
from cramprules.checker._sink import DiagnosticSink
from cramprules.model import CauseSpec, FactSpec, OptionSpec, SourceSpec
from cramprules.names import closest

__all__ = ["STATUSES", "Declarations", "check_sources", "check_status", "declare", "words"]

STATUSES = ("production", "testing", "retired")


@attrs.frozen
class Declarations:
    """What the statements of a ruleset declare, in declaration order."""

    header: nodes.RulesetHeader | None
    """The first ``ruleset`` line, if any."""
    facts: dict[str, FactSpec]
    options: dict[str, OptionSpec]
    causes: dict[str, CauseSpec]
    sources: dict[str, SourceSpec]
    groups: dict[str, str]


def words(name: str) -> str:
    """A name as words, the label of an option or cause that gives none."""
    return name.replace("_", " ")


def declare(statements: Iterable[nodes.Statement], sink: DiagnosticSink) -> Declarations:
    """Every declaration among ``statements``; problems go to ``sink``."""
    header: nodes.RulesetHeader | None = None
    facts: dict[str, FactSpec] = {}
    options: dict[str, OptionSpec] = {}
    causes: dict[str, CauseSpec] = {}
    sources: dict[str, SourceSpec] = {}
    groups: dict[str, str] = {}
    seen: dict[str, tuple[str, nodes.Span | None]] = {}

    def claim(name: str, kind: str, span: nodes.Span | None, namespace: str) -> bool:
        key = f"{namespace}:{name}"
        if key in seen:
            first_kind, first = seen[key]
            where = f" at {first}" if first else ""
            sink.error(
                "duplicate-name",
                f"'{name}' is already declared as a {first_kind}{where}",
                span,
                hint="rename one of them, or remove the second declaration",
            )
            return False
        seen[key] = (kind, span)
        return True

    for statement in statements:
        if isinstance(statement, nodes.RulesetHeader):
            if header is not None:
                sink.error(
                    "duplicate-ruleset",
                    "this file already names its ruleset",
                    statement.span,
                    hint="keep one 'ruleset' line",
                )
                continue
            header = statement
            if statement.status is not None:
                check_status(statement.status, statement.span, sink)
        elif isinstance(statement, nodes.SourceDecl):
            if claim(statement.name, "source", statement.span, "source"):
                sources[statement.name] = SourceSpec(
                    statement.name, statement.label, statement.url, span=statement.span
                )
        elif isinstance(statement, nodes.FactDecl):
            if claim(statement.name, "fact", statement.span, "value"):
                facts[statement.name] = _fact(statement, sink)
        elif isinstance(statement, nodes.GroupDecl):
            if claim(statement.name, "group", statement.span, "group"):
                groups[statement.name] = statement.label
        elif isinstance(statement, nodes.OptionDecl):
            if claim(statement.name, "option", statement.span, "option"):
                options[statement.name] = OptionSpec(
                    statement.name,
                    statement.label or words(statement.name),
                    statement.group,
                    span=statement.span,
                )
        elif isinstance(statement, nodes.CauseDecl):
            if claim(statement.name, "cause", statement.span, "value"):
                causes[statement.name] = CauseSpec(
                    statement.name,
                    statement.label or words(statement.name),
                    statement.sources,
                    span=statement.span,
                )
    for cause in causes.values():
        check_sources(cause.sources, cause.span, sources, sink)
    for option in options.values():
        if option.group is not None and option.group not in groups:
            guess = closest(option.group, groups)
            sink.error(
                "unknown-group",
                f"option '{option.name}' is in group '{option.group}', which is not declared",
                option.span,
                hint=f"did you mean '{guess}'?"
                if guess
                else f'declare it: group {option.group} "Its heading"',
            )
    return Declarations(header, facts, options, causes, sources, groups)


def _fact(decl: nodes.FactDecl, sink: DiagnosticSink) -> FactSpec:
    if isinstance(decl.type, nodes.BoolType):
        return FactSpec(
            decl.name, "bool", decl.question, unit=decl.unit, derived=decl.derived, span=decl.span
        )
    if isinstance(decl.type, nodes.NumberType):
        low, high = decl.type.low, decl.type.high
        if low is not None and high is not None and low > high:
            sink.error(
                "bad-range",
                f"the range {low}..{high} of '{decl.name}' is empty",
                decl.span,
                hint=f"write the smaller bound first: {high}..{low}",
            )
        return FactSpec(
            decl.name,
            "number",
            decl.question,
            low,
            high,
            unit=decl.unit,
            derived=decl.derived,
            span=decl.span,
        )
    values = decl.type.values
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        sink.error(
            "duplicate-value",
            f"'{decl.name}' lists {', '.join(duplicates)} more than once",
            decl.span,
        )
    return FactSpec(
        decl.name,
        "enum",
        decl.question,
        values=tuple(dict.fromkeys(values)),
        unit=decl.unit,
        derived=decl.derived,
        span=decl.span,
    )


def check_sources(
    cited: Iterable[str], span: nodes.Span | None, sources: dict[str, SourceSpec], sink: DiagnosticSink
) -> None:
    """Every name in ``cited`` must be a declared source."""
    for source in cited:
        if source not in sources:
            guess = closest(source, sources)
            sink.error(
                "unknown-source",
                f"'{source}' is not a declared source",
                span,
                hint=f"did you mean '{guess}'?"
                if guess
                else f'declare it: source {source} "Who or what it is"',
            )


def check_status(status: str, span: nodes.Span | None, sink: DiagnosticSink) -> None:
    """A status must be one of :data:`STATUSES`."""
    if status in STATUSES:
        return
    guess = closest(status, STATUSES)
    sink.error(
        "unknown-status",
        f"'{status}' is not a status; a status is production, testing or retired",
        span,
        hint=f"did you mean '{guess}'?" if guess else None,
    )

"""Resolves names and checks a ruleset, producing a :class:`~cramprules.model.Program`.

This is where the language's promises are kept: undeclared names are
inferred from use, but a name one or two edits from a declared one is an
error that suggests it; includes stay inside the ruleset's directory;
``extends`` brings in a base ruleset; rules are ordered so that causes are
concluded before they are tested, and a cycle is an error.  Every problem is
collected, so an author sees them all at once.

The public surface is what this package exports; its modules are internal,
one per step of :func:`check`:

- ``_sources``: gathers the files (include, extends, plugin extensions);
- ``_declarations``: the header, facts, options, causes, sources, groups;
- ``_vocabulary`` and ``_conditions``: what each name is, inferred from use;
- ``_rules``: rules and overrides; ``_order``: the order rules run in (pure);
- ``_assertions``: invariants and examples;
- ``_sink``: the :class:`DiagnosticSink` all of them, and ``check``, report to.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from cramprules import nodes
from cramprules.checker._assertions import check_names, read_examples, read_invariants
from cramprules.checker._declarations import STATUSES, declare, words
from cramprules.checker._order import rule_order
from cramprules.checker._rules import check_overrides, is_active, read_rules, specificity
from cramprules.checker._sink import DiagnosticSink
from cramprules.checker._sources import (
    MAX_INCLUDE_DEPTH,
    BaseResolver,
    Extensions,
    Opener,
    SourceText,
    default_name,
    gather,
    read_file,
)
from cramprules.checker._vocabulary import Vocabulary
from cramprules.exceptions import RulesetError, RulesetSyntaxError
from cramprules.model import CauseSpec, FactSpec, OptionSpec, Program, RuleSpec

__all__ = [
    "MAX_INCLUDE_DEPTH",
    "STATUSES",
    "BaseResolver",
    "DiagnosticSink",
    "Extensions",
    "Opener",
    "SourceText",
    "check",
    "read_file",
    "specificity",
]


def check(
    main: SourceText,
    *,
    extensions: Extensions | Sequence[SourceText] = (),
    resolve_base: BaseResolver | None = None,
    functions: Collection[str] = (),
    include_testing: bool = False,
    opener: Opener = read_file,
) -> Program:
    """Check ``main`` with its includes, its base and the plugin ``extensions``.

    ``opener`` reads included files (default: from disk).

    Raises :class:`~cramprules.exceptions.RulesetError` with every error
    found; warnings and notes are kept in the program's ``diagnostics``.
    """
    sink = DiagnosticSink(main=main.origin)
    gathered = gather(main, extensions, resolve_base, sink, opener)
    statements = gathered.statements
    declared = declare(statements, sink)
    names = Vocabulary(declared, functions)
    rules = read_rules(statements, names, sink, main=main.origin)
    active = tuple(r for r in rules if is_active(r, include_testing=include_testing))
    excluded = tuple(r for r in rules if not is_active(r, include_testing=include_testing))
    check_overrides(rules, sink)
    order = _order(active, sink)
    invariants = read_invariants(statements, names, sink)
    examples = read_examples(statements, names, sink)
    check_names(names, sink)
    errors = sink.errors
    if errors:
        if all(d.code == "syntax" for d in errors):
            raise RulesetSyntaxError(errors)
        raise RulesetError(errors)
    header = declared.header or nodes.RulesetHeader(name=default_name(main.origin))
    return Program(
        name=header.name,
        title=header.title,
        version=header.version,
        author=header.author,
        reviewed=header.reviewed,
        status=header.status or "production",
        facts=_facts(names),
        options={
            **declared.options,
            **{n: OptionSpec(n, words(n), inferred=True, span=s) for n, s in names.inferred_options.items()},
        },
        causes={
            **declared.causes,
            **{n: CauseSpec(n, words(n), inferred=True, span=s) for n, s in names.inferred_causes.items()},
        },
        sources=dict(declared.sources),
        groups=dict(declared.groups),
        rules=active,
        excluded=excluded,
        order=order,
        functions=tuple(sorted(names.used_functions)),
        invariants=invariants,
        examples=examples,
        texts=gathered.texts,
        diagnostics=sink.diagnostics,
        documents=gathered.documents,
    )


def _order(rules: tuple[RuleSpec, ...], sink: DiagnosticSink) -> tuple[int, ...]:
    """The order to run ``rules`` in; a cycle is an error (and source order stands in)."""
    order = rule_order(rules)
    cycle = order.cycle
    if cycle is not None:
        path = " -> ".join(rules[i].name for i in cycle.rules)
        sink.error(
            "rule-cycle",
            f"these rules depend on each other in a cycle: {path}",
            rules[cycle.rules[0]].span,
            hint="; ".join(s for s in cycle.reasons if s) + ". Break the cycle so no cause depends on itself",
        )
    return order.indices


def _facts(names: Vocabulary) -> dict[str, FactSpec]:
    """The declared facts, then the inferred ones."""
    facts = dict(names.facts)
    for name, inferred in names.inferred.items():
        facts[name] = FactSpec(
            name,
            inferred.kind,
            values=tuple(inferred.values),
            inferred=True,
            span=inferred.span,
        )
    return facts

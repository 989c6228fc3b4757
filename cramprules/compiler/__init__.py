"""Compiles a checked :class:`~cramprules.model.Program` into Python functions.

Each ruleset becomes generated Python source, compiled once: evaluation never
walks the syntax tree.  :mod:`._deciders` generates the functions that say
which rules fired, :mod:`._decisions` the conflict resolution that says which
advice stands, and :mod:`._functions` wraps plugin functions for both.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any as AnyType

import attrs

from cramprules import claims as _claims
from cramprules.claims import ClaimSpec
from cramprules.compiler._deciders import CHUNK, Deciders, compile_deciders
from cramprules.compiler._decisions import Decisions, compile_decisions
from cramprules.compiler._functions import Functions, checked_function
from cramprules.model import Program
from cramprules.outcomes import Recommendation, Referral

__all__ = [
    "CHUNK",
    "Compiled",
    "Deciders",
    "Decisions",
    "Functions",
    "checked_function",
    "compile_deciders",
    "compile_decisions",
    "compile_program",
]


@attrs.frozen
class Compiled:
    """Everything evaluation needs, built once per ruleset.

    The deciders say which rules fired; the claims and their generated
    decisions say which advice stands; the templates are the shared values of
    claims whose rule simply fires; ``functions`` are the plugin functions,
    checked, for the interpreter.
    """

    run: Callable[[Mapping[str, object]], tuple[tuple[AnyType, ...], tuple[int, ...]]]
    decide: Callable[[tuple[AnyType, ...]], tuple[int, ...]]
    claims: tuple[ClaimSpec, ...]
    decisions: Decisions = attrs.field(repr=False)
    templates: Mapping[int, Recommendation | Referral] = attrs.field(repr=False)
    functions: Mapping[str, Callable[..., object]] = attrs.field(repr=False)
    source: str = attrs.field(repr=False)


def compile_program(program: Program, functions: Functions | None = None, *, chunk: int = CHUNK) -> Compiled:
    """Compile a checked program: its deciders, its claims and their decisions.

    ``chunk`` is how many rules go into one generated function (tests make it
    small to exercise the chunked code on small rulesets)."""
    functions = functions or {}
    deciders = compile_deciders(program, functions, chunk=chunk)
    claims = _claims.build_claims(program)
    recommendation_order, referral_order = _claims.report_orders(program, claims)
    templates = _claims.templates(program, claims)
    decisions = compile_decisions(
        claims, recommendation_order, referral_order, len(program.rules), templates, chunk=chunk
    )
    return Compiled(
        run=deciders.run,
        decide=deciders.decide,
        claims=claims,
        decisions=decisions,
        templates=types.MappingProxyType(templates),
        functions=types.MappingProxyType(
            {
                name: checked_function(name, fn, plugin, result="any")
                for name, (fn, plugin) in functions.items()
            }
        ),
        source=deciders.source,
    )

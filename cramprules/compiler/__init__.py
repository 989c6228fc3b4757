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
from cramprules.compiler._deciders import (
    CHUNK,
    Deciders,
    Recipe,
    compile_deciders,
    compile_parts,
    generate_deciders,
    lazy_parts,
    load_deciders,
    make_constants,
)
from cramprules.compiler._decisions import Decisions, compile_decisions, generate_decisions, load_decisions
from cramprules.compiler._functions import Functions, checked_function
from cramprules.model import Program
from cramprules.outcomes import Recommendation, Referral

__all__ = [
    "CHUNK",
    "Code",
    "Compiled",
    "Deciders",
    "Decisions",
    "Functions",
    "checked_function",
    "compile_deciders",
    "compile_decisions",
    "compile_program",
    "restore_program",
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
    code: Code | None = attrs.field(default=None, repr=False)
    """The code objects behind ``run``, ``decide`` and the decisions, for a cache."""


@attrs.frozen
class Code:
    """The compiled code of a ruleset, as a cache keeps it: code objects and
    the recipes of their constants, never live functions."""

    deciders: tuple[types.CodeType | None, ...] = attrs.field(repr=False)
    """One code object per part; None for a part compiled on its first call."""
    deciders_source: str = attrs.field(repr=False)
    recipes: tuple[Recipe, ...] = attrs.field(repr=False)
    decisions: tuple[types.CodeType, ...] = attrs.field(repr=False)
    decisions_source: str = attrs.field(repr=False)
    deciders_parts: tuple[str, ...] = attrs.field(default=(), repr=False)

    def complete(self, filename: str = "<cramprules>") -> Code:
        """Every part compiled (for a cache, which must not need the sources)."""
        if all(part is not None for part in self.deciders):
            return self
        compiled = tuple(
            part if part is not None else compile(self.deciders_parts[i], filename, "exec")
            for i, part in enumerate(self.deciders)
        )
        return attrs.evolve(self, deciders=compiled)


def compile_program(program: Program, functions: Functions | None = None, *, chunk: int = CHUNK) -> Compiled:
    """Compile a checked program: its deciders, its claims and their decisions.

    ``chunk`` is how many rules go into one generated function (tests make it
    small to exercise the chunked code on small rulesets)."""
    functions = functions or {}
    generated = generate_deciders(program, functions, chunk=chunk)
    claims = _claims.build_claims(program)
    recommendation_order, referral_order = _claims.report_orders(program, claims)
    templates = _claims.templates(program, claims)
    decision_parts = generate_decisions(
        claims, recommendation_order, referral_order, len(program.rules), chunk=chunk
    )
    filename = f"<cramprules {program.name}>"
    later = lazy_parts(generated.parts)
    code = Code(
        deciders=tuple(
            None if i in later else compile(part, filename, "exec") for i, part in enumerate(generated.parts)
        ),
        deciders_parts=generated.parts,
        deciders_source=generated.source,
        recipes=generated.recipes,
        decisions=compile_parts(decision_parts, "<cramprules decisions>"),
        decisions_source="\n\n".join(decision_parts),
    )
    return restore_program(program, claims, templates, code, functions)


def restore_program(
    program: Program,
    claims: tuple[ClaimSpec, ...],
    templates: Mapping[int, Recommendation | Referral],
    code: Code,
    functions: Functions | None = None,
) -> Compiled:
    """A :class:`Compiled` from code compiled before (by :func:`compile_program` or a cache).

    The constants of the code are made again from their recipes with the
    plugin functions of now, so nothing live is ever stored."""
    functions = functions or {}
    constants = make_constants(code.recipes, program, functions)
    deciders = load_deciders(program, code.deciders, constants, code.deciders_source, code.deciders_parts)
    decisions = load_decisions(code.decisions, templates, code.decisions_source)
    return Compiled(
        run=deciders.run,
        decide=deciders.decide,
        claims=claims,
        decisions=decisions,
        templates=types.MappingProxyType(dict(templates)),
        functions=types.MappingProxyType(
            {
                name: checked_function(name, fn, plugin, result="any")
                for name, (fn, plugin) in functions.items()
            }
        ),
        source=deciders.source,
        code=code,
    )

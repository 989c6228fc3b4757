"""Every name the rules of a ruleset may use, and what each one is.

A name is declared, concluded (a cause some rule suspects) or inferred from
its first use.  The vocabulary grows while the rules are read (the readers
decide and report; it only remembers); what it holds at the end becomes the
program's facts, options and causes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal

import attrs

from cramprules import nodes
from cramprules.checker._declarations import Declarations
from cramprules.checker._sink import DiagnosticSink
from cramprules.model import CauseSpec, FactKind, FactSpec, OptionSpec
from cramprules.names import NameIndex, is_probable_typo

__all__ = ["InferredFact", "Kind", "Vocabulary", "misspelt"]

Kind = Literal["bool", "number", "enum", "cause"]
"""What a name stands for: a fact kind (``bool``, ``number``, ``enum``) or ``cause``."""


@attrs.define
class InferredFact:
    """What the uses of an undeclared fact say about its type."""

    kind: FactKind
    span: nodes.Span | None
    values: list[str] = attrs.Factory(list)
    """For an enum: the values tested, in the order first seen."""


def _frozen(names: Collection[str]) -> frozenset[str]:
    return frozenset(names)


@attrs.define
class Vocabulary:
    """The declared names, and those concluded or inferred so far."""

    declared: Declarations
    functions: frozenset[str] = attrs.field(converter=_frozen)
    """The functions plugins offer."""
    inferred: dict[str, InferredFact] = attrs.field(factory=dict, init=False)
    inferred_options: dict[str, nodes.Span | None] = attrs.field(factory=dict, init=False)
    inferred_causes: dict[str, nodes.Span | None] = attrs.field(factory=dict, init=False)
    concluded: set[str] = attrs.field(factory=set, init=False)
    """Causes some rule suspects, declared or not."""
    used_functions: set[str] = attrs.field(factory=set, init=False)
    _indexes: dict[tuple[int, int], NameIndex] = attrs.field(factory=dict, init=False)
    _guard: NameIndex | None = attrs.field(default=None, init=False)

    @property
    def facts(self) -> dict[str, FactSpec]:
        return self.declared.facts

    @property
    def options(self) -> dict[str, OptionSpec]:
        return self.declared.options

    @property
    def causes(self) -> dict[str, CauseSpec]:
        return self.declared.causes

    def value_kind(self, name: str) -> Kind | None:
        """What a name is known to be: a fact kind, 'cause', or None (unknown)."""
        if name in self.facts:
            return self.facts[name].kind
        if name in self.causes or name in self.concluded:
            return "cause"
        if name in self.inferred:
            return self.inferred[name].kind
        return None

    def typo(self, name: str, declared: Iterable[str]) -> str | None:
        """The name in ``declared`` that ``name`` is probably a misspelling of."""
        if isinstance(declared, dict) and len(declared) > 50:
            # Large rulesets: an index instead of comparing with every name.
            key = id(declared), len(declared)
            index = self._indexes.get(key)
            if index is None:
                index = self._indexes[key] = NameIndex(declared)
            return index.typo_of(name)
        best = None
        for known in declared:
            if is_probable_typo(name, known):
                if best is None or len(known) < len(best):
                    best = known
        return best

    def typo_of_value_name(self, name: str) -> str | None:
        """The declared fact or cause, or concluded cause, that ``name`` is a misspelling of.

        Only asked once every cause is concluded (after the rules' actions
        are read), so the index is built once, on first use.
        """
        if self._guard is None:
            self._guard = NameIndex([*self.facts, *self.causes, *self.concluded])
        return self._guard.typo_of(name)


def misspelt(
    sink: DiagnosticSink,
    name: str,
    guess: str,
    kind: str,
    span: nodes.Span | None,
    *,
    new: str,
    declaration: str,
) -> None:
    """Report ``name`` as a probable misspelling of the ``kind`` ``guess``.

    The hint also says how to declare it, in case it is a ``new`` name after all.
    """
    sink.error(
        "typo-name",
        f"'{name}' is not declared, and it is close to the {kind} '{guess}'",
        span,
        hint=f"did you mean '{guess}'? If '{name}' is a new {new}, declare it: {declaration}",
    )

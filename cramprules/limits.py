"""How much input cramprules accepts: every limit in one frozen value.

Each limit bounds the memory and time one input can cost, so a ruleset or
a facts file from someone else cannot hang or exhaust the process.  The
defaults are far beyond any real ruleset or patient record; an application
that needs more (or less) passes its own: ``Engine(limits=Limits(max_rules=50_000))``.
docs/security.md lists them with the reasons for each default.
"""

from __future__ import annotations

import attrs

__all__ = ["DEFAULT_LIMITS", "Limits"]


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Limits.{attribute.name} must be a positive integer, not {value!r}")


@attrs.frozen
class Limits:
    """The most input cramprules reads, parses and evaluates; all positive integers."""

    max_source_chars: int = attrs.field(default=4_000_000, validator=_positive)
    """Characters in one ruleset file (the main file, an include or a plugin's fragment)."""
    max_rules: int = attrs.field(default=20_000, validator=_positive)
    """Rules in a whole ruleset, includes, base and extensions counted."""
    max_condition_terms: int = attrs.field(default=5_000, validator=_positive)
    """Facts, values, operators and calls in one condition (``if`` or ``unless``)."""
    max_include_depth: int = attrs.field(default=16, validator=_positive)
    """How deeply includes may nest."""
    max_fact_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=_positive)
    """Bytes in one facts file or on stdin (16 MiB)."""
    max_records: int = attrs.field(default=1_000, validator=_positive)
    """Records that ``eval`` and ``explain`` render one report each for (use ``batch`` for more)."""


DEFAULT_LIMITS = Limits()
"""The limits an :class:`~cramprules.engine.Engine` uses unless given others."""

"""cramprules-labs: blood tests as facts, and the causes of leg cramps they confirm.

A cause plugin, and the worked example of docs/plugins.md.  It uses three of
the seven hooks:

* ``cramprules_extend("leg_cramps")`` adds ``labs.cramp``: the lab facts with
  their units, the derived "below the range" facts, new lab-confirmed causes,
  and rules that also suspect the bundled ``magnesium_deficiency`` and
  ``mineral_loss`` and refer to a doctor;
* ``cramprules_derive_facts`` sets ``low_magnesium_lab`` and friends from the
  results, before evaluation.  The rules that drive advice and referrals test
  these yes/no facts, which ``cramprules check`` can reason about, so the
  bundled ruleset's invariants stay proved;
* ``cramprules_functions`` offers ``below(value, limit)``, which the rules
  that confirm a lab-only cause call on the result itself (so a consultation
  asks for the result).  A function is opaque to the invariant prover, so
  those rules conclude nothing that an invariant speaks of.

It registers only through its entry point (``[project.entry-points.cramprules]
labs = "cramprules_labs"``): this module is the plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from cramprules import hookimpl

if TYPE_CHECKING:
    from cramprules.ruleset import Ruleset

__all__ = ["FRAGMENT", "RANGES", "RULESET", "ReferenceRange", "below", "derive"]
__version__ = "0.1.0"

RULESET = "leg_cramps"
"""The ruleset this plugin extends."""

FRAGMENT = Path(__file__).with_name("labs.cramp")


@attrs.frozen
class ReferenceRange:
    """The lower limit of a usual adult reference range, and where it comes from."""

    fact: str
    derived: str
    low: float
    unit: str
    source: str


RANGES: tuple[ReferenceRange, ...] = (
    # MedlinePlus, Magnesium blood test: "1.7 to 2.2 mg/dL (0.85 to 1.10 mmol/L)".
    ReferenceRange("serum_magnesium", "low_magnesium_lab", 1.7, "mg/dL", "medlineplus_magnesium"),
    # StatPearls, Hypokalemia: "an acceptable lower limit for normal serum potassium is 3.5 mmol/L".
    ReferenceRange("serum_potassium", "low_potassium_lab", 3.5, "mmol/L", "statpearls_hypokalemia"),
    # StatPearls, Hypokalemia: severe "when the serum potassium level is less than 2.5 mmol/L".
    ReferenceRange("serum_potassium", "very_low_potassium_lab", 2.5, "mmol/L", "statpearls_hypokalemia"),
    # MedlinePlus, Calcium blood test: "8.5 to 10.2 mg/dL (2.13 to 2.55 mmol/L)".
    ReferenceRange("serum_calcium", "low_calcium_lab", 8.5, "mg/dL", "medlineplus_calcium"),
)
"""The ranges behind the derived facts; ``labs.cramp`` cites the same sources."""


def _number(value: object) -> float | None:
    """A lab value as a number, or None when it is unknown or not a number.

    Facts arrive as given (a CSV cell is text); a value that is not a number
    is left for the engine to reject with a clear FactError.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def below(value: object, limit: object) -> bool | None:
    """``value < limit``; unknown (None) when either is unknown."""
    a, b = _number(value), _number(limit)
    if a is None or b is None:
        return None
    return a < b


def derive(facts: Mapping[str, object], declared: Sequence[str] | Mapping[str, object]) -> dict[str, bool]:
    """The "below the range" facts for the results that are known."""
    out: dict[str, bool] = {}
    for reference in RANGES:
        if reference.derived not in declared:
            continue
        value = _number(facts.get(reference.fact))
        if value is not None:
            out[reference.derived] = value < reference.low
    return out


@hookimpl
def cramprules_extend(ruleset: str) -> list[Path] | None:
    return [FRAGMENT] if ruleset == RULESET else None


@hookimpl
def cramprules_functions() -> dict[str, Callable[..., object]]:
    return {"below": below}


@hookimpl
def cramprules_derive_facts(facts: Mapping[str, object], ruleset: Ruleset) -> dict[str, bool] | None:
    # Only rulesets that declare the derived facts (leg_cramps, and rulesets
    # that extend it) get them: deriving an undeclared fact is an error.
    return derive(facts, ruleset.facts) or None

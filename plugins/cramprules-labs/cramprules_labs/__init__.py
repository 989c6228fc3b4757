"""cramprules-labs: blood tests as facts, and the causes of leg cramps they confirm.

A cause plugin, and the worked example of docs/plugins.md.  It uses four
hooks:

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
  those rules conclude nothing that an invariant speaks of;
* ``cramprules_substances`` says what each result measures (molar mass and
  charge, the units results come in, their usual span), so that a result
  in mmol/L or mEq/L is converted to the fact's unit, and a bare number
  that only makes sense in another unit is an error suggesting it.

It registers only through its entry point (``[project.entry-points.cramprules]
labs = "cramprules_labs"``): this module is the plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from cramprules import hookimpl
from cramprules.units import Substance

if TYPE_CHECKING:
    from cramprules.ruleset import Ruleset

__all__ = [
    "FRAGMENT",
    "RANGES",
    "RULESET",
    "SUBSTANCES",
    "ReferenceRange",
    "below",
    "bound_facts",
    "derive",
]
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
    # MedlinePlus, Magnesium blood test: "The normal range for blood magnesium level is 1.7 to 2.2 mg/dL".
    ReferenceRange("serum_magnesium", "low_magnesium_lab", 1.7, "mg/dL", "medlineplus_magnesium"),
    # StatPearls, Hypokalemia: "an acceptable lower limit for normal serum potassium is 3.5 mmol/L".
    ReferenceRange("serum_potassium", "low_potassium_lab", 3.5, "mmol/L", "statpearls_hypokalemia"),
    # StatPearls, Hypokalemia: severe "when the serum potassium level is less than 2.5 mmol/L".
    ReferenceRange("serum_potassium", "very_low_potassium_lab", 2.5, "mmol/L", "statpearls_hypokalemia"),
    # MedlinePlus, Calcium blood test: "8.5 to 10.2 mg/dL".
    ReferenceRange("serum_calcium", "low_calcium_lab", 8.5, "mg/dL", "medlineplus_calcium"),
)
"""The ranges behind the derived facts, in the units their sources give them.

Each limit is compared with the result in that same unit (the fact's
declared unit; results in other units are converted first), so a limit is
exactly the cited one.  MedlinePlus prints the magnesium range as "1.7 to
2.2 mg/dL (0.85 to 1.10 mmol/L)", but those are not the same range (1.7
mg/dL is 0.70 mmol/L); the mg/dL figures, the ones the rules cite, are used.
"""

SUBSTANCES: dict[str, Substance] = {
    # Standard atomic weights (IUPAC, abridged): Mg 24.305, K 39.098, Ca 40.078 g/mol.
    # Usual spans: a guard against a number given in the wrong unit, not clinical limits.
    "serum_magnesium": Substance("magnesium", 24.305, 2, ("mg/dL", "mmol/L", "mEq/L"), (1.2, 6.0)),
    "serum_potassium": Substance("potassium", 39.098, 1, ("mmol/L", "mEq/L", "mg/dL"), (1.5, 9.0)),
    "serum_calcium": Substance("calcium", 40.078, 2, ("mg/dL", "mmol/L", "mEq/L"), (5.0, 15.0)),
}
"""What each lab fact measures: molar mass (g/mol), charge, the units results come in, usual span."""


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


def bound_facts(fact: str, comparator: str, bound: float) -> dict[str, bool]:
    """The "below the range" facts that a result known only as a bound decides.

    ``bound`` is in the fact's unit.  "< 1.0" mg/dL of magnesium is below
    1.7, so low; "> 1.0" could be anything above 1.0, so says nothing; "> 2.0"
    is not low.  Facts the bound does not decide are left out (unknown).
    """
    out: dict[str, bool] = {}
    for reference in RANGES:
        if reference.fact != fact:
            continue
        low = reference.low
        if (comparator == "<" and bound <= low) or (comparator == "<=" and bound < low):
            out[reference.derived] = True
        elif comparator in (">", ">=") and bound >= low:
            out[reference.derived] = False
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


@hookimpl
def cramprules_substances() -> dict[str, Substance]:
    return dict(SUBSTANCES)

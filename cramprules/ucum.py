"""Built-in plugin ``units``: converts UCUM quantities with pint (the ``units`` extra).

pint converts within a kind (mg/dL <-> mg/L, mmol/L <-> umol/L); a
:class:`~cramprules.units.Substance` bridges the kinds: mass <-> amount by
its molar mass, amount <-> equivalents by its charge.  UCUM writes
milliequivalents ``meq``; laboratories often write ``mEq``: both are read.

pint is imported on the first conversion, so a core install without it
loses nothing but conversions, and says how to get them.
"""

from __future__ import annotations

import functools
from typing import Any as AnyType
from typing import Literal

from cramprules.hookspecs import hookimpl
from cramprules.units import Substance

__all__ = ["Kind", "convert", "kind"]

Kind = Literal["mass", "amount", "equivalents"]
"""The kinds of concentration a lab result comes in: per volume of mass, of moles, of equivalents."""

_BASE = {"mass": "g/L", "amount": "mol/L", "equivalents": "eq/L"}


_UNREADABLE: tuple[type[BaseException], ...] = (ValueError, TypeError, AttributeError, KeyError, SyntaxError)
"""What pint raises for text that is not a unit (its own errors derive from these or from PintError)."""


@functools.cache
def _registry() -> AnyType:
    try:
        import pint
    except ImportError:  # pragma: no cover - depends on the install
        return None
    registry: AnyType = pint.UnitRegistry()
    registry.define("equivalent = [equivalent] = eq = Eq")
    return registry


def _errors() -> tuple[type[BaseException], ...]:
    import pint

    return (pint.errors.PintError, *_UNREADABLE)


def _quantity(value: float, unit: str) -> AnyType:
    registry = _registry()
    if registry is None:
        return None
    try:
        return registry.Quantity(value, unit)
    except _errors():  # pint raises many kinds for text it cannot read
        return None


def kind(unit: str) -> Kind | None:
    """The kind of concentration ``unit`` measures, or None (not a concentration, or not a unit)."""
    quantity = _quantity(1.0, unit)
    if quantity is None:
        return None
    for name, base in _BASE.items():
        if quantity.dimensionality == _registry().Quantity(1.0, base).dimensionality:
            return name  # type: ignore[return-value]
    return None


def convert(value: float, unit: str, to_unit: str, substance: Substance | None = None) -> float | None:
    """``value`` in ``unit`` expressed in ``to_unit``; None when pint or the substance cannot bridge them.

    Concentrations convert by a factor, which pint works out once per pair of
    units (parsing a unit costs far more than the multiplication).
    """
    plan = _plan(unit, to_unit, substance)
    if plan is False:
        return None
    if plan is True:  # not a plain factor (a unit with an offset): pint every time
        return _convert(value, unit, to_unit, substance)
    return value * plan


@functools.lru_cache(maxsize=512)
def _plan(unit: str, to_unit: str, substance: Substance | None) -> float | bool:
    """The factor from ``unit`` to ``to_unit``; False if they do not convert; True if not by a factor."""
    one = _convert(1.0, unit, to_unit, substance)
    if one is None:
        return False
    zero = _convert(0.0, unit, to_unit, substance)
    return one if zero == 0.0 else True


def _convert(value: float, unit: str, to_unit: str, substance: Substance | None) -> float | None:
    quantity = _quantity(value, unit)
    if quantity is None or _quantity(1.0, to_unit) is None:
        return None
    try:
        return float(quantity.to(to_unit).magnitude)  # the same kind: pint alone
    except _errors():
        pass  # another kind: bridged below, if the substance allows
    source, target = kind(unit), kind(to_unit)
    if source is None or target is None or substance is None:
        return None
    per_litre = float(quantity.to(_BASE[source]).magnitude)  # g/L, mol/L or eq/L
    moles = {
        "mass": per_litre / substance.molar_mass,
        "amount": per_litre,
        "equivalents": per_litre / substance.charge,
    }[source]
    bridged = {"mass": moles * substance.molar_mass, "amount": moles, "equivalents": moles * substance.charge}
    return float(_quantity(bridged[target], _BASE[target]).to(to_unit).magnitude)


@hookimpl(trylast=True)
def cramprules_convert_units(
    value: float, unit: str, to_unit: str, substance: Substance | None
) -> float | None:
    return convert(value, unit, to_unit, substance)

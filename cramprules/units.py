"""Quantities: number facts that declare a unit, and values that arrive with one.

A number fact may declare its unit (``fact serum_magnesium: number 0..20 unit
"mg/dL"``).  Its value may then come as a bare number, which means the
declared unit, or with a unit of its own, written in UCUM:

* text, from a command line or a CSV cell: ``"0.7 mmol/L"``;
* a mapping, from JSON, YAML or a FHIR loader: ``{"value": 0.7, "unit": "mmol/L"}``.

Before evaluation every such value becomes a plain number in the declared
unit.  The core converts nothing itself: it asks the plugins
(``cramprules_convert_units``; the built-in ``units`` plugin does it with
pint), and a plugin tells it about a substance (``cramprules_substances``:
molar mass and charge for mass <-> molar <-> equivalent conversions, the units
results come in, and the usual span of results).  A bare number outside
that usual span is an error that suggests the unit the person probably
meant: ``serum_magnesium = 0.7`` reads as 0.7 mg/dL, a near-fatal level, but
0.7 mmol/L is an ordinary result.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections.abc import Callable, Mapping

import attrs

from cramprules.exceptions import FactError, show_value
from cramprules.facts import NUMBER_PATTERN, parse_number
from cramprules.model import FactSpec

__all__ = [
    "Converter",
    "Normalizer",
    "Substance",
    "format_number",
    "normalizer",
    "split_quantity",
]


@attrs.frozen
class Substance:
    """What converting results of one analyte needs, supplied by the plugin that declares its fact.

    ``molar_mass`` is in g/mol and ``charge`` is the ion's valence (so 1 mmol
    of Mg2+ is 2 mEq).  ``units`` are those results are usually reported in,
    tried in order when a bare number looks wrong; ``usual`` is the span, in
    the fact's declared unit, outside which a bare number is probably in
    another unit.
    """

    name: str
    molar_mass: float
    charge: int = 1
    units: tuple[str, ...] = ()
    usual: tuple[float, float] | None = None


Converter = Callable[[float, str, str, str], "float | None"]
"""``convert(value, unit, to_unit, fact)``: the value in ``to_unit``, or None when nothing converts it."""

Normalizer = Callable[[Mapping[str, object]], Mapping[str, object]]

_QUANTITY = re.compile(rf"\s*({NUMBER_PATTERN})\s*(\S.*?)?\s*\Z")  # the one number syntax


def format_number(value: float) -> str:
    """A number as a person writes it: 1.7, not 1.7000000000000002."""
    text = f"{value:.6g}"
    return text if "e" not in text else repr(value)


def split_quantity(value: object) -> tuple[object, str | None]:
    """``(number or the value as given, unit or None)`` for any input value.

    ``"0.7 mmol/L"`` and ``{"value": 0.7, "unit": "mmol/L"}`` give
    ``(0.7, "mmol/L")``; anything without a unit comes back unchanged with
    ``None``.  A mapping with other keys, or without a number, is an error
    left to the caller (it comes back as given).
    """
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match and match.group(2):
            return float(match.group(1)), match.group(2)
        return value, None
    if isinstance(value, Mapping) and set(value) <= {"value", "unit"} and "value" in value:
        number, unit = value["value"], value.get("unit")
        if isinstance(unit, str) and unit.strip():
            return number, unit.strip()
        return number, None
    return value, None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        number = parse_number(value)
        return None if number is None else float(number)
    return None


def normalizer(
    specs: Mapping[str, FactSpec], convert: Converter, substances: Mapping[str, Substance]
) -> Normalizer | None:
    """A function that puts every quantity into its fact's declared unit; None if no fact has a unit.

    Values it cannot read are passed on unchanged, for the usual checks to
    reject with the usual message.
    """
    units = {name: spec.unit for name, spec in specs.items() if spec.kind == "number" and spec.unit}
    if not units:
        return None
    checked = {name: substances[name] for name in units if name in substances}
    usual = {name: s.usual for name, s in checked.items() if s.usual is not None}
    plan = tuple((name, declared, usual.get(name)) for name, declared in units.items())

    def normalize(facts: Mapping[str, object]) -> Mapping[str, object]:
        out: dict[str, object] | None = None
        get = facts.get
        for name, declared, span in plan:
            value = get(name)
            kind = value.__class__
            if kind is float or kind is int:  # the common case: a bare number in the declared unit
                if span is not None and not span[0] <= value <= span[1]:  # type: ignore[operator]
                    _check_usual(name, float(value), declared, checked[name], convert)  # type: ignore[arg-type]
                continue
            if value is None or kind is bool:
                continue
            number, unit = split_quantity(value)
            if unit is None:
                if span is not None:
                    bare = _number(number)
                    if bare is not None and math.isfinite(bare):
                        _check_usual(name, bare, declared, checked[name], convert)
                if isinstance(value, Mapping):
                    out = out if out is not None else dict(facts)
                    out[name] = number
                continue
            amount = _number(number)
            if amount is None or not math.isfinite(amount):
                raise FactError(
                    f"{name} = {show_value(value)} is not valid: the value of a quantity must be a number",
                    fact=name,
                )
            out = out if out is not None else dict(facts)
            out[name] = _convert(name, amount, unit, declared, convert)
        return facts if out is None else out

    return normalize


def _convert(name: str, amount: float, unit: str, declared: str, convert: Converter) -> float:
    if unit == declared:
        return amount
    result = convert(amount, unit, declared, name)
    if result is None:
        hint = (
            "; no units library is installed: pip install 'cramprules[units]'"
            if importlib.util.find_spec("pint") is None
            else ""
        )
        raise FactError(
            f"{name} = {format_number(amount)} {unit}: cannot convert {unit!r} to {declared}; "
            f"give {name} in {declared} or another UCUM unit of the same quantity{hint}",
            fact=name,
        )
    return float(f"{result:.6g}")


def _check_usual(name: str, bare: float, declared: str, substance: Substance, convert: Converter) -> None:
    assert substance.usual is not None
    low, high = substance.usual
    if low <= bare <= high:
        return
    for unit in substance.units:
        if unit == declared:
            continue
        converted = convert(bare, unit, declared, name)
        if converted is not None and low <= converted <= high:
            shown = format_number(bare)
            raise FactError(
                f"{name} = {shown} is implausible in {declared} (results are usually "
                f"{format_number(low)} to {format_number(high)} {declared}); did you mean {shown} {unit} "
                f'(= {format_number(converted)} {declared})? Give the unit: {name}="{shown} {unit}", '
                f'or {name}="{shown} {declared}" if that is the result',
                fact=name,
                suggestion=unit,
            )

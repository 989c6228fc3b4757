"""Input facts: checking them against their declarations and coercing text.

``"yes"``, ``"no"`` and ``"7"`` arrive from command lines and CSV files; they
are read by the fact's declared type.  A value that does not fit raises
:class:`~cramprules.exceptions.FactError` naming the fact and what it takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from cramprules.exceptions import FactError
from cramprules.model import FactSpec
from cramprules.names import closest

__all__ = ["RECORD_ID", "UNKNOWN_WORDS", "FactValue", "coercer", "split_record", "unknown_fact_error"]

FactValue = bool | int | float | str | None

TRUE_WORDS = frozenset({"yes", "y", "true", "t", "1", "on"})
FALSE_WORDS = frozenset({"no", "n", "false", "f", "0", "off"})
UNKNOWN_WORDS = frozenset({"", "unknown", "?", "don't know", "dont know", "not sure", "none", "null"})

RECORD_ID = "@id"
"""The key under which a loader names whose record it is (``"Patient/123"``): not a fact."""


def split_record(record: Mapping[str, object]) -> tuple[str | None, dict[str, object]]:
    """``(who, facts)``: the record's ``@id`` (if a loader gave one) and the facts without it."""
    if RECORD_ID not in record:
        return None, dict(record)
    facts = dict(record)
    who = facts.pop(RECORD_ID)
    return (str(who) if who is not None else None), facts


def coercer(spec: FactSpec) -> Callable[[object], FactValue]:
    """A function that turns any acceptable input for ``spec`` into its value."""
    if spec.kind == "bool":
        return lambda value: _bool(spec, value)
    if spec.kind == "number":
        return lambda value: _number(spec, value)
    return lambda value: _enum(spec, value)


def _bool(spec: FactSpec, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        if word in UNKNOWN_WORDS:
            return None
    raise _wrong(spec, value, "yes or no (true/false)")


def _number(spec: FactSpec, value: object) -> int | float | None:
    number: int | float
    if value is None:
        return None
    if isinstance(value, bool):
        raise _wrong(spec, value, spec.describe_type())
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in UNKNOWN_WORDS:
            return None
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise _wrong(spec, value, spec.describe_type()) from None
    else:
        raise _wrong(spec, value, spec.describe_type())
    if isinstance(number, float):
        if math.isnan(number):
            raise _wrong(spec, value, spec.describe_type())
        if number.is_integer() and abs(number) < 2**53:
            number = int(number) if isinstance(value, str) else number
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        unit = f" {spec.unit}" if spec.unit else ""
        raise FactError(
            f"{spec.name} = {_show(value)} is out of range: it must be between "
            f"{spec.low} and {spec.high}{unit}",
            fact=spec.name,
        )
    return number


def _enum(spec: FactSpec, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        word = value.strip()
        if word in spec.values:
            return word
        lowered = {v.lower(): v for v in spec.values}
        if word.lower() in lowered:
            return lowered[word.lower()]
        if word.lower() in UNKNOWN_WORDS:
            return None
        guess = closest(word, spec.values)
        hint = f"; did you mean '{guess}'?" if guess else ""
        raise FactError(
            f"{spec.name} = {_show(value)} is not allowed: it must be one of {', '.join(spec.values)}{hint}",
            fact=spec.name,
            suggestion=guess,
        )
    raise _wrong(spec, value, spec.describe_type())


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _wrong(spec: FactSpec, value: object, wanted: str) -> FactError:
    return FactError(
        f"{spec.name} = {_show(value)} is not valid: {spec.name} takes {wanted}",
        fact=spec.name,
    )


def unknown_fact_error(
    names: Iterable[object], specs: dict[str, FactSpec], causes: Iterable[str]
) -> FactError:
    """The error for input names the ruleset does not declare."""
    cause_names = set(causes)
    for name in sorted(names, key=str):
        if not isinstance(name, str):
            return FactError(f"fact names are text, not {type(name).__name__} {name!r}", fact=str(name))
        if name in cause_names:
            return FactError(
                f"'{name}' is a cause that rules conclude, not an input fact",
                fact=name,
            )
        inputs = [n for n, s in specs.items() if not s.derived] or list(specs)
        guess = closest(name, inputs)
        if guess:
            return FactError(f"unknown fact '{name}'; did you mean '{guess}'?", fact=name, suggestion=guess)
        known = ", ".join(sorted(specs)) if len(specs) <= 30 else f"{len(specs)} facts"
        return FactError(f"unknown fact '{name}'; this ruleset knows: {known}", fact=name)
    raise ValueError("no unknown names given")  # pragma: no cover

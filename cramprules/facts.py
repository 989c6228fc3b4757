"""Input facts: checking them against their declarations and coercing text.

``"yes"``, ``"no"`` and ``"7"`` arrive from command lines and CSV files; they
are read by the fact's declared type.  A value that does not fit raises
:class:`~cramprules.exceptions.FactError` naming the fact and what it takes.

Numbers written as text have one syntax everywhere (command line, CSV,
JSON strings, the number part of ``"0.7 mmol/L"``): ASCII digits with an
optional sign, decimal point and exponent, as :data:`NUMBER_PATTERN` says:
``7``, ``-2.5``, ``.5``, ``1e3``.  No underscores (``1_0``), no digits of
other scripts (``١٠``, ``１０``), no ``inf`` or ``nan``: a value that looks
like a number to one reader and not to another is refused, not guessed.
Numbers that arrive as numbers may be ``int``, ``float``, ``Decimal`` or a
numpy scalar; a yes/no fact also takes 0 and 1.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping

from cramprules.exceptions import FactError, shorten, show_value
from cramprules.model import FactSpec
from cramprules.names import closest

__all__ = [
    "NUMBER_PATTERN",
    "RECORD_ID",
    "UNKNOWN_WORDS",
    "FactValue",
    "coercer",
    "describe_kind",
    "parse_number",
    "split_record",
    "unknown_fact_error",
]

NUMBER_PATTERN = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
"""The one syntax of a number written as text (ASCII only; see the module's docstring)."""

_NUMBER = re.compile(NUMBER_PATTERN)
_INTEGER = re.compile(r"[-+]?[0-9]+")

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


def describe_kind(value: object) -> str:
    """What kind of value this is, in words: "a number", "a list", "a text" (never "a int")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a yes/no value"
    if isinstance(value, (int, float, decimal.Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def coercer(spec: FactSpec) -> Callable[[object], FactValue]:
    """A function that turns any acceptable input for ``spec`` into its value."""
    if spec.kind == "bool":
        return lambda value: _bool(spec, value)
    if spec.kind == "number":
        return lambda value: _number(spec, value)
    return lambda value: _enum(spec, value)


def parse_number(text: str) -> int | float | None:
    """The number ``text`` writes in the one syntax (spaces around allowed), or None if it is not one."""
    text = text.strip()
    if len(text) > 400 or not _NUMBER.fullmatch(text):  # 400: no real measurement is longer
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    number = float(text)
    return number if math.isfinite(number) else None


def _as_number(value: object) -> int | float | None:
    """A number given as a number (int, float, Decimal, a numpy scalar), as int or float; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return math.nan
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, numbers.Integral):  # numpy integers register here
        return int(value)
    if isinstance(value, numbers.Real):  # numpy floats
        return float(value)
    return None


def _bool(spec: FactSpec, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":  # numpy.bool_
        return bool(value)
    number = _as_number(value)
    if number is not None and number in (0, 1):  # 0/1 as on the command line
        return bool(number)
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
    given = _as_number(value)
    if given is not None:
        number = given
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in UNKNOWN_WORDS:
            return None
        parsed = parse_number(text)
        if parsed is None:
            looks_numeric = any(ch.isdigit() for ch in text[:400])
            how = " written with ASCII digits 0-9 and '.', such as 7 or 2.5" if looks_numeric else ""
            raise _wrong(spec, value, spec.describe_type() + how)
        number = parsed
    else:
        raise _wrong(spec, value, spec.describe_type())
    if isinstance(number, float):
        if not math.isfinite(number):
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
    return show_value(value)


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
            return FactError(
                f"fact names are text, not {type(name).__name__} {show_value(name)}", fact=shorten(str(name))
            )
        shown = shorten(name)
        if name in cause_names:
            return FactError(
                f"'{shown}' is a cause that rules conclude, not an input fact",
                fact=name,
            )
        inputs = [n for n, s in specs.items() if not s.derived] or list(specs)
        guess = closest(name, inputs) if len(name) <= 100 else None
        if guess:
            return FactError(f"unknown fact '{shown}'; did you mean '{guess}'?", fact=name, suggestion=guess)
        known = ", ".join(sorted(specs)) if len(specs) <= 30 else f"{len(specs)} facts"
        return FactError(f"unknown fact '{shown}'; this ruleset knows: {known}", fact=name)
    raise ValueError("no unknown names given")  # pragma: no cover

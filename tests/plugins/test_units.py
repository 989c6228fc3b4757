"""Quantities: number facts with a unit, values with units, and the two hooks that convert them.

``cramprules_substances`` says what a fact measures (molar mass, charge,
usual units and span); ``cramprules_convert_units`` converts, the built-in
``units`` plugin with pint answering last.
"""

from __future__ import annotations

import math
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cramprules
from cramprules import FactError, hookimpl
from cramprules.cli import App, cli
from cramprules.ucum import convert, kind
from cramprules.units import Substance, split_quantity

MAGNESIUM = Substance("magnesium", 24.305, 2, ("mg/dL", "mmol/L", "mEq/L"), (1.2, 6.0))
SOURCE = 'fact mg: number 0..20 unit "mg/dL"\nfact pain: number 0..10\nif mg < 1.7 then suspect low_mg'


class Substances:
    @hookimpl
    def cramprules_substances(self):
        return {"mg": MAGNESIUM}


class Doubling:
    """A converter that knows one made-up unit, and says None to the rest."""

    calls: list[tuple[float, str, str, object]]

    def __init__(self) -> None:
        self.calls = []

    @hookimpl
    def cramprules_convert_units(self, value, unit, to_unit, substance):
        self.calls.append((value, unit, to_unit, substance))
        return value * 2 if unit == "half-mg/dL" else None


def ruleset(*plugins: object, disable: tuple[str, ...] = ()) -> cramprules.Ruleset:
    return cramprules.Engine(plugins=plugins, autoload=False, disable=disable).parse_ruleset(SOURCE)


# ------------------------------------------------------------------ reading a value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.7 mmol/L", (0.7, "mmol/L")),
        (" 1.4mEq/L ", (1.4, "mEq/L")),
        ("2e-1 g/L", (0.2, "g/L")),
        ({"value": 0.7, "unit": "mmol/L"}, (0.7, "mmol/L")),
        ({"value": 0.7}, (0.7, None)),
        ("0.7", ("0.7", None)),
        (0.7, (0.7, None)),
        ("yes", ("yes", None)),
        ({"value": 1, "unit": "mg/dL", "extra": 1}, ({"value": 1, "unit": "mg/dL", "extra": 1}, None)),
    ],
)
def test_split_quantity(value, expected) -> None:
    assert split_quantity(value) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (2.0, 2.0),
        ("2.0", 2),
        ("2.0 mg/dL", 2.0),
        ({"value": 2.0, "unit": "mg/dL"}, 2.0),
        ("0.7 mmol/L", 1.70135),
        ({"value": 1.4, "unit": "meq/L"}, 1.70135),
        ("17 mg/L", 1.7),
    ],
)
def test_values_become_plain_numbers_in_the_declared_unit(given, expected) -> None:
    report = ruleset(Substances()).evaluate({"mg": given})
    assert report.facts["mg"] == pytest.approx(expected)


def test_the_same_values_through_evaluate_many_and_the_report_fact() -> None:
    reports = ruleset(Substances()).evaluate_many([{"mg": "0.69 mmol/L"}, {"mg": "0.71 mmol/L"}])
    assert [bool(r.causes) for r in reports] == [True, False]


def test_a_fact_without_a_unit_takes_no_quantity() -> None:
    with pytest.raises(FactError, match="pain = '3 mg' is not valid: pain takes a number"):
        ruleset(Substances()).evaluate({"pain": "3 mg"})


def test_a_quantity_must_hold_a_number() -> None:
    with pytest.raises(FactError, match="the value of a quantity must be a number"):
        ruleset(Substances()).evaluate({"mg": {"value": "lots", "unit": "mmol/L"}})
    with pytest.raises(FactError, match="the value of a quantity must be a number"):
        ruleset(Substances()).evaluate({"mg": {"value": float("nan"), "unit": "mmol/L"}})


def test_mass_to_molar_needs_the_substance() -> None:
    with pytest.raises(FactError, match=r"mg = 0\.7 mmol/L: cannot convert 'mmol/L' to mg/dL"):
        ruleset().evaluate({"mg": "0.7 mmol/L"})
    # The same kind needs no substance.
    assert ruleset().evaluate({"mg": "17 mg/L"}).facts["mg"] == pytest.approx(1.7)


def test_without_a_converter_only_the_declared_unit_is_read() -> None:
    rs = ruleset(Substances(), disable=("units",))
    assert rs.evaluate({"mg": "2 mg/dL"}).facts["mg"] == 2
    with pytest.raises(FactError, match="cannot convert 'mg/L' to mg/dL"):
        rs.evaluate({"mg": "17 mg/L"})


# ------------------------------------------------------------------ the hooks


def test_a_plugin_converter_is_asked_first_with_the_substance() -> None:
    doubling = Doubling()
    rs = ruleset(Substances(), doubling)
    assert rs.evaluate({"mg": "1 half-mg/dL"}).facts["mg"] == 2
    assert doubling.calls[0] == (1.0, "half-mg/dL", "mg/dL", MAGNESIUM)
    # It says None to mmol/L, so the built-in one (pint) answers.
    assert rs.evaluate({"mg": "0.7 mmol/L"}).facts["mg"] == pytest.approx(1.70135)


def test_a_converter_that_returns_text_is_a_plugin_error() -> None:
    class Bad:
        @hookimpl
        def cramprules_convert_units(self, value, unit, to_unit, substance):
            return "1.7"

    with pytest.raises(
        cramprules.PluginError, match="returned str from cramprules_convert_units, not a number"
    ):
        ruleset(Bad()).evaluate({"mg": "0.7 mmol/L"})


def test_substances_must_be_substances_and_unique() -> None:
    class Wrong:
        @hookimpl
        def cramprules_substances(self):
            return {"mg": 24.305}

    with pytest.raises(cramprules.PluginError, match=r"float is not a cramprules\.units\.Substance"):
        ruleset(Wrong())
    with pytest.raises(cramprules.PluginError, match="both provide the substance of fact 'mg'"):
        ruleset(Substances(), Substances())


def test_the_implausible_bare_number_error_and_the_way_out() -> None:
    rs = ruleset(Substances())
    with pytest.raises(FactError) as caught:
        rs.evaluate({"mg": 0.7})
    assert str(caught.value) == (
        "mg = 0.7 is implausible in mg/dL (results are usually 1.2 to 6 mg/dL); did you mean 0.7 mmol/L "
        '(= 1.70135 mg/dL)? Give the unit: mg="0.7 mmol/L", or mg="0.7 mg/dL" if that is the result'
    )
    assert rs.evaluate({"mg": "0.7 mg/dL"}).facts["mg"] == 0.7  # said so: a critical result, taken as given
    assert rs.evaluate({"mg": 12}).facts["mg"] == 12  # implausible, but no other unit fits: the range decides


# ------------------------------------------------------------------ the command line


def test_cli_fact_with_a_unit_and_the_unit_in_the_report(tmp_path) -> None:
    path = tmp_path / "mg.cramp"
    path.write_text(SOURCE)
    app = App(engine=cramprules.Engine(plugins=[Substances()], autoload=False))
    args = ["eval", str(path), "--fact", "mg=0.69 mmol/L", "--audience", "clinician"]
    result = CliRunner().invoke(cli, args, obj=app)
    assert result.exit_code in (0, 1), result.output
    # 0.69 mmol/L of Mg (24.305 g/mol) is 1.677 mg/dL; the last digit differs between pint releases.
    assert re.search(r"mg is 1\.677\d* mg/dL", result.output), result.output


# ------------------------------------------------------------------ pint, round trips

UNITS = {
    "mass": ["mg/dL", "mg/L", "g/L", "ug/dL", "mg/mL"],
    "amount": ["mmol/L", "umol/L", "mol/L"],
    "equivalents": ["meq/L", "mEq/L", "eq/L"],
}
ALL = [u for units in UNITS.values() for u in units]
finite = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
substances = st.builds(
    Substance, st.just("x"), st.floats(min_value=1.0, max_value=500.0), st.integers(min_value=1, max_value=3)
)


@pytest.mark.parametrize(("kind_name", "units"), UNITS.items())
def test_each_unit_is_a_concentration_of_its_kind(kind_name, units) -> None:
    assert all(kind(u) == kind_name for u in units)
    assert kind("kg") is None
    assert kind("not a unit") is None


@settings(max_examples=60, deadline=None)
@given(value=finite, a=st.sampled_from(ALL), b=st.sampled_from(ALL), substance=substances)
def test_converting_there_and_back_gives_the_value(value, a, b, substance) -> None:
    there = convert(value, a, b, substance)
    assert there is not None
    back = convert(there, b, a, substance)
    assert back == pytest.approx(value, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(value=finite, substance=substances)
def test_mass_amount_and_equivalents_agree(value, substance) -> None:
    mmol = convert(value, "mg/dL", "mmol/L", substance)
    assert mmol == pytest.approx(value * 10 / substance.molar_mass, rel=1e-9)
    assert convert(value, "mg/dL", "meq/L", substance) == pytest.approx(mmol * substance.charge, rel=1e-9)


def test_known_conversions() -> None:
    assert convert(0.85, "mmol/L", "mg/dL", MAGNESIUM) == pytest.approx(2.0659, abs=1e-4)
    assert convert(1.4, "mEq/L", "mmol/L", MAGNESIUM) == pytest.approx(0.7)
    assert convert(1.0, "mmol/L", "mg/dL", None) is None
    assert convert(1.0, "kg", "mg/dL", MAGNESIUM) is None
    assert math.isclose(convert(1.0, "g/L", "mg/dL") or 0, 100.0)

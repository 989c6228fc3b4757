"""Columnar evaluation: ``evaluate_table`` gives, on every row, exactly what ``evaluate`` gives.

Differential tests with hypothesis over generated rulesets (bool, number and
enum facts, causes chained into rules, unless, priorities, overrides,
conflicting advice) and generated tables with nulls; then the input kinds
(Arrow, pandas, a mapping of columns), bad values, and the row-by-row
fallback for plugin functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cramprules
from cramprules.columnar import STATE_NAMES

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

ENGINE = cramprules.Engine(autoload=False, cache=False)
HEADER = """\
fact a: bool
fact b: bool
fact c: bool
fact n: number 0..10
fact e: one of p, q, r
option x
option y
cause k1
cause k2
"""
SCHEMA = pa.schema(
    [("a", pa.bool_()), ("b", pa.bool_()), ("c", pa.bool_()), ("n", pa.int64()), ("e", pa.string())]
)


def _atoms(causes: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["a", "b", "c", "not a", "not b", "a is known", "b is unknown", *causes]),
        st.integers(0, 10).map(lambda k: f"n >= {k}"),
        st.integers(0, 10).map(lambda k: f"n < {k}"),
        st.integers(0, 10).map(lambda k: f"n = {k}"),
        st.tuples(st.integers(0, 5), st.integers(5, 10)).map(lambda t: f"n between {t[0]} and {t[1]}"),
        st.sampled_from(["e is p", "e is not q", "e in [p, r]", "e not in [r]"]),
    )


def _condition(causes: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.recursive(
        _atoms(causes),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map(
                lambda t: f"({t[0]}{t[1]}{t[2]})"
            ),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=4,
    )


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    rules: list[str] = []
    urgent: list[bool] = []
    for cause, known in (("k1", ()), ("k2", ("k1",))):
        for _ in range(draw(st.integers(0, 2))):
            rules.append(f"if {draw(_condition(known))} then suspect {cause}")
            urgent.append(False)
    first_advice = len(rules)
    for _ in range(draw(st.integers(1, 7))):
        action = draw(
            st.sampled_from(
                [
                    "recommend x",
                    "recommend y",
                    "prefer x over y",
                    "prefer y over x",
                    "avoid x",
                    "avoid y",
                    "refer doctor",
                    "refer doctor urgent",
                    "refer nurse",
                ]
            )
        )
        rule = f"if {draw(_condition(('k1', 'k2')))} then {action}"
        urgent.append(action.endswith("urgent"))
        if not urgent[-1] and draw(st.booleans()):
            rule += f" unless {draw(_condition(('k1', 'k2')))}"
        if draw(st.booleans()):
            rule += f" priority {draw(st.integers(1, 2))}"
        rules.append(rule)
    named = [f"rule r{i}:\n    {rule}" for i, rule in enumerate(rules)]
    if len(named) - first_advice > 1 and draw(st.booleans()):
        i, j = draw(st.permutations(range(first_advice, len(named))))[:2]
        if not urgent[j]:
            named[i] += f"\n    overrides r{j}"
    return HEADER + "\n".join(named) + "\n"


rows = st.lists(
    st.fixed_dictionaries(
        {
            "a": st.none() | st.booleans(),
            "b": st.none() | st.booleans(),
            "c": st.none() | st.booleans(),
            "n": st.none() | st.integers(0, 10),
            "e": st.none() | st.sampled_from(["p", "q", "r"]),
        }
    ),
    min_size=1,
    max_size=25,
)


def _expected(report: cramprules.Report) -> dict[str, Any]:
    """The columns a row should have, from the row-by-row report."""
    out: dict[str, Any] = {}
    for rule, state in zip(report.ruleset.rules, report.states):
        out[f"rule:{rule.name}"] = STATE_NAMES[state]
    for rec in report.recommendations:
        out[f"{rec.action}:{rec.option}"] = True if rec.status == "fired" else None
    for ref in report.referrals:
        key = f"refer:{ref.to}"
        if ref.status == "fired" or key not in out:
            out[key] = True if ref.status == "fired" else None
    for cause in report.causes:
        out[f"cause:{cause.name}"] = True if cause.status == "fired" else None
    out["urgent"] = report.urgent
    out["top"] = report.recommendations[0].option if report.recommendations else None
    return out


def _check(ruleset: cramprules.Ruleset, records: list[dict[str, Any]], table: Any) -> None:
    result = ruleset.evaluate_table(table)
    got = result.to_pylist() if isinstance(result, pa.Table) else _pandas_rows(result)
    assert len(got) == len(records)
    for record, row in zip(records, got):
        report = ruleset.evaluate({k: v for k, v in record.items() if v is not None})
        expected = _expected(report)
        given = {k: v for k, v in row.items() if k in expected}
        assert given == expected, record
        # Everything not in the report is false: not given at all.
        for key, value in row.items():
            if key not in expected:
                assert value is False, (key, record)


def _pandas_rows(frame: Any) -> list[dict[str, Any]]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [
        {k: (bool(v) if hasattr(v, "dtype") and v.dtype == bool else v) for k, v in r.items()}
        for r in records
    ]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=rulesets(), records=rows)
def test_every_row_of_an_arrow_table_is_what_evaluate_gives(text: str, records: list[dict[str, Any]]) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    _check(ruleset, records, pa.Table.from_pylist(records, schema=SCHEMA))


complete_rows = st.lists(
    st.fixed_dictionaries(
        {
            "a": st.booleans(),
            "b": st.booleans(),
            "c": st.booleans(),
            "n": st.integers(0, 10),
            "e": st.sampled_from(["p", "q", "r"]),
        }
    ),
    min_size=1,
    max_size=25,
)


@SETTINGS
@given(text=rulesets(), records=complete_rows)
def test_a_table_without_nulls_takes_the_two_valued_kernels_and_agrees(
    text: str, records: list[dict[str, Any]]
) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    _check(ruleset, records, pa.Table.from_pylist(records, schema=SCHEMA))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rulesets(), records=rows)
def test_a_pandas_frame_and_a_mapping_of_columns_give_the_same(
    text: str, records: list[dict[str, Any]]
) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    frame = pd.DataFrame(records).astype({"a": "boolean", "b": "boolean", "c": "boolean", "n": "Float64"})
    _check(ruleset, records, frame)
    _check(ruleset, records, {name: [r[name] for r in records] for name in SCHEMA.names})


def test_a_missing_column_is_unknown_and_nan_in_pandas_is_unknown() -> None:
    ruleset = ENGINE.parse_ruleset(
        HEADER + "rule r: if n >= 5 then refer doctor\nrule s: if a then recommend x\n"
    )
    frame = pd.DataFrame({"n": [7.0, float("nan"), 2.0]})
    out = ruleset.evaluate_table(frame)
    assert list(out["rule:r"]) == ["fired", "pending", "not_matched"]
    assert list(out["rule:s"]) == ["pending"] * 3


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"n": [1, 11]}, "row 1: n = 11 is out of range"),
        ({"e": ["p", "s"]}, "row 1: e = 's' is not allowed"),
        ({"a": ["yes", "maybe"]}, "row 1: a = 'maybe' is not valid"),
        ({"pian": [1]}, "unknown fact 'pian'"),
        ({"n": [1.0, float("nan")]}, "row 1: n = nan is not valid"),
    ],
)
def test_a_bad_value_names_its_row(columns: dict[str, list[Any]], message: str) -> None:
    ruleset = ENGINE.parse_ruleset(HEADER + "rule r: if n >= 5 then refer doctor\n")
    with pytest.raises(cramprules.FactError, match=message):
        ruleset.evaluate_table(columns)


def test_text_answers_are_read_as_evaluate_reads_them() -> None:
    ruleset = ENGINE.parse_ruleset(HEADER + "rule r: if a and n >= 5 then refer doctor\n")
    out = ruleset.evaluate_table({"a": ["yes", "no", None], "n": ["7", "7", "7"]})
    assert out.column("rule:r").to_pylist() == ["fired", "not_matched", "pending"]


class Functions:
    @cramprules.hookimpl
    def cramprules_functions(self) -> dict[str, Callable[..., object]]:
        return {"high": lambda n: None if n is None else n > 5}


def test_a_ruleset_calling_plugin_functions_goes_row_by_row_with_the_same_columns() -> None:
    engine = cramprules.Engine([Functions()], autoload=False, cache=False)
    ruleset = engine.parse_ruleset(
        HEADER + "rule r: if high(n) then refer doctor\nrule s: if a then avoid x\n"
    )
    records = [{"a": True, "n": 7}, {"a": None, "n": 2}, {"a": False, "n": None}]
    _check(ruleset, records, pa.Table.from_pylist(records))


def test_a_table_of_no_rows_gives_a_table_of_no_rows() -> None:
    ruleset = ENGINE.parse_ruleset(HEADER + "rule r: if a then recommend x\n")
    out = ruleset.evaluate_table(pa.table({"a": pa.array([], type=pa.bool_())}))
    assert out.num_rows == 0
    assert "recommend:x" in out.column_names

"""Records alike share their flat row: a batch works out a table row once per kind of record.

:func:`cramprules.whatif.alike` keys fact values by what the rules can tell
apart; a row looked up by that key must be the row of the record itself, for
any ruleset: numbers compared with constants, with ranges, with each other,
enums, causes chained into advice, ``unless``, overrides.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cramprules
from cramprules.batch import TableRows, table_row
from cramprules.whatif import alike

ENGINE = cramprules.Engine(autoload=False)
DECLARATIONS = (
    "fact a: bool\nfact b: bool\nfact n: number 0..10\nfact m: number\nfact e: one of x, y, z\n"
    "option p\noption q\ncause k\n"
)
FACT_ATOMS = (
    "a",
    "not a",
    "b",
    "e is x",
    "e in [x, y]",
    "n >= 7",
    "n < 3",
    "n = 5",
    "n != 4",
    "2.5 < n",
    "n between 3 and 6",
    "n is known",
    "m is unknown",
    "m <= 1.5",
    "n > m",
    "m = n",
    "n < m",
)


def _condition(atoms: tuple[str, ...] = (*FACT_ATOMS, "k")) -> st.SearchStrategy[str]:
    return st.recursive(
        st.sampled_from(atoms),
        lambda inner: st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        max_leaves=3,
    )


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    rules = [f"rule r0:\n    if {draw(_condition(FACT_ATOMS))} then suspect k"]
    for i in range(1, draw(st.integers(2, 4))):
        action = draw(
            st.sampled_from(
                [
                    "recommend p",
                    "recommend q",
                    "prefer p over q",
                    "avoid q",
                    "refer doctor",
                    "refer gp urgent",
                ]
            )
        )
        rule = f"rule r{i}:\n    if {draw(_condition())} then {action}"
        if "urgent" not in action and draw(st.booleans()):
            rule += f" unless {draw(_condition())}"
        rules.append(rule)
    return DECLARATIONS + "\n".join(rules) + "\n"


NUMBERS = st.one_of(st.none(), st.sampled_from([0, 1.5, 2, 2.5, 3, 4, 4.5, 5, 5.5, 6, 7, 8, 9.99, 10]))
"""On the thresholds of :data:`FACT_ATOMS`, and on both sides of them."""


@st.composite
def records(draw: st.DrawFn) -> list[dict[str, object]]:
    """Records that share their yes/no and enum answers and differ in their numbers,
    so that many fall in the same regions and share a row."""
    base = draw(
        st.fixed_dictionaries(
            {}, optional={"a": st.booleans(), "b": st.booleans(), "e": st.sampled_from(["x", "y", "z"])}
        )
    )
    pairs = draw(st.lists(st.tuples(NUMBERS, NUMBERS), min_size=1, max_size=40))
    return [{**base, **{k: v for k, v in (("n", n), ("m", m)) if v is not None}} for n, m in pairs]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=rulesets(), records=records())
def test_a_shared_row_is_the_row_of_the_record_itself(text: str, records: list[dict[str, object]]) -> None:
    ruleset = ENGINE.parse_ruleset(text)
    rows = TableRows(ruleset)
    for index, report in enumerate(ruleset.evaluate_many(records)):
        assert rows.row(report, index, f"id{index}") == table_row(report, index, f"id{index}")


def test_numbers_on_the_same_side_of_every_threshold_look_alike() -> None:
    ruleset = ENGINE.parse_ruleset("fact n: number 0..10\nif n >= 7 then refer doctor\n")
    key = alike(ruleset.program)
    values = [ruleset.evaluate({"n": n}).values for n in (8, 10, 6, 0)]
    assert key(values[0]) == key(values[1])
    assert key(values[2]) == key(values[3]) != key(values[0])
    assert key(ruleset.evaluate({}).values) not in {key(v) for v in values}


def test_a_number_compared_with_another_fact_counts_by_its_value() -> None:
    ruleset = ENGINE.parse_ruleset(
        "fact n: number\nfact m: number\nif n >= 7 then refer doctor\nif n > m then recommend rest\n"
    )
    key = alike(ruleset.program)
    assert key(ruleset.evaluate({"n": 8}).values) != key(ruleset.evaluate({"n": 9}).values)


def test_the_rows_kept_are_bounded() -> None:
    ruleset = ENGINE.parse_ruleset("fact n: number\nif n = n then refer doctor\n")
    rows = TableRows(ruleset, size=3)
    for index, report in enumerate(ruleset.evaluate_many([{"n": n} for n in range(10)])):
        assert rows.row(report, index, None) == table_row(report, index, None)
    assert len(rows._rows) <= 3


def test_a_number_on_a_threshold_is_told_from_its_neighbours() -> None:
    ruleset = ENGINE.parse_ruleset("fact n: number 0..10\nif n = 5 then refer doctor\n")
    key = alike(ruleset.program)
    four, five, six = (key(ruleset.evaluate({"n": n}).values) for n in (4, 5, 6))
    assert len({four, five, six}) == 3
    assert key(ruleset.evaluate({"n": 4.5}).values) == four

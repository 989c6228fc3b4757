"""Properties of a batch run, over generated records and chunk and part sizes.

Whatever the chunking and the parts, the output is serial ``evaluate`` of the
good records in input order, every bad record is in the errors with its line,
and read = written + errors.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cramprules import Engine, FactError, batch

RULESET = Engine(autoload=False).parse_ruleset(
    "fact pain: number 0..10\n"
    "if pain >= 8 then refer doctor urgent\n"
    "if constipation and long_term then prefer citrate unless bedtime\n"
)

GOOD = st.fixed_dictionaries(
    {},
    optional={
        "pain": st.integers(0, 10),
        "constipation": st.booleans(),
        "long_term": st.booleans(),
        "bedtime": st.booleans(),
    },
)
BAD = st.sampled_from(['{"pain": 11}', '{"painn": 1}', "{broken", "[1, 2]", '{"bedtime": "perhaps"}'])
LINES = st.lists(st.one_of(GOOD.map(json.dumps), BAD), max_size=30)


def expected(lines: list[str]) -> tuple[str, list[int]]:
    out, bad = [], []
    for number, line in enumerate(lines, 1):
        try:
            facts = json.loads(line)
            if not isinstance(facts, dict):
                raise TypeError
            out.append(json.dumps(RULESET.evaluate(facts).to_dict(), ensure_ascii=False) + "\n")
        except (ValueError, TypeError, FactError):
            bad.append(number)
    return "".join(out), bad


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, chunk_size=st.integers(1, 7), part_size=st.integers(1, 12), to_file=st.booleans())
def test_any_chunking_gives_serial_evaluate_and_loses_nothing(
    tmp_path_factory, lines, chunk_size, part_size, to_file
):
    tmp: Path = tmp_path_factory.mktemp("run")
    source = tmp / "in.jsonl"
    source.write_text("".join(line + "\n" for line in lines))
    engine = Engine(autoload=False)
    out = tmp / "out.jsonl"
    errors = tmp / "errors.jsonl"
    printed = io.StringIO()
    reported: list[batch.BadRecord] = []
    summary = batch.run(
        [
            batch.Input(
                str(source),
                lambda: batch.read_records(str(source), "jsonl", engine=engine),
                out if to_file else None,
            )
        ],
        batch.Serial(RULESET),
        format="jsonl",
        id_field=None,
        errors=reported.extend,
        errors_file=errors if to_file else None,
        work=tmp / ".out.jsonl.parts" if to_file else None,
        manifest={"x": 1},
        resume=False,
        chunk_size=chunk_size,
        part_size=part_size,
        stdout=None if to_file else printed,
    )
    want, bad_lines = expected(lines)
    got = out.read_text() if to_file else printed.getvalue()
    assert got == want
    found = (
        [json.loads(x)["line"] for x in errors.read_text().splitlines()]
        if to_file
        else [int(b.where.split()[1]) for b in reported]
    )
    assert found == bad_lines
    assert summary.read == summary.written + summary.errors == len(lines)
    assert summary.errors == len(bad_lines)

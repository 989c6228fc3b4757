"""A file read a block at a time, as Dask workers read it, gives the records one reader gives.

Whatever the block size: blank lines, Windows and old Mac line ends, lines
over the length limit, malformed JSON, CSV rows too long, empty files; every
record keeps its number and its line.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cramprules import Engine, Limits
from cramprules.batch import read_records, split
from cramprules.batch._blocks import count_block, numbered, read_block

LIMIT = 40
ENGINE = Engine(autoload=False, limits=Limits(max_fact_bytes=LIMIT))
SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

JSON_LINES = st.lists(
    st.sampled_from(
        [
            '{"pain": 3}',
            '{"pid": "a", "bedtime": true}',
            "",
            "   ",
            "{broken",
            "[1, 2]",
            '{"pain": "' + "x" * 60 + '"}',  # over the limit
            '{"é": "ü"}',
        ]
    ),
    max_size=40,
)
ENDS = st.sampled_from(["\n", "\r\n", "\r"])


def blocks_of(path: Path, format: str, block_bytes: int) -> list:
    source, blocks = split(str(path), format, 1, id_field="pid", limit=LIMIT, min_bytes=block_bytes)
    blocks = numbered(blocks, [count_block(source, b) for b in blocks])
    return [r for b in blocks for r in read_block(source, b)]


def one_reader(path: Path, format: str) -> list:
    return list(read_records(str(path), format, engine=ENGINE, id_field="pid"))


@SETTINGS
@given(lines=JSON_LINES, ends=st.lists(ENDS, min_size=1), block_bytes=st.integers(1, 200), last=st.booleans())
def test_json_lines_read_in_blocks_are_the_records_of_one_reader(
    tmp_path_factory, lines, ends, block_bytes, last
):
    text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    if lines and not last:
        text = text.rstrip("\r\n")  # no line end after the last line
    path = tmp_path_factory.mktemp("b") / "in.jsonl"
    path.write_bytes(text.encode("utf-8"))
    assert blocks_of(path, "jsonl", block_bytes) == one_reader(path, "jsonl")


CSV_ROWS = st.lists(
    st.sampled_from(
        [
            ["a1", "3", "true"],
            ["", "", ""],
            ["a2", "", "no"],
            ["a3", "4", "yes", "extra"],
            ["a4", "11"],
            [" ", "1", ""],
        ]
    ),
    max_size=40,
)


@SETTINGS
@given(rows=CSV_ROWS, block_bytes=st.integers(1, 120), crlf=st.booleans())
def test_csv_read_in_blocks_is_the_records_of_one_reader(tmp_path_factory, rows, block_bytes, crlf):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["pid", "pain", "bedtime"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("b") / "in.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    assert blocks_of(path, "csv", block_bytes) == one_reader(path, "csv")


@SETTINGS
@given(size=st.integers(0, 300), group=st.integers(1, 50), records=st.integers(1, 120))
def test_parquet_read_by_row_groups_is_the_records_of_one_reader(tmp_path_factory, size, group, records):
    path = tmp_path_factory.mktemp("b") / "in.parquet"
    table = pa.table(
        {"pid": [f"p{i}" for i in range(size)], "pain": [None if i % 4 else i % 11 for i in range(size)]}
    )
    pq.write_table(table, path, row_group_size=group)
    source, blocks = split(str(path), "parquet", records, id_field="pid", limit=LIMIT)
    assert all(b.end > b.start for b in blocks) or size == 0
    got = [
        r for b in numbered(blocks, [count_block(source, b) for b in blocks]) for r in read_block(source, b)
    ]
    assert got == one_reader(path, "parquet")


def test_blocks_follow_the_records_asked_for(tmp_path: Path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(f'{{"pain": {i % 11}}}\n' for i in range(10_000)))
    source, blocks = split(str(path), "jsonl", 1000, id_field=None, limit=LIMIT, min_bytes=1)
    counts = [count_block(source, b) for b in blocks]
    assert 8 <= len(blocks) <= 12
    assert sum(records for _, records in counts) == 10_000
    assert blocks[0].start == 0
    assert blocks[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(blocks))

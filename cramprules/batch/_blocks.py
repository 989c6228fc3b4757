"""A file split into blocks that workers read themselves: for runs on a cluster.

A Dask run does not read its input on the driver and ship the records: each
worker reads its own block of the file (JSON Lines and CSV by byte range,
cut where a line ends; Parquet by row groups), evaluates it and writes its
own part of the output.  What a block needs to number its records as a
single reader would (the line its first record is on, how many records came
before) comes from a first, cheap pass over the blocks that counts lines
and records, also on the workers.  The file must be at the same path on
every worker (a shared or network file system), as for ``dask.dataframe``.

Like ``dask.dataframe.read_csv``, a CSV value may not span lines here: a
quoted line break on a block's edge would split a record (the two halves
land in the errors file, nothing is lost silently).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Iterator, Sequence

import attrs

from cramprules.batch._io import STREAMED, TOO_LONG, _csv_records, _jsonl, _parquet, bounded_lines, csv_header
from cramprules.batch._records import Record
from cramprules.exceptions import FactError

__all__ = ["Block", "Source", "count_block", "numbered", "read_block", "split"]

SPLITTABLE = STREAMED
"""The formats workers read a block of: those streamed a chunk at a time."""


@attrs.frozen
class Source:
    """A file the workers read a block at a time, and how to read it."""

    path: str
    """Absolute: workers may run in another directory."""
    format: str
    """``jsonl``, ``csv`` or ``parquet``."""
    id_field: str | None
    limit: int
    """The longest line read whole (the engine's ``max_fact_bytes``)."""
    header: tuple[str, ...] = ()
    """CSV: the column names, read once from the first line."""
    label: str = ""
    """The path as given: how the errors file names it."""


@attrs.frozen
class Block:
    """Bytes ``start`` to ``end`` of the file (Parquet: row groups ``start`` to ``end``),
    with what comes before it: lines and records."""

    number: int
    start: int
    end: int
    lines_before: int = 0
    records_before: int = 0


def split(
    path: str, format: str, records: int, *, id_field: str | None, limit: int, min_bytes: int = 1 << 16
) -> tuple[Source, list[Block]]:
    """The blocks of ``path``, each about ``records`` records long (and at least ``min_bytes``)."""
    label, path = path, os.path.abspath(path)
    if format == "parquet":
        return Source(path, format, id_field, limit, label=label), _row_groups(path, records)
    try:
        size = os.path.getsize(path)
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise FactError(f"cannot read the records: {exc.strerror or exc}", fact="") from None
    with handle:
        header: tuple[str, ...] = ()
        start = 0
        if format == "csv":
            first = _line(handle, 0)
            header = _header(first)
            start = len(first)
        sample = handle.read(1 << 20)
        per_record = max(1, len(sample) // max(1, sample.count(b"\n")))
        span = max(1, min_bytes, per_record * records)
        cuts = [start]
        while cuts[-1] + span < size:
            at = cuts[-1] + span
            cuts.append(min(size, at + len(_line(handle, at))))
    if cuts[-1] < size:
        cuts.append(size)
    blocks = [Block(n, a, b) for n, (a, b) in enumerate(itertools.pairwise(cuts))]
    return Source(path, format, id_field, limit, header, label), blocks or [Block(0, start, start)]


def _line(handle: io.BufferedReader, at: int) -> bytes:
    """The bytes from ``at`` to the end of its line (the newline included), read in pieces."""
    handle.seek(at)
    out = bytearray()
    while piece := handle.read(1 << 16):
        end = piece.find(b"\n")
        if end >= 0:
            out += piece[: end + 1]
            break
        out += piece
    return bytes(out)


def _header(line: bytes) -> tuple[str, ...]:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FactError(f"the CSV header cannot be read: {exc}", fact="") from None
    return tuple(csv_header(csv.reader(io.StringIO(text, newline=""))) or ())


def _row_groups(path: str, records: int) -> list[Block]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException) as exc:
        raise FactError(f"cannot read it as Parquet: {exc}", fact="") from None
    blocks: list[Block] = []
    first = rows = before = 0
    for group in range(metadata.num_row_groups):
        rows += metadata.row_group(group).num_rows
        if rows >= records or group == metadata.num_row_groups - 1:
            blocks.append(Block(len(blocks), first, group + 1, before, before))
            first, before, rows = group + 1, before + rows, 0
    return blocks


def _text(source: Source, block: Block) -> io.TextIOWrapper:
    with open(source.path, "rb") as handle:
        handle.seek(block.start)
        data = handle.read(block.end - block.start)
    newline = "" if source.format == "csv" else None  # as the single reader opens the file
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=newline)


def count_block(source: Source, block: Block) -> tuple[int, int]:
    """The lines and the records of a block (Parquet: its rows, twice)."""
    if source.format == "parquet":
        import pyarrow.parquet as pq

        metadata = pq.ParquetFile(source.path).metadata
        rows = sum(metadata.row_group(g).num_rows for g in range(block.start, block.end))
        return rows, rows
    text = _text(source, block)
    if source.format == "jsonl":
        lines = records = 0
        for line in bounded_lines(text, source.limit):
            lines += 1
            records += line is TOO_LONG or bool(line.strip())
        return lines, records
    reader = csv.reader(text)
    records = sum(1 for _ in _csv_records(reader, source.header, None))
    return reader.line_num, records


def numbered(blocks: Sequence[Block], counts: Sequence[tuple[int, int]]) -> list[Block]:
    """The blocks with the lines and records before each, from each one's :func:`count_block`."""
    out: list[Block] = []
    lines = records = 0
    for block, (block_lines, block_records) in zip(blocks, counts):
        out.append(attrs.evolve(block, lines_before=lines, records_before=records))
        lines += block_lines
        records += block_records
    return out


def read_block(source: Source, block: Block) -> Iterator[Record]:
    """The records of a block, numbered as one reader of the whole file numbers them."""
    if source.format == "parquet":
        groups = range(block.start, block.end)
        yield from _parquet(
            source.path, source.id_field, 1000, row_groups=groups, first_index=block.records_before
        )
        return
    text = _text(source, block)
    if source.format == "jsonl":
        yield from _jsonl(
            bounded_lines(text, source.limit),
            source.id_field,
            first_line=block.lines_before + 1,
            limit=source.limit,
            first_index=block.records_before,
        )
        return
    yield from _csv_records(
        csv.reader(text),
        source.header,
        source.id_field,
        first_index=block.records_before,
        lines_before=block.lines_before + 1,  # the header's line
    )

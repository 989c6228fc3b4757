"""Reading records and writing output, a chunk at a time.

JSON Lines and CSV are read line by line, Parquet a row group at a time
(pyarrow): memory stays flat whatever the input's size.  Any other format a
loader plugin reads (JSON, YAML, FHIR, ...) is read whole, as loaders take
the whole text.  A line that cannot be read becomes a :class:`Record` with an
error, never an exception: the rest of the input goes on.  In a table (CSV,
Parquet, a dataframe) an empty cell is left out of the record's facts: unknown,
and a column the ruleset does not know fails only the rows that fill it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING
from typing import Any as AnyType

from cramprules import _files
from cramprules.batch._evaluate import TABLE_COLUMNS, Row
from cramprules.batch._records import Chunk, Record
from cramprules.exceptions import CramprulesError, FactError
from cramprules.facts import RECORD_ID

if TYPE_CHECKING:
    from cramprules.engine import Engine

__all__ = [
    "STREAMED",
    "PartWriter",
    "chunks",
    "concatenate",
    "input_format",
    "read_records",
]

STREAMED = ("jsonl", "csv", "parquet")
"""Formats read in chunks; any other loader's format is read whole."""


def input_format(path: str, given: str | None, engine: Engine | None = None) -> str:
    """The format of ``path``: given, else by suffix (``ndjson`` is JSON Lines)."""
    if given:
        return given.lstrip(".").lower()
    if path == "-":
        return "auto"
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "parquet"):
        return suffix
    if engine is not None:
        return engine.loader_for(path)
    return suffix or "jsonl"


def _take_id(facts: dict[str, object], id_field: str | None) -> str | None:
    who = facts.pop(RECORD_ID, None)
    if id_field is not None:
        value = facts.pop(id_field, None)
        who = value if value is not None else who
    return None if who is None else str(who)


def _record(index: int, where: str, raw: object, id_field: str | None) -> Record:
    if not isinstance(raw, Mapping):
        return Record(index, where, None, error=f"a record is an object of facts, not {_kind(raw)}")
    facts = dict(raw)
    who = _take_id(facts, id_field)
    return Record(index, where, who, facts)


def _kind(value: object) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


TOO_LONG = "\0too long"
"""What :func:`bounded_lines` gives for a line longer than its limit."""


def bounded_lines(handle: IO[str], limit: int) -> Iterator[str]:
    """The lines of ``handle``, none read whole past ``limit`` characters: a huge one is skipped."""
    while line := handle.readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith("\n"):
                pass
            yield TOO_LONG
        else:
            yield line


def _jsonl(
    lines: Iterable[str], id_field: str | None, first_line: int = 1, limit: int = 0, first_index: int = 0
) -> Iterator[Record]:
    index = first_index
    for number, line in enumerate(lines, first_line):
        if line is TOO_LONG:
            yield Record(index, f"line {number}", None, error=f"longer than {limit:,} characters")
            index += 1
            continue
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            yield Record(index, where, None, error=f"not valid JSON: {exc}")
        else:
            yield _record(index, where, raw, id_field)
        index += 1


def _csv(handle: IO[str], id_field: str | None) -> Iterator[Record]:
    reader = csv.reader(handle)
    names = csv_header(reader)
    if names is not None:
        yield from _csv_records(reader, names, id_field)


def csv_header(reader: AnyType) -> list[str] | None:
    """The column names of the header row ``reader`` gives next (``None``: no rows at all)."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FactError(f"the CSV header cannot be read: {exc}", fact="") from None
    if header is None:
        return None
    names = [cell.strip().removeprefix("\ufeff") for cell in header]
    if len(set(names)) != len(names) or not all(names):
        raise FactError("line 1: the CSV header must name every column once", fact="")
    return names


def _csv_records(
    reader: AnyType,
    names: Sequence[str],
    id_field: str | None,
    *,
    first_index: int = 0,
    lines_before: int = 0,
) -> Iterator[Record]:
    """The records of CSV rows under a header of ``names``; ``lines_before`` numbers the lines."""
    index = first_index
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = f"line {reader.line_num + lines_before}"
            yield Record(index, where, None, error=f"cannot be read as CSV: {exc}")
            index += 1
            continue
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {reader.line_num + lines_before}"
        if len(row) > len(names):
            yield Record(
                index, where, None, error=f"{len(row)} cells, but the header names only {len(names)} facts"
            )
        else:
            facts: dict[str, object] = {name: cell.strip() for name, cell in zip(names, row) if cell.strip()}
            who = _take_id(facts, id_field)
            yield Record(index, where, who, facts)
        index += 1


def _parquet(
    path: str,
    id_field: str | None,
    batch_size: int,
    *,
    row_groups: Sequence[int] | None = None,
    first_index: int = 0,
) -> Iterator[Record]:
    """The rows of a Parquet file (or of some of its row groups), from record ``first_index``."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CramprulesError("reading Parquet needs pyarrow: pip install 'cramprules[arrow]'") from None
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise FactError(f"cannot read it as Parquet: {exc}", fact="") from None
    index = first_index
    for batch in file.iter_batches(batch_size=batch_size, row_groups=row_groups):
        for row in batch.to_pylist():
            facts = {name: value for name, value in row.items() if value is not None}
            yield _record(index, f"row {index + 1}", facts, id_field)
            index += 1


def _whole(text: str, format: str, engine: Engine, id_field: str | None) -> Iterator[Record]:
    for index, raw in enumerate(engine.load_facts(text, format)):
        yield _record(index, f"record {index}", raw, id_field)


def read_records(
    path: str,
    format: str,
    *,
    engine: Engine,
    id_field: str | None = None,
    batch_size: int = 1000,
    stdin: IO[str] | None = None,
) -> Iterator[Record]:
    """Every record of ``path`` (``-`` for stdin), in order, numbered from 0.

    ``format`` ``auto`` (stdin) reads a JSON document when the text starts
    with ``[``, else JSON Lines.  The engine's ``limits.max_fact_bytes``
    bounds one line, and a whole file read by a loader.
    """
    limit = engine.limits.max_fact_bytes
    if path == "-":
        handle = stdin if stdin is not None else sys.stdin
        if format in ("auto", "jsonl"):
            lines = bounded_lines(handle, limit)
            first = next(lines, "")
            while first and first is not TOO_LONG and not first.strip():
                first = next(lines, "")
            if format == "auto" and first is not TOO_LONG and first.lstrip().startswith("["):
                rest = _stdin_text(handle, max(1, limit - len(first)), "json")
                yield from _whole(first + rest, "json", engine, id_field)
                return
            yield from _jsonl(_prepend(first, lines) if first else lines, id_field, limit=limit)
        elif format == "csv":
            yield from _csv(handle, id_field)
        else:
            text = _stdin_text(handle, limit, format)
            yield from _whole(text, format, engine, id_field)
        return
    if format == "parquet":
        yield from _parquet(path, id_field, batch_size)
        return
    if format not in ("jsonl", "csv"):
        try:
            text = _files.read_text(path, limit)
        except _files.FileTooLarge:
            raise FactError(
                f"larger than {limit:,} bytes: a {format} file is read whole; use JSON Lines, CSV or Parquet",
                fact="",
            ) from None
        except (OSError, _files.NotText) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise FactError(f"cannot read the records: {reason}", fact="") from None
        yield from _whole(text, format, engine, id_field)
        return
    try:
        handle = open(path, encoding="utf-8", newline="" if format == "csv" else None)  # noqa: SIM115
    except OSError as exc:
        raise FactError(f"cannot read the records: {exc.strerror or exc}", fact="") from None
    with handle:
        if format == "jsonl":
            yield from _jsonl(bounded_lines(handle, limit), id_field, limit=limit)
        else:
            yield from _csv(handle, id_field)


def _stdin_text(handle: IO[str], limit: int, format: str) -> str:
    try:
        return _files.read_stream_bounded(handle, limit, "<stdin>")
    except _files.FileTooLarge:
        raise FactError(
            f"stdin holds more than {limit:,} bytes: {format} is read whole; send JSON Lines", fact=""
        ) from None
    except _files.NotText as exc:
        raise FactError(f"stdin: {exc}", fact="") from None


def _prepend(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def chunks(records: Iterable[Record], size: int, *, start: int = 0) -> Iterator[Chunk]:
    """Consecutive records, ``size`` at a time."""
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield Chunk(batch[0].index, tuple(batch))
            batch = []
    if batch:
        yield Chunk(batch[0].index, tuple(batch))


# ---------------------------------------------------------------- output


class PartWriter:
    """Writes one format to one file, a chunk of items at a time.

    ``header`` is for the CSV header: parts leave it out and the file they
    are joined into has it once.
    """

    def __init__(self, handle: IO[AnyType], format: str, *, header: bool = True) -> None:
        self.format = format
        self.handle = handle
        self._csv = csv.writer(handle, lineterminator="\n") if format == "csv" else None
        self._parquet: AnyType = None
        self._first = True
        if self._csv is not None and header:
            self._csv.writerow(TABLE_COLUMNS)
        if format == "json":
            handle.write("[")

    def write(self, items: Sequence[str | Row]) -> None:
        if self.format == "jsonl":
            self.handle.write("".join(f"{item}\n" for item in items))
        elif self.format == "json":
            for item in items:
                self.handle.write(("\n" if self._first else ",\n") + _indent(str(item)))
                self._first = False
        elif self._csv is not None:
            # A flat row: (record, id, urgent, then text); CSV says true/false and leaves no id empty.
            self._csv.writerows(
                (row[0], "" if row[1] is None else row[1], "true" if row[2] else "false", *row[3:])
                for row in items
            )
        else:
            self._write_parquet(items)

    def _write_parquet(self, items: Sequence[str | Row]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*items)) if items else [() for _ in TABLE_COLUMNS]
        table = pa.table(
            {name: pa.array(list(values), type=kind) for (name, kind), values in zip(_schema(), columns)}
        )
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.handle, table.schema)
        if items:
            self._parquet.write_table(table)

    def close(self) -> None:
        if self.format == "json":
            self.handle.write("\n]\n" if not self._first else "]\n")
        if self.format == "parquet":
            if self._parquet is None:
                self._write_parquet([])
            self._parquet.close()


def _indent(text: str) -> str:
    return "  " + json.dumps(json.loads(text), indent=2, ensure_ascii=False).replace("\n", "\n  ")


def _schema() -> list[tuple[str, AnyType]]:
    import pyarrow as pa

    kinds = [pa.int64(), pa.string(), pa.bool_()] + [pa.string()] * (len(TABLE_COLUMNS) - 3)
    return list(zip(TABLE_COLUMNS, kinds))


ROW_GROUP = 65_536
"""Rows per row group of a Parquet output."""


def concatenate(parts: Sequence[Path], format: str, handle: IO[AnyType]) -> None:
    """Join finished parts into one output, a part at a time."""
    if format == "parquet":
        import pyarrow.parquet as pq

        # Row groups of a fixed size, whatever the parts' sizes: a Dask run
        # (parts are blocks of the file) writes the same bytes as a local one.
        writer = PartWriter(handle, "parquet")
        rows: list[Row] = []
        for part in parts:
            for batch in pq.ParquetFile(part).iter_batches(batch_size=ROW_GROUP):
                rows.extend(zip(*(batch.column(c).to_pylist() for c in TABLE_COLUMNS)))
                while len(rows) >= ROW_GROUP:
                    writer.write(rows[:ROW_GROUP])
                    del rows[:ROW_GROUP]
        if rows:
            writer.write(rows)
        writer.close()
        return
    if format == "csv":
        csv.writer(handle, lineterminator="\n").writerow(TABLE_COLUMNS)
    if format == "json":
        _concatenate_json(parts, handle)
        return
    for part in parts:
        with part.open(encoding="utf-8", newline="") as source:
            while block := source.read(1 << 20):
                handle.write(block)


def _concatenate_json(parts: Sequence[Path], handle: IO[str]) -> None:
    writer = PartWriter(handle, "json")
    for part in parts:
        with part.open(encoding="utf-8") as source:
            writer.write([line.rstrip("\n") for line in source if line.strip()])
    writer.close()


def text_handle(binary: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(binary, encoding="utf-8", newline="")

"""Built-in plugin: facts from CSV (and TSV), one record per row.

The header row names the facts.  Values stay text: the engine reads ``yes``,
``no`` or ``7`` by each fact's declared type, so a spreadsheet export works as
it is.  An empty cell means *unknown*.  A header with semicolons or tabs and
no commas (a European spreadsheet export) is read with that delimiter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping

from cramprules.exceptions import FactError
from cramprules.hookspecs import hookimpl

__all__ = ["load", "load_tsv"]


def load(text: str, *, delimiter: str | None = None) -> list[Mapping[str, object]]:
    """One fact set per data row; blank lines are skipped."""
    text = text.removeprefix("\ufeff")
    if delimiter is None:
        delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        names = [cell.strip() for cell in header]
        _check_header(names, reader.line_num)
        records: list[Mapping[str, object]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(names):
                raise FactError(
                    f"line {reader.line_num} of the CSV facts has {len(row)} cells, "
                    f"but the header names only {len(names)} facts",
                    fact="",
                )
            record: dict[str, object] = {}
            for name, cell in zip(names, row):
                value = cell.strip()
                record[name] = value if value else None
            for name in names[len(row) :]:
                record[name] = None
            records.append(record)
    except csv.Error as exc:
        raise FactError(f"line {reader.line_num} of the CSV facts cannot be read: {exc}", fact="") from None
    return records


def load_tsv(text: str) -> list[Mapping[str, object]]:
    """Tab-separated values: the same as CSV with tabs."""
    return load(text, delimiter="\t")


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    if "," in first:
        return ","
    for candidate in (";", "\t"):
        if candidate in first:
            return candidate
    return ","


def _check_header(names: list[str], line: int) -> None:
    seen: set[str] = set()
    for column, name in enumerate(names, 1):
        if not name:
            raise FactError(
                f"line {line} of the CSV facts: column {column} of the header has no fact name",
                fact="",
            )
        if name in seen:
            raise FactError(
                f"line {line} of the CSV facts: the header names '{name}' twice",
                fact=name,
            )
        seen.add(name)


@hookimpl
def cramprules_loaders() -> dict[str, Callable[[str], list[Mapping[str, object]]]]:
    return {"csv": load, "tsv": load_tsv}

"""Records as a batch reads them: where each came from, its id, its facts or why it has none."""

from __future__ import annotations

import attrs

__all__ = ["BadRecord", "Chunk", "Record"]


@attrs.frozen
class Record:
    """One input record: its number (from 0), where it is in its file, its id and facts.

    A record that could not be read (a malformed line, a row that is not a
    mapping) has ``error`` instead of facts.
    """

    index: int
    where: str
    """``line 17`` (JSON Lines), ``row 3`` (CSV, Parquet, counting data rows from 1) or ``record 5``."""
    id: str | None
    facts: dict[str, object] | None = None
    error: str | None = None


@attrs.frozen
class BadRecord:
    """A record left out of the output, and why: one line of the errors file."""

    index: int
    where: str
    id: str | None
    error: str
    source: str = ""

    def to_dict(self) -> dict[str, object]:
        kind, _, number = self.where.partition(" ")
        out: dict[str, object] = {"source": self.source, "record": self.index}
        out[kind] = int(number) if number.isdigit() else number
        out["id"] = self.id
        out["error"] = self.error
        return out


@attrs.frozen
class Chunk:
    """Consecutive records, evaluated as one task."""

    start: int
    records: tuple[Record, ...]

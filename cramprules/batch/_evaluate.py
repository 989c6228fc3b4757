"""One chunk of records in, its output rows and its bad records out: the work of every engine.

Every engine (this process, worker processes, Dask workers) calls
:func:`evaluate_chunk`, so they give the same bytes.  The evaluation itself is
:func:`evaluate_facts`, the one place that turns fact sets into reports;
columnar evaluation (``Ruleset.evaluate_table``) can replace it there.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from cramprules.batch._records import BadRecord, Chunk, Record
from cramprules.exceptions import FactError

if TYPE_CHECKING:
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset

__all__ = [
    "TABLE_COLUMNS",
    "ChunkResult",
    "Shape",
    "TableRows",
    "evaluate_chunk",
    "evaluate_facts",
    "report_line",
    "table_row",
]

Shape = Literal["jsonl", "table"]
"""``jsonl``: a full report per record, as a JSON line; ``table``: one flat row per record."""

TABLE_COLUMNS = (
    "record",
    "id",
    "urgent",
    "referral_tier",
    "referral_to",
    "top_recommendation",
    "top_status",
    "causes",
    "questions",
)
"""The flat table's columns, in order (CSV header, Parquet schema, DataFrame columns)."""

Row = tuple[int, "str | None", bool, str, str, str, str, str, str]


@attrs.frozen
class ChunkResult:
    """What a chunk gives back: an output item per good record, in order, and the bad records."""

    start: int
    count: int
    items: tuple[str | Row, ...]
    bad: tuple[BadRecord, ...] = ()


def evaluate_facts(ruleset: Ruleset, facts: Sequence[dict[str, object]]) -> list[Report | FactError]:
    """A report, or the error that stopped it, for each fact set, in order."""
    return ruleset.evaluate_each(facts)


def report_line(report: Report, id: str | None, *, with_id: bool) -> str:
    """A full report as one JSON line; with ``--id-field``, the id first."""
    document = report.to_dict()
    if with_id:
        document = {"id": id, **document}
    return json.dumps(document, ensure_ascii=False)


def table_row(report: Report, index: int, id: str | None) -> Row:
    """One flat row: what an analyst filters and counts."""
    referrals = report.referrals
    first = referrals[0] if referrals else None
    tier = "none" if first is None else ("urgent" if first.urgent else "plain")
    top = report.recommendations[0] if report.recommendations else None
    return (
        index,
        id,
        bool(report.urgent),
        tier,
        first.to if first is not None else "",
        f"{top.action} {top.option}" if top is not None else "",
        top.status if top is not None else "",
        "; ".join(c.name for c in report.causes),
        "; ".join(q.fact for q in report.questions),
    )


Decided = tuple[bool, str, str, str, str, str, str]
"""A flat row without its record number and id: what records alike share."""


class TableRows:
    """Flat rows of reports, worked out once for every record that looks the same to the rules.

    A row's open questions are what costs (a what-if per unknown fact), and a
    cohort's records repeat: the same few answers, numbers on the same side of
    the same thresholds.  :func:`cramprules.whatif.alike` says when two
    records cannot differ, so the row is shared; at most ``size`` rows are
    kept (then it starts again), so memory stays flat.
    """

    def __init__(self, ruleset: Ruleset, size: int = 1 << 16) -> None:
        from cramprules.whatif import alike

        self.size = size
        self._key: Callable[[Sequence[object]], Hashable] = alike(ruleset.program)
        self._rows: dict[Hashable, Decided] = {}
        self._distinct: dict[Decided, Decided] = {}
        """Far fewer rows differ than keys do: each kept once."""

    def row(self, report: Report, index: int, id: str | None) -> Row:
        key = self._key(report.values)
        decided = self._rows.get(key)
        if decided is None:
            decided = table_row(report, index, id)[2:]
            if len(self._rows) >= self.size:
                self._rows.clear()
                self._distinct.clear()
            decided = self._rows[key] = self._distinct.setdefault(decided, decided)
        return (index, id, *decided)

    @classmethod
    def of(cls, ruleset: Ruleset) -> TableRows:
        """The rows of ``ruleset`` in this process, shared by every chunk it evaluates."""
        rows = _TABLE_ROWS.get(ruleset)
        if rows is None:
            rows = _TABLE_ROWS[ruleset] = cls(ruleset)
        return rows


_TABLE_ROWS: weakref.WeakKeyDictionary[Ruleset, TableRows] = weakref.WeakKeyDictionary()
"""A cache, gone with its ruleset: the worker processes and Dask workers of a
batch get the ruleset once and evaluate many chunks with it."""


def evaluate_chunk(ruleset: Ruleset, chunk: Chunk, shape: Shape, *, with_id: bool = False) -> ChunkResult:
    """Evaluate a chunk; records that cannot be read or evaluated become bad records, never raise."""
    good: list[Record] = []
    bad: list[BadRecord] = []
    for record in chunk.records:
        if record.facts is None:
            bad.append(BadRecord(record.index, record.where, record.id, record.error or "unreadable"))
        else:
            good.append(record)
    results = evaluate_facts(ruleset, [r.facts for r in good if r.facts is not None])
    items: list[str | Row] = []
    rows = TableRows.of(ruleset) if shape == "table" else None
    for record, result in zip(good, results):
        if isinstance(result, FactError):
            bad.append(BadRecord(record.index, record.where, record.id, str(result)))
        elif shape == "jsonl":
            items.append(report_line(result, record.id, with_id=with_id))
        else:
            assert rows is not None
            items.append(rows.row(result, record.index, record.id))
    bad.sort(key=lambda b: b.index)
    return ChunkResult(chunk.start, len(chunk.records), tuple(items), tuple(bad))

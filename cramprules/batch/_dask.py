"""Dask: files read and written by the workers of a ``dask.distributed`` cluster, and rulesets
over pandas and Dask dataframes.

A file in JSON Lines, CSV or Parquet written to a file is split into blocks
(:mod:`cramprules.batch._blocks`); a ``dask.dataframe`` made with ``from_map``
has one partition per block, and each partition reads its block, evaluates
it and writes its part of the output on the worker, under a temporary name
until whole.  Anything else (stdin, a loader's format, output to stdout) is
read here and sent to the workers a chunk at a time.

The ruleset travels to the workers pickled, that is as its source texts and
plugin names (:mod:`cramprules.recipe`): every worker needs cramprules and the
same plugins installed, nothing else.  It is scattered once per worker, not
sent with every task.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any as AnyType

import attrs

from cramprules.batch._evaluate import TABLE_COLUMNS, ChunkResult, Shape, evaluate_chunk
from cramprules.batch._records import Chunk, Record
from cramprules.exceptions import CramprulesError
from cramprules.facts import RECORD_ID

if TYPE_CHECKING:
    from cramprules.batch._blocks import Block, Source
    from cramprules.batch._runner import Split, _Counter, _Plan
    from cramprules.ruleset import Ruleset

__all__ = ["DaskEngine", "dask_client", "evaluate_dataframe"]

NEEDS_DASK = "the Dask engine needs dask.distributed: pip install 'cramprules[dask]'"


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[AnyType]:
    """A client of the cluster at ``scheduler``, or of a new ``LocalCluster`` of ``workers`` processes."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise CramprulesError(NEEDS_DASK) from None
    with dask.config.set(QUIET_COMMS):
        yield from _clients(Client, LocalCluster, scheduler, workers)


QUIET_COMMS = {"distributed.admin.low-level-log-length": 0}
"""Dask keeps the last 1000 messages of every connection for debugging: with
chunks of records in them, hundreds of megabytes.  Batches keep none."""


def _clients(
    Client: AnyType, LocalCluster: AnyType, scheduler: str | None, workers: int
) -> Iterator[AnyType]:
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call, unused-ignore]
        except OSError as exc:
            raise CramprulesError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call, unused-ignore]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call, unused-ignore]
    ):
        yield client


@attrs.frozen
class DaskEngine:
    """Chunks as tasks on a Dask cluster, results gathered in input order."""

    client: AnyType
    ruleset: Ruleset
    window: int = 8

    def map(self, chunks: Iterable[Chunk], shape: Shape, with_id: bool) -> Iterator[ChunkResult]:
        from cramprules.batch._runner import ordered

        [ruleset] = self.client.scatter([self.ruleset], broadcast=True, hash=False)
        yield from ordered(
            lambda chunk: self.client.submit(
                evaluate_chunk, ruleset, chunk, shape, with_id=with_id, pure=False
            ),
            lambda future: future.result(),
            chunks,
            window=self.window,
        )

    def write_parts(
        self,
        split: Split,
        number: int,
        plan: _Plan,
        work: Path,
        done: dict[int, dict[str, int]],
        counter: _Counter,
    ) -> None:
        """Each worker reads a block of the file and writes its part: the records never pass through here.

        The blocks, numbered by a first pass on the workers, are kept in the
        work directory, so a resumed run cuts the file the same way.
        """
        import dask.dataframe as dd
        from distributed import as_completed

        source, blocks = _numbered_blocks(self.client, split, plan, work, number)
        for counts in done.values():
            counter.add(counts["read"], counts["errors"])
        todo = [b for b in blocks if b.number not in done]
        if not todo:
            return
        [ruleset] = self.client.scatter([self.ruleset], broadcast=True, hash=False)
        parts = dd.from_map(  # type: ignore[no-untyped-call, unused-ignore]
            _write_block,
            todo,
            args=(ruleset, source, plan, str(work.resolve()), number),  # workers may run elsewhere
            meta=_counts_meta(),
            enforce_metadata=False,
            label="cramprules-part",
        )
        for future in as_completed(self.client.compute(parts.to_delayed())):  # type: ignore[no-untyped-call, unused-ignore]
            counts = future.result()
            counter.add(int(counts["read"].iloc[0]), int(counts["errors"].iloc[0]))


def _numbered_blocks(
    client: AnyType, split: Split, plan: _Plan, work: Path, number: int
) -> tuple[Source, list[Block]]:
    from cramprules.batch._blocks import Block, Source, count_block, numbered
    from cramprules.batch._runner import _atomic_text

    kept = work / f"input{number:05d}-blocks.json"
    if kept.exists():
        data = json.loads(kept.read_text(encoding="utf-8"))
        return Source(**{**data["source"], "header": tuple(data["source"]["header"])}), [
            Block(**b) for b in data["blocks"]
        ]
    source, blocks = split(plan.part_size)
    counts = client.gather(client.map(count_block, [source] * len(blocks), blocks, pure=False))
    blocks = numbered(blocks, counts)
    data = {"source": attrs.asdict(source), "blocks": [attrs.asdict(b) for b in blocks]}
    _atomic_text(kept, json.dumps(data))
    return source, blocks


def _write_block(
    block: Block, ruleset: Ruleset, source: Source, plan: _Plan, work: str, number: int
) -> AnyType:
    """On a worker: read a block, evaluate it a chunk at a time, write its part; its counts."""
    import pandas as pd

    from cramprules.batch._blocks import read_block
    from cramprules.batch._io import chunks
    from cramprules.batch._runner import _OpenPart, _part

    part = _OpenPart(_part(Path(work), number, block.number), block.number, plan, source.label)
    for chunk in chunks(read_block(source, block), plan.chunk_size):
        part.add(evaluate_chunk(ruleset, chunk, plan.shape, with_id=plan.with_id))
    part.finish()
    return pd.DataFrame(
        {"part": [block.number], "read": [part.read], "written": [part.written], "errors": [part.bad]}
    )


def _counts_meta() -> AnyType:
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype="int64") for c in ("part", "read", "written", "errors")})


# ---------------------------------------------------------------- dataframes


def _partition(frame: AnyType, ruleset: Ruleset, id_field: str | None, shape: Shape) -> AnyType:
    """One pandas partition in, its table (with an ``error`` column) out."""
    import pandas as pd

    records = []
    labels = list(frame.index) if _integer_index(frame) else range(len(frame))
    for label, row in zip(labels, frame.to_dict(orient="records")):
        facts = {str(k): _plain(v) for k, v in row.items() if not _missing(v)}
        who: object = facts.pop(RECORD_ID, None)
        if id_field is not None:
            who = facts.pop(id_field, None)
        index = int(label)
        records.append(Record(index, f"row {index + 1}", None if who is None else str(who), facts))
    start = records[0].index if records else 0
    result = evaluate_chunk(ruleset, Chunk(start, tuple(records)), shape, with_id=id_field is not None)
    columns = (*TABLE_COLUMNS, "error") if shape == "table" else ("record", "id", "report", "error")
    rows: list[tuple[object, ...]] = []
    good = iter(result.items)
    errors = {(b.index, b.where): b.error for b in result.bad}
    for record in records:
        error = errors.get((record.index, record.where))
        if error is not None:
            rows.append((record.index, record.id, *(None,) * (len(columns) - 3), error))
        elif shape == "table":
            rows.append((*next(good), None))
        else:
            rows.append((record.index, record.id, next(good), None))
    table = pd.DataFrame(rows, columns=list(columns), index=frame.index)
    return table.astype(_dtypes(shape))


def _dtypes(shape: Shape) -> dict[str, str]:
    if shape == "table":
        return {
            "record": "int64",
            "urgent": "boolean",
            **{c: "string" for c in TABLE_COLUMNS if c not in ("record", "urgent")},
            "error": "string",
        }
    return {"record": "int64", "id": "string", "report": "string", "error": "string"}


def _integer_index(frame: AnyType) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_integer_dtype(frame.index.dtype))


def _missing(value: object) -> bool:
    try:
        import pandas as pd

        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: object) -> object:
    """numpy scalars as Python values, so facts check as the serial path checks them."""
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value


def evaluate_dataframe(
    df: AnyType, ruleset: Ruleset, *, id_field: str | None = None, shape: Shape = "table"
) -> AnyType:
    """Evaluate every row of a pandas or Dask dataframe; one output row per input row.

    ``shape="table"`` gives the flat table (``record``, ``id``, ``urgent``,
    ``referral_tier``, ``referral_to``, ``top_recommendation``, ``top_status``,
    ``causes``, ``questions``); ``shape="jsonl"`` gives ``record``, ``id`` and
    ``report`` (the full report as JSON text).  A row that fails fact
    validation keeps its place, with the message in ``error`` and nothing else
    filled in.  Missing values (``NaN``, ``None``) are left out: unknown facts.  A Dask
    dataframe stays lazy (``map_partitions``); the ruleset reaches its workers
    pickled, as its texts and plugin names.  ``record`` is the row's position
    when the index is the default integer range.
    """
    if type(df).__module__.startswith("dask"):
        import pandas as pd

        meta = pd.DataFrame({c: pd.Series(dtype=t) for c, t in _dtypes(shape).items()})
        if shape == "table":
            meta = meta[[*TABLE_COLUMNS, "error"]]
        from dask.delayed import delayed

        shared = delayed(ruleset, name=f"cramprules-ruleset-{ruleset.sha256[:16]}-{id(ruleset):x}")
        return df.map_partitions(_partition, shared, id_field, shape, meta=meta)
    return _partition(df, ruleset, id_field, shape)

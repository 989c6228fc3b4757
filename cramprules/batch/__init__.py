"""Whole cohorts: a ruleset over millions of records, streamed, with nothing lost.

The library behind ``cramprules batch``, for embedding without click:

- :func:`read_records` reads JSON Lines, CSV or Parquet a chunk at a time
  (other loader formats whole); a line that cannot be read is a record with
  an error, not an exception;
- :func:`run` evaluates the records with an engine (:class:`Serial`,
  :class:`Processes`, :class:`DaskEngine`) and writes them in input order,
  through parts that an interrupted run can resume from;
- :func:`evaluate_dataframe` evaluates a pandas or Dask dataframe;
- :func:`evaluate_chunk` is the one function every engine runs on a chunk.

Nothing here imports pyarrow, pandas or Dask until it is used.
"""

from __future__ import annotations

from cramprules.batch._blocks import SPLITTABLE, Block, Source, split
from cramprules.batch._dask import DaskEngine, dask_client, evaluate_dataframe
from cramprules.batch._evaluate import (
    TABLE_COLUMNS,
    ChunkResult,
    Shape,
    TableRows,
    evaluate_chunk,
    evaluate_facts,
    report_line,
    table_row,
)
from cramprules.batch._io import STREAMED, PartWriter, chunks, input_format, read_records
from cramprules.batch._records import BadRecord, Chunk, Record
from cramprules.batch._runner import (
    OUTPUT_FORMATS,
    Engine,
    Input,
    Processes,
    Progress,
    Rate,
    Serial,
    Split,
    Summary,
    WritesParts,
    atomic,
    run,
    shape_of,
)

__all__ = [
    "OUTPUT_FORMATS",
    "SPLITTABLE",
    "STREAMED",
    "TABLE_COLUMNS",
    "BadRecord",
    "Block",
    "Chunk",
    "ChunkResult",
    "DaskEngine",
    "Engine",
    "Input",
    "PartWriter",
    "Processes",
    "Progress",
    "Rate",
    "Record",
    "Serial",
    "Shape",
    "Source",
    "Split",
    "Summary",
    "TableRows",
    "WritesParts",
    "atomic",
    "chunks",
    "dask_client",
    "evaluate_chunk",
    "evaluate_dataframe",
    "evaluate_facts",
    "input_format",
    "read_records",
    "report_line",
    "run",
    "shape_of",
    "split",
    "table_row",
]

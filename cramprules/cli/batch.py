"""``cramprules batch``: evaluate every record of a file, in parallel if asked.

Records are split into chunks; each chunk is evaluated by the fast path
(``Ruleset.evaluate_many``) in this process, in worker processes
(``--workers N``), or as Dask tasks (``--engine dask``).  A ruleset holds
compiled code and cannot be pickled, so each worker process rebuilds it once
from its path or name and keeps it.

Workers never raise across the process boundary: a chunk returns its output
and its bad records as plain data, and this process decides what to do.
By default the first bad record stops the batch (exit 2) and nothing is
written; ``--skip-invalid`` reports each bad record on stderr, writes the
others, and exits 1.
"""

from __future__ import annotations

import csv
import json
import math
import os
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any as AnyType

import attrs
import click

from cramprules.cli import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_PLUGIN, EXIT_RULESET, EXIT_USAGE, App, CliError
from cramprules.cli._common import (
    choice_format_option,
    open_output,
    progress,
    read_fact_records,
    testing_option,
)

FORMATS = ("jsonl", "json", "csv")
CSV_COLUMNS = ("record", "urgent", "referrals", "causes", "recommendations", "questions")


@attrs.frozen
class WorkerSpec:
    """Everything a worker process needs to rebuild the ruleset: picklable, hashable."""

    ruleset: str | None
    include_testing: bool
    autoload: bool | None
    disabled: tuple[str, ...]
    format: str


@attrs.frozen
class BadRecord:
    index: int
    message: str


@attrs.frozen
class ChunkResult:
    """What one chunk gives back: an output item per good record, and the bad records."""

    start: int
    items: tuple[AnyType, ...]
    bad: tuple[BadRecord, ...] = ()
    fatal: tuple[str, str] | None = None
    """``(kind, message)`` of an error that is not about one record (a plugin failed, ...)."""


_RULESETS: dict[WorkerSpec, AnyType] = {}
_RULESETS_LOCK = threading.Lock()


def _ruleset(spec: WorkerSpec) -> AnyType:
    """The ruleset of ``spec``, built once per process (or seeded by the parent)."""
    with _RULESETS_LOCK:
        if spec not in _RULESETS:
            from cramprules.engine import Engine

            engine = Engine(autoload=spec.autoload, disable=spec.disabled)
            if spec.ruleset is None:
                _RULESETS[spec] = engine.default_ruleset(include_testing=spec.include_testing)
            else:
                _RULESETS[spec] = engine.load_ruleset(spec.ruleset, include_testing=spec.include_testing)
        return _RULESETS[spec]


# ---------------------------------------------------------------- one chunk


def serialize(report: AnyType, index: int, format: str) -> AnyType:
    """One record's output: a JSON line, an indented JSON object, or a CSV row."""
    if format == "jsonl":
        return json.dumps(report.to_dict(), ensure_ascii=False)
    if format == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False)

    def status(item: AnyType) -> str:
        return " (conditional)" if item.status == "conditional" else ""

    return (
        str(index),
        "yes" if report.urgent else "no",
        "; ".join(f"{r.to}{' urgent' if r.urgent else ''}{status(r)}" for r in report.referrals),
        "; ".join(f"{c.name}{status(c)}" for c in report.causes),
        "; ".join(f"{r.action} {r.option}{status(r)}" for r in report.recommendations),
        "; ".join(q.fact for q in report.questions),
    )


def evaluate_chunk(spec: WorkerSpec, start: int, records: Sequence[dict[str, object]]) -> ChunkResult:
    """Evaluate records ``start ..``; bad records are collected, never raised."""
    from cramprules.exceptions import CramprulesError, FactError, PluginError, RulesetError

    items: list[AnyType] = []
    bad: list[BadRecord] = []
    try:
        rs = _ruleset(spec)
        position = 0
        while position < len(records):
            try:
                reports = rs.evaluate_many(records[position:])
            except FactError as exc:
                failed = exc.record or 0
                good = rs.evaluate_many(records[position : position + failed])
                items.extend(serialize(r, start + position + i, spec.format) for i, r in enumerate(good))
                prefix = f"record {failed}: "
                message = str(exc).removeprefix(prefix)
                bad.append(BadRecord(start + position + failed, message))
                position += failed + 1
                continue
            items.extend(serialize(r, start + position + i, spec.format) for i, r in enumerate(reports))
            break
    except RulesetError as exc:
        return ChunkResult(start, (), (), ("ruleset", str(exc)))
    except PluginError as exc:
        return ChunkResult(start, (), (), ("plugin", str(exc)))
    except CramprulesError as exc:
        return ChunkResult(start, (), (), ("usage", str(exc)))
    except Exception as exc:  # noqa: BLE001 - returned as data: exceptions do not cross processes well
        return ChunkResult(start, (), (), ("internal", f"{type(exc).__name__}: {exc}"))
    return ChunkResult(start, tuple(items), tuple(bad))


# ---------------------------------------------------------------- runners


def chunks(
    records: Sequence[dict[str, object]], size: int
) -> Iterator[tuple[int, Sequence[dict[str, object]]]]:
    for start in range(0, len(records), size):
        yield start, records[start : start + size]


def run_here(
    spec: WorkerSpec, records: Sequence[dict[str, object]], size: int, bar: AnyType, *, fail_fast: bool
) -> list[ChunkResult]:
    """Chunks one after the other, in this process."""
    results = []
    for start, chunk in chunks(records, size):
        result = evaluate_chunk(spec, start, chunk)
        results.append(result)
        bar.update(len(chunk))
        if _stops(result, fail_fast):
            break
    return results


def run_processes(
    spec: WorkerSpec,
    records: Sequence[dict[str, object]],
    size: int,
    workers: int,
    bar: AnyType,
    *,
    fail_fast: bool,
) -> list[ChunkResult]:
    """Chunks in a pool of worker processes (spawned: safe on every platform)."""
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(evaluate_chunk, spec, start, chunk): len(chunk)
            for start, chunk in chunks(records, size)
        }
        for future in concurrent.futures.as_completed(futures):
            result = future.result()
            results.append(result)
            bar.update(futures[future])
            if _stops(result, fail_fast):
                for other in futures:
                    other.cancel()
                break
    return results


def run_dask(
    spec: WorkerSpec, records: Sequence[dict[str, object]], size: int, workers: int, bar: AnyType
) -> list[ChunkResult]:
    """Chunks as ``dask.delayed`` tasks: processes with several workers, else this thread."""
    try:
        from dask.base import compute  # type: ignore[import-not-found, unused-ignore]
        from dask.callbacks import Callback  # type: ignore[import-not-found, unused-ignore]
        from dask.delayed import delayed  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise CliError(
            "--engine dask needs Dask: pip install 'cramprules[dask]' (or use --engine local)", EXIT_USAGE
        ) from None

    tasks = []
    sizes: dict[AnyType, int] = {}
    for start, chunk in chunks(records, size):
        task = delayed(evaluate_chunk, pure=False)(spec, start, list(chunk))
        tasks.append(task)
        sizes[task.key] = len(chunk)

    class Progress(Callback):  # type: ignore[misc, unused-ignore]
        def _posttask(
            self, key: AnyType, result: AnyType, dsk: AnyType, state: AnyType, worker_id: AnyType
        ) -> None:
            if key in sizes:
                bar.update(sizes[key])

    scheduler = "processes" if workers > 1 else "sync"
    with Progress():  # type: ignore[no-untyped-call, unused-ignore]
        results = compute(*tasks, scheduler=scheduler, num_workers=workers, optimize_graph=False)  # type: ignore[no-untyped-call, unused-ignore]
    return list(results)


def _stops(result: ChunkResult, fail_fast: bool) -> bool:
    """Whether the rest of the batch is wasted work."""
    return result.fatal is not None or (fail_fast and bool(result.bad))


# ---------------------------------------------------------------- output


def write_results(handle: AnyType, results: list[ChunkResult], format: str) -> int:
    """Write every good record in input order; the number written."""
    items = [item for result in sorted(results, key=lambda r: r.start) for item in result.items]
    if format == "jsonl":
        for line in items:
            handle.write(line + "\n")
    elif format == "json":
        if items:
            handle.write("[\n" + ",\n".join(textwrap.indent(item, "  ") for item in items) + "\n]\n")
        else:
            handle.write("[]\n")
    else:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(items)
    return len(items)


_FATAL_CODES = {
    "ruleset": EXIT_RULESET,
    "plugin": EXIT_PLUGIN,
    "usage": EXIT_USAGE,
    "internal": EXIT_INTERNAL,
}


@click.command("batch")
@click.argument("paths", nargs=-1, required=True, metavar="[RULESET] INPUT")
@click.option(
    "--input-format",
    metavar="SUFFIX",
    default=None,
    help="The format of INPUT when its suffix does not say (default for '-' is json).",
)
@choice_format_option(
    FORMATS, "jsonl: one report per line; json: a list of reports; csv: one summary row per record."
)
@click.option("--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes; 0 means one per CPU.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this process or a process pool; dask: Dask tasks (pip install 'cramprules[dask]').",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Records per task (default: enough chunks to keep every worker busy, at most 500).",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Report bad records on stderr and go on (exit 1), instead of stopping at the first (exit 2).",
)
@testing_option
@click.pass_obj
def command(
    app: App,
    paths: tuple[str, ...],
    input_format: str | None,
    format_name: str,
    output: str | None,
    workers: int,
    engine_name: str,
    chunk_size: int | None,
    skip_invalid: bool,
    include_testing: bool,
) -> None:
    """Evaluate every record of INPUT against RULESET (default: leg-cramps).

    INPUT is a file in any loader's format (json, jsonl, csv, yaml, toml, ...
    by its suffix) or '-' for stdin.  Output is in input order: by default
    JSON Lines, one report (the same dict as 'eval --format json') per line.

    Records are numbered from 0, as in every cramprules message.  The first
    bad record stops the batch with exit 2 and writes nothing; with
    --skip-invalid each bad record is reported on stderr, the others are
    written, and the exit code is 1.

    \b
    Examples:
      cramprules batch patients.jsonl > reports.jsonl
      cramprules batch clinic.cramp patients.csv --format csv -o summary.csv
      cramprules batch patients.json --workers 0 --skip-invalid -o out.jsonl
      cramprules batch patients.json --engine dask --workers 8
    """
    if len(paths) > 2:
        raise click.UsageError(f"expected [RULESET] INPUT, got {len(paths)} arguments")
    ruleset, input_path = (None, paths[0]) if len(paths) == 1 else paths
    engine = app.engine
    rs = app.load_ruleset(ruleset, include_testing=include_testing)
    from cramprules.facts import split_record

    # Records are numbered by position here; a loader's "@id" (FHIR: the patient) is not a fact.
    records = [split_record(record)[1] for record in read_fact_records(engine, input_path, input_format)]
    if workers == 0:
        workers = os.cpu_count() or 1
    size = chunk_size or max(1, min(500, math.ceil(len(records) / (workers * 4))))
    spec = WorkerSpec(ruleset, include_testing, app.autoload, app.disabled_plugins, format_name)
    label = f"Evaluating {Path(input_path).name if input_path != '-' else 'stdin'}"
    with _RULESETS_LOCK:
        _RULESETS[spec] = rs  # this process (and its threads) reuse the ruleset already built
    try:
        with progress(len(records), label) as bar:
            if engine_name == "dask":
                results = run_dask(spec, records, size, workers, bar)
            elif workers > 1 and len(records) > size:
                results = run_processes(spec, records, size, workers, bar, fail_fast=not skip_invalid)
            else:
                results = run_here(spec, records, size, bar, fail_fast=not skip_invalid)
    finally:
        with _RULESETS_LOCK:
            _RULESETS.pop(spec, None)
    fatal = next((r.fatal for r in sorted(results, key=lambda r: r.start) if r.fatal), None)
    if fatal is not None:
        kind, message = fatal
        prefix = "" if kind == "ruleset" else ("plugin error: " if kind == "plugin" else "error: ")
        raise CliError(prefix + message, _FATAL_CODES[kind])
    bad = sorted((b for r in results for b in r.bad), key=lambda b: b.index)
    where = "stdin" if input_path == "-" else input_path
    if bad and not skip_invalid:
        first = bad[0]
        raise CliError(
            f"error: {where}: record {first.index}: {first.message}\n"
            "Nothing was written; fix the record, or use --skip-invalid to go on without it.",
            EXIT_USAGE,
        )
    with open_output(output) as handle:
        written = write_results(handle, results, format_name)
    for item in bad:
        click.echo(f"{where}: record {item.index}: {item.message}", err=True)
    if bad:
        click.echo(f"{len(bad)} of {len(records)} records skipped, {written} written.", err=True)
        click.get_current_context().exit(EXIT_FINDINGS)

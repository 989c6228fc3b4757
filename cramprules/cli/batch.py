"""``cramprules batch``: a ruleset over every record of a file or a directory, streamed.

The work is :mod:`cramprules.batch`'s; this command reads the options, picks
the engine, shows progress on a terminal and prints the summary.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any as AnyType

import click

from cramprules.cli import EXIT_FINDINGS, EXIT_USAGE, App, CliError
from cramprules.cli._common import is_terminal, testing_option

FORMATS = ("jsonl", "json", "csv", "parquet")
SUFFIXES = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "parquet": ".parquet"}


class Ticker:
    """``records, records/s, errors`` on one line of stderr, when it is a terminal."""

    def __init__(self, shown: bool) -> None:
        from cramprules.batch import Rate

        self.shown = shown
        self.rate = Rate()
        self.last = 0.0
        self.used = False

    def __call__(self, read: int, errors: int, *, last: bool = False) -> None:
        now = time.monotonic()
        if not self.shown or (now - self.last < 0.2 and not last):
            return
        self.last = now
        self.used = True
        sys.stderr.write(f"\r{read:,} records, {self.rate(read):,.0f} records/s, {errors:,} errors ")
        sys.stderr.flush()

    def end(self) -> None:
        if self.used:
            sys.stderr.write("\n")


def _inputs(given: str) -> list[str] | None:
    """The files of a directory or a glob, sorted; ``None`` for one file or stdin."""
    if given != "-" and Path(given).is_dir():
        return sorted(str(p) for p in Path(given).iterdir() if p.is_file() and not p.name.startswith("."))
    if glob.has_magic(given):
        return sorted(p for p in glob.glob(given) if Path(p).is_file())
    return None


def _identity(path: str) -> list[object]:
    """An input as a resumed run checks it: its path, size and modification time."""
    if path == "-":
        return ["-"]
    try:
        stat = os.stat(path)
    except OSError:
        return [os.path.abspath(path)]
    return [os.path.abspath(path), stat.st_size, stat.st_mtime_ns]


def _print_errors(bad: Sequence[AnyType]) -> None:
    for item in bad:
        who = f" (id {item.id})" if item.id is not None else ""
        click.echo(f"{item.source or 'stdin'}: {item.where}{who}: {item.error}", err=True)


@click.command("batch")
@click.argument("paths", nargs=-1, required=True, metavar="[RULESET] INPUT")
@click.option(
    "--input-format",
    metavar="FORMAT",
    default=None,
    help="jsonl, csv, parquet or a loader's format, when INPUT's suffix does not say.",
)
@click.option(
    "--format",
    "-f",
    "format_name",
    type=click.Choice(FORMATS),
    default=None,
    help="jsonl: a full report per line (default); csv, parquet: one flat row per record; "
    "json: a list of reports. Default: by --output's suffix, else jsonl.",
)
@click.option(
    "--output", "-o", metavar="PATH", help="A file (or, for many inputs, a directory); default stdout."
)
@click.option("--errors", "errors_path", metavar="FILE", help="Write every bad record here (JSON Lines).")
@click.option(
    "--id-field", metavar="NAME", help="The input field that names each record; carried to the output."
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Worker processes (Dask: LocalCluster workers); 0 means one per CPU.",
)
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this process or a process pool; dask: dask.distributed (pip install 'cramprules[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://HOST:PORT); implies --engine dask.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Records per task.",
)
@click.option(
    "--part-size",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Records per part of the output: what --resume starts again from.",
)
@click.option("--resume", is_flag=True, help="Go on with an interrupted run to the same --output.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    hidden=True,
    help="Accepted for old scripts: bad records never stop a batch.",
)
@testing_option
@click.pass_obj
def command(
    app: App,
    paths: tuple[str, ...],
    input_format: str | None,
    format_name: str | None,
    output: str | None,
    errors_path: str | None,
    id_field: str | None,
    workers: int,
    engine_name: str,
    scheduler: str | None,
    chunk_size: int,
    part_size: int,
    resume: bool,
    skip_invalid: bool,
    include_testing: bool,
) -> None:
    """Evaluate every record of INPUT against RULESET (default: leg-cramps), streamed.

    INPUT is a JSON Lines, CSV or Parquet file (read in chunks; memory stays
    flat), a file in any loader's format (read whole), '-' for stdin (JSON
    Lines, or a JSON list), or a directory or glob of files, which gives a
    directory of outputs (--output DIR), one per input.  Output is in input
    order.

    A record that cannot be read or whose facts are invalid goes to --errors
    FILE (else stderr) with its line or row, its id and the error; the
    others go on.  The summary on stderr says records read = reports written
    + errors.  Exit code 0: every record evaluated; 1: some went to errors.

    --output is written under a temporary name and in parts, moved into
    place when whole; after an interruption, --resume goes on from the parts
    done.

    \b
    Examples:
      cramprules batch patients.jsonl > reports.jsonl
      cramprules batch clinic.cramp patients.csv -o summary.parquet --errors bad.jsonl
      cramprules batch 'cohort/*.jsonl' -o out/ --format csv --workers 0
      cramprules batch patients.jsonl -o out.jsonl --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from cramprules import batch

    if len(paths) > 2:
        raise click.UsageError(f"expected [RULESET] INPUT, got {len(paths)} arguments")
    ruleset_name, input_path = (None, paths[0]) if len(paths) == 1 else paths
    if scheduler is not None:
        engine_name = "dask"
    if format_name is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        format_name = suffix if suffix in FORMATS else "jsonl"
    engine = app.engine
    rs = app.load_ruleset(ruleset_name, include_testing=include_testing)
    many = _inputs(input_path)
    if many is not None and not many:
        raise CliError(f"error: {input_path}: no input files there", EXIT_USAGE)
    if many is not None and output is None:
        raise CliError(
            "error: many inputs give a directory of outputs: name it with --output DIR", EXIT_USAGE
        )
    if output is None and resume:
        raise CliError("error: --resume needs --output: there is nothing to resume on stdout", EXIT_USAGE)
    if output is None and format_name == "parquet":
        raise CliError("error: Parquet is not written to stdout: name a file with --output", EXIT_USAGE)
    if output is not None and many is None and Path(output).is_dir():
        raise CliError(f"error: --output {output} is a directory; name a file for one input", EXIT_USAGE)

    def opener(path: str) -> Callable[[], Iterator[AnyType]]:
        kind = batch.input_format(path, input_format, engine)
        return lambda: batch.read_records(path, kind, engine=engine, id_field=id_field, batch_size=chunk_size)

    def splitter(path: str) -> batch.Split | None:
        """How Dask workers read the file themselves, when they can."""
        kind = batch.input_format(path, input_format, engine)
        if engine_name != "dask" or path == "-" or kind not in batch.SPLITTABLE:
            return None
        limit = engine.limits.max_fact_bytes
        return functools.partial(batch.split, path, kind, id_field=id_field, limit=limit)

    inputs: list[AnyType]
    if many is not None:
        assert output is not None
        directory = Path(output)
        inputs = [
            batch.Input(
                p,
                opener(p),
                directory / (Path(p).stem.removesuffix(".fhir") + SUFFIXES[format_name]),
                splitter(p),
            )
            for p in many
        ]
        names = [i.output.name for i in inputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise CliError(f"error: two inputs would both be written to {directory / twice[0]}", EXIT_USAGE)
        work: Path | None = directory / ".cramprules-parts"
    else:
        inputs = [
            batch.Input(
                input_path, opener(input_path), Path(output) if output else None, splitter(input_path)
            )
        ]
        work = None if output is None else Path(output).parent / f".{Path(output).name}.parts"
    manifest = {
        "ruleset": rs.sha256,
        "inputs": [_identity(i.path) for i in inputs],
        "format": format_name,
        "id_field": id_field,
        "part_size": part_size,
        "chunk_size": chunk_size,
        "engine": engine_name,  # a Dask run's parts are blocks of the file, a local run's records
    }
    if workers == 0:
        workers = os.cpu_count() or 1
    ticker = Ticker(is_terminal(sys.stderr))
    errors_file = Path(errors_path) if errors_path else None
    stack = contextlib.ExitStack()
    stream_errors = _print_errors
    if errors_file is not None and work is None:
        handle = stack.enter_context(batch.atomic(errors_file))

        def stream_errors(bad: Sequence[AnyType]) -> None:
            handle.write("".join(json.dumps(b.to_dict(), ensure_ascii=False) + "\n" for b in bad))

    def go(runner: AnyType) -> AnyType:
        return batch.run(
            inputs,
            runner,
            format=format_name,
            id_field=id_field,
            errors=stream_errors,
            errors_file=errors_file,
            work=work,
            manifest=manifest,
            resume=resume,
            chunk_size=chunk_size,
            part_size=part_size,
            progress=ticker,
            stdout=sys.stdout if work is None else None,
        )

    with stack:
        summary = _run(go, engine_name, scheduler, workers, rs, ticker)

    resumed = f" ({summary.resumed_parts} parts from the interrupted run)" if summary.resumed_parts else ""
    where = f" (see {errors_path})" if errors_path and summary.errors else ""
    click.echo(summary.line() + where + resumed, err=True)
    if summary.errors:
        click.get_current_context().exit(EXIT_FINDINGS)


def _run(
    go: Callable[[AnyType], AnyType],
    engine_name: str,
    scheduler: str | None,
    workers: int,
    rs: AnyType,
    ticker: Ticker,
) -> AnyType:
    """The run on the engine asked for; the progress line ends either way."""
    from cramprules import batch

    try:
        if engine_name == "dask":
            with batch.dask_client(scheduler, workers) as client:
                link = getattr(client, "dashboard_link", None)
                if link:
                    click.echo(f"Dask dashboard: {link}", err=True)
                size = len(client.scheduler_info().get("workers", ())) or workers
                return go(batch.DaskEngine(client, rs, window=max(4, 3 * size)))
        if workers > 1:
            return go(batch.Processes(rs, workers))
        return go(batch.Serial(rs))
    finally:
        ticker.end()
